/*
 * Black-box tests of the "wec" compatibility profile (seed 000) on a private server started as
 * that seed's users would run it: every endpoint of wire.md with its exact bodies and errors.
 */
#include "lt_test.h"

#include <check.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const wec_env[] = {"LINTEL_COMPAT=wec", "LINTEL_ADMIN_PASSWORD=1234",
                                      "LINTEL_PASSWORD_MIN=4", NULL};

static void wec_start(void)
{
    lt_compat_start(wec_env);
}

/* The admin's token from POST /login. */
static char *wec_token(void)
{
    struct lt_resp r;
    char *t;

    ck_assert_int_eq(lt_compat_send(&r, "POST", "/login", NULL,
                                    "{\"username\":\"admin\",\"password\":\"1234\"}"),
                     200);
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "token_type")), "bearer");
    lt_resp_clear(&r);
    return t;
}

/* An RFC 7807 body of seed 000: exact status, title, detail and instance. */
static void assert_problem(const struct lt_resp *r, long status, const char *title,
                           const char *detail, const char *instance)
{
    ck_assert_msg(r->status == status, "expected %ld, got %ld: %s", status, r->status, r->body);
    ck_assert_ptr_nonnull(lt_header(r, "content-type"));
    ck_assert_str_eq(lt_header(r, "content-type"), "application/problem+json");
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "type")), "about:blank");
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "title")), title);
    ck_assert_int_eq(json_integer_value(json_object_get(r->j_body, "status")), status);
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "detail")), detail);
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "instance")), instance);
    ck_assert_int_eq(json_object_size(r->j_body), 5);
}

static void expect_problem(const char *method, const char *path, const char *token,
                           const char *body, long status, const char *title, const char *detail)
{
    struct lt_resp r;
    char instance[256];

    snprintf(instance, sizeof(instance), "%.*s", (int)strcspn(path, "?"), path);
    lt_compat_send(&r, method, path, token, body);
    assert_problem(&r, status, title, detail, instance);
    lt_resp_clear(&r);
}

/* The payload of a JWT as JSON (base64url decoded with gnutls). */
static json_t *jwt_payload(const char *token)
{
    const char *p = strchr(token, '.'), *end;
    char *b64;
    size_t n, i;
    gnutls_datum_t in, out = {NULL, 0};
    json_t *j;

    ck_assert_ptr_nonnull(p);
    end = strchr(p + 1, '.');
    ck_assert_ptr_nonnull(end);
    n = (size_t)(end - p - 1);
    b64 = calloc(n + 4, 1);
    ck_assert_ptr_nonnull(b64);
    for (i = 0; i < n; i++)
        b64[i] = p[1 + i] == '-' ? '+' : p[1 + i] == '_' ? '/' : p[1 + i];
    while (n % 4 != 0)
        b64[n++] = '=';
    in.data = (unsigned char *)b64;
    in.size = (unsigned)n;
    ck_assert_int_eq(gnutls_base64_decode2(&in, &out), 0);
    j = json_loadb((const char *)out.data, out.size, 0, NULL);
    gnutls_free(out.data);
    free(b64);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Seed 000 tests 1 and 2: login, the token's claims, wrong credentials. */
START_TEST(login)
{
    char *t = wec_token();
    json_t *j = jwt_payload(t);
    const json_t *j_perm = json_object_get(j, "permissions");
    long long life;

    ck_assert_str_eq(json_string_value(json_object_get(j, "sub")), "admin");
    ck_assert_int_eq(json_array_size(j_perm), 3);
    ck_assert_str_eq(json_string_value(json_array_get(j_perm, 0)), "numbers:read");
    ck_assert_str_eq(json_string_value(json_array_get(j_perm, 1)), "numbers:write");
    ck_assert_str_eq(json_string_value(json_array_get(j_perm, 2)), "numbers:delete");
    life = (long long)(json_integer_value(json_object_get(j, "exp")) -
                       json_integer_value(json_object_get(j, "iat")));
    ck_assert(life == 899 || life == 900);
    json_decref(j);
    free(t);
    expect_problem("POST", "/login", NULL, "{\"username\":\"admin\",\"password\":\"wrong\"}", 401,
                   "Unauthorized", "Invalid credentials");
    expect_problem("POST", "/login", NULL, "{\"username\":\"nobody\",\"password\":\"1234\"}", 401,
                   "Unauthorized", "Invalid credentials");
    expect_problem("POST", "/login", NULL, "{\"username\":\"admin\"}", 422, "Validation Error",
                   "password: Field required");
    expect_problem("POST", "/login", NULL, "{\"username\":5,\"password\":\"1234\"}", 422,
                   "Validation Error", "username: Input should be a valid string");
}
END_TEST

/* Tests 3, 4 and 11: no token, another scheme, garbage, a token without the permission. */
START_TEST(auth_failures)
{
    struct lt_resp r;
    const char *hdr[] = {"Authorization: Basic eDp5", NULL};
    char *narrow = NULL;

    expect_problem("GET", "/numbers", NULL, NULL, 401, "Unauthorized", "Not authenticated");
    ck_assert_int_eq(lt_request(lt_compat.url, "GET", "/numbers", NULL, NULL, NULL, 0, hdr, &r), 0);
    assert_problem(&r, 401, "Unauthorized", "Not authenticated", "/numbers");
    lt_resp_clear(&r);
    expect_problem("GET", "/stats", "garbage", NULL, 401, "Unauthorized",
                   "Invalid authentication credentials");
    /* lintel's own login narrowed to one scope: the seed's 403 names the permission */
    ck_assert_int_eq(lt_login(lt_compat.url, "admin", "1234", "profile", &narrow, NULL), 0);
    expect_problem("GET", "/stats", narrow, NULL, 403, "Forbidden",
                   "Permission denied: numbers:read required");
    expect_problem("DELETE", "/numbers/1", narrow, NULL, 403, "Forbidden",
                   "Permission denied: numbers:delete required");
    free(narrow);
}
END_TEST

/* Tests 5 to 8: create, list in order, get, update, delete, and every validation message. */
START_TEST(numbers_crud)
{
    struct lt_resp r;
    char *t = wec_token(), path[64];
    long long id;
    const json_t *j_list;

    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", t, "{\"value\":5}"), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "username")), "admin");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 5);
    ck_assert_int_eq(strlen(json_string_value(json_object_get(r.j_body, "created_at"))), 27);
    id = (long long)json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(json_object_size(r.j_body), 4);
    lt_resp_clear(&r);
    /* pydantic's lax int: "7", 7.0 and true are numbers */
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", t, "{\"value\":\"7\"}"), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 7);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", t, "{\"value\":7.0}"), 200);
    lt_resp_clear(&r);
    expect_problem("POST", "/numbers", t, "{\"value\":0}", 422, "Validation Error",
                   "value: Value error, Value must be greater than 0");
    expect_problem("POST", "/numbers", t, "{\"value\":-3}", 422, "Validation Error",
                   "value: Value error, Value must be greater than 0");
    expect_problem("POST", "/numbers", t, "{\"value\":1.5}", 422, "Validation Error",
                   "value: Input should be a valid integer, got a number with a fractional part");
    expect_problem("POST", "/numbers", t, "{\"value\":\"x\"}", 422, "Validation Error",
                   "value: Input should be a valid integer, unable to parse string as an integer");
    expect_problem("POST", "/numbers", t, "{}", 422, "Validation Error", "value: Field required");
    expect_problem("POST", "/numbers", t, NULL, 422, "Validation Error", "body: Field required");
    expect_problem("POST", "/numbers", t, "{\"value\":", 422, "Validation Error",
                   "9: JSON decode error");

    ck_assert_int_eq(lt_compat_send(&r, "GET", "/numbers", t, NULL), 200);
    j_list = json_object_get(r.j_body, "numbers");
    ck_assert_int_eq(json_array_size(j_list), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_list, 0), "value")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_list, 1), "value")), 7);
    ck_assert_int_eq(json_object_size(json_array_get(j_list, 0)), 2);
    lt_resp_clear(&r);

    snprintf(path, sizeof(path), "/numbers/%lld", id);
    ck_assert_int_eq(lt_compat_send(&r, "GET", path, t, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    lt_resp_clear(&r);
    expect_problem("GET", "/numbers/999999", t, NULL, 404, "Not Found", "Number not found");
    expect_problem("GET", "/numbers/0", t, NULL, 404, "Not Found", "Number not found");
    expect_problem("GET", "/numbers/abc", t, NULL, 422, "Validation Error",
                   "number_id: Input should be a valid integer, unable to parse string as an "
                   "integer");

    ck_assert_int_eq(lt_compat_send(&r, "PUT", path, t, "{\"value\":9}"), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 9);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    lt_resp_clear(&r);
    expect_problem("PUT", path, t, "{\"value\":0}", 422, "Validation Error",
                   "value: Value error, Value must be greater than 0");
    expect_problem("PUT", "/numbers/999999", t, "{\"value\":3}", 404, "Not Found",
                   "Number not found");

    ck_assert_int_eq(lt_compat_send(&r, "DELETE", path, t, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "message")),
                     "Number deleted successfully");
    lt_resp_clear(&r);
    expect_problem("DELETE", path, t, NULL, 404, "Not Found", "Number not found");
    free(t);
}
END_TEST

/* Test 9: statistics, empty and over 2, 3, 5 (average rounded to 2 places). */
START_TEST(stats)
{
    struct lt_resp r;
    char *tok = NULL, *user = NULL;
    const json_t *j_s;
    long long uid;

    /* a fresh user of lintel's own API, then the seed's routes with its token */
    ck_assert_int_eq(
        lt_register(lt_compat.url, "wecstats", "wec-stats-password", &tok, &uid, &user), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/stats", tok, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "username")), user);
    j_s = json_object_get(r.j_body, "statistics");
    ck_assert_int_eq(json_integer_value(json_object_get(j_s, "count")), 0);
    ck_assert(json_is_integer(json_object_get(j_s, "sum")));
    ck_assert(json_is_real(json_object_get(j_s, "average")));
    ck_assert(json_is_null(json_object_get(j_s, "min")));
    ck_assert(json_is_null(json_object_get(j_s, "max")));
    ck_assert_ptr_nonnull(strstr(r.body, "\"average\":0.0"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", tok, "{\"value\":2}"), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", tok, "{\"value\":3}"), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", tok, "{\"value\":5}"), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/stats", tok, NULL), 200);
    ck_assert_ptr_nonnull(strstr(
        r.body, "\"statistics\":{\"count\":3,\"sum\":10,\"average\":3.33,\"min\":2,\"max\":5}"));
    lt_resp_clear(&r);
    /* the same rows through lintel's own API */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/numbers", tok, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 3);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/numbers/stats", tok, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "sum")), 10);
    lt_resp_clear(&r);
    free(tok);
    free(user);
}
END_TEST

/* Ownership: another user's number is 404 on every route. */
START_TEST(ownership)
{
    struct lt_resp r;
    char *t = wec_token(), *other = NULL, path[64];

    ck_assert_int_eq(lt_compat_send(&r, "POST", "/numbers", t, "{\"value\":11}"), 200);
    snprintf(path, sizeof(path), "/numbers/%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_register(lt_compat.url, "wecother", "wec-other-password", &other, NULL, NULL), 0);
    expect_problem("GET", path, other, NULL, 404, "Not Found", "Number not found");
    expect_problem("PUT", path, other, "{\"value\":3}", 404, "Not Found", "Number not found");
    expect_problem("DELETE", path, other, NULL, 404, "Not Found", "Number not found");
    ck_assert_int_eq(lt_compat_send(&r, "GET", path, t, NULL), 200);
    lt_resp_clear(&r);
    free(other);
    free(t);
}
END_TEST

/* Test 10: logout revokes that token everywhere; a fresh login still works. */
START_TEST(logout)
{
    struct lt_resp r;
    char *t = wec_token(), *t2;

    ck_assert_int_eq(lt_compat_send(&r, "POST", "/logout", t, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "message")),
                     "Successfully logged out");
    lt_resp_clear(&r);
    expect_problem("GET", "/numbers", t, NULL, 401, "Unauthorized", "Token has been revoked");
    expect_problem("POST", "/logout", t, NULL, 401, "Unauthorized", "Token has been revoked");
    /* lintel's own API refuses it too: one session store */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t, NULL), 401);
    lt_resp_clear(&r);
    t2 = wec_token();
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/numbers", t2, NULL), 200);
    lt_resp_clear(&r);
    free(t2);
    free(t);
}
END_TEST

/* Test 12 and the root: X-Response-Time on every reply, GET / answers. */
START_TEST(root_and_headers)
{
    struct lt_resp r;

    ck_assert_int_eq(lt_compat_send(&r, "GET", "/", NULL, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "message")), "App is running");
    ck_assert_ptr_nonnull(lt_header(&r, "x-response-time"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/no-such-path", NULL, NULL), 404);
    ck_assert_ptr_nonnull(lt_header(&r, "x-response-time"));
    lt_resp_clear(&r);
    /* lintel's own health stays at /api/health */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/health", NULL, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "status")), "ok");
    lt_resp_clear(&r);
}
END_TEST

/* Without `compat`, the seed's paths are not served (the shared server loads no profile). */
START_TEST(not_loaded)
{
    ck_assert_int_eq(
        lt_status("POST", "/login", NULL, "{\"username\":\"admin\",\"password\":\"x\"}"), 404);
    ck_assert_int_eq(lt_status("GET", "/stats", NULL, NULL), 404);
    ck_assert_int_eq(lt_status("GET", "/numbers", NULL, NULL), 404);
}
END_TEST

/* An unknown profile name, and two profiles claiming one route, stop the start by name. */
START_TEST(refused_starts)
{
    char dir[] = "/tmp/lintel-compat-XXXXXX", link[512], target[512], *out = NULL;
    const char *plugins = getenv("LINTEL_TEST_PLUGIN_DIR"),
               *bad = getenv("LINTEL_TEST_BAD_PLUGIN_DIR");
    const char *env_unknown[] = {"LINTEL_COMPAT=nosuch", NULL};
    char env_dir[600];
    const char *env_clash[] = {"LINTEL_COMPAT=wec,clash", env_dir, NULL};
    int status;

    ck_assert_ptr_nonnull(plugins);
    ck_assert_ptr_nonnull(bad);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    status = lt_run(dir, env_unknown, NULL, &out);
    ck_assert_int_eq(status, 1);
    ck_assert_ptr_nonnull(strstr(out, "compat: no profile \"nosuch\""));
    free(out);
    out = NULL;
    /* a plugin directory with the auth plugin, the wec profile and a profile that takes
     * POST /login too */
    snprintf(link, sizeof(link), "%s/compat_wec.so", dir);
    snprintf(target, sizeof(target), "%s/compat_wec.so", plugins);
    ck_assert_int_eq(symlink(target, link), 0);
    snprintf(link, sizeof(link), "%s/compat_clash.so", dir);
    snprintf(target, sizeof(target), "%s/compat_clash.so", bad);
    ck_assert_int_eq(symlink(target, link), 0);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    status = lt_run(dir, env_clash, NULL, &out);
    ck_assert_int_eq(status, 1);
    ck_assert_msg(strstr(out, "compat_clash") != NULL && strstr(out, "compat_wec") != NULL &&
                      strstr(out, "POST /login") != NULL,
                  "%s", out);
    free(out);
    snprintf(link, sizeof(link), "%s/compat_wec.so", dir);
    unlink(link);
    snprintf(link, sizeof(link), "%s/compat_clash.so", dir);
    unlink(link);
}
END_TEST

/* lintel import wec: seed 000's TinyDB file, all or nothing, then served by the profile. */
START_TEST(import_tinydb)
{
    struct lt_server s;
    struct lt_resp r;
    char env_dir[4200], kept[4200], *t;
    const char *env[] = {"LINTEL_COMPAT=wec", "LINTEL_ADMIN_PASSWORD=1234", "LINTEL_PASSWORD_MIN=4",
                         env_dir, NULL};
    const json_t *j_list;

    /* a first start migrates and creates the admin the seed's numbers belong to */
    ck_assert_int_eq(lt_server_prepare(&s, env, env_dir, sizeof(env_dir), kept, sizeof(kept)), 0);
    /* a bad value anywhere, or an unknown user: nothing is imported */
    lt_import_expect(
        s.data_dir, env, "wec",
        "{\"numbers\": {\"1\": {\"username\": \"admin\", \"value\": 5, \"created_at\":"
        " \"2025-11-21T18:52:00.123456Z\"}, \"2\": {\"username\": \"admin\", \"value\": 0,"
        " \"created_at\": \"2025-11-21T18:53:00.000000Z\"}}}",
        1, "numbers[2] refused");
    lt_import_expect(s.data_dir, env, "wec",
                     "{\"numbers\": {\"1\": {\"username\": \"ghost\", \"value\": 5, \"created_at\":"
                     " \"2025-11-21T18:52:00.123456Z\"}}}",
                     1, "no user 'ghost'");
    /* the good file: doc ids in numeric order (10 after 2) keep the seed's order */
    lt_import_expect(
        s.data_dir, env, "wec",
        "{\"numbers\": {\"10\": {\"username\": \"admin\", \"value\": 2, \"created_at\":"
        " \"2025-11-21T18:54:00.000001Z\"}, \"1\": {\"username\": \"admin\", \"value\": 5,"
        " \"created_at\": \"2025-11-21T18:52:00.123456Z\"}, \"2\": {\"username\": \"admin\","
        " \"value\": 3, \"created_at\": \"2025-11-21T18:53:00.000000Z\"}}}",
        0, "(wec): admin 3");
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "POST", "/login", NULL,
                             "{\"username\":\"admin\",\"password\":\"1234\"}", &r),
                     0);
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/numbers", t, NULL, &r), 0);
    j_list = json_object_get(r.j_body, "numbers");
    ck_assert_int_eq(json_array_size(j_list), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_list, 0), "value")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_list, 1), "value")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_list, 2), "value")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_list, 0), "created_at")),
                     "2025-11-21T18:52:00Z");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/stats", t, NULL, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "\"count\":3,\"sum\":10"));
    lt_resp_clear(&r);
    free(t);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(system(kept), 0); /* the directory the import went into */
}
END_TEST

static Suite *wec_suite(void)
{
    Suite *s = suite_create("compat_wec");
    TCase *tc = tcase_create("wec");

    tcase_add_unchecked_fixture(tc, wec_start, lt_compat_stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, login);
    tcase_add_test(tc, auth_failures);
    tcase_add_test(tc, numbers_crud);
    tcase_add_test(tc, stats);
    tcase_add_test(tc, ownership);
    tcase_add_test(tc, logout);
    tcase_add_test(tc, root_and_headers);
    suite_add_tcase(s, tc);
    tc = tcase_create("loading");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, not_loaded);
    tcase_add_test(tc, refused_starts);
    tcase_add_test(tc, import_tinydb);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wec_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
