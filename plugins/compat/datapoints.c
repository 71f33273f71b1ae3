/*
 * Compatibility profile "datapoints": seed 002's API (/auth/signup, /auth/login, /api/data,
 * /api/populate) over lintel's users, sessions and the datapoints plugin's ingest statement.
 */
#include "compat.h"

#include "../datapoints/ingest_sql.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

#define DPC_TTL       1800 /* the seed's access tokens live 30 minutes */
#define DPC_LIMIT_MAX 10000
#define DPC_URL       "https://errors.pydantic.dev/2.7/v/" /* FastAPI 0.110's items carry it */

/* The seed's point: no id. */
#define DPC_COLUMNS                                                                                \
    "strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS time, value, valid AS \"valid:bool\","     \
    " tags AS \"tags:json\""

static const struct compat_fastapi dpc_errors = {.invalid_status = 403,
                                                 .invalid_detail = "Could not validate credentials",
                                                 .forbidden = "Unauthorized",
                                                 .url = DPC_URL};

struct dpc {
    const char *upstream_url; /* the host's upstream_url, or NULL */
};

/* POST /auth/signup {username, password} -> 200 {username} */
static int dpc_signup(lintel_req *req, lintel_res *res, void *state)
{
    static const char *const keys[] = {"username", NULL};

    (void)state;
    return compat_signup(req, res, "User with this username already exists", DPC_URL, 200, keys);
}

/* POST /auth/login, the OAuth2 password form -> {access_token, refresh_token} */
static int dpc_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_form = NULL, *j_out = NULL;
    struct lintel_login in = {.ttl = DPC_TTL};
    int rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    compat_form_login(req, j_items, &j_form, &in.login, &in.password);
    if (json_array_size(j_items) > 0) {
        rc = compat_422_url(res, j_items, DPC_URL);
        goto cleanup;
    }
    in.sub = in.login;
    rc = lintel_login(req, &in, &j_out);
    if (rc == LINTEL_EAUTH) {
        rc = compat_detail(res, 400, "Incorrect username or password");
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json_new(res, 200,
                             json_pack("{sO sO}", "access_token",
                                       json_object_get(j_out, "access_token"), "refresh_token",
                                       json_object_get(j_out, "refresh_token")));
cleanup:
    json_decref(j_out);
    json_decref(j_form);
    json_decref(j_items);
    return rc;
}

/*
 * A datetime query parameter as pydantic reads it: Unix seconds (milliseconds above 2e10) or
 * ISO 8601 with 'T' or ' ', an offset or Z (none: UTC, the seed's container time). SQLite's
 * unixepoch() does the ISO parsing. *out unset when absent. 0 or LINTEL_EPARAM (item added).
 */
static int dpc_time(lintel_req *req, const char *name, json_t *j_items, long long *out)
{
    const char *s = lintel_req_query(req, name);
    json_t *j_row = NULL;
    char *end = NULL;
    double x;
    int rc;

    if (s == NULL)
        return 0;
    x = strtod(s, &end);
    if (s[0] != '\0' && end != NULL && *end == '\0' && x == x) {
        if (x > 2e10 || x < -2e10)
            x /= 1000.0;
        *out = (long long)x;
        return 0;
    }
    rc = lintel_sql_rowf(req, &j_row, "SELECT unixepoch(?1) AS t", "s", s);
    if (rc == 0 && json_is_integer(json_object_get(j_row, "t"))) {
        *out = (long long)json_integer_value(json_object_get(j_row, "t"));
        json_decref(j_row);
        return 0;
    }
    json_decref(j_row);
    return compat_item(j_items, "datetime_from_date_parsing", json_pack("[ss]", "query", name),
                       "Input should be a valid datetime or date, unable to parse", json_string(s),
                       NULL);
}

/* An int query parameter with its default, >= 0 (the seed let Postgres fail on negatives). */
static int dpc_count(lintel_req *req, const char *name, long long dflt, long long max,
                     json_t *j_items, long long *out)
{
    const char *s = lintel_req_query(req, name);
    char *end = NULL;
    long long v;

    *out = dflt;
    if (s == NULL)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0)
        return compat_item(j_items, "int_parsing", json_pack("[ss]", "query", name),
                           "Input should be a valid integer, unable to parse string as an integer",
                           json_string(s), NULL);
    if (v < 0 || v > max) {
        char msg[96];
        snprintf(msg, sizeof(msg),
                 v < 0 ? "Input should be greater than or equal to 0"
                       : "Input should be less than or equal to %lld",
                 max);
        return compat_item(j_items, v < 0 ? "greater_than_equal" : "less_than_equal",
                           json_pack("[ss]", "query", name), msg, json_string(s),
                           v < 0 ? json_pack("{si}", "ge", 0) : json_pack("{sI}", "le", max));
    }
    *out = v;
    return 0;
}

/*
 * GET /api/data?start&end&skip&limit -> [{time, value, valid, tags}], start <= time <= end
 * (both inclusive), oldest stored first; users see valid points, admins all of them.
 */
static int dpc_data(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array();
    long long start = 0, end = 253402300799LL, skip = 0, limit = 100;
    const char *role = json_string_value(json_object_get(lintel_req_claims(req), "role"));
    int rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    dpc_time(req, "start", j_items, &start);
    dpc_time(req, "end", j_items, &end);
    dpc_count(req, "skip", 0, (long long)1 << 53, j_items, &skip);
    dpc_count(req, "limit", 100, DPC_LIMIT_MAX, j_items, &limit);
    if (json_array_size(j_items) > 0) {
        rc = compat_422_url(res, j_items, DPC_URL);
        goto cleanup;
    }
    rc = lintel_res_rows(req, res,
                         "SELECT " DPC_COLUMNS " FROM datapoints WHERE ts BETWEEN ?1 AND ?2"
                         " AND (?3 OR valid = 1) ORDER BY id LIMIT ?4 OFFSET ?5",
                         json_pack("[IIbII]", (json_int_t)start, (json_int_t)end,
                                   role != NULL && strcmp(role, "admin") == 0, (json_int_t)limit,
                                   (json_int_t)skip));
cleanup:
    json_decref(j_items);
    return rc;
}

/*
 * GET /api/populate (admins): one point from the upstream sensor service, stored by the same
 * statement lintel's populate uses (decoding, "too old", validity are the extension's); the
 * stored point is the reply. An upstream status other than 200 is answered with that status
 * (502 when it could not be reached), as the seed does.
 */
static int dpc_populate(lintel_req *req, lintel_res *res, void *state)
{
    const struct dpc *d = state;
    json_t *j_point = NULL, *j_batch = NULL, *j_rows = NULL;
    json_error_t err;
    char *body = NULL;
    size_t len = 0;
    long status = 0;
    int rc;

    if (d->upstream_url == NULL) {
        rc = compat_detail(res, 503,
                           "No upstream sensor service is configured: set "
                           "LINTEL_UPSTREAM_URL");
        goto cleanup;
    }
    rc = lintel_http_get(req, d->upstream_url, 0, 0, &status, &body, &len);
    if (rc != 0 || status != 200) {
        rc = compat_detail(res, rc != 0 || status < 200 || status > 599 ? 502 : (unsigned)status,
                           "No data point available");
        goto cleanup;
    }
    j_point = json_loadb(body, len, 0, &err);
    if (!json_is_object(j_point)) {
        rc = compat_detail(res, 502,
                           "The sensor service answered with something that is not "
                           "one data point");
        goto cleanup;
    }
    j_batch = json_pack("[O]", j_point);
    if (j_batch == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = lintel_sql_queryf(req, &j_rows, DP_INSERT " RETURNING " DPC_COLUMNS, "O", j_batch);
    if (rc == LINTEL_EPARAM || (rc == 0 && json_array_size(j_rows) != 1)) {
        rc = compat_detail(res, 502, "The sensor service's data point is malformed");
        goto cleanup;
    }
    if (rc == 0)
        rc = lintel_res_json(res, 200, json_array_get(j_rows, 0));
    if (rc == 0) {
        json_t *j_n = json_integer(1);
        if (j_n != NULL)
            lintel_event_user(req, "datapoints.created", "inserted", j_n);
        json_decref(j_n);
    }
cleanup:
    lintel_free(body);
    json_decref(j_rows);
    json_decref(j_batch);
    json_decref(j_point);
    return rc;
}

/* A point as the seed's pydantic model prints it. */
#define DPC_POINT                                                                                  \
    "{\"title\":\"SeedDataPoint\",\"type\":\"object\",\"required\":[\"time\",\"value\","           \
    "\"valid\",\"tags\"],\"properties\":{" COMPAT_STR(                                             \
        "time") ",\"value\":{\"type\":[\"number\","                                                \
                "\"null\"]},\"valid\":" LINTEL_SCHEMA_BOOLEAN                                      \
                ",\"tags\":{\"type\":\"array\",\"items\":" LINTEL_SCHEMA_STRING "}}}"

static const struct lintel_route dpc_routes[] = {
    {.method = "POST",
     .path = "/auth/signup",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = dpc_signup,
     .summary = "Seed 002: sign up {username, password}",
     .body_schema = COMPAT_CREDENTIALS("username"),
     .example = "{\"username\": \"alice\", \"password\": \"correct horse\"}",
     .replies = LINTEL_REPLIES(
         {200, "The new user", COMPAT_OBJ("\"username\"", COMPAT_STR("username")), NULL},
         COMPAT_FASTAPI_ERRORS)},
    {.method = "POST",
     .path = "/auth/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW | LINTEL_ROUTE_FORM,
     .handler = dpc_login,
     .summary = "Seed 002: log in (OAuth2 password form)",
     .replies =
         LINTEL_REPLIES({200, "The tokens",
                         COMPAT_OBJ("\"access_token\",\"refresh_token\"",
                                    COMPAT_STR("access_token") "," COMPAT_STR("refresh_token")),
                         NULL},
                        COMPAT_FASTAPI_ERRORS)},
    {.method = "GET",
     .path = "/api/data",
     .handler = dpc_data,
     .summary = "Seed 002: data points by time range, skip and limit",
     .replies =
         LINTEL_REPLIES({200, "The points", "{\"type\":\"array\",\"items\":" DPC_POINT "}", NULL},
                        COMPAT_FASTAPI_ERRORS)},
    {.method = "GET",
     .path = "/api/populate",
     .flags = LINTEL_ROUTE_ADMIN,
     .handler = dpc_populate,
     .summary = "Seed 002: fetch and store one upstream point (admin)",
     .replies = LINTEL_REPLIES({200, "The stored point", DPC_POINT, NULL}, COMPAT_FASTAPI_ERRORS)},
};

static void dpc_unload(void *state)
{
    free(state);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct dpc *d;
    int rc;

    (void)config;
    LINTEL_KIT_DECLARE(p, api, "compat_datapoints", "0.2.0");
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_on_unload(p, dpc_unload, d);
    if (rc != 0) {
        free(d);
        return rc;
    }
    rc = lintel_setting_str(p, "upstream_url", &d->upstream_url);
    if (rc == 0)
        rc = compat_profile(p, NULL, compat_fastapi_render, &dpc_errors, dpc_routes,
                            LINTEL_COUNT(dpc_routes), d);
    return rc;
}
