/*
 * The numbers plugin: each user's positive numbers, CRUD plus statistics. Thin handlers: values
 * are bound into SQL, the rules and lintel_stats() of the extension do the work in SQLite.
 */
#include <lintel/migrations.h>
#include <lintel/plugin.h>

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of a number, in the shape the API returns. */
#define NUMBERS_COLUMNS "id, value, created_at, updated_at"
#define NUMBERS_NOW     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

extern const struct lintel_embedded_sql numbers_migrations[];

/* Users whose statistics are kept in memory; past this the cache starts over (a plain bound). */
#define NUMBERS_CACHE_MAX 4096

struct numbers {
    const struct lintel_api *api;
    lintel_plugin *p; /* for api->log */
    /*
     * Statistics already computed: "<user id>" -> [version, stats]. Valid while the user's row
     * in numbers_user (bumped by triggers on every change) still has that version. Entries
     * are never modified once stored, only replaced, so a reader may hold one after unlocking.
     */
    pthread_mutex_t lock;
    json_t *j_cache;
};

/*
 * The body's value: present and a JSON number (strings, booleans, null refused here, since SQL
 * would coerce them), then the extension's rule gives the range message ("must be greater
 * than 0"). *j_value is borrowed from j_body.
 */
static int numbers_body_value(struct numbers *n, lintel_req *req, lintel_res *res,
                              const json_t *j_body, json_t **j_value)
{
    json_t *j_params = NULL, *j_row = NULL;
    const char *message;
    int rc;

    if (!json_is_object(j_body)) {
        rc = n->api->res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
        goto cleanup;
    }
    *j_value = json_object_get(j_body, "value");
    if (*j_value == NULL) {
        rc = n->api->res_invalid(res, "value", "is required");
        goto cleanup;
    }
    if (!json_is_number(*j_value)) {
        rc = n->api->res_invalid(res, "value", "must be a number");
        goto cleanup;
    }
    j_params = json_pack("[O]", *j_value);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_row(req, "SELECT lintel_rule_number(?1) AS message", j_params, &j_row);
    if (rc != 0)
        goto cleanup;
    message = json_string_value(json_object_get(j_row, "message"));
    if (message != NULL)
        rc = n->api->res_invalid(res, "value", "%s", message);
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

static int numbers_not_found(struct numbers *n, lintel_res *res, int rc)
{
    if (rc == LINTEL_ENOTFOUND)
        return n->api->res_error(res, LINTEL_ENOTFOUND, NULL, "Number not found");
    return rc;
}

/*
 * Tells the user's open WebSockets (GET /api/ws, docs/live.md): {"event": name, key: j_data}
 * with j_data stolen. Best effort, after the reply is written. event_publish precedes the
 * members init checks for (LINTEL_API_HAS), so every host that loaded the plugin has it.
 */
static void numbers_publish(struct numbers *n, lintel_req *req, const char *name, const char *key,
                            json_t *j_data)
{
    json_t *j_event = json_pack("{ss so}", "event", name, key, j_data);

    if (j_event != NULL)
        n->api->event_publish(req, n->api->req_user_id(req), j_event);
    json_decref(j_event);
}

/* POST /api/numbers {value} -> 201 number */
static int numbers_create(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_body = NULL, *j_value = NULL, *j_params = NULL, *j_row = NULL;
    char location[64];
    int rc;

    rc = n->api->req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = numbers_body_value(n, req, res, j_body, &j_value);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[IO]", (json_int_t)n->api->req_user_id(req), j_value);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    /* One statement: the host runs it in its own write transaction. */
    rc = n->api->sql_row(req,
                         "INSERT INTO numbers (user_id, value) VALUES (?1, ?2)"
                         " RETURNING " NUMBERS_COLUMNS,
                         j_params, &j_row);
    if (rc != 0)
        goto cleanup;
    snprintf(location, sizeof(location), "/api/numbers/%lld",
             (long long)json_integer_value(json_object_get(j_row, "id")));
    n->api->res_header(res, "Location", location);
    rc = n->api->res_json(res, 201, j_row);
    if (rc == 0)
        numbers_publish(n, req, "number.created", "number", json_incref(j_row));
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    json_decref(j_body);
    return rc;
}

/* GET /api/numbers?limit&offset|skip -> {items, total, limit, offset}, oldest first */
static int numbers_list(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_params = NULL, *j_items = NULL, *j_count = NULL;
    long long limit, offset, user_id = n->api->req_user_id(req);
    int rc;

    rc = n->api->req_page(req, res, &limit, &offset);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[III]", (json_int_t)user_id, (json_int_t)limit, (json_int_t)offset);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_query(req,
                           "SELECT " NUMBERS_COLUMNS " FROM numbers WHERE user_id = ?1"
                           " ORDER BY id LIMIT ?2 OFFSET ?3",
                           j_params, &j_items);
    if (rc != 0)
        goto cleanup;
    /*
     * The total is kept by triggers in numbers_user (no count over the user's rows). Two
     * statements outside a transaction: a concurrent write may land between them.
     */
    json_array_remove(j_params, 2);
    json_array_remove(j_params, 1);
    rc = n->api->sql_row(req,
                         "SELECT coalesce((SELECT total FROM numbers_user WHERE user_id = ?1), 0)"
                         " AS total",
                         j_params, &j_count);
    if (rc != 0)
        goto cleanup;
    rc = n->api->res_list(res, j_items, json_integer_value(json_object_get(j_count, "total")),
                          limit, offset);
cleanup:
    json_decref(j_count);
    json_decref(j_items);
    json_decref(j_params);
    return rc;
}

/* The cached stats of key at version (new reference), or NULL. */
static json_t *numbers_cache_get(struct numbers *n, const char *key, json_int_t version)
{
    json_t *j_entry, *j_stats = NULL;

    pthread_mutex_lock(&n->lock);
    j_entry = json_object_get(n->j_cache, key);
    if (j_entry != NULL && json_integer_value(json_array_get(j_entry, 0)) == version)
        j_stats = json_incref(json_array_get(j_entry, 1));
    pthread_mutex_unlock(&n->lock);
    return j_stats;
}

/* Keeps j_stats (not stolen) of key at version, unless a newer version is already there. */
static void numbers_cache_put(struct numbers *n, const char *key, json_int_t version,
                              json_t *j_stats)
{
    json_t *j_entry;

    pthread_mutex_lock(&n->lock);
    j_entry = json_object_get(n->j_cache, key);
    if (j_entry == NULL || json_integer_value(json_array_get(j_entry, 0)) < version) {
        if (j_entry == NULL && json_object_size(n->j_cache) >= NUMBERS_CACHE_MAX)
            json_object_clear(n->j_cache);
        json_object_set_new(n->j_cache, key, json_pack("[IO]", version, j_stats));
    }
    pthread_mutex_unlock(&n->lock);
}

/*
 * GET /api/numbers/stats -> {count, sum, avg, min, max, stddev, median}. Computed by
 * lintel_stats() in one statement, which also reads the user's change counter in the same
 * snapshot; while that counter stays the same, later calls answer from memory after one
 * indexed read of it.
 */
static int numbers_stats(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_params = NULL, *j_row = NULL, *j_stats = NULL;
    long long user_id = n->api->req_user_id(req);
    json_int_t version;
    char key[32];
    int rc;

    snprintf(key, sizeof(key), "%lld", user_id);
    j_params = json_pack("[I]", (json_int_t)user_id);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_row(req,
                         "SELECT coalesce((SELECT version FROM numbers_user"
                         " WHERE user_id = ?1), 0) AS version",
                         j_params, &j_row);
    if (rc != 0)
        goto cleanup;
    j_stats = numbers_cache_get(n, key, json_integer_value(json_object_get(j_row, "version")));
    if (j_stats == NULL) {
        json_decref(j_row);
        j_row = NULL;
        rc = n->api->sql_row(
            req,
            "SELECT coalesce((SELECT version FROM numbers_user"
            " WHERE user_id = ?1), 0) AS version,"
            " lintel_stats(value) AS \"stats:json\" FROM numbers WHERE user_id = ?1",
            j_params, &j_row);
        if (rc != 0)
            goto cleanup;
        j_stats = json_incref(json_object_get(j_row, "stats"));
        if (!json_is_object(j_stats)) {
            n->api->log(n->p, LINTEL_LOG_ERROR, "lintel_stats() returned no object");
            rc = LINTEL_EINTERNAL;
            goto cleanup;
        }
        version = json_integer_value(json_object_get(j_row, "version"));
        numbers_cache_put(n, key, version, j_stats);
    }
    rc = n->api->res_json(res, 200, j_stats);
cleanup:
    json_decref(j_stats);
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

/* GET /api/numbers/{id} -> number */
static int numbers_get(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_params = NULL, *j_row = NULL;
    const char *param = n->api->req_param(req, "id");
    long long id;
    int rc;

    /* Should the router ever hand /stats to the {id} route, it still means the statistics. */
    if (param != NULL && strcmp(param, "stats") == 0)
        return numbers_stats(req, res, state);
    rc = n->api->req_id(req, res, "id", "Number", &id);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[II]", (json_int_t)id, (json_int_t)n->api->req_user_id(req));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_row(req,
                         "SELECT " NUMBERS_COLUMNS " FROM numbers WHERE id = ?1 AND user_id = ?2",
                         j_params, &j_row);
    if (rc != 0) {
        rc = numbers_not_found(n, res, rc);
        goto cleanup;
    }
    rc = n->api->res_json(res, 200, j_row);
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

/* PUT /api/numbers/{id} {value} -> number */
static int numbers_update(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_body = NULL, *j_value = NULL, *j_params = NULL, *j_row = NULL;
    long long id;
    int rc;

    rc = n->api->req_id(req, res, "id", "Number", &id);
    if (rc != 0)
        goto cleanup;
    rc = n->api->req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = numbers_body_value(n, req, res, j_body, &j_value);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[IIO]", (json_int_t)id, (json_int_t)n->api->req_user_id(req), j_value);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_row(req,
                         "UPDATE numbers SET value = ?3, updated_at = " NUMBERS_NOW
                         " WHERE id = ?1 AND user_id = ?2 RETURNING " NUMBERS_COLUMNS,
                         j_params, &j_row);
    if (rc != 0) {
        rc = numbers_not_found(n, res, rc);
        goto cleanup;
    }
    rc = n->api->res_json(res, 200, j_row);
    if (rc == 0)
        numbers_publish(n, req, "number.updated", "number", json_incref(j_row));
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    json_decref(j_body);
    return rc;
}

/* DELETE /api/numbers/{id} -> 204 */
static int numbers_delete(lintel_req *req, lintel_res *res, void *state)
{
    struct numbers *n = state;
    json_t *j_params = NULL;
    long long id, changes = 0;
    int rc;

    rc = n->api->req_id(req, res, "id", "Number", &id);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[II]", (json_int_t)id, (json_int_t)n->api->req_user_id(req));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = n->api->sql_exec(req, "DELETE FROM numbers WHERE id = ?1 AND user_id = ?2", j_params,
                          &changes, NULL);
    if (rc != 0)
        goto cleanup;
    if (changes == 0) {
        rc = n->api->res_error(res, LINTEL_ENOTFOUND, NULL, "Number not found");
        goto cleanup;
    }
    rc = n->api->res_empty(res, 204);
    if (rc == 0)
        numbers_publish(n, req, "number.deleted", "id", json_integer((json_int_t)id));
cleanup:
    json_decref(j_params);
    return rc;
}

static void numbers_unload(void *state)
{
    struct numbers *n = state;

    json_decref(n->j_cache);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    /* The literal /stats route goes first so a first-match router never takes it for an id. */
    static const struct {
        const char *method, *path, *scope;
        lintel_handler handler;
    } routes[] = {
        {"GET", "/api/numbers/stats", "numbers:read", numbers_stats},
        {"POST", "/api/numbers", "numbers:write", numbers_create},
        {"GET", "/api/numbers", "numbers:read", numbers_list},
        {"GET", "/api/numbers/{id}", "numbers:read", numbers_get},
        {"PUT", "/api/numbers/{id}", "numbers:write", numbers_update},
        {"DELETE", "/api/numbers/{id}", "numbers:delete", numbers_delete},
    };
    struct numbers *n = NULL;
    size_t i;
    int rc;

    LINTEL_PLUGIN_DECLARE(p, api, "numbers", "1.0.0");
    (void)config;
    if (!LINTEL_API_HAS(api, res_invalid))
        return LINTEL_EVERSION;
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return LINTEL_ENOMEM;
    n->api = api;
    n->p = p;
    n->j_cache = json_object();
    if (n->j_cache == NULL || pthread_mutex_init(&n->lock, NULL) != 0) {
        json_decref(n->j_cache);
        free(n);
        return LINTEL_ENOMEM;
    }
    rc = api->on_unload(p, numbers_unload, n);
    if (rc != 0) {
        numbers_unload(n);
        return rc;
    }
    rc = lintel_migrations_add(p, api, numbers_migrations);
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]) && rc == 0; i++)
        rc = api->route_add(p, routes[i].method, routes[i].path, 0, routes[i].scope,
                            routes[i].handler, n);
    return rc;
}
