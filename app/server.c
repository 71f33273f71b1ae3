/*
 * The HTTP server on libmicrohttpd: decides each request from its headers (route, 404/405,
 * size, auth) before reading the body, then reads it within the route's limit and runs the handler.
 */
#include "server.h"

#include "access_log.h"
#include "auth.h"
#include "config.h"
#include "etag.h"
#include "fmt.h"
#include "host_api.h"
#include "http_error.h"
#include "idempotency.h"
#include "json_out.h"
#include "log.h"
#include "ratelimit.h"
#include "reply_cache.h"
#include "router.h"
#include "server_tls.h"
#include "signed_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Query arguments a request may carry; more is a 400 (libmicrohttpd bounds their bytes). */
#define SERVER_MAX_ARGS 64

static struct router *server_router;
static struct server_hooks server_hooks;
static struct server_upgrade **server_upgrades; /* owned copies, kept for the process */
static size_t server_nupgrades;

static struct MHD_Daemon *server_daemon;
static struct ratelimit *server_limiter; /* NULL: rate_limit 0, no limit and no headers */
static const struct config *server_cfg;
static struct timespec server_started;
static atomic_int server_in_flight;
static atomic_ullong server_request_seq;
static char server_id_prefix[17];

/* One request, from its headers to the end of its connection's use of it. */
struct server_call {
    struct lintel_req req;
    struct router_match match;
    struct timespec t0;
    size_t limit;         /* the route's body limit                              */
    size_t body_cap;      /* bytes allocated for req.body                        */
    bool began;           /* the headers were decided on                         */
    bool too_large;       /* the body went over limit while it came (chunked)   */
    bool in_flight;       /* counted in server_in_flight                         */
    bool queued;          /* a reply is queued                                   */
    bool upgrade_pending; /* accept said yes: upgraded or discard must run       */
    bool idem_held;       /* an Idempotency-Key is claimed: idempotency_end runs */
    const struct server_upgrade *up;
    void *up_conn;
};

/* ---- the route table ---- */

static int server_router_ready(void)
{
    if (server_router == NULL)
        server_router = router_new();
    return server_router != NULL ? 0 : LINTEL_ENOMEM;
}

int server_route_add(const struct route_def *def, char **err)
{
    const char *who = def->owner_name != NULL ? def->owner_name : "core";

    *err = NULL;
    if (server_daemon != NULL || server_router_ready() != 0) {
        *err = server_daemon != NULL
                   ? fmt_alloc("%s: routes can only be added before the server starts", who)
                   : NULL;
        if (def->meta_free != NULL)
            def->meta_free(def->meta);
        return server_daemon != NULL ? LINTEL_EPARAM : LINTEL_ENOMEM;
    }
    return router_add(server_router, def, err);
}

void server_set_hooks(const struct server_hooks *hooks)
{
    server_hooks = *hooks;
}

const struct route *server_route_find(const char *method, const char *path)
{
    return server_router != NULL ? router_find(server_router, method, path, false) : NULL;
}

void server_route_remove(const struct route *r)
{
    reply_cache_forget_routes(); /* a new route may come to the same address */
    if (server_router != NULL)
        router_remove(server_router, r);
}

void server_routes_remove(const struct lintel_plugin *owner)
{
    reply_cache_forget_routes();
    if (server_router != NULL)
        router_remove_owner(server_router, owner);
}

size_t server_route_count(void)
{
    return router_count(server_router);
}

const struct route *server_route_get(size_t i)
{
    return router_get(server_router, i);
}

int server_upgrade_add(const char *path, const struct server_upgrade *u)
{
    struct server_upgrade *copy = NULL, **grown;
    struct route_def def = {.method = "GET", .path = path, .owner_name = "core"};
    char *err = NULL;
    int rc = LINTEL_EPARAM;

    if (server_daemon != NULL || path == NULL || u == NULL || u->accept == NULL ||
        u->upgraded == NULL)
        goto cleanup;
    rc = LINTEL_ENOMEM;
    copy = malloc(sizeof(*copy));
    grown = realloc(server_upgrades, (server_nupgrades + 1) * sizeof(*grown));
    if (grown != NULL)
        server_upgrades = grown;
    if (copy == NULL || grown == NULL || server_router_ready() != 0)
        goto cleanup;
    *copy = *u;
    def.upgrade = copy;
    rc = router_add(server_router, &def, &err);
    if (rc != 0) {
        log_error("server: %s", err != NULL ? err : "cannot add an upgrade endpoint");
        goto cleanup;
    }
    server_upgrades[server_nupgrades++] = copy;
    copy = NULL;
cleanup:
    free(copy);
    free(err);
    return rc;
}

/* ---- per-request helpers ---- */

static const char *server_header(const struct lintel_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static bool server_request_id_ok(const char *id)
{
    size_t i, n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && strchr("-_.:", id[i]) == NULL)
            return false;
    return true;
}

/* out (at least 33 bytes) = prefix (16 hex) + n in lowercase hex, zero-padded to 8 digits. */
static void server_hex_id(const char *prefix, unsigned long long n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char digits[16];
    size_t nd = 0, i;

    do {
        digits[nd++] = hex[n & 0xf];
        n >>= 4;
    } while (n != 0);
    while (nd < 8)
        digits[nd++] = '0';
    memcpy(out, prefix, 16);
    for (i = 0; i < nd; i++)
        out[16 + i] = digits[nd - 1 - i];
    out[16 + nd] = '\0';
}

/* Dotted IPv4 text without printf (inet_ntop formats through sprintf). */
static void server_ipv4_text(const struct in_addr *a, char *out)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    size_t i, n = 0;

    for (i = 0; i < 4; i++) {
        if (i > 0)
            out[n++] = '.';
        if (b[i] >= 100)
            out[n++] = (char)('0' + b[i] / 100);
        if (b[i] >= 10)
            out[n++] = (char)('0' + b[i] / 10 % 10);
        out[n++] = (char)('0' + b[i] % 10);
    }
    out[n] = '\0';
}

static void server_request_id(struct lintel_req *req)
{
    const char *in = server_header(req, "X-Request-Id");
    unsigned long long n;

    if (server_request_id_ok(in)) {
        memcpy(req->request_id, in, strlen(in) + 1); /* at most 64 bytes: checked */
        return;
    }
    /* "<16 hex of this process><at least 8 hex of a counter>", without printf on every call. */
    n = atomic_fetch_add(&server_request_seq, 1) + 1;
    server_hex_id(server_id_prefix, n, req->request_id);
}

static void server_client_addr(struct lintel_req *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    const char *xff = NULL;

    strcpy(req->client_addr, "unknown");
    if (sa != NULL && sa->sa_family == AF_INET)
        server_ipv4_text(&((const struct sockaddr_in *)sa)->sin_addr, req->client_addr);
    else if (sa != NULL && sa->sa_family == AF_INET6 &&
             inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client_addr,
                       sizeof(req->client_addr)) == NULL)
        strcpy(req->client_addr, "unknown");
    if (server_cfg->trust_proxy)
        xff = server_header(req, "X-Forwarded-For");
    if (xff != NULL) {
        /* The proxy appends the address it saw: the last entry is the one it vouches for. */
        const char *last = strrchr(xff, ',');
        char addr[64];
        unsigned char bin[sizeof(struct in6_addr)];
        last = last != NULL ? last + 1 : xff;
        while (*last == ' ')
            last++;
        snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(last, " "), last);
        if (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1)
            snprintf(req->client_addr, sizeof(req->client_addr), "%s", addr);
    }
}

/* The Origin to allow for this request ("*" with cors_origins "*"), or NULL. */
static const char *server_cors_origin(const struct lintel_req *req)
{
    const char *origin;

    if (!server_cfg->cors_any && server_cfg->cors_list == NULL)
        return NULL;
    origin = server_header(req, "Origin");
    if (origin == NULL)
        return NULL;
    if (server_cfg->cors_any)
        return "*";
    return config_origin_allowed(server_cfg, origin) ? origin : NULL;
}

/* Largest body the route accepts: raw routes (avatars) have their own, larger limit. */
static size_t server_body_limit(const struct route *r)
{
    size_t limit = server_cfg->max_body;

    if (r->upgrade != NULL)
        return 0;
    if ((r->flags & LINTEL_ROUTE_RAW) && server_cfg->avatar_max > limit)
        limit = server_cfg->avatar_max;
    return limit;
}

static int server_too_large(struct server_call *call)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "The request body is larger than %zu bytes.", call->limit);
    return host_res_record(&call->req.res, LINTEL_ETOOLARGE, NULL, detail, false);
}

/* A declared Content-Length over the route's limit: refused before a byte of it is read. */
static int server_check_length(struct server_call *call)
{
    const char *cl = server_header(&call->req, "Content-Length");
    unsigned long long n;
    char *end = NULL;

    if (cl == NULL)
        return 0;
    errno = 0;
    n = strtoull(cl, &end, 10);
    if (errno != 0 || end == cl || n > call->limit)
        return server_too_large(call);
    return 0;
}

/* Decodes one query argument (libmicrohttpd hands them over raw: see server_unescape). */
static enum MHD_Result server_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct lintel_req *req = cls;
    struct host_arg *a;
    size_t klen, vlen;

    (void)kind;
    if (req->nargs == SERVER_MAX_ARGS || req->args == NULL)
        return MHD_NO;
    a = &req->args[req->nargs];
    a->key = strdup(key);
    a->value = strdup(value != NULL ? value : "");
    if (a->key == NULL || a->value == NULL) {
        free(a->key);
        free(a->value);
        return MHD_NO;
    }
    req->nargs++;
    klen = MHD_http_unescape(a->key);
    vlen = MHD_http_unescape(a->value);
    /* A %00 or bytes that are not UTF-8 would make the value mean something else in C. */
    if (strlen(a->key) != klen || strlen(a->value) != vlen || !router_utf8_ok(a->key, klen) ||
        !router_utf8_ok(a->value, vlen))
        return MHD_NO;
    return MHD_YES;
}

static int server_query(struct lintel_req *req)
{
    int n = MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);

    if (n <= 0)
        return 0;
    if (n > SERVER_MAX_ARGS)
        return host_res_record(&req->res, LINTEL_EMALFORMED, NULL,
                               "The query string has too many parameters.", false);
    req->args = calloc((size_t)n, sizeof(*req->args));
    if (req->args == NULL)
        return LINTEL_ENOMEM;
    if (MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, server_arg, req) != n)
        return host_res_record(&req->res, LINTEL_EMALFORMED, NULL,
                               "A query parameter holds a %00 or bytes that are not UTF-8.", false);
    return 0;
}

static void server_bind_params(struct server_call *call)
{
    const struct route *r = call->match.route;
    struct lintel_req *req = &call->req;
    size_t i;

    for (i = 0; i < r->nsegs && req->nparams < HOST_MAX_PARAMS; i++) {
        if (!r->is_param[i])
            continue;
        req->param_name[req->nparams] = r->segs[i];
        req->param_value[req->nparams] = call->match.segs[i];
        req->nparams++;
    }
}

/* Checks the bearer token; on failure records the error and the WWW-Authenticate challenge. */
static int server_authenticate(struct lintel_req *req)
{
    const struct route *r = req->route;
    const char *detail = NULL;
    int rc;

    /* A token in the URL ends up in logs and history: only upgrade endpoints take one. */
    rc = auth_request(server_header(req, "Authorization"), NULL, r->scope,
                      (r->flags & LINTEL_ROUTE_ADMIN) != 0, &req->j_claims, &req->user_id, &detail);
    if (rc == 0)
        return 0;
    json_decref(req->j_claims);
    req->j_claims = NULL;
    req->user_id = 0;
    if (rc == LINTEL_EAUTH)
        host_res_put_header(&req->res, "WWW-Authenticate", "Bearer");
    else if (rc == LINTEL_ETOKEN)
        host_res_put_header(&req->res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    host_res_record(&req->res, rc, NULL, detail, false);
    /* For a profile's error renderer: why, as errors[] {field "Authorization", message}
     * (lintel's own 401/403 bodies carry no errors[]). */
    if (auth_reason() != NULL)
        host_res_record(&req->res, rc, "Authorization", auth_reason(), false);
    return rc;
}

/* A signed URL instead of a token (LINTEL_ROUTE_SIGNED): the signature alone decides. */
static int server_signed(struct lintel_req *req)
{
    const char *detail = NULL;
    int rc = signed_url_check(req->path, req->args, req->nargs, &detail);

    if (rc == LINTEL_ETOKEN)
        host_res_put_header(&req->res, "WWW-Authenticate", "Bearer");
    return rc != 0 ? host_res_record(&req->res, rc, NULL, detail, false) : 0;
}

static int server_options(struct lintel_req *req, const char *allow)
{
    const char *asked = server_header(req, "Access-Control-Request-Headers");

    host_res_put_header(&req->res, "Allow", allow);
    if (server_cors_origin(req) != NULL) {
        host_res_put_header(&req->res, "Access-Control-Allow-Methods", allow);
        host_res_put_header(&req->res, "Access-Control-Allow-Headers",
                            asked != NULL && strpbrk(asked, "\r\n") == NULL
                                ? asked
                                : "Authorization, Content-Type, X-Request-Id, "
                                  "Idempotency-Key, If-Match, If-None-Match");
        host_res_put_header(&req->res, "Access-Control-Max-Age", "600");
    }
    return host_api()->res_empty(&req->res, 204);
}

/* Renders the recorded error (or the generic one for rc) into the reply. */
static void server_render_error(struct lintel_req *req, int rc)
{
    struct lintel_res *res = &req->res;
    unsigned status = http_error_status(rc);
    const char *ct = "application/problem+json";
    json_t *j_body;

    free(res->body);
    res->body = NULL;
    res->len = 0;
    j_body = http_error_body(
        status, res->err_detail != NULL ? res->err_detail : http_error_generic_detail(rc),
        res->j_errors, req->path, NULL, strcmp(server_cfg->envelope, "jsend") == 0, &ct);
    if (j_body == NULL || json_out_dump(j_body, &res->body, &res->len) != 0) {
        /* Out of memory: still no empty error body. */
        free(res->body);
        res->body = strdup("{\"type\":\"about:blank\",\"title\":\"Internal Server Error\","
                           "\"status\":500}");
        res->len = res->body != NULL ? strlen(res->body) : 0;
        status = 500;
    }
    json_decref(j_body);
    res->status = status;
    res->content_type = ct;
}

/* Turns a handler's or the dispatcher's rc into the reply (an error body for rc < 0). */
static void server_settle(struct lintel_req *req, int rc)
{
    if (rc > 0)
        rc = LINTEL_EINTERNAL;
    if (rc == 0 && !req->res.written) {
        log_error("route %s %s: handler returned 0 without writing a reply", req->route->method,
                  req->route->path);
        rc = LINTEL_EINTERNAL;
    }
    if (rc == 0)
        return;
    if (req->res.err_rc != rc) {
        /* The recorded detail belongs to another code: use the generic one. */
        free(req->res.err_detail);
        req->res.err_detail = NULL;
    }
    if (http_error_status(rc) >= 500)
        log_error("request %s: %s %s failed: %s%s%s", req->request_id, req->method, req->path,
                  http_error_strerror(rc), req->res.err_detail != NULL ? ": " : "",
                  req->res.err_detail != NULL ? req->res.err_detail : "");
    if (server_hooks.render_error == NULL || !server_hooks.render_error(req, rc))
        server_render_error(req, rc);
}

/* Whether the handler set the header name itself. */
static bool server_has_header(const struct lintel_res *res, const char *name)
{
    size_t i;

    for (i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return true;
    return false;
}

/* The headers every reply carries, then the access line; status is the one sent. */
static int server_add_headers(struct server_call *call, struct MHD_Response *resp, unsigned status)
{
    struct lintel_req *req = &call->req;
    struct lintel_res *res = &req->res;
    struct timespec t1;
    const char *origin;
    char took[32];
    size_t i;
    int ok = 1;

    for (i = 0; i < res->nheaders; i++)
        ok &= MHD_add_response_header(resp, res->headers[i].name, res->headers[i].value) == MHD_YES;
    if (res->content_type != NULL && res->len > 0)
        ok &= MHD_add_response_header(resp, "Content-Type", res->content_type) == MHD_YES;
    ok &= MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES;
    ok &= MHD_add_response_header(resp, "X-Request-Id", req->request_id) == MHD_YES;
    /* A handler that chose its own caching (a versioned avatar) keeps it. */
    if (req->route != NULL && !(req->route->flags & LINTEL_ROUTE_PUBLIC) &&
        !server_has_header(res, "Cache-Control"))
        ok &= MHD_add_response_header(resp, "Cache-Control", "no-store") == MHD_YES;
    origin = server_cors_origin(req);
    /* With a list of origins the reply depends on Origin, allowed or not: caches must know. */
    if (server_cfg->cors_list != NULL && !server_cfg->cors_any)
        ok &= MHD_add_response_header(resp, "Vary", "Origin") == MHD_YES;
    if (origin != NULL) {
        ok &= MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin) == MHD_YES;
        ok &= MHD_add_response_header(
                  resp, "Access-Control-Expose-Headers",
                  "X-Request-Id, X-Response-Time, WWW-Authenticate, Retry-After, Location, "
                  "RateLimit, RateLimit-Policy, ETag, Idempotent-Replayed") == MHD_YES;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    access_log_ms((long long)(t1.tv_sec - call->t0.tv_sec) * 1000000000LL +
                      (t1.tv_nsec - call->t0.tv_nsec),
                  took);
    ok &= MHD_add_response_header(resp, "X-Response-Time", took) == MHD_YES;
    if (server_hooks.on_reply != NULL)
        server_hooks.on_reply(req->route, status,
                              (long long)(t1.tv_sec - call->t0.tv_sec) * 1000000000LL +
                                  (t1.tv_nsec - call->t0.tv_nsec));
    access_log_request(req->request_id, req->method, req->path, status, took, req->client_addr);
    return ok ? 0 : LINTEL_ENOMEM;
}

static void server_done(struct server_call *call)
{
    if (call->in_flight)
        atomic_fetch_sub(&server_in_flight, 1);
    call->in_flight = false;
}

/* Queues the reply held in req->res (the body goes to libmicrohttpd). */
static enum MHD_Result server_queue(struct server_call *call)
{
    struct lintel_res *res = &call->req.res;
    struct MHD_Response *resp;
    enum MHD_Result ret = MHD_NO;

    if (res->len > 0 && res->body != NULL) {
        resp = MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_MUST_FREE);
        if (resp != NULL)
            res->body = NULL; /* libmicrohttpd frees it with the response */
    } else {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (resp != NULL && server_add_headers(call, resp, res->status) == 0)
        ret = MHD_queue_response(call->req.conn, res->status, resp);
    if (resp != NULL)
        MHD_destroy_response(resp);
    call->queued = ret == MHD_YES;
    server_done(call);
    return ret;
}

/* libmicrohttpd sent the 101 and hands the socket over. */
static void server_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
                            const char *extra_in, size_t extra_in_size, MHD_socket sock,
                            struct MHD_UpgradeResponseHandle *urh)
{
    struct server_call *call = cls;

    (void)conn;
    (void)con_cls;
    call->upgrade_pending = false;
    call->up->upgraded(call->up_conn, urh, sock, extra_in, extra_in_size, call->up->state);
}

/* An upgrade request, decided on its headers: auth goes to accept, which decides. */
static enum MHD_Result server_upgrade(struct server_call *call)
{
    struct lintel_req *req = &call->req;
    const struct server_upgrade *up = call->match.route->upgrade;
    struct server_upgrade_auth auth = {0};
    struct MHD_Response *resp = NULL;
    json_t *j_claims = NULL;
    enum MHD_Result ret = MHD_NO;
    int rc;

    auth.rc = auth_request(server_header(req, "Authorization"),
                           host_api()->req_query(req, "access_token"), req->route->scope,
                           (req->route->flags & LINTEL_ROUTE_ADMIN) != 0, &j_claims, &auth.user_id,
                           &auth.detail);
    auth.j_claims = j_claims;
    rc = up->accept(req, &req->res, &auth, up->state, &call->up_conn);
    json_decref(j_claims);
    if (rc != 0) {
        server_settle(req, rc < 0 ? rc : LINTEL_EINTERNAL);
        return server_queue(call);
    }
    call->up = up;
    call->upgrade_pending = true;
    req->res.status = 101;
    resp = MHD_create_response_for_upgrade(server_upgraded, call);
    if (resp != NULL && server_add_headers(call, resp, 101) == 0)
        ret = MHD_queue_response(req->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    if (resp != NULL)
        MHD_destroy_response(resp);
    call->queued = ret == MHD_YES;
    server_done(call);
    return ret;
}

/*
 * The first call, headers only: request id, route, 404/405/OPTIONS, the route's size limit,
 * authentication. Returns 1 when the body is to be read, else 0 with a reply (or rc < 0).
 */
static int server_decide_request(struct server_call *call, bool *upgrade)
{
    struct lintel_req *req = &call->req;
    const char *up = server_header(req, "Upgrade");
    bool want_upgrade =
        strcmp(req->method, "GET") == 0 && up != NULL && strcasecmp(up, "websocket") == 0;
    char detail[192];
    int rc;

    *upgrade = false;
    server_request_id(req);
    server_client_addr(req);
    /* upgrade endpoints only for a WebSocket handshake: one match for every other request */
    rc = router_match(server_router, req->method, req->path, want_upgrade, &call->match);
    if (rc == 0 && want_upgrade && call->match.status != ROUTER_FOUND) {
        router_match_clear(&call->match);
        rc = router_match(server_router, req->method, req->path, false, &call->match);
    }
    if (rc != 0)
        return rc;
    switch (call->match.status) {
    case ROUTER_BAD_PATH:
        /* Never another resource: such a segment names nothing that can exist. */
        return host_res_record(&req->res, LINTEL_ENOTFOUND, NULL,
                               "No resource lives at this path: a segment decodes to a NUL "
                               "byte or to bytes that are not UTF-8.",
                               false);
    case ROUTER_NOT_FOUND:
        return host_res_record(&req->res, LINTEL_ENOTFOUND, NULL, "No resource lives at this path.",
                               false);
    case ROUTER_METHOD:
        if (strcmp(req->method, "OPTIONS") == 0)
            return server_options(req, call->match.allow);
        snprintf(detail, sizeof(detail), "%s is not allowed here; allowed: %s.", req->method,
                 call->match.allow);
        host_res_put_header(&req->res, "Allow", call->match.allow);
        return host_res_record(&req->res, LINTEL_EMETHOD, NULL, detail, false);
    case ROUTER_FOUND:
        break;
    }
    req->route = call->match.route;
    server_bind_params(call);
    rc = server_query(req);
    if (rc != 0)
        return rc;
    call->limit = server_body_limit(req->route);
    if (req->route->upgrade != NULL) {
        *upgrade = true;
        return server_check_length(call);
    }
    /* Who asks comes first: a client without a token learns nothing about the route. */
    if (!(req->route->flags & LINTEL_ROUTE_PUBLIC)) {
        rc = (req->route->flags & LINTEL_ROUTE_SIGNED) && host_api()->req_query(req, "sig") != NULL
                 ? server_signed(req)
                 : server_authenticate(req);
        if (rc != 0)
            return rc;
    }
    rc = server_check_length(call);
    return rc != 0 ? rc : 1;
}

/*
 * The request rate limit (docs/auth.md "Request rate limit"): counts this request against its
 * user when it carries a valid token for a route that needs one, else against its client
 * address, and sets the RateLimit / RateLimit-Policy fields of
 * draft-ietf-httpapi-ratelimit-headers-10. LINTEL_ERATELIMIT (a 429 with Retry-After that
 * replaces whatever else was decided) when over the limit.
 */
static int server_rate_limit(struct lintel_req *req)
{
    struct ratelimit_verdict v;
    struct lintel_res *res = &req->res;
    struct timespec now;
    const char *policy = req->user_id > 0 ? "user" : "client";
    char key[sizeof(req->client_addr) + 2], value[96], detail[160];
    int rc;

    if (req->user_id > 0)
        snprintf(key, sizeof(key), "u:%lld", req->user_id);
    else
        snprintf(key, sizeof(key), "a:%s", req->client_addr);
    clock_gettime(CLOCK_MONOTONIC, &now);
    ratelimit_take(server_limiter, key, (long long)now.tv_sec, &v);
    snprintf(value, sizeof(value), "\"%s\";q=%u;w=%u", policy, v.limit, v.window);
    rc = host_res_put_header(res, "RateLimit-Policy", value);
    snprintf(value, sizeof(value), "\"%s\";r=%u;t=%lld", policy, v.remaining, v.reset);
    if (rc == 0)
        rc = host_res_put_header(res, "RateLimit", value);
    if (rc != 0 || !v.limited)
        return rc;
    snprintf(value, sizeof(value), "%lld", v.reset);
    rc = host_res_put_header(res, "Retry-After", value);
    if (rc != 0)
        return rc;
    /* The 429 replaces the error decided so far (a 401, a 404): forget it. */
    free(res->err_detail);
    res->err_detail = NULL;
    res->err_rc = 0;
    res->err_weak = false;
    json_decref(res->j_errors);
    res->j_errors = NULL;
    res->errors_weak = false;
    snprintf(detail, sizeof(detail),
             "Too many requests: at most %u every %u seconds for each %s; try again in %lld "
             "seconds.",
             v.limit, v.window, req->user_id > 0 ? "user" : "client address", v.reset);
    return host_res_record(res, LINTEL_ERATELIMIT, NULL, detail, false);
}

static int server_decide(struct server_call *call, bool *upgrade)
{
    int rc = server_decide_request(call, upgrade);
    int limited;

    if (server_limiter == NULL)
        return rc;
    limited = server_rate_limit(&call->req);
    if (limited == 0)
        return rc;
    *upgrade = false;
    return limited;
}

/* Appends a piece of the body; past the limit the rest is dropped and the reply is a 413. */
static int server_take_body(struct server_call *call, const char *data, size_t size)
{
    struct lintel_req *req = &call->req;

    if (call->too_large || size > call->limit - req->body_len) {
        call->too_large = true;
        return 0;
    }
    /* Doubles up to the limit (+1 for a NUL); the limit was checked above, before growing. */
    if (json_out_reserve(&req->body, &call->body_cap, req->body_len + size + 1, 4096,
                         call->limit + 1) != 0)
        return LINTEL_ENOMEM;
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
    return 0;
}

/*
 * The handler behind the conditional checks: Idempotency-Key on a POST (a retry gets the first
 * reply), If-None-Match / If-Match against the GET route of the same path (app/etag.c).
 */
static int server_run(struct server_call *call)
{
    struct lintel_req *req = &call->req;
    struct router_match twin = {0};
    struct reply_cache_probe probe;
    int rc;

    rc = idempotency_begin(req, &call->idem_held);
    if (rc == 0 && etag_wants_twin(req))
        rc = router_match(server_router, "GET", req->path, false, &twin);
    if (rc == 0)
        rc = etag_before(req, &twin);
    /* a cacheable GET made under the current database stamp is replayed (app/reply_cache.c) */
    if (rc == 0 && !reply_cache_lookup(req, &probe)) {
        rc = req->route->handler(req, &req->res, req->route->state);
        reply_cache_store(req, &probe, rc);
    }
    rc = etag_after(req, &twin, rc);
    router_match_clear(&twin);
    return rc == IDEMPOTENCY_REPLAYED ? 0 : rc;
}

static enum MHD_Result server_access(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    struct server_call *call = *con_cls;
    bool upgrade = false;
    int rc;

    (void)cls;
    (void)version;
    if (call == NULL) {
        call = calloc(1, sizeof(*call));
        if (call == NULL)
            return MHD_NO;
        *con_cls = call;
        clock_gettime(CLOCK_MONOTONIC, &call->t0);
        atomic_fetch_add(&server_in_flight, 1);
        call->in_flight = true;
        host_req_init(&call->req, conn, method, url, server_cfg);
        call->began = true;
        rc = server_decide(call, &upgrade);
        if (rc == 1)
            return MHD_YES; /* the body, if any, comes in the next calls */
        if (rc == 0 && upgrade)
            return server_upgrade(call);
        server_settle(&call->req, rc);
        return server_queue(call);
    }
    if (*upload_data_size > 0) {
        rc = server_take_body(call, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    if (call->queued)
        return MHD_YES;
    if (call->too_large)
        rc = server_too_large(call);
    else if (server_hooks.check != NULL)
        rc = server_hooks.check(&call->req);
    else
        rc = 0;
    if (rc == 0)
        rc = server_run(call);
    server_settle(&call->req, rc);
    idempotency_end(&call->req, call->idem_held);
    etag_reply(&call->req);
    return server_queue(call);
}

static void server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    struct server_call *call = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (call == NULL)
        return;
    /* accept said yes but the 101 never went out: the client left, or the server stops. */
    if (call->upgrade_pending && call->up->discard != NULL)
        call->up->discard(call->up_conn, call->up->state);
    server_done(call);
    host_req_release(&call->req);
    router_match_clear(&call->match);
    free(call);
    *con_cls = NULL;
}

/*
 * libmicrohttpd would percent-decode the path and the query before lintel sees them, and a
 * %00 would then cut them short unseen. Everything is decoded later, one segment or argument
 * at a time, with the decoded length checked; '+' in the query still becomes a space.
 */
static size_t server_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* ---- lifecycle ---- */

static void server_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    size_t n;

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_warn("http: %s", buf);
}

int server_start(const struct config *cfg, char **err)
{
    struct sockaddr_in addr4 = {0};
    struct sockaddr_in6 addr6 = {0};
    bool v6 = strchr(cfg->bind, ':') != NULL, tls = cfg->tls_cert != NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_UPGRADE |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    struct MHD_OptionItem ops[16];
    const union MHD_DaemonInfo *info;
    unsigned char rnd[8];
    size_t i, n = 0;
    int rc = LINTEL_EINTERNAL, port;

    *err = NULL;
    server_cfg = cfg;
    clock_gettime(CLOCK_MONOTONIC, &server_started);
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(server_id_prefix + 2 * i, 3, "%02x", rnd[i]);
    if (server_router_ready() != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (v6) {
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons((uint16_t)cfg->port);
        inet_pton(AF_INET6, cfg->bind, &addr6.sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons((uint16_t)cfg->port);
        inet_pton(AF_INET, cfg->bind, &addr4.sin_addr);
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)server_mhd_log, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)server_completed, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)server_unescape, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, v6 ? (void *)&addr6 : (void *)&addr4};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)config_pool_size(cfg), NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->connection_limit, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                       (intptr_t)cfg->connection_per_ip, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                       (intptr_t)cfg->connection_timeout, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (intptr_t)cfg->connection_memory, NULL};
    if (tls) {
        /*
         * The pair goes through gnutls' certificate callback rather than
         * MHD_OPTION_HTTPS_MEM_KEY/CERT, which libmicrohttpd 0.9.75 loads once into
         * credentials it never lets go of: with the callback SIGHUP can replace it.
         */
        if (server_tls_load(cfg->tls_cert, cfg->tls_key, err) != 0)
            goto cleanup;
        flags |= MHD_USE_TLS;
        ops[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)server_tls_retrieve};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (cfg->rate_limit > 0) {
        server_limiter =
            ratelimit_new(cfg->rate_limit, cfg->rate_limit_window, cfg->rate_limit_table);
        if (server_limiter == NULL) {
            rc = LINTEL_ENOMEM;
            *err = fmt_alloc("server: no memory for the rate limit table (rate_limit_table %u)",
                             cfg->rate_limit_table);
            goto cleanup;
        }
    }
    errno = 0;
    server_daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, server_access, NULL,
                                     MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (server_daemon == NULL) {
        *err = fmt_alloc("server: cannot listen on %s:%d (%s)", cfg->bind, cfg->port,
                         errno != 0 ? strerror(errno) : "libmicrohttpd refused to start");
        goto cleanup;
    }
    /* The socket knows the real port (LINTEL_PORT=0 picks a free one). */
    port = cfg->port;
    info = MHD_get_daemon_info(server_daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (info != NULL) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) == 0)
            port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
    }
    log_always(v6 ? "listening on %s://[%s]:%d" : "listening on %s://%s:%d", tls ? "https" : "http",
               cfg->bind, port);
    rc = 0;
cleanup:
    return rc;
}

void server_stop(void)
{
    const union MHD_DaemonInfo *info;
    MHD_socket sock;
    int i;

    if (server_daemon == NULL)
        return;
    /* Stop accepting, let handlers that run finish and their replies go out, then stop. */
    sock = MHD_quiesce_daemon(server_daemon);
    for (i = 0; i < 1000 && atomic_load(&server_in_flight) > 0; i++)
        usleep(10 * 1000);
    for (i = 0; i < 100; i++) {
        info = MHD_get_daemon_info(server_daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info == NULL || info->num_connections == 0)
            break;
        usleep(10 * 1000);
    }
    MHD_stop_daemon(server_daemon);
    server_daemon = NULL;
    if (sock != MHD_INVALID_SOCKET)
        close(sock);
}

void server_release(void)
{
    size_t i;

    server_stop();
    router_free(server_router);
    server_router = NULL;
    for (i = 0; i < server_nupgrades; i++)
        free(server_upgrades[i]);
    free(server_upgrades);
    server_upgrades = NULL;
    server_nupgrades = 0;
    server_tls_release();
    ratelimit_free(server_limiter);
    server_limiter = NULL;
}

long long server_uptime(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - server_started.tv_sec);
}
