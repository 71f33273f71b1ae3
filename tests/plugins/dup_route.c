/*
 * Claims GET /api/example/ping, the example plugin's route: whichever of the two loads second
 * is refused, and the message names both.
 */
#include <lintel/plugin.h>

static int dup_route_handler(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)state;
    return res != NULL ? LINTEL_EINTERNAL : 0;
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "dup_route", "0.0.1");
    return api->routes_add(p,
                           &(const struct lintel_route){.method = "GET",
                                                        .path = "/api/example/ping",
                                                        .flags = LINTEL_ROUTE_PUBLIC,
                                                        .handler = dup_route_handler},
                           1, NULL);
}
