/*
 * A compatibility profile that claims POST /login as seed 000's "wec" profile does: enabling
 * both must stop the start, naming the two profiles and the route.
 */
#include "refused.h"

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct lintel_route r = {.method = "POST",
                                          .path = "/login",
                                          .flags = LINTEL_ROUTE_PUBLIC,
                                          .handler = refused_handler};
    int rc;

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "compat_clash", "0.0.1");
    rc = api->declare_profile(p);
    return rc != 0 ? rc : api->routes_add(p, &r, 1, NULL);
}
