/*
 * libFuzzer harness for request routing and query parsing: a request target (path?query) is
 * matched by the router against the API's route table, the query is split and decoded the way
 * app/server.c does it (MHD_http_unescape, then NUL and UTF-8 checks), and the host's parsers
 * of client values run on the result: req_page (limit, offset, skip), req_id ({id}),
 * req_query; any error is rendered as the client would get it.
 *
 * Input: byte 0 picks the method (and bit 3 asks for an upgrade endpoint), the rest is the
 * request target as it follows the method on the request line.
 */
#include "host_api.h"
#include "http_error.h"
#include "router.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_ARGS 32 /* app/server.c SERVER_MAX_ARGS */

static struct router *fuzz_rt;

static int fuzz_handler(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)res;
    (void)state;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* The routes of shared/api.md and the plugins, literal and {param} ones. */
    static const char *const routes[][2] = {
        {"DELETE", "/api/numbers/{id}"},
        {"DELETE", "/api/tasks/{id}"},
        {"DELETE", "/api/users/me"},
        {"DELETE", "/api/users/me/avatar"},
        {"GET", "/api/auth/jwks"},
        {"GET", "/api/datapoints"},
        {"GET", "/api/datapoints/stats"},
        {"GET", "/api/numbers"},
        {"GET", "/api/numbers/stats"},
        {"GET", "/api/numbers/{id}"},
        {"GET", "/api/tasks"},
        {"GET", "/api/tasks/{id}"},
        {"GET", "/api/users"},
        {"GET", "/api/users/me"},
        {"GET", "/api/users/{id}/avatar"},
        {"GET", "/api/users/{id}/sessions"},
        {"GET", "/docs"},
        {"GET", "/health"},
        {"GET", "/openapi.json"},
        {"PATCH", "/api/tasks/{id}"},
        {"PATCH", "/api/users/me"},
        {"PATCH", "/api/users/{id}"},
        {"POST", "/api/auth/login"},
        {"POST", "/api/auth/logout"},
        {"POST", "/api/auth/refresh"},
        {"POST", "/api/auth/register"},
        {"POST", "/api/datapoints"},
        {"POST", "/api/datapoints/populate"},
        {"POST", "/api/numbers"},
        {"POST", "/api/tasks"},
        {"PUT", "/api/numbers/{id}"},
        {"PUT", "/api/tasks/{id}"},
        {"PUT", "/api/users/me/avatar"},
        {"GET", "/api/{a}/{b}/{c}/{d}/{e}"},
    };
    static const int upgrade_marker = 1;
    char *err = NULL;
    size_t i;

    (void)argc;
    (void)argv;
    fuzz_rt = router_new();
    if (fuzz_rt == NULL)
        abort();
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        struct route_def def = {.method = routes[i][0],
                                .path = routes[i][1],
                                .handler = fuzz_handler,
                                .owner_name = "fuzz"};
        if (router_add(fuzz_rt, &def, &err) != 0) {
            fprintf(stderr, "fuzz_route: %s\n", err != NULL ? err : routes[i][1]);
            abort();
        }
    }
    {
        struct route_def ws = {
            .method = "GET", .path = "/api/ws", .owner_name = "fuzz", .upgrade = &upgrade_marker};
        if (router_add(fuzz_rt, &ws, &err) != 0)
            abort();
    }
    return 0;
}

/* Splits and decodes the query as app/server.c does; 0, or -1 for a request it refuses. */
static int fuzz_query(const char *query, struct lintel_req *req)
{
    char *copy = strdup(query), *save = NULL, *pair;
    int rc = 0;

    if (copy == NULL)
        return -1;
    req->args = calloc(FUZZ_MAX_ARGS, sizeof(*req->args));
    if (req->args == NULL) {
        free(copy);
        return -1;
    }
    for (pair = strtok_r(copy, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        struct host_arg *a;
        size_t klen, vlen;
        if (req->nargs == FUZZ_MAX_ARGS) {
            rc = -1;
            break;
        }
        a = &req->args[req->nargs];
        a->key = eq != NULL ? strndup(pair, (size_t)(eq - pair)) : strdup(pair);
        a->value = strdup(eq != NULL ? eq + 1 : "");
        if (a->key == NULL || a->value == NULL) {
            free(a->key);
            free(a->value);
            rc = -1;
            break;
        }
        req->nargs++;
        klen = MHD_http_unescape(a->key);
        vlen = MHD_http_unescape(a->value);
        if (strlen(a->key) != klen || strlen(a->value) != vlen || !router_utf8_ok(a->key, klen) ||
            !router_utf8_ok(a->value, vlen)) {
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

static void fuzz_render(struct lintel_req *req, int rc)
{
    const char *ct = NULL;
    json_t *j_body;
    char *text;

    if (rc == 0)
        return;
    j_body = http_error_body(http_error_status(rc), req->res.err_detail, req->res.j_errors,
                             req->path, NULL, (rc & 1) != 0, &ct);
    if (j_body == NULL)
        abort();
    text = json_dumps(j_body, JSON_COMPACT);
    if (text == NULL)
        abort();
    free(text);
    json_decref(j_body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                          "DELETE", "HEAD", "OPTIONS", "BREW"};
    struct router_match m;
    struct lintel_req req;
    const struct lintel_api *api = host_api();
    char *target, *query;
    long long limit, offset, id;
    size_t i;
    int rc;

    if (size == 0)
        return 0;
    target = strndup((const char *)data + 1, size - 1);
    if (target == NULL)
        return 0;
    query = strchr(target, '?');
    if (query != NULL)
        *query++ = '\0';
    memset(&m, 0, sizeof(m));
    if (router_match(fuzz_rt, methods[data[0] & 7], target, (data[0] & 8) != 0, &m) != 0) {
        free(target);
        return 0;
    }
    if (m.status == ROUTER_FOUND) {
        const struct route *r = m.route;
        if (r == NULL || m.nsegs != r->nsegs)
            abort();
        memset(&req, 0, sizeof(req));
        req.res.req = &req;
        req.method = methods[data[0] & 7];
        req.path = target;
        req.route = r;
        for (i = 0; i < r->nsegs && req.nparams < HOST_MAX_PARAMS; i++) {
            const char *v;
            if (!r->is_param[i])
                continue;
            v = router_match_param(&m, r->segs[i]);
            if (v == NULL || !router_utf8_ok(v, strlen(v)))
                abort(); /* a matched {param} is always there, decoded, valid text */
            req.param_name[req.nparams] = r->segs[i];
            req.param_value[req.nparams++] = v;
        }
        if (query == NULL || fuzz_query(query, &req) == 0) {
            rc = api->req_page(&req, &limit, &offset);
            if (rc == 0 && (limit < 0 || limit > 1000 || offset < 0))
                abort();
            fuzz_render(&req, rc);
            host_req_release(&req);
            req.res.req = &req;
            req.route = r;
            req.path = target;
            for (i = 0; i < r->nsegs && req.nparams < HOST_MAX_PARAMS; i++) {
                if (!r->is_param[i])
                    continue;
                req.param_name[req.nparams] = r->segs[i];
                req.param_value[req.nparams++] = router_match_param(&m, r->segs[i]);
            }
            if (router_match_param(&m, "id") != NULL) {
                rc = api->req_id(&req, "id", "Thing", &id);
                if ((rc == 0) != (id > 0))
                    abort();
                fuzz_render(&req, rc);
            }
        }
        host_req_release(&req);
    } else if (m.status == ROUTER_METHOD && m.allow[0] == '\0') {
        abort(); /* a 405 names the methods the path has */
    }
    router_match_clear(&m);
    free(target);
    return 0;
}
