/*
 * The admin's view of a user's sessions (users plugin, for /admin): listing, revoking one, and
 * every refusal (not an admin, unknown user or session, a session of another user).
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "sessions-password-1"

static char *admin_token(void)
{
    char *token = NULL;

    ck_assert_int_eq(lt_login(lt_base(), "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    return token;
}

START_TEST(list_and_revoke)
{
    struct lt_user u, other;
    struct lt_resp r;
    char *admin = admin_token(), *second = NULL, path[256], sid[128];
    const char *first_sid;

    lt_user_new(&u, "sess", PASSWORD);
    lt_user_new(&other, "sesso", PASSWORD);
    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, NULL, &second, NULL), 0);

    snprintf(path, sizeof(path), "/api/users/%lld/sessions", u.id);
    ck_assert_int_eq(lt_send(&r, "GET", path, admin, NULL), 200);
    ck_assert_msg(json_array_size(r.j_body) == 2, "%s", r.body);
    /* Newest first: the second login's session. */
    first_sid = json_string_value(json_object_get(json_array_get(r.j_body, 0), "id"));
    ck_assert_ptr_nonnull(first_sid);
    ck_assert_ptr_nonnull(json_object_get(json_array_get(r.j_body, 0), "scope"));
    ck_assert_ptr_nonnull(json_object_get(json_array_get(r.j_body, 0), "created_at"));
    snprintf(sid, sizeof(sid), "%s", first_sid);
    lt_resp_clear(&r);

    /* Not for a plain user, not even about themselves. */
    ck_assert_int_eq(lt_status("GET", path, u.token, NULL), 403);
    snprintf(path, sizeof(path), "/api/users/%lld/sessions/%s", u.id, sid);
    ck_assert_int_eq(lt_status("DELETE", path, u.token, NULL), 403);
    /* The session of u named under another user: 404, and it stays open. */
    snprintf(path, sizeof(path), "/api/users/%lld/sessions/%s", other.id, sid);
    ck_assert_int_eq(lt_status("DELETE", path, admin, NULL), 404);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", second, NULL), 200);

    snprintf(path, sizeof(path), "/api/users/%lld/sessions/%s", u.id, sid);
    ck_assert_int_eq(lt_status("DELETE", path, admin, NULL), 204);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", second, NULL), 401);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", u.token, NULL), 200);
    ck_assert_int_eq(lt_status("DELETE", path, admin, NULL), 404);
    snprintf(path, sizeof(path), "/api/users/%lld/sessions", u.id);
    ck_assert_int_eq(lt_send(&r, "GET", path, admin, NULL), 200);
    ck_assert_int_eq(json_array_size(r.j_body), 1);
    lt_resp_clear(&r);

    free(second);
    free(admin);
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

START_TEST(bad_targets)
{
    char *admin = admin_token();
    struct lt_resp r;

    ck_assert_int_eq(lt_send(&r, "GET", "/api/users/999999999/sessions", admin, NULL), 404);
    ck_assert_ptr_nonnull(strstr(r.body, "User not found"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("DELETE", "/api/users/999999999/sessions/abc", admin, NULL), 404);
    ck_assert_int_eq(lt_status("DELETE", "/api/users/1/sessions/no-such-session", admin, NULL),
                     404);
    ck_assert_int_eq(lt_status("DELETE", "/api/users/1/sessions/%00", admin, NULL), 404);
    ck_assert_int_eq(lt_status("GET", "/api/users/1/sessions", NULL, NULL), 401);
    {
        long s = lt_status("GET", "/api/users/abc/sessions", admin, NULL);
        ck_assert_msg(s == 404 || s == 422, "id abc: %ld", s);
    }
    free(admin);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin_sessions");
    TCase *tc = tcase_create("admin_sessions");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, list_and_revoke);
    tcase_add_test(tc, bad_targets);
    suite_add_tcase(s, tc);
    return lt_run_suite(s);
}
