/*
 * Refused plugin: returns 0 from init without declaring the ABI it was built for.
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)p;
    (void)api;
    (void)config;
    return 0;
}
