/*
 * GET /api/ws (and the plugins' event sockets, api->ws_add): the RFC 6455 handshake and
 * authentication on the server's upgrade hook, the socket handed to the engine (ws_conn.c), and
 * a watcher that closes ended sessions (4401).
 */
#include "ws.h"

#include "auth.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "host_api.h"
#include "log.h"
#include "router.h"
#include "server.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How often the watcher looks at the sessions. */
#define WS_WATCH_WAIT_MS 1000

/* RFC 6455 section 1.3: appended to Sec-WebSocket-Key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/*
 * A plugin's event socket (api->ws_add): its path, and for each event it passes on the message
 * sent instead (a JSON object whose "$key" strings take the event's values).
 */
struct ws_endpoint {
    char *path, *owner;
    unsigned flags; /* LINTEL_WS_* */
    size_t n;
    char **events;
    json_t **j_msgs;
};

#define WS_MAX_ENDPOINTS 8

static struct ws_endpoint *ws_eps[WS_MAX_ENDPOINTS];
static size_t ws_neps;

/* One socket: what accept learnt, kept by the engine for the socket's life. */
struct ws_sock {
    const struct ws_endpoint *ep; /* NULL: /api/ws, which gets events as they are */
    long long user_id, exp;
    char *sid, *jti; /* of the token the socket was opened with                   */
    char *role;      /* the user's role when scope was computed                   */
    char *scope;     /* the token's effective scope: which events it gets         */
    int close_code;  /* non-zero: the socket is opened only to be closed (refused) */
    const char *close_reason;
};

static struct {
    pthread_mutex_t lock; /* guards shutdown and wakes the watcher               */
    pthread_cond_t wake;
    bool shutdown, started, engine;
    pthread_t watcher;
} ws = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void ws_sock_free(void *data)
{
    struct ws_sock *s = data;

    if (s == NULL)
        return;
    free(s->sid);
    free(s->jti);
    free(s->role);
    free(s->scope);
    free(s);
}

/* ---- the handshake ---- */

static bool ws_header_has(lintel_req *req, const char *name, const char *token)
{
    const char *v = host_api()->req_header(req, name);

    return v != NULL && strcasestr(v, token) != NULL;
}

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)); out holds at least 29 bytes. */
static int ws_accept_key(const char *key, char *out, size_t size)
{
    char buf[128];
    unsigned char sha[20];
    gnutls_datum_t in = {sha, sizeof(sha)}, b64 = {NULL, 0};
    int n = snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);

    if (n < 0 || (size_t)n >= sizeof(buf) ||
        gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, (size_t)n, sha) != 0 ||
        gnutls_base64_encode2(&in, &b64) != 0)
        return LINTEL_EINTERNAL;
    n = snprintf(out, size, "%.*s", (int)b64.size, (const char *)b64.data);
    gnutls_free(b64.data);
    return n > 0 && (size_t)n < size ? 0 : LINTEL_EINTERNAL;
}

/*
 * Checks the handshake and decides how the socket starts. Refusals of the token or Origin
 * are sent as a close frame right after the 101 (api.md: 1008 at connect), which a browser
 * can see and an HTTP status is not; a malformed handshake is a 400.
 */
static int ws_accept(lintel_req *req, lintel_res *res, const struct server_upgrade_auth *auth,
                     void *state, void **conn)
{
    const struct lintel_api *api = host_api();
    const char *key = api->req_header(req, "Sec-WebSocket-Key");
    const char *version = api->req_header(req, "Sec-WebSocket-Version");
    const char *origin = api->req_header(req, "Origin");
    const struct config *cfg = config_get();
    const struct ws_endpoint *ep = state;
    const char *token = api->req_header(req, "token");
    struct server_upgrade_auth by_header = {0};
    json_t *j_claims = NULL;
    struct ws_sock *s = NULL;
    unsigned long long id = 0;
    char accept_key[64];
    int rc;

    *conn = NULL;
    /* a seed's clients send the token as "token: <jwt>": checked as a bearer token is */
    if (ep != NULL && (ep->flags & LINTEL_WS_TOKEN_HEADER) && auth->rc == LINTEL_EAUTH &&
        token != NULL) {
        by_header.rc =
            auth_request(NULL, token, NULL, 0, &j_claims, &by_header.user_id, &by_header.detail);
        by_header.j_claims = j_claims;
        auth = &by_header;
    }
    if (!ws_header_has(req, "Connection", "upgrade") || key == NULL || strlen(key) != 24 ||
        version == NULL || strcmp(version, "13") != 0)
        return api->res_error(res, LINTEL_EMALFORMED, NULL,
                              "A WebSocket handshake needs Connection: Upgrade, a "
                              "Sec-WebSocket-Key and Sec-WebSocket-Version: 13.");
    rc = ws_accept_key(key, accept_key, sizeof(accept_key));
    if (rc != 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        json_decref(j_claims);
        return LINTEL_ENOMEM;
    }
    s->ep = ep;
    if (origin != NULL && cfg != NULL && (cfg->cors_any || cfg->cors_list != NULL) &&
        !config_origin_allowed(cfg, origin)) {
        s->close_code = WS_CLOSE_POLICY;
        s->close_reason = "origin not allowed";
    } else if (auth->rc == LINTEL_EUNAVAIL || auth->rc == LINTEL_ENOMEM) {
        s->close_code = WS_CLOSE_INTERNAL;
        s->close_reason = "try again";
    } else if (auth->rc != 0) {
        s->close_code = WS_CLOSE_POLICY;
        s->close_reason =
            auth->rc == LINTEL_EAUTH ? "not authenticated" : "invalid or expired token";
    } else {
        const char *sid = json_string_value(json_object_get(auth->j_claims, "sid"));
        const char *jti = json_string_value(json_object_get(auth->j_claims, "jti"));
        const char *role = json_string_value(json_object_get(auth->j_claims, "role"));
        const char *scope = json_string_value(json_object_get(auth->j_claims, "scope"));
        s->user_id = auth->user_id;
        s->exp = (long long)json_integer_value(json_object_get(auth->j_claims, "exp"));
        s->sid = sid != NULL ? strdup(sid) : NULL;
        s->jti = jti != NULL ? strdup(jti) : NULL;
        s->role = role != NULL ? strdup(role) : NULL;
        s->scope = strdup(scope != NULL ? scope : "");
        if (s->sid == NULL || s->jti == NULL || s->role == NULL || s->scope == NULL) {
            s->close_code = WS_CLOSE_INTERNAL;
            s->close_reason = "try again";
        }
    }
    json_decref(j_claims);
    if (api->res_header(res, "Upgrade", "websocket") != 0 ||
        api->res_header(res, "Sec-WebSocket-Accept", accept_key) != 0) {
        ws_sock_free(s);
        return LINTEL_ENOMEM;
    }
    /*
     * Registered before the 101 goes out (the engine owns s from here): an event published
     * after the client sees the 101 reaches it, and a stop meanwhile still closes it with
     * 1001 once libmicrohttpd hands the connection over.
     */
    rc = ws_conn_reserve(s->user_id, s, ws_sock_free, s->close_code, s->close_reason, &id);
    if (rc != 0)
        return api->res_error(res, LINTEL_EUNAVAIL, NULL,
                              "The server takes no more WebSockets now; try again later.");
    *conn = (void *)(uintptr_t)id;
    return 0;
}

/* The engine gives the connection back: libmicrohttpd closes it. */
static void ws_release_conn(void *handle, int fd)
{
    (void)fd;
    MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
}

/* The 101 went out: the engine takes the connection (or releases it when the socket is gone). */
static void ws_upgraded(void *conn, struct MHD_UpgradeResponseHandle *urh, int sock,
                        const char *extra, size_t extra_len, void *state)
{
    int rc;

    (void)state;
    rc = ws_conn_attach((unsigned long long)(uintptr_t)conn, sock, extra, extra_len,
                        ws_release_conn, urh);
    if (rc != 0)
        log_debug("ws: a socket was gone before its connection came (%d)", rc);
}

/* The 101 never went out (the client left, the server stops): it never counted. */
static void ws_discard(void *conn, void *state)
{
    (void)state;
    ws_conn_cancel((unsigned long long)(uintptr_t)conn);
}

/* GET /api/ws without an upgrade (after authentication): say what is needed. */
static int ws_route(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)state;
    return host_api()->res_error(res, LINTEL_EMALFORMED, NULL,
                                 "This is a WebSocket endpoint: send Upgrade: websocket, "
                                 "Connection: Upgrade and Sec-WebSocket-Version: 13.");
}

/* Which sockets a text goes to: those of one endpoint whose token holds scope (NULL: any). */
struct ws_want {
    const char *scope;
    const struct ws_endpoint *ep;
};

/* Under the engine lock: is the socket of the endpoint, and does its token hold the scope? */
static bool ws_wants(const void *data, const void *arg)
{
    const struct ws_sock *s = data;
    const struct ws_want *w = arg;

    return s != NULL && s->close_code == 0 && s->ep == w->ep &&
           (w->scope == NULL || auth_scope_has(s->scope, w->scope));
}

/* The endpoint's message for j_event (new reference), or NULL when it does not pass it on. */
static json_t *ws_map(const struct ws_endpoint *ep, const json_t *j_event)
{
    const char *name = json_string_value(json_object_get(j_event, "event")), *key;
    json_t *j_msg = NULL, *j_val;
    size_t i;

    for (i = 0; name != NULL && i < ep->n && j_msg == NULL; i++)
        if (strcmp(ep->events[i], name) == 0)
            j_msg = json_deep_copy(ep->j_msgs[i]);
    json_object_foreach(j_msg, key, j_val) {
        const char *v = json_string_value(j_val);
        if (v != NULL && v[0] == '$') {
            json_t *j_from = json_object_get(j_event, v + 1);
            json_object_set(j_msg, key, j_from != NULL ? j_from : json_null());
        }
    }
    return j_msg;
}

/*
 * The events sink: queues text (len bytes, copied) on every open socket of user_id whose token
 * holds scope (NULL: every socket), and on those accepted but not yet open; never blocks.
 */
static void ws_send_user(long long user_id, const char *text, size_t len, const char *scope)
{
    struct ws_want w = {scope, NULL};
    json_t *j_event = NULL, *j_msg;
    char *out;
    size_t i;

    /* sockets reserved before their 101 are in the engine too: they keep the event */
    ws_conn_send(user_id, text, len, ws_wants, &w);
    if (ws_neps > 0)
        j_event = json_loadb(text, len, 0, NULL);
    for (i = 0; j_event != NULL && i < ws_neps; i++) {
        j_msg = ws_map(ws_eps[i], j_event);
        out = j_msg != NULL ? json_dumps(j_msg, JSON_COMPACT) : NULL;
        w.ep = ws_eps[i];
        if (out != NULL)
            ws_conn_send(user_id, out, strlen(out), ws_wants, &w);
        free(out);
        json_decref(j_msg);
    }
    json_decref(j_event);
}

static void ws_endpoint_free(struct ws_endpoint *ep)
{
    size_t i;

    if (ep == NULL)
        return;
    for (i = 0; i < ep->n; i++) {
        free(ep->events[i]);
        json_decref(ep->j_msgs[i]);
    }
    free(ep->events);
    free(ep->j_msgs);
    free(ep->path);
    free(ep->owner);
    free(ep);
}

int ws_endpoint_add(const char *path, const char *owner, unsigned flags,
                    const struct lintel_ws_event *events, size_t n, char **err)
{
    struct ws_endpoint *ep = NULL;
    size_t i;
    int rc = LINTEL_EPARAM;

    *err = NULL;
    for (i = 0; i < ws_neps; i++)
        if (strcmp(ws_eps[i]->path, path) == 0) {
            *err = strdup("the path is taken by another event socket");
            goto cleanup;
        }
    if (strcmp(path, "/api/ws") == 0 || ws_neps == WS_MAX_ENDPOINTS) {
        *err = strdup("the path is taken, or there are too many event sockets");
        goto cleanup;
    }
    rc = LINTEL_ENOMEM;
    ep = calloc(1, sizeof(*ep));
    if (ep == NULL || (ep->path = strdup(path)) == NULL || (ep->owner = strdup(owner)) == NULL ||
        (n > 0 && ((ep->events = calloc(n, sizeof(*ep->events))) == NULL ||
                   (ep->j_msgs = calloc(n, sizeof(*ep->j_msgs))) == NULL)))
        goto cleanup;
    ep->flags = flags;
    for (i = 0; i < n; i++, ep->n++) {
        ep->events[i] = events[i].event != NULL ? strdup(events[i].event) : NULL;
        ep->j_msgs[i] = events[i].message != NULL ? json_loads(events[i].message, 0, NULL) : NULL;
        if (ep->events[i] == NULL || !json_is_object(ep->j_msgs[i])) {
            ep->n++;
            *err = strdup("each event needs a name and a message that is a JSON object");
            rc = LINTEL_EPARAM;
            goto cleanup;
        }
    }
    ws_eps[ws_neps++] = ep;
    ep = NULL;
    rc = 0;
cleanup:
    ws_endpoint_free(ep);
    return rc;
}

/* ---- the watcher ---- */

struct ws_check {
    unsigned long long id;
    long long user_id, exp;
    char *sid, *jti, *role, *scope;
};

struct ws_checks {
    struct ws_check *v;
    size_t n, cap;
};

/* Under the engine lock: copies what the check needs (no I/O here). */
static void ws_collect(unsigned long long id, long long user_id, void *data, void *arg)
{
    struct ws_checks *cs = arg;
    const struct ws_sock *s = data;
    struct ws_check *grown;

    if (s == NULL || s->close_code != 0 || s->sid == NULL || s->jti == NULL)
        return;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap > 0 ? cs->cap * 2 : 16;
        grown = realloc(cs->v, cap * sizeof(*grown));
        if (grown == NULL)
            return;
        cs->v = grown;
        cs->cap = cap;
    }
    cs->v[cs->n].id = id;
    cs->v[cs->n].user_id = user_id;
    cs->v[cs->n].exp = s->exp;
    cs->v[cs->n].sid = strdup(s->sid);
    cs->v[cs->n].jti = strdup(s->jti);
    cs->v[cs->n].role = strdup(s->role);
    cs->v[cs->n].scope = strdup(s->scope);
    cs->n++;
}

struct ws_rescope_arg {
    char *role, *scope; /* taken by ws_rescope_set */
};

/* Under the engine lock: the socket's new role and scope. */
static void ws_rescope_set(void *data, void *arg)
{
    struct ws_sock *s = data;
    struct ws_rescope_arg *a = arg;

    free(s->role);
    free(s->scope);
    s->role = a->role;
    s->scope = a->scope;
    a->role = a->scope = NULL;
}

/*
 * The user's role changed since the socket's scope was computed (an operator's UPDATE ends no
 * session): keep only what the new role grants, as auth_request does for HTTP. A socket never
 * gains scope it did not have at connect.
 */
static void ws_rescope(struct db *db, const struct ws_check *chk, const char *role)
{
    json_t *j_params = json_pack("[ss]", chk->scope, role), *j_row = NULL;
    struct ws_rescope_arg a = {strdup(role), NULL};
    const char *scope;

    if (j_params != NULL && a.role != NULL &&
        db_row(db, "SELECT lintel_scope_within(?1, ?2) AS scope", j_params, &j_row) == 0) {
        scope = json_string_value(json_object_get(j_row, "scope"));
        a.scope = scope != NULL ? strdup(scope) : NULL;
    }
    if (a.scope == NULL || a.role == NULL)
        /* cannot tell what the role allows: deliver nothing rather than too much */
        ws_conn_close(chk->id, WS_CLOSE_INTERNAL, "try again");
    else
        ws_conn_with(chk->id, ws_rescope_set, &a);
    free(a.role);
    free(a.scope);
    json_decref(j_row);
    json_decref(j_params);
}

/* Looks at every open socket's session once. */
static void ws_watch_once(struct db *db)
{
    struct ws_checks cs = {0};
    long long now = (long long)time(NULL);
    size_t i;

    ws_conn_each(ws_collect, &cs);
    for (i = 0; i < cs.n; i++) {
        const struct ws_check *c = &cs.v[i];
        const char *reason = NULL;
        if (c->sid == NULL || c->jti == NULL || c->role == NULL || c->scope == NULL)
            continue;
        if (now > c->exp) {
            reason = "token expired";
        } else {
            long long uid = 0;
            char *role = NULL;
            /* auth.c's rule, the one HTTP requests pass: session open, user there, jti live. */
            int rc = auth_session_state(db, c->sid, c->jti, &uid, &role);
            if (rc == LINTEL_ENOTFOUND || (rc == 0 && uid != c->user_id))
                reason = "session ended";
            else if (rc == 0 && strcmp(role, c->role) != 0)
                ws_rescope(db, c, role);
            free(role);
        }
        if (reason != NULL)
            ws_conn_close(c->id, WS_CLOSE_AUTH_ENDED, reason);
    }
    for (i = 0; i < cs.n; i++) {
        free(cs.v[i].sid);
        free(cs.v[i].jti);
        free(cs.v[i].role);
        free(cs.v[i].scope);
    }
    free(cs.v);
}

static void *ws_watcher(void *arg)
{
    struct db *db = NULL;
    struct timespec until;

    (void)arg;
    pthread_mutex_lock(&ws.lock);
    while (!ws.shutdown) {
        pthread_mutex_unlock(&ws.lock);
        if (ws_conn_count(0) > 0 && (db != NULL || db_thread(&db) == 0))
            ws_watch_once(db);
        pthread_mutex_lock(&ws.lock);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += WS_WATCH_WAIT_MS / 1000;
        if (!ws.shutdown)
            pthread_cond_timedwait(&ws.wake, &ws.lock, &until);
    }
    pthread_mutex_unlock(&ws.lock);
    return NULL; /* the thread's connection closes with the thread (db.c) */
}

/* ---- lifecycle ---- */

int ws_init(const struct config *cfg)
{
    static const struct server_upgrade upgrade = {
        .accept = ws_accept, .upgraded = ws_upgraded, .discard = ws_discard};
    struct ws_conn_limits lim = {
        .max_sockets = WS_MAX_SOCKETS,
        .max_per_user = WS_MAX_PER_USER,
        .max_msg = WS_MAX_INCOMING,
        .queue_max = WS_QUEUE_MAX,
        .out_max = WS_OUT_MAX,
        .ping_ms = (int)cfg->ws_ping_interval * 1000,
        .idle_ms = (int)cfg->ws_idle_timeout * 1000,
        .close_ms = WS_CLOSE_MS,
    };
    pthread_condattr_t ca;
    char *err = NULL;
    size_t i;
    int rc;

    /* the ping must have a chance to be answered before the socket counts as idle */
    if (lim.idle_ms <= lim.ping_ms)
        lim.idle_ms = lim.ping_ms + 1000;
    rc = server_upgrade_add("/api/ws", &upgrade);
    if (rc == 0) {
        struct route_def def = {
            .method = "GET", .path = "/api/ws", .handler = ws_route, .owner_name = "core"};
        rc = server_route_add(&def, &err);
        if (rc != 0)
            log_error("ws: %s", err != NULL ? err : "cannot add GET /api/ws");
        free(err);
    }
    for (i = 0; rc == 0 && i < ws_neps; i++) {
        struct server_upgrade up = upgrade;
        struct route_def def = {.method = "GET",
                                .path = ws_eps[i]->path,
                                .handler = ws_route,
                                .owner_name = ws_eps[i]->owner};
        up.state = ws_eps[i];
        rc = server_upgrade_add(ws_eps[i]->path, &up);
        if (rc == 0)
            rc = server_route_add(&def, &err);
        if (rc != 0)
            log_error("ws: %s", err != NULL ? err : "cannot add an event socket");
        free(err);
        err = NULL;
    }
    if (rc == 0)
        rc = ws_conn_start(&lim);
    if (rc != 0)
        return rc;
    ws.engine = true;
    events_set_sink(ws_send_user);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&ws.wake);
    pthread_cond_init(&ws.wake, &ca);
    pthread_condattr_destroy(&ca);
    ws.shutdown = false;
    if (pthread_create(&ws.watcher, NULL, ws_watcher, NULL) != 0) {
        log_error("ws: cannot start the session watcher");
        return LINTEL_EINTERNAL;
    }
    ws.started = true;
    return 0;
}

void ws_shutdown(void)
{
    pthread_mutex_lock(&ws.lock);
    ws.shutdown = true;
    pthread_cond_broadcast(&ws.wake);
    pthread_mutex_unlock(&ws.lock);
    if (ws.started)
        pthread_join(ws.watcher, NULL);
    ws.started = false;
    if (ws.engine) {
        events_set_sink(NULL);
        ws_conn_stop(WS_CLOSE_MS);
    }
    ws.engine = false;
}

void ws_release(void)
{
    ws_shutdown();
}
