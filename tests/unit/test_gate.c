/*
 * The host's gate for CPU-heavy work: slots, a bounded queue, refusal beyond it, time-outs.
 * Threads are sequenced by watching the gate's own counters, never by sleeping.
 */
#include "gate.h"

#include "lt_test.h"

#include <check.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

struct waiter {
    struct gate *g;
    int rc;
};

static void *waiter_run(void *arg)
{
    struct waiter *w = arg;

    w->rc = gate_enter(w->g);
    if (w->rc == 0)
        gate_leave(w->g);
    return NULL;
}

/* Spins until n callers wait in the gate. */
static void wait_for_waiting(struct gate *g, unsigned n)
{
    unsigned now;

    do {
        sched_yield();
        pthread_mutex_lock(&g->lock);
        now = g->waiting;
        pthread_mutex_unlock(&g->lock);
    } while (now < n);
}

START_TEST(queue_then_refuse_then_hand_over)
{
    struct gate g;
    struct waiter w = {&g, -99};
    pthread_t th;

    ck_assert_int_eq(gate_init(&g, 1, 1, 60000), 0);
    ck_assert_int_eq(gate_enter(&g), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_run, &w), 0);
    wait_for_waiting(&g, 1);
    /* one slot busy, one caller queued: the next is refused at once */
    ck_assert_int_eq(gate_enter(&g), LINTEL_EUNAVAIL);
    gate_leave(&g);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rc, 0); /* the queued caller got the freed slot */
    ck_assert_uint_eq(g.busy, 0);
    ck_assert_uint_eq(g.waiting, 0);
    gate_release(&g);
}
END_TEST

START_TEST(several_slots)
{
    struct gate g;

    ck_assert_int_eq(gate_init(&g, 2, 0, 1000), 0);
    ck_assert_int_eq(gate_enter(&g), 0);
    ck_assert_int_eq(gate_enter(&g), 0);
    ck_assert_int_eq(gate_enter(&g), LINTEL_EUNAVAIL); /* no queue at all */
    gate_leave(&g);
    ck_assert_int_eq(gate_enter(&g), 0);
    gate_leave(&g);
    gate_leave(&g);
    ck_assert_uint_eq(g.busy, 0);
    gate_release(&g);
}
END_TEST

START_TEST(wait_times_out)
{
    struct gate g;
    struct waiter w = {&g, -99};
    pthread_t th;

    ck_assert_int_eq(gate_init(&g, 1, 4, 20), 0);
    ck_assert_int_eq(gate_enter(&g), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_run, &w), 0);
    pthread_join(th, NULL); /* the slot is never freed: the waiter gives up */
    ck_assert_int_eq(w.rc, LINTEL_EUNAVAIL);
    ck_assert_uint_eq(g.waiting, 0);
    gate_leave(&g);
    gate_release(&g);
}
END_TEST

static Suite *gate_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("gate");

    tcase_add_test(tc, queue_then_refuse_then_hand_over);
    tcase_add_test(tc, several_slots);
    tcase_add_test(tc, wait_times_out);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(gate_suite)
