/*
 * Refused plugin: registers a route, a migration and an unload callback, then fails its init.
 * The host must leave none of it registered (the route answers 404, the table never exists).
 */
#include <lintel/plugin.h>

static int init_fails_handler(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)res;
    (void)state;
    return LINTEL_EINTERNAL;
}

static void init_fails_unload(void *state)
{
    (void)state;
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "init_fails", "0.0.1");
    api->on_unload(p, init_fails_unload, NULL);
    api->routes_add(p,
                    &(const struct lintel_route){.method = "GET",
                                                 .path = "/api/init_fails/x",
                                                 .flags = LINTEL_ROUTE_PUBLIC,
                                                 .handler = init_fails_handler},
                    1, NULL);
    api->migration_add(p, "0001_init_fails", "CREATE TABLE init_fails_t (x INTEGER);");
    api->log(p, LINTEL_LOG_ERROR, "failing on purpose");
    return LINTEL_EINTERNAL;
}
