/*
 * GET /api/ws: authentication before the upgrade, a registry of open sockets per user, event
 * queues drained by each socket's manager thread, and one watcher thread that closes sockets
 * whose session ended (4401). ulfius 2.7.13 specifics are explained where they matter.
 */
#include "ws.h"
#include "ws_list_lock.h"

#include "auth.h"
#include "config.h"
#include "db.h"
#include "host_api.h"
#include "log.h"
#include "server.h"

#include <errno.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <ulfius.h>

/* How often a manager looks at its socket, and the watcher at the sessions. */
#define WS_MANAGER_WAIT_MS 500
#define WS_WATCH_WAIT_MS   1000

/* Same rule as auth_request: session open, user not deleted, this token not revoked. */
#define WS_STATE_SQL                                                                               \
    "SELECT u.role AS role FROM sessions s JOIN users u ON u.id = s.user_id"                       \
    " WHERE s.id = ?1 AND s.user_id = ?2 AND s.ended_at IS NULL AND u.deleted_at IS NULL"          \
    " AND NOT EXISTS (SELECT 1 FROM revoked_jtis r WHERE r.jti = ?3)"

struct ws_conn {
    unsigned long long id; /* registry key; never reused                          */
    long long user_id;
    char *sid, *jti; /* of the token the socket was opened with              */
    char *role;      /* the user's role when scope was computed             */
    char *scope;     /* the token's effective scope: which events it gets   */
    long long exp;
    pthread_mutex_t lock; /* guards everything below                          */
    pthread_cond_t cond;
    char *queue[WS_QUEUE_MAX]; /* ring of malloc'd JSON texts                       */
    size_t qhead, qlen;
    int close_code; /* 0 while open; else close with this code              */
    const char *close_reason;
    bool registered; /* in ws.list (guarded by ws.lock)                      */
    struct ws_conn *next;
};

static struct {
    pthread_mutex_t lock; /* guards list, count, shutdown, next_id                  */
    pthread_cond_t wake;  /* wakes the watcher early (shutdown)                      */
    struct ws_conn *list;
    size_t count;
    bool shutdown, started;
    unsigned long long next_id;
    pthread_t watcher;
    char **origins; /* allowed Origin values (NULL-terminated), NULL: any */
} ws = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* ---- connections ---- */

static void ws_conn_free(struct ws_conn *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->qlen; i++)
        free(c->queue[(c->qhead + i) % WS_QUEUE_MAX]);
    free(c->sid);
    free(c->jti);
    free(c->role);
    free(c->scope);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct ws_conn *ws_conn_new(void)
{
    struct ws_conn *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;

    if (c == NULL)
        return NULL;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

/* Asks the socket's manager to close with code (the first request wins). */
static void ws_conn_close(struct ws_conn *c, int code, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    if (c->close_code == 0) {
        c->close_code = code;
        c->close_reason = reason;
    }
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void ws_deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* ---- registry ---- */

static size_t ws_count_locked(long long user_id)
{
    const struct ws_conn *c;
    size_t n = 0;

    for (c = ws.list; c != NULL; c = c->next)
        if (user_id == 0 || c->user_id == user_id)
            n++;
    return n;
}

size_t ws_count(long long user_id)
{
    size_t n;

    pthread_mutex_lock(&ws.lock);
    n = ws_count_locked(user_id);
    pthread_mutex_unlock(&ws.lock);
    return n;
}

/* Adds c unless the server stops or a cap is reached; else sets its close code. */
static void ws_register(struct ws_conn *c)
{
    pthread_mutex_lock(&ws.lock);
    if (ws.shutdown) {
        ws_conn_close(c, WS_CLOSE_GOING_AWAY, "server shutting down");
    } else if (ws.count >= WS_MAX_SOCKETS || ws_count_locked(c->user_id) >= WS_MAX_PER_USER) {
        ws_conn_close(c, WS_CLOSE_TRY_LATER, "too many sockets");
    } else {
        c->id = ++ws.next_id;
        c->next = ws.list;
        ws.list = c;
        ws.count++;
        c->registered = true;
    }
    pthread_mutex_unlock(&ws.lock);
}

static void ws_unregister(struct ws_conn *c)
{
    struct ws_conn **pp;

    pthread_mutex_lock(&ws.lock);
    for (pp = &ws.list; c->registered && *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            ws.count--;
            c->registered = false;
            break;
        }
    }
    pthread_mutex_unlock(&ws.lock);
}

void ws_send_user(long long user_id, const char *text, size_t len, const char *scope)
{
    struct ws_conn *c;

    pthread_mutex_lock(&ws.lock);
    for (c = ws.list; c != NULL; c = c->next) {
        char *copy;
        if (c->user_id != user_id || (scope != NULL && !auth_scope_has(c->scope, scope)))
            continue;
        pthread_mutex_lock(&c->lock);
        copy = c->close_code == 0 ? strndup(text, len) : NULL;
        if (copy != NULL && c->qlen < WS_QUEUE_MAX) {
            c->queue[(c->qhead + c->qlen) % WS_QUEUE_MAX] = copy;
            c->qlen++;
        } else if (copy != NULL) {
            /* A client that does not keep up would grow memory: it reconnects and refetches. */
            free(copy);
            c->close_code = WS_CLOSE_TRY_LATER;
            c->close_reason = "too many undelivered events";
        }
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&ws.lock);
}

/* ---- the socket's threads (ulfius: manager and reader, onclose after both) ---- */

/*
 * ulfius 2.7.13 sends every CLOSE frame with an empty payload (no status code), so the frame
 * with our code is written here, under the manager's write lock like ulfius' own writes.
 * Marking the manager disconnected then ends ulfius' reader loop without a second CLOSE.
 */
static void ws_send_close(struct _websocket_manager *mgr, int code, const char *reason)
{
    unsigned char frame[2 + 125];
    size_t rlen = reason != NULL ? strlen(reason) : 0, off = 0;

    if (rlen > 123)
        rlen = 123;
    frame[0] = 0x80 | U_WEBSOCKET_OPCODE_CLOSE;
    frame[1] = (unsigned char)(2 + rlen);
    frame[2] = (unsigned char)((code >> 8) & 0xff);
    frame[3] = (unsigned char)(code & 0xff);
    if (rlen > 0)
        memcpy(frame + 4, reason, rlen);
    pthread_mutex_lock(&mgr->write_lock);
    while (off < 4 + rlen) {
        ssize_t n = send(mgr->mhd_sock, frame + off, 4 + rlen - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    mgr->connected = 0;
    pthread_mutex_unlock(&mgr->write_lock);
}

static void ws_manager(const struct _u_request *u_req, struct _websocket_manager *mgr, void *ud)
{
    struct ws_conn *c = ud;
    struct timespec until;
    const char *reason;
    int code;

    (void)u_req;
    /* Kept messages grow for the socket's life; popping them corrupts the heap in 2.7.13. */
    mgr->keep_messages = U_WEBSOCKET_KEEP_NONE;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->qlen > 0 && c->close_code == 0) {
            char *text = c->queue[c->qhead];
            c->qhead = (c->qhead + 1) % WS_QUEUE_MAX;
            c->qlen--;
            pthread_mutex_unlock(&c->lock);
            if (ulfius_websocket_send_message(mgr, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text) !=
                U_OK)
                log_debug("ws: user %lld: cannot send an event", c->user_id);
            free(text);
            pthread_mutex_lock(&c->lock);
        }
        if (c->close_code != 0 || ulfius_websocket_status(mgr) != U_WEBSOCKET_STATUS_OPEN)
            break;
        ws_deadline(&until, WS_MANAGER_WAIT_MS);
        pthread_cond_timedwait(&c->cond, &c->lock, &until);
    }
    code = c->close_code;
    reason = c->close_reason;
    pthread_mutex_unlock(&c->lock);
    ws_unregister(c);
    if (code != 0 && ulfius_websocket_status(mgr) == U_WEBSOCKET_STATUS_OPEN) {
        log_debug("ws: user %lld: closing with %d (%s)", c->user_id, code, reason);
        ws_send_close(mgr, code, reason);
    }
}

/* The server reads nothing from clients; a large message is abuse (ulfius has no limit). */
static void ws_incoming(const struct _u_request *u_req, struct _websocket_manager *mgr,
                        const struct _websocket_message *msg, void *ud)
{
    (void)u_req;
    (void)mgr;
    if (msg != NULL && msg->data_len > WS_MAX_INCOMING)
        ws_conn_close(ud, WS_CLOSE_TOO_BIG, "messages to the server are ignored");
}

/* Runs last on every socket, also when the handshake failed and the manager never ran. */
static void ws_onclose(const struct _u_request *u_req, struct _websocket_manager *mgr, void *ud)
{
    (void)u_req;
    (void)mgr;
    ws_unregister(ud);
    ws_conn_free(ud);
}

/* ---- the endpoint ---- */

static bool ws_header_has(const struct _u_request *u_req, const char *name, const char *token)
{
    const char *v = u_map_get_case(u_req->map_header, name);

    return v != NULL && strcasestr(v, token) != NULL;
}

static bool ws_origin_ok(const struct _u_request *u_req)
{
    const char *origin = u_map_get_case(u_req->map_header, "Origin");
    size_t i;

    if (ws.origins == NULL || origin == NULL)
        return true; /* not configured, or not a browser */
    for (i = 0; ws.origins[i] != NULL; i++)
        if (strcmp(ws.origins[i], "*") == 0 || strcmp(ws.origins[i], origin) == 0)
            return true;
    return false;
}

/*
 * Authenticates and accepts the upgrade. Refusals are sent as a close frame right after the
 * handshake (api.md: 1008 for a bad token at connect), which a browser can see and an HTTP
 * status is not. A request that is not an upgrade falls through to the route dispatcher.
 */
static int ws_endpoint(const struct _u_request *u_req, struct _u_response *u_resp, void *ud)
{
    struct ws_conn *c = NULL;
    json_t *j_claims = NULL;
    const char *detail = NULL, *sid, *jti, *role, *scope;
    long long uid = 0;
    int rc;

    (void)ud;
    if (!ws_header_has(u_req, "Upgrade", "websocket"))
        return U_CALLBACK_CONTINUE;
    c = ws_conn_new();
    if (c == NULL)
        return U_CALLBACK_CONTINUE;
    if (!ws_origin_ok(u_req)) {
        ws_conn_close(c, WS_CLOSE_POLICY, "origin not allowed");
        goto accept;
    }
    rc = auth_request(u_map_get_case(u_req->map_header, "Authorization"),
                      u_map_get(u_req->map_url, "access_token"), NULL, 0, &j_claims, &uid, &detail);
    if (rc == LINTEL_EUNAVAIL || rc == LINTEL_ENOMEM) {
        ws_conn_close(c, WS_CLOSE_INTERNAL, "try again");
        goto accept;
    }
    if (rc != 0) {
        ws_conn_close(c, WS_CLOSE_POLICY,
                      rc == LINTEL_EAUTH ? "not authenticated" : "invalid or expired token");
        goto accept;
    }
    sid = json_string_value(json_object_get(j_claims, "sid"));
    jti = json_string_value(json_object_get(j_claims, "jti"));
    role = json_string_value(json_object_get(j_claims, "role"));
    scope = json_string_value(json_object_get(j_claims, "scope"));
    c->user_id = uid;
    c->role = role != NULL ? strdup(role) : NULL;
    c->scope = strdup(scope != NULL ? scope : "");
    c->exp = (long long)json_integer_value(json_object_get(j_claims, "exp"));
    c->sid = sid != NULL ? strdup(sid) : NULL;
    c->jti = jti != NULL ? strdup(jti) : NULL;
    if (c->sid == NULL || c->jti == NULL || c->role == NULL || c->scope == NULL)
        ws_conn_close(c, WS_CLOSE_INTERNAL, "try again");
    else
        ws_register(c); /* before the 101 goes out: no event is missed after it */
accept:
    json_decref(j_claims);
    if (ulfius_set_websocket_response(u_resp, NULL, NULL, ws_manager, c, ws_incoming, c, ws_onclose,
                                      c) != U_OK) {
        ws_unregister(c);
        ws_conn_free(c);
        return U_CALLBACK_CONTINUE;
    }
    u_map_put(u_resp->map_header, "Cache-Control", "no-store");
    return U_CALLBACK_COMPLETE;
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

/* ---- the watcher ---- */

struct ws_check {
    unsigned long long id;
    long long user_id, exp;
    char *sid, *jti, *role, *scope;
};

/*
 * The user's role changed since the socket's scope was computed (an operator's UPDATE ends no
 * session): keep only what the new role grants, as auth_request does for HTTP. A socket never
 * gains scope it did not have at connect.
 */
static void ws_rescope(struct db *db, const struct ws_check *chk, const char *role)
{
    json_t *j_params = json_pack("[ss]", chk->scope, role), *j_row = NULL;
    const char *scope;
    struct ws_conn *c;
    char *new_scope = NULL, *new_role = strdup(role);

    if (j_params != NULL && new_role != NULL &&
        db_row(db, "SELECT lintel_scope_within(?1, ?2) AS scope", j_params, &j_row) == 0) {
        scope = json_string_value(json_object_get(j_row, "scope"));
        new_scope = scope != NULL ? strdup(scope) : NULL;
    }
    pthread_mutex_lock(&ws.lock);
    for (c = ws.list; c != NULL; c = c->next) {
        if (c->id != chk->id)
            continue;
        if (new_scope == NULL || new_role == NULL) {
            /* cannot tell what the role allows: deliver nothing rather than too much */
            ws_conn_close(c, WS_CLOSE_INTERNAL, "try again");
            break;
        }
        free(c->scope);
        free(c->role);
        c->scope = new_scope;
        c->role = new_role;
        new_scope = new_role = NULL;
    }
    pthread_mutex_unlock(&ws.lock);
    free(new_scope);
    free(new_role);
    json_decref(j_row);
    json_decref(j_params);
}

/* Looks at every open socket's session once; returns how many closes it requested. */
static size_t ws_watch_once(struct db *db)
{
    struct ws_check *checks = NULL;
    struct ws_conn *c;
    size_t n = 0, i, closed = 0;
    long long now = (long long)time(NULL);

    pthread_mutex_lock(&ws.lock);
    if (ws.count > 0)
        checks = calloc(ws.count, sizeof(*checks));
    for (c = ws.list; checks != NULL && c != NULL; c = c->next) {
        checks[n].id = c->id;
        checks[n].user_id = c->user_id;
        checks[n].exp = c->exp;
        checks[n].sid = strdup(c->sid);
        checks[n].jti = strdup(c->jti);
        checks[n].role = strdup(c->role);
        checks[n].scope = strdup(c->scope);
        n++;
    }
    pthread_mutex_unlock(&ws.lock);
    for (i = 0; i < n; i++) {
        const char *reason = NULL;
        json_t *j_params = NULL, *j_row = NULL;
        int rc;
        if (checks[i].sid == NULL || checks[i].jti == NULL || checks[i].role == NULL ||
            checks[i].scope == NULL)
            continue;
        if (now > checks[i].exp) {
            reason = "token expired";
        } else {
            j_params =
                json_pack("[sIs]", checks[i].sid, (json_int_t)checks[i].user_id, checks[i].jti);
            rc = j_params != NULL ? db_row(db, WS_STATE_SQL, j_params, &j_row) : LINTEL_ENOMEM;
            if (rc == LINTEL_ENOTFOUND)
                reason = "session ended";
            if (rc == 0 && json_is_string(json_object_get(j_row, "role")) &&
                strcmp(json_string_value(json_object_get(j_row, "role")), checks[i].role) != 0)
                ws_rescope(db, &checks[i], json_string_value(json_object_get(j_row, "role")));
            json_decref(j_params);
            json_decref(j_row);
        }
        if (reason == NULL)
            continue;
        pthread_mutex_lock(&ws.lock);
        for (c = ws.list; c != NULL; c = c->next) {
            if (c->id == checks[i].id) {
                ws_conn_close(c, WS_CLOSE_AUTH_ENDED, reason);
                closed++;
            }
        }
        pthread_mutex_unlock(&ws.lock);
    }
    for (i = 0; i < n; i++) {
        free(checks[i].sid);
        free(checks[i].jti);
        free(checks[i].role);
        free(checks[i].scope);
    }
    free(checks);
    return closed;
}

static void *ws_watcher(void *arg)
{
    struct db *db = NULL;
    struct timespec until;

    (void)arg;
    pthread_mutex_lock(&ws.lock);
    while (!ws.shutdown) {
        bool any = ws.count > 0;
        pthread_mutex_unlock(&ws.lock);
        if (any && (db != NULL || db_thread(&db) == 0))
            ws_watch_once(db);
        pthread_mutex_lock(&ws.lock);
        ws_deadline(&until, WS_WATCH_WAIT_MS);
        if (!ws.shutdown)
            pthread_cond_timedwait(&ws.wake, &ws.lock, &until);
    }
    pthread_mutex_unlock(&ws.lock);
    return NULL; /* the thread's connection closes with the thread (db.c) */
}

/* ---- lifecycle ---- */

static int ws_origins_init(const struct config *cfg)
{
    char *copy, *tok, *save = NULL;
    size_t n = 0;

    if (cfg->cors_origins == NULL)
        return 0;
    copy = strdup(cfg->cors_origins);
    ws.origins = calloc(strlen(cfg->cors_origins) / 2 + 2, sizeof(char *));
    if (copy == NULL || ws.origins == NULL) {
        free(copy);
        return LINTEL_ENOMEM;
    }
    for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        ws.origins[n] = strdup(tok);
        if (ws.origins[n] != NULL)
            n++;
    }
    free(copy);
    return 0;
}

int ws_init(const struct config *cfg)
{
    pthread_condattr_t ca;
    char *err = NULL;
    int rc;

    if (!ws_list_lock_active()) {
        /* an upgrade racing a close could corrupt ulfius' socket list: refuse to serve */
        log_error("ws: the guard of ulfius' WebSocket list is not in effect (app/ws_list_lock.c)");
        return LINTEL_EINTERNAL;
    }
    rc = ws_origins_init(cfg);
    if (rc == 0)
        rc = server_endpoint_add("GET", "/api/ws", ws_endpoint, NULL);
    if (rc == 0) {
        rc = server_route_add(NULL, "GET", "/api/ws", 0, NULL, ws_route, NULL, NULL, &err);
        if (rc != 0)
            log_error("ws: %s", err != NULL ? err : "cannot add GET /api/ws");
        free(err);
    }
    if (rc != 0)
        return rc;
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
    struct ws_conn *c;

    pthread_mutex_lock(&ws.lock);
    ws.shutdown = true;
    for (c = ws.list; c != NULL; c = c->next)
        ws_conn_close(c, WS_CLOSE_GOING_AWAY, "server shutting down");
    pthread_cond_broadcast(&ws.wake);
    pthread_mutex_unlock(&ws.lock);
    if (ws.started)
        pthread_join(ws.watcher, NULL);
    ws.started = false;
}

void ws_release(void)
{
    size_t i;

    ws_shutdown();
    for (i = 0; ws.origins != NULL && ws.origins[i] != NULL; i++)
        free(ws.origins[i]);
    free(ws.origins);
    ws.origins = NULL;
}
