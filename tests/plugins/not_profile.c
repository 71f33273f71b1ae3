/*
 * Refused plugin: an ordinary plugin (no declare_profile) registering a route outside /api/.
 */
#include "refused.h"

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct lintel_route r = {
        .method = "GET", .path = "/elsewhere", .handler = refused_handler};

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "not_profile", "0.0.1");
    return api->routes_add(p, &r, 1, NULL);
}
