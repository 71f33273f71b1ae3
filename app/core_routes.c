/*
 * The table of the core's own routes. It lives apart from server.c so that the dispatcher
 * depends on none of the modules whose handlers it serves (they depend on it).
 */
#include "core_routes.h"

#include "health.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "openapi.h"
#include "router.h"
#include "server.h"
#include "web.h"

#include <lintel/plugin.h>
#include <stdlib.h>
#include <string.h>

int core_routes_add(void)
{
    static const struct {
        const char *path;
        lintel_handler handler;
    } core[] = {
        {"/health", health_handler},
        {"/api/health", health_handler}, /* the same, where no compatibility profile reaches */
        {"/openapi.json", openapi_handler},
        {"/docs", web_docs_handler},
        {"/admin", web_admin_handler},
        {"/assets/{file}", web_asset_handler},
        {"/metrics", metrics_handler}, /* authenticates itself: admin or metrics_token */
        {"/api/auth/jwks", health_jwks_handler},
        /* authenticated (any scope): a user's own jobs (app/jobs.c) */
        {"/api/jobs", jobs_list_handler},
        {"/api/jobs/{id}", jobs_get_handler},
    };
    char *err = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(core) / sizeof(core[0]) && rc == 0; i++) {
        struct route_def def = {
            .method = "GET",
            .path = core[i].path,
            .flags = strncmp(core[i].path, "/api/jobs", 9) == 0 ? 0 : LINTEL_ROUTE_PUBLIC,
            .handler = core[i].handler,
            .owner_name = "core"};
        rc = server_route_add(&def, &err);
        if (rc != 0)
            log_error("%s", err != NULL ? err : "cannot add a core route");
        free(err);
        err = NULL;
    }
    return rc;
}
