/*
 * Long work: the job thread that runs plugins' jobs (api->job_start) one after the other, their
 * rows in the jobs table, job.progress events, and GET /api/jobs/{id} for their users.
 */
#include "jobs.h"

#include "bg_thread.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "host_api.h"
#include "log.h"
#include "router.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The job resource, as GET /api/jobs/{id} and the events show it. */
#define JOBS_COLUMNS                                                                               \
    "id, kind, state, total, done, failed, errors AS \"errors:json\", detail, created_at,"         \
    " updated_at, finished_at"
#define JOBS_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* Progress events of one job are sent at most this often (and always for the last item). */
#define JOBS_EVENT_MS 100

/* One job waiting for the thread: what its request needs, copied from the one that started it. */
struct jobs_item {
    long long id, user_id, total;
    json_t *j_claims; /* the starting request's claims (a reference) */
    const struct route *route;
    lintel_job_fn fn;
    void *state;
    char path[48];        /* "/api/jobs/<id>": the problem's instance of its errors */
    char client_addr[64]; /* the starting request's */
    struct jobs_item *next;
};

static struct {
    const struct config *cfg;
    struct bg_thread t; /* its lock also guards the queue */
    struct jobs_item *head, *tail;
    size_t queued;
    long long total;   /* of the running job */
    long long last_ms; /* its last event */
} jobs = {.t = BG_THREAD_INIT};

static long long jobs_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool jobs_stopping(void)
{
    return bg_thread_stopping(&jobs.t);
}

/* Sends the job's row as {"event": "job.progress", "job": ...} to its user's sockets. */
static void jobs_publish(lintel_req *req)
{
    const struct lintel_api *api = host_api();
    json_t *j_job = NULL, *j_event = NULL;

    jobs.last_ms = jobs_now_ms();
    if (api->sql_rowf(req, &j_job, "SELECT " JOBS_COLUMNS " FROM jobs WHERE id = ?1", "I",
                      (json_int_t)req->job_id) != 0)
        return;
    j_event = json_pack("{ssso}", "event", "job.progress", "job", j_job);
    if (j_event != NULL)
        events_publish(req->user_id, j_event, req->route != NULL ? req->route->scope : NULL);
    json_decref(j_event);
}

/* Moves the job to state (with detail, or NULL) and tells its user. */
static void jobs_set_state(lintel_req *req, const char *state, const char *detail)
{
    if (host_api()->sql_execf(req, NULL,
                              "UPDATE jobs SET state = ?2, detail = ?3, updated_at = " JOBS_NOW
                              ", finished_at = CASE WHEN ?2 IN ('done', 'failed') THEN " JOBS_NOW
                              " END WHERE id = ?1",
                              "Iss?", (json_int_t)req->job_id, state, detail) != 0)
        log_warn("job %lld: cannot record state %s", req->job_id, state);
    jobs_publish(req);
}

/* Runs one job (or, when the server is stopping, only marks it failed) and frees it. */
static void jobs_run(struct jobs_item *item, bool skip)
{
    struct lintel_req req;
    int rc;

    host_req_init(&req, NULL, "POST", item->path, jobs.cfg);
    req.user_id = item->user_id;
    req.j_claims = item->j_claims; /* released with the request */
    req.route = item->route;
    req.job_id = item->id;
    snprintf(req.request_id, sizeof(req.request_id), "job-%lld", item->id);
    snprintf(req.client_addr, sizeof(req.client_addr), "%s", item->client_addr);
    jobs.total = item->total;
    if (skip) {
        jobs_set_state(&req, "failed", "The server stopped before the job ran.");
    } else {
        jobs_set_state(&req, "running", NULL);
        rc = item->fn(&req, &req.res, item->total, item->state);
        if (req.db != NULL && db_in_tx(req.db))
            db_rollback(req.db);
        if (rc != 0)
            log_info("job %lld (%s): failed: %s", item->id, item->path,
                     req.res.err_detail != NULL ? req.res.err_detail : host_api()->strerror(rc));
        jobs_set_state(&req, rc == 0 ? "done" : "failed",
                       rc == 0 ? NULL
                       : rc == LINTEL_EUNAVAIL && jobs_stopping()
                           ? "The server stopped while the job ran."
                       : req.res.err_detail != NULL ? req.res.err_detail
                                                    : host_api()->strerror(rc));
    }
    host_req_release(&req);
    free(item);
}

static void *jobs_main(void *arg)
{
    struct jobs_item *item;
    bool skip;

    (void)arg;
    pthread_mutex_lock(&jobs.t.lock);
    for (;;) {
        while (jobs.head == NULL && !jobs.t.stop)
            pthread_cond_wait(&jobs.t.cond, &jobs.t.lock);
        item = jobs.head;
        if (item == NULL)
            break;
        jobs.head = item->next;
        if (jobs.head == NULL)
            jobs.tail = NULL;
        jobs.queued--;
        skip = jobs.t.stop;
        pthread_mutex_unlock(&jobs.t.lock);
        jobs_run(item, skip);
        pthread_mutex_lock(&jobs.t.lock);
    }
    pthread_mutex_unlock(&jobs.t.lock);
    return NULL;
}

int jobs_start(const struct config *cfg)
{
    struct db *db = NULL;
    long long n = 0;
    int rc;

    jobs.cfg = cfg;
    rc = db_thread(&db);
    if (rc == 0)
        rc = db_exec(db,
                     "UPDATE jobs SET state = 'failed', detail = 'The server stopped while the"
                     " job was queued or running.', updated_at = " JOBS_NOW
                     ", finished_at = " JOBS_NOW " WHERE state IN ('queued', 'running')",
                     NULL, &n, NULL);
    if (rc != 0)
        return rc;
    if (n > 0)
        log_info("jobs: %lld job(s) of the previous run marked failed (interrupted)", n);
    return bg_thread_start(&jobs.t, jobs_main);
}

void jobs_stop(void)
{
    bg_thread_stop(&jobs.t);
}

int jobs_job_start(lintel_req *req, const char *kind, long long total, lintel_job_fn fn,
                   void *state, json_t **j_job)
{
    const struct lintel_api *api = host_api();
    struct jobs_item *item = NULL;
    json_t *j_row = NULL;
    int rc;

    *j_job = NULL;
    if (kind == NULL || fn == NULL || total < 0 || req->user_id <= 0)
        return host_res_record(&req->res, LINTEL_EINTERNAL, NULL, NULL, true);
    pthread_mutex_lock(&jobs.t.lock);
    rc = !jobs.t.running || jobs.t.stop || jobs.queued >= JOBS_QUEUE ? LINTEL_EUNAVAIL : 0;
    pthread_mutex_unlock(&jobs.t.lock);
    if (rc != 0) {
        api->res_header(&req->res, "Retry-After", "5");
        return api->res_error(&req->res, rc, NULL,
                              "The server has %d jobs waiting or is stopping; try again later",
                              JOBS_QUEUE);
    }
    item = calloc(1, sizeof(*item));
    if (item == NULL)
        return host_res_record(&req->res, LINTEL_ENOMEM, NULL, NULL, true);
    /* the count and the insert in one write transaction: two requests cannot both pass */
    rc = api->sql_begin(req);
    if (rc == 0)
        rc = api->sql_rowf(req, &j_row,
                           "SELECT count(*) AS n FROM jobs WHERE user_id = ?1"
                           " AND state IN ('queued', 'running')",
                           "I", (json_int_t)req->user_id);
    if (rc == 0 && json_integer_value(json_object_get(j_row, "n")) >= JOBS_PER_USER) {
        api->res_header(&req->res, "Retry-After", "5");
        rc = api->res_error(&req->res, LINTEL_ERATELIMIT, NULL,
                            "You have %d unfinished jobs; wait for one to finish", JOBS_PER_USER);
    }
    if (rc == 0)
        rc = api->sql_rowf(req, j_job,
                           "INSERT INTO jobs (user_id, kind, total) VALUES (?1, ?2, ?3)"
                           " RETURNING " JOBS_COLUMNS,
                           "IsI", (json_int_t)req->user_id, kind, (json_int_t)total);
    if (rc == 0)
        rc = api->sql_commit(req);
    if (rc != 0) {
        api->sql_rollback(req);
        json_decref(*j_job);
        *j_job = NULL;
        json_decref(j_row);
        free(item);
        return rc;
    }
    item->id = json_integer_value(json_object_get(*j_job, "id"));
    item->user_id = req->user_id;
    item->total = total;
    item->j_claims = json_incref(req->j_claims);
    item->route = req->route;
    item->fn = fn;
    item->state = state;
    snprintf(item->path, sizeof(item->path), "/api/jobs/%lld", item->id);
    snprintf(item->client_addr, sizeof(item->client_addr), "%s", req->client_addr);
    pthread_mutex_lock(&jobs.t.lock);
    if (jobs.tail != NULL)
        jobs.tail->next = item;
    else
        jobs.head = item;
    jobs.tail = item;
    jobs.queued++;
    pthread_cond_signal(&jobs.t.cond);
    pthread_mutex_unlock(&jobs.t.lock);
    json_decref(j_row);
    return 0;
}

int jobs_job_progress(lintel_req *req, long long done, int rc)
{
    const struct lintel_api *api = host_api();
    const char *detail = NULL;
    int r;

    if (req->job_id <= 0)
        return host_res_record(&req->res, LINTEL_EINTERNAL, NULL, NULL, true);
    if (rc != 0)
        detail = req->res.err_detail != NULL ? req->res.err_detail : api->strerror(rc);
    r = api->sql_execf(req, NULL,
                       "UPDATE jobs SET done = ?2, failed = failed + (?3 IS NOT NULL),"
                       " errors = CASE WHEN ?3 IS NOT NULL AND json_array_length(errors) < 100"
                       " THEN json_insert(errors, '$[#]', json_object('at', ?2, 'detail', ?3))"
                       " ELSE errors END, updated_at = " JOBS_NOW " WHERE id = ?1",
                       "IIs?", (json_int_t)req->job_id, (json_int_t)done, detail);
    /* the item's error is kept: the next item starts with a clean reply */
    free(req->res.err_detail);
    req->res.err_detail = NULL;
    json_decref(req->res.j_errors);
    req->res.j_errors = NULL;
    req->res.err_rc = 0;
    if (r == 0 && (done >= jobs.total || jobs_now_ms() - jobs.last_ms >= JOBS_EVENT_MS))
        jobs_publish(req);
    return jobs_stopping() ? LINTEL_EUNAVAIL : r;
}

int jobs_get_handler(lintel_req *req, lintel_res *res, void *state)
{
    const struct lintel_api *api = host_api();
    long long id;
    int rc;

    (void)state;
    rc = api->req_id(req, "id", "Job", &id);
    if (rc == 0)
        rc = api->res_rowf(req, res, 200, "Job",
                           "SELECT " JOBS_COLUMNS " FROM jobs WHERE id = ?1 AND user_id = ?2", "II",
                           (json_int_t)id, (json_int_t)req->user_id);
    return rc;
}

int jobs_list_handler(lintel_req *req, lintel_res *res, void *state)
{
    static const struct lintel_sort sorts[] = {{"id", "id", NULL}, {0}};
    static const struct lintel_list list = {
        .sql = "SELECT " JOBS_COLUMNS " FROM jobs WHERE user_id = ?1", .sorts = sorts};

    (void)state;
    return host_api()->sql_page(req, res, &list, "I", (json_int_t)req->user_id);
}
