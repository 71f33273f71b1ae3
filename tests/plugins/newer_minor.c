/*
 * Refused plugin: declares a minor ABI newer than the host's, i.e. it may call table members
 * this host does not have.
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    return api->declare(p, LINTEL_ABI_MAJOR, LINTEL_ABI_MINOR + 1, "newer_minor", "1.0.0");
}
