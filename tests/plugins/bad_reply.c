/*
 * Refused plugin: a reply entry whose status is neither an HTTP status nor a class (1..5), and
 * so names no response /openapi.json could describe.
 */
#include "refused.h"

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct lintel_reply replies[] = {{42, "Not a status", NULL, NULL},
                                                  {0, NULL, NULL, NULL}};
    static const struct lintel_route r = {.method = "GET",
                                          .path = "/api/bad_reply/x",
                                          .handler = refused_handler,
                                          .replies = replies};

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "bad_reply", "0.0.1");
    return api->routes_add(p, &r, 1, NULL);
}
