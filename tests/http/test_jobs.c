/*
 * Long work, black-box: POST /api/datapoints/populate?async=true against a private lintel whose
 * upstream is the real sensor simulator: the 202 and its job, GET /api/jobs/{id} until it is
 * done, job.progress events on /api/ws, per-item errors, per-user limits, and a stop mid-job.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapoints_sim.h"
#include "lt_test.h"

static struct dp_world world;

static void setup_all(void)
{
    dp_world_start(&world, "fixed", 2, "jobuser");
}

static void teardown_all(void)
{
    dp_world_stop(&world);
}

static long req(const char *method, const char *path, const char *token, struct lt_resp *r)
{
    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(lt_json(world.srv.url, method, path, token, NULL, r), 0);
    return r->status;
}

/* Points stored (admin view). */
static long long stored(void)
{
    struct lt_resp r;
    long long total;

    ck_assert_int_eq(req("GET", "/api/datapoints?limit=0", world.admin_token, &r), 200);
    total = json_integer_value(json_object_get(r.j_body, "total"));
    lt_resp_clear(&r);
    return total;
}

/* Starts populate?count=N&async=true (asserting the 202 and its job); returns the job id. */
static long long start_job(int count)
{
    struct lt_resp r;
    char path[96], where[64];
    long long id;

    snprintf(path, sizeof(path), "/api/datapoints/populate?count=%d&async=true", count);
    ck_assert_msg(req("POST", path, world.admin_token, &r) == 202, "%ld %s", r.status, r.body);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    snprintf(where, sizeof(where), "/api/jobs/%lld", id);
    ck_assert_str_eq(lt_header(&r, "location"), where);
    ck_assert_str_eq(lt_path_str(r.j_body, "kind"), "datapoints.populate");
    ck_assert_str_eq(lt_path_str(r.j_body, "state"), "queued");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), count);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "done")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "errors")), 0);
    ck_assert(json_is_null(json_object_get(r.j_body, "finished_at")));
    lt_resp_clear(&r);
    return id;
}

/* Polls GET /api/jobs/{id} until the job is done or failed (at most 30 s); *r keeps the reply. */
static void wait_job(long long id, struct lt_resp *r)
{
    char path[64];
    const char *state;
    int i;

    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    for (i = 0; i < 600; i++) {
        ck_assert_int_eq(req("GET", path, world.admin_token, r), 200);
        state = lt_path_str(r->j_body, "state");
        ck_assert_ptr_nonnull(state);
        if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)
            return;
        ck_assert(strcmp(state, "queued") == 0 || strcmp(state, "running") == 0);
        lt_resp_clear(r);
        usleep(50 * 1000);
    }
    ck_abort_msg("job %lld did not finish", id);
}

START_TEST(async_populate_with_progress_events)
{
    char headers[4096];
    long long before = stored(), id, last_done = -1;
    struct lt_resp r;
    json_t *j_ev;
    int fd, status, events = 0;
    bool finished = false;

    snprintf(headers, sizeof(headers), "Authorization: Bearer %s\r\n", world.admin_token);
    fd = lt_ws_open(world.srv.url, "/api/ws", headers, &status);
    ck_assert_int_eq(status, 101);
    id = start_job(20);
    /* the events of this job: done never goes back, the last one says done 20 of 20 */
    while (!finished && (j_ev = lt_ws_json(fd, 10000)) != NULL) {
        if (strcmp(lt_path_str(j_ev, "event") ? lt_path_str(j_ev, "event") : "", "job.progress") ==
                0 &&
            json_integer_value(lt_path(j_ev, "job.id")) == id) {
            long long done = json_integer_value(lt_path(j_ev, "job.done"));
            ck_assert_int_ge(done, last_done);
            last_done = done;
            events++;
            finished = strcmp(lt_path_str(j_ev, "job.state"), "done") == 0;
        }
        json_decref(j_ev);
    }
    close(fd);
    ck_assert_msg(finished, "no job.progress event with state done (%d events)", events);
    ck_assert_int_eq(last_done, 20);
    ck_assert_int_ge(events, 2); /* running, ..., done */
    wait_job(id, &r);
    ck_assert_str_eq(lt_path_str(r.j_body, "state"), "done");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "done")), 20);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "failed")), 0);
    ck_assert(json_is_string(json_object_get(r.j_body, "finished_at")));
    ck_assert(json_is_null(json_object_get(r.j_body, "detail")));
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before + 20);
    /* the synchronous form stays */
    ck_assert_int_eq(req("POST", "/api/datapoints/populate?count=2", world.admin_token, &r), 201);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "inserted")), 2);
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before + 22);
}
END_TEST

START_TEST(failed_items_are_errors_of_the_job)
{
    long long before = stored(), id;
    const json_t *j_errors;
    struct lt_resp r;

    /* three good points, then answers that are not JSON */
    ck_assert_int_eq(dp_sim_mode(&world.sim, "after:3:not-json"), 0);
    id = start_job(6);
    wait_job(id, &r);
    ck_assert_int_eq(dp_sim_mode(&world.sim, "fixed"), 0);
    ck_assert_str_eq(lt_path_str(r.j_body, "state"), "done");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "done")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "failed")), 3);
    j_errors = json_object_get(r.j_body, "errors");
    ck_assert_int_eq(json_array_size(j_errors), 3);
    ck_assert_int_eq(json_integer_value(lt_path(j_errors, "0.at")), 4);
    ck_assert_int_eq(json_integer_value(lt_path(j_errors, "2.at")), 6);
    ck_assert_msg(strstr(lt_path_str(j_errors, "0.detail"), "not JSON") != NULL, "%s", r.body);
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before + 3);
}
END_TEST

START_TEST(jobs_belong_to_their_user)
{
    struct lt_resp r;
    char path[64];
    long long id = start_job(1);

    wait_job(id, &r);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    ck_assert_int_eq(req("GET", path, world.user_token, &r), 404);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail"), "Job not found");
    lt_resp_clear(&r);
    ck_assert_int_eq(req("GET", path, NULL, &r), 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(req("GET", "/api/jobs/abc", world.admin_token, &r), 404);
    lt_resp_clear(&r);
    ck_assert_int_eq(req("GET", "/api/jobs/99999999", world.admin_token, &r), 404);
    lt_resp_clear(&r);
    /* the list: the admin's jobs newest first, none for the user */
    ck_assert_int_eq(req("GET", "/api/jobs?sort=-id&limit=1", world.admin_token, &r), 200);
    ck_assert_int_eq(json_integer_value(lt_path(r.j_body, "items.0.id")), id);
    lt_resp_clear(&r);
    ck_assert_int_eq(req("GET", "/api/jobs", world.user_token, &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 0);
    lt_resp_clear(&r);
    /* the list is a keyset list of the host's: its sort and cursor are checked */
    ck_assert_int_eq(req("GET", "/api/jobs?sort=state", world.admin_token, &r), 422);
    lt_assert_422(&r, "sort", NULL);
    lt_resp_clear(&r);
    ck_assert_int_eq(req("GET", "/api/jobs?after=not-a-cursor", world.admin_token, &r), 422);
    lt_assert_422(&r, "after", NULL);
    lt_resp_clear(&r);
    /* populate is an admin's, async or not; bad values are 422s */
    ck_assert_int_eq(req("POST", "/api/datapoints/populate?async=true", world.user_token, &r), 403);
    lt_resp_clear(&r);
    ck_assert_int_eq(req("POST", "/api/datapoints/populate?async=maybe", world.admin_token, &r),
                     422);
    lt_assert_422(&r, "async", NULL);
    lt_resp_clear(&r);
    ck_assert_int_eq(
        req("POST", "/api/datapoints/populate?async=true&count=0", world.admin_token, &r), 422);
    lt_assert_422(&r, "count", NULL);
    lt_resp_clear(&r);
    ck_assert_int_eq(
        req("POST", "/api/datapoints/populate?async=true&count=1001", world.admin_token, &r), 422);
    lt_assert_422(&r, "count", NULL);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(a_user_has_four_unfinished_jobs_at_most)
{
    long long ids[4];
    struct lt_resp r;
    int i;

    /* slow points: the four jobs are still queued or running when the fifth is asked for */
    ck_assert_int_eq(dp_sim_mode(&world.sim, "delay:150"), 0);
    for (i = 0; i < 4; i++)
        ids[i] = start_job(4);
    ck_assert_int_eq(
        req("POST", "/api/datapoints/populate?count=1&async=true", world.admin_token, &r), 429);
    ck_assert_ptr_nonnull(lt_header(&r, "retry-after"));
    ck_assert_ptr_nonnull(strstr(lt_path_str(r.j_body, "detail"), "unfinished jobs"));
    lt_resp_clear(&r);
    for (i = 0; i < 4; i++) {
        wait_job(ids[i], &r);
        ck_assert_str_eq(lt_path_str(r.j_body, "state"), "done");
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(dp_sim_mode(&world.sim, "fixed"), 0);
    /* one finished: room again */
    wait_job(start_job(1), &r);
    lt_resp_clear(&r);
}
END_TEST

/* A stop while a job runs: a clean exit, and the job says why it ended after a restart. */
START_TEST(stop_during_a_job)
{
    struct lt_server s2;
    struct dp_sim slow;
    struct lt_resp r;
    char upstream[128], data_dir[PATH_MAX + 32], path[64];
    const char *env[] = {upstream, NULL, NULL};
    char *token = NULL;
    long long id;

    ck_assert_int_eq(dp_sim_start(&slow, "delay:200"), 0);
    snprintf(upstream, sizeof(upstream), "LINTEL_UPSTREAM_URL=%s/sensor", slow.url);
    ck_assert_int_eq(lt_server_start(&s2, env, NULL), 0);
    ck_assert_int_eq(lt_login(s2.url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    ck_assert_int_eq(
        lt_json(s2.url, "POST", "/api/datapoints/populate?count=200&async=true", token, NULL, &r),
        0);
    ck_assert_int_eq(r.status, 202);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    usleep(600 * 1000); /* a few points in */
    ck_assert_int_eq(lt_server_stop_keep(&s2), 0);
    snprintf(data_dir, sizeof(data_dir), "LINTEL_DATA_DIR=%s", s2.data_dir);
    env[1] = data_dir;
    ck_assert_int_eq(lt_server_start(&s2, env, NULL), 0);
    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    ck_assert_int_eq(lt_json(s2.url, "GET", path, token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "state"), "failed");
    ck_assert_str_eq(lt_path_str(r.j_body, "detail"), "The server stopped while the job ran.");
    ck_assert_int_gt(json_integer_value(json_object_get(r.j_body, "done")), 0);
    ck_assert_int_lt(json_integer_value(json_object_get(r.j_body, "done")), 200);
    lt_resp_clear(&r);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s2), 0);
    dp_sim_stop(&slow);
}
END_TEST

static Suite *jobs_suite(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("http"), *alone = tcase_create("stop");

    tcase_add_unchecked_fixture(tc, setup_all, teardown_all);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, async_populate_with_progress_events);
    tcase_add_test(tc, failed_items_are_errors_of_the_job);
    tcase_add_test(tc, jobs_belong_to_their_user);
    tcase_add_test(tc, a_user_has_four_unfinished_jobs_at_most);
    suite_add_tcase(s, tc);
    tcase_set_timeout(alone, 120);
    tcase_add_test(alone, stop_during_a_job);
    suite_add_tcase(s, alone);
    return s;
}

int main(void)
{
    return lt_run_suite(jobs_suite());
}
