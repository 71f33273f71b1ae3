/*
 * Black-box tests of the numbers plugin against the shared server: every route with its error
 * cases, ownership across users (IDOR), statistics checked against values computed here.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "numbers-password-1"

/* POSTs {"value": <value_text>} and returns the new id (asserting 201). */
static long long number_new(const struct lt_user *u, const char *value_text)
{
    struct lt_resp r;
    char body[128];
    long long id;

    snprintf(body, sizeof(body), "{\"value\":%s}", value_text);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u->token, body), 201);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    lt_resp_clear(&r);
    return id;
}

static void assert_value_422(const struct lt_user *u, const char *method, const char *path,
                             const char *body, const char *message)
{
    struct lt_resp r;

    lt_send(&r, method, path, u->token, body);
    lt_assert_422(&r, "value", message);
    lt_resp_clear(&r);
}

static void assert_near(const json_t *j, double expected)
{
    ck_assert_msg(json_is_number(j), "not a number");
    /* relative: an absolute floor would let a tiny expected value pass as 0 */
    ck_assert_msg(fabs(json_number_value(j) - expected) <= 1e-12 * fabs(expected), "%.17g != %.17g",
                  json_number_value(j), expected);
}

static void assert_timestamp(const json_t *j)
{
    const char *s = json_string_value(j);
    int y, mo, d, h, mi, se;
    char z = 0;

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(strlen(s), 20);
    ck_assert_int_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z), 7);
    ck_assert_int_eq(z, 'Z');
}

START_TEST(create_get_round_trip)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64];
    long long id;

    lt_user_new(&u, "num", PASSWORD);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":5}"), 201);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    ck_assert(json_is_integer(json_object_get(r.j_body, "value")));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 5);
    assert_timestamp(json_object_get(r.j_body, "created_at"));
    assert_timestamp(json_object_get(r.j_body, "updated_at"));
    ck_assert_int_eq(json_object_size(r.j_body), 4);
    snprintf(path, sizeof(path), "/api/numbers/%lld", id);
    ck_assert_str_eq(lt_header(&r, "location"), path);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    ck_assert(json_is_integer(json_object_get(r.j_body, "value")));
    lt_resp_clear(&r);

    /* Reals keep their type and come back as the shortest text that round-trips. */
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":0.1}"), 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":0.1"));
    ck_assert(json_is_real(json_object_get(r.j_body, "value")));
    snprintf(path, sizeof(path), "/api/numbers/%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":0.1"));
    ck_assert(json_real_value(json_object_get(r.j_body, "value")) == 0.1);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":5.0}"), 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":5.0"));
    ck_assert(json_is_real(json_object_get(r.j_body, "value")));
    snprintf(path, sizeof(path), "/api/numbers/%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":5.0"));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token,
                             "{\"value\":0.19938130676746368,\"ignored\":[1]}"),
                     201);
    ck_assert(json_real_value(json_object_get(r.j_body, "value")) == 0.19938130676746368);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":9007199254740993}"),
                     201);
    ck_assert(json_integer_value(json_object_get(r.j_body, "value")) == 9007199254740993LL);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":1e-300}"), 201);
    ck_assert(json_real_value(json_object_get(r.j_body, "value")) == 1e-300);
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(bad_values)
{
    static const char *const not_numbers[] = {
        "{\"value\":\"5\"}", "{\"value\":true}", "{\"value\":false}", "{\"value\":null}",
        "{\"value\":{}}",    "{\"value\":[5]}",  "{\"value\":\"\"}",
    };
    static const char *const not_positive[] = {
        "{\"value\":0}",    "{\"value\":-1}",      "{\"value\":0.0}",
        "{\"value\":-0.0}", "{\"value\":-1e-300}",
    };
    struct lt_user u;
    struct lt_resp r;
    char path[64];
    size_t i;

    lt_user_new(&u, "num", PASSWORD);
    snprintf(path, sizeof(path), "/api/numbers/%lld", number_new(&u, "3"));
    for (i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
        assert_value_422(&u, "POST", "/api/numbers", not_numbers[i], "must be a number");
        assert_value_422(&u, "PUT", path, not_numbers[i], "must be a number");
    }
    for (i = 0; i < sizeof(not_positive) / sizeof(not_positive[0]); i++) {
        assert_value_422(&u, "POST", "/api/numbers", not_positive[i], "must be greater than 0");
        assert_value_422(&u, "PUT", path, not_positive[i], "must be greater than 0");
    }
    assert_value_422(&u, "POST", "/api/numbers", "{}", "is required");
    assert_value_422(&u, "POST", "/api/numbers", "{\"Value\":5}", "is required");
    assert_value_422(&u, "PUT", path, "{}", "is required");

    /* Literals JSON cannot hold as a finite double: refused by the host's parser. */
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":1e400}"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":-1e400}"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":NaN}"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":Infinity}"), 422);
    ck_assert_int_eq(lt_status("PUT", path, u.token, "{\"value\":1e400}"), 422);

    /* Not an object at all. */
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "[5]"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "5"), 422);

    /* Malformed JSON: 400 with the byte offset; wrong media type: 415. */
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":"), 400);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "detail")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("PUT", path, u.token, "{value:5}"), 400);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, ""), 400);
    ck_assert_int_eq(lt_request(lt_base(), "POST", "/api/numbers", u.token, "text/plain",
                                "{\"value\":5}", (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 415);
    lt_resp_clear(&r);
    /* A JSON body without a Content-Type is accepted. */
    ck_assert_int_eq(lt_request(lt_base(), "POST", "/api/numbers", u.token, NULL, "{\"value\":5}",
                                (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);

    /* Nothing of the refused requests was stored: 3 and the last 5 only. */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 2);
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(update_and_delete)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *created_at;
    long long id;

    lt_user_new(&u, "num", PASSWORD);
    id = number_new(&u, "3");
    snprintf(path, sizeof(path), "/api/numbers/%lld", id);
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    created_at = strdup(json_string_value(json_object_get(r.j_body, "created_at")));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "PUT", path, u.token, "{\"value\":7.25}"), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    ck_assert(json_real_value(json_object_get(r.j_body, "value")) == 7.25);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "created_at")), created_at);
    assert_timestamp(json_object_get(r.j_body, "updated_at"));
    ck_assert_str_ge(json_string_value(json_object_get(r.j_body, "updated_at")), created_at);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert(json_real_value(json_object_get(r.j_body, "value")) == 7.25);
    lt_resp_clear(&r);
    /* Statistics follow each change (they are cached per user and version). */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", u.token, NULL), 200);
    ck_assert(json_real_value(json_object_get(r.j_body, "max")) == 7.25);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "PUT", path, u.token, "{\"value\":8}"), 200);
    ck_assert(json_is_integer(json_object_get(r.j_body, "value")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "max")), 8);
    lt_resp_clear(&r);
    number_new(&u, "10");
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "max")), 10);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "DELETE", path, u.token, NULL), 204);
    ck_assert_int_eq(r.len, 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("GET", path, u.token, NULL), 404);
    ck_assert_int_eq(lt_status("PUT", path, u.token, "{\"value\":1}"), 404);
    ck_assert_int_eq(lt_send(&r, "DELETE", path, u.token, NULL), 404);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "content-type"), "application/problem+json"));
    lt_resp_clear(&r);
    free(created_at);
    lt_user_clear(&u);
}
END_TEST

START_TEST(bad_ids_are_404)
{
    static const char *const ids[] = {
        "0",   "-1",   "abc",   "1.5", "1e3",  "99999999999999999999", "9223372036854775807",
        "%20", "1%00", "12abc", "+1",  "0x10",
    };
    struct lt_user u;
    struct lt_resp r;
    char path[128];
    size_t i;

    lt_user_new(&u, "num", PASSWORD);
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        snprintf(path, sizeof(path), "/api/numbers/%s", ids[i]);
        ck_assert_msg(lt_status("GET", path, u.token, NULL) == 404, "GET %s", path);
        ck_assert_msg(lt_status("PUT", path, u.token, "{\"value\":1}") == 404, "PUT %s", path);
        ck_assert_msg(lt_status("DELETE", path, u.token, NULL) == 404, "DELETE %s", path);
    }
    /* A malformed id gets the very reply an unknown one does (api->req_id). */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/12abc", u.token, NULL), 404);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")), "Number not found");
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(authentication_and_scopes)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *read_only = NULL, *no_delete = NULL, *tasks_only = NULL;
    const char *detail;

    lt_user_new(&u, "num", PASSWORD);
    snprintf(path, sizeof(path), "/api/numbers/%lld", number_new(&u, "1"));

    /* No token, a garbage token: 401 with WWW-Authenticate. */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers", NULL, NULL), 401);
    ck_assert_ptr_nonnull(lt_header(&r, "www-authenticate"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("GET", "/api/numbers/stats", NULL, NULL), 401);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", NULL, "{\"value\":1}"), 401);
    ck_assert_int_eq(lt_status("GET", path, NULL, NULL), 401);
    ck_assert_int_eq(lt_status("PUT", path, NULL, "{\"value\":1}"), 401);
    ck_assert_int_eq(lt_status("DELETE", path, NULL, NULL), 401);
    ck_assert_int_eq(lt_status("GET", "/api/numbers", "not.a.token", NULL), 401);

    /* Narrowed tokens: 403 naming the missing scope. */
    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, "numbers:read", &read_only, NULL),
                     0);
    ck_assert_int_eq(lt_status("GET", "/api/numbers", read_only, NULL), 200);
    ck_assert_int_eq(lt_status("GET", path, read_only, NULL), 200);
    ck_assert_int_eq(lt_status("GET", "/api/numbers/stats", read_only, NULL), 200);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", read_only, "{\"value\":1}"), 403);
    detail = json_string_value(json_object_get(r.j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "numbers:write") != NULL, "%s", r.body);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("PUT", path, read_only, "{\"value\":2}"), 403);
    ck_assert_int_eq(lt_status("DELETE", path, read_only, NULL), 403);

    ck_assert_int_eq(
        lt_login(lt_base(), u.username, PASSWORD, "numbers:read numbers:write", &no_delete, NULL),
        0);
    ck_assert_int_eq(lt_status("PUT", path, no_delete, "{\"value\":2}"), 200);
    ck_assert_int_eq(lt_send(&r, "DELETE", path, no_delete, NULL), 403);
    detail = json_string_value(json_object_get(r.j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "numbers:delete") != NULL, "%s", r.body);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, "tasks:read", &tasks_only, NULL), 0);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", tasks_only, NULL), 403);
    detail = json_string_value(json_object_get(r.j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "numbers:read") != NULL, "%s", r.body);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("GET", "/api/numbers", tasks_only, NULL), 403);

    /* The number is untouched by the refused calls (2 from the allowed PUT). */
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 2);
    lt_resp_clear(&r);
    free(read_only);
    free(no_delete);
    free(tasks_only);
    lt_user_clear(&u);
}
END_TEST

START_TEST(other_users_numbers_are_404)
{
    struct lt_user a, b;
    struct lt_resp r;
    char path[64];

    lt_user_new(&a, "num", PASSWORD);
    lt_user_new(&b, "num", PASSWORD);
    snprintf(path, sizeof(path), "/api/numbers/%lld", number_new(&a, "42"));
    number_new(&b, "1");

    ck_assert_int_eq(lt_send(&r, "GET", path, b.token, NULL), 404);
    ck_assert_ptr_null(strstr(r.body, "42"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("PUT", path, b.token, "{\"value\":1}"), 404);
    ck_assert_int_eq(lt_status("DELETE", path, b.token, NULL), 404);

    /* A's number is intact, and each list and stats sees its owner's rows only. */
    ck_assert_int_eq(lt_send(&r, "GET", path, a.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 42);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers", a.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.j_body, "items"), 0), "value")),
                     42);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", b.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 1);
    assert_near(json_object_get(r.j_body, "sum"), 1);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", a.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 1);
    assert_near(json_object_get(r.j_body, "max"), 42);
    lt_resp_clear(&r);
    lt_user_clear(&a);
    lt_user_clear(&b);
}
END_TEST

START_TEST(list_pagination)
{
    static const char *const bad[][2] = {
        {"limit=-1", "limit"},
        {"limit=abc", "limit"},
        {"limit=1.5", "limit"},
        {"limit=1001", "limit"},
        {"limit=", "limit"},
        {"limit=1e2", "limit"},
        {"offset=-1", "offset"},
        {"offset=x", "offset"},
        {"offset=0.5", "offset"},
        {"skip=-3", "skip"},
        {"skip=", "skip"},
        {"offset=1&skip=2", "skip"},
        {"limit=99999999999999999999", "limit"},
        {"offset=99999999999999999999", "offset"},
    };
    struct lt_user u;
    struct lt_resp r;
    const json_t *j_items;
    long long ids[5];
    char path[96];
    size_t i;

    lt_user_new(&u, "num", PASSWORD);
    for (i = 0; i < 5; i++) {
        char value[16];

        snprintf(value, sizeof(value), "%zu", i + 1);
        ids[i] = number_new(&u, value);
    }

    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 100);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 0);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 5);
    for (i = 0; i < 5; i++) /* oldest first */
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, i), "id")),
                         ids[i]);
    ck_assert_int_eq(json_object_size(json_array_get(j_items, 0)), 4);
    ck_assert_ptr_nonnull(lt_header(&r, "cache-control"));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?limit=2&offset=1", u.token, NULL), 200);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, 0), "id")), ids[1]);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 1);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?skip=3", u.token, NULL), 200);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, 0), "id")), ids[3]);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 3);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?offset=4&skip=4&limit=1000", u.token, NULL),
                     200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?offset=10", u.token, NULL), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 5);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?limit=0", u.token, NULL), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 5);
    lt_resp_clear(&r);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/numbers?%s", bad[i][0]);
        lt_send(&r, "GET", path, u.token, NULL);
        lt_assert_422(&r, bad[i][1], NULL);
        lt_resp_clear(&r);
    }
    /* The host's wording (api->req_page): the detail names the parameter. */
    lt_send(&r, "GET", "/api/numbers?limit=1001", u.token, NULL);
    lt_assert_422(&r, "limit", "must be an integer between 0 and 1000");
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")),
                     "limit must be an integer between 0 and 1000.");
    lt_resp_clear(&r);
    lt_send(&r, "GET", "/api/numbers?offset=x", u.token, NULL);
    lt_assert_422(&r, "offset", "must be a non-negative integer");
    lt_resp_clear(&r);
    lt_send(&r, "GET", "/api/numbers?offset=1&skip=2", u.token, NULL);
    lt_assert_422(&r, "skip", "conflicts with offset");
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

/* Posts values and checks the stats against a two-pass computation done here. */
static void check_stats(const struct lt_user *u, const double *values, size_t n)
{
    struct lt_resp r;
    double sum = 0, mean, m2 = 0, min = values[0], max = values[0], median, *sorted;
    size_t i, j;

    sorted = malloc(n * sizeof(*sorted));
    ck_assert_ptr_nonnull(sorted);
    for (i = 0; i < n; i++) {
        char text[64];

        snprintf(text, sizeof(text), "%.17g", values[i]);
        number_new(u, text);
        sum += values[i];
        min = fmin(min, values[i]);
        max = fmax(max, values[i]);
        sorted[i] = values[i];
    }
    mean = sum / (double)n;
    for (i = 0; i < n; i++)
        m2 += (values[i] - mean) * (values[i] - mean);
    for (i = 1; i < n; i++) /* insertion sort: n is small */
        for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];

            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;

    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", u->token, NULL), 200);
    ck_assert_int_eq(json_object_size(r.j_body), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), (json_int_t)n);
    assert_near(json_object_get(r.j_body, "sum"), sum);
    assert_near(json_object_get(r.j_body, "avg"), mean);
    assert_near(json_object_get(r.j_body, "min"), min);
    assert_near(json_object_get(r.j_body, "max"), max);
    assert_near(json_object_get(r.j_body, "median"), median);
    if (n < 2)
        ck_assert(json_is_null(json_object_get(r.j_body, "stddev")));
    else
        assert_near(json_object_get(r.j_body, "stddev"), sqrt(m2 / (double)(n - 1)));
    lt_resp_clear(&r);
    free(sorted);
}

START_TEST(stats)
{
    static const double odd[] = {3, 1, 10.5, 2, 4};
    static const double even[] = {0.1, 0.2, 0.3, 1e6, 7, 7};
    static const double one[] = {2.5};
    struct lt_user empty, u1, u2, u3;
    struct lt_resp r;
    static const char *const nulls[] = {"avg", "min", "max", "stddev", "median"};
    size_t i;

    lt_user_new(&empty, "num", PASSWORD);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", empty.token, NULL), 200);
    ck_assert_int_eq(json_object_size(r.j_body), 7);
    ck_assert(json_is_integer(json_object_get(r.j_body, "count")));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 0);
    assert_near(json_object_get(r.j_body, "sum"), 0);
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        ck_assert_msg(json_is_null(json_object_get(r.j_body, nulls[i])), "%s in %s", nulls[i],
                      r.body);
    lt_resp_clear(&r);

    lt_user_new(&u1, "num", PASSWORD);
    check_stats(&u1, one, 1);
    lt_user_new(&u2, "num", PASSWORD);
    check_stats(&u2, odd, 5);
    lt_user_new(&u3, "num", PASSWORD);
    check_stats(&u3, even, 6);

    /* A deleted number leaves the statistics. */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers?limit=1", u1.token, NULL), 200);
    {
        char path[64];

        snprintf(path, sizeof(path), "/api/numbers/%lld",
                 (long long)json_integer_value(
                     json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "id")));
        ck_assert_int_eq(lt_status("DELETE", path, u1.token, NULL), 204);
    }
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", u1.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 0);
    lt_resp_clear(&r);

    lt_user_clear(&empty);
    lt_user_clear(&u1);
    lt_user_clear(&u2);
    lt_user_clear(&u3);
}
END_TEST

/* Runs sql on the shared server's database in the sqlite3 shell; returns the first integer. */
static long long shared_db_count(const char *sql)
{
    char dir_file[4096], data_dir[4096] = "", cmd[8192], out[64] = "";
    const char *shared = getenv("LINTEL_TEST_SHARED");
    FILE *f;

    ck_assert_ptr_nonnull(shared);
    snprintf(dir_file, sizeof(dir_file), "%s/data_dir", shared);
    f = fopen(dir_file, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(data_dir, sizeof(data_dir), f));
    fclose(f);
    data_dir[strcspn(data_dir, "\r\n")] = '\0';
    snprintf(cmd, sizeof(cmd), "sqlite3 -batch '%s/lintel.db' \"%s\"", data_dir, sql);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
    ck_assert_int_eq(pclose(f), 0);
    return atoll(out);
}

START_TEST(deleted_account_loses_its_numbers)
{
    struct lt_user u, other;
    char sql[256];

    lt_user_new(&u, "num", PASSWORD);
    lt_user_new(&other, "num", PASSWORD);
    number_new(&u, "1");
    number_new(&u, "2.5");
    number_new(&other, "3");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM numbers WHERE user_id = %lld", u.id);
    ck_assert_int_eq(shared_db_count(sql), 2);

    ck_assert_int_eq(lt_status("DELETE", "/api/users/me", u.token, NULL), 204);
    ck_assert_int_eq(shared_db_count(sql), 0);
    ck_assert_int_eq(lt_status("GET", "/api/numbers", u.token, NULL), 401);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM numbers WHERE user_id = %lld", other.id);
    ck_assert_int_eq(shared_db_count(sql), 1);
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

static Suite *numbers_suite(void)
{
    Suite *s = suite_create("numbers");
    TCase *tc = tcase_create("http");

    tcase_add_test(tc, create_get_round_trip);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, update_and_delete);
    tcase_add_test(tc, bad_ids_are_404);
    tcase_add_test(tc, authentication_and_scopes);
    tcase_add_test(tc, other_users_numbers_are_404);
    tcase_add_test(tc, list_pagination);
    tcase_add_test(tc, stats);
    tcase_add_test(tc, deleted_account_loses_its_numbers);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(numbers_suite)
