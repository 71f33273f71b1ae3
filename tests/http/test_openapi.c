/*
 * GET /openapi.json, black-box (the /docs page: test_web.c): the document is well-formed
 * OpenAPI 3.1 (every $ref resolves, path parameters declared, ids unique) and lists the loaded
 * plugins' routes.
 */
#include "lt_test.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base;
static json_t *j_doc; /* the document, fetched once */

static const char *const http_methods[] = {"get",   "put",  "post",    "delete",
                                           "patch", "head", "options", "trace"};

static void fetch_doc(void)
{
    struct lt_resp r = {0};

    if (j_doc != NULL)
        return;
    ck_assert_int_eq(lt_request(base, "GET", "/openapi.json", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Content-Type"), "application/json"));
    ck_assert_str_eq(lt_header(&r, "X-Content-Type-Options"), "nosniff");
    ck_assert_ptr_nonnull(lt_header(&r, "X-Request-Id"));
    ck_assert_ptr_nonnull(r.j_body);
    j_doc = json_incref(r.j_body);
    lt_resp_clear(&r);
}

/* Resolves a local JSON pointer "#/a/b~1c" against the document; NULL when it does not. */
static json_t *resolve(const char *ref)
{
    json_t *j = j_doc;
    char key[256];
    const char *p;

    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    for (p = ref + 2; j != NULL && *p != '\0';) {
        size_t n = 0;
        while (*p != '\0' && *p != '/' && n + 1 < sizeof(key)) {
            if (p[0] == '~' && p[1] == '1') {
                key[n++] = '/';
                p += 2;
            } else if (p[0] == '~' && p[1] == '0') {
                key[n++] = '~';
                p += 2;
            } else {
                key[n++] = *p++;
            }
        }
        key[n] = '\0';
        j = json_object_get(j, key);
        if (*p == '/')
            p++;
    }
    return j;
}

/* Every "$ref" anywhere in j resolves; returns how many were seen. */
static int check_refs(const json_t *j)
{
    const char *key;
    json_t *j_v;
    size_t i;
    int n = 0;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, j_v) {
            if (strcmp(key, "$ref") == 0) {
                ck_assert_msg(json_is_string(j_v), "$ref is not a string");
                ck_assert_msg(resolve(json_string_value(j_v)) != NULL, "$ref %s does not resolve",
                              json_string_value(j_v));
                n++;
            } else {
                n += check_refs(j_v);
            }
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, j_v)
            n += check_refs(j_v);
    }
    return n;
}

START_TEST(document_shape)
{
    const json_t *j_bearer, *j_problem, *j_servers;

    fetch_doc();
    ck_assert_str_eq(json_string_value(json_object_get(j_doc, "openapi")), "3.1.0");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j_doc, "info"), "title")),
                     "lintel");
    ck_assert(json_string_length(json_object_get(json_object_get(j_doc, "info"), "version")) > 0);
    j_servers = json_object_get(j_doc, "servers");
    ck_assert(json_array_size(j_servers) >= 1);
    ck_assert(json_is_string(json_object_get(json_array_get(j_servers, 0), "url")));
    j_bearer = resolve("#/components/securitySchemes/bearerAuth");
    ck_assert_ptr_nonnull(j_bearer);
    ck_assert_str_eq(json_string_value(json_object_get(j_bearer, "type")), "http");
    ck_assert_str_eq(json_string_value(json_object_get(j_bearer, "scheme")), "bearer");
    ck_assert_str_eq(json_string_value(json_object_get(j_bearer, "bearerFormat")), "JWT");
    j_problem = resolve("#/components/schemas/Problem");
    ck_assert_ptr_nonnull(j_problem);
    ck_assert_ptr_nonnull(resolve("#/components/schemas/Problem/properties/type"));
    ck_assert_ptr_nonnull(resolve("#/components/schemas/Problem/properties/errors"));
    ck_assert_ptr_nonnull(resolve(
        "#/components/responses/Unauthorized/content/application~1problem+json/schema/$ref"));
    ck_assert_int_gt(check_refs(j_doc), 10);
}
END_TEST

/* Every operation: responses, a unique operationId, its {params} declared, known schemes. */
START_TEST(every_operation_is_complete)
{
    json_t *j_ids = json_object(), *j_item;
    const char *path;
    int ops = 0;

    fetch_doc();
    json_object_foreach(json_object_get(j_doc, "paths"), path, j_item) {
        size_t m;
        ck_assert_msg(path[0] == '/', "path %s", path);
        for (m = 0; m < sizeof(http_methods) / sizeof(http_methods[0]); m++) {
            const json_t *j_op = json_object_get(j_item, http_methods[m]), *j_sec;
            const char *id, *p;
            size_t i;
            if (j_op == NULL)
                continue;
            ops++;
            id = json_string_value(json_object_get(j_op, "operationId"));
            ck_assert_ptr_nonnull(id);
            ck_assert_msg(json_object_get(j_ids, id) == NULL, "operationId %s twice", id);
            json_object_set_new(j_ids, id, json_true());
            ck_assert(json_object_size(json_object_get(j_op, "responses")) > 0);
            /* Every route declares what it answers on success (its table's replies). */
            {
                const char *status;
                const json_t *j_resp;
                bool declared = false;
                json_object_foreach(json_object_get(j_op, "responses"), status, j_resp)
                    declared |= (status[0] == '2' || strcmp(status, "101") == 0) &&
                                strcmp(status, "2XX") != 0;
                ck_assert_msg(declared, "%s %s declares no success reply", http_methods[m], path);
            }
            /* Each {name} of the path is a required path parameter of the operation. */
            for (p = strchr(path, '{'); p != NULL; p = strchr(p + 1, '{')) {
                size_t n = strcspn(p + 1, "}");
                const json_t *j_param;
                bool found = false;
                json_array_foreach(json_object_get(j_op, "parameters"), i, j_param) {
                    const char *name = json_string_value(json_object_get(j_param, "name"));
                    if (name != NULL && strlen(name) == n && strncmp(name, p + 1, n) == 0 &&
                        strcmp(json_string_value(json_object_get(j_param, "in")), "path") == 0 &&
                        json_is_true(json_object_get(j_param, "required")))
                        found = true;
                }
                ck_assert_msg(found, "%s %s: parameter %.*s not declared", http_methods[m], path,
                              (int)n, p + 1);
            }
            json_array_foreach(json_object_get(j_op, "security"), i, j_sec) {
                const char *scheme;
                json_t *j_scopes;
                json_object_foreach((json_t *)j_sec, scheme, j_scopes) {
                    char ref[128];
                    snprintf(ref, sizeof(ref), "#/components/securitySchemes/%s", scheme);
                    ck_assert_msg(resolve(ref) != NULL, "unknown scheme %s", scheme);
                }
            }
        }
    }
    ck_assert_int_gt(ops, 20);
    json_decref(j_ids);
}
END_TEST

START_TEST(known_routes)
{
    const json_t *j_op, *j_param;
    const char *desc;

    fetch_doc();
    /* Public core route: no security requirement, the health schema. */
    j_op = resolve("#/paths/~1health/get");
    ck_assert_ptr_nonnull(j_op);
    ck_assert_int_eq(json_array_size(json_object_get(j_op, "security")), 0);
    ck_assert_ptr_nonnull(resolve("#/components/schemas/Health"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1openapi.json/get"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1docs/get"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1auth~1login/post"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1auth~1register/post"));
    /* A scoped plugin route: bearer security, the scope named, its path parameter. */
    j_op = resolve("#/paths/~1api~1numbers~1{id}/get");
    ck_assert_ptr_nonnull(j_op);
    ck_assert_ptr_nonnull(
        json_object_get(json_array_get(json_object_get(j_op, "security"), 0), "bearerAuth"));
    desc = json_string_value(json_object_get(j_op, "description"));
    ck_assert_ptr_nonnull(desc);
    ck_assert_ptr_nonnull(strstr(desc, "numbers:read"));
    ck_assert_str_eq(json_string_value(json_object_get(j_op, "x-lintel-scope")), "numbers:read");
    j_param = json_array_get(json_object_get(j_op, "parameters"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_param, "name")), "id");
    ck_assert_ptr_nonnull(json_object_get(json_object_get(j_op, "responses"), "401"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(j_op, "responses"), "404"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1numbers~1{id}/put/requestBody/content"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1numbers~1{id}/delete"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1numbers~1stats/get"));
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1tasks~1{id}/patch"));
    /* Declared shapes: a titled schema is one component, referenced by each route using it. */
    ck_assert_str_eq(json_string_value(json_object_get(
                         resolve("#/paths/~1api~1numbers~1{id}/get/responses/200/content/"
                                 "application~1json/schema"),
                         "$ref")),
                     "#/components/schemas/Number");
    ck_assert_ptr_nonnull(resolve("#/components/schemas/Number/properties/value"));
    ck_assert_ptr_nonnull(resolve("#/components/schemas/Task/properties/done"));
    ck_assert_ptr_nonnull(resolve("#/components/schemas/List/properties/items"));
    ck_assert_ptr_nonnull(
        resolve("#/paths/~1api~1numbers/post/requestBody/content/application~1json/example"));
    ck_assert_ptr_null(resolve("#/paths/~1api~1numbers~1{id}/delete/responses/204/content"));
    /* Query parameters with their bounds (Swagger's "Try it out" offers them). */
    {
        const json_t *j_params = resolve("#/paths/~1api~1datapoints/get/parameters");
        bool limit = false, start = false;
        size_t i;
        json_array_foreach(j_params, i, j_param) {
            const char *name = json_string_value(json_object_get(j_param, "name"));
            const json_t *j_schema = json_object_get(j_param, "schema");
            if (strcmp(name, "limit") == 0)
                limit = json_integer_value(json_object_get(j_schema, "maximum")) == 1000 &&
                        strcmp(json_string_value(json_object_get(j_param, "in")), "query") == 0;
            start |= strcmp(name, "start") == 0;
        }
        ck_assert(limit && start);
    }
    /* The form login is described too. */
    ck_assert_ptr_nonnull(resolve("#/paths/~1api~1auth~1login/post/requestBody/content/"
                                  "application~1x-www-form-urlencoded"));
}
END_TEST

START_TEST(wrong_method)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(base, "POST", "/openapi.json", NULL, "{}", &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Allow"), "GET"));
    ck_assert_ptr_null(strstr(lt_header(&r, "Allow"), "POST"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(base, "DELETE", "/docs", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 405);
    lt_resp_clear(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("openapi");
    SRunner *sr;
    int failed;

    base = lt_shared_url();
    if (base == NULL)
        return 1;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, document_shape);
    tcase_add_test(tc, every_operation_is_complete);
    tcase_add_test(tc, known_routes);
    tcase_add_test(tc, wrong_method);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(j_doc);
    return failed == 0 ? 0 : 1;
}
