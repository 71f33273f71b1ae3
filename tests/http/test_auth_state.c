/*
 * The per-thread session-state cache of app/auth.c (a request does not query while nothing was
 * committed): a logout, a revocation or a deletion still counts on the very next request, made
 * through the API, the sqlite3 shell or another worker thread's connection.
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW            "correct-horse-1"
#define METRICS_TOKEN "metrics-token-for-the-auth-state-test-0123"

/* lintel_auth_state_cache_hits_total from GET /metrics. */
static long long cache_hits(const char *url)
{
    long long n = lt_metric(url, METRICS_TOKEN, "lintel_auth_state_cache_hits_total");

    ck_assert_int_ge(n, 0);
    return n;
}

/* Runs sql in the sqlite3 shell on the server's database, which must succeed. */
static void shell(const struct lt_server *s, const char *sql)
{
    int status = -1;
    char *out = lt_shell_sql(s->data_dir, sql, &status);

    ck_assert_msg(out != NULL && status == 0, "shell: %s", out != NULL ? out : "not run");
    free(out);
}

/*
 * A new user whose token the cache has answered: requests until the hit counter moves (a
 * session's first request records its use, the next one caches, the one after hits; with
 * several threads each of them needs its own).
 */
static char *warm_user(const char *url, char **name)
{
    char *tok = NULL;
    long long id, before;
    int i;

    ck_assert_int_eq(lt_register(url, "st", PW, &tok, &id, name), 0);
    before = cache_hits(url);
    for (i = 0; i < 64 && cache_hits(url) == before; i++)
        ck_assert_int_eq(lt_me_status(url, tok), 200);
    ck_assert_int_gt(cache_hits(url), before); /* the path under test is the cached one */
    return tok;
}

/*
 * One worker thread, so every request runs on the connection that cached the state: changes
 * from another process (the shell) and from this connection itself (a logout) both count.
 */
START_TEST(revocation_counts_on_the_next_request)
{
    static const char *const env[] = {"LINTEL_THREADS=1", "LINTEL_PASSWORD_COST=3",
                                      "LINTEL_METRICS_TOKEN=" METRICS_TOKEN, NULL};
    struct lt_server s = {.pid = -1};
    char *tok, *name = NULL, *other_tok, *other = NULL, *sql = NULL;
    struct lt_resp r;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);

    /* a session ended from the sqlite3 shell: another process's commit */
    tok = warm_user(s.url, &name);
    other_tok = warm_user(s.url, &other);
    ck_assert_int_ge(asprintf(&sql,
                              "UPDATE sessions SET ended_at = unixepoch(), end_reason = 'ended'"
                              " WHERE user_id = (SELECT id FROM users WHERE username = '%s')",
                              name),
                     0);
    shell(&s, sql);
    free(sql);
    ck_assert_int_eq(lt_me_status(s.url, tok), 401);
    ck_assert_int_eq(lt_me_status(s.url, other_tok), 200); /* another user's session still lives */
    free(tok);
    free(name);

    /* a user deleted from the shell */
    ck_assert_int_ge(
        asprintf(&sql, "UPDATE users SET deleted_at = unixepoch() WHERE username = '%s'", other),
        0);
    shell(&s, sql);
    free(sql);
    ck_assert_int_eq(lt_me_status(s.url, other_tok), 401);
    free(other_tok);
    free(other);

    /* a logout through the API: a write on the very connection that holds the cache */
    tok = warm_user(s.url, &name);
    ck_assert_int_eq(lt_json(s.url, "POST", "/api/auth/logout", tok, NULL, &r), 0);
    ck_assert_int_lt(r.status, 300);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_me_status(s.url, tok), 401);
    free(tok);
    free(name);

    /* an admin demoted from the shell loses the admin scope of a cached token at once */
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &tok, NULL), 0);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/1", tok, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        lt_resp_clear(&r);
    }
    shell(&s, "UPDATE users SET role = 'user' WHERE username = 'admin'");
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/1", tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    lt_resp_clear(&r);
    free(tok);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/*
 * Several worker threads, each with its own connection and cache: a logout handled by one of
 * them counts on every other one at the next request.
 */
START_TEST(logout_counts_on_every_thread)
{
    static const char *const env[] = {"LINTEL_THREADS=4", "LINTEL_PASSWORD_COST=3",
                                      "LINTEL_METRICS_TOKEN=" METRICS_TOKEN, NULL};
    struct lt_server s = {.pid = -1};
    char *tok, *name = NULL, *other_tok, *other = NULL;
    struct lt_resp r;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    tok = warm_user(s.url, &name);
    other_tok = warm_user(s.url, &other);
    /* new connections each: the requests spread over the pool's threads and fill their caches */
    for (i = 0; i < 24; i++) {
        ck_assert_int_eq(lt_me_status(s.url, tok), 200);
        ck_assert_int_eq(lt_me_status(s.url, other_tok), 200);
    }
    ck_assert_int_eq(lt_json(s.url, "POST", "/api/auth/logout", tok, NULL, &r), 0);
    ck_assert_int_lt(r.status, 300);
    lt_resp_clear(&r);
    for (i = 0; i < 24; i++) {
        ck_assert_int_eq(lt_me_status(s.url, tok), 401);
        ck_assert_int_eq(lt_me_status(s.url, other_tok), 200);
    }
    free(tok);
    free(name);
    free(other_tok);
    free(other);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

static Suite *auth_state_suite(void)
{
    Suite *s = suite_create("auth_state");
    TCase *tc = tcase_create("private");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, revocation_counts_on_the_next_request);
    tcase_add_test(tc, logout_counts_on_every_thread);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(auth_state_suite)
