/*
 * GET /openapi.json: OpenAPI 3.1 built from the route registry (its Swagger UI page, /docs, is
 * in web.c).
 */
#ifndef LINTEL_APP_OPENAPI_H
#define LINTEL_APP_OPENAPI_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>

/* Core route handler. The document is built once, at the first request (routes are fixed). */
int openapi_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_OPENAPI_H */
