/*
 * GET /openapi.json (OpenAPI 3.1 built from the route registry) and GET /docs (Swagger UI for
 * it, loaded from a CDN under a Content-Security-Policy that allows exactly that).
 */
#ifndef LINTEL_APP_OPENAPI_H
#define LINTEL_APP_OPENAPI_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>

/* The swagger-ui-dist release /docs loads, and where from (docs/architecture.md). */
#define OPENAPI_SWAGGER_UI_VERSION "5.35.0"
#define OPENAPI_SWAGGER_UI_ORIGIN  "https://cdn.jsdelivr.net"

/*
 * The document for the routes registered so far; jsend: error responses described as JSend
 * instead of RFC 9457. New reference, NULL when out of memory.
 */
json_t *openapi_document_new(bool jsend);

/* Core route handlers. The document is built once, at the first request (routes are fixed). */
int openapi_handler(lintel_req *req, lintel_res *res, void *state);
int openapi_docs_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_OPENAPI_H */
