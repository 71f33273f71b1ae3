/*
 * The per-user request rate limit over HTTP: RateLimit / RateLimit-Policy counting down, 429
 * with Retry-After and a JSON body, users independent, anonymous clients by address, off by
 * default.
 */
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW "rate-limit-password-1"

/* GET path with token (may be NULL) on url; the reply in *r. */
static long get(const char *url, const char *path, const char *token, struct lt_resp *r)
{
    ck_assert_int_eq(lt_json(url, "GET", path, token, NULL, r), 0);
    return r->status;
}

/* The reply's RateLimit field is exactly "\"policy\";r=remaining;t=<1..window>". */
static void assert_left(const struct lt_resp *r, const char *policy, unsigned remaining, unsigned q,
                        unsigned window)
{
    const char *rl = lt_header(r, "RateLimit"), *pol = lt_header(r, "RateLimit-Policy");
    char want[64], want_policy[64];
    long long t = -1;
    int used = 0;

    ck_assert_msg(rl != NULL && pol != NULL, "no RateLimit fields (status %ld)", r->status);
    snprintf(want_policy, sizeof(want_policy), "\"%s\";q=%u;w=%u", policy, q, window);
    ck_assert_str_eq(pol, want_policy);
    snprintf(want, sizeof(want), "\"%s\";r=%u;t=%%lld%%n", policy, remaining);
    ck_assert_msg(sscanf(rl, want, &t, &used) == 1 && rl[used] == '\0', "RateLimit: %s (want %s)",
                  rl, want);
    ck_assert_msg(t >= 1 && t <= window, "RateLimit t=%lld", t);
}

/* A 429 from the limit: Retry-After within the window, a problem body saying why. */
static void assert_limited(const struct lt_resp *r, const char *policy, unsigned q, unsigned window)
{
    const char *retry = lt_header(r, "Retry-After"), *detail;
    char *end = NULL;
    long secs;

    ck_assert_int_eq(r->status, 429);
    assert_left(r, policy, 0, q, window);
    ck_assert_ptr_nonnull(retry);
    secs = strtol(retry, &end, 10);
    ck_assert_msg(*end == '\0' && secs >= 1 && secs <= (long)window, "Retry-After: %s", retry);
    ck_assert_ptr_nonnull(r->j_body);
    ck_assert_int_eq(json_integer_value(json_object_get(r->j_body, "status")), 429);
    detail = json_string_value(json_object_get(r->j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "Too many requests") != NULL, "detail: %s",
                  detail != NULL ? detail : "(none)");
    ck_assert_ptr_nonnull(strstr(detail, "try again in"));
}

START_TEST(limit_counts_per_user_and_client)
{
    static const char *const env[] = {"LINTEL_RATE_LIMIT=5", "LINTEL_RATE_LIMIT_WINDOW=120", NULL};
    struct lt_server s = {.pid = 0};
    char *a = NULL, *b = NULL;
    struct lt_resp r;
    unsigned i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    /* two registrations from this address: the client's count is 2 */
    ck_assert_int_eq(lt_register(s.url, "rla", PW, &a, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "rlb", PW, &b, NULL, NULL), 0);

    /* user a: 5 requests counting down, the 6th and 7th refused */
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(get(s.url, "/api/users/me", a, &r), 200);
        assert_left(&r, "user", 4 - i, 5, 120);
        lt_resp_clear(&r);
    }
    for (i = 0; i < 2; i++) {
        get(s.url, "/api/users/me", a, &r);
        assert_limited(&r, "user", 5, 120);
        lt_resp_clear(&r);
    }
    /* user b, from the same address, has a count of its own */
    ck_assert_int_eq(get(s.url, "/api/users/me", b, &r), 200);
    assert_left(&r, "user", 4, 5, 120);
    lt_resp_clear(&r);

    /* without a valid token the client address counts: 2 registrations so far */
    ck_assert_int_eq(get(s.url, "/health", NULL, &r), 200);
    assert_left(&r, "client", 2, 5, 120);
    lt_resp_clear(&r);
    ck_assert_int_eq(get(s.url, "/api/users/me", "not-a-token", &r), 401);
    assert_left(&r, "client", 1, 5, 120);
    lt_resp_clear(&r);
    ck_assert_int_eq(get(s.url, "/api/no/such/route", NULL, &r), 404);
    assert_left(&r, "client", 0, 5, 120);
    lt_resp_clear(&r);
    /* over: a 429 replaces the 200, the 401 and the 404 alike */
    get(s.url, "/health", NULL, &r);
    assert_limited(&r, "client", 5, 120);
    lt_resp_clear(&r);
    get(s.url, "/api/users/me", "not-a-token", &r);
    assert_limited(&r, "client", 5, 120);
    lt_resp_clear(&r);
    get(s.url, "/api/no/such/route", NULL, &r);
    assert_limited(&r, "client", 5, 120);
    lt_resp_clear(&r);
    /* a valid token is still counted against its user, not the address */
    ck_assert_int_eq(get(s.url, "/api/users/me", b, &r), 200);
    assert_left(&r, "user", 3, 5, 120);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(a);
    free(b);
}
END_TEST

/* Off by default: the shared server sends no RateLimit fields and never a 429 for rate. */
START_TEST(off_by_default)
{
    struct lt_user u;
    struct lt_resp r;
    int i;

    lt_user_new(&u, "rloff", PW);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(get(lt_base(), "/api/users/me", u.token, &r), 200);
        ck_assert_ptr_null(lt_header(&r, "RateLimit"));
        ck_assert_ptr_null(lt_header(&r, "RateLimit-Policy"));
        lt_resp_clear(&r);
        ck_assert_int_eq(get(lt_base(), "/health", NULL, &r), 200);
        ck_assert_ptr_null(lt_header(&r, "RateLimit"));
        lt_resp_clear(&r);
    }
    lt_user_clear(&u);
}
END_TEST

/* Bad settings stop the start (exit 2) naming the variable. */
START_TEST(bad_settings)
{
    static const char *const bad[][2] = {
        {"LINTEL_RATE_LIMIT=-1", "LINTEL_RATE_LIMIT"},
        {"LINTEL_RATE_LIMIT=ten", "LINTEL_RATE_LIMIT"},
        {"LINTEL_RATE_LIMIT_WINDOW=0", "LINTEL_RATE_LIMIT_WINDOW"},
        {"LINTEL_RATE_LIMIT_WINDOW=86401", "LINTEL_RATE_LIMIT_WINDOW"},
        {"LINTEL_RATE_LIMIT_TABLE=7", "LINTEL_RATE_LIMIT_TABLE"},
    };
    char dir[] = "/tmp/lintel-rl-XXXXXX";
    size_t i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *env[] = {bad[i][0], NULL};
        char *out = NULL;
        ck_assert_int_eq(lt_run(dir, env, NULL, &out), 2);
        ck_assert_msg(out != NULL && strstr(out, bad[i][1]) != NULL, "%s: %s", bad[i][0],
                      out != NULL ? out : "(no output)");
        free(out);
    }
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, limit_counts_per_user_and_client);
    tcase_add_test(tc, off_by_default);
    tcase_add_test(tc, bad_settings);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(ratelimit_suite)
