/*
 * The datapoints plugin: sensor points fetched from the upstream service or posted in bulk.
 * Handlers only move raw values into SQL; decoding, time conversion and validity are the
 * extension's functions (lintel_f32_decode, lintel_datapoint_tags, lintel_datapoint_valid).
 */
#include <lintel/kit.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DP_POPULATE_MAX     1000
#define DP_POPULATE_SECONDS 30   /* populate's whole run, by default (populate_timeout) */
#define DP_POPULATE_LIMIT   3600 /* the largest populate_timeout accepted              */
#define DP_BULK_MAX         10000
#define DP_UNIX_SECONDS_MAX 253402300799LL /* 9999-12-31T23:59:59Z, the last 4-digit year */

#include "ingest_sql.h"

LINTEL_KIT_INIT;

extern const struct lintel_embedded_sql datapoints_migrations[];

struct datapoints {
    const struct lintel_api *api;
    lintel_plugin *p;
    char *upstream_url;    /* NULL: populate answers 503 */
    long long populate_ms; /* deadline of one populate call, all fetches together */
};

static long long dp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the caller's role, as the database has it now, is admin. */
static bool dp_is_admin(struct datapoints *d, lintel_req *req)
{
    const json_t *j_claims = d->api->req_claims(req);
    const char *role = json_string_value(json_object_get(j_claims, "role"));

    return role != NULL && strcmp(role, "admin") == 0;
}

/* POST populate's count: decimal digits, 1..DP_POPULATE_MAX (default 1). */
static int dp_count(struct datapoints *d, lintel_req *req, lintel_res *res, long long *count)
{
    const char *text = d->api->req_query(req, "count");
    char *end = NULL;
    long long v = -1;

    *count = 1;
    if (text == NULL)
        return 0;
    errno = 0;
    if (text[0] >= '0' && text[0] <= '9')
        v = strtoll(text, &end, 10);
    if (v < 1 || v > DP_POPULATE_MAX || errno != 0 || end == NULL || *end != '\0')
        return d->api->res_invalid(res, "count", "must be an integer between 1 and %d",
                                   DP_POPULATE_MAX);
    *count = v;
    return 0;
}

/*
 * The filters shared by the list and the stats: start, end and, for admins only, valid.
 * *valid: -1 any, 0 or 1. A user only ever sees valid points; a user naming valid= is
 * refused (403) rather than silently ignored, so a client never misreads what it got.
 */
static int dp_filters(struct datapoints *d, lintel_req *req, lintel_res *res, long long *start,
                      long long *end, int *valid)
{
    bool admin = dp_is_admin(d, req);
    const char *text = d->api->req_query(req, "valid");
    int rc;

    *start = LLONG_MIN;
    *end = LLONG_MAX;
    *valid = admin ? -1 : 1;
    rc = d->api->req_time(req, "start", LINTEL_TIME_CEIL, start);
    if (rc == 0)
        rc = d->api->req_time(req, "end", 0, end);
    if (rc != 0 || text == NULL)
        return rc;
    if (!admin)
        return d->api->res_error(res, LINTEL_EFORBIDDEN, NULL,
                                 "The valid filter needs the admin role");
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *valid = 1;
    else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *valid = 0;
    else
        return d->api->res_invalid(res, "valid", "must be true or false");
    return 0;
}

/* The fields a list of points may be sorted on: time (the key is ts, the item's time its text). */
static const struct lintel_sort dp_sorts[] = {
    {"time", "ts", "unixepoch(?)"}, {"id", "id", NULL}, {0}};
#define DP_SORTS "time -time id -id"

/*
 * GET /api/datapoints?start&end&tag&limit&offset|skip&after&sort[&valid] -> list ordered by time
 * then id unless sorted otherwise. Every statement takes the same four parameters; a filter not
 * asked for is the constant "?N IS NULL" with NULL bound, so the index on ts serves each.
 */
static int dp_list(lintel_req *req, lintel_res *res, void *state)
{
    struct datapoints *d = state;
    const char *tag = d->api->req_query(req, "tag");
    struct lintel_list list = {.sorts = dp_sorts};
    long long start, end;
    char sql[512];
    int valid, rc;

    rc = dp_filters(d, req, res, &start, &end, &valid);
    if (rc != 0)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT %s FROM datapoints WHERE ts BETWEEN ?1 AND ?2 AND %s AND %s",
             DP_COLUMNS, valid >= 0 ? "valid = ?3" : "?3 IS NULL",
             tag != NULL ? "EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?4)"
                         : "?4 IS NULL");
    list.sql = sql;
    return d->api->sql_page(req, res, &list, "IIos?", (json_int_t)start, (json_int_t)end,
                            valid >= 0 ? json_integer(valid) : json_null(), tag);
}

/* GET /api/datapoints/stats?start&end[&valid] -> lintel_stats over the visible values */
static int dp_stats(lintel_req *req, lintel_res *res, void *state)
{
    struct datapoints *d = state;
    json_t *j_params = NULL, *j_row = NULL;
    long long start, end;
    int valid, rc;

    rc = dp_filters(d, req, res, &start, &end, &valid);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[II]", (json_int_t)start, (json_int_t)end);
    if (j_params == NULL ||
        (valid >= 0 && json_array_append_new(j_params, json_integer(valid)) != 0)) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = d->api->sql_row(req,
                         valid < 0 ? "SELECT lintel_stats(value) AS \"stats:json\" FROM datapoints"
                                     " WHERE ts BETWEEN ?1 AND ?2"
                                   : "SELECT lintel_stats(value) AS \"stats:json\" FROM datapoints"
                                     " WHERE valid = ?3 AND ts BETWEEN ?1 AND ?2",
                         j_params, &j_row);
    if (rc == 0)
        rc = d->api->res_json(res, 200, json_object_get(j_row, "stats"));
cleanup:
    json_decref(j_params);
    json_decref(j_row);
    return rc;
}

/* The most buckets one series answers: a day of minutes is 1440, a year of hours 8784. */
#define DP_SERIES_MAX 10000

/*
 * GET /api/datapoints/series?start&end&bucket=1m|1h|1d -> {start, end, bucket, items: [{time,
 * count, min, max, mean}]}: per bucket (aligned on the epoch, so days start at 00:00 UTC) the
 * valid points with a value, for every role. Buckets without such a point are left out. The
 * grouping is the extension's lintel_time_bucket; count, min, max and the mean are SQLite's.
 */
static int dp_series(lintel_req *req, lintel_res *res, void *state)
{
    struct datapoints *d = state;
    const char *bucket = d->api->req_query(req, "bucket");
    json_t *j_items = NULL, *j_reply = NULL;
    long long start = LLONG_MIN, end = LLONG_MIN, width, buckets;
    int rc;

    rc = d->api->req_time(req, "start", LINTEL_TIME_CEIL, &start);
    if (rc == 0)
        rc = d->api->req_time(req, "end", 0, &end);
    if (rc != 0)
        return rc;
    /* required and one of 1m 1h 1d: checked by the host (the route declares them) */
    width = bucket[1] == 'm' ? 60 : bucket[1] == 'h' ? 3600 : 86400;
    if (start < 0)
        start = 0;
    if (end > DP_UNIX_SECONDS_MAX)
        end = DP_UNIX_SECONDS_MAX;
    if (end < start)
        return d->api->res_invalid(res, "end", "must not be before start");
    buckets = end / width - start / width + 1;
    if (buckets > DP_SERIES_MAX)
        return d->api->res_invalid(res, "bucket",
                                   "gives %lld buckets from start to end, more than %d: choose a "
                                   "wider bucket or a shorter range",
                                   buckets, DP_SERIES_MAX);
    rc = lintel_sql_queryf(req, &j_items,
                           "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', b, 'unixepoch') AS time,"
                           " count(*) AS count, min(value) AS min, max(value) AS max,"
                           " avg(value) AS mean FROM (SELECT lintel_time_bucket(ts, ?3) AS b,"
                           " value FROM datapoints WHERE ts BETWEEN ?1 AND ?2 AND valid = 1"
                           " AND value IS NOT NULL) GROUP BY b ORDER BY b",
                           "IIs", (json_int_t)start, (json_int_t)end, bucket);
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_reply,
                             "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch') AS start,"
                             " strftime('%Y-%m-%dT%H:%M:%SZ', ?2, 'unixepoch') AS \"end\","
                             " ?3 AS bucket",
                             "IIs", (json_int_t)start, (json_int_t)end, bucket);
    if (rc == 0 && json_object_set(j_reply, "items", j_items) != 0)
        rc = LINTEL_ENOMEM;
    if (rc == 0)
        rc = d->api->res_json(res, 200, j_reply);
    json_decref(j_items);
    json_decref(j_reply);
    return rc;
}

/*
 * Inserts the raw points of j_points (an array) in one transaction, all or none. When a point
 * is malformed nothing is stored, rc is LINTEL_EPARAM and *bad_index / *j_bad ([field,
 * message], new reference) name it, nothing recorded: the caller words the error. With
 * j_items, the inserted points are returned (new reference). keyed (bulk ingest, without
 * j_items): points already stored under their ingest key are skipped, not counted in *inserted.
 */
static int dp_insert(struct datapoints *d, lintel_req *req, const json_t *j_points, bool keyed,
                     long long *inserted, json_t **j_items, long long *bad_index, json_t **j_bad)
{
    json_t *j_params = NULL, *j_rows = NULL, *j_row = NULL;
    long long changes = 0;
    bool in_tx = false;
    int rc;

    *inserted = 0;
    *bad_index = -1;
    *j_bad = NULL;
    j_params = json_pack("[O]", j_points); /* bound as the JSON text of the whole array */
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = d->api->sql_begin(req);
    if (rc != 0)
        goto cleanup;
    in_tx = true;
    if (j_items != NULL) {
        rc = d->api->sql_query(req, DP_INSERT " RETURNING " DP_COLUMNS, j_params, &j_rows);
        changes = (long long)json_array_size(j_rows);
    } else {
        rc = d->api->sql_exec(req, keyed ? DP_INSERT_KEYED : DP_INSERT, j_params, &changes, NULL);
    }
    if (rc == 0 && !keyed && changes != (long long)json_array_size(j_points))
        rc = LINTEL_EINTERNAL; /* cannot happen: the statement takes every point or fails */
    if (rc == 0) {
        rc = d->api->sql_commit(req);
        in_tx = rc != 0;
    }
    if (rc == 0) {
        *inserted = changes;
        if (j_items != NULL) {
            *j_items = j_rows;
            j_rows = NULL;
        }
        goto cleanup;
    }
    /* Undo, then look for the point to blame; none found leaves the statement's own error. */
    d->api->sql_rollback(req);
    in_tx = false;
    if (d->api->sql_row(req, DP_FIRST_ERROR, j_params, &j_row) == 0) {
        *bad_index = (long long)json_integer_value(json_object_get(j_row, "idx"));
        *j_bad = json_incref(json_object_get(j_row, "err"));
        rc = LINTEL_EPARAM;
    }
cleanup:
    if (in_tx)
        d->api->sql_rollback(req);
    json_decref(j_params);
    json_decref(j_rows);
    json_decref(j_row);
    return rc;
}

/*
 * Tells the caller's open WebSockets that points were stored ({"event": "datapoints.created",
 * "inserted": n}), so a chart can refresh (the /admin page does). Best effort, after the reply.
 */
static void dp_publish_created(struct datapoints *d, lintel_req *req, long long inserted)
{
    json_t *j_event =
        json_pack("{ss sI}", "event", "datapoints.created", "inserted", (json_int_t)inserted);

    if (j_event != NULL)
        d->api->event_publish(req, d->api->req_user_id(req), j_event);
    json_decref(j_event);
}

/*
 * POST /api/datapoints [raw points] -> 201 {inserted, duplicates}; one bad point -> 422 and
 * nothing stored
 */
static int dp_bulk(lintel_req *req, lintel_res *res, void *state)
{
    struct datapoints *d = state;
    json_t *j_body = NULL, *j_bad = NULL, *j_reply = NULL;
    long long inserted = 0, bad_index = -1;
    const char *field;
    char where[64];
    int rc;

    rc = d->api->req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    if (!json_is_array(j_body)) {
        rc = d->api->res_error(res, LINTEL_EPARAM, NULL,
                               "The body must be a JSON array of points {time, value, tags}");
        goto cleanup;
    }
    if (json_array_size(j_body) == 0 || json_array_size(j_body) > DP_BULK_MAX) {
        rc = d->api->res_error(res, LINTEL_EPARAM, NULL,
                               "The body must hold 1 to %d points, not %zu", DP_BULK_MAX,
                               json_array_size(j_body));
        goto cleanup;
    }
    rc = dp_insert(d, req, j_body, true, &inserted, NULL, &bad_index, &j_bad);
    if (rc == LINTEL_EPARAM && j_bad != NULL) {
        field = json_string_value(json_array_get(j_bad, 0));
        snprintf(where, sizeof(where), "[%lld]%s%s", bad_index,
                 field != NULL && field[0] != '\0' ? "." : "", field != NULL ? field : "");
        /* The detail is a sentence; errors[] carries the field and its message alone. */
        d->api->res_error(res, LINTEL_EPARAM, NULL, "Point %lld is malformed: %s %s", bad_index,
                          where, json_string_value(json_array_get(j_bad, 1)));
        rc = d->api->res_error(res, LINTEL_EPARAM, where, "%s",
                               json_string_value(json_array_get(j_bad, 1)));
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    /* A re-sent batch: the points already stored are counted, not stored again. */
    j_reply = json_pack("{sIsI}", "inserted", (json_int_t)inserted, "duplicates",
                        (json_int_t)json_array_size(j_body) - (json_int_t)inserted);
    rc = j_reply != NULL ? d->api->res_json(res, 201, j_reply) : LINTEL_ENOMEM;
    if (rc == 0 && inserted > 0)
        dp_publish_created(d, req, inserted);
cleanup:
    json_decref(j_body);
    json_decref(j_bad);
    json_decref(j_reply);
    return rc;
}

/*
 * Fetches one raw point from the upstream into j_points. Anything but a 200 with a JSON body
 * is a 502 naming the defect; the shape of the point itself is judged later, in SQL.
 */
static int dp_fetch(struct datapoints *d, lintel_req *req, lintel_res *res, long long nth,
                    long long count, long long deadline, json_t *j_points)
{
    json_error_t err;
    json_t *j_point = NULL;
    char *body = NULL;
    size_t len = 0;
    long status = 0;
    long long left = deadline - dp_now_ms();
    int rc;

    /*
     * The whole call has a deadline, not only each fetch: 1000 fetches of up to the upstream
     * timeout each would hold a worker thread for hours. The host caps the per-fetch timeout
     * at its own upstream_timeout, so passing what is left never makes a fetch wait longer.
     */
    if (left <= 0) {
        rc = d->api->res_error(res, LINTEL_ETIMEOUT, NULL,
                               "populate did not finish within %lld ms: %lld of %lld points were "
                               "fetched, none stored",
                               d->populate_ms, nth - 1, count);
        goto cleanup;
    }
    rc = d->api->http_get(req, d->upstream_url, (long)left, 0, &status, &body, &len);
    if (rc != 0)
        goto cleanup; /* the host recorded the defect: refused, too large, timed out, ... */
    if (status != 200) {
        rc = d->api->res_error(res, LINTEL_EUPSTREAM, NULL,
                               "upstream answered HTTP %ld, not 200 (request %lld of %lld)", status,
                               nth, count);
        goto cleanup;
    }
    j_point = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (j_point == NULL) {
        rc = d->api->res_error(res, LINTEL_EUPSTREAM, NULL,
                               "upstream answer is not JSON: %s at byte %d (request %lld of %lld)",
                               err.text, err.position, nth, count);
        goto cleanup;
    }
    rc = json_array_append_new(j_points, j_point) == 0 ? 0 : LINTEL_ENOMEM;
cleanup:
    d->api->free(body);
    return rc;
}

/*
 * POST /api/datapoints/populate?count=N (admin): N upstream GETs, then one transaction.
 * Every fetch happens before anything is written, so a failure part-way stores nothing.
 */
/* The words of an upstream point dp_insert refused (j_bad: [field, message]), as a 502. */
static int dp_upstream_bad(struct datapoints *d, lintel_res *res, long long nth, long long count,
                           const json_t *j_bad)
{
    const char *field = json_string_value(json_array_get(j_bad, 0));

    return d->api->res_error(res, LINTEL_EUPSTREAM, NULL,
                             "upstream point %lld of %lld is malformed: %s %s", nth, count,
                             field != NULL && field[0] != '\0' ? field : "the point",
                             json_string_value(json_array_get(j_bad, 1)));
}

/*
 * The job of POST /api/datapoints/populate?async=true: count points, each fetched and stored on
 * its own (so the job's progress is what is stored); a point that cannot be fetched or stored is
 * one of the job's errors and the next one is tried. The whole job has populate's deadline.
 */
static int dp_populate_job(lintel_req *req, lintel_res *res, long long count, void *state)
{
    struct datapoints *d = state;
    json_t *j_points = NULL, *j_bad = NULL;
    long long inserted = 0, total = 0, bad_index, i, deadline = dp_now_ms() + d->populate_ms;
    int rc = 0, item;

    for (i = 1; i <= count && rc == 0; i++) {
        json_decref(j_points);
        json_decref(j_bad);
        j_bad = NULL;
        j_points = json_array();
        item =
            j_points != NULL ? dp_fetch(d, req, res, i, count, deadline, j_points) : LINTEL_ENOMEM;
        if (item == LINTEL_ETIMEOUT && dp_now_ms() >= deadline) {
            rc = item; /* the job's deadline, not one fetch's: the job stops */
            break;
        }
        if (item == 0)
            item = dp_insert(d, req, j_points, false, &inserted, NULL, &bad_index, &j_bad);
        if (item == LINTEL_EPARAM && j_bad != NULL)
            item = dp_upstream_bad(d, res, i, count, j_bad);
        total += item == 0 ? inserted : 0;
        rc = d->api->job_progress(req, i, item);
    }
    if (total > 0)
        dp_publish_created(d, req, total);
    json_decref(j_points);
    json_decref(j_bad);
    return rc;
}

/* The checks both forms of populate make: count, and an upstream to ask. */
static int dp_populate_check(struct datapoints *d, lintel_req *req, lintel_res *res,
                             long long *count)
{
    int rc = dp_count(d, req, res, count);

    if (rc == 0 && d->upstream_url == NULL)
        rc = d->api->res_error(res, LINTEL_EUNAVAIL, NULL,
                               "No upstream sensor service is configured: set "
                               "LINTEL_UPSTREAM_URL (or upstream_url in the datapoints "
                               "plugin's config), e.g. to the lintel-sensor-sim address");
    return rc;
}

/*
 * POST /api/datapoints/populate?count=N&async=true: 202 with the job (Location /api/jobs/{id});
 * the points arrive as the job runs (GET /api/jobs/{id}, job.progress events).
 */
static int dp_populate_async(struct datapoints *d, lintel_req *req, lintel_res *res)
{
    json_t *j_job = NULL;
    char location[64];
    long long count = 1;
    int rc;

    rc = dp_populate_check(d, req, res, &count);
    if (rc == 0)
        rc = d->api->job_start(req, "datapoints.populate", count, dp_populate_job, d, &j_job);
    if (rc == 0) {
        snprintf(location, sizeof(location), "/api/jobs/%lld",
                 (long long)json_integer_value(json_object_get(j_job, "id")));
        rc = d->api->res_header(res, "Location", location);
    }
    if (rc == 0)
        rc = d->api->res_json(res, 202, j_job);
    json_decref(j_job);
    return rc;
}

static int dp_populate(lintel_req *req, lintel_res *res, void *state)
{
    struct datapoints *d = state;
    const char *async = d->api->req_query(req, "async");
    json_t *j_points = NULL, *j_items = NULL, *j_bad = NULL, *j_reply = NULL;
    long long count = 1, inserted = 0, bad_index = -1, i, deadline = dp_now_ms() + d->populate_ms;
    int rc;

    if (async != NULL && strcmp(async, "true") == 0)
        return dp_populate_async(d, req, res);
    rc = dp_populate_check(d, req, res, &count);
    if (rc != 0)
        goto cleanup;
    j_points = json_array();
    if (j_points == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    for (i = 1; i <= count && rc == 0; i++)
        rc = dp_fetch(d, req, res, i, count, deadline, j_points);
    if (rc != 0)
        goto cleanup;
    rc = dp_insert(d, req, j_points, false, &inserted, &j_items, &bad_index, &j_bad);
    if (rc == LINTEL_EPARAM && j_bad != NULL) {
        rc = dp_upstream_bad(d, res, bad_index + 1, count, j_bad);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    j_reply = json_pack("{sIsO}", "inserted", (json_int_t)inserted, "items", j_items);
    rc = j_reply != NULL ? d->api->res_json(res, 201, j_reply) : LINTEL_ENOMEM;
    if (rc == 0)
        dp_publish_created(d, req, inserted);
cleanup:
    json_decref(j_points);
    json_decref(j_items);
    json_decref(j_bad);
    json_decref(j_reply);
    return rc;
}

static void dp_unload(void *state)
{
    struct datapoints *d = state;

    free(d->upstream_url);
    free(d);
}

/*
 * The upstream URL: "upstream_url" of the config object, where the host has already put
 * LINTEL_UPSTREAM_URL (which wins over the server file's key) and the plugin's own config
 * subtree on top. Read once here, before any worker thread exists. A scheme other than
 * http(s) stops the start (the subtree is not checked by the host).
 */
static int dp_configure(struct datapoints *d, const json_t *config)
{
    const json_t *j_url = json_object_get(config, "upstream_url");
    const json_t *j_deadline = json_object_get(config, "populate_timeout");
    const char *url = NULL;

    d->populate_ms = DP_POPULATE_SECONDS * 1000LL;
    if (j_deadline != NULL) {
        if (!json_is_integer(j_deadline) || json_integer_value(j_deadline) < 1 ||
            json_integer_value(j_deadline) > DP_POPULATE_LIMIT) {
            d->api->log(d->p, LINTEL_LOG_ERROR,
                        "populate_timeout must be an integer number of seconds 1..%d",
                        DP_POPULATE_LIMIT);
            return LINTEL_EPARAM;
        }
        d->populate_ms = (long long)json_integer_value(j_deadline) * 1000;
    }
    if (j_url != NULL && !json_is_null(j_url) && !json_is_string(j_url))
        goto bad;
    if (json_string_length(j_url) > 0)
        url = json_string_value(j_url);
    if (url == NULL) {
        d->api->log(d->p, LINTEL_LOG_INFO,
                    "no upstream configured: populate answers 503 (set LINTEL_UPSTREAM_URL)");
        return 0;
    }
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        goto bad;
    d->upstream_url = strdup(url);
    return d->upstream_url != NULL ? 0 : LINTEL_ENOMEM;
bad:
    d->api->log(d->p, LINTEL_LOG_ERROR,
                "upstream_url (LINTEL_UPSTREAM_URL) must be an http:// or https:// URL");
    return LINTEL_EPARAM;
}

/* The time range and validity filter both GET routes take (the handlers parse them: dp_filters). */
#define DP_RANGE_PARAMS                                                                            \
    {"start",                                                                                      \
     LINTEL_PARAM_STRING,                                                                          \
     0,                                                                                            \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "From this time, inclusive: ISO 8601 (2024-04-22T15:07:57Z) or Unix seconds"},                \
        {"end",                                                                                    \
         LINTEL_PARAM_STRING,                                                                      \
         0,                                                                                        \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "Up to this time, inclusive: ISO 8601 or Unix seconds"},                                  \
    {                                                                                              \
        "valid", LINTEL_PARAM_STRING, 0, 0, 0, "true false 1 0",                                   \
            "Admins only: valid (true) or invalid (false) points only"                             \
    }

/* A stored point, and one as the sensor service sends it (docs/api.md "Data points"). */
#define DP_POINT                                                                                   \
    "{\"title\":\"Datapoint\",\"type\":\"object\",\"required\":[\"id\",\"time\",\"value\","        \
    "\"valid\",\"tags\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID ",\"time\":" LINTEL_SCHEMA_TIME \
    ",\"value\":{\"type\":[\"number\",\"null\"],\"description\":\"The decoded float32 (null for "  \
    "NaN)\"},\"valid\":" LINTEL_SCHEMA_BOOLEAN                                                     \
    ",\"tags\":{\"type\":\"array\",\"items\":" LINTEL_SCHEMA_STRING "}}}"
#define DP_RAW_POINT                                                                               \
    "{\"title\":\"RawDatapoint\",\"type\":\"object\",\"required\":[\"time\",\"value\"],"           \
    "\"properties\":{\"time\":{\"type\":\"integer\",\"description\":\"Unix seconds\"},\"value\":"  \
    "{\"type\":\"array\",\"description\":\"The 4 bytes of a little-endian "                        \
    "float32\",\"minItems\":4,"                                                                    \
    "\"maxItems\":4,\"items\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":255}},\"tags\":"     \
    "{\"type\":\"array\",\"items\":" LINTEL_SCHEMA_STRING "}}}"
#define DP_INSERTED "\"inserted\":" LINTEL_SCHEMA_COUNT
#define DP_SERIES_SCHEMA                                                                           \
    "{\"type\":\"object\",\"required\":[\"start\",\"end\",\"bucket\",\"items\"],\"properties\":{"  \
    "\"start\":{\"type\":\"string\"},\"end\":{\"type\":\"string\"},\"bucket\":{\"type\":"          \
    "\"string\"},\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":["      \
    "\"time\",\"count\",\"min\",\"max\",\"mean\"],\"properties\":{\"time\":{\"type\":\"string\"}," \
    "\"count\":{\"type\":\"integer\"},\"min\":{\"type\":\"number\"},\"max\":{\"type\":"            \
    "\"number\"},\"mean\":{\"type\":\"number\"}}}}}}"

static const struct lintel_route dp_routes[] = {
    {.method = "GET",
     .path = "/api/datapoints/series",
     .scope = "datapoints:read",
     .handler = dp_series,
     .summary = "Per-bucket count, min, max and mean of the valid data points",
     .query =
         (const struct lintel_param[]){
             {"start", LINTEL_PARAM_STRING, LINTEL_PARAM_REQUIRED, 0, 0, NULL,
              "From this time, inclusive: ISO 8601 (2024-04-22T15:07:57Z) or Unix seconds"},
             {"end", LINTEL_PARAM_STRING, LINTEL_PARAM_REQUIRED, 0, 0, NULL,
              "Up to this time, inclusive: ISO 8601 or Unix seconds"},
             {"bucket", LINTEL_PARAM_STRING, LINTEL_PARAM_REQUIRED, 0, 0, "1m 1h 1d",
              "The width of a bucket: a minute, an hour or a day (UTC)"},
             {0}},
     .replies =
         LINTEL_REPLIES({200, "The series", DP_SERIES_SCHEMA,
                         "{\"start\":\"2026-12-01T10:00:00Z\",\"end\":\"2026-12-01T10:59:59Z\","
                         "\"bucket\":\"1m\",\"items\":[{\"time\":\"2026-12-01T10:00:00Z\","
                         "\"count\":2,\"min\":1.0,\"max\":2.0,\"mean\":1.5},{\"time\":\"2026-12-"
                         "01T10:01:00Z\",\"count\":1,\"min\":4.0,\"max\":4.0,\"mean\":4.0}]}"})},
    {.method = "POST",
     .path = "/api/datapoints/populate",
     .flags = LINTEL_ROUTE_ADMIN,
     .scope = "datapoints:write",
     .handler = dp_populate,
     .summary = "Fetch data points from the upstream sensor service",
     .query =
         (const struct lintel_param[]){
             {"count", LINTEL_PARAM_INTEGER, LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 1,
              DP_POPULATE_MAX, NULL, "Points to fetch (default 1)"},
             {"async", LINTEL_PARAM_BOOLEAN, 0, 0, 0, NULL,
              "true: answer 202 with a job at once (GET /api/jobs/{id}, job.progress events)"},
             {0}},
     .replies = LINTEL_REPLIES(
         {201, "The points fetched and stored",
          "{\"type\":\"object\",\"required\":[\"inserted\","
          "\"items\"],\"properties\":{" DP_INSERTED
          ",\"items\":{\"type\":\"array\",\"items\":" DP_POINT "}}}",
          NULL},
         {202, "async=true: the job (Location /api/jobs/{id})", LINTEL_SCHEMA_JOB, NULL})},
    {.method = "GET",
     .path = "/api/datapoints/stats",
     .scope = "datapoints:read",
     .handler = dp_stats,
     .summary = "Statistics of the valid data points",
     .query = (const struct lintel_param[]){DP_RANGE_PARAMS, {0}},
     .replies = LINTEL_REPLIES({200, "lintel_stats() of the values", LINTEL_SCHEMA_STATS,
                                "{\"count\":3,\"sum\":7.5,\"avg\":2.5,\"min\":1.0,\"max\":4.0,"
                                "\"stddev\":1.5,\"median\":2.5}"})},
    {.method = "POST",
     .path = "/api/datapoints",
     .scope = "datapoints:write",
     .handler = dp_bulk,
     .summary = "Store a batch of data points, all or nothing",
     .body_schema =
         "{\"type\":\"array\",\"minItems\":1,\"maxItems\":10000,\"items\":" DP_RAW_POINT "}",
     .example = "[{\"time\": 1713798477, \"value\": [157, 42, 76, 190], \"tags\": []}]",
     .replies = LINTEL_REPLIES({201, "How many were stored",
                                LINTEL_SCHEMA_MEMBER("inserted", LINTEL_SCHEMA_COUNT), NULL})},
    {.method = "GET",
     .path = "/api/datapoints",
     .scope = "datapoints:read",
     .handler = dp_list,
     .summary = "Data points, oldest first (keyset pages: after, next, Link)",
     .query =
         (const struct lintel_param[]){DP_RANGE_PARAMS,
                                       LINTEL_KEYSET_PARAMS(DP_SORTS),
                                       {"tag", LINTEL_PARAM_STRING,
                                        LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 1, 100, NULL,
                                        "Only points carrying this tag (exact, case-sensitive)"},
                                       {0}},
     .replies = LINTEL_REPLIES(
         {200, "A page of points, by time then id", LINTEL_SCHEMA_LIST(DP_POINT),
          "{\"items\":[{\"id\":25,\"time\":\"2026-12-01T19:23:29Z\",\"value\":21.5,\"valid\":true,"
          "\"tags\":[]}],\"total\":1,\"limit\":100,\"offset\":0,\"next\":null}"})},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct datapoints *d = NULL;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "datapoints", "1.0.0");
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return LINTEL_ENOMEM;
    d->api = api;
    d->p = p;
    rc = api->on_unload(p, dp_unload, d);
    if (rc != 0) {
        free(d);
        return rc;
    }
    rc = dp_configure(d, config);
    if (rc == 0)
        rc = lintel_migrations_add(p, api, datapoints_migrations);
    if (rc == 0)
        rc = api->routes_add(p, dp_routes, sizeof(dp_routes) / sizeof(dp_routes[0]), d);
    return rc;
}
