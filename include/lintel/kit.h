/*
 * The plugin kit: the host's table as plain function names (lintel_sql_rowf(req, ...) for
 * api->sql_rowf(req, ...)), as sqlite3ext.h does for SQLite, plus the few helpers every plugin
 * wants.
 */
#ifndef LINTEL_KIT_H
#define LINTEL_KIT_H

#include <lintel/migrations.h>
#include <lintel/plugin.h>
#include <lintel/schemas.h>

#include <stdio.h>

/*
 * The table the host handed to lintel_plugin_init. Exactly one .c file of a plugin says
 * LINTEL_KIT_INIT; at file scope; LINTEL_KIT_DECLARE (first statement of init) sets it.
 */
extern const struct lintel_api *lintel_api;
#define LINTEL_KIT_INIT const struct lintel_api *lintel_api = NULL

/* LINTEL_PLUGIN_DECLARE that also keeps api for the names below. */
#define LINTEL_KIT_DECLARE(p, api, name, version)                                                  \
    do {                                                                                           \
        lintel_api = (api);                                                                        \
        LINTEL_PLUGIN_DECLARE(p, api, name, version);                                              \
    } while (0)

/* Lifecycle (only during lintel_plugin_init). */
#define lintel_declare_profile(...) (lintel_api->declare_profile(__VA_ARGS__))
#define lintel_scope_add(...)       (lintel_api->scope_add(__VA_ARGS__))
#define lintel_routes_add(...)      (lintel_api->routes_add(__VA_ARGS__))
#define lintel_error_render(...)    (lintel_api->error_render(__VA_ARGS__))
#define lintel_migration_add(...)   (lintel_api->migration_add(__VA_ARGS__))
#define lintel_on_unload(...)       (lintel_api->on_unload(__VA_ARGS__))
#define lintel_setting_int(...)     (lintel_api->setting_int(__VA_ARGS__))
#define lintel_setting_str(...)     (lintel_api->setting_str(__VA_ARGS__))
#define lintel_log(...)             (lintel_api->log(__VA_ARGS__))

/* Request. */
#define lintel_req_json(...)        (lintel_api->req_json(__VA_ARGS__))
#define lintel_req_body(...)        (lintel_api->req_body(__VA_ARGS__))
#define lintel_req_param(...)       (lintel_api->req_param(__VA_ARGS__))
#define lintel_req_query(...)       (lintel_api->req_query(__VA_ARGS__))
#define lintel_req_header(...)      (lintel_api->req_header(__VA_ARGS__))
#define lintel_req_claims(...)      (lintel_api->req_claims(__VA_ARGS__))
#define lintel_req_user_id(...)     (lintel_api->req_user_id(__VA_ARGS__))
#define lintel_req_client_addr(...) (lintel_api->req_client_addr(__VA_ARGS__))
#define lintel_req_page(...)        (lintel_api->req_page(__VA_ARGS__))
#define lintel_req_id(...)          (lintel_api->req_id(__VA_ARGS__))
#define lintel_req_path(...)        (lintel_api->req_path(__VA_ARGS__))
#define lintel_login(...)           (lintel_api->login(__VA_ARGS__))
#define lintel_user_create(...)     (lintel_api->user_create(__VA_ARGS__))
#define lintel_session_start(...)   (lintel_api->session_start(__VA_ARGS__))
#define lintel_user_delete(...)     (lintel_api->user_delete(__VA_ARGS__))
#define lintel_ws_add(...)          (lintel_api->ws_add(__VA_ARGS__))

/* Response. */
#define lintel_res_json(...)    (lintel_api->res_json(__VA_ARGS__))
#define lintel_res_empty(...)   (lintel_api->res_empty(__VA_ARGS__))
#define lintel_res_bytes(...)   (lintel_api->res_bytes(__VA_ARGS__))
#define lintel_res_header(...)  (lintel_api->res_header(__VA_ARGS__))
#define lintel_res_error(...)   (lintel_api->res_error(__VA_ARGS__))
#define lintel_res_invalid(...) (lintel_api->res_invalid(__VA_ARGS__))
#define lintel_res_list(...)    (lintel_api->res_list(__VA_ARGS__))

/* SQL. */
#define lintel_sql_query(...)    (lintel_api->sql_query(__VA_ARGS__))
#define lintel_sql_row(...)      (lintel_api->sql_row(__VA_ARGS__))
#define lintel_sql_exec(...)     (lintel_api->sql_exec(__VA_ARGS__))
#define lintel_sql_queryf(...)   (lintel_api->sql_queryf(__VA_ARGS__))
#define lintel_sql_rowf(...)     (lintel_api->sql_rowf(__VA_ARGS__))
#define lintel_sql_execf(...)    (lintel_api->sql_execf(__VA_ARGS__))
#define lintel_sql_list(...)     (lintel_api->sql_list(__VA_ARGS__))
#define lintel_sql_begin(...)    (lintel_api->sql_begin(__VA_ARGS__))
#define lintel_sql_commit(...)   (lintel_api->sql_commit(__VA_ARGS__))
#define lintel_sql_rollback(...) (lintel_api->sql_rollback(__VA_ARGS__))

/* Tokens, sessions, heavy work, events, outbound HTTP, utilities. */
#define lintel_token_issue(...)   (lintel_api->token_issue(__VA_ARGS__))
#define lintel_session_end(...)   (lintel_api->session_end(__VA_ARGS__))
#define lintel_heavy_begin(...)   (lintel_api->heavy_begin(__VA_ARGS__))
#define lintel_heavy_end(...)     (lintel_api->heavy_end(__VA_ARGS__))
#define lintel_event_publish(...) (lintel_api->event_publish(__VA_ARGS__))
#define lintel_event_user(...)    (lintel_api->event_user(__VA_ARGS__))
#define lintel_http_get(...)      (lintel_api->http_get(__VA_ARGS__))
#define lintel_random_token(...)  (lintel_api->random_token(__VA_ARGS__))
#define lintel_sha256_hex(...)    (lintel_api->sha256_hex(__VA_ARGS__))
#define lintel_free(...)          (lintel_api->free(__VA_ARGS__))
#define lintel_strerror(...)      (lintel_api->strerror(__VA_ARGS__))

/* ABI 2.2: one-call replies. */
#define lintel_res_rowf(...)       (lintel_api->res_rowf(__VA_ARGS__))
#define lintel_sql_list_total(...) (lintel_api->sql_list_total(__VA_ARGS__))

/* ABI 2.3: bytes in SQL. */
#define lintel_sql_exec_blob(...) (lintel_api->sql_exec_blob(__VA_ARGS__))
#define lintel_sql_blob_rowf(...) (lintel_api->sql_blob_rowf(__VA_ARGS__))

/* ABI 2.4: keyset lists and time filters. */
#define lintel_sql_page(...) (lintel_api->sql_page(__VA_ARGS__))
#define lintel_req_time(...) (lintel_api->req_time(__VA_ARGS__))

/* ABI 2.5: signed URLs. */
#define lintel_url_sign(...) (lintel_api->url_sign(__VA_ARGS__))

/* ABI 2.6: long work. */
#define lintel_job_start(...)    (lintel_api->job_start(__VA_ARGS__))
#define lintel_job_progress(...) (lintel_api->job_progress(__VA_ARGS__))

/* ABI 2.7: entity tags from a version. */
#define lintel_res_etag(...) (lintel_api->res_etag(__VA_ARGS__))

/* The number of entries of a static array (route tables). */
#define LINTEL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The query parameters of a paged list, as req_page reads them, for a route's .query list:
 * `.query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS, {0}}`.
 */
#define LINTEL_PAGE_PARAMS                                                                         \
    {"limit", LINTEL_PARAM_INTEGER,          LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 0, 1000,         \
     NULL,    "Items per page (default 100)"},                                                     \
        {"offset", LINTEL_PARAM_INTEGER, LINTEL_PARAM_MIN, 0, 0, NULL, "Items to skip"},           \
    {                                                                                              \
        "skip", LINTEL_PARAM_INTEGER, LINTEL_PARAM_MIN, 0, 0, NULL, "Synonym of offset"            \
    }

/*
 * The query parameters of a keyset list (sql_page): LINTEL_PAGE_PARAMS, after and sort; sorts is
 * the text of the allowed sort values, space-separated ("id -id value -value").
 */
#define LINTEL_KEYSET_PARAMS(sorts)                                                                \
    LINTEL_PAGE_PARAMS,                                                                            \
        {"after",                                                                                  \
         LINTEL_PARAM_STRING,                                                                      \
         LINTEL_PARAM_MIN | LINTEL_PARAM_MAX,                                                      \
         1,                                                                                        \
         2048,                                                                                     \
         NULL,                                                                                     \
         "The cursor of the previous page (its reply's next): the items after it"},                \
    {                                                                                              \
        "sort", LINTEL_PARAM_STRING, 0, 0, 0, (sorts),                                             \
            "The field to sort on, -field for descending (ties in id order)"                       \
    }

/*
 * The creation-time filters of a list: created_after and created_before (exclusive), each Unix
 * seconds or ISO 8601, read by lintel_created_range.
 */
#define LINTEL_CREATED_PARAMS                                                                      \
    {"created_after",                                                                              \
     LINTEL_PARAM_STRING,                                                                          \
     0,                                                                                            \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "Only items created after this time (exclusive): ISO 8601 or Unix seconds"},                  \
    {                                                                                              \
        "created_before", LINTEL_PARAM_STRING, 0, 0, 0, NULL,                                      \
            "Only items created before this time (exclusive): ISO 8601 or Unix seconds"            \
    }

/* The range of times a created_at (4-digit years, UTC) can hold: 0000-01-01 to 9999-12-31. */
#define LINTEL_TIME_MIN (-62167219200LL)
#define LINTEL_TIME_MAX 253402300799LL

/*
 * Reads created_after (*after) and created_before (*before) as Unix seconds, clamped to
 * LINTEL_TIME_MIN..LINTEL_TIME_MAX; absent ones keep their values. 0 or the recorded 422.
 */
static inline int lintel_created_range(lintel_req *req, long long *after, long long *before)
{
    int rc = lintel_api->req_time(req, "created_after", 0, after);

    if (rc == 0)
        rc = lintel_api->req_time(req, "created_before", LINTEL_TIME_CEIL, before);
    if (*after < LINTEL_TIME_MIN)
        *after = LINTEL_TIME_MIN;
    if (*before > LINTEL_TIME_MAX)
        *before = LINTEL_TIME_MAX;
    if (*after > LINTEL_TIME_MAX)
        *after = LINTEL_TIME_MAX;
    if (*before < LINTEL_TIME_MIN)
        *before = LINTEL_TIME_MIN;
    return rc;
}

/*
 * The standard not-found: turns LINTEL_ENOTFOUND (from sql_row, sql_rowf or a count of 0
 * changes) into the 404 "<what> not found" recorded on res; any other rc passes unchanged.
 */
static inline int lintel_not_found(lintel_res *res, int rc, const char *what)
{
    if (rc == LINTEL_ENOTFOUND)
        return lintel_api->res_error(res, LINTEL_ENOTFOUND, NULL, "%s not found", what);
    return rc;
}

/*
 * status with j as the body, j stolen, so a json_pack() result can be passed as it is:
 * LINTEL_ENOMEM when j is NULL (the pack ran out of memory).
 */
static inline int lintel_res_json_new(lintel_res *res, unsigned status, json_t *j)
{
    int rc = j != NULL ? lintel_api->res_json(res, status, j) : LINTEL_ENOMEM;

    json_decref(j);
    return rc;
}

/*
 * 200 with every row of sql as a JSON array (a bare array, not the list envelope of sql_list),
 * j_params its ?1..?N, stolen, so a json_pack("[I]", id) result can be passed as it is
 * (json_array() when there are none): LINTEL_ENOMEM when j_params is NULL.
 */
static inline int lintel_res_rows(lintel_req *req, lintel_res *res, const char *sql,
                                  json_t *j_params)
{
    json_t *j_rows = NULL;
    int rc = j_params != NULL ? lintel_api->sql_query(req, sql, j_params, &j_rows) : LINTEL_ENOMEM;

    if (rc == 0)
        rc = lintel_api->res_json(res, 200, j_rows);
    json_decref(j_rows);
    json_decref(j_params);
    return rc;
}

/* 0 when a write changed a row, else the standard not-found of what. */
static inline int lintel_changed(lintel_res *res, long long changes, const char *what)
{
    return changes > 0 ? 0 : lintel_not_found(res, LINTEL_ENOTFOUND, what);
}

/*
 * 201 with j_row (not stolen) and Location: <prefix>/<j_row's "id">, e.g. "/api/tasks/7"; then,
 * when event is not NULL, {"event": event, key: j_row} to the request's user.
 */
static inline int lintel_res_created(lintel_req *req, lintel_res *res, const json_t *j_row,
                                     const char *prefix, const char *event, const char *key)
{
    char location[256];
    int rc;

    snprintf(location, sizeof(location), "%s/%lld", prefix,
             (long long)json_integer_value(json_object_get(j_row, "id")));
    rc = lintel_api->res_header(res, "Location", location);
    if (rc == 0)
        rc = lintel_api->res_json(res, 201, j_row);
    if (rc == 0 && event != NULL)
        lintel_api->event_user(req, event, key, j_row);
    return rc;
}

/* Whose row lintel_res_by_id reads: anyone's, or the request user's own. */
#define LINTEL_ROW_ANY   0u
#define LINTEL_ROW_OWNED 1u /* sql binds ?2 too: the request's user (`AND user_id = ?2`) */

/*
 * GET of one row by the path parameter {id}: 200 with the row of sql, or the 404
 * "<what> not found", also for an id that names no row ("abc", "0", "-1"). sql binds ?1, the
 * id, and with LINTEL_ROW_OWNED ?2, the request's user, so another user's row is the same 404.
 */
static inline int lintel_res_by_id(lintel_req *req, lintel_res *res, const char *what,
                                   unsigned whose, const char *sql)
{
    long long id;
    int rc = lintel_api->req_id(req, "id", what, &id);

    /* json_pack reads only the arguments fmt names: "I" leaves the user id unread */
    if (rc == 0)
        rc = lintel_api->res_rowf(req, res, 200, what, sql,
                                  (whose & LINTEL_ROW_OWNED) != 0 ? "II" : "I", (json_int_t)id,
                                  (json_int_t)lintel_api->req_user_id(req));
    return rc;
}

/*
 * Deletes the request user's row id of table (the plugin's own constant, never input): 0, and
 * then, when event is not NULL, {"event": event, "id": id} to the user; LINTEL_ENOTFOUND,
 * unrecorded and nothing written, when the user has no such row (the caller words its 404); or
 * the statement's failure.
 */
static inline int lintel_delete_owned_id(lintel_req *req, const char *table, long long id,
                                         const char *event)
{
    char sql[192];
    long long changes = 0;
    json_t *j_id;
    int rc;

    if (snprintf(sql, sizeof(sql), "DELETE FROM \"%s\" WHERE id = ?1 AND user_id = ?2", table) >=
        (int)sizeof(sql))
        return LINTEL_EINTERNAL;
    rc = lintel_api->sql_execf(req, &changes, sql, "II", (json_int_t)id,
                               (json_int_t)lintel_api->req_user_id(req));
    if (rc == 0 && changes == 0)
        rc = LINTEL_ENOTFOUND;
    if (rc == 0 && event != NULL && (j_id = json_integer((json_int_t)id)) != NULL) {
        lintel_api->event_user(req, event, "id", j_id);
        json_decref(j_id);
    }
    return rc;
}

/*
 * DELETE of the request user's row of table whose id is the path parameter {id}: 204, or the
 * 404 "<what> not found" (also for a malformed id); with event, lintel_delete_owned_id's event.
 */
static inline int lintel_delete_owned(lintel_req *req, lintel_res *res, const char *table,
                                      const char *what, const char *event)
{
    long long id;
    int rc = lintel_api->req_id(req, "id", what, &id);

    if (rc == 0)
        rc = lintel_not_found(res, lintel_delete_owned_id(req, table, id, event), what);
    if (rc == 0)
        rc = lintel_api->res_empty(res, 204);
    return rc;
}

/*
 * Ends the request's write transaction: committed when rc is 0, else rolled back. Returns rc,
 * or the commit's failure.
 */
static inline int lintel_sql_end(lintel_req *req, int rc)
{
    if (rc == 0)
        return lintel_api->sql_commit(req);
    lintel_api->sql_rollback(req);
    return rc;
}

/*
 * The hash of a new password with the server's scheme at cost (the plugin's setting
 * "password_cost"): in the host's CPU-heavy gate and before any write transaction, so no lock
 * waits on it. *j_hash (new reference) holds it; *hash is borrowed from it. 0, or the gate's
 * LINTEL_EUNAVAIL (recorded) or the statement's failure.
 */
static inline int lintel_password_hash_new(lintel_req *req, const char *password, long long cost,
                                           json_t **j_hash, const char **hash)
{
    int rc;

    *j_hash = NULL;
    *hash = NULL;
    rc = lintel_api->heavy_begin(req);
    if (rc != 0)
        return rc;
    rc = lintel_api->sql_rowf(req, j_hash, "SELECT lintel_password_hash(?1, ?2) AS h", "sI",
                              password, (json_int_t)cost);
    lintel_api->heavy_end(req);
    if (rc == 0)
        *hash = json_string_value(json_object_get(*j_hash, "h"));
    return rc == 0 && *hash == NULL ? LINTEL_EINTERNAL : rc;
}

/* Registers every migration of list (embedded by lintel_embed_sql) with the host. */
static inline int lintel_migrations(lintel_plugin *p, const struct lintel_embedded_sql *list)
{
    return lintel_migrations_add(p, lintel_api, list);
}

#endif /* LINTEL_KIT_H */
