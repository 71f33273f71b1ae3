/*
 * Refused plugin: declares plugin ABI major 2, which this host (major 1) does not have.
 * Calls api->declare directly, as a plugin built against a future header would.
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    return api->declare(p, LINTEL_ABI_MAJOR + 1, 0, "bad_major", "9.9.9");
}
