/*
 * The HTTP side: libmicrohttpd in thread-pool mode, the route table it dispatches to (plugins',
 * the core's, upgrade endpoints), limits, auth, headers, access log, graceful stop.
 */
#ifndef LINTEL_APP_SERVER_H
#define LINTEL_APP_SERVER_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct route;
struct route_def;

/*
 * Adds a route (def: router.h; strings copied, meta stolen also on failure). LINTEL_EPARAM
 * for a bad method or path, LINTEL_ECONFLICT when another owner holds it; *err (malloc'd)
 * says which. Only before server_start. Who may register what (plugins under /api/) is the
 * registrant's rule (plugin_loader_route_add).
 */
int server_route_add(const struct route_def *def, char **err);

/*
 * What the dispatcher asks of the layers above it, without depending on them: check runs
 * before a handler (the route's declared query parameters), render_error may render an error
 * in the route owner's format (true when it wrote the reply), on_reply sees every reply
 * (metrics). Each may be NULL. Set once, before server_start.
 */
struct server_hooks {
    int (*check)(lintel_req *req);
    bool (*render_error)(lintel_req *req, int rc);
    void (*on_reply)(const struct route *route, unsigned status, long long ns);
};

void server_set_hooks(const struct server_hooks *hooks);

/* The route registered with exactly method and path, or NULL (borrowed). */
const struct route *server_route_find(const char *method, const char *path);

/* Removes route r (one a compatibility profile takes over). */
void server_route_remove(const struct route *r);

/* Removes every route of owner (a refused plugin). */
void server_routes_remove(const struct lintel_plugin *owner);

/* The table (routes and upgrade endpoints) in registration order (OpenAPI, tests). */
size_t server_route_count(void);
const struct route *server_route_get(size_t i);

/*
 * Upgrade endpoints (the WebSocket at /api/ws): a GET with `Upgrade: websocket` on path goes
 * here instead of to a route; any other request on that path goes to the routes as usual.
 * The server answers bad requests itself (404/405/413, headers only) and authenticates with
 * the Authorization header or, on upgrade endpoints only, the `access_token` query
 * parameter; the result goes to accept, which decides (a WebSocket refuses a bad token with
 * a close frame after the 101, not with an HTTP status).
 */
struct MHD_UpgradeResponseHandle;

struct server_upgrade_auth {
    int rc;                 /* auth_request's result: 0, LINTEL_EAUTH, LINTEL_ETOKEN, ...     */
    const char *detail;     /* why, when rc != 0 (static text)                               */
    const json_t *j_claims; /* verified claims when rc == 0; borrowed for the accept call     */
    long long user_id;      /* when rc == 0                                                   */
};

struct server_upgrade {
    /*
     * In the request's thread, headers read, nothing sent: checks the handshake (read with
     * api->req_header / req_query), sets the 101's headers (api->res_header: Upgrade,
     * Sec-WebSocket-Accept, ...; Connection: Upgrade is added by libmicrohttpd) and returns
     * 0 with *conn (anything of the caller's, handed to upgraded or to discard). A negative
     * LINTEL_E* (detail through api->res_error) is sent as an HTTP error instead.
     */
    int (*accept)(lintel_req *req, lintel_res *res, const struct server_upgrade_auth *auth,
                  void *state, void **conn);
    /*
     * After the 101 went out: sock is the client's byte stream (with TLS a socketpair end),
     * extra the bytes already read past the request (borrowed: use them before reading sock).
     * Runs on a server thread and must not block: hand sock to a thread of your own and
     * return. The callee owns urh and ends it exactly once with
     * MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE) (never close(sock)).
     */
    void (*upgraded)(void *conn, struct MHD_UpgradeResponseHandle *urh, int sock, const char *extra,
                     size_t extra_len, void *state);
    /* accept returned 0 but the 101 never went out (client gone, server stopping). */
    void (*discard)(void *conn, void *state);
    void *state;
};

/* Adds an upgrade endpoint (path as in routes, literal). Only before server_start. */
int server_upgrade_add(const char *path, const struct server_upgrade *u);

/* Starts listening; logs "listening on http://HOST:PORT". *err (malloc'd) on failure. */
int server_start(const struct config *cfg, char **err);

/* Stops accepting, lets in-flight requests finish, stops the daemon. */
void server_stop(void);

/* Frees the registry and the instance. */
void server_release(void);

/* Seconds since server_start. */
long long server_uptime(void);

#endif /* LINTEL_APP_SERVER_H */
