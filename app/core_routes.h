/*
 * The core's own routes (health, keys, OpenAPI, the web pages, metrics), registered in one
 * table by main before the plugins' routes.
 */
#ifndef LINTEL_APP_CORE_ROUTES_H
#define LINTEL_APP_CORE_ROUTES_H

/* Adds every core route; logs and returns the first error. */
int core_routes_add(void);

#endif /* LINTEL_APP_CORE_ROUTES_H */
