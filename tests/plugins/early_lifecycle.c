/*
 * Refused plugin: calls a lifecycle member (error_render, once a kit member) before declare;
 * the host's one lifecycle check names the member, and the plugin is refused.
 */
#include <lintel/plugin.h>

static int early_render(lintel_req *req, lintel_res *res, unsigned status, int rc,
                        const char *detail, const json_t *j_errors, void *state)
{
    (void)req;
    (void)res;
    (void)status;
    (void)rc;
    (void)detail;
    (void)j_errors;
    (void)state;
    return -1;
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    int rc = api->error_render(p, early_render, NULL);

    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "early_lifecycle", "0.1.0");
    return rc;
}
