/*
 * Crash safety: SIGKILL the server in the middle of a write load, start it again on the same
 * data directory, and check that every acknowledged write is there with its value and that no
 * write is there in part (a bulk of points is all there or not at all).
 */
#include "lt_test.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH_NUMBER_WRITERS 4
#define CRASH_BULK_WRITERS   2
#define CRASH_PER_WRITER     4000 /* an upper bound; the kill comes long before */
#define CRASH_BULK_POINTS    50
#define CRASH_MIN_ACKS       150 /* acknowledged writes wanted before the kill */

struct crash_writer {
    pthread_t thread;
    const char *url;
    const char *token;
    int index;
    bool bulk;
    long long acked_id[CRASH_PER_WRITER]; /* numbers: id of the n-th acknowledged write */
    double acked_value[CRASH_PER_WRITER];
    int nacked;
    int nsent;       /* writes sent, acknowledged or not (their values may be stored) */
    long bad_status; /* an answer neither 201 nor 503 (checked in the main thread) */
};

static atomic_int crash_acks;
static atomic_bool crash_stop;

/* The value of a writer's n-th number: unique, not an integer, so a cut one would show. */
static double crash_value(int writer, int n)
{
    return writer * 100000.0 + n + 0.25;
}

static void *crash_write(void *arg)
{
    struct crash_writer *w = arg;
    char body[CRASH_BULK_POINTS * 96 + 64];
    struct lt_resp r;
    size_t len;
    int n, i;

    for (n = 0; n < CRASH_PER_WRITER && !atomic_load(&crash_stop); n++) {
        if (w->bulk) {
            /* one bulk = one transaction of 50 points, tagged with its writer and number; each
             * its own reading (another first byte), or ingest would store it once */
            len = (size_t)snprintf(body, sizeof(body), "[");
            for (i = 0; i < CRASH_BULK_POINTS; i++)
                len += (size_t)snprintf(body + len, sizeof(body) - len,
                                        "%s{\"time\":%lld,\"value\":[%d,0,128,63],"
                                        "\"tags\":[\"crash-%d-%d\"]}",
                                        i > 0 ? "," : "", (long long)time(NULL), i, w->index, n);
            snprintf(body + len, sizeof(body) - len, "]");
            w->nsent = n + 1;
            if (lt_json(w->url, "POST", "/api/datapoints", w->token, body, &r) != 0) {
                lt_resp_clear(&r);
                break; /* the server is gone */
            }
            if (r.status == 201) {
                w->acked_id[w->nacked++] = n;
                atomic_fetch_add(&crash_acks, 1);
            }
        } else {
            snprintf(body, sizeof(body), "{\"value\":%.2f}", crash_value(w->index, n));
            w->nsent = n + 1;
            if (lt_json(w->url, "POST", "/api/numbers", w->token, body, &r) != 0) {
                lt_resp_clear(&r);
                break;
            }
            if (r.status == 201) {
                w->acked_id[w->nacked] =
                    (long long)json_integer_value(json_object_get(r.j_body, "id"));
                w->acked_value[w->nacked++] = crash_value(w->index, n);
                atomic_fetch_add(&crash_acks, 1);
            }
        }
        if (r.status != 201 && r.status != 503 && w->bad_status == 0)
            w->bad_status = r.status;
        lt_resp_clear(&r);
    }
    return NULL;
}

/* How many points carry the tag "crash-<writer>-<n>"; each bulk had 50 of its own. */
static int crash_count_tag(const char *url, const char *token, json_t *j_counts)
{
    struct lt_resp r;
    char path[128];
    size_t i, got;
    long long offset = 0;
    json_t *j_item;

    for (;;) {
        snprintf(path, sizeof(path), "/api/datapoints?start=0&limit=1000&offset=%lld", offset);
        ck_assert_int_eq(lt_json(url, "GET", path, token, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        got = json_array_size(json_object_get(r.j_body, "items"));
        json_array_foreach(json_object_get(r.j_body, "items"), i, j_item) {
            const char *tag = json_string_value(json_array_get(json_object_get(j_item, "tags"), 0));
            json_int_t c;
            ck_assert_ptr_nonnull(tag);
            c = json_integer_value(json_object_get(j_counts, tag));
            json_object_set_new(j_counts, tag, json_integer(c + 1));
        }
        lt_resp_clear(&r);
        if (got < 1000)
            break;
        offset += (long long)got;
    }
    return 0;
}

START_TEST(sigkill_under_write_load_loses_no_acknowledged_write)
{
    static struct crash_writer w[CRASH_NUMBER_WRITERS + CRASH_BULK_WRITERS];
    char env_dir[PATH_MAX + 32], data_dir[PATH_MAX], *token = NULL, tag[64], path[64];
    const char *env[] = {env_dir, NULL};
    struct lt_server s;
    struct lt_resp r;
    json_t *j_counts, *j_value, *j_seen;
    const char *key;
    long long total_numbers = 0;
    int i, n, status, waited;
    size_t k;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    snprintf(data_dir, sizeof(data_dir), "%s", s.data_dir);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    atomic_store(&crash_acks, 0);
    atomic_store(&crash_stop, false);
    for (i = 0; i < CRASH_NUMBER_WRITERS + CRASH_BULK_WRITERS; i++) {
        w[i].url = s.url;
        w[i].token = token;
        w[i].index = i;
        w[i].bulk = i >= CRASH_NUMBER_WRITERS;
        ck_assert_int_eq(pthread_create(&w[i].thread, NULL, crash_write, &w[i]), 0);
    }
    /* kill in the middle of the load: once enough writes were acknowledged (at most 60 s) */
    for (waited = 0; atomic_load(&crash_acks) < CRASH_MIN_ACKS && waited < 6000; waited++)
        usleep(10 * 1000);
    ck_assert_int_ge(atomic_load(&crash_acks), CRASH_MIN_ACKS);
    ck_assert_int_eq(kill(s.pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(s.pid, &status, 0), s.pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    s.pid = 0;
    atomic_store(&crash_stop, true);
    for (i = 0; i < CRASH_NUMBER_WRITERS + CRASH_BULK_WRITERS; i++) {
        pthread_join(w[i].thread, NULL);
        ck_assert_msg(w[i].bad_status == 0, "writer %d got %ld", i, w[i].bad_status);
    }

    /* start again on the same data directory (the WAL is recovered) */
    snprintf(env_dir, sizeof(env_dir), "LINTEL_DATA_DIR=%s", data_dir);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    free(token);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);

    /* every acknowledged number is there with its value */
    for (i = 0; i < CRASH_NUMBER_WRITERS; i++) {
        for (n = 0; n < w[i].nacked; n++) {
            snprintf(path, sizeof(path), "/api/numbers/%lld", w[i].acked_id[n]);
            ck_assert_int_eq(lt_json(s.url, "GET", path, token, NULL, &r), 0);
            ck_assert_msg(r.status == 200, "acknowledged number %lld: %ld", w[i].acked_id[n],
                          r.status);
            ck_assert_double_eq(json_number_value(json_object_get(r.j_body, "value")),
                                w[i].acked_value[n]);
            lt_resp_clear(&r);
        }
    }
    /* and every stored number is one that was sent, once: no stray or torn value */
    j_seen = json_object();
    for (k = 0;; k += 1000) {
        json_t *j_item;
        size_t got, idx;
        snprintf(path, sizeof(path), "/api/numbers?limit=1000&offset=%zu", k);
        ck_assert_int_eq(lt_json(s.url, "GET", path, token, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        got = json_array_size(json_object_get(r.j_body, "items"));
        json_array_foreach(json_object_get(r.j_body, "items"), idx, j_item) {
            double v = json_number_value(json_object_get(j_item, "value"));
            int writer = (int)(v / 100000.0), nth = (int)(v - writer * 100000.0);
            ck_assert_int_lt(writer, CRASH_NUMBER_WRITERS);
            ck_assert_int_lt(nth, w[writer].nsent);
            ck_assert_double_eq(v, crash_value(writer, nth));
            snprintf(tag, sizeof(tag), "%d-%d", writer, nth);
            ck_assert_ptr_null(json_object_get(j_seen, tag));
            json_object_set_new(j_seen, tag, json_true());
            total_numbers++;
        }
        lt_resp_clear(&r);
        if (got < 1000)
            break;
    }
    json_decref(j_seen);
    for (i = 0, n = 0; i < CRASH_NUMBER_WRITERS; i++)
        n += w[i].nacked;
    ck_assert_int_ge(total_numbers, n);
    fprintf(stderr,
            "crash: %d numbers and %d bulks acknowledged before SIGKILL; %lld numbers "
            "stored\n",
            n, atomic_load(&crash_acks) - n, total_numbers);

    /* every bulk is all there (50 points) or absent; every acknowledged one is there */
    j_counts = json_object();
    crash_count_tag(s.url, token, j_counts);
    json_object_foreach(j_counts, key, j_value) {
        ck_assert_msg(json_integer_value(j_value) == CRASH_BULK_POINTS,
                      "bulk %s has %lld of its %d points", key,
                      (long long)json_integer_value(j_value), CRASH_BULK_POINTS);
    }
    for (i = CRASH_NUMBER_WRITERS; i < CRASH_NUMBER_WRITERS + CRASH_BULK_WRITERS; i++) {
        for (n = 0; n < w[i].nacked; n++) {
            snprintf(tag, sizeof(tag), "crash-%d-%lld", i, w[i].acked_id[n]);
            ck_assert_msg(json_object_get(j_counts, tag) != NULL, "acknowledged bulk %s is missing",
                          tag);
        }
    }
    json_decref(j_counts);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    snprintf(env_dir, sizeof(env_dir), "rm -rf '%s'", data_dir);
    ck_assert_int_eq(system(env_dir), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sigkill_under_write_load_loses_no_acknowledged_write);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
