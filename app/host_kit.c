/*
 * The plugin kit's host side: route tables with their metadata and query checks, validated
 * settings, SQL with inline json_pack parameters (the lifecycle itself is plugin_loader.c's).
 */
#include "host_kit.h"

#include "config.h"
#include "db.h"
#include "etag.h"
#include "events.h"
#include "host_api.h"
#include "host_list.h"
#include "http_error.h"
#include "json_out.h"
#include "lintel_ext.h"
#include "log.h"
#include "plugin_loader.h"
#include "router.h"
#include "server.h"
#include "va_forward.h"
#include "ws.h"

#include <errno.h>
#include <lintel/schemas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- route metadata ---- */

void host_kit_meta_free(struct host_route_meta *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nquery; i++) {
        free((char *)m->query[i].name);
        free((char *)m->query[i].values);
        free((char *)m->query[i].description);
    }
    for (i = 0; i < m->nreplies; i++) {
        free((char *)m->replies[i].description);
        free((char *)m->replies[i].schema);
        free((char *)m->replies[i].example);
    }
    free(m->query);
    free(m->replies);
    free(m->summary);
    free(m->body_schema);
    free(m->example);
    free(m);
}

void host_kit_meta_release(void *meta)
{
    host_kit_meta_free(meta);
}

/* strdup that keeps NULL; false only when the copy failed. */
static bool host_kit_dup(const char *s, const char **out)
{
    *out = s != NULL ? strdup(s) : NULL;
    return s == NULL || *out != NULL;
}

/* JSON text that must parse (schemas, examples): NULL or a message naming what. */
static bool host_kit_json_ok(const char *text)
{
    json_t *j;

    if (text == NULL)
        return true;
    j = json_loads(text, JSON_DECODE_ANY, NULL);
    json_decref(j);
    return j != NULL;
}

static const char *const host_kit_param_types[] = {NULL, "string", "integer", "number", "boolean"};

/* struct lintel_reply as plugins of ABI 2.0 to 2.7 lay it out: no example. */
struct host_kit_reply_2_7 {
    unsigned status;
    const char *description;
    const char *schema;
};

/* Entry i of a reply list laid out for ABI minor (the example NULL before 2.8), into out. */
static void host_kit_reply_at(const struct lintel_reply *list, size_t i, unsigned minor,
                              struct lintel_reply *out)
{
    const struct host_kit_reply_2_7 *old = (const struct host_kit_reply_2_7 *)(const void *)list;

    if (minor >= 8) {
        *out = list[i];
        return;
    }
    *out = (struct lintel_reply){old[i].status, old[i].description, old[i].schema, NULL};
}

struct host_route_meta *host_kit_meta_new(const struct lintel_route *r, unsigned minor,
                                          const char **why)
{
    struct lintel_reply y;
    struct host_route_meta *m = calloc(1, sizeof(*m));
    size_t n, i;

    *why = "out of memory";
    if (m == NULL)
        return NULL;
    if (!host_kit_dup(r->summary, (const char **)&m->summary) ||
        !host_kit_dup(r->body_schema, (const char **)&m->body_schema) ||
        !host_kit_dup(r->example, (const char **)&m->example))
        goto fail;
    for (n = 0; r->query != NULL && r->query[n].name != NULL; n++)
        ;
    if (n > 0 && (m->query = calloc(n, sizeof(*m->query))) == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        const struct lintel_param *q = &r->query[i];
        if (q->type < LINTEL_PARAM_STRING || q->type > LINTEL_PARAM_BOOLEAN) {
            *why = "a query parameter has an unknown type";
            goto fail;
        }
        m->query[i] = *q;
        m->query[i].name = m->query[i].values = m->query[i].description = NULL;
        m->nquery++;
        if (!host_kit_dup(q->name, &m->query[i].name) ||
            !host_kit_dup(q->values, &m->query[i].values) ||
            !host_kit_dup(q->description, &m->query[i].description))
            goto fail;
    }
    for (n = 0; r->replies != NULL; n++) {
        host_kit_reply_at(r->replies, n, minor, &y);
        if (y.status == 0)
            break;
    }
    if (n > 0 && (m->replies = calloc(n, sizeof(*m->replies))) == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        host_kit_reply_at(r->replies, i, minor, &y);
        if ((y.status > 5 && y.status < 100) || y.status > 599 || !host_kit_json_ok(y.schema) ||
            !host_kit_json_ok(y.example)) {
            *why = "a reply has a bad status, or a schema or example that is not JSON";
            goto fail;
        }
        /* status classes came with ABI 2.8: an older host refuses them, so this one does too */
        if (y.status <= 5 && minor < 8) {
            *why = "a reply names a status class (1..5), which needs ABI 2.8";
            goto fail;
        }
        m->nreplies++;
        m->replies[i].status = y.status;
        if (!host_kit_dup(y.description, &m->replies[i].description) ||
            !host_kit_dup(y.schema, &m->replies[i].schema) ||
            !host_kit_dup(y.example, &m->replies[i].example))
            goto fail;
    }
    if (!host_kit_json_ok(r->body_schema) || !host_kit_json_ok(r->example)) {
        *why = "the body schema or the example is not JSON";
        goto fail;
    }
    *why = NULL;
    return m;
fail:
    host_kit_meta_free(m);
    return NULL;
}

/* ---- registrations from a route table (the lifecycle check is plugin_loader's) ---- */

int host_kit_routes_add(lintel_plugin *p, const struct lintel_route *routes, size_t n, void *state)
{
    size_t i;
    int rc = 0;

    if (!plugin_loader_lifecycle_ok(p, "routes_add"))
        return LINTEL_EPARAM;
    if (routes == NULL && n > 0) {
        plugin_loader_fail(p, "plugin %s: routes_add without a table", p->name);
        return LINTEL_EPARAM;
    }
    for (i = 0; i < n && rc == 0; i++) {
        const struct lintel_route *r = &routes[i];
        struct host_route_meta *meta;
        const char *why = NULL;

        if (r->scope != NULL && !lintel_ext_scope_known(r->scope)) {
            plugin_loader_fail(p,
                               "plugin %s: route %s %s needs scope \"%s\", which nobody "
                               "declared (scope_add it first)",
                               p->name, r->method != NULL ? r->method : "(null)",
                               r->path != NULL ? r->path : "(null)", r->scope);
            return LINTEL_EPARAM;
        }
        meta = host_kit_meta_new(r, p->minor, &why);
        if (meta == NULL) {
            plugin_loader_fail(p, "plugin %s: route %s %s: %s", p->name,
                               r->method != NULL ? r->method : "(null)",
                               r->path != NULL ? r->path : "(null)", why);
            return LINTEL_EPARAM;
        }
        rc = plugin_loader_route_add(p, r->method, r->path, r->flags, r->scope, r->handler, state,
                                     meta, host_kit_meta_release);
    }
    return rc;
}

int host_kit_ws_add(lintel_plugin *p, const char *path, unsigned flags,
                    const struct lintel_ws_event *events, size_t n)
{
    char *err = NULL;
    int rc;

    if (!plugin_loader_lifecycle_ok(p, "ws_add"))
        return LINTEL_EPARAM;
    if (path == NULL || path[0] != '/' || (events == NULL && n > 0) ||
        (!p->profile && strncmp(path, "/api/", 5) != 0)) {
        plugin_loader_fail(p,
                           "plugin %s: ws_add %s: a path under /api/ (or a profile's) and an "
                           "event table are needed",
                           p->name, path != NULL ? path : "(null)");
        return LINTEL_EPARAM;
    }
    rc = ws_endpoint_add(path, p->name, flags, events, n, &err);
    if (rc != 0)
        plugin_loader_fail(p, "plugin %s: ws_add %s: %s", p->name, path,
                           err != NULL ? err : "refused");
    free(err);
    return rc;
}

/* ---- settings: the host's validated values, never a plugin's own default ---- */

static bool host_kit_setting(const struct config *c, const char *name, long long *iv,
                             const char **sv)
{
    static const char *const strs[] = {"data_dir",     "upstream_url",   "envelope",
                                       "jwt_issuer",   "admin_username", "smtp_url",
                                       "registration", "public_url"};
    const struct {
        const char *name;
        long long v;
    } ints[] = {
        {"password_min", c->password_min},
        {"password_cost", c->password_cost},
        {"login_max_user", c->login_max_user},
        {"login_max_ip", c->login_max_ip},
        {"access_ttl", c->access_ttl},
        {"refresh_ttl", c->refresh_ttl},
        {"threads", config_pool_size(c)},
        {"hash_concurrency", config_hash_slots(c)},
        {"max_body", (long long)c->max_body},
        {"trust_proxy", c->trust_proxy},
        {"busy_timeout", c->busy_timeout},
        {"upstream_timeout", c->upstream_timeout},
        {"upstream_max_bytes", (long long)c->upstream_max_bytes},
        {"upstream_redirects", c->upstream_redirects},
        {"avatar_max", (long long)c->avatar_max},
        {"reset_ttl", c->reset_ttl},
        {"verify_ttl", c->verify_ttl},
        {"require_verified_email", c->require_verified_email},
        {"register_max_ip", c->register_max_ip},
        {"forgot_max_email", c->forgot_max_email},
        {"forgot_max_ip", c->forgot_max_ip},
    };
    const char *const svals[] = {c->data_dir,     c->upstream_url,   c->envelope,
                                 c->jwt_issuer,   c->admin_username, c->smtp_url,
                                 c->registration, c->public_url};
    size_t i;

    for (i = 0; iv != NULL && i < sizeof(ints) / sizeof(ints[0]); i++)
        if (strcmp(name, ints[i].name) == 0) {
            *iv = ints[i].v;
            return true;
        }
    for (i = 0; sv != NULL && i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(name, strs[i]) == 0) {
            *sv = svals[i];
            return true;
        }
    return false;
}

/* A setting by name into iv or sv (the other NULL); an unknown one fails the plugin by name. */
static int host_kit_setting_get(lintel_plugin *p, const char *name, const char *kind, long long *iv,
                                const char **sv)
{
    if (p == NULL || name == NULL || !host_kit_setting(config_get(), name, iv, sv)) {
        if (p != NULL)
            plugin_loader_fail(p, "plugin %s: the server has no %s setting \"%s\"", p->name, kind,
                               name != NULL ? name : "(null)");
        return LINTEL_EPARAM;
    }
    return 0;
}

int host_kit_setting_int(lintel_plugin *p, const char *name, long long *out)
{
    *out = 0;
    return host_kit_setting_get(p, name, "integer", out, NULL);
}

int host_kit_setting_str(lintel_plugin *p, const char *name, const char **out)
{
    *out = NULL;
    return host_kit_setting_get(p, name, "text", NULL, out);
}

/* ---- SQL with inline parameters ---- */

/* The parameters of fmt as a JSON array (new reference), or NULL after logging why. */
static json_t *host_kit_params(struct lintel_req *req, const char *fmt, va_list ap)
{
    json_error_t why;
    json_t *j = db_params_vpack(fmt, ap, &why);

    if (j == NULL)
        log_error("request %s: SQL parameters \"%s\": %s", req->request_id, fmt, why.text);
    return j;
}

/*
 * Opens a variadic kit function: j_params (new reference) from the arguments after fmt, or the
 * function returns the recorded 500 (host_kit_params has logged why).
 */
#define HOST_KIT_PARAMS_OR_RETURN(j_params, req, res, fmt)                                         \
    do {                                                                                           \
        va_list ap_;                                                                               \
                                                                                                   \
        va_start(ap_, fmt);                                                                        \
        (j_params) = host_kit_params((req), (fmt), ap_);                                           \
        va_end(ap_);                                                                               \
        if ((j_params) == NULL)                                                                    \
            return host_res_record((res), LINTEL_EINTERNAL, NULL, NULL, true);                     \
    } while (0)

/* The public sql_*f: each starts its own va_list and hands it to host_sql_vrun. */
VA_FORWARD(int host_kit_sql_queryf(lintel_req *req, json_t **out, const char *sql, const char *fmt,
                                   ...),
           fmt, *out = NULL, host_sql_vrun(req, DB_QUERY, out, sql, fmt, ap))
VA_FORWARD(int host_kit_sql_rowf(lintel_req *req, json_t **out, const char *sql, const char *fmt,
                                 ...),
           fmt, *out = NULL, host_sql_vrun(req, DB_ROW, out, sql, fmt, ap))
VA_FORWARD(int host_kit_sql_execf(lintel_req *req, long long *out, const char *sql, const char *fmt,
                                  ...),
           fmt, (void)0, host_sql_vrun(req, DB_EXEC, out, sql, fmt, ap))

int host_kit_sql_exec_blob(lintel_req *req, long long *changes, const void *data, size_t len,
                           const char *sql, const char *fmt, ...)
{
    json_t *j_params;
    int rc;

    HOST_KIT_PARAMS_OR_RETURN(j_params, req, &req->res, fmt);
    rc = host_sql_exec_blob(req, sql, j_params, data, len, changes);
    json_decref(j_params);
    return rc;
}

int host_kit_sql_blob_rowf(lintel_req *req, size_t max, void **data, size_t *len, json_t **j_row,
                           const char *sql, const char *fmt, ...)
{
    json_t *j_params;
    int rc;

    *data = NULL;
    *len = 0;
    if (j_row != NULL)
        *j_row = NULL;
    HOST_KIT_PARAMS_OR_RETURN(j_params, req, &req->res, fmt);
    rc = host_sql_row_blob(req, sql, j_params, max, data, len, j_row);
    json_decref(j_params);
    return rc;
}

int host_kit_res_rowf(lintel_req *req, lintel_res *res, unsigned status, const char *what,
                      const char *sql, const char *fmt, ...)
{
    struct json_out_buf b = {0};
    struct db_text text = {.b = &b, .object = true};
    json_t *j_params;
    int rc;

    HOST_KIT_PARAMS_OR_RETURN(j_params, req, res, fmt);
    /* the row is written as it is read: no jansson object between SQLite and the reply */
    rc = host_res_text_open(res, &b);
    if (rc == 0)
        rc = host_sql_text(req, sql, j_params, &text);
    if (rc == 0 && text.rows == 0)
        rc = what != NULL ? host_api()->res_error(res, LINTEL_ENOTFOUND, NULL, "%s not found", what)
                          : LINTEL_ENOTFOUND;
    if (rc == 0)
        rc = host_res_text_close(res, status, &b);
    if (rc == 0 && text.has_etag)
        rc = etag_res_version(req, res, text.etag);
    free(b.data);
    json_decref(j_params);
    return rc;
}

/*
 * One paged list: total from total_sql (or a count over sql), then the page, then the envelope.
 * With list (a keyset list, api->sql_page) the page is sorted and continued as the request
 * asks, one row more is read to know whether another page follows, and the envelope gets next.
 */
static int host_kit_listv(lintel_req *req, lintel_res *res, const char *sql, const char *total_sql,
                          const struct lintel_list *list, const char *fmt, va_list ap)
{
    const struct lintel_api *api = host_api();
    struct host_list_page pg = {0};
    struct json_out_buf b = {0};
    json_t *j_params, *j_total = NULL, *j_last = NULL;
    struct db_text text = {.b = &b, .j_last = &j_last};
    char *count_sql = NULL, *page_sql = NULL, *next = NULL, etag[ETAG_SIZE];
    long long limit, offset;
    size_t n;
    int rc;

    j_params = host_kit_params(req, fmt, ap);
    if (j_params == NULL)
        return host_res_record(res, LINTEL_EINTERNAL, NULL, NULL, true);
    n = json_array_size(j_params);
    rc = api->req_page(req, &limit, &offset);
    if (rc == 0 && list != NULL)
        rc = host_list_begin(req, list, &pg);
    if (rc != 0)
        goto cleanup;
    if (total_sql == NULL && asprintf(&count_sql, "SELECT count(*) AS total FROM (%s)", sql) < 0)
        count_sql = NULL;
    if (list != NULL)
        page_sql = NULL; /* built below, after the total: it appends the cursor's parameters */
    else if (asprintf(&page_sql, "%s LIMIT ?%zu OFFSET ?%zu", sql, n + 1, n + 2) < 0)
        page_sql = NULL;
    if ((total_sql == NULL && count_sql == NULL) || (list == NULL && page_sql == NULL)) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = api->sql_row(req, total_sql != NULL ? total_sql : count_sql, j_params, &j_total);
    /*
     * A "version" beside the total (the list's change counter) is its ETag, with the query in
     * it: a client that has this page already gets its 304 without the page being read.
     */
    if (rc == 0 && json_is_integer(json_object_get(j_total, "version"))) {
        rc = etag_of_version(req, json_integer_value(json_object_get(j_total, "version")), etag);
        if (rc == 0)
            rc = host_res_put_header(res, "ETag", etag);
        if (rc == 0 && etag_not_modified(req, etag)) {
            rc = api->res_empty(res, 304);
            goto cleanup;
        }
    }
    if (rc == 0 && list != NULL && (page_sql = host_list_sql(list, &pg, j_params, &n)) == NULL)
        rc = LINTEL_ENOMEM;
    /* a keyset page reads one row more: whether it is there says whether a next page is */
    if (rc == 0 &&
        (json_array_append_new(j_params, json_integer((json_int_t)limit + (list != NULL))) != 0 ||
         json_array_append_new(j_params, json_integer((json_int_t)offset)) != 0))
        rc = LINTEL_ENOMEM;
    /*
     * The page is written as it is read (db_query_text), with no jansson tree: a keyset page
     * writes limit rows, reads one more, and keeps the last written one for its cursor.
     */
    text.capped = list != NULL;
    text.max_rows = (size_t)limit;
    if (rc == 0)
        rc = host_res_text_open(res, &b);
    if (rc == 0 && json_out_put(&b, "{\"items\":", 9) != 0)
        rc = LINTEL_ENOMEM;
    if (rc == 0)
        rc = host_sql_text(req, page_sql, j_params, &text);
    if (rc == 0 && list != NULL)
        rc = host_list_next(req, &pg, text.rows, j_last, limit, &next);
    if (rc == 0)
        rc = host_res_page_tail(&b, json_integer_value(json_object_get(j_total, "total")), limit,
                                offset, list != NULL, next);
    if (rc == 0)
        rc = host_res_text_close(res, 200, &b);
cleanup:
    host_list_end(&pg);
    free(b.data);
    free(next);
    free(count_sql);
    free(page_sql);
    json_decref(j_last);
    json_decref(j_total);
    json_decref(j_params);
    return rc;
}

VA_FORWARD(int host_kit_sql_list(lintel_req *req, lintel_res *res, const char *sql, const char *fmt,
                                 ...),
           fmt, (void)0, host_kit_listv(req, res, sql, NULL, NULL, fmt, ap))
VA_FORWARD(int host_kit_sql_list_total(lintel_req *req, lintel_res *res, const char *sql,
                                       const char *total_sql, const char *fmt, ...),
           fmt, (void)0, host_kit_listv(req, res, sql, total_sql, NULL, fmt, ap))

int host_kit_sql_page(lintel_req *req, lintel_res *res, const struct lintel_list *list,
                      const char *fmt, ...)
{
    va_list ap;
    int rc;

    if (list == NULL || list->sql == NULL || list->sorts == NULL || list->sorts[0].name == NULL)
        return host_res_record(res, LINTEL_EINTERNAL, NULL, NULL, true);
    va_start(ap, fmt);
    rc = host_kit_listv(req, res, list->sql, list->total_sql, list, fmt, ap);
    va_end(ap);
    return rc;
}

int host_kit_event_user(lintel_req *req, const char *name, const char *key, const json_t *j_data)
{
    json_t *j_event;
    int rc;

    if (name == NULL || req->user_id <= 0)
        return LINTEL_EPARAM;
    j_event = json_pack("{ss}", "event", name);
    if (j_event == NULL)
        return LINTEL_ENOMEM;
    if (key != NULL && j_data != NULL &&
        json_object_set_new(j_event, key, json_deep_copy(j_data)) != 0) {
        json_decref(j_event);
        return LINTEL_ENOMEM;
    }
    /* the publishing route's scope guards an event lintel does not know (events_scope) */
    rc = events_publish(req->user_id, j_event, req->route != NULL ? req->route->scope : NULL);
    json_decref(j_event);
    return rc;
}

/* ---- declared query parameters ---- */

/* "must be one of: a, b, c" from "a b c", worded as lintel_rule_enum() words it. */
static void host_kit_enum_message(const char *values, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "must be one of: ");
    bool gap = false;

    for (; *values != '\0' && n + 3 < size; values++) {
        if (*values == ' ') {
            gap = true;
            continue;
        }
        if (gap && n > 16) {
            buf[n++] = ',';
            buf[n++] = ' ';
        }
        gap = false;
        buf[n++] = *values;
    }
    buf[n] = '\0';
}

/* The message for a value of q that breaks its declaration ("must be an integer between 0 and
 * 1000"). */
static void host_kit_param_message(const struct lintel_param *q, char *buf, size_t size)
{
    const char *what = q->type == LINTEL_PARAM_INTEGER  ? "an integer"
                       : q->type == LINTEL_PARAM_NUMBER ? "a number"
                                                        : "a string";
    bool lo = (q->flags & LINTEL_PARAM_MIN) != 0, hi = (q->flags & LINTEL_PARAM_MAX) != 0;

    if (q->type == LINTEL_PARAM_BOOLEAN)
        snprintf(buf, size, "must be true or false");
    else if (q->type == LINTEL_PARAM_STRING && q->values != NULL)
        host_kit_enum_message(q->values, buf, size);
    else if (q->type == LINTEL_PARAM_STRING && lo && hi)
        snprintf(buf, size, "must be %g to %g characters long", q->min, q->max);
    else if (q->type == LINTEL_PARAM_STRING && hi)
        snprintf(buf, size, "must be at most %g characters long", q->max);
    else if (q->type == LINTEL_PARAM_STRING && lo)
        snprintf(buf, size, "must be at least %g characters long", q->min);
    else if (lo && hi)
        snprintf(buf, size, "must be %s between %g and %g", what, q->min, q->max);
    else if (lo && q->min == 0 && q->type == LINTEL_PARAM_INTEGER)
        snprintf(buf, size, "must be a non-negative integer");
    else if (lo)
        snprintf(buf, size, "must be %s of at least %g", what, q->min);
    else if (hi)
        snprintf(buf, size, "must be %s of at most %g", what, q->max);
    else
        snprintf(buf, size, "must be %s", what);
}

/* The number of UTF-8 characters of s (continuation bytes are not counted). */
static size_t host_kit_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Whether text is one of the space-separated words of list. */
static bool host_kit_word_in(const char *list, const char *text)
{
    size_t n = strlen(text);
    const char *p = list;

    while (n > 0 && (p = strstr(p, text)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
        p += n;
    }
    return false;
}

static bool host_kit_param_ok(const struct lintel_param *q, const char *text)
{
    bool lo = (q->flags & LINTEL_PARAM_MIN) != 0, hi = (q->flags & LINTEL_PARAM_MAX) != 0;
    char *end = NULL;
    double v;

    switch (q->type) {
    case LINTEL_PARAM_BOOLEAN:
        return strcmp(text, "true") == 0 || strcmp(text, "false") == 0;
    case LINTEL_PARAM_STRING:
        if (q->values != NULL)
            return host_kit_word_in(q->values, text);
        v = (double)host_kit_chars(text);
        break;
    case LINTEL_PARAM_INTEGER: {
        const char *d = text[0] == '-' ? text + 1 : text;
        long long iv;
        if (*d < '0' || *d > '9')
            return false;
        errno = 0;
        iv = strtoll(text, &end, 10);
        if (errno != 0 || *end != '\0')
            return false;
        v = (double)iv;
        break;
    }
    default: /* LINTEL_PARAM_NUMBER */
        if (text[0] == '\0' || strchr("+-.0123456789", text[0]) == NULL)
            return false;
        errno = 0;
        v = strtod(text, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v))
            return false;
        break;
    }
    return !(lo && v < q->min) && !(hi && v > q->max);
}

int host_kit_check_query(struct lintel_req *req)
{
    const struct host_route_meta *m = req->route != NULL ? req->route->meta : NULL;
    const struct lintel_api *api = host_api();
    char message[192];
    size_t i;
    int rc = 0;

    for (i = 0; m != NULL && i < m->nquery; i++) {
        const struct lintel_param *q = &m->query[i];
        const char *text = api->req_query(req, q->name);

        if (text == NULL) {
            if (q->flags & LINTEL_PARAM_REQUIRED)
                rc = api->res_invalid(&req->res, q->name, "is required");
            continue;
        }
        if (!host_kit_param_ok(q, text)) {
            host_kit_param_message(q, message, sizeof(message));
            rc = api->res_invalid(&req->res, q->name, "%s", message);
        }
    }
    return rc;
}

bool host_kit_render_error(struct lintel_req *req, int rc)
{
    const struct lintel_plugin *p = req->route != NULL ? req->route->owner : NULL;
    const char *detail;
    int r;

    if (p == NULL || p->render == NULL)
        return false;
    detail = req->res.err_detail != NULL ? req->res.err_detail : host_api()->strerror(rc);
    req->res.written = false;
    r = p->render(req, &req->res, http_error_status(rc), rc, detail, req->res.j_errors,
                  p->render_state);
    if (r != 0 || !req->res.written) {
        log_warn("plugin %s: error renderer did not write a reply (%d); the host renders it",
                 p->name, r);
        return false;
    }
    return true;
}

/* ---- OpenAPI ---- */

static json_t *host_kit_json(const char *text)
{
    return text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

/*
 * The OpenAPI content object of a body of schema text: {media: {schema}}. A lone
 * "contentMediaType" is a body of that type without a schema (bytes); beside other members it
 * names the media type of a JSON body ("application/problem+json"); else json_media.
 */
static json_t *host_kit_content(const char *text, const char *json_media, bool jsend)
{
    json_t *j_schema = host_kit_json(text), *j_media, *j_content;
    const char *media;

    if (j_schema == NULL)
        return NULL;
    j_media = json_object_get(j_schema, "contentMediaType");
    media = json_string_value(j_media);
    if (media != NULL && json_object_size(j_schema) == 1) {
        json_t *j_content = json_pack("{s{}}", media);
        json_decref(j_schema);
        return j_content;
    }
    if (media != NULL) {
        json_media = media;
        json_incref(j_media);
        json_object_del(j_schema, "contentMediaType");
    }
    if (jsend)
        j_schema = json_pack("{ss s[ss] s{s{ss} so}}", "type", "object", "required", "status",
                             "data", "properties", "status", "const", "success", "data", j_schema);
    j_content = json_pack("{s{so*}}", json_media, "schema", j_schema);
    json_decref(j_media);
    return j_content;
}

/* The query parameter q as an OpenAPI parameter object (new reference). */
static json_t *host_kit_openapi_param(const struct lintel_param *q)
{
    json_t *j_schema = json_pack("{ss}", "type", host_kit_param_types[q->type]);
    const char *lo = q->type == LINTEL_PARAM_STRING ? "minLength" : "minimum";
    const char *hi = q->type == LINTEL_PARAM_STRING ? "maxLength" : "maximum";

    if (j_schema == NULL)
        return NULL;
    if (q->flags & LINTEL_PARAM_MIN)
        json_object_set_new(j_schema, lo,
                            q->type == LINTEL_PARAM_NUMBER ? json_real(q->min)
                                                           : json_integer((json_int_t)q->min));
    if (q->flags & LINTEL_PARAM_MAX)
        json_object_set_new(j_schema, hi,
                            q->type == LINTEL_PARAM_NUMBER ? json_real(q->max)
                                                           : json_integer((json_int_t)q->max));
    if (q->type == LINTEL_PARAM_STRING && q->values != NULL) {
        json_t *j_enum = json_array();
        char *copy = strdup(q->values), *tok, *save = NULL;
        for (tok = copy != NULL ? strtok_r(copy, " ", &save) : NULL; tok != NULL;
             tok = strtok_r(NULL, " ", &save))
            json_array_append_new(j_enum, json_string(tok));
        free(copy);
        json_object_set_new(j_schema, "enum", j_enum);
    }
    return json_pack("{ss ss sb ss* so}", "name", q->name, "in", "query", "required",
                     (q->flags & LINTEL_PARAM_REQUIRED) != 0, "description", q->description,
                     "schema", j_schema);
}

/*
 * A reply's example on its JSON media type (j_content: the response's content, or NULL), in
 * the JSend envelope when the reply goes out in it.
 */
static void host_kit_openapi_example(json_t *j_content, const char *example, bool jsend)
{
    json_t *j_media = json_object_get(j_content, "application/json");
    json_t *j_example = host_kit_json(example);

    if (j_media != NULL && j_example != NULL && jsend)
        j_example = json_pack("{ss so}", "status", "success", "data", j_example);
    if (j_media != NULL && j_example != NULL)
        json_object_set_new(j_media, "example", j_example);
    else
        json_decref(j_example);
}

bool host_kit_openapi(const struct route *r, json_t *j_op, bool jsend)
{
    const struct host_route_meta *m = r->meta;
    /* a profile's renderer writes its errors with res_json: JSON, never problem+json */
    bool own_errors = r->owner != NULL && r->owner->render != NULL, success = false;
    json_t *j_params, *j_resps, *j_body;
    size_t i;

    if (m == NULL || j_op == NULL)
        return false;
    if (m->summary != NULL)
        json_object_set_new(j_op, "summary", json_string(m->summary));
    j_params = json_object_get(j_op, "parameters");
    if (m->nquery > 0 && j_params == NULL) {
        j_params = json_array();
        json_object_set_new(j_op, "parameters", j_params);
    }
    for (i = 0; i < m->nquery && j_params != NULL; i++)
        json_array_append_new(j_params, host_kit_openapi_param(&m->query[i]));
    j_body = json_object_get(j_op, "requestBody");
    if (j_body != NULL && m->body_schema != NULL) {
        json_t *j_content = json_object_get(j_body, "content");
        json_t *j_new = host_kit_content(m->body_schema, "application/json", false);
        /* a JSON schema replaces the generic one; a media type replaces "any type" */
        if (json_object_get(j_new, "application/json") == NULL)
            json_object_del(j_content, "*/*");
        json_object_update(j_content, j_new);
        json_decref(j_new);
        json_object_set_new(j_body, "required", json_true());
    }
    if (j_body != NULL && m->example != NULL)
        json_object_set_new(json_object_get(json_object_get(j_body, "content"), "application/json"),
                            "example", host_kit_json(m->example));
    j_resps = json_object_get(j_op, "responses");
    for (i = 0; i < m->nreplies && j_resps != NULL; i++) {
        const struct lintel_reply *y = &m->replies[i];
        bool error = y->status >= 400 || (y->status >= 4 && y->status <= 5);
        char status[sizeof("4294967295")]; /* any unsigned; "4XX" and "5XX" fit too */
        json_t *j_resp =
            json_pack("{ss}", "description", y->description != NULL ? y->description : "Reply.");

        if (y->status <= 5)
            snprintf(status, sizeof(status), "%uXX", y->status);
        else
            snprintf(status, sizeof(status), "%u", y->status);
        if (j_resp != NULL && error && !own_errors)
            /* the host renders the errors of such a route, whatever the entry's schema says */
            json_object_set_new(
                j_resp, "content",
                jsend ? host_kit_content(LINTEL_SCHEMA_REF("JSend"), "application/json", false)
                      : host_kit_content(LINTEL_SCHEMA_PROBLEM, "application/problem+json", false));
        else if (j_resp != NULL && y->schema != NULL)
            json_object_set_new(
                j_resp, "content",
                host_kit_content(y->schema, "application/json", jsend && !error && !m->bare));
        if (j_resp != NULL && y->example != NULL)
            host_kit_openapi_example(json_object_get(j_resp, "content"), y->example,
                                     jsend && !error && !m->bare);
        success |= (y->status >= 200 && y->status < 300) || y->status == 2;
        json_object_set_new(j_resps, status, j_resp);
    }
    return success;
}
