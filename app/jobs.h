/*
 * Long work: the job thread that runs plugins' jobs (api->job_start) one after the other, their
 * rows in the jobs table, job.progress events, and GET /api/jobs/{id} for their users.
 */
#ifndef LINTEL_APP_JOBS_H
#define LINTEL_APP_JOBS_H

#include <jansson.h>
#include <lintel/plugin.h>

struct config;

/* Jobs a user may have queued or running at once, and jobs queued in all. */
#define JOBS_PER_USER 4
#define JOBS_QUEUE    32

/* A finished job is deleted by the periodic cleanup (app/account_worker.c) after 7 days. */
#define JOBS_KEEP (7 * 86400)

/*
 * Marks the jobs a previous run left queued or running as failed ("interrupted"), then starts
 * the job thread. 0 or a status code.
 */
int jobs_start(const struct config *cfg);

/*
 * Stops taking jobs, tells the running one to stop (job_progress answers LINTEL_EUNAVAIL), marks
 * the queued ones failed, and joins the thread. Before the plugins unload. Safe without start.
 */
void jobs_stop(void);

/* api->job_start and api->job_progress. */
int jobs_job_start(lintel_req *req, const char *kind, long long total, lintel_job_fn fn,
                   void *state, json_t **j_job);
int jobs_job_progress(lintel_req *req, long long done, int rc);

/* GET /api/jobs/{id}: the job of the caller; GET /api/jobs: the caller's jobs, newest first. */
int jobs_get_handler(lintel_req *req, lintel_res *res, void *state);
int jobs_list_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_JOBS_H */
