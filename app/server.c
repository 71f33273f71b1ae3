/*
 * ulfius in libmicrohttpd thread-pool mode with one catch-all endpoint: lintel routes each
 * request itself (literal segments beat parameters, 404 vs 405), then limits, auth, handler.
 */
#include "server.h"

#include "auth.h"
#include "config.h"
#include "host_api.h"
#include "host_kit.h"
#include "http_error.h"
#include "json_out.h"
#include "log.h"
#include "metrics.h"
#include "openapi.h"
#include "plugin_loader.h"
#include "web.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <gnutls/gnutls.h>
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
#include <ulfius.h>
#include <unistd.h>

/* Ulfius priorities: app endpoints (WebSocket) first, the dispatcher of all routes last. */
#define SERVER_PRIORITY_APP      0
#define SERVER_PRIORITY_DISPATCH 10

struct server_endpoint {
    char *method, *path;
    int (*cb)(const struct _u_request *, struct _u_response *, void *);
    void *user_data;
};

static struct route **server_routes;
static size_t server_nroutes;
static struct server_endpoint *server_endpoints;
static size_t server_nendpoints;

static struct _u_instance server_inst;
static bool server_inst_ready;
static const struct config *server_cfg;
static char *server_tls_key, *server_tls_cert;
static char **server_cors; /* allowed origins, NULL-terminated, or NULL */
static bool server_cors_any;
static size_t server_body_cap; /* the largest body any route accepts */
static struct timespec server_started;
static atomic_int server_in_flight;
static atomic_ullong server_request_seq;
static char server_id_prefix[17];

static const char *const server_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
#define SERVER_NMETHODS (sizeof(server_methods) / sizeof(server_methods[0]))

static char *server_fmt(const char *fmt, ...) LINTEL_PRINTF(1, 2);

static char *server_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* ---- route registry ---- */

static void server_route_free(struct route *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->method);
    free(r->path);
    free(r->scope);
    host_kit_meta_free(r->meta);
    free(r);
}

static bool server_param_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Splits a registered path into literal and {param} segments. */
static int server_route_parse(struct route *r, const char *path, char **err)
{
    const char *p = path;

    if (path[0] != '/') {
        *err = server_fmt("route %s %s: the path must start with /", r->method, path);
        return LINTEL_EPARAM;
    }
    while (*p == '/' && p[1] != '\0') {
        const char *seg = p + 1;
        size_t n = strcspn(seg, "/"), i;
        bool param = n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
        if (n == 0 || r->nsegs == SERVER_MAX_SEGMENTS) {
            *err = server_fmt("route %s %s: empty segment or more than %d segments", r->method,
                              path, SERVER_MAX_SEGMENTS);
            return LINTEL_EPARAM;
        }
        if (param && !server_param_name_ok(seg + 1, n - 2)) {
            *err = server_fmt("route %s %s: bad parameter name", r->method, path);
            return LINTEL_EPARAM;
        }
        for (i = 0; !param && i < n; i++) {
            if (!isalnum((unsigned char)seg[i]) && strchr("-._~", seg[i]) == NULL) {
                *err = server_fmt("route %s %s: a literal segment may hold only letters, "
                                  "digits and -._~",
                                  r->method, path);
                return LINTEL_EPARAM;
            }
        }
        r->is_param[r->nsegs] = param;
        r->segs[r->nsegs] = param ? strndup(seg + 1, n - 2) : strndup(seg, n);
        if (r->segs[r->nsegs] == NULL)
            return LINTEL_ENOMEM;
        /* A parameter early in the path makes a route less specific than a literal there. */
        if (param)
            r->specificity |= 1UL << (SERVER_MAX_SEGMENTS - 1 - r->nsegs);
        r->nsegs++;
        p = seg + n;
    }
    if (*p != '\0') {
        *err = server_fmt("route %s %s: no trailing slash", r->method, path);
        return LINTEL_EPARAM;
    }
    return 0;
}

/* Same method and the same shape: equal literals, parameters at the same places. */
static bool server_route_same(const struct route *a, const struct route *b)
{
    size_t i;

    if (strcmp(a->method, b->method) != 0 || a->nsegs != b->nsegs)
        return false;
    for (i = 0; i < a->nsegs; i++) {
        if (a->is_param[i] != b->is_param[i])
            return false;
        if (!a->is_param[i] && strcmp(a->segs[i], b->segs[i]) != 0)
            return false;
    }
    return true;
}

static const char *server_owner_name(const struct lintel_plugin *p)
{
    return p != NULL ? p->name : "core";
}

int server_route_add(struct lintel_plugin *owner, const char *method, const char *path,
                     unsigned flags, const char *scope, lintel_handler handler, void *state,
                     struct host_route_meta *meta, char **err)
{
    struct route *r = NULL, **grown;
    const char *who = server_owner_name(owner);
    size_t i;
    int rc = LINTEL_EPARAM;

    *err = NULL;
    if (server_inst_ready) {
        *err = server_fmt("%s: routes can only be added before the server starts", who);
        goto cleanup;
    }
    for (i = 0; method != NULL && i < SERVER_NMETHODS; i++)
        if (strcmp(method, server_methods[i]) == 0)
            break;
    if (method == NULL || i == SERVER_NMETHODS || path == NULL || handler == NULL) {
        *err = server_fmt("plugin %s: route %s %s: unknown method, no path or no handler", who,
                          method != NULL ? method : "(null)", path != NULL ? path : "(null)");
        goto cleanup;
    }
    if (owner != NULL && !owner->profile && strncmp(path, "/api/", 5) != 0) {
        *err = server_fmt("plugin %s: route %s %s: plugin routes must be under /api/ (only a "
                          "compatibility profile may leave it)",
                          who, method, path);
        goto cleanup;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    r->method = strdup(method);
    r->path = strdup(path);
    r->scope = scope != NULL ? strdup(scope) : NULL;
    if (r->method == NULL || r->path == NULL || (scope != NULL && r->scope == NULL)) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = server_route_parse(r, path, err);
    if (rc != 0) {
        char *named = server_fmt("plugin %s: %s", who, *err != NULL ? *err : "bad route");
        free(*err);
        *err = named;
        goto cleanup;
    }
    for (i = 0; i < server_nroutes; i++) {
        if (server_route_same(server_routes[i], r)) {
            *err = server_fmt("plugin %s: route %s %s is already held by %s%s (%s %s)", who, method,
                              path, server_routes[i]->owner != NULL ? "plugin " : "",
                              server_owner_name(server_routes[i]->owner), server_routes[i]->method,
                              server_routes[i]->path);
            rc = LINTEL_ECONFLICT;
            goto cleanup;
        }
    }
    r->flags = flags;
    r->handler = handler;
    r->state = state;
    r->owner = owner;
    r->meta = meta;
    meta = NULL;
    grown = realloc(server_routes, (server_nroutes + 1) * sizeof(*grown));
    if (grown == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    server_routes = grown;
    server_routes[server_nroutes++] = r;
    r = NULL;
    rc = 0;
cleanup:
    server_route_free(r);
    host_kit_meta_free(meta);
    return rc;
}

void server_routes_remove(const struct lintel_plugin *owner)
{
    size_t i, kept = 0;

    for (i = 0; i < server_nroutes; i++) {
        if (server_routes[i]->owner == owner && owner != NULL)
            server_route_free(server_routes[i]);
        else
            server_routes[kept++] = server_routes[i];
    }
    server_nroutes = kept;
}

size_t server_route_count(void)
{
    return server_nroutes;
}

const struct route *server_route_get(size_t i)
{
    return i < server_nroutes ? server_routes[i] : NULL;
}

int server_endpoint_add(const char *method, const char *path,
                        int (*cb)(const struct _u_request *, struct _u_response *, void *),
                        void *user_data)
{
    struct server_endpoint *grown;

    if (server_inst_ready || method == NULL || path == NULL || cb == NULL)
        return LINTEL_EPARAM;
    grown = realloc(server_endpoints, (server_nendpoints + 1) * sizeof(*grown));
    if (grown == NULL)
        return LINTEL_ENOMEM;
    server_endpoints = grown;
    grown[server_nendpoints].method = strdup(method);
    grown[server_nendpoints].path = strdup(path);
    grown[server_nendpoints].cb = cb;
    grown[server_nendpoints].user_data = user_data;
    server_nendpoints++;
    return 0;
}

size_t server_endpoint_count(void)
{
    return server_nendpoints;
}

void server_endpoint_get(size_t i, const char **method, const char **path)
{
    *method = i < server_nendpoints ? server_endpoints[i].method : NULL;
    *path = i < server_nendpoints ? server_endpoints[i].path : NULL;
}

int server_core_routes(void)
{
    static const struct {
        const char *path;
        lintel_handler handler;
    } core[] = {
        {"/health", health_handler},
        {"/openapi.json", openapi_handler},
        {"/docs", web_docs_handler},
        {"/admin", web_admin_handler},
        {"/assets/{file}", web_asset_handler},
        {"/metrics", metrics_handler}, /* authenticates itself: admin or metrics_token */
        {"/api/auth/jwks", health_jwks_handler},
    };
    char *err = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(core) / sizeof(core[0]) && rc == 0; i++) {
        rc = server_route_add(NULL, "GET", core[i].path, LINTEL_ROUTE_PUBLIC, NULL, core[i].handler,
                              NULL, NULL, &err);
        if (rc != 0)
            log_error("%s", err != NULL ? err : "cannot add a core route");
        free(err);
        err = NULL;
    }
    return rc;
}

/* ---- matching a request ---- */

struct server_path {
    char *buf; /* decoded segments, NUL-separated */
    const char *segs[SERVER_MAX_SEGMENTS];
    size_t nsegs;
    bool too_long; /* more segments than any route has, or one with a NUL: no route matches */
};

static int server_path_split(const char *url_path, struct server_path *sp)
{
    char *p;

    memset(sp, 0, sizeof(*sp));
    sp->buf = strdup(url_path != NULL ? url_path : "/");
    if (sp->buf == NULL)
        return LINTEL_ENOMEM;
    for (p = sp->buf; *p != '\0';) {
        char *seg;
        size_t n;
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        seg = p;
        n = strcspn(seg, "/");
        p = seg + n;
        if (*p == '/')
            *p++ = '\0';
        if (sp->nsegs == SERVER_MAX_SEGMENTS) {
            sp->too_long = true;
            break;
        }
        /* A decoded NUL (%00) would cut the segment short for every strcmp: match nothing. */
        if (MHD_http_unescape(seg) != strlen(seg))
            sp->too_long = true;
        sp->segs[sp->nsegs++] = seg;
    }
    return 0;
}

static bool server_route_match(const struct route *r, const struct server_path *sp)
{
    size_t i;

    if (r->nsegs != sp->nsegs || sp->too_long)
        return false;
    for (i = 0; i < r->nsegs; i++)
        if (!r->is_param[i] && strcmp(r->segs[i], sp->segs[i]) != 0)
            return false;
    return true;
}

/*
 * The most specific route for method and path; *allow (static list, comma-separated) gets
 * the methods the path has, for 405 and OPTIONS.
 */
static const struct route *server_route_find(const char *method, const struct server_path *sp,
                                             char *allow, size_t allow_size)
{
    const struct route *best = NULL, *best_get = NULL;
    bool seen[SERVER_NMETHODS] = {false};
    size_t i, m;

    allow[0] = '\0';
    for (i = 0; i < server_nroutes; i++) {
        const struct route *r = server_routes[i];
        if (!server_route_match(r, sp))
            continue;
        for (m = 0; m < SERVER_NMETHODS; m++)
            if (strcmp(r->method, server_methods[m]) == 0)
                seen[m] = true;
        if (strcmp(r->method, method) == 0 && (best == NULL || r->specificity < best->specificity))
            best = r;
        if (strcmp(r->method, "GET") == 0 &&
            (best_get == NULL || r->specificity < best_get->specificity))
            best_get = r;
    }
    for (m = 0; m < SERVER_NMETHODS; m++) {
        if (!seen[m])
            continue;
        if (allow[0] != '\0')
            strncat(allow, ", ", allow_size - strlen(allow) - 1);
        strncat(allow, server_methods[m], allow_size - strlen(allow) - 1);
        if (m == 0)
            strncat(allow, ", HEAD", allow_size - strlen(allow) - 1);
    }
    /* HEAD is GET without the body; libmicrohttpd drops the body itself. */
    if (best == NULL && strcmp(method, "HEAD") == 0)
        best = best_get;
    return best;
}

/* ---- per-request helpers ---- */

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
    const char *in = u_map_get_case(req->u->map_header, "X-Request-Id");
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
    const struct sockaddr *sa = req->u->client_address;
    const char *xff = NULL;

    strcpy(req->client_addr, "unknown");
    if (sa != NULL && sa->sa_family == AF_INET)
        server_ipv4_text(&((const struct sockaddr_in *)sa)->sin_addr, req->client_addr);
    else if (sa != NULL && sa->sa_family == AF_INET6 &&
             inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client_addr,
                       sizeof(req->client_addr)) == NULL)
        strcpy(req->client_addr, "unknown");
    if (server_cfg->trust_proxy)
        xff = u_map_get_case(req->u->map_header, "X-Forwarded-For");
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

static const char *server_cors_origin(const struct lintel_req *req)
{
    const char *origin;
    size_t i;

    if (server_cors == NULL && !server_cors_any)
        return NULL;
    origin = u_map_get_case(req->u->map_header, "Origin");
    if (origin == NULL)
        return NULL;
    if (server_cors_any)
        return "*";
    for (i = 0; server_cors[i] != NULL; i++)
        if (strcmp(server_cors[i], origin) == 0)
            return origin;
    return NULL;
}

/* Largest body the route accepts: raw routes (avatars) have their own, larger limit. */
static size_t server_body_limit(const struct route *r)
{
    size_t limit = server_cfg->max_body;

    if (r != NULL && (r->flags & LINTEL_ROUTE_RAW) && server_cfg->avatar_max > limit)
        limit = server_cfg->avatar_max;
    return limit;
}

static int server_check_body(struct lintel_req *req)
{
    const char *cl = u_map_get_case(req->u->map_header, "Content-Length");
    size_t limit = server_body_limit(req->route);
    bool too_large = false;
    char detail[128];

    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n;
        errno = 0;
        n = strtoull(cl, &end, 10);
        too_large = errno != 0 || end == cl || n > limit;
    }
    /* ulfius truncates at max_post_body_size (limit + 1): more than limit means too large. */
    if (!too_large && req->u->binary_body_length <= limit)
        return 0;
    snprintf(detail, sizeof(detail), "The request body is larger than %zu bytes.", limit);
    return host_res_record(&req->res, LINTEL_ETOOLARGE, NULL, detail, false);
}

static int server_authenticate(struct lintel_req *req)
{
    const struct route *r = req->route;
    const char *authz = u_map_get_case(req->u->map_header, "Authorization");
    const char *upgrade = u_map_get_case(req->u->map_header, "Upgrade");
    const char *query_token = NULL, *detail = NULL;
    int rc;

    /* A token in the URL ends up in logs and history: only browsers' WebSockets may use it. */
    if (upgrade != NULL && strcasecmp(upgrade, "websocket") == 0)
        query_token = u_map_get(req->u->map_url, "access_token");
    rc = auth_request(authz, query_token, r->scope, (r->flags & LINTEL_ROUTE_ADMIN) != 0,
                      &req->j_claims, &req->user_id, &detail);
    if (rc == 0)
        return 0;
    json_decref(req->j_claims);
    req->j_claims = NULL;
    req->user_id = 0;
    if (rc == LINTEL_EAUTH)
        u_map_put(req->res.u->map_header, "WWW-Authenticate", "Bearer");
    else if (rc == LINTEL_ETOKEN)
        u_map_put(req->res.u->map_header, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return host_res_record(&req->res, rc, NULL, detail, false);
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
        res->j_errors, req->u->url_path, NULL, strcmp(server_cfg->envelope, "jsend") == 0, &ct);
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

/* Appends n bytes of s to the line (silently cut at its end). */
static void server_line_put(char *line, size_t size, size_t *len, const char *s, size_t n)
{
    if (n > size - 1 - *len)
        n = size - 1 - *len;
    memcpy(line + *len, s, n);
    *len += n;
    line[*len] = '\0';
}

/* Decimal text of n into out (at least 21 bytes); returns its length. */
static size_t server_utoa(unsigned long long n, char *out)
{
    char digits[20];
    size_t nd = 0, i;

    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    for (i = 0; i < nd; i++)
        out[i] = digits[nd - 1 - i];
    out[nd] = '\0';
    return nd;
}

/* "0.451ms" (out: at least 32 bytes) from nanoseconds, rounded as %.3f would; no printf. */
static void server_format_ms(long long ns, char *out)
{
    unsigned long long us = ns > 0 ? (unsigned long long)(ns + 500) / 1000 : 0;
    size_t n = server_utoa(us / 1000, out);

    out[n++] = '.';
    out[n++] = (char)('0' + us % 1000 / 100);
    out[n++] = (char)('0' + us % 100 / 10);
    out[n++] = (char)('0' + us % 10);
    memcpy(out + n, "ms", 3);
}

/* "<id> <METHOD> <path without query> <status> <ms> <client>"; never the query or headers. */
static void server_log_access(const struct lintel_req *req, unsigned status, const char *took)
{
    const char *path = req->u->url_path != NULL ? req->u->url_path : "/";
    char line[512], num[24];
    size_t len = 0, start, i;

    line[0] = '\0';
    server_line_put(line, sizeof(line), &len, req->request_id, strlen(req->request_id));
    server_line_put(line, sizeof(line), &len, " ", 1);
    server_line_put(line, sizeof(line), &len, req->u->http_verb, strlen(req->u->http_verb));
    server_line_put(line, sizeof(line), &len, " ", 1);
    start = len;
    server_line_put(line, sizeof(line), &len, path, strnlen(path, 255));
    for (i = start; i < len; i++)
        if (!isprint((unsigned char)line[i]) || line[i] == ' ')
            line[i] = '?';
    num[0] = ' ';
    i = server_utoa(status, num + 1) + 1;
    num[i++] = ' ';
    server_line_put(line, sizeof(line), &len, num, i);
    server_line_put(line, sizeof(line), &len, took, strlen(took));
    server_line_put(line, sizeof(line), &len, " ", 1);
    server_line_put(line, sizeof(line), &len, req->client_addr, strlen(req->client_addr));
    log_access(line, len);
}

/* Writes the reply into ulfius: status, body, and the headers every response carries. */
static void server_finish(struct lintel_req *req, const struct timespec *t0)
{
    struct lintel_res *res = &req->res;
    struct _u_map *h = res->u->map_header;
    struct timespec t1;
    const char *origin;
    char took[32];

    if (res->len > 0 && res->body != NULL)
        ulfius_set_binary_body_response(res->u, res->status, res->body, res->len);
    else
        res->u->status = res->status;
    if (res->content_type != NULL && res->len > 0)
        u_map_put(h, "Content-Type", res->content_type);
    /* X-Content-Type-Options comes from the instance's default headers, on every reply. */
    u_map_put(h, "X-Request-Id", req->request_id);
    if (req->route != NULL && !(req->route->flags & LINTEL_ROUTE_PUBLIC))
        u_map_put(h, "Cache-Control", "no-store");
    origin = server_cors_origin(req);
    /* With a list of origins the reply depends on Origin, allowed or not: caches must know. */
    if (server_cors != NULL && !server_cors_any)
        u_map_put(h, "Vary", "Origin");
    if (origin != NULL) {
        u_map_put(h, "Access-Control-Allow-Origin", origin);
        u_map_put(h, "Access-Control-Expose-Headers",
                  "X-Request-Id, X-Response-Time, WWW-Authenticate, Retry-After, Location");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    server_format_ms(
        (long long)(t1.tv_sec - t0->tv_sec) * 1000000000LL + (t1.tv_nsec - t0->tv_nsec), took);
    u_map_put(h, "X-Response-Time", took);
    metrics_request(req->route, res->status,
                    (long long)(t1.tv_sec - t0->tv_sec) * 1000000000LL + (t1.tv_nsec - t0->tv_nsec));
    server_log_access(req, res->status, took);
}

static int server_options(struct lintel_req *req, const char *allow)
{
    struct _u_map *h = req->res.u->map_header;
    const char *asked = u_map_get_case(req->u->map_header, "Access-Control-Request-Headers");

    u_map_put(h, "Allow", allow);
    if (server_cors_origin(req) != NULL) {
        u_map_put(h, "Access-Control-Allow-Methods", allow);
        u_map_put(h, "Access-Control-Allow-Headers",
                  asked != NULL && strpbrk(asked, "\r\n") == NULL
                      ? asked
                      : "Authorization, Content-Type, X-Request-Id");
        u_map_put(h, "Access-Control-Max-Age", "600");
    }
    return host_api()->res_empty(&req->res, 204);
}

static void server_bind_params(struct lintel_req *req, const struct server_path *sp)
{
    size_t i;

    for (i = 0; i < req->route->nsegs; i++) {
        if (!req->route->is_param[i])
            continue;
        req->param_name[req->nparams] = req->route->segs[i];
        req->param_value[req->nparams] = strdup(sp->segs[i]);
        if (req->param_value[req->nparams] != NULL)
            req->nparams++;
    }
}

/* The one ulfius endpoint behind every lintel route, and the 404/405 of everything else. */
static int server_dispatch(const struct _u_request *u_req, struct _u_response *u_resp,
                           void *user_data)
{
    struct lintel_req req;
    struct server_path sp = {0};
    struct timespec t0;
    char allow[128];
    int rc;

    (void)user_data;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_fetch_add(&server_in_flight, 1);
    host_req_init(&req, u_req, u_resp, server_cfg);
    server_request_id(&req);
    server_client_addr(&req);
    rc = server_path_split(u_req->url_path, &sp);
    if (rc != 0)
        goto done;
    req.route = server_route_find(u_req->http_verb, &sp, allow, sizeof(allow));
    if (req.route == NULL) {
        if (allow[0] != '\0' && strcmp(u_req->http_verb, "OPTIONS") == 0) {
            rc = server_options(&req, allow);
        } else if (allow[0] != '\0') {
            char detail[192];
            snprintf(detail, sizeof(detail), "%s is not allowed here; allowed: %s.",
                     u_req->http_verb, allow);
            u_map_put(u_resp->map_header, "Allow", allow);
            rc = host_res_record(&req.res, LINTEL_EMETHOD, NULL, detail, false);
        } else {
            rc = host_res_record(&req.res, LINTEL_ENOTFOUND, NULL,
                                 "No resource lives at this path.", false);
        }
        goto done;
    }
    server_bind_params(&req, &sp);
    rc = server_check_body(&req);
    if (rc != 0)
        goto done;
    if (!(req.route->flags & LINTEL_ROUTE_PUBLIC)) {
        rc = server_authenticate(&req);
        if (rc != 0)
            goto done;
    }
    rc = host_kit_check_query(&req);
    if (rc != 0)
        goto done;
    rc = req.route->handler(&req, &req.res, req.route->state);
    if (rc == 0 && !req.res.written) {
        log_error("route %s %s: handler returned 0 without writing a reply", req.route->method,
                  req.route->path);
        rc = LINTEL_EINTERNAL;
    }
done:
    if (rc > 0)
        rc = LINTEL_EINTERNAL;
    if (rc < 0) {
        if (req.res.err_rc != rc) {
            /* The recorded detail belongs to another code: use the generic one. */
            free(req.res.err_detail);
            req.res.err_detail = NULL;
        }
        if (http_error_status(rc) >= 500)
            log_error("request %s: %s %s failed: %s%s%s", req.request_id, u_req->http_verb,
                      u_req->url_path, http_error_strerror(rc),
                      req.res.err_detail != NULL ? ": " : "",
                      req.res.err_detail != NULL ? req.res.err_detail : "");
        if (!host_kit_render_error(&req, rc))
            server_render_error(&req, rc);
    }
    server_finish(&req, &t0);
    host_req_release(&req);
    free(sp.buf);
    atomic_fetch_sub(&server_in_flight, 1);
    return U_CALLBACK_COMPLETE;
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

static char *server_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL) {
            size_t got = fread(buf, 1, (size_t)n, f);
            buf[got] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/*
 * Loads the PEM pair the way libmicrohttpd will (gnutls), so that a bad file stops the start
 * with gnutls' reason and the file names instead of "cannot listen". NULL when usable.
 */
static char *server_tls_check(const struct config *cfg, const char *cert, const char *key)
{
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_datum_t c = {(unsigned char *)cert, (unsigned)strlen(cert)};
    gnutls_datum_t k = {(unsigned char *)key, (unsigned)strlen(key)};
    int rc;

    if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS)
        return server_fmt("server: tls: out of memory");
    rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (rc < 0)
        return server_fmt("server: tls_cert %s and tls_key %s are not a usable PEM pair: %s",
                          cfg->tls_cert, cfg->tls_key, gnutls_strerror(rc));
    return NULL;
}

static int server_cors_init(const struct config *cfg)
{
    char *copy, *tok, *save = NULL;
    size_t n = 0;

    if (cfg->cors_origins == NULL)
        return 0;
    copy = strdup(cfg->cors_origins);
    server_cors = calloc(strlen(cfg->cors_origins) / 2 + 2, sizeof(char *));
    if (copy == NULL || server_cors == NULL) {
        free(copy);
        return LINTEL_ENOMEM;
    }
    for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "*") == 0)
            server_cors_any = true;
        else
            server_cors[n++] = strdup(tok);
    }
    free(copy);
    return 0;
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
    if (server_cors_init(cfg) != 0) {
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
    /* ulfius validates port > 0; the real address (port 0 allowed) goes in SOCK_ADDR. */
    if (ulfius_init_instance(&server_inst, cfg->port > 0 ? (unsigned)cfg->port : 1, NULL, NULL) !=
        U_OK) {
        *err = server_fmt("server: cannot initialise ulfius");
        goto cleanup;
    }
    server_inst_ready = true;
    /*
     * Plugins parse multipart bodies themselves (LINTEL_ROUTE_RAW); ulfius' own multipart parser
     * drops the connection on a multipart type without a boundary and silently drops binary
     * fields, so only url-encoded forms (LINTEL_ROUTE_FORM) are left to it.
     */
    server_inst.allowed_post_processor = U_POST_PROCESS_URL_ENCODED;
    server_body_cap = cfg->max_body > cfg->avatar_max ? cfg->max_body : cfg->avatar_max;
    server_inst.max_post_body_size = server_body_cap + 1;
    server_inst.max_post_param_size = server_body_cap + 1;
    u_map_put(server_inst.default_headers, "X-Content-Type-Options", "nosniff");
    for (i = 0; i < server_nendpoints; i++) {
        if (ulfius_add_endpoint_by_val(&server_inst, server_endpoints[i].method, NULL,
                                       server_endpoints[i].path, SERVER_PRIORITY_APP,
                                       server_endpoints[i].cb,
                                       server_endpoints[i].user_data) != U_OK) {
            *err = server_fmt("server: cannot add endpoint %s", server_endpoints[i].path);
            goto cleanup;
        }
    }
    if (ulfius_add_endpoint_by_val(&server_inst, "*", NULL, "*", SERVER_PRIORITY_DISPATCH,
                                   server_dispatch, NULL) != U_OK) {
        *err = server_fmt("server: cannot add the dispatcher");
        goto cleanup;
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)server_mhd_log, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, v6 ? (void *)&addr6 : (void *)&addr4};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)config_pool_size(cfg), NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->connection_limit, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                       (intptr_t)cfg->connection_timeout, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                       (intptr_t)cfg->connection_memory, NULL};
    if (tls) {
        server_tls_key = server_read_file(cfg->tls_key);
        server_tls_cert = server_read_file(cfg->tls_cert);
        if (server_tls_key == NULL || server_tls_cert == NULL) {
            *err = server_fmt("server: cannot read tls_key or tls_cert");
            goto cleanup;
        }
        *err = server_tls_check(cfg, server_tls_cert, server_tls_key);
        if (*err != NULL)
            goto cleanup;
        flags |= MHD_USE_TLS;
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, server_tls_key};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, server_tls_cert};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (ulfius_start_framework_with_mhd_options(&server_inst, flags, ops) != U_OK) {
        *err = server_fmt("server: cannot listen on %s:%d (%s)", cfg->bind, cfg->port,
                          errno != 0 ? strerror(errno) : "libmicrohttpd refused to start");
        goto cleanup;
    }
    /*
     * ulfius hands libmicrohttpd its placeholder port, so MHD_DAEMON_INFO_BIND_PORT reports
     * that; the socket itself knows the real one (LINTEL_PORT=0 picks a free port).
     */
    port = cfg->port;
    info = MHD_get_daemon_info(server_inst.mhd_daemon, MHD_DAEMON_INFO_LISTEN_FD);
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
    struct MHD_Daemon *d = server_inst.mhd_daemon;
    MHD_socket sock = MHD_INVALID_SOCKET;
    const union MHD_DaemonInfo *info;
    int i;

    if (!server_inst_ready || d == NULL || server_inst.status != U_STATUS_RUNNING)
        return;
    /* Stop accepting, let handlers that run finish and their replies go out, then stop. */
    sock = MHD_quiesce_daemon(d);
    for (i = 0; i < 1000 && atomic_load(&server_in_flight) > 0; i++)
        usleep(10 * 1000);
    for (i = 0; i < 100; i++) {
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info == NULL || info->num_connections == 0)
            break;
        usleep(10 * 1000);
    }
    ulfius_stop_framework(&server_inst);
    if (sock != MHD_INVALID_SOCKET)
        close(sock);
}

void server_release(void)
{
    size_t i;

    if (server_inst_ready)
        ulfius_clean_instance(&server_inst);
    server_inst_ready = false;
    for (i = 0; i < server_nroutes; i++)
        server_route_free(server_routes[i]);
    free(server_routes);
    server_routes = NULL;
    server_nroutes = 0;
    for (i = 0; i < server_nendpoints; i++) {
        free(server_endpoints[i].method);
        free(server_endpoints[i].path);
    }
    free(server_endpoints);
    server_endpoints = NULL;
    server_nendpoints = 0;
    for (i = 0; server_cors != NULL && server_cors[i] != NULL; i++)
        free(server_cors[i]);
    free(server_cors);
    server_cors = NULL;
    free(server_tls_key);
    free(server_tls_cert);
    server_tls_key = server_tls_cert = NULL;
}

long long server_uptime(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - server_started.tv_sec);
}
