/*
 * The periodic cleanup of the accounts worker: with cleanup_interval 1 s, a session whose refresh
 * tokens expired, an ended session, expired reset tokens and old rate-limit rows are deleted,
 * Idempotency-Key replies older than 24 h, jobs finished more than 7 days ago, and a live
 * session is left alone (its token keeps working).
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW "correct-horse-1"

static long long count(const struct lt_server *s, const char *sql)
{
    int status;
    char *out = lt_shell_sql(s->data_dir, sql, &status);
    long long n;

    ck_assert_msg(status == 0, "shell: %s", out);
    n = atoll(out);
    free(out);
    return n;
}

START_TEST(expired_rows_deleted)
{
    static const char *const env[] = {"LINTEL_CLEANUP_INTERVAL=1", "LINTEL_PASSWORD_COST=3",
                                      "LINTEL_ACCESS_TTL=60", NULL};
    struct lt_server s = {0};
    char *live = NULL, *old = NULL, *ended = NULL, *name = NULL, *out;
    /* sessions in order: the registration's (live), a login (old), a login that logs out */
    struct lt_resp r;
    int status, i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "clean", PW, &live, NULL, &name), 0);
    ck_assert_int_eq(lt_login(s.url, name, PW, NULL, &old, NULL), 0);
    ck_assert_int_eq(lt_login(s.url, name, PW, NULL, &ended, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "POST", "/api/auth/logout", ended, NULL, &r), 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM sessions"), 3);
    /* two kept Idempotency-Key replies; one is aged past its 24 h below */
    for (i = 0; i < 2; i++) {
        const char *key[] = {i == 0 ? "Idempotency-Key: old-key" : "Idempotency-Key: new-key",
                             NULL};
        ck_assert_int_eq(lt_request(s.url, "POST", "/api/tasks", live, "application/json",
                                    "{\"title\":\"kept\"}", (size_t)-1, key, &r),
                         0);
        ck_assert_int_eq(r.status, 201);
        lt_resp_clear(&r);
    }
    /* age them: one session's refresh tokens expired long ago, the ended one ended long ago */
    out =
        lt_shell_sql(s.data_dir,
                     "UPDATE sessions SET created_at = created_at - 100000;"
                     "UPDATE refresh_tokens SET expires_at = unixepoch() - 10 WHERE session_id ="
                     " (SELECT id FROM sessions ORDER BY rowid LIMIT 1 OFFSET 1);"
                     "UPDATE sessions SET ended_at = ended_at - 100000 WHERE ended_at IS NOT NULL;"
                     "INSERT INTO account_tokens (hash, kind, expires_at) VALUES"
                     " ('deadbeef', 'invite', unixepoch() - 1);"
                     "INSERT INTO mail_requests (email, addr, at) VALUES ('x@example.test', 'a',"
                     " unixepoch() - 7200);"
                     "UPDATE idempotency_keys SET created_at = created_at - 86401"
                     " WHERE key = 'old-key';"
                     "INSERT INTO jobs (user_id, kind, state, total, finished_at)"
                     " SELECT id, 'old', 'done', 1, strftime('%Y-%m-%dT%H:%M:%SZ',"
                     " unixepoch() - 604801, 'unixepoch') FROM users WHERE username = 'admin';"
                     "INSERT INTO jobs (user_id, kind, state, total, finished_at)"
                     " SELECT id, 'recent', 'failed', 1, strftime('%Y-%m-%dT%H:%M:%SZ',"
                     " unixepoch() - 604000, 'unixepoch') FROM users WHERE username = 'admin';"
                     "INSERT INTO jobs (user_id, kind, state, total)"
                     " SELECT id, 'unfinished', 'running', 1 FROM users WHERE username = 'admin'",
                     &status);
    ck_assert_msg(status == 0, "shell: %s", out);
    free(out);
    for (i = 0; i < 100 && count(&s, "SELECT count(*) FROM account_tokens") > 0; i++)
        usleep(100 * 1000);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM account_tokens"), 0);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM mail_requests"), 0);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM idempotency_keys WHERE key = 'new-key'"), 1);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM idempotency_keys"), 1);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM jobs WHERE kind = 'old'"), 0);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM jobs"), 2);
    ck_assert_int_eq(
        count(&s, "SELECT count(*) FROM refresh_tokens WHERE expires_at < unixepoch()"), 0);
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL"), 0);
    /* left: the live one (the registration's), whose refresh token still works */
    ck_assert_int_eq(count(&s, "SELECT count(*) FROM sessions"), 1);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", live, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", old, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(live);
    free(old);
    free(ended);
    free(name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cleanup");
    TCase *tc = tcase_create("cleanup");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, expired_rows_deleted);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
