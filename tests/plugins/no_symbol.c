/*
 * Refused plugin: exports no lintel_plugin_init (a typo in the entry point's name).
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_inti(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config);

LINTEL_EXPORT int lintel_plugin_inti(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)p;
    (void)api;
    (void)config;
    return 0;
}
