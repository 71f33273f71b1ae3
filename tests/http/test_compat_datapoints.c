/*
 * Black-box tests of the "datapoints" compatibility profile (seed 002) on a private server
 * whose upstream is the real sensor simulator: signup, the OAuth2 form login, /api/data's
 * filters and roles, /api/populate's decoding and upstream errors, and the seed's auth errors.
 */
#include "datapoints_sim.h"
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct dp_sim sim;

static void dpc_start(void)
{
    char upstream[128];
    const char *env[] = {"LINTEL_COMPAT=datapoints", "LINTEL_ADMIN_PASSWORD=admin",
                         "LINTEL_PASSWORD_MIN=4", upstream, NULL};

    ck_assert_int_eq(dp_sim_start(&sim, "fixed"), 0);
    snprintf(upstream, sizeof(upstream), "LINTEL_UPSTREAM_URL=%s/", sim.url);
    lt_compat_start(env);
}

static void dpc_stop(void)
{
    lt_compat_stop();
    dp_sim_stop(&sim);
}

static void expect_detail(const char *method, const char *path, const char *token, const char *body,
                          long status, const char *detail)
{
    struct lt_resp r;

    lt_compat_send(&r, method, path, token, body);
    ck_assert_msg(r.status == status, "%s %s: expected %ld, got %ld: %s", method, path, status,
                  r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")), detail);
    lt_resp_clear(&r);
}

/* The first item of a 422: type, loc[0..1], msg, and pydantic 2.7's url. */
static void expect_item(const struct lt_resp *r, const char *type, const char *where,
                        const char *field, const char *msg)
{
    const json_t *j = json_array_get(json_object_get(r->j_body, "detail"), 0);
    char url[128];

    ck_assert_msg(r->status == 422, "expected 422, got %ld: %s", r->status, r->body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), type);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "loc"), 0)), where);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "loc"), 1)), field);
    if (msg != NULL)
        ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), msg);
    snprintf(url, sizeof(url), "https://errors.pydantic.dev/2.7/v/%s", type);
    ck_assert_str_eq(json_string_value(json_object_get(j, "url")), url);
}

/* POSTs the OAuth2 form; the reply in *r. */
static long form_login(struct lt_resp *r, const char *form)
{
    ck_assert_int_eq(lt_request(lt_compat.url, "POST", "/auth/login", NULL,
                                "application/x-www-form-urlencoded", form, (size_t)-1, NULL, r),
                     0);
    return r->status;
}

static char *token_of(const char *username, const char *password)
{
    struct lt_resp r;
    char form[256], *t;

    snprintf(form, sizeof(form), "username=%s&password=%s", username, password);
    ck_assert_int_eq(form_login(&r, form), 200);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "refresh_token")));
    ck_assert_ptr_null(json_object_get(r.j_body, "token_type"));
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    return t;
}

/* A new user through /auth/signup, and its token. */
static char *new_user(const char *prefix)
{
    struct lt_resp r;
    char *name = lt_unique(prefix), body[256], *t;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"pass-1234\"}", name);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/auth/signup", NULL, body), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "username")), name);
    ck_assert_int_eq(json_object_size(r.j_body), 1);
    lt_resp_clear(&r);
    expect_detail("POST", "/auth/signup", NULL, body, 400,
                  "User with this username already exists");
    t = token_of(name, "pass-1234");
    free(name);
    return t;
}

START_TEST(signup_and_login)
{
    struct lt_resp r;
    char *t = new_user("dpsign");

    free(t);
    /* the seeded admin/admin of init.sql works when the operator starts lintel so */
    t = token_of("admin", "admin");
    free(t);
    ck_assert_int_eq(form_login(&r, "username=admin&password=wrong"), 400);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")),
                     "Incorrect username or password");
    lt_resp_clear(&r);
    form_login(&r, "username=admin&password=");
    expect_item(&r, "missing", "body", "password", "Field required");
    lt_resp_clear(&r);
    /* JSON is not the OAuth2 form: both fields are missing */
    lt_compat_send(&r, "POST", "/auth/login", NULL,
                   "{\"username\":\"admin\",\"password\":\"admin\"}");
    expect_item(&r, "missing", "body", "username", "Field required");
    lt_resp_clear(&r);
    lt_compat_send(&r, "POST", "/auth/signup", NULL, "{\"username\":\"someone\"}");
    expect_item(&r, "missing", "body", "password", "Field required");
    lt_resp_clear(&r);
}
END_TEST

START_TEST(auth_errors)
{
    struct lt_resp r;
    char *user = new_user("dpauth");

    expect_detail("GET", "/api/data", NULL, NULL, 401, "Not authenticated");
    lt_compat_send(&r, "GET", "/api/data", NULL, NULL);
    ck_assert_str_eq(lt_header(&r, "www-authenticate"), "Bearer");
    lt_resp_clear(&r);
    /* seed 002 answers a bad or expired token with 403 */
    expect_detail("GET", "/api/data", "garbage", NULL, 403, "Could not validate credentials");
    /* populate is for admins: 403 "Unauthorized", and the upstream is not asked */
    {
        long long before = dp_sim_hits(&sim);
        expect_detail("GET", "/api/populate", user, NULL, 403, "Unauthorized");
        ck_assert_int_eq(dp_sim_hits(&sim), before);
    }
    free(user);
}
END_TEST

/* populate decodes little-endian float32 and stores the point; users see only valid ones. */
START_TEST(populate_and_data)
{
    struct lt_resp r;
    char *admin = token_of("admin", "admin"), *user = new_user("dpdata"), path[256];
    const json_t *j;
    long long t0;
    size_t i, valid_admin = 0, invalid_admin = 0, invalid_user = 0;

    ck_assert_int_eq(dp_sim_mode(&sim, "fixed"), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/populate", admin, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":-0.19938130676746368"));
    ck_assert(json_is_true(json_object_get(r.j_body, "valid")));
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "tags")), 0);
    ck_assert_ptr_null(json_object_get(r.j_body, "id"));
    ck_assert_int_eq(strlen(json_string_value(json_object_get(r.j_body, "time"))), 20);
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "system"), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/populate", admin, NULL), 200);
    ck_assert(json_is_false(json_object_get(r.j_body, "valid")));
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "old"), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/populate", admin, NULL), 200);
    ck_assert(json_is_false(json_object_get(r.j_body, "valid")));
    ck_assert_ptr_nonnull(strstr(r.body, "\"too old\""));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=1000", admin, NULL), 200);
    json_array_foreach(r.j_body, i, j) {
        ck_assert_int_eq(json_object_size(j), 4);
        if (json_is_true(json_object_get(j, "valid")))
            valid_admin++;
        else
            invalid_admin++;
    }
    ck_assert_uint_ge(valid_admin, 1);
    ck_assert_uint_ge(invalid_admin, 2);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=1000", user, NULL), 200);
    json_array_foreach(r.j_body, i, j) {
        if (!json_is_true(json_object_get(j, "valid")))
            invalid_user++;
    }
    ck_assert_uint_eq(invalid_user, 0);
    ck_assert_uint_eq(json_array_size(r.j_body), valid_admin);
    lt_resp_clear(&r);

    /* start == end selects one instant; unix seconds work as well as ISO 8601 */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=1", admin, NULL), 200);
    snprintf(path, sizeof(path), "/api/data?start=%s&end=%s",
             json_string_value(json_object_get(json_array_get(r.j_body, 0), "time")),
             json_string_value(json_object_get(json_array_get(r.j_body, 0), "time")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", path, admin, NULL), 200);
    ck_assert_uint_ge(json_array_size(r.j_body), 1);
    lt_resp_clear(&r);
    t0 = (long long)time(NULL) + 86400;
    snprintf(path, sizeof(path), "/api/data?start=%lld", t0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", path, admin, NULL), 200);
    ck_assert_uint_eq(json_array_size(r.j_body), 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=0", admin, NULL), 200);
    ck_assert_uint_eq(json_array_size(r.j_body), 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?skip=1&limit=1", admin, NULL), 200);
    ck_assert_uint_eq(json_array_size(r.j_body), 1);
    lt_resp_clear(&r);
    lt_compat_send(&r, "GET", "/api/data?start=yesterday", admin, NULL);
    expect_item(&r, "datetime_from_date_parsing", "query", "start", NULL);
    lt_resp_clear(&r);
    lt_compat_send(&r, "GET", "/api/data?limit=-1", admin, NULL);
    expect_item(&r, "greater_than_equal", "query", "limit",
                "Input should be greater than or equal to 0");
    lt_resp_clear(&r);
    lt_compat_send(&r, "GET", "/api/data?skip=x", admin, NULL);
    expect_item(&r, "int_parsing", "query", "skip", NULL);
    lt_resp_clear(&r);
    /* the same rows through lintel's own API */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/datapoints?limit=1000", admin, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")),
                     (json_int_t)(valid_admin + invalid_admin));
    lt_resp_clear(&r);
    free(admin);
    free(user);
}
END_TEST

/* The upstream's status is the reply's; a malformed point is a 502 and nothing is stored. */
START_TEST(populate_upstream_errors)
{
    struct lt_resp r;
    char *admin = token_of("admin", "admin");
    size_t before;

    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=10000", admin, NULL), 200);
    before = json_array_size(r.j_body);
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "status:503"), 0);
    expect_detail("GET", "/api/populate", admin, NULL, 503, "No data point available");
    ck_assert_int_eq(dp_sim_mode(&sim, "status:404"), 0);
    expect_detail("GET", "/api/populate", admin, NULL, 404, "No data point available");
    ck_assert_int_eq(dp_sim_mode(&sim, "list"), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/populate", admin, NULL), 502);
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "bad-bytes"), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/populate", admin, NULL), 502);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/data?limit=10000", admin, NULL), 200);
    ck_assert_uint_eq(json_array_size(r.j_body), before);
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "fixed"), 0);
    free(admin);
}
END_TEST

/* lintel import datapoints: seed 002's tables as JSON lines, all or nothing. */
START_TEST(import_jsonl)
{
    struct lt_server s;
    struct lt_resp r;
    char env_dir[4200], kept[4200], *t;
    const char *env[] = {"LINTEL_COMPAT=datapoints", "LINTEL_PASSWORD_MIN=4", env_dir, NULL};

    ck_assert_int_eq(lt_server_prepare(&s, env, env_dir, sizeof(env_dir), kept, sizeof(kept)), 0);
    /* a point whose valid flag its tags do not give: refused, nothing imported */
    lt_import_expect(s.data_dir, env, "datapoints",
                     "{\"users\": {\"id\": 0, \"username\": \"olduser\", \"hashed_password\":"
                     " \"$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG\","
                     " \"role\": \"admin\"}}\n"
                     "{\"data_points\": {\"id\": 1, \"time\": \"2024-04-22T15:07:57+00:00\","
                     " \"value\": -0.5, \"valid\": true, \"tags\": [\"system\"]}}\n",
                     1, "line 2 (data_points) refused");
    lt_import_expect(s.data_dir, env, "datapoints", "{\"data_points\": {\"time\"", 1,
                     "line 1: not JSON");
    lt_import_expect(s.data_dir, env, "datapoints",
                     "{\"users\": {\"id\": 0, \"username\": \"olduser\", \"hashed_password\":"
                     " \"$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG\","
                     " \"role\": \"admin\"}}\n"
                     "{\"data_points\": {\"id\": 1, \"time\": \"2024-04-22T15:07:57+00:00\","
                     " \"value\": -0.19938130676746368, \"valid\": true, \"tags\": []}}\n"
                     "\n"
                     "{\"data_points\": {\"id\": 2, \"time\": \"2024-04-22T15:08:01+00:00\","
                     " \"value\": 1.5, \"valid\": false, \"tags\": [\"system\", \"too old\"]}}\n",
                     0, "imported 3 rows");
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    /* the seed's bcrypt hash of "admin" verifies as it is */
    t = lt_compat_token(s.url, "/auth/login", "application/x-www-form-urlencoded",
                        "username=olduser&password=admin");
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/data", t, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(r.j_body), 2); /* an admin sees the invalid one too */
    ck_assert_ptr_nonnull(strstr(r.body, "{\"time\":\"2024-04-22T15:07:57Z\","
                                         "\"value\":-0.19938130676746368,\"valid\":true,"
                                         "\"tags\":[]}"));
    lt_resp_clear(&r);
    free(t);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(system(kept), 0);
}
END_TEST

static Suite *dpc_suite(void)
{
    Suite *s = suite_create("compat_datapoints");
    TCase *tc = tcase_create("datapoints");

    tcase_add_unchecked_fixture(tc, dpc_start, dpc_stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, signup_and_login);
    tcase_add_test(tc, auth_errors);
    tcase_add_test(tc, populate_and_data);
    tcase_add_test(tc, populate_upstream_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, import_jsonl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dpc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
