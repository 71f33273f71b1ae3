/*
 * Exercises the kit from a plugin's side: a compatibility profile with a route outside /api/,
 * a declared scope, declared query parameters, its own error format, and a table rule
 * (lintel_check) that reaches the client as a 422 on the field.
 */
#include <lintel/kit.h>
#include <string.h>

LINTEL_KIT_INIT;

extern const struct lintel_embedded_sql kit_probe_migrations[];

/* GET /probe/hello (public, outside /api/). */
static int probe_hello(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j = json_pack("{ss}", "hello", "profile");
    int rc;

    (void)req;
    (void)state;
    if (j == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_res_json(res, 200, j);
    json_decref(j);
    return rc;
}

/* GET /probe/secret (scope probe:write): {"user_id": N}. */
static int probe_secret(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j = json_pack("{sI}", "user_id", (json_int_t)lintel_req_user_id(req));
    int rc;

    (void)state;
    if (j == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_res_json(res, 200, j);
    json_decref(j);
    return rc;
}

/* POST /api/probe/links {url} -> 201 {id, url}: the rule is the table's CHECK. */
static int probe_link(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_row = NULL;
    int rc;

    (void)state;
    rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_row,
                             "INSERT INTO probe_links (user_id, url) VALUES (?1, ?2)"
                             " RETURNING id, url",
                             "IO", (json_int_t)lintel_req_user_id(req),
                             json_object_get(j_body, "url") != NULL ? json_object_get(j_body, "url")
                                                                    : json_null());
    if (rc == 0)
        rc = lintel_res_json(res, 201, j_row);
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* GET /api/probe/links/{id} -> 200 {id, url}: the twin an If-Match compares with. */
static int probe_link_get(lintel_req *req, lintel_res *res, void *state)
{
    long long id = 0;
    int rc;

    (void)state;
    rc = lintel_req_id(req, "id", "Link", &id);
    if (rc == 0)
        rc = lintel_res_rowf(req, res, 200, "Link",
                             "SELECT id, url FROM probe_links WHERE id = ?1 AND user_id = ?2", "II",
                             (json_int_t)id, (json_int_t)lintel_req_user_id(req));
    return rc;
}

/*
 * PATCH /api/probe/links/{id} {url, fail_after} -> 200 {id, url}, then "probe.link" to the
 * user's sockets. With fail_after true it fails (409) after writing and publishing: the way a
 * handler whose last step fails ends, which the host's transaction must undo, event included.
 */
static int probe_link_patch(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_row = NULL;
    long long id = 0;
    int rc;

    (void)state;
    rc = lintel_req_id(req, "id", "Link", &id);
    if (rc == 0)
        rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = lintel_not_found(
            res,
            lintel_sql_rowf(req, &j_row,
                            "UPDATE probe_links SET url = ?3 WHERE id = ?1 AND user_id = ?2"
                            " RETURNING id, url",
                            "IIO", (json_int_t)id, (json_int_t)lintel_req_user_id(req),
                            json_object_get(j_body, "url") != NULL ? json_object_get(j_body, "url")
                                                                   : json_null()),
            "Link");
    if (rc == 0)
        rc = lintel_event_user(req, "probe.link", "link", j_row);
    if (rc == 0 && json_is_true(json_object_get(j_body, "fail_after")))
        rc = lintel_res_error(res, LINTEL_ECONFLICT, "fail_after",
                              "failed after publishing, as asked");
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* GET /api/probe/items?n&kind: the host checked both before this runs. */
static int probe_items(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j = json_pack("{ss ss?}", "n", lintel_req_query(req, "n"), "kind",
                          lintel_req_query(req, "kind"));
    int rc;

    (void)state;
    if (j == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_res_json(res, 200, j);
    json_decref(j);
    return rc;
}

/*
 * GET /api/probe/bad_pack/{via}: SQL parameters that cannot be packed (a NULL where the format
 * wants a string), through sql_rowf ("row") or res_rowf ("reply"): the host answers 500.
 */
static int probe_bad_pack(lintel_req *req, lintel_res *res, void *state)
{
    const char *via = lintel_req_param(req, "via");
    json_t *j_row = NULL;
    int rc;

    (void)state;
    if (via != NULL && strcmp(via, "row") == 0)
        rc = lintel_sql_rowf(req, &j_row, "SELECT ?1 AS x", "s", (const char *)NULL);
    else
        rc = lintel_res_rowf(req, res, 200, "Row", "SELECT ?1 AS x", "s", (const char *)NULL);
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    json_decref(j_row);
    return rc;
}

/* Every error of these routes as {"detail": ..., "code": status[, "errors": [...]]}, as a seed. */
static int probe_render(lintel_req *req, lintel_res *res, unsigned status, int rc,
                        const char *detail, const json_t *j_errors, void *state)
{
    json_t *j = json_pack("{ss sI sO*}", "detail", detail, "code", (json_int_t)status, "errors",
                          (json_t *)j_errors);

    (void)req;
    (void)rc;
    (void)state;
    if (j == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_res_json(res, status, j);
    json_decref(j);
    return rc;
}

/* Every error of these routes (probe_render), and its replies with it. */
#define PROBE_ERROR                                                                                \
    "{\"type\":\"object\",\"required\":[\"detail\",\"code\"],\"properties\":{"                     \
    "\"detail\":" LINTEL_SCHEMA_STRING                                                             \
    ",\"code\":{\"type\":\"integer\",\"minimum\":400},\"errors\":"                                 \
    "{\"type\":\"array\"}}}"
#define PROBE_LINK                                                                                 \
    "{\"type\":\"object\",\"required\":[\"id\",\"url\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID  \
    ",\"url\":" LINTEL_SCHEMA_STRING "}}"
#define PROBE_REPLIES(status, what, schema)                                                        \
    LINTEL_REPLIES({status, what, schema, NULL}, {4, "The probe's error", PROBE_ERROR, NULL},      \
                   {5, "The probe's error", PROBE_ERROR, NULL})

static const struct lintel_route probe_routes[] = {
    {.method = "GET",
     .path = "/probe/hello",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = probe_hello,
     .replies = PROBE_REPLIES(200, "Hello",
                              "{\"type\":\"object\",\"required\":[\"hello\"],\"properties\":"
                              "{\"hello\":{\"const\":\"profile\"}}}")},
    {.method = "GET",
     .path = "/probe/secret",
     .scope = "probe:write",
     .handler = probe_secret,
     .replies = PROBE_REPLIES(200, "The caller",
                              "{\"type\":\"object\",\"required\":[\"user_id\"],\"properties\":"
                              "{\"user_id\":" LINTEL_SCHEMA_ID "}}")},
    {.method = "POST",
     .path = "/api/probe/links",
     .scope = "probe:write",
     .handler = probe_link,
     .body_schema = "{\"type\":\"object\",\"properties\":{\"url\":" LINTEL_SCHEMA_STRING "}}",
     .replies = PROBE_REPLIES(201, "The link", PROBE_LINK)},
    {.method = "GET",
     .path = "/api/probe/links/{id}",
     .scope = "probe:write",
     .handler = probe_link_get,
     .replies = PROBE_REPLIES(200, "The link", PROBE_LINK)},
    {.method = "PATCH",
     .path = "/api/probe/links/{id}",
     .scope = "probe:write",
     .handler = probe_link_patch,
     .body_schema = "{\"type\":\"object\",\"properties\":{\"url\":" LINTEL_SCHEMA_STRING
                    ",\"fail_after\":{\"type\":\"boolean\"}}}",
     .replies = PROBE_REPLIES(200, "The link", PROBE_LINK)},
    {.method = "GET",
     .path = "/api/probe/bad_pack/{via}",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = probe_bad_pack,
     .replies =
         PROBE_REPLIES(200, "Never: the parameters cannot be packed", "{\"type\":\"object\"}")},
    {.method = "GET",
     .path = "/api/probe/items",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = probe_items,
     .summary = "Declared query parameters",
     .query =
         (const struct lintel_param[]){{"n", LINTEL_PARAM_INTEGER,
                                        LINTEL_PARAM_REQUIRED | LINTEL_PARAM_MIN | LINTEL_PARAM_MAX,
                                        1, 10, NULL, "How many"},
                                       {"kind", LINTEL_PARAM_STRING, 0, 0, 0, "a b", "Which kind"},
                                       {0}},
     .replies = PROBE_REPLIES(
         200, "The parameters as read",
         "{\"type\":\"object\",\"required\":[\"n\"],\"properties\":{\"n\":" LINTEL_SCHEMA_STRING
         ",\"kind\":{\"anyOf\":[{\"title\":\"ProbeKind\",\"type\":\"string\"},"
         "{\"type\":\"null\"}]}}}")},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    int rc;

    (void)config;
    LINTEL_KIT_DECLARE(p, api, "kit_probe", "0.0.1");
    rc = lintel_declare_profile(p);
    if (rc == 0)
        rc = lintel_scope_add(p, "probe:write", "user admin");
    if (rc == 0)
        rc = lintel_error_render(p, probe_render, NULL);
    if (rc == 0)
        rc = lintel_migrations(p, kit_probe_migrations);
    if (rc == 0)
        rc = lintel_routes_add(p, probe_routes, LINTEL_COUNT(probe_routes), NULL);
    return rc;
}
