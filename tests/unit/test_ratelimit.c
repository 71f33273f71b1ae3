/*
 * app/ratelimit.c on its own, with a clock the test moves: counting down, windows, keys
 * independent, a full table evicting without growing, and concurrent takes losing no count.
 */
#include "lt_test.h"
#include "ratelimit.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(counts_down_then_limits)
{
    struct ratelimit *rl = ratelimit_new(3, 10, 64);
    struct ratelimit_verdict v;
    unsigned i;

    ck_assert_ptr_nonnull(rl);
    for (i = 0; i < 3; i++) {
        ratelimit_take(rl, "u:1", 100 + i, &v);
        ck_assert(!v.limited);
        ck_assert_uint_eq(v.remaining, 2 - i);
        ck_assert_int_eq(v.reset, 10 - i); /* the window began at 100 */
        ck_assert_uint_eq(v.limit, 3);
        ck_assert_uint_eq(v.window, 10);
    }
    ratelimit_take(rl, "u:1", 105, &v);
    ck_assert(v.limited);
    ck_assert_uint_eq(v.remaining, 0);
    ck_assert_int_eq(v.reset, 5);
    ratelimit_take(rl, "u:1", 109, &v);
    ck_assert(v.limited);
    ck_assert_int_eq(v.reset, 1);
    /* a new window at 110: three more */
    ratelimit_take(rl, "u:1", 110, &v);
    ck_assert(!v.limited);
    ck_assert_uint_eq(v.remaining, 2);
    ck_assert_int_eq(v.reset, 10);
    ratelimit_free(rl);
}
END_TEST

START_TEST(keys_are_independent)
{
    struct ratelimit *rl = ratelimit_new(1, 60, 64);
    struct ratelimit_verdict v;

    ratelimit_take(rl, "u:1", 0, &v);
    ck_assert(!v.limited);
    ratelimit_take(rl, "u:1", 0, &v);
    ck_assert(v.limited);
    ratelimit_take(rl, "u:2", 0, &v);
    ck_assert(!v.limited);
    ratelimit_take(rl, "a:127.0.0.1", 0, &v);
    ck_assert(!v.limited);
    /* an empty key is a key too (never confused with a free slot) */
    ratelimit_take(rl, "", 0, &v);
    ck_assert(!v.limited);
    ratelimit_take(rl, "", 0, &v);
    ck_assert(v.limited);
    ratelimit_free(rl);
}
END_TEST

/* 10000 clients through a table of 16: it evicts the oldest windows and holds the rest. */
START_TEST(full_table_evicts)
{
    struct ratelimit *rl = ratelimit_new(2, 60, 16);
    struct ratelimit_verdict v;
    char key[32];
    int i;

    ck_assert_ptr_nonnull(rl);
    for (i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "a:10.0.%d.%d", i / 256, i % 256);
        ratelimit_take(rl, key, 0, &v);
        ck_assert(!v.limited);
        ck_assert_uint_eq(v.remaining, 1);
    }
    /* at most 16 held: nearly every new client evicted one whose window still ran */
    ck_assert_uint_ge(ratelimit_evictions(rl), 10000 - 16);
    /* the newest client is still counted */
    ratelimit_take(rl, key, 0, &v);
    ck_assert_uint_eq(v.remaining, 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(expired_slots_are_reused_first)
{
    struct ratelimit *rl = ratelimit_new(5, 10, 8); /* one group of 8 */
    struct ratelimit_verdict v;
    char key[16];
    int i;

    for (i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ratelimit_take(rl, key, 0, &v);
    }
    /* after the windows ended, new keys take expired slots: no eviction counted */
    for (i = 8; i < 16; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ratelimit_take(rl, key, 20, &v);
    }
    ck_assert_uint_eq(ratelimit_evictions(rl), 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_ptr_null(ratelimit_new(0, 60, 64));
    ck_assert_ptr_null(ratelimit_new(10, 0, 64));
    ck_assert_ptr_null(ratelimit_new(10, 60, 0));
    ratelimit_free(NULL);
}
END_TEST

#define THREADS 4
#define TAKES   5000

static void *taker(void *arg)
{
    struct ratelimit_verdict v;
    int i;

    for (i = 0; i < TAKES; i++)
        ratelimit_take(arg, "u:shared", 0, &v);
    return NULL;
}

/* Four threads on one key: every take is counted once. */
START_TEST(concurrent_takes_are_all_counted)
{
    struct ratelimit *rl = ratelimit_new(1000000, 60, 64);
    struct ratelimit_verdict v;
    pthread_t t[THREADS];
    int i;

    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, taker, rl), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ratelimit_take(rl, "u:shared", 0, &v);
    ck_assert_uint_eq(v.remaining, 1000000 - THREADS * TAKES - 1);
    ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");

    tcase_add_test(tc, counts_down_then_limits);
    tcase_add_test(tc, keys_are_independent);
    tcase_add_test(tc, full_table_evicts);
    tcase_add_test(tc, expired_slots_are_reused_first);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, concurrent_takes_are_all_counted);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(ratelimit_suite)
