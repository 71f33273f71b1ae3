/*
 * Refused plugin: a route needing a scope nobody declared (scope_add), which no token could
 * ever carry.
 */
#include "refused.h"

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct lintel_route r = {.method = "GET",
                                          .path = "/api/undeclared/x",
                                          .scope = "ghost:write",
                                          .handler = refused_handler};

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "undeclared_scope", "0.0.1");
    return api->routes_add(p, &r, 1, NULL);
}
