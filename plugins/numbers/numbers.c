/*
 * The numbers plugin: each user's positive numbers, CRUD plus statistics. Thin handlers: values
 * are bound into SQL, the rules and lintel_stats() of the extension do the work in SQLite.
 */
#include <lintel/kit.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

/* The columns of a number, in the shape the API returns. */
#define NUMBERS_COLUMNS "id, value, created_at, updated_at"
#define NUMBERS_NOW     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define NUMBERS_VALUE   "{\"type\":\"number\",\"exclusiveMinimum\":0}"
#define NUMBERS_SCHEMA                                                                             \
    "{\"title\":\"Number\",\"type\":\"object\",\"required\":[\"id\",\"value\",\"created_at\","     \
    "\"updated_at\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID ",\"value\":" NUMBERS_VALUE         \
    ",\"created_at\":" LINTEL_SCHEMA_TIME ",\"updated_at\":" LINTEL_SCHEMA_TIME "}}"
#define NUMBERS_BODY LINTEL_SCHEMA_MEMBER("value", NUMBERS_VALUE)

extern const struct lintel_embedded_sql numbers_migrations[];

/* Users whose statistics are kept in memory; past this the cache starts over (a plain bound). */
#define NUMBERS_CACHE_MAX 4096

struct numbers {
    lintel_plugin *p; /* for lintel_log */
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
static int numbers_body_value(lintel_req *req, lintel_res *res, const json_t *j_body,
                              json_t **j_value)
{
    json_t *j_row = NULL;
    const char *message;
    int rc;

    if (!json_is_object(j_body))
        return lintel_res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
    *j_value = json_object_get(j_body, "value");
    if (*j_value == NULL)
        return lintel_res_invalid(res, "value", "is required");
    if (!json_is_number(*j_value))
        return lintel_res_invalid(res, "value", "must be a number");
    rc = lintel_sql_rowf(req, &j_row, "SELECT lintel_rule_number(?1) AS message", "O", *j_value);
    message = json_string_value(json_object_get(j_row, "message"));
    if (rc == 0 && message != NULL)
        rc = lintel_res_invalid(res, "value", "%s", message);
    json_decref(j_row);
    return rc;
}

/* POST /api/numbers {value} -> 201 number */
static int numbers_create(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_value = NULL, *j_row = NULL;
    int rc;

    (void)state;
    rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = numbers_body_value(req, res, j_body, &j_value);
    /* One statement: the host runs it in its own write transaction. */
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_row,
                             "INSERT INTO numbers (user_id, value) VALUES (?1, ?2)"
                             " RETURNING " NUMBERS_COLUMNS,
                             "IO", (json_int_t)lintel_req_user_id(req), j_value);
    if (rc == 0)
        rc = lintel_res_created(req, res, j_row, "/api/numbers", "number.created", "number");
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* The fields a list of numbers may be sorted on (id order is creation order). */
static const struct lintel_sort numbers_sorts[] = {
    {"id", "id", NULL}, {"created_at", "created_at", NULL}, {"value", "value", NULL}, {0}};
#define NUMBERS_SORTS "id -id created_at -created_at value -value"

/* The user's change counter (triggers, sql/numbers/0002): the ETag of the list and stats. */
#define NUMBERS_VERSION                                                                            \
    "coalesce((SELECT version FROM numbers_user WHERE user_id = ?1), 0) AS version"

/* created_at > ?2 AND created_at < ?3, both as Unix seconds */
#define NUMBERS_CREATED                                                                            \
    " AND created_at > strftime('%Y-%m-%dT%H:%M:%SZ', ?2, 'unixepoch')"                            \
    " AND created_at < strftime('%Y-%m-%dT%H:%M:%SZ', ?3, 'unixepoch')"

/*
 * GET /api/numbers?limit&offset|skip&after&sort&created_after&created_before ->
 * {items, total, limit, offset, next}, oldest first unless sorted otherwise.
 */
static int numbers_list(lintel_req *req, lintel_res *res, void *state)
{
    /* The total is kept by triggers in numbers_user: no count over the user's rows. */
    static const struct lintel_list all = {
        .sql = "SELECT " NUMBERS_COLUMNS " FROM numbers WHERE user_id = ?1",
        .total_sql = "SELECT coalesce((SELECT total FROM numbers_user WHERE user_id = ?1), 0)"
                     " AS total, " NUMBERS_VERSION,
        .sorts = numbers_sorts};
    static const struct lintel_list created = {
        .sql = "SELECT " NUMBERS_COLUMNS " FROM numbers WHERE user_id = ?1" NUMBERS_CREATED,
        .total_sql = "SELECT count(*) AS total, " NUMBERS_VERSION
                     " FROM numbers WHERE user_id = ?1" NUMBERS_CREATED,
        .sorts = numbers_sorts};
    long long after = LINTEL_TIME_MIN, before = LINTEL_TIME_MAX;
    int rc;

    (void)state;
    rc = lintel_created_range(req, &after, &before);
    if (rc != 0)
        return rc;
    if (after == LINTEL_TIME_MIN && before == LINTEL_TIME_MAX)
        return lintel_sql_page(req, res, &all, "I", (json_int_t)lintel_req_user_id(req));
    return lintel_sql_page(req, res, &created, "III", (json_int_t)lintel_req_user_id(req),
                           (json_int_t)after, (json_int_t)before);
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
    json_t *j_row = NULL, *j_stats = NULL;
    json_int_t user_id = lintel_req_user_id(req);
    char key[32];
    int rc;

    snprintf(key, sizeof(key), "%lld", (long long)user_id);
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT coalesce((SELECT version FROM numbers_user"
                         " WHERE user_id = ?1), 0) AS version",
                         "I", user_id);
    if (rc != 0)
        goto cleanup;
    j_stats = numbers_cache_get(n, key, json_integer_value(json_object_get(j_row, "version")));
    if (j_stats == NULL) {
        json_decref(j_row);
        rc = lintel_sql_rowf(
            req, &j_row,
            "SELECT coalesce((SELECT version FROM numbers_user"
            " WHERE user_id = ?1), 0) AS version,"
            " lintel_stats(value) AS \"stats:json\" FROM numbers WHERE user_id = ?1",
            "I", user_id);
        if (rc != 0)
            goto cleanup;
        j_stats = json_incref(json_object_get(j_row, "stats"));
        if (!json_is_object(j_stats)) {
            lintel_log(n->p, LINTEL_LOG_ERROR, "lintel_stats() returned no object");
            rc = LINTEL_EINTERNAL;
            goto cleanup;
        }
        numbers_cache_put(n, key, json_integer_value(json_object_get(j_row, "version")), j_stats);
    }
    rc = lintel_res_json(res, 200, j_stats);
    if (rc == 0)
        rc = lintel_res_etag(req, res, json_integer_value(json_object_get(j_row, "version")));
cleanup:
    json_decref(j_stats);
    json_decref(j_row);
    return rc;
}

/* GET /api/numbers/{id} -> number */
static int numbers_get(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_res_by_id(req, res, "Number", LINTEL_ROW_OWNED,
                            "SELECT " NUMBERS_COLUMNS ", version AS \"version:etag\""
                            " FROM numbers WHERE id = ?1 AND user_id = ?2");
}

/* PUT /api/numbers/{id} {value} -> number */
static int numbers_update(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_value = NULL, *j_row = NULL;
    long long id;
    int rc;

    (void)state;
    rc = lintel_req_id(req, "id", "Number", &id);
    if (rc == 0)
        rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = numbers_body_value(req, res, j_body, &j_value);
    if (rc == 0)
        rc = lintel_not_found(
            res,
            lintel_sql_rowf(req, &j_row,
                            "UPDATE numbers SET value = ?3, updated_at = " NUMBERS_NOW
                            " WHERE id = ?1 AND user_id = ?2 RETURNING " NUMBERS_COLUMNS,
                            "IIO", (json_int_t)id, (json_int_t)lintel_req_user_id(req), j_value),
            "Number");
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    if (rc == 0)
        lintel_event_user(req, "number.updated", "number", j_row);
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* DELETE /api/numbers/{id} -> 204 */
static int numbers_delete(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_delete_owned(req, res, "numbers", "Number", "number.deleted");
}

static void numbers_unload(void *state)
{
    struct numbers *n = state;

    json_decref(n->j_cache);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* The literal /stats route goes first so a first-match router never takes it for an id. */
static const struct lintel_route numbers_routes[] = {
    {.method = "GET",
     .path = "/api/numbers/stats",
     .scope = "numbers:read",
     .flags = LINTEL_ROUTE_CACHEABLE,
     .handler = numbers_stats,
     .summary = "Statistics of the user's numbers",
     .replies = LINTEL_REPLIES({200, "lintel_stats() of the values", LINTEL_SCHEMA_STATS,
                                "{\"count\":3,\"sum\":12,\"avg\":4.0,\"min\":2,\"max\":7,"
                                "\"stddev\":2.6457513110645907,\"median\":3}"})},
    {.method = "POST",
     .path = "/api/numbers",
     .scope = "numbers:write",
     .handler = numbers_create,
     .summary = "Store a number",
     .body_schema = NUMBERS_BODY,
     .example = "{\"value\": 42.5}",
     .replies = LINTEL_REPLIES({201, "The stored number", NUMBERS_SCHEMA, NULL})},
    {.method = "GET",
     .path = "/api/numbers",
     .scope = "numbers:read",
     .flags = LINTEL_ROUTE_CACHEABLE,
     .handler = numbers_list,
     .summary = "The user's numbers, oldest first (keyset pages: after, next, Link)",
     .query = (const struct lintel_param[]){LINTEL_KEYSET_PARAMS(NUMBERS_SORTS),
                                            LINTEL_CREATED_PARAMS,
                                            {0}},
     .replies = LINTEL_REPLIES(
         {200, "A page of numbers", LINTEL_SCHEMA_LIST(NUMBERS_SCHEMA),
          "{\"items\":[{\"id\":30,\"value\":9,\"created_at\":\"2026-12-01T19:58:42Z\",\"updated_"
          "at\":\"2026-12-01T19:58:42Z\"},{\"id\":31,\"value\":2.5,\"created_at\":\"2026-12-01T19:"
          "58:42Z\",\"updated_at\":\"2026-12-01T20:14:03Z\"}],\"total\":8,\"limit\":2,\"offset\":0,"
          "\"next\":\"WyJpZCIsMzEsMzFd\"}"})},
    {.method = "GET",
     .path = "/api/numbers/{id}",
     .scope = "numbers:read",
     .flags = LINTEL_ROUTE_CACHEABLE,
     .handler = numbers_get,
     .summary = "One number",
     .replies = LINTEL_REPLIES({200, "The number", NUMBERS_SCHEMA,
                                "{\"id\":9,\"value\":42.5,\"created_at\":\"2026-12-01T19:58:42Z\","
                                "\"updated_at\":\"2026-12-01T19:58:42Z\"}"})},
    {.method = "PUT",
     .path = "/api/numbers/{id}",
     .scope = "numbers:write",
     .handler = numbers_update,
     .summary = "Replace a number's value",
     .body_schema = NUMBERS_BODY,
     .example = "{\"value\": 7}",
     .replies = LINTEL_REPLIES({200, "The updated number", NUMBERS_SCHEMA, NULL})},
    {.method = "DELETE",
     .path = "/api/numbers/{id}",
     .scope = "numbers:delete",
     .handler = numbers_delete,
     .summary = "Delete a number",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct numbers *n;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "numbers", "1.0.0");
    (void)config;
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return LINTEL_ENOMEM;
    n->p = p;
    n->j_cache = json_object();
    if (n->j_cache == NULL || pthread_mutex_init(&n->lock, NULL) != 0) {
        json_decref(n->j_cache);
        free(n);
        return LINTEL_ENOMEM;
    }
    rc = lintel_on_unload(p, numbers_unload, n);
    if (rc != 0) {
        numbers_unload(n);
        return rc;
    }
    rc = lintel_migrations(p, numbers_migrations);
    if (rc == 0)
        rc = lintel_routes_add(p, numbers_routes, LINTEL_COUNT(numbers_routes), n);
    return rc;
}
