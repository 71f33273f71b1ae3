/*
 * Refused plugin: built for ABI 2.7 (reply entries without an example), it names a reply status
 * class (4 for 4XX), which came with ABI 2.8: refused by name, not read past its entries.
 */
#include "refused.h"

/* struct lintel_reply as ABI 2.7 laid it out. */
struct old_class_reply {
    unsigned status;
    const char *description;
    const char *schema;
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct old_class_reply replies[] = {
        {200, "Fine", NULL}, {4, "A class", NULL}, {0, NULL, NULL}};
    static const struct lintel_route r = {.method = "GET",
                                          .path = "/api/old_class/x",
                                          .handler = refused_handler,
                                          .replies = (const void *)replies};
    int rc;

    (void)config;
    rc = api->declare(p, LINTEL_ABI_MAJOR, 7, "old_class", "0.0.1");
    if (rc != 0)
        return rc;
    return api->routes_add(p, &r, 1, NULL);
}
