/*
 * Black-box tests of /api/auth against the shared server: register, login (JSON and form,
 * scope narrowing), refresh rotation and reuse detection, logout, JWKS, the Bearer header.
 */
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "correct-horse-1"

static const char *url;

static char *body_fmt(const char *fmt, const char *a, const char *b)
{
    char *out = NULL;

    ck_assert_int_ge(asprintf(&out, fmt, a, b), 0);
    return out;
}

static const char *str_of(const struct lt_resp *r, const char *key)
{
    return json_string_value(json_object_get(r->j_body, key));
}

/* The message of errors[] for field, or NULL. */
static const char *field_error(const struct lt_resp *r, const char *field)
{
    size_t i;
    json_t *j_e;

    json_array_foreach(json_object_get(r->j_body, "errors"), i, j_e)
        if (strcmp(json_string_value(json_object_get(j_e, "field")), field) == 0)
            return json_string_value(json_object_get(j_e, "message"));
    return NULL;
}

static long get_status(const char *path, const char *token)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_json(url, "GET", path, token, NULL, &r), 0);
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

START_TEST(register_flow)
{
    char *name = lt_unique("reg"), *body;
    struct lt_resp r;
    json_t *j_user;

    body = body_fmt("{\"username\":\"%s\",\"password\":\"" PW "\",\"email\":\"%s@Example.COM\"}",
                    name, name);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 201);
    j_user = json_object_get(r.j_body, "user");
    ck_assert_str_eq(json_string_value(json_object_get(j_user, "username")), name);
    ck_assert_str_eq(json_string_value(json_object_get(j_user, "role")), "user");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j_user, "email")),
                                 "@example.com")); /* domain lower-cased */
    ck_assert_ptr_null(json_object_get(j_user, "password_hash"));
    ck_assert(json_is_null(json_object_get(j_user, "avatar_url")));
    ck_assert_str_eq(str_of(&r, "token_type"), "bearer");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "expires_in")), 900);
    ck_assert_ptr_nonnull(str_of(&r, "access_token"));
    ck_assert_ptr_nonnull(str_of(&r, "refresh_token"));
    ck_assert_int_eq(get_status("/api/users/me", str_of(&r, "access_token")), 200);
    lt_resp_clear(&r);

    /* the same name in another case, and the same email: 409 */
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 409);
    lt_resp_clear(&r);
    free(body);
    name[0] = 'R';
    body = body_fmt("{\"username\":\"%s\",\"password\":\"" PW "\"}", name, NULL);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 409);
    lt_resp_clear(&r);
    free(body);
    free(name);
}
END_TEST

START_TEST(register_rules)
{
    struct lt_resp r;
    char *name = lt_unique("rule"), *body;

    /* every bad field at once, with the extension's messages */
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL,
                             "{\"username\":\"a b\",\"password\":\"short\",\"email\":\"nope\"}",
                             &r),
                     0);
    ck_assert_int_eq(r.status, 422);
    ck_assert_ptr_nonnull(field_error(&r, "username"));
    ck_assert_ptr_nonnull(field_error(&r, "password"));
    ck_assert_ptr_nonnull(field_error(&r, "email"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, "{\"username\":\"ab\"}", &r),
                     0);
    ck_assert_int_eq(r.status, 422);
    ck_assert_ptr_nonnull(field_error(&r, "password"));
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_json(url, "POST", "/api/auth/register", NULL, "{\"username\":5,\"password\":true}", &r),
        0);
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(field_error(&r, "username"), "must be a string");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, "[1]", &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, "{\"username\":", &r), 0);
    ck_assert_int_eq(r.status, 400);
    lt_resp_clear(&r);
    /* a 129-character password is refused, not truncated */
    body = malloc(400);
    snprintf(body, 400, "{\"username\":\"%s\",\"password\":\"%0129d\"}", name, 0);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    free(body);
    free(name);
}
END_TEST

START_TEST(login_flow)
{
    char *token = NULL, *name = NULL, *body, *form;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "login", PW, &token, &id, &name), 0);
    free(token);
    /* JSON, case-insensitive username */
    name[0] = 'L';
    body = body_fmt("{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(str_of(&r, "token_type"), "bearer");
    ck_assert_ptr_nonnull(strstr(str_of(&r, "scope"), "profile"));
    ck_assert_ptr_null(strstr(str_of(&r, "scope"), "users:admin"));
    lt_resp_clear(&r);
    free(body);
    name[0] = 'l';
    /* OAuth2 password form with a narrower scope */
    form = body_fmt("grant_type=password&username=%s&password=%s&scope=numbers:read", name, PW);
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/login", NULL,
                                "application/x-www-form-urlencoded", form, (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(str_of(&r, "scope"), "numbers:read");
    /* the narrowed token lacks profile: 403 naming it */
    {
        struct lt_resp r2;
        ck_assert_int_eq(
            lt_json(url, "GET", "/api/users/me", str_of(&r, "access_token"), NULL, &r2), 0);
        ck_assert_int_eq(r2.status, 403);
        ck_assert_str_eq(str_of(&r2, "detail"), "Missing scope profile");
        lt_resp_clear(&r2);
    }
    lt_resp_clear(&r);
    free(form);
    /* a scope the role lacks, an unknown scope, a wrong grant_type */
    body =
        body_fmt("{\"username\":\"%s\",\"password\":\"%s\",\"scope\":\"users:admin\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(str_of(&r, "detail"), "invalid_scope: role user is not granted 'users:admin'");
    lt_resp_clear(&r);
    free(body);
    body = body_fmt("{\"username\":\"%s\",\"password\":\"%s\",\"scope\":\"root\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(str_of(&r, "detail"), "invalid_scope: unknown scope 'root'");
    lt_resp_clear(&r);
    free(body);
    form = body_fmt("grant_type=client_credentials&username=%s&password=%s", name, PW);
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/login", NULL,
                                "application/x-www-form-urlencoded", form, (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    free(form);
    /* wrong password and unknown user: the same 401 */
    body = body_fmt("{\"username\":\"%s\",\"password\":\"%s\"}", name, "wrong-password");
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(str_of(&r, "detail"), "Invalid username or password");
    lt_resp_clear(&r);
    free(body);
    body = body_fmt("{\"username\":\"nobody-%s\",\"password\":\"%s\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(str_of(&r, "detail"), "Invalid username or password");
    lt_resp_clear(&r);
    free(body);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, "{\"username\":\"x\"}", &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    free(name);
}
END_TEST

static int refresh(const char *rt, struct lt_resp *r)
{
    char *body = body_fmt("{\"refresh_token\":\"%s\"}", rt, NULL);
    int rc = lt_json(url, "POST", "/api/auth/refresh", NULL, body, r);

    free(body);
    return rc;
}

START_TEST(refresh_rotation_and_reuse)
{
    char *token = NULL, *name = NULL, *access = NULL, *rt1 = NULL, *rt2 = NULL, *at2 = NULL;
    char *form;
    struct lt_resp r;
    long long id;

    ck_assert_int_eq(lt_register(url, "refresh", PW, &token, &id, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, NULL, &access, &rt1), 0);
    /* rotation: a new refresh token, and a new access token in the same session */
    ck_assert_int_eq(refresh(rt1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    rt2 = strdup(str_of(&r, "refresh_token"));
    at2 = strdup(str_of(&r, "access_token"));
    ck_assert_str_ne(rt2, rt1);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_status("/api/users/me", at2), 200);
    /* form grant works too (and rotates again) */
    form = body_fmt("grant_type=refresh_token&refresh_token=%s", rt2, NULL);
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/refresh", NULL,
                                "application/x-www-form-urlencoded", form, (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    free(form);
    /* reuse of rt1: 401, and the whole family (session) ends */
    ck_assert_int_eq(refresh(rt1, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_status("/api/users/me", at2), 401);
    ck_assert_int_eq(get_status("/api/users/me", access), 401);
    /* other sessions of the same user are untouched */
    ck_assert_int_eq(get_status("/api/users/me", token), 200);
    /* unknown, empty, missing */
    ck_assert_int_eq(refresh("not-a-token", &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/refresh", NULL, "{}", &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    free(token);
    free(name);
    free(access);
    free(rt1);
    free(rt2);
    free(at2);
}
END_TEST

START_TEST(logout_kills_token_and_family)
{
    char *token = NULL, *name = NULL, *access = NULL, *rt = NULL;
    struct lt_resp r;
    long long id;

    ck_assert_int_eq(lt_register(url, "logout", PW, &token, &id, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, NULL, &access, &rt), 0);
    ck_assert_int_eq(get_status("/api/users/me", access), 200); /* now cached as verified */
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/logout", access, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    /* the very next request */
    ck_assert_int_eq(get_status("/api/users/me", access), 401);
    ck_assert_int_eq(refresh(rt, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/logout", access, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/logout", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    /* the registration's session still works */
    ck_assert_int_eq(get_status("/api/users/me", token), 200);
    free(token);
    free(name);
    free(access);
    free(rt);
}
END_TEST

START_TEST(bearer_header)
{
    char *token = NULL, *name = NULL, header[4096];
    const char *hdrs[2] = {header, NULL};
    struct lt_resp r;
    long long id;

    ck_assert_int_eq(lt_register(url, "bearer", PW, &token, &id, &name), 0);
    snprintf(header, sizeof(header), "Authorization: bEaReR %s", token);
    ck_assert_int_eq(lt_request(url, "GET", "/api/users/me", NULL, NULL, NULL, 0, hdrs, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(lt_header(&r, "Cache-Control"));
    lt_resp_clear(&r);
    /* missing: 401 Not authenticated with a Bearer challenge */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(str_of(&r, "detail"), "Not authenticated");
    ck_assert_ptr_nonnull(lt_header(&r, "WWW-Authenticate"));
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "WWW-Authenticate"), "Bearer"));
    lt_resp_clear(&r);
    /* another scheme is no bearer credential */
    snprintf(header, sizeof(header), "Authorization: Basic YWRtaW46YWRtaW4=");
    ck_assert_int_eq(lt_request(url, "GET", "/api/users/me", NULL, NULL, NULL, 0, hdrs, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    /* garbage: invalid_token */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", "abc.def.ghi", NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(str_of(&r, "detail"), "Invalid or expired token");
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "WWW-Authenticate"), "invalid_token"));
    lt_resp_clear(&r);
    free(token);
    free(name);
}
END_TEST

START_TEST(jwks)
{
    struct lt_resp r;
    json_t *j_key;

    ck_assert_int_eq(lt_json(url, "GET", "/api/auth/jwks", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "keys")), 1);
    j_key = json_array_get(json_object_get(r.j_body, "keys"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_key, "kty")), "OKP");
    ck_assert_str_eq(json_string_value(json_object_get(j_key, "alg")), "EdDSA");
    ck_assert_ptr_nonnull(json_object_get(j_key, "kid"));
    ck_assert_ptr_null(json_object_get(j_key, "d"));
    lt_resp_clear(&r);
}
END_TEST

START_TEST(admin_login_and_scopes)
{
    char *token = NULL;
    struct lt_resp r;

    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(str_of(&r, "role"), "admin");
    lt_resp_clear(&r);
    ck_assert_int_eq(get_status("/api/users/1", token), 200);
    free(token);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("flows");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, register_flow);
    tcase_add_test(tc, register_rules);
    tcase_add_test(tc, login_flow);
    tcase_add_test(tc, refresh_rotation_and_reuse);
    tcase_add_test(tc, logout_kills_token_and_family);
    tcase_add_test(tc, bearer_header);
    tcase_add_test(tc, jwks);
    tcase_add_test(tc, admin_login_and_scopes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    url = lt_shared_url();
    if (url == NULL) {
        fprintf(stderr, "no shared server\n");
        return EXIT_FAILURE;
    }
    sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
