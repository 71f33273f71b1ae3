/*
 * The table of the core's own routes. It lives apart from server.c so that the dispatcher
 * depends on none of the modules whose handlers it serves (they depend on it).
 */
#include "core_routes.h"

#include "health.h"
#include "host_kit.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "openapi.h"
#include "router.h"
#include "server.h"
#include "web.h"

#include <lintel/plugin.h>
#include <lintel/schemas.h>
#include <stdlib.h>
#include <string.h>

/* The JWK Set of /api/auth/jwks (RFC 7517): public keys only. */
#define CORE_JWKS                                                                                  \
    "{\"title\":\"JWKSet\",\"type\":\"object\",\"required\":[\"keys\"],\"properties\":{\"keys\":"  \
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"kty\"],\"properties\":{"   \
    "\"kty\":" LINTEL_SCHEMA_STRING ",\"kid\":" LINTEL_SCHEMA_STRING                               \
    ",\"alg\":" LINTEL_SCHEMA_STRING ",\"use\":" LINTEL_SCHEMA_STRING "}}}}}"

/* The replies of a core route that answers 200 with schema. */
#define CORE_OK(what, schema) LINTEL_REPLIES({200, what, schema, NULL})

static const struct lintel_route core[] = {
    {.path = "/health",
     .handler = health_handler,
     .summary = "Liveness and database health (503 when the database is not usable)",
     .replies = CORE_OK("Healthy", LINTEL_SCHEMA_REF("Health"))},
    /* the same, where no compatibility profile reaches */
    {.path = "/api/health",
     .handler = health_handler,
     .summary = "Liveness and database health (the same as /health)",
     .replies = CORE_OK("Healthy", LINTEL_SCHEMA_REF("Health"))},
    {.path = "/openapi.json",
     .handler = openapi_handler,
     .summary = "This OpenAPI 3.1 document",
     .replies = CORE_OK("The document",
                        "{\"type\":\"object\",\"required\":[\"openapi\",\"info\",\"paths\"]}")},
    {.path = "/docs",
     .handler = web_docs_handler,
     .summary = "Swagger UI for this document",
     .replies = CORE_OK("The page", LINTEL_SCHEMA_MEDIA("text/html"))},
    {.path = "/admin",
     .handler = web_admin_handler,
     .summary = "The operator page",
     .replies = CORE_OK("The page", LINTEL_SCHEMA_MEDIA("text/html"))},
    {.path = "/assets/{file}",
     .handler = web_asset_handler,
     .summary = "A script or style sheet of those pages (a fixed list)",
     .replies = CORE_OK("The file", LINTEL_SCHEMA_MEDIA("text/*"))},
    /* authenticates itself: admin or metrics_token */
    {.path = "/metrics",
     .handler = metrics_handler,
     .summary = "Prometheus metrics (an admin token, or metrics_token)",
     .replies = CORE_OK("Prometheus text format", LINTEL_SCHEMA_MEDIA("text/plain"))},
    {.path = "/api/auth/jwks",
     .handler = health_jwks_handler,
     .summary = "The public keys that verify access tokens",
     .replies = CORE_OK("The JWK Set (empty for HS256)", CORE_JWKS)},
    /* authenticated (any scope): a user's own jobs (app/jobs.c) */
    {.path = "/api/jobs",
     .handler = jobs_list_handler,
     .summary = "The user's jobs (populate with async=true), oldest first; sort=-id: newest first",
     .replies = CORE_OK("A page of jobs", LINTEL_SCHEMA_LIST(LINTEL_SCHEMA_JOB))},
    {.path = "/api/jobs/{id}",
     .handler = jobs_get_handler,
     .summary = "One of the user's jobs: state, done, total, errors",
     .replies = CORE_OK("The job", LINTEL_SCHEMA_JOB)},
};

int core_routes_add(void)
{
    char *err = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(core) / sizeof(core[0]) && rc == 0; i++) {
        const char *why = NULL;
        struct route_def def = {
            .method = "GET",
            .path = core[i].path,
            .flags = strncmp(core[i].path, "/api/jobs", 9) == 0 ? 0 : LINTEL_ROUTE_PUBLIC,
            .handler = core[i].handler,
            .owner_name = "core",
            .meta = host_kit_meta_new(&core[i], LINTEL_ABI_MINOR, &why),
            .meta_free = host_kit_meta_release};
        if (def.meta == NULL) {
            log_error("core route %s: %s", core[i].path, why);
            return LINTEL_ENOMEM;
        }
        /* the document and the key set are read by tools: never wrapped in JSend */
        ((struct host_route_meta *)def.meta)->bare =
            core[i].handler == openapi_handler || core[i].handler == health_jwks_handler;
        rc = server_route_add(&def, &err);
        if (rc != 0)
            log_error("%s", err != NULL ? err : "cannot add a core route");
        free(err);
        err = NULL;
    }
    return rc;
}
