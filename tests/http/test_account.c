/*
 * The account plugin over HTTP: a user's sessions (list with where/when, end one, end the
 * others) and the audit trail, including the row a trigger writes for an operator's
 * `UPDATE users SET role='admin'` in the real sqlite3 shell.
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "correct-horse-1"

static long send_ua(const char *url, const char *method, const char *path, const char *token,
                    const char *body, const char *ua, struct lt_resp *r)
{
    char hdr[128];
    const char *const headers[] = {hdr, NULL};

    snprintf(hdr, sizeof(hdr), "User-Agent: %s", ua);
    ck_assert_int_eq(lt_request(url, method, path, token, body != NULL ? "application/json" : NULL,
                                body, body != NULL ? (size_t)-1 : 0, headers, r),
                     0);
    return r->status;
}

/* Logs name in with a User-Agent of its own; the access token (malloc'd). */
static char *login_ua(const char *url, const char *name, const char *ua)
{
    struct lt_resp r;
    char body[256];
    char *token;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
    ck_assert_int_eq(send_ua(url, "POST", "/api/auth/login", NULL, body, ua, &r), 200);
    token = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    return token;
}

static json_t *sessions_of(const char *token)
{
    struct lt_resp r;
    json_t *j_items;

    ck_assert_int_eq(lt_send(&r, "GET", "/api/auth/sessions", token, NULL), 200);
    j_items = json_incref(json_object_get(r.j_body, "items"));
    ck_assert_int_eq(json_array_size(j_items),
                     json_integer_value(json_object_get(r.j_body, "total")));
    lt_resp_clear(&r);
    return j_items;
}

START_TEST(sessions_list_and_end)
{
    struct lt_user u = {0}, other = {0};
    char *phone, *laptop, *path = NULL;
    json_t *j_items, *j_s;
    const char *phone_id = NULL;
    size_t i, current = 0;
    struct lt_resp r;

    lt_user_new(&u, "sess", PW);
    lt_user_new(&other, "sessother", PW);
    phone = login_ua(lt_base(), u.username, "phone-app/1.0");
    laptop = login_ua(lt_base(), u.username, "laptop-browser/2.0");

    j_items = sessions_of(laptop);
    ck_assert_uint_eq(json_array_size(j_items), 3); /* register's login, phone, laptop */
    json_array_foreach(j_items, i, j_s) {
        const char *ua = json_string_value(json_object_get(j_s, "user_agent"));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(j_s, "created_at")));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(j_s, "last_used_at")));
        ck_assert_str_eq(json_string_value(json_object_get(j_s, "client_addr")), "127.0.0.1");
        if (json_is_true(json_object_get(j_s, "current"))) {
            current++;
            ck_assert_uint_eq(i, 0); /* the current one comes first */
            ck_assert_str_eq(ua, "laptop-browser/2.0");
        }
        if (ua != NULL && strcmp(ua, "phone-app/1.0") == 0)
            phone_id = json_string_value(json_object_get(j_s, "id"));
    }
    ck_assert_uint_eq(current, 1);
    ck_assert_ptr_nonnull(phone_id);

    /* another user can neither see nor end it */
    ck_assert_int_ge(asprintf(&path, "/api/auth/sessions/%s", phone_id), 0);
    ck_assert_int_eq(lt_status("DELETE", path, other.token, NULL), 404);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", phone, NULL), 200);
    /* its owner can: the phone's token stops working at once */
    ck_assert_int_eq(lt_status("DELETE", path, laptop, NULL), 204);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", phone, NULL), 401);
    ck_assert_int_eq(lt_status("DELETE", path, laptop, NULL), 404); /* already ended */
    ck_assert_int_eq(lt_status("DELETE", "/api/auth/sessions/nonexistent", laptop, NULL), 404);
    json_decref(j_items);

    /* end all the others: the registration's session ends, this one stays */
    ck_assert_int_eq(lt_send(&r, "DELETE", "/api/auth/sessions", laptop, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "ended")), 1);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", u.token, NULL), 401);
    ck_assert_int_eq(lt_status("GET", "/api/users/me", laptop, NULL), 200);
    j_items = sessions_of(laptop);
    ck_assert_uint_eq(json_array_size(j_items), 1);
    json_decref(j_items);
    /* the other user's sessions are untouched; no token, no list */
    ck_assert_int_eq(lt_status("GET", "/api/users/me", other.token, NULL), 200);
    ck_assert_int_eq(lt_status("GET", "/api/auth/sessions", NULL, NULL), 401);
    ck_assert_int_eq(lt_status("GET", "/api/auth/sessions?limit=abc", laptop, NULL), 422);

    free(path);
    free(phone);
    free(laptop);
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

/* The audit events of action about user_id (new reference to the items). */
static json_t *audit(const char *url, const char *admin, const char *action, long long user_id)
{
    struct lt_resp r;
    char path[256];
    json_t *j_items;

    snprintf(path, sizeof(path), "/api/audit?action=%s&user_id=%lld", action, user_id);
    ck_assert_int_eq(lt_json(url, "GET", path, admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    j_items = json_incref(json_object_get(r.j_body, "items"));
    lt_resp_clear(&r);
    return j_items;
}

START_TEST(audit_trail)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", "LINTEL_LOGIN_MAX_USER=2", NULL};
    struct lt_server s = {0};
    char *admin = NULL, *token = NULL, *name = NULL, *out, sql[256], body[256];
    long long uid = 0;
    json_t *j_items, *j_e;
    struct lt_resp r;
    int status, i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "audited", PW, &token, &uid, &name), 0);

    /* an operator's change in the shell, behind the API's back, is on the record */
    snprintf(sql, sizeof(sql), "UPDATE users SET role = 'admin' WHERE id = %lld", uid);
    out = lt_shell_sql(s.data_dir, sql, &status);
    ck_assert_msg(status == 0, "shell: %s", out);
    free(out);
    j_items = audit(s.url, admin, "user.role", uid);
    ck_assert_uint_eq(json_array_size(j_items), 1);
    j_e = json_array_get(j_items, 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_e, "action")), "user.role");
    ck_assert_int_eq(json_integer_value(json_object_get(j_e, "user_id")), uid);
    ck_assert_str_eq(json_string_value(json_object_get(j_e, "old_value")), "user");
    ck_assert_str_eq(json_string_value(json_object_get(j_e, "new_value")), "admin");
    ck_assert_str_eq(json_string_value(json_object_get(j_e, "subject")), name);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j_e, "at")));
    json_decref(j_items);

    /* failed logins, then the lockout, recorded once */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong-password-1\"}", name);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(lt_json(s.url, "POST", "/api/auth/login", NULL, body, &r), 0);
        ck_assert_int_eq(r.status, i < 2 ? 401 : 429);
        lt_resp_clear(&r);
    }
    j_items = audit(s.url, admin, "login.failed", uid);
    ck_assert_uint_eq(json_array_size(j_items), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_items, 0), "addr")),
                     "127.0.0.1");
    json_decref(j_items);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?action=login.locked", admin, NULL, &r), 0);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    lt_resp_clear(&r);

    /* a deletion and the sessions it ended */
    {
        char path[64];
        snprintf(path, sizeof(path), "/api/users/%lld", uid);
        ck_assert_int_eq(lt_json(s.url, "DELETE", path, admin, NULL, &r), 0);
        ck_assert_int_eq(r.status, 204);
        lt_resp_clear(&r);
    }
    j_items = audit(s.url, admin, "user.deleted", uid);
    ck_assert_uint_eq(json_array_size(j_items), 1);
    json_decref(j_items);
    j_items = audit(s.url, admin, "session.ended", uid);
    ck_assert_uint_ge(json_array_size(j_items), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_items, 0), "new_value")),
                     "deleted");
    json_decref(j_items);

    /* a key rotation */
    {
        const char *const args[] = {"keys", "rotate", NULL};
        ck_assert_int_eq(lt_run(s.data_dir, NULL, args, &out), 0);
        free(out);
    }
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?action=key.rotated", admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    ck_assert_ptr_nonnull(json_string_value(
        json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "old_value")));
    lt_resp_clear(&r);

    /* paging and bad input; users may not read it */
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?limit=1", admin, NULL, &r), 0);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    ck_assert_int_ge(json_integer_value(json_object_get(r.j_body, "total")), 6);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?user_id=abc", admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?user_id=0", admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    {
        char *user = NULL;
        ck_assert_int_eq(lt_register(s.url, "plain", PW, &user, NULL, NULL), 0);
        ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit", user, NULL, &r), 0);
        ck_assert_int_eq(r.status, 403);
        lt_resp_clear(&r);
        free(user);
    }
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(admin);
    free(token);
    free(name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("account");
    TCase *tc = tcase_create("account");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sessions_list_and_end);
    tcase_add_test(tc, audit_trail);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
