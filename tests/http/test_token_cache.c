/*
 * The verified-token cache of app/auth.c holds a fixed number of tokens whatever the traffic:
 * many more distinct tokens than slots leave it at its bound, and every token still works.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW            "correct-horse-1"
#define METRICS_TOKEN "metrics-token-for-the-token-cache-test-01"
#define CACHE_SLOTS   512 /* AUTH_CACHE_SLOTS in app/auth.c */
#define CACHE_METRIC  "lintel_auth_token_cache_entries"

/* Refreshes *refresh (rotated in place) and returns the new access token, malloc'd. */
static char *refreshed_token(const char *url, char **refresh)
{
    json_t *j_body = json_pack("{ss}", "refresh_token", *refresh);
    char *body = json_dumps(j_body, 0), *tok;
    struct lt_resp r;

    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/refresh", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(lt_path_str(r.j_body, "access_token"));
    ck_assert_ptr_nonnull(lt_path_str(r.j_body, "refresh_token"));
    tok = strdup(lt_path_str(r.j_body, "access_token"));
    free(*refresh);
    *refresh = strdup(lt_path_str(r.j_body, "refresh_token"));
    ck_assert_ptr_nonnull(tok);
    ck_assert_ptr_nonnull(*refresh);
    lt_resp_clear(&r);
    free(body);
    json_decref(j_body);
    return tok;
}

/*
 * Three times as many distinct tokens as slots, each used once (refreshes issue them without
 * hashing a password): the cache ends full or nearly (a direct-mapped slot is shared by
 * colliding tokens) but never above its slots; the first and the last token both still work.
 */
START_TEST(distinct_tokens_stay_within_the_slots)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3",
                                      "LINTEL_METRICS_TOKEN=" METRICS_TOKEN, NULL};
    struct lt_server s = {.pid = -1};
    char *name = NULL, *first = NULL, *tok = NULL, *refresh = NULL;
    long long entries, max = 0;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "tc", PW, &first, NULL, &name), 0);
    ck_assert_int_eq(lt_login(s.url, name, PW, NULL, &tok, &refresh), 0);
    ck_assert_int_eq(lt_metric(s.url, METRICS_TOKEN, CACHE_METRIC), 0);
    for (i = 0; i < 3 * CACHE_SLOTS; i++) {
        ck_assert_int_eq(lt_me_status(s.url, tok), 200);
        free(tok);
        tok = refreshed_token(s.url, &refresh);
        if (i % 128 == 0) {
            entries = lt_metric(s.url, METRICS_TOKEN, CACHE_METRIC);
            ck_assert_int_le(entries, CACHE_SLOTS);
            max = entries > max ? entries : max;
        }
    }
    ck_assert_int_eq(lt_me_status(s.url, tok), 200);
    entries = lt_metric(s.url, METRICS_TOKEN, CACHE_METRIC);
    ck_assert_int_le(entries, CACHE_SLOTS);
    ck_assert_int_ge(entries, CACHE_SLOTS * 3 / 4); /* 1 - e^-3 of the slots taken, about 95 % */
    ck_assert_int_ge(entries, max);
    ck_assert_int_eq(lt_me_status(s.url, first), 200); /* evicted or not, it still counts */
    /* the heap gauges the soak reads beside the RSS are there (0 under ASan's own allocator) */
    ck_assert_int_ge(lt_metric(s.url, METRICS_TOKEN, "lintel_heap_in_use_bytes"), 0);
    ck_assert_int_ge(lt_metric(s.url, METRICS_TOKEN, "lintel_heap_free_bytes"), 0);
    free(first);
    free(tok);
    free(refresh);
    free(name);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

static Suite *token_cache_suite(void)
{
    Suite *s = suite_create("token_cache");
    TCase *tc = tcase_create("private");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, distinct_tokens_stay_within_the_slots);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(token_cache_suite)
