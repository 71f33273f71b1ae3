/*
 * The reply cache of cacheable GET routes (app/reply_cache.c): a repeat is replayed without the
 * handler, any commit (the API, another user, the sqlite3 shell) makes the next GET fresh, and
 * users, sessions and queries never share a reply.
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW            "correct-horse-1"
#define METRICS_TOKEN "metrics-token-for-the-reply-cache-test-01"

static struct lt_server srv = {.pid = -1};

/* One worker thread: every request meets the cache the previous one filled. */
static void start(void)
{
    static const char *const env[] = {"LINTEL_THREADS=1", "LINTEL_PASSWORD_COST=3",
                                      "LINTEL_METRICS_TOKEN=" METRICS_TOKEN, NULL};

    ck_assert_int_eq(lt_server_start(&srv, env, NULL), 0);
}

static void stop(void)
{
    ck_assert_int_eq(lt_server_stop(&srv), 0);
}

static long long metric(const char *name)
{
    long long n = lt_metric(srv.url, METRICS_TOKEN, name);

    ck_assert_int_ge(n, 0);
    return n;
}

static long long hits(void)
{
    return metric("lintel_reply_cache_hits_total");
}

/* GET path with token, which must answer status; the reply stays in r. */
static void get(const char *path, const char *token, long status, struct lt_resp *r)
{
    ck_assert_int_eq(lt_json(srv.url, "GET", path, token, NULL, r), 0);
    ck_assert_msg(r->status == status, "GET %s: %ld %s", path, r->status,
                  r->body != NULL ? r->body : "");
}

static void post_number(const char *token, const char *value)
{
    struct lt_resp r;
    char body[64];

    snprintf(body, sizeof(body), "{\"value\":%s}", value);
    ck_assert_int_eq(lt_json(srv.url, "POST", "/api/numbers", token, body, &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
}

static void shell(const char *sql)
{
    int status = -1;
    char *out = lt_shell_sql(srv.data_dir, sql, &status);

    ck_assert_msg(out != NULL && status == 0, "shell: %s", out != NULL ? out : "not run");
    free(out);
}

/* The stats' count, from a GET that must be a hit (hit) or a fresh run (!hit). */
static long long stats_count(const char *token, int hit)
{
    struct lt_resp r;
    long long before = hits(), n;

    get("/api/numbers/stats", token, 200, &r);
    n = json_integer_value(json_object_get(r.j_body, "count"));
    lt_resp_clear(&r);
    if (hit)
        ck_assert_int_eq(hits(), before + 1);
    else
        ck_assert_int_eq(hits(), before);
    return n;
}

/* GETs path until one is replayed (the session's first request records its use: a commit). */
static void warm(const char *path, const char *token)
{
    struct lt_resp r;
    long long before = hits();
    int i;

    for (i = 0; i < 8 && hits() == before; i++) {
        get(path, token, 200, &r);
        lt_resp_clear(&r);
    }
    ck_assert_int_gt(hits(), before);
}

START_TEST(repeat_is_replayed_with_the_handlers_headers)
{
    struct lt_resp a, b, c;
    const char *inm[2] = {NULL, NULL};
    char *tok = NULL, line[128];
    long long before;

    start();
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &tok, NULL, NULL), 0);
    post_number(tok, "1");
    post_number(tok, "2");
    warm("/api/numbers?limit=1", tok);
    get("/api/numbers?limit=1", tok, 200, &a);
    before = hits();
    get("/api/numbers?limit=1", tok, 200, &b);
    ck_assert_int_eq(hits(), before + 1);
    /* the same reply, with the handler's ETag and Link; the host's own headers made anew */
    ck_assert_str_eq(a.body, b.body);
    ck_assert_ptr_nonnull(lt_header(&b, "ETag"));
    ck_assert_str_eq(lt_header(&a, "ETag"), lt_header(&b, "ETag"));
    ck_assert_ptr_nonnull(lt_header(&b, "Link"));
    ck_assert_str_eq(lt_header(&a, "Link"), lt_header(&b, "Link"));
    ck_assert_str_eq(lt_header(&b, "Content-Type"), "application/json");
    ck_assert_str_eq(lt_header(&b, "Cache-Control"), "no-store");
    ck_assert_ptr_nonnull(lt_header(&b, "X-Request-Id"));
    ck_assert_str_ne(lt_header(&a, "X-Request-Id"), lt_header(&b, "X-Request-Id"));
    /* If-None-Match still answers 304 on a replayed reply */
    snprintf(line, sizeof(line), "If-None-Match: %s", lt_header(&b, "ETag"));
    inm[0] = line;
    before = hits();
    ck_assert_int_eq(
        lt_request(srv.url, "GET", "/api/numbers?limit=1", tok, NULL, NULL, 0, inm, &c), 0);
    ck_assert_int_eq(c.status, 304);
    ck_assert_int_eq(hits(), before + 1);
    lt_resp_clear(&c);
    lt_resp_clear(&a);
    lt_resp_clear(&b);

    /* stats and /api/users/me are cacheable too */
    warm("/api/numbers/stats", tok);
    ck_assert_int_eq(stats_count(tok, 1), 2);
    warm("/api/users/me", tok);
    free(tok);
    stop();
}
END_TEST

START_TEST(any_commit_makes_the_next_get_fresh)
{
    char *tok = NULL, *other = NULL, *name = NULL, *sql = NULL;
    long long id;

    start();
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &tok, &id, &name), 0);
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &other, NULL, NULL), 0);
    post_number(tok, "1");
    warm("/api/numbers/stats", tok);
    ck_assert_int_eq(stats_count(tok, 1), 1);

    /* the user's own write through the API */
    post_number(tok, "2");
    ck_assert_int_eq(stats_count(tok, 0), 2);
    ck_assert_int_eq(stats_count(tok, 1), 2);

    /* another user's write, on another connection of the server */
    post_number(other, "5");
    ck_assert_int_eq(stats_count(tok, 0), 2);
    ck_assert_int_eq(stats_count(tok, 1), 2);

    /* the sqlite3 shell: another process */
    ck_assert_int_ge(asprintf(&sql, "DELETE FROM numbers WHERE user_id = %lld", id), 0);
    shell(sql);
    free(sql);
    ck_assert_int_eq(stats_count(tok, 0), 0);
    ck_assert_int_eq(stats_count(tok, 1), 0);

    /* a session ended from the shell: the next request is a 401, never a kept reply */
    ck_assert_int_ge(asprintf(&sql,
                              "UPDATE sessions SET ended_at = unixepoch(), end_reason = 'ended'"
                              " WHERE user_id = %lld",
                              id),
                     0);
    shell(sql);
    free(sql);
    ck_assert_int_eq(lt_me_status(srv.url, tok), 401);
    {
        struct lt_resp r;

        get("/api/numbers/stats", tok, 401, &r);
        lt_resp_clear(&r);
    }
    free(tok);
    free(other);
    free(name);
    stop();
}
END_TEST

START_TEST(users_sessions_and_queries_never_share)
{
    struct lt_resp r;
    char *a = NULL, *b = NULL, *a2 = NULL, *name = NULL;
    long long ida, idb;

    start();
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &a, &ida, &name), 0);
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &b, &idb, NULL), 0);
    ck_assert_int_eq(lt_login(srv.url, name, PW, NULL, &a2, NULL), 0);
    post_number(a, "1");
    post_number(a, "2");
    post_number(a, "3");
    warm("/api/users/me", a);
    warm("/api/users/me", b);
    get("/api/users/me", a, 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), ida);
    lt_resp_clear(&r);
    get("/api/users/me", b, 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), idb);
    lt_resp_clear(&r);
    /* the same user in another session gets its own entry, with the same content */
    get("/api/users/me", a2, 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), ida);
    lt_resp_clear(&r);

    /* queries: each limit its own page */
    warm("/api/numbers?limit=1", a);
    warm("/api/numbers?limit=2", a);
    get("/api/numbers?limit=1", a, 200, &r);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    lt_resp_clear(&r);
    get("/api/numbers?limit=2", a, 200, &r);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 2);
    lt_resp_clear(&r);
    /* B's list is B's (empty), though A's reply of the same URL is kept */
    warm("/api/numbers?limit=2", b);
    get("/api/numbers?limit=2", b, 200, &r);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 0);
    lt_resp_clear(&r);
    free(a);
    free(a2);
    free(b);
    free(name);
    stop();
}
END_TEST

/* Many different queries: the thread keeps at most 32 replies and 256 KiB. */
START_TEST(the_bound_holds)
{
    struct lt_resp r;
    char *tok = NULL, path[64];
    long long stored;
    int i;

    start();
    ck_assert_int_eq(lt_register(srv.url, "rc", PW, &tok, NULL, NULL), 0);
    for (i = 0; i < 20; i++)
        post_number(tok, "1.5");
    warm("/api/numbers?limit=1", tok);
    stored = metric("lintel_reply_cache_stores_total");
    for (i = 1; i <= 100; i++) {
        snprintf(path, sizeof(path), "/api/numbers?limit=%d", i);
        get(path, tok, 200, &r);
        lt_resp_clear(&r);
    }
    ck_assert_int_ge(metric("lintel_reply_cache_stores_total"), stored + 99);
    ck_assert_int_le(metric("lintel_reply_cache_entries"), 32);
    ck_assert_int_gt(metric("lintel_reply_cache_entries"), 0);
    ck_assert_int_le(metric("lintel_reply_cache_bytes"), 256 * 1024);
    free(tok);
    stop();
}
END_TEST

static Suite *reply_cache_suite(void)
{
    Suite *s = suite_create("reply_cache");
    TCase *tc = tcase_create("private");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, repeat_is_replayed_with_the_handlers_headers);
    tcase_add_test(tc, any_commit_makes_the_next_get_fresh);
    tcase_add_test(tc, users_sessions_and_queries_never_share);
    tcase_add_test(tc, the_bound_holds);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(reply_cache_suite)
