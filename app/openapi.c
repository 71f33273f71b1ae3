/*
 * The OpenAPI 3.1 document of every route the core and the loaded plugins registered, with
 * what each route's table entry declares (host_kit.c: summary, query, body and reply schemas).
 */
#include "openapi.h"

#include "config.h"
#include "host_api.h"
#include "host_kit.h"
#include "json_out.h"
#include "plugin_loader.h"
#include "router.h"
#include "server.h"

#include <ctype.h>
#include <lintel/schemas.h>
#include <lintel/version.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The errors every operation may answer with, as components/responses. */
static const struct {
    const char *name;
    unsigned status;
    const char *description;
} openapi_errors[] = {
    {"BadRequest", 400,
     "The request cannot be parsed; for malformed JSON the detail names the "
     "byte offset."},
    {"Unauthorized", 401,
     "No bearer token (detail \"Not authenticated\"), or one that is invalid, "
     "expired or revoked (\"Invalid or expired token\")."},
    {"Forbidden", 403,
     "The token lacks the scope or role this operation needs; the detail names "
     "it."},
    {"NotFound", 404, "No such resource, or one that belongs to another user."},
    {"PayloadTooLarge", 413, "The body is larger than the limit (LINTEL_MAX_BODY)."},
    {"UnsupportedMediaType", 415, "The body is of a type this operation does not take."},
    {"PreconditionFailed", 412,
     "If-Match named no current ETag of the resource: it changed since it was read (the "
     "current ETag is in the reply's ETag header); nothing was changed."},
    {"UnprocessableContent", 422, "A value breaks a rule; errors lists each field."},
    {"InternalServerError", 500, "The server failed; nothing the client sent causes this."},
};

/*
 * The host's shared schemas (components/schemas), referenced by route tables through
 * <lintel/schemas.h>. Fields may be added to a shape, never removed.
 */
#define OA_USER_FIELDS                                                                             \
    "\"id\":" LINTEL_SCHEMA_ID ",\"username\":" LINTEL_SCHEMA_STRING                               \
    ",\"email\":{\"type\":[\"string\",\"null\"]},\"role\":{\"enum\":[\"user\",\"admin\"]},"        \
    "\"created_at\":" LINTEL_SCHEMA_TIME ",\"updated_at\":" LINTEL_SCHEMA_TIME                     \
    ",\"avatar_url\":{\"type\":[\"string\",\"null\"]}"
#define OA_STAT "{\"type\":[\"number\",\"null\"]}"
static const struct {
    const char *name;
    const char *text;
} openapi_schemas[] = {
    {"Problem",
     "{\"type\":\"object\",\"description\":\"RFC 9457 problem details "
     "(application/problem+json). errors only on 400 and 422.\","
     "\"required\":[\"type\",\"title\",\"status\"],\"properties\":{"
     "\"type\":{\"type\":\"string\",\"format\":\"uri-reference\",\"default\":\"about:blank\"},"
     "\"title\":" LINTEL_SCHEMA_STRING ",\"status\":{\"type\":\"integer\",\"minimum\":400,"
     "\"maximum\":599},\"detail\":" LINTEL_SCHEMA_STRING ",\"instance\":{\"type\":\"string\","
     "\"format\":\"uri-reference\"},\"errors\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
     "\"required\":[\"message\"],\"properties\":{\"field\":" LINTEL_SCHEMA_STRING
     ",\"message\":" LINTEL_SCHEMA_STRING "}}}}}"},
    {"List", "{\"type\":\"object\",\"description\":\"A page of a list.\","
             "\"required\":[\"items\",\"total\",\"limit\",\"offset\"],\"properties\":{"
             "\"items\":{\"type\":\"array\"},\"total\":{\"type\":\"integer\",\"minimum\":0},"
             "\"limit\":{\"type\":\"integer\",\"minimum\":0},\"offset\":{\"type\":\"integer\","
             "\"minimum\":0},\"next\":{\"type\":[\"string\",\"null\"],\"description\":\"Keyset "
             "lists: the cursor of the next page (after=...), null on the last\"}}}"},
    {"User",
     "{\"type\":\"object\",\"description\":\"A user; never a password hash. Lists for users "
     "who are not admins carry id and username only.\",\"required\":[\"id\",\"username\"],"
     "\"properties\":{" OA_USER_FIELDS "}}"},
    {"Tokens",
     "{\"type\":\"object\",\"description\":\"A new session's tokens (register adds user).\","
     "\"required\":[\"access_token\",\"token_type\",\"expires_in\",\"refresh_token\"],"
     "\"properties\":{\"access_token\":" LINTEL_SCHEMA_STRING ",\"token_type\":{\"const\":"
     "\"bearer\"},\"expires_in\":{\"type\":\"integer\",\"minimum\":1},\"refresh_"
     "token\":" LINTEL_SCHEMA_STRING ",\"scope\":" LINTEL_SCHEMA_STRING
     ",\"user\":" LINTEL_SCHEMA_USER "}}"},
    {"Stats",
     "{\"type\":\"object\",\"description\":\"lintel_stats() of a set of values: count 0 gives sum "
     "0 and null for the rest; stddev (sample) is null below 2 values.\","
     "\"required\":[\"count\",\"sum\",\"avg\",\"min\",\"max\",\"stddev\",\"median\"],"
     "\"properties\":{\"count\":{\"type\":\"integer\",\"minimum\":0},\"sum\":" LINTEL_SCHEMA_NUMBER
     ",\"avg\":" OA_STAT ",\"min\":" OA_STAT ",\"max\":" OA_STAT ",\"stddev\":" OA_STAT
     ",\"median\":" OA_STAT "}}"},
    {"Job",
     "{\"type\":\"object\",\"description\":\"A background job (populate with async=true).\","
     "\"required\":[\"id\",\"kind\",\"state\",\"total\",\"done\"],\"properties\":{"
     "\"id\":" LINTEL_SCHEMA_ID ",\"kind\":" LINTEL_SCHEMA_STRING
     ",\"state\":{\"enum\":[\"queued\","
     "\"running\",\"done\",\"failed\"]},\"total\":" LINTEL_SCHEMA_INTEGER
     ",\"done\":" LINTEL_SCHEMA_INTEGER ",\"failed\":" LINTEL_SCHEMA_INTEGER
     ",\"errors\":{\"type\":"
     "[\"array\",\"null\"]},\"detail\":{\"type\":[\"string\",\"null\"]},\"created_"
     "at\":" LINTEL_SCHEMA_TIME ",\"updated_at\":" LINTEL_SCHEMA_TIME ",\"finished_at\":{\"type\":"
     "[\"string\",\"null\"]}}}"},
    {"Health",
     "{\"type\":\"object\",\"required\":[\"status\",\"version\",\"uptime_s\",\"db\",\"plugins\"],"
     "\"properties\":{\"status\":{\"const\":\"ok\"},\"version\":" LINTEL_SCHEMA_STRING
     ",\"uptime_s\":{\"type\":\"integer\",\"minimum\":0},\"db\":{\"const\":\"ok\"},\"plugins\":"
     "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"version\"],"
     "\"properties\":{\"name\":" LINTEL_SCHEMA_STRING ",\"version\":" LINTEL_SCHEMA_STRING "}}}}}"},
};

static json_t *openapi_jsend_schema(void);

/* components/schemas: the shared ones, and JSend's with that envelope. */
static json_t *openapi_schemas_new(bool jsend)
{
    json_t *j_schemas = json_object();
    size_t i;

    for (i = 0; j_schemas != NULL && i < sizeof(openapi_schemas) / sizeof(openapi_schemas[0]);
         i++) {
        json_t *j = json_loads(openapi_schemas[i].text, 0, NULL);
        if (j == NULL || json_object_set_new(j_schemas, openapi_schemas[i].name, j) != 0) {
            json_decref(j_schemas);
            return NULL;
        }
    }
    if (j_schemas != NULL && jsend)
        json_object_set_new(j_schemas, "JSend", openapi_jsend_schema());
    return j_schemas;
}

/* With LINTEL_ENVELOPE=jsend: "fail" (4xx, data holds the problem members) or "error" (5xx). */
static json_t *openapi_jsend_schema(void)
{
    return json_pack("{ss s[{ss s[ss] s{s{ss} s{ss}}} {ss s[sss] s{s{ss} s{ss} s{ss}}}]}",
                     "description", "JSend envelope of an error (LINTEL_ENVELOPE=jsend).", "oneOf",
                     "type", "object", "required", "status", "data", "properties", "status",
                     "const", "fail", "data", "$ref", "#/components/schemas/Problem", "type",
                     "object", "required", "status", "message", "code", "properties", "status",
                     "const", "error", "message", "type", "string", "code", "type", "integer");
}

/* The headers every reply carries, as references to components/headers. */
static json_t *openapi_reply_headers(void)
{
    return json_pack("{s{ss} s{ss}}", "X-Request-Id", "$ref", "#/components/headers/X-Request-Id",
                     "X-Response-Time", "$ref", "#/components/headers/X-Response-Time");
}

/* The headers every reply carries, on the responses a route declared (not the $refs). */
static void openapi_declared_headers(json_t *j_op)
{
    const char *status;
    json_t *j_resp, *j_headers;

    json_object_foreach(json_object_get(j_op, "responses"), status, j_resp) {
        if (!json_is_object(j_resp) || json_object_get(j_resp, "$ref") != NULL)
            continue;
        j_headers = json_object_get(j_resp, "headers");
        if (j_headers == NULL)
            json_object_set_new(j_resp, "headers", openapi_reply_headers());
        else
            json_object_update_missing_new(j_headers, openapi_reply_headers());
    }
}

static json_t *openapi_error_response(const char *description, bool jsend)
{
    return json_pack("{ss s{s{s{ss}}} so}", "description", description, "content",
                     jsend ? "application/json" : "application/problem+json", "schema", "$ref",
                     jsend ? "#/components/schemas/JSend" : "#/components/schemas/Problem",
                     "headers", openapi_reply_headers());
}

/* components/responses: one per openapi_errors entry plus "Error" for any other status. */
static json_t *openapi_error_responses(bool jsend)
{
    json_t *j_resps = json_object();
    size_t i;

    for (i = 0; j_resps != NULL && i < sizeof(openapi_errors) / sizeof(openapi_errors[0]); i++)
        json_object_set_new(j_resps, openapi_errors[i].name,
                            openapi_error_response(openapi_errors[i].description, jsend));
    if (j_resps != NULL)
        json_object_set_new(
            j_resps, "Error",
            openapi_error_response(
                "Any other error: 405 (with Allow), 409 conflict, 429 too many attempts (with "
                "Retry-After), 502/504 upstream, 503 database busy or not usable.",
                jsend));
    return j_resps;
}

static json_t *openapi_components(bool jsend)
{
    json_t *j_comp;

    j_comp = json_pack(
        "{s{s{ss ss ss ss}} so so s{s{ss s{ss ss}} s{ss s{ss}} s{ss s{ss}} s{ss s{ss}}}}",
        "securitySchemes", "bearerAuth", "type", "http", "scheme", "bearer", "bearerFormat", "JWT",
        "description",
        "An access token from POST /api/auth/login (or register/refresh), sent as "
        "Authorization: Bearer <token>. Scopes travel in its scope claim.",
        "schemas", openapi_schemas_new(jsend), "responses", openapi_error_responses(jsend),
        "headers", "X-Request-Id", "description",
        "The request's id: the client's own X-Request-Id when sane (1-64 of A-Za-z0-9-_.:), "
        "else a new one; also in the access log.",
        "schema", "type", "string", "pattern", "^[A-Za-z0-9._:-]{1,64}$", "X-Response-Time",
        "description", "Time the server spent on the request, e.g. 0.451ms.", "schema", "type",
        "string", "WWW-Authenticate", "description", "Bearer, or Bearer error=\"invalid_token\".",
        "schema", "type", "string", "Retry-After", "description",
        "Seconds to wait before trying again.", "schema", "type", "string");
    /* With rate_limit set, on every reply (docs/auth.md "Request rate limit"). */
    if (j_comp != NULL) {
        json_t *j_headers = json_object_get(j_comp, "headers");
        json_object_set_new(
            j_headers, "RateLimit",
            json_pack("{ss s{ss}}", "description",
                      "Only with rate_limit set: \"user\" or \"client\" (the partition "
                      "counted), r requests left in the window, t seconds until it ends "
                      "(draft-ietf-httpapi-ratelimit-headers-10), e.g. \"user\";r=42;t=17.",
                      "schema", "type", "string"));
        json_object_set_new(j_headers, "RateLimit-Policy",
                            json_pack("{ss s{ss}}", "description",
                                      "Only with rate_limit set: q requests per w seconds, e.g. "
                                      "\"user\";q=600;w=60. Over it: 429 with Retry-After.",
                                      "schema", "type", "string"));
    }
    return j_comp;
}

static json_t *openapi_ref(const char *component)
{
    char ref[96];

    snprintf(ref, sizeof(ref), "#/components/responses/%s", component);
    return json_pack("{ss}", "$ref", ref);
}

/* "GET" + "/api/numbers/{id}" -> "get_api_numbers_id", unique within seen. */
static char *openapi_operation_id(const char *method, const char *path, json_t *j_seen)
{
    char id[256], unique[300];
    size_t i, n = 0;
    int k;

    for (i = 0; method[i] != '\0' && n + 1 < sizeof(id); i++)
        id[n++] = (char)tolower((unsigned char)method[i]);
    for (i = 0; path[i] != '\0' && n + 1 < sizeof(id); i++) {
        char c = isalnum((unsigned char)path[i]) ? path[i] : '_';
        if (c == '_' && n > 0 && id[n - 1] == '_')
            continue;
        id[n++] = c;
    }
    while (n > 0 && id[n - 1] == '_')
        n--;
    id[n] = '\0';
    snprintf(unique, sizeof(unique), "%s", id);
    for (k = 2; json_object_get(j_seen, unique) != NULL; k++)
        snprintf(unique, sizeof(unique), "%s_%d", id, k);
    json_object_set_new(j_seen, unique, json_true());
    return strdup(unique);
}

/* What the operation needs, for its description. */
static char *openapi_auth_text(const struct route *r)
{
    char *text = NULL;

    if (r->flags & LINTEL_ROUTE_PUBLIC) {
        if (asprintf(&text, "Public: no token needed.") < 0)
            text = NULL;
    } else if (asprintf(&text, "Needs a bearer access token%s%s%s%s.",
                        r->scope != NULL ? " with scope `" : "", r->scope != NULL ? r->scope : "",
                        r->scope != NULL ? "`" : "",
                        (r->flags & LINTEL_ROUTE_ADMIN) ? ", of a user with the admin role" : "") <
               0) {
        text = NULL;
    }
    return text;
}

static bool openapi_has_body(const struct route *r)
{
    return strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
           strcmp(r->method, "PATCH") == 0;
}

/* Request body: only methods that carry one; the content types the route accepts. */
static json_t *openapi_request_body(const struct route *r)
{
    json_t *j_content;

    if (!openapi_has_body(r))
        return NULL;
    if (r->flags & LINTEL_ROUTE_RAW)
        j_content = json_pack("{s{s{}}}", "*/*", "schema");
    else
        j_content = json_pack("{s{s{}}}", "application/json", "schema");
    if (j_content != NULL && (r->flags & LINTEL_ROUTE_FORM))
        json_object_set_new(j_content, "application/x-www-form-urlencoded",
                            json_pack("{s{ss s{ss}}}", "schema", "type", "object",
                                      "additionalProperties", "type", "string"));
    return json_pack("{sb so}", "required", 0, "content", j_content);
}

/*
 * The errors the host answers for this kind of route, as references. A profile's routes have
 * none: its error renderer writes every error, in the shapes the route declares ("4XX").
 */
static json_t *openapi_responses(const struct route *r, bool has_params)
{
    json_t *j_resps = json_object();
    bool authed = !(r->flags & LINTEL_ROUTE_PUBLIC);

    if (j_resps == NULL || (r->owner != NULL && r->owner->render != NULL))
        return j_resps;
    if (openapi_has_body(r)) {
        json_object_set_new(j_resps, "400", openapi_ref("BadRequest"));
        json_object_set_new(j_resps, "413", openapi_ref("PayloadTooLarge"));
        json_object_set_new(j_resps, "415", openapi_ref("UnsupportedMediaType"));
    }
    if (authed) {
        json_object_set_new(j_resps, "401", openapi_ref("Unauthorized"));
        json_object_set_new(j_resps, "403", openapi_ref("Forbidden"));
    }
    if (has_params)
        json_object_set_new(j_resps, "404", openapi_ref("NotFound"));
    if (r->owner != NULL)
        json_object_set_new(j_resps, "422", openapi_ref("UnprocessableContent"));
    json_object_set_new(j_resps, "500", openapi_ref("InternalServerError"));
    json_object_set_new(j_resps, "default", openapi_ref("Error"));
    return j_resps;
}

/*
 * The name under which j_schema (titled) goes into j_schemas: its title, or when another
 * schema already has that title, "<title>_<owner>" (NULL when that one is taken too).
 */
static char *openapi_schema_name(const json_t *j_schema, json_t *j_schemas, const char *owner)
{
    const char *title = json_string_value(json_object_get(j_schema, "title"));
    const json_t *j_held = json_object_get(j_schemas, title);
    char *name = NULL;
    size_t i;

    if (j_held == NULL || json_equal(j_held, j_schema))
        return strdup(title);
    if (asprintf(&name, "%s_%s", title, owner) < 0)
        return NULL;
    for (i = 0; name[i] != '\0'; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
            name[i] = '_';
    j_held = json_object_get(j_schemas, name);
    if (j_held != NULL && !json_equal(j_held, j_schema)) {
        free(name);
        name = NULL;
    }
    return name;
}

static void openapi_hoist(json_t *j, json_t *j_schemas, const char *owner);

/*
 * Hoists what is under j_node, then j_node itself when it has a "title": a new {"$ref"} for its
 * place (new reference), or NULL when it stays where it is.
 */
static json_t *openapi_hoist_node(json_t *j_node, json_t *j_schemas, const char *owner)
{
    char ref[160], *name;
    json_t *j_ref;

    openapi_hoist(j_node, j_schemas, owner);
    if (!json_is_string(json_object_get(j_node, "title")))
        return NULL;
    name = openapi_schema_name(j_node, j_schemas, owner);
    if (name == NULL)
        return NULL;
    json_object_set(j_schemas, name, j_node);
    snprintf(ref, sizeof(ref), "#/components/schemas/%s", name);
    j_ref = json_pack("{ss}", "$ref", ref);
    free(name);
    return j_ref;
}

/*
 * Moves every schema with a "title" under j (depth first, so nested ones are moved before
 * their parent) into j_schemas and puts a $ref in its place: a shape that several routes
 * return is then one component (and one type of a generated client). Examples, defaults and
 * constants are values, not schemas, and are left alone.
 */
static void openapi_hoist(json_t *j, json_t *j_schemas, const char *owner)
{
    static const char *const values[] = {"example", "examples", "default", "const", "enum"};
    const char *key;
    json_t *j_child, *j_item, *j_ref;
    size_t i, k;

    json_object_foreach(j, key, j_child) {
        bool value = false;
        for (k = 0; k < sizeof(values) / sizeof(values[0]); k++)
            value |= strcmp(key, values[k]) == 0;
        if (value)
            continue;
        if (json_is_array(j_child)) {
            json_array_foreach(j_child, i, j_item) {
                j_ref = openapi_hoist_node(j_item, j_schemas, owner);
                if (j_ref != NULL)
                    json_array_set_new(j_child, i, j_ref);
            }
        } else if (json_is_object(j_child)) {
            j_ref = openapi_hoist_node(j_child, j_schemas, owner);
            if (j_ref != NULL)
                json_object_set_new(j, key, j_ref);
        }
    }
}

/*
 * The conditional-request headers the dispatcher honours on every route (app/etag.c,
 * app/idempotency.c): If-None-Match and ETag on GET, If-Match and 412 on PUT/PATCH/DELETE,
 * Idempotency-Key on authenticated POSTs, with the replies they add.
 */
static void openapi_conditional(const struct route *r, json_t *j_op)
{
    json_t *j_params = json_object_get(j_op, "parameters"), *j_resps;
    json_t *j_resp, *j_headers;
    const char *status, *header = NULL, *text = NULL;
    bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;

    if (get) {
        header = "If-None-Match";
        text = "ETags of a representation the client has; when one matches (weak comparison), "
               "304 without a body.";
    } else if (post && !(r->flags & (LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_NO_REPLAY))) {
        header = "Idempotency-Key";
        text = "1-255 printable ASCII characters. A retry with the same key and request within "
               "24 h gets the first 2xx reply again (Idempotent-Replayed: true) and creates "
               "nothing; the same key with another request is 422, one still running 409.";
    } else if (!post) {
        header = "If-Match";
        text = "The ETag the client read (strong comparison); when the resource changed since, "
               "412 and nothing changes.";
    }
    if (header == NULL)
        return;
    if (j_params == NULL) {
        j_params = json_array();
        json_object_set_new(j_op, "parameters", j_params);
    }
    json_array_append_new(j_params, json_pack("{ss ss sb ss s{ss}}", "name", header, "in", "header",
                                              "required", 0, "description", text, "schema", "type",
                                              "string"));
    j_resps = json_object_get(j_op, "responses");
    json_object_foreach(j_resps, status, j_resp) {
        if (status[0] != '2' || !json_is_object(j_resp))
            continue;
        j_headers = json_object_get(j_resp, "headers");
        if (!json_is_object(j_headers)) {
            j_headers = json_object();
            json_object_set_new(j_resp, "headers", j_headers);
        }
        if (get)
            json_object_set_new(j_headers, "ETag",
                                json_pack("{ss s{ss}}", "description",
                                          "Strong tag of this representation (SHA-256 of its "
                                          "bytes); send it in If-None-Match or If-Match.",
                                          "schema", "type", "string"));
        else if (post)
            json_object_set_new(j_headers, "Idempotent-Replayed",
                                json_pack("{ss s{ss}}", "description",
                                          "true when this is the kept reply of an earlier "
                                          "request with the same Idempotency-Key.",
                                          "schema", "type", "string"));
    }
    if (get)
        json_object_set_new(j_resps, "304",
                            json_pack("{ss s{s{ss s{ss}}}}", "description",
                                      "Not Modified: If-None-Match matched the current ETag.",
                                      "headers", "ETag", "description", "The current tag.",
                                      "schema", "type", "string"));
    else if (!post)
        json_object_set_new(j_resps, "412", openapi_ref("PreconditionFailed"));
}

static json_t *openapi_operation(const struct route *r, json_t *j_seen, bool jsend,
                                 json_t *j_schemas)
{
    const char *owner = r->owner_name;
    json_t *j_op = NULL, *j_params = json_array(), *j_body = NULL;
    char *op_id = NULL, *auth = NULL, summary[300];
    size_t i;

    if (j_params == NULL)
        goto cleanup;
    for (i = 0; i < r->nsegs; i++)
        if (r->is_param[i])
            json_array_append_new(j_params,
                                  json_pack("{ss ss sb s{ss}}", "name", r->segs[i], "in", "path",
                                            "required", 1, "schema", "type", "string"));
    op_id = openapi_operation_id(r->method, r->path, j_seen);
    auth = openapi_auth_text(r);
    if (op_id == NULL || auth == NULL)
        goto cleanup;
    snprintf(summary, sizeof(summary), "%s %s", r->method, r->path);
    j_op = json_pack("{ss ss ss s[s] so}", "operationId", op_id, "summary", summary, "description",
                     auth, "tags", owner, "responses",
                     openapi_responses(r, json_array_size(j_params) > 0));
    if (j_op == NULL)
        goto cleanup;
    if (json_array_size(j_params) > 0)
        json_object_set(j_op, "parameters", j_params);
    j_body = openapi_request_body(r);
    if (j_body != NULL)
        json_object_set(j_op, "requestBody", j_body);
    if (r->flags & LINTEL_ROUTE_PUBLIC) {
        json_object_set_new(j_op, "security", json_array());
    } else {
        /* A 3.1 http scheme may list roles here; the scope is also named for tools. */
        json_object_set_new(j_op, "security", json_pack("[{s[]}]", "bearerAuth"));
        /* Not a second security scheme: nobody types a signature into "Authorize". */
        if (r->flags & LINTEL_ROUTE_SIGNED)
            json_object_set_new(j_op, "x-lintel-signed-url", json_true());
        if (r->scope != NULL)
            json_object_set_new(j_op, "x-lintel-scope", json_string(r->scope));
        if (r->flags & LINTEL_ROUTE_ADMIN)
            json_object_set_new(j_op, "x-lintel-role", json_string("admin"));
    }
    /* A route that declares no success reply gets one without a schema: nothing to check. */
    if (!host_kit_openapi(r, j_op, jsend))
        json_object_set_new(json_object_get(j_op, "responses"), "2XX",
                            json_pack("{ss}", "description", "Success (no schema declared)."));
    openapi_conditional(r, j_op);
    openapi_declared_headers(j_op);
    openapi_hoist(j_op, j_schemas, owner);
cleanup:
    json_decref(j_params);
    json_decref(j_body);
    free(op_id);
    free(auth);
    return j_op;
}

/* Upgrade endpoints (the WebSocket): the 101, or a refusal of the handshake. */
static json_t *openapi_raw_operation(const char *method, const char *path, json_t *j_seen)
{
    char *op_id = openapi_operation_id(method, path, j_seen), summary[300];
    json_t *j_op;

    if (op_id == NULL)
        return NULL;
    snprintf(summary, sizeof(summary), "%s %s", method, path);
    j_op = json_pack(
        "{ss ss ss s[s] s[{s[]}] s{s{ss} s{ss} so}}", "operationId", op_id, "summary", summary,
        "description",
        "WebSocket upgrade (server-pushed JSON text frames). The access token comes in the "
        "Authorization header, or as the access_token query parameter for browsers.",
        "tags", "core", "security", "bearerAuth", "responses", "101", "description",
        "Switching protocols: the socket is open.", "400", "description",
        "Not a valid WebSocket upgrade.", "default", openapi_ref("Error"));
    free(op_id);
    return j_op;
}

/*
 * Adds j_op (stolen) as paths[path][method]. A raw endpoint that shares a registered route's
 * method and path (the WebSocket upgrade is both) adds its description and 101 to that one.
 */
static void openapi_put(json_t *j_paths, const char *path, const char *method, json_t *j_op,
                        bool raw)
{
    json_t *j_item = json_object_get(j_paths, path), *j_old;
    char lower[16], *merged = NULL;
    size_t k;

    if (j_op == NULL)
        return;
    if (j_item == NULL) {
        j_item = json_object();
        json_object_set_new(j_paths, path, j_item);
    }
    for (k = 0; method[k] != '\0' && k + 1 < sizeof(lower); k++)
        lower[k] = (char)tolower((unsigned char)method[k]);
    lower[k] = '\0';
    j_old = json_object_get(j_item, lower);
    if (!raw || j_old == NULL) {
        json_object_set_new(j_item, lower, j_op);
        return;
    }
    if (asprintf(&merged, "%s %s", json_string_value(json_object_get(j_op, "description")),
                 json_string_value(json_object_get(j_old, "description"))) >= 0)
        json_object_set_new(j_old, "description", json_string(merged));
    json_object_set(json_object_get(j_old, "responses"), "101",
                    json_object_get(json_object_get(j_op, "responses"), "101"));
    free(merged);
    json_decref(j_op);
}

/*
 * The document for the routes registered so far; jsend: error responses described as JSend
 * instead of RFC 9457. New reference, NULL when out of memory.
 */
static json_t *openapi_document_new(bool jsend)
{
    json_t *j_doc = NULL, *j_paths, *j_tags, *j_schemas, *j_seen = json_object();
    size_t i;

    if (j_seen == NULL)
        goto cleanup;
    j_doc = json_pack(
        "{ss s{ss ss ss s{ss ss}} s[{ss ss}] s[{ss ss}] s{} so}", "openapi", "3.1.0", "info",
        "title", "lintel", "version", LINTEL_VERSION, "description",
        "Every route of the core and of the loaded plugins. Bodies are JSON (UTF-8, compact); "
        "lists are {items, total, limit, offset}; errors are RFC 9457 problems (or JSend with "
        "LINTEL_ENVELOPE=jsend). Every reply carries X-Request-Id and X-Response-Time, and "
        "authenticated ones Cache-Control: no-store.",
        "license", "name", "MIT", "identifier", "MIT", "servers", "url", "/", "description",
        "this server", "tags", "name", "core", "description", "The host's own routes", "paths",
        "components", openapi_components(jsend));
    if (j_doc == NULL || json_object_get(j_doc, "components") == NULL)
        goto fail;
    j_paths = json_object_get(j_doc, "paths");
    j_schemas = json_object_get(json_object_get(j_doc, "components"), "schemas");
    j_tags = json_object_get(j_doc, "tags");
    for (i = 0; i < plugin_loader_count(); i++) {
        const struct lintel_plugin *p = plugin_loader_get(i);
        char desc[256];
        snprintf(desc, sizeof(desc), "Plugin %s %s", p->name, p->version != NULL ? p->version : "");
        json_array_append_new(j_tags, json_pack("{ss ss}", "name", p->name, "description", desc));
    }
    /* Routes first: an upgrade endpoint is merged into the route of its path, if any. */
    for (i = 0; i < server_route_count(); i++) {
        const struct route *r = server_route_get(i);
        if (r->upgrade == NULL)
            openapi_put(j_paths, r->path, r->method, openapi_operation(r, j_seen, jsend, j_schemas),
                        false);
    }
    for (i = 0; i < server_route_count(); i++) {
        const struct route *r = server_route_get(i);
        if (r->upgrade != NULL)
            openapi_put(j_paths, r->path, r->method,
                        openapi_raw_operation(r->method, r->path, j_seen), true);
    }
    goto cleanup;
fail:
    json_decref(j_doc);
    j_doc = NULL;
cleanup:
    json_decref(j_seen);
    return j_doc;
}

/* ---- handlers ---- */

static pthread_mutex_t openapi_lock = PTHREAD_MUTEX_INITIALIZER;
static char *openapi_text; /* the serialized document, built at the first request */
static size_t openapi_text_len;

int openapi_handler(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_doc = NULL;
    int rc = LINTEL_ENOMEM;

    (void)state;
    pthread_mutex_lock(&openapi_lock);
    if (openapi_text == NULL) {
        j_doc = openapi_document_new(strcmp(req->cfg->envelope, "jsend") == 0);
        if (j_doc == NULL || json_out_dump(j_doc, &openapi_text, &openapi_text_len) != 0)
            goto cleanup;
    }
    /* The document itself, never wrapped in JSend: tools read it as OpenAPI. */
    rc = host_api()->res_bytes(res, 200, "application/json", openapi_text, openapi_text_len);
cleanup:
    pthread_mutex_unlock(&openapi_lock);
    json_decref(j_doc);
    return rc;
}
