/*
 * Refused plugin: asks for settings the host does not have under that type (a number as text,
 * a text as a number). Both are refused with LINTEL_EPARAM and an empty *out, the first by name.
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    const char *text = "unset";
    long long number = -1;

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "unknown_setting", "0.0.1");
    if (api->setting_str(p, "password_min", &text) == LINTEL_EPARAM && text == NULL &&
        api->setting_int(p, "data_dir", &number) == LINTEL_EPARAM && number == 0)
        api->log(p, LINTEL_LOG_ERROR, "both settings refused, outputs cleared");
    return LINTEL_EPARAM;
}
