/*
 * Entity tags from a version the storage keeps (res_etag, ":etag" columns, a list's total row),
 * else from the bytes of the reply; If-Match compares with what GET answers now, in the write.
 */
#include "etag.h"

#include "auth.h"
#include "crypto.h"
#include "events.h"
#include "host_api.h"
#include "http_error.h"
#include "route_meta.h"
#include "router.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "\"" + the base64url text of 16 bytes + "\"" into out. */
static int etag_text(const unsigned char bytes[16], char out[ETAG_SIZE])
{
    char *text = NULL;
    int rc = crypto_b64url_encode(bytes, 16, &text);

    if (rc == 0 && strlen(text) != ETAG_SIZE - 3)
        rc = LINTEL_EINTERNAL;
    if (rc == 0)
        snprintf(out, ETAG_SIZE, "\"%s\"", text);
    free(text);
    return rc;
}

int etag_of(const void *body, size_t len, char out[ETAG_SIZE])
{
    unsigned char digest[32];
    int rc;

    rc = crypto_sha256(body, len, digest);
    /* 128 bits are plenty to tell versions of one resource apart; 22 characters of text. */
    if (rc == 0)
        rc = etag_text(digest, out);
    return rc;
}

/* FNV-1a over len bytes, continuing from h. */
static uint64_t etag_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Whether name is one of the query parameters the request's route declares. */
static bool etag_declared(const struct host_route_meta *m, const char *name)
{
    size_t i;

    for (i = 0; m != NULL && i < m->nquery; i++)
        if (strcmp(m->query[i].name, name) == 0)
            return true;
    return false;
}

int etag_of_version(const lintel_req *req, long long version, char out[ETAG_SIZE])
{
    const struct host_route_meta *m = req->route != NULL ? req->route->meta : NULL;
    unsigned char bytes[16];
    uint64_t h = 0xcbf29ce484222325ULL, v = (uint64_t)version;
    char uid[24];
    size_t i;
    int n;

    /*
     * What the version is a version of: this user's view of this path with these declared
     * query parameters (undeclared ones change nothing the route shows). Each piece ends with
     * its NUL, so two different keys never run together into the same bytes.
     */
    n = snprintf(uid, sizeof(uid), "%lld", req->user_id);
    h = etag_fnv(h, uid, (size_t)n + 1);
    h = etag_fnv(h, req->path, strlen(req->path) + 1);
    for (i = 0; i < req->nargs; i++) {
        if (!etag_declared(m, req->args[i].key))
            continue;
        h = etag_fnv(h, req->args[i].key, strlen(req->args[i].key) + 1);
        h = etag_fnv(h, req->args[i].value, strlen(req->args[i].value) + 1);
    }
    for (i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(h >> (56 - 8 * i));
        bytes[8 + i] = (unsigned char)(v >> (56 - 8 * i));
    }
    return etag_text(bytes, out);
}

int etag_res_version(lintel_req *req, lintel_res *res, long long version)
{
    char etag[ETAG_SIZE];
    int rc = etag_of_version(req, version, etag);

    if (rc == 0)
        rc = host_res_put_header(res, "ETag", etag);
    return rc != 0 ? host_res_record(res, rc, NULL, NULL, true) : 0;
}

/* Longest If-Match / If-None-Match taken, all its field lines together (about 80 tags). */
#define ETAG_LIST_MAX 2048

static const char *etag_header(const lintel_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct etag_join {
    const char *name;
    char *buf;
    size_t size, len;
    bool seen, overflow;
};

static enum MHD_Result etag_join_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct etag_join *j = cls;
    size_t n = value != NULL ? strlen(value) : 0;

    (void)kind;
    if (strcasecmp(key, j->name) != 0)
        return MHD_YES;
    if (j->len + n + 2 > j->size) {
        j->overflow = true;
        return MHD_NO;
    }
    if (j->seen)
        j->buf[j->len++] = ',';
    memcpy(j->buf + j->len, value != NULL ? value : "", n);
    j->len += n;
    j->buf[j->len] = '\0';
    j->seen = true;
    return MHD_YES;
}

/*
 * A list header as one value: several field lines of it are one comma-separated list (RFC
 * 9110 §5.3). NULL when absent; "" (malformed) when longer than ETAG_LIST_MAX.
 */
static const char *etag_list_header(const lintel_req *req, const char *name,
                                    char buf[ETAG_LIST_MAX])
{
    struct etag_join j = {name, buf, ETAG_LIST_MAX, 0, false, false};

    buf[0] = '\0';
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, etag_join_line, &j);
    if (j.overflow)
        buf[0] = '\0';
    return j.seen || j.overflow ? buf : NULL;
}

static const char *etag_skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int etag_list_match(const char *list, const char *etag, bool weak, bool *match)
{
    const char *p = etag_skip_ows(list);
    bool any = false;

    *match = false;
    if (strcmp(p, "*") == 0 || (p[0] == '*' && etag_skip_ows(p + 1)[0] == '\0')) {
        *match = true;
        return 0;
    }
    /* 1#entity-tag: [W/] DQUOTE *etagc DQUOTE, separated by commas and optional spaces. */
    while (*p != '\0') {
        const char *q;
        bool is_weak = false;
        size_t n;

        if (*p == ',') {
            p = etag_skip_ows(p + 1);
            continue;
        }
        if (p[0] == 'W' && p[1] == '/') {
            is_weak = true;
            p += 2;
        }
        if (*p != '"')
            goto malformed;
        for (q = p + 1; *q != '"'; q++)
            if (*q == '\0' || (unsigned char)*q < 0x21 || *q == 0x7f)
                goto malformed;
        n = (size_t)(q + 1 - p);
        /* strong comparison: both strong and equal; weak: equal opaque tags */
        if ((weak || !is_weak) && n == strlen(etag) && strncmp(p, etag, n) == 0)
            *match = true;
        any = true;
        p = etag_skip_ows(q + 1);
        if (*p != '\0' && *p != ',')
            goto malformed;
    }
    if (any)
        return 0;
malformed:
    *match = false;
    return LINTEL_EMALFORMED;
}

static bool etag_is_write(const lintel_req *req)
{
    return strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0 ||
           strcmp(req->method, "DELETE") == 0;
}

static bool etag_is_read(const lintel_req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/*
 * A PUT or PATCH of a JSON body: its 2xx reply gets the ETag of the new representation. Raw
 * bodies (an avatar's bytes) are left out: decoding them would hold the write lock.
 */
static bool etag_is_update(const lintel_req *req)
{
    return (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0) &&
           (req->route == NULL || (req->route->flags & LINTEL_ROUTE_RAW) == 0);
}

bool etag_wants_twin(const lintel_req *req)
{
    return etag_is_update(req) || (etag_is_write(req) && etag_header(req, "If-Match") != NULL);
}

/* The reply's own ETag header (a handler's), or NULL. */
static const char *etag_res_header(const lintel_res *res)
{
    size_t i;

    for (i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, "ETag") == 0)
            return res->headers[i].value;
    return NULL;
}

static int etag_malformed(lintel_req *req, const char *header)
{
    char detail[160];

    snprintf(detail, sizeof(detail),
             "%s must be * or a comma-separated list of quoted entity tags (\"...\" or W/\"...\").",
             header);
    host_res_record(&req->res, LINTEL_EMALFORMED, NULL, detail, false);
    return host_res_record(&req->res, LINTEL_EMALFORMED, header,
                           "must be * or a list of quoted entity tags", false);
}

/*
 * Runs the GET route twin on this request's path with a scratch reply and puts the tag of
 * what it answers into etag. Before the write (after false), when GET does not answer 200
 * (the resource is not there), its reply replaces the request's: the write would have failed
 * the same way. After it, the request's reply always stays, and etag is "" when GET fails.
 */
static int etag_current(lintel_req *req, const struct router_match *twin, char etag[ETAG_SIZE],
                        bool after)
{
    const struct route *route = req->route, *get = twin->route;
    const char *names[HOST_MAX_PARAMS], *values[HOST_MAX_PARAMS];
    const char *own;
    struct lintel_res saved = req->res;
    size_t nparams = req->nparams, i;
    int rc;

    memcpy(names, req->param_name, sizeof(names));
    memcpy(values, req->param_value, sizeof(values));
    memset(&req->res, 0, sizeof(req->res));
    req->res.req = req;
    req->route = get;
    req->nparams = 0;
    for (i = 0; i < get->nsegs && req->nparams < HOST_MAX_PARAMS; i++) {
        if (!get->is_param[i])
            continue;
        req->param_name[req->nparams] = get->segs[i];
        req->param_value[req->nparams] = twin->segs[i];
        req->nparams++;
    }
    etag[0] = '\0';
    rc = get->handler(req, &req->res, get->state);
    if (rc == 0 && req->res.status != 200 && after) {
        rc = LINTEL_ENOTFOUND;
    } else if (rc == 0 && req->res.status != 200) {
        host_res_release(&req->res);
        req->res.req = req;
        rc = host_res_record(&req->res, HTTP_ERROR_EPRECONDITION, NULL,
                             "If-Match: the resource has no current representation to compare "
                             "with.",
                             false);
    }
    if (rc == 0) {
        own = etag_res_header(&req->res);
        if (own != NULL)
            snprintf(etag, ETAG_SIZE, "%s", own);
        else
            rc = etag_of(req->res.body, req->res.len, etag);
    }
    req->route = route;
    req->nparams = nparams;
    memcpy(req->param_name, names, sizeof(names));
    memcpy(req->param_value, values, sizeof(values));
    if (rc == 0 || after) {
        host_res_release(&req->res);
        req->res = saved;
    } else {
        host_res_release(&saved);
    }
    if (rc != 0 && after)
        etag[0] = '\0';
    return after ? 0 : rc;
}

/*
 * The host's write transaction, opened at the handler's first write (req->tx_open) or after a
 * handler that wrote nothing: BEGIN IMMEDIATE, then If-Match compared with the tag the GET
 * twin gives inside it, so nothing can change between the comparison and the write. A
 * mismatch records the 412 (or the twin's 404) and is kept in req->tx_rc: the request fails
 * with it whatever the handler does with the SQL call's error.
 */
static int etag_open(lintel_req *req)
{
    const char *list;
    char etag[ETAG_SIZE], detail[224], buf[ETAG_LIST_MAX];
    bool match = false;
    int rc;

    req->tx_open = NULL;
    rc = host_api()->sql_begin(req);
    if (rc != 0)
        return rc;
    req->tx_held = true;
    list = etag_list_header(req, "If-Match", buf);
    if (list == NULL)
        return 0;
    rc = etag_current(req, req->tx_twin, etag, false);
    if (rc == 0)
        rc = etag_list_match(list, etag, false, &match);
    if (rc == 0 && !match) {
        host_res_put_header(&req->res, "ETag", etag);
        snprintf(detail, sizeof(detail),
                 "If-Match: the resource changed; its entity tag is now %s (read it again, "
                 "then retry).",
                 etag);
        rc = host_res_record(&req->res, HTTP_ERROR_EPRECONDITION, NULL, detail, false);
    }
    req->tx_rc = rc;
    return rc;
}

int etag_before(lintel_req *req, const struct router_match *twin)
{
    const char *list, *scope;
    char detail[224], buf[ETAG_LIST_MAX];
    bool match = false;

    if (etag_is_read(req)) {
        list = etag_list_header(req, "If-None-Match", buf);
        if (list != NULL && etag_list_match(list, "\"\"", true, &match) != 0)
            return etag_malformed(req, "If-None-Match");
        return 0;
    }
    if (!etag_wants_twin(req))
        return 0;
    list = etag_list_header(req, "If-Match", buf);
    scope = json_string_value(json_object_get(req->j_claims, "scope"));
    if (list == NULL) {
        /* A plain PUT/PATCH: the transaction only keeps the reply's tag that of its write. */
        if (twin->route == NULL || twin->route->handler == NULL ||
            (twin->route->scope != NULL && !auth_scope_has(scope, twin->route->scope)))
            return 0;
        goto hold;
    }
    if (etag_list_match(list, "\"\"", false, &match) != 0)
        return etag_malformed(req, "If-Match");
    if (twin->route == NULL || twin->route->handler == NULL)
        return host_res_record(&req->res, HTTP_ERROR_EPRECONDITION, NULL,
                               "If-Match: this resource has no GET representation to compare "
                               "with.",
                               false);
    /* Comparing reads the resource: the token must be allowed to read it. */
    if (twin->route->scope != NULL && !auth_scope_has(scope, twin->route->scope)) {
        snprintf(detail, sizeof(detail), "If-Match needs the scope %s, to read the resource.",
                 twin->route->scope);
        return host_res_record(&req->res, LINTEL_EFORBIDDEN, NULL, detail, false);
    }
hold:
    /*
     * The transaction opens at the handler's first write (etag_open through req->tx_open), not
     * here: what the handler does before it (a password hash) then holds no write lock.
     */
    events_hold(); /* the handler's events go out with the commit, never before */
    req->tx_twin = twin;
    req->tx_open = etag_open;
    return 0;
}

int etag_after(lintel_req *req, const struct router_match *twin, int rc)
{
    char etag[ETAG_SIZE] = "";

    /* A handler that wrote nothing: If-Match is still checked (and the reply's tag read) */
    if (req->tx_open != NULL && rc == 0)
        rc = etag_open(req);
    req->tx_open = NULL;
    if (req->tx_rc != 0)
        rc = req->tx_rc;
    if (!req->tx_held) {
        events_release(false); /* no-op: a rollback inside the handler released already */
        return rc;
    }
    /* Read inside the write's transaction: the tag of this write, not of a later one. */
    if (rc == 0 && etag_is_update(req) && req->res.status >= 200 && req->res.status <= 299 &&
        etag_res_header(&req->res) == NULL && twin->route != NULL && twin->route->handler != NULL)
        etag_current(req, twin, etag, true);
    req->tx_held = false;
    if (rc == 0)
        rc = host_api()->sql_commit(req);
    else
        host_api()->sql_rollback(req);
    events_release(rc == 0);
    if (rc == 0 && etag[0] != '\0')
        rc = host_res_put_header(&req->res, "ETag", etag);
    return rc;
}

bool etag_not_modified(const lintel_req *req, const char *etag)
{
    const char *list;
    char buf[ETAG_LIST_MAX];
    bool match = false;

    if (!etag_is_read(req))
        return false;
    list = etag_list_header(req, "If-None-Match", buf);
    return list != NULL && etag_list_match(list, etag, true, &match) == 0 && match;
}

void etag_reply(lintel_req *req)
{
    struct lintel_res *res = &req->res;
    const char *list, *own;
    char etag[ETAG_SIZE], buf[ETAG_LIST_MAX];
    bool match = false;

    if (!etag_is_read(req) || res->status != 200 || res->len == 0 || res->body == NULL)
        return;
    own = etag_res_header(res);
    if (own != NULL)
        snprintf(etag, sizeof(etag), "%s", own);
    else if (etag_of(res->body, res->len, etag) != 0 || host_res_put_header(res, "ETag", etag) != 0)
        return;
    list = etag_list_header(req, "If-None-Match", buf);
    if (list == NULL || etag_list_match(list, etag, true, &match) != 0 || !match)
        return;
    /* 304: the same headers, no body (RFC 9110 §15.4.5). */
    free(res->body);
    res->body = NULL;
    res->len = 0;
    res->status = 304;
}
