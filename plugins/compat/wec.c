/*
 * Compatibility profile "wec": seed 000's numbers API (/login, /logout, /numbers, /stats) with
 * its RFC 7807 errors, over lintel's users, sessions, numbers table and lintel_stats().
 */
#include "compat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

#define WEC_TTL 900 /* the seed's tokens live 15 minutes */

/* The columns lintel's numbers plugin publishes in its events, so /api/ws clients see one shape. */
#define WEC_EVENT_COLUMNS "id, value, created_at, updated_at"

static const char *wec_title(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 422:
        return "Validation Error";
    case 500:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

/* {"type":"about:blank","title","status","detail","instance"} as application/problem+json. */
static int wec_problem(lintel_req *req, lintel_res *res, unsigned status, const char *detail)
{
    json_t *j = NULL;
    char *text = NULL;
    int rc = LINTEL_ENOMEM;

    j = json_pack("{ss ss sI ss ss}", "type", "about:blank", "title", wec_title(status), "status",
                  (json_int_t)status, "detail", detail != NULL ? detail : "", "instance",
                  lintel_req_path(req));
    if (j != NULL)
        text = json_dumps(j, JSON_COMPACT);
    if (text != NULL)
        rc = lintel_res_bytes(res, status, "application/problem+json", text, strlen(text));
    free(text);
    json_decref(j);
    return rc;
}

/* A 422 as seed 000 words it: "<last loc>: <msg>" of every item, joined by "; ". */
static int wec_invalid(lintel_req *req, lintel_res *res, const json_t *j_items)
{
    const json_t *j_item, *j_last;
    char detail[1024] = "", part[256];
    size_t i;

    json_array_foreach(j_items, i, j_item) {
        const json_t *j_loc = json_object_get(j_item, "loc");
        j_last = json_array_get(j_loc, json_array_size(j_loc) - 1);
        if (json_is_integer(j_last))
            snprintf(part, sizeof(part), "%s%lld: %s", i > 0 ? "; " : "",
                     (long long)json_integer_value(j_last),
                     json_string_value(json_object_get(j_item, "msg")));
        else
            snprintf(part, sizeof(part), "%s%s: %s", i > 0 ? "; " : "", json_string_value(j_last),
                     json_string_value(json_object_get(j_item, "msg")));
        if (strlen(detail) + strlen(part) < sizeof(detail))
            strcat(detail, part);
    }
    return wec_problem(req, res, 422, detail);
}

/* Errors of the host or a handler, in the seed's words and shape. */
static int wec_render(lintel_req *req, lintel_res *res, unsigned status, int rc, const char *detail,
                      const json_t *j_errors, void *state)
{
    const char *why = compat_auth_reason(j_errors);
    char scope[128], text[192];

    (void)rc;
    (void)state;
    if (status == 401 && why != NULL) {
        if (strcmp(why, "missing") == 0)
            detail = "Not authenticated";
        else if (strcmp(why, "revoked") == 0)
            detail = "Token has been revoked";
        else
            detail = "Invalid authentication credentials";
    } else if (status == 403 && compat_missing_scope(detail, scope, sizeof(scope)) != NULL) {
        snprintf(text, sizeof(text), "Permission denied: %s required", scope);
        detail = text;
    }
    return wec_problem(req, res, status, detail);
}

/*
 * The number row as the seed answers it: {username, value, created_at, id}; then, when event is
 * not NULL, {"event": event, "number": j_row} to the user, as lintel's numbers plugin sends it.
 */
static int wec_number_reply(lintel_req *req, lintel_res *res, const json_t *j_row,
                            const char *event)
{
    char *username = compat_username(req), when[40];
    json_t *j = NULL;
    int rc = LINTEL_ENOMEM;

    if (username == NULL)
        goto cleanup;
    j = json_pack("{ss sO ss sO}", "username", username, "value", json_object_get(j_row, "value"),
                  "created_at",
                  compat_micro_time(json_string_value(json_object_get(j_row, "created_at")), when,
                                    sizeof(when)),
                  "id", json_object_get(j_row, "id"));
    if (j != NULL)
        rc = lintel_res_json(res, 200, j);
    if (rc == 0 && event != NULL)
        lintel_event_user(req, event, "number", j_row);
cleanup:
    json_decref(j);
    free(username);
    return rc;
}

/* GET / -> {"message": "App is running"} (the seed's container health check). */
static int wec_root(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)state;
    return lintel_res_json_new(res, 200, json_pack("{ss}", "message", "App is running"));
}

/* POST /login {username, password} -> {access_token, token_type} */
static int wec_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_body = NULL;
    struct lintel_login in = {.ttl = WEC_TTL};
    int rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    if (compat_credentials(req, j_items, "username", &j_body, &in.login, &in.password) != 0) {
        rc = wec_invalid(req, res, j_items);
        goto cleanup;
    }
    /* The seed's clients read sub (the username) and permissions; lintel's role and scope are
     * in the token too, since the host checks them. */
    in.sub = in.login;
    in.j_claims =
        json_pack("{s[sss]}", "permissions", "numbers:read", "numbers:write", "numbers:delete");
    if (in.j_claims == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = compat_bearer(req, res, &in);
    if (rc == LINTEL_EAUTH)
        rc = wec_problem(req, res, 401, "Invalid credentials");
cleanup:
    json_decref((json_t *)in.j_claims);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/* POST /logout -> {"message": "Successfully logged out"}: this login's session ends. */
static int wec_logout(lintel_req *req, lintel_res *res, void *state)
{
    const char *sid = json_string_value(json_object_get(lintel_req_claims(req), "sid"));
    int rc;

    (void)state;
    rc = lintel_session_end(req, lintel_req_user_id(req), sid, NULL);
    if (rc != 0)
        return rc;
    return lintel_res_json_new(res, 200, json_pack("{ss}", "message", "Successfully logged out"));
}

/*
 * body.value as the seed's int, then lintel's rule for a number (the same the table's CHECK
 * runs), its verdict in pydantic's value_error words. 0 or LINTEL_EPARAM (item added).
 */
static int wec_value(lintel_req *req, const json_t *j_body, json_t *j_items, long long *value)
{
    json_t *j_row = NULL;
    const char *verdict;
    char msg[256];
    int rc;

    rc = compat_int(j_body, "value", j_items, value);
    if (rc != 0)
        return rc;
    rc = lintel_sql_rowf(req, &j_row, "SELECT lintel_rule_number(?1) AS verdict", "I",
                         (json_int_t)*value);
    if (rc == 0 && (verdict = json_string_value(json_object_get(j_row, "verdict"))) != NULL) {
        snprintf(msg, sizeof(msg), "Value error, Value %s", verdict);
        rc = compat_item(j_items, "value_error", json_pack("[ss]", "body", "value"), msg,
                         json_integer((json_int_t)*value), json_pack("{s{}}", "error"));
    }
    json_decref(j_row);
    return rc;
}

/* POST /numbers {value} -> 200 {username, value, created_at, id} */
static int wec_create(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_body = NULL, *j_row = NULL;
    long long value = 0;
    int rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    rc = compat_body(req, j_items, &j_body);
    if (rc == 0)
        rc = wec_value(req, j_body, j_items, &value);
    if (json_array_size(j_items) > 0) {
        rc = wec_invalid(req, res, j_items);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = lintel_sql_rowf(req, &j_row,
                         "INSERT INTO numbers (user_id, value) VALUES (?1, ?2)"
                         " RETURNING " WEC_EVENT_COLUMNS,
                         "II", (json_int_t)lintel_req_user_id(req), (json_int_t)value);
    if (rc == 0)
        rc = wec_number_reply(req, res, j_row, "number.created");
cleanup:
    json_decref(j_row);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/* GET /numbers -> {username, numbers: [{value, created_at}]}, oldest first. */
static int wec_list(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_rows = NULL;
    char *username = NULL;
    int rc;

    (void)state;
    username = compat_username(req);
    if (username == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_sql_queryf(req, &j_rows,
                           "SELECT value, created_at FROM numbers WHERE user_id = ?1 ORDER BY id",
                           "I", (json_int_t)lintel_req_user_id(req));
    if (rc == 0)
        rc = lintel_res_json_new(res, 200,
                                 json_pack("{ss sO}", "username", username, "numbers", j_rows));
    json_decref(j_rows);
    free(username);
    return rc;
}

/*
 * The {number_id} of the path: 0 with *id > 0, or 1 when the reply is written (the seed's 422
 * for a non-integer, its 404 for ids <= 0), or a negative status.
 */
static int wec_number_id(lintel_req *req, lintel_res *res, long long *id)
{
    json_t *j_items = json_array();
    int rc;

    *id = 0;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    if (compat_path_int(req, "number_id", j_items, id) != 0)
        rc = wec_invalid(req, res, j_items);
    else if (*id <= 0)
        rc = wec_problem(req, res, 404, "Number not found");
    else
        rc = 0;
    json_decref(j_items);
    if (rc == 0 && *id <= 0)
        rc = 1; /* answered */
    return rc;
}

/* GET /numbers/{number_id} -> {username, value, created_at, id} */
static int wec_get(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_row = NULL;
    long long id;
    int rc;

    (void)state;
    rc = wec_number_id(req, res, &id);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT id, value, created_at FROM numbers WHERE id = ?1 AND user_id = ?2",
                         "II", (json_int_t)id, (json_int_t)lintel_req_user_id(req));
    if (rc == LINTEL_ENOTFOUND)
        rc = wec_problem(req, res, 404, "Number not found");
    else if (rc == 0)
        rc = wec_number_reply(req, res, j_row, NULL);
    json_decref(j_row);
    return rc;
}

/* PUT /numbers/{number_id} {value} -> the number after the change */
static int wec_update(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_body = NULL, *j_row = NULL;
    long long id = 0, value = 0;
    int rc, id_rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    /* pydantic reports the path and the body together, path first */
    id_rc = compat_path_int(req, "number_id", j_items, &id);
    rc = compat_body(req, j_items, &j_body);
    if (rc == 0)
        wec_value(req, j_body, j_items, &value);
    if (json_array_size(j_items) > 0) {
        rc = wec_invalid(req, res, j_items);
        goto cleanup;
    }
    if (id_rc != 0 || id <= 0) {
        rc = wec_problem(req, res, 404, "Number not found");
        goto cleanup;
    }
    rc = lintel_sql_rowf(req, &j_row,
                         "UPDATE numbers SET value = ?3,"
                         " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                         " WHERE id = ?1 AND user_id = ?2 RETURNING " WEC_EVENT_COLUMNS,
                         "III", (json_int_t)id, (json_int_t)lintel_req_user_id(req),
                         (json_int_t)value);
    if (rc == LINTEL_ENOTFOUND) {
        rc = wec_problem(req, res, 404, "Number not found");
        goto cleanup;
    }
    if (rc == 0)
        rc = wec_number_reply(req, res, j_row, "number.updated");
cleanup:
    json_decref(j_row);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/* DELETE /numbers/{number_id} -> {"message": "Number deleted successfully"} */
static int wec_delete(lintel_req *req, lintel_res *res, void *state)
{
    long long id;
    int rc;

    (void)state;
    rc = wec_number_id(req, res, &id);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    rc = lintel_delete_owned_id(req, "numbers", id, "number.deleted");
    if (rc == LINTEL_ENOTFOUND)
        return wec_problem(req, res, 404, "Number not found");
    if (rc != 0)
        return rc;
    return lintel_res_json_new(res, 200,
                               json_pack("{ss}", "message", "Number deleted successfully"));
}

/*
 * GET /stats -> {username, statistics: {count, sum, average, min, max}}: lintel_stats() over
 * the caller's numbers; average rounded to 2 places as Python's round() does (the exact binary
 * value, correctly rounded: glibc's printf).
 */
static int wec_stats(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_row = NULL, *j_stats, *j_out = NULL, *j_avg;
    char *username = NULL, text[64];
    long long count;
    int rc;

    (void)state;
    username = compat_username(req);
    if (username == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT lintel_stats(value) AS \"stats:json\" FROM numbers"
                         " WHERE user_id = ?1",
                         "I", (json_int_t)lintel_req_user_id(req));
    if (rc != 0)
        goto cleanup;
    j_stats = json_object_get(j_row, "stats");
    count = (long long)json_integer_value(json_object_get(j_stats, "count"));
    if (count == 0) {
        j_out = json_pack("{ss s{si si sf sn sn}}", "username", username, "statistics", "count", 0,
                          "sum", 0, "average", 0.0, "min", "max");
    } else {
        snprintf(text, sizeof(text), "%.2f", json_number_value(json_object_get(j_stats, "avg")));
        j_avg = json_real(strtod(text, NULL));
        j_out = json_pack("{ss s{sI so so so so}}", "username", username, "statistics", "count",
                          (json_int_t)count, "sum",
                          compat_number(json_number_value(json_object_get(j_stats, "sum"))),
                          "average", j_avg, "min",
                          compat_number(json_number_value(json_object_get(j_stats, "min"))), "max",
                          compat_number(json_number_value(json_object_get(j_stats, "max"))));
    }
    rc = lintel_res_json_new(res, 200, j_out);
cleanup:
    json_decref(j_row);
    free(username);
    return rc;
}

/* Every error of the seed: an RFC 7807 problem, application/problem+json. */
#define WEC_PROBLEM                                                                                \
    "{\"contentMediaType\":\"application/problem+json\",\"title\":\"Problem7807\","                \
    "\"type\":\"object\",\"required\":[\"type\",\"title\",\"status\",\"detail\"],\"properties\":"  \
    "{" COMPAT_STR("type") "," COMPAT_STR("title") ",\"status\":{\"type\":\"integer\"}"            \
                                                   "," COMPAT_STR("detail") "," COMPAT_STR(        \
                                                       "instance") "}}"
#define WEC_NUMBER                                                                                 \
    "{\"title\":\"WecNumber\",\"type\":\"object\",\"required\":[\"username\",\"value\","           \
    "\"created_at\",\"id\"],\"properties\":{" COMPAT_STR(                                          \
        "username") ",\"value\":" LINTEL_SCHEMA_NUMBER                                             \
                    "," COMPAT_STR("created_at") ",\"id\":" LINTEL_SCHEMA_ID "}}"
#define WEC_VALUE COMPAT_OBJ("\"value\"", "\"value\":" LINTEL_SCHEMA_INTEGER)
#define WEC_REPLIES(what, schema)                                                                  \
    LINTEL_REPLIES({200, what, schema, NULL}, {4, "An RFC 7807 problem", WEC_PROBLEM, NULL},       \
                   {5, "An RFC 7807 problem", WEC_PROBLEM, NULL})

static const struct lintel_route wec_routes[] = {
    {.method = "GET",
     .path = "/",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = wec_root,
     .summary = "Seed 000: liveness",
     .replies = WEC_REPLIES("Running", COMPAT_MESSAGE)},
    {.method = "POST",
     .path = "/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = wec_login,
     .summary = "Seed 000: log in {username, password}",
     .body_schema = COMPAT_CREDENTIALS("username"),
     .example = "{\"username\": \"admin\", \"password\": \"secret\"}",
     .replies = WEC_REPLIES("A bearer token", COMPAT_TOKEN)},
    {.method = "POST",
     .path = "/logout",
     .handler = wec_logout,
     .summary = "Seed 000: end this login",
     .replies = WEC_REPLIES("Logged out", COMPAT_MESSAGE)},
    {.method = "POST",
     .path = "/numbers",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "numbers:write",
     .handler = wec_create,
     .summary = "Seed 000: add a number {value}",
     .body_schema = WEC_VALUE,
     .example = "{\"value\": 42}",
     .replies = WEC_REPLIES("The stored number", WEC_NUMBER)},
    {.method = "GET",
     .path = "/numbers",
     .scope = "numbers:read",
     .handler = wec_list,
     .summary = "Seed 000: the caller's numbers",
     .replies =
         WEC_REPLIES("The numbers, oldest first",
                     COMPAT_OBJ("\"username\",\"numbers\"",
                                COMPAT_STR("username") ",\"numbers\":{\"type\":\"array\","
                                                       "\"items\":" COMPAT_OBJ(
                                                           "\"value\",\"created_at\"",
                                                           "\"value\":" LINTEL_SCHEMA_NUMBER
                                                           "," COMPAT_STR("created_at")) "}"))},
    {.method = "GET",
     .path = "/numbers/{number_id}",
     .scope = "numbers:read",
     .handler = wec_get,
     .summary = "Seed 000: one number",
     .replies = WEC_REPLIES("The number", WEC_NUMBER)},
    {.method = "PUT",
     .path = "/numbers/{number_id}",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "numbers:write",
     .handler = wec_update,
     .summary = "Seed 000: change a number",
     .body_schema = WEC_VALUE,
     .example = "{\"value\": 7}",
     .replies = WEC_REPLIES("The changed number", WEC_NUMBER)},
    {.method = "DELETE",
     .path = "/numbers/{number_id}",
     .scope = "numbers:delete",
     .handler = wec_delete,
     .summary = "Seed 000: delete a number",
     .replies = WEC_REPLIES("Deleted", COMPAT_MESSAGE)},
    {.method = "GET",
     .path = "/stats",
     .scope = "numbers:read",
     .handler = wec_stats,
     .summary = "Seed 000: count, sum, average, min, max",
     .replies = WEC_REPLIES(
         "The statistics",
         COMPAT_OBJ("\"username\",\"statistics\"",
                    COMPAT_STR("username") ",\"statistics\":" COMPAT_OBJ(
                        "\"count\",\"sum\",\"average\",\"min\",\"max\"",
                        "\"count\":" LINTEL_SCHEMA_INTEGER ",\"sum\":" LINTEL_SCHEMA_NUMBER
                        ",\"average\":" LINTEL_SCHEMA_NUMBER ",\"min\":{\"type\":[\"number\","
                        "\"null\"]},\"max\":{\"type\":[\"number\",\"null\"]}")))},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_KIT_DECLARE(p, api, "compat_wec", "0.2.0");
    return compat_profile(p, NULL, wec_render, NULL, wec_routes, LINTEL_COUNT(wec_routes), NULL);
}
