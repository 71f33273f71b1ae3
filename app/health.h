/*
 * The core's own JSON routes: GET /health (liveness and database) and GET /api/auth/jwks
 * (the public verification keys).
 */
#ifndef LINTEL_APP_HEALTH_H
#define LINTEL_APP_HEALTH_H

#include <lintel/plugin.h>

int health_handler(lintel_req *req, lintel_res *res, void *state);
int health_jwks_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_HEALTH_H */
