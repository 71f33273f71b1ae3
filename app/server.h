/*
 * The HTTP side: the route registry (plugins' and the core's), the ulfius/libmicrohttpd
 * instance in thread-pool mode, request dispatch with auth, limits, headers and access log.
 */
#ifndef LINTEL_APP_SERVER_H
#define LINTEL_APP_SERVER_H

#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct host_route_meta;
struct _u_request;
struct _u_response;

#define SERVER_MAX_SEGMENTS 16

struct route {
    char *method;                    /* "GET", ...                                          */
    char *path;                      /* as registered: "/api/numbers/{id}"                  */
    char *segs[SERVER_MAX_SEGMENTS]; /* literal text, or the param name     */
    bool is_param[SERVER_MAX_SEGMENTS];
    size_t nsegs;
    unsigned long specificity; /* lower = more literal segments earlier   */
    unsigned flags;            /* LINTEL_ROUTE_*                                      */
    char *scope;               /* needed scope or NULL                                */
    lintel_handler handler;
    void *state;
    struct lintel_plugin *owner; /* NULL for the core's own routes           */
    struct host_route_meta *meta; /* summary, query params, schemas (host_kit.h) or NULL */
};

/*
 * Registers a route for owner (NULL: core) with its description meta (stolen, may be NULL).
 * LINTEL_EPARAM for a bad method or path (plugins must stay under /api/ unless they declared
 * a profile), LINTEL_ECONFLICT when another owner holds it; *err (malloc'd) says which. Only
 * before server_start.
 */
int server_route_add(struct lintel_plugin *owner, const char *method, const char *path,
                     unsigned flags, const char *scope, lintel_handler handler, void *state,
                     struct host_route_meta *meta, char **err);

/* Removes every route of owner (a refused plugin). */
void server_routes_remove(const struct lintel_plugin *owner);

/* The registry, in registration order (OpenAPI, tests). */
size_t server_route_count(void);
const struct route *server_route_get(size_t i);

/*
 * Adds a raw ulfius endpoint for app modules that need ulfius itself (WebSocket upgrade). It
 * runs before the route dispatcher and must return U_CALLBACK_COMPLETE. Only before start.
 */
int server_endpoint_add(const char *method, const char *path,
                        int (*cb)(const struct _u_request *, struct _u_response *, void *),
                        void *user_data);

/* The raw endpoints, in registration order (OpenAPI): method and ulfius path, borrowed. */
size_t server_endpoint_count(void);
void server_endpoint_get(size_t i, const char **method, const char **path);

/* Registers the core routes (/health, /api/auth/jwks, /openapi.json, /docs). */
int server_core_routes(void);

/* Starts listening; logs "listening on http://HOST:PORT". *err (malloc'd) on failure. */
int server_start(const struct config *cfg, char **err);

/* Stops accepting, lets in-flight requests finish, stops the daemon. */
void server_stop(void);

/* Frees the registry and the instance. */
void server_release(void);

/* Seconds since server_start. */
long long server_uptime(void);

/* health.c: the core route handlers. */
int health_handler(lintel_req *req, lintel_res *res, void *state);
int health_jwks_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_SERVER_H */
