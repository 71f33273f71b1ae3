/*
 * ABI compatibility: built against the frozen 2.0 header (tests/plugins/abi-2.0), never the
 * current one, it must load and serve on every later host of major 2.
 */
#include <lintel/plugin.h>

static const struct lintel_api *abi_api;

/* GET /api/abi10/ping (public) -> {"abi": "1.0", "sum": 3} computed in SQL. */
static int abi_ping(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_row = NULL, *j_body = NULL;
    int rc;

    (void)state;
    rc = abi_api->sql_rowf(req, &j_row, "SELECT ?1 + ?2 AS sum", "ii", 1, 2);
    if (rc != 0)
        return rc;
    j_body = json_pack("{ss sO}", "abi", "1.0", "sum", json_object_get(j_row, "sum"));
    rc = j_body != NULL ? abi_api->res_json(res, 200, j_body) : LINTEL_ENOMEM;
    json_decref(j_body);
    json_decref(j_row);
    return rc;
}

static const struct lintel_route abi_routes[] = {
    {.method = "GET",
     .path = "/api/abi10/ping",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = abi_ping,
     .replies =
         (const struct lintel_reply[]){{200, "The sum",
                                        "{\"type\":\"object\",\"required\":[\"abi\",\"sum\"],"
                                        "\"properties\":{\"abi\":{\"const\":\"1.0\"},"
                                        "\"sum\":{\"const\":3}}}"},
                                       {0, NULL, NULL}}},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "abi_v1_0", "1.0.0");
    abi_api = api;
    return api->routes_add(p, abi_routes, 1, NULL);
}
