/*
 * Black-box tests of /api/users against the shared server: profile read/patch/delete,
 * object-level authorization (user A never sees or changes user B), admin routes, the list.
 */
#include "lt_test.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW  "correct-horse-1"
#define PW2 "battery-staple-2"

static const char *url;

static long req_status(const char *method, const char *path, const char *token, const char *body)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_json(url, method, path, token, body, &r), 0);
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

static char *fmt(const char *f, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&out, f, ap), 0);
    va_end(ap);
    return out;
}

static char *admin_token(void)
{
    char *token = NULL;

    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    return token;
}

START_TEST(me_get_and_patch)
{
    char *token = NULL, *name = NULL, *other = NULL, *body, *newname;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "me", PW, &token, &id, &name), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    ck_assert_ptr_nonnull(json_object_get(r.j_body, "created_at"));
    ck_assert_ptr_null(json_object_get(r.j_body, "password_hash"));
    lt_resp_clear(&r);
    /* email and username */
    newname = fmt("%s_x", name);
    body = fmt("{\"email\":\"%s@Mail.EXAMPLE.org\",\"username\":\"%s\","
               "\"current_password\":\"" PW "\"}",
               name, newname);
    ck_assert_int_eq(lt_json(url, "PATCH", "/api/users/me", token, body, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "username")), newname);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(r.j_body, "email")), "@mail.example.org"));
    lt_resp_clear(&r);
    free(body);
    /* rules and types: 422 */
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"email\":\"not-an-email\"}"),
                     422);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"username\":\"a\"}"), 422);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"username\":7}"), 422);
    /* email removed with null */
    /* an email change without the current password is refused (403), as a password change */
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"email\":null}"), 403);
    ck_assert_int_eq(lt_json(url, "PATCH", "/api/users/me", token,
                             "{\"email\":null,\"current_password\":\"" PW "\"}", &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(json_object_get(r.j_body, "email")));
    lt_resp_clear(&r);
    /* role is never the owner's to set */
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"role\":\"admin\"}"), 403);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"role\":\"user\"}"), 200);
    /* another user's name: 409 */
    ck_assert_int_eq(lt_register(url, "me2", PW, &other, &id, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", other, NULL, &r), 0);
    body = fmt("{\"username\":\"%s\"}", json_string_value(json_object_get(r.j_body, "username")));
    lt_resp_clear(&r);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, body), 409);
    free(body);
    free(newname);
    free(other);
    free(token);
    free(name);
}
END_TEST

START_TEST(password_change)
{
    char *token = NULL, *name = NULL, *second = NULL, *rt = NULL, *body;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "pw", PW, &token, &id, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, NULL, &second, &rt), 0);
    /* without, or with a wrong, current_password: 403 */
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token, "{\"password\":\"" PW2 "\"}"),
                     403);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token,
                                "{\"password\":\"" PW2 "\",\"current_password\":\"nope-nope\"}"),
                     403);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token,
                                "{\"password\":\"short\",\"current_password\":\"" PW "\"}"),
                     422);
    ck_assert_int_eq(req_status("PATCH", "/api/users/me", token,
                                "{\"password\":\"" PW2 "\",\"current_password\":\"" PW "\"}"),
                     200);
    /* this session goes on; every other one ended, refresh family included */
    ck_assert_int_eq(req_status("GET", "/api/users/me", token, NULL), 200);
    ck_assert_int_eq(req_status("GET", "/api/users/me", second, NULL), 401);
    body = fmt("{\"refresh_token\":\"%s\"}", rt);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/refresh", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    free(body);
    /* old password refused, new one accepted */
    free(second);
    second = NULL;
    ck_assert_int_ne(lt_login(url, name, PW, NULL, &second, NULL), 0);
    ck_assert_int_eq(lt_login(url, name, PW2, NULL, &second, NULL), 0);
    free(second);
    free(rt);
    free(token);
    free(name);
}
END_TEST

START_TEST(delete_me)
{
    char *token = NULL, *name = NULL, *second = NULL, *body;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "del", PW, &token, &id, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, NULL, &second, NULL), 0);
    ck_assert_int_eq(req_status("DELETE", "/api/users/me", token, NULL), 204);
    /* every token of the account is dead on the very next request */
    ck_assert_int_eq(req_status("GET", "/api/users/me", token, NULL), 401);
    ck_assert_int_eq(req_status("GET", "/api/users/me", second, NULL), 401);
    free(second);
    second = NULL;
    /* login fails like an unknown user; the username stays reserved */
    ck_assert_int_ne(lt_login(url, name, PW, NULL, &second, NULL), 0);
    body = fmt("{\"username\":\"%s\",\"password\":\"" PW "\"}", name);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 409);
    lt_resp_clear(&r);
    free(body);
    free(token);
    free(name);
}
END_TEST

START_TEST(object_level_authorization)
{
    char *a = NULL, *b = NULL, *path, *admin;
    long long id_a, id_b;
    struct lt_resp r;
    size_t i;
    json_t *j_item;

    ck_assert_int_eq(lt_register(url, "olaA", PW, &a, &id_a, NULL), 0);
    ck_assert_int_eq(lt_register(url, "olaB", PW, &b, &id_b, NULL), 0);
    path = fmt("/api/users/%lld", id_b);
    /* A can neither read, change nor delete B */
    ck_assert_int_eq(req_status("GET", path, a, NULL), 403);
    ck_assert_int_eq(req_status("PATCH", path, a, "{\"email\":\"a@b.example\"}"), 403);
    ck_assert_int_eq(req_status("DELETE", path, a, NULL), 403);
    ck_assert_int_eq(req_status("GET", "/api/users/me", b, NULL), 200);
    /* the list shows only id and username to users */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1000", a, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_array_foreach(json_object_get(r.j_body, "items"), i, j_item) {
        ck_assert_int_eq(json_object_size(j_item), 2);
        ck_assert_ptr_nonnull(json_object_get(j_item, "username"));
    }
    ck_assert_int_ge(json_integer_value(json_object_get(r.j_body, "total")), 2);
    lt_resp_clear(&r);
    /* admins see full records */
    admin = admin_token();
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=5&skip=0", admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(
        json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "role"));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 5);
    lt_resp_clear(&r);
    ck_assert_int_eq(req_status("GET", path, admin, NULL), 200);
    free(path);
    free(admin);
    free(a);
    free(b);
}
END_TEST

START_TEST(list_validation)
{
    char *token = NULL;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "list", PW, &token, &id, NULL), 0);
    ck_assert_int_eq(req_status("GET", "/api/users?limit=-1", token, NULL), 422);
    ck_assert_int_eq(req_status("GET", "/api/users?limit=1001", token, NULL), 422);
    ck_assert_int_eq(req_status("GET", "/api/users?limit=abc", token, NULL), 422);
    ck_assert_int_eq(req_status("GET", "/api/users?offset=1.5", token, NULL), 422);
    ck_assert_int_eq(req_status("GET", "/api/users?skip=-3", token, NULL), 422);
    ck_assert_int_eq(req_status("GET", "/api/users?offset=2&skip=2", token, NULL), 200);
    ck_assert_int_eq(req_status("GET", "/api/users", NULL, NULL), 401);
    /* The host's wording (api->req_page): the detail and errors[] name the parameter. */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?offset=2&skip=3", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")),
                     "skip conflicts with offset.");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.j_body, "errors"), 0), "field")),
                     "skip");
    lt_resp_clear(&r);
    free(token);
}
END_TEST

/*
 * The list's full records (e-mails) need an admin token that carries users:admin (the host's
 * word test, lintel_scope_has): the same admin narrowed to "profile" at login sees ids and names.
 */
START_TEST(list_view_follows_the_token_scope)
{
    char *full = admin_token(), *narrow = NULL;
    struct lt_resp r;

    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, "profile", &narrow, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1", full, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(
        json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "role"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1", narrow, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_object_size(json_array_get(json_object_get(r.j_body, "items"), 0)), 2);
    lt_resp_clear(&r);
    free(narrow);
    free(full);
}
END_TEST

/*
 * Deleting an id that names no live user is a 404, even when that id was an admin's: the
 * last-admin rule counts live admins only (it used to answer 409 "last admin").
 */
START_TEST(admin_delete_gone)
{
    char *admin = admin_token(), *u = NULL, *path;
    long long id;

    ck_assert_int_eq(req_status("DELETE", "/api/users/999999999", admin, NULL), 404);
    ck_assert_int_eq(lt_register(url, "gone", PW, &u, &id, NULL), 0);
    path = fmt("/api/users/%lld", id);
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"role\":\"admin\"}"), 200);
    ck_assert_int_eq(req_status("DELETE", path, admin, NULL), 204);
    ck_assert_int_eq(req_status("DELETE", path, admin, NULL), 404);
    free(path);
    free(u);
    free(admin);
}
END_TEST

START_TEST(admin_routes)
{
    char *admin = admin_token(), *u = NULL, *path;
    long long id;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "adm", PW, &u, &id, NULL), 0);
    ck_assert_int_eq(req_status("GET", "/api/users/999999999", admin, NULL), 404);
    ck_assert_int_eq(req_status("GET", "/api/users/abc", admin, NULL), 404);
    ck_assert_int_eq(req_status("GET", "/api/users/0", admin, NULL), 404);
    ck_assert_int_eq(req_status("DELETE", "/api/users/1x", admin, NULL), 404);
    /* A malformed id gets the very reply an unknown one does (api->req_id). */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/abc", admin, NULL, &r), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")), "User not found");
    lt_resp_clear(&r);
    path = fmt("/api/users/%lld", id);
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"role\":\"root\"}"), 422);
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"password\":\"x\"}"), 422);
    /* email alone keeps the sessions */
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"email\":\"adm@example.net\"}"), 200);
    ck_assert_int_eq(req_status("GET", "/api/users/me", u, NULL), 200);
    /* a promotion ends the user's sessions; the next login carries admin scopes */
    ck_assert_int_eq(lt_json(url, "PATCH", path, admin, "{\"role\":\"admin\"}", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "role")), "admin");
    lt_resp_clear(&r);
    ck_assert_int_eq(req_status("GET", "/api/users/me", u, NULL), 401);
    /* back to user, then deleted by the admin */
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"role\":\"user\"}"), 200);
    ck_assert_int_eq(req_status("DELETE", path, admin, NULL), 204);
    ck_assert_int_eq(req_status("GET", path, admin, NULL), 404);
    ck_assert_int_eq(req_status("DELETE", path, admin, NULL), 404);
    ck_assert_int_eq(req_status("PATCH", path, admin, "{\"role\":\"admin\"}"), 404);
    /* the last admin stays */
    ck_assert_int_eq(req_status("PATCH", "/api/users/1", admin, "{\"role\":\"user\"}"), 409);
    free(path);
    free(u);
    free(admin);
}
END_TEST

static Suite *users_suite(void)
{
    Suite *s = suite_create("users");
    TCase *tc = tcase_create("flows");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, me_get_and_patch);
    tcase_add_test(tc, password_change);
    tcase_add_test(tc, delete_me);
    tcase_add_test(tc, object_level_authorization);
    tcase_add_test(tc, list_validation);
    tcase_add_test(tc, list_view_follows_the_token_scope);
    tcase_add_test(tc, admin_routes);
    tcase_add_test(tc, admin_delete_gone);
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
    sr = srunner_create(users_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
