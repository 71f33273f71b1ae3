/*
 * The tasks plugin: each user's to-do items, CRUD with PUT (whole task) and PATCH (any subset).
 * Thin handlers: values are bound into SQL, the extension's rules give the 422 messages.
 */
#include <lintel/kit.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

LINTEL_KIT_INIT;

/* The columns of a task, in the shape the API returns. */
#define TASKS_COLUMNS "id, title, description, done AS \"done:bool\", created_at, updated_at"
#define TASKS_NOW     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
/* Titles are stored trimmed of ASCII whitespace (space, \t, \n, \v, \f, \r). */
#define TASKS_WS "' ' || char(9, 10, 11, 12, 13)"

extern const struct lintel_embedded_sql tasks_migrations[];

/* Fields a body must carry (POST: the title; PUT: all three). */
#define TASKS_NEED_TITLE       0x1u
#define TASKS_NEED_DESCRIPTION 0x2u
#define TASKS_NEED_DONE        0x4u
#define TASKS_NEED_ALL         (TASKS_NEED_TITLE | TASKS_NEED_DESCRIPTION | TASKS_NEED_DONE)

/* Which fields a body carries; each j_ member is borrowed from the body, or NULL if absent. */
struct tasks_input {
    json_t *j_title;
    json_t *j_description;
    json_t *j_done;
};

/*
 * Reads title, description and done from the body; need: the TASKS_NEED_* fields that must be
 * present. JSON types are checked here, since SQL would coerce them;
 * lengths by the extension's rules, in one statement, so every bad field is reported at once.
 */
static int tasks_input_read(lintel_req *req, lintel_res *res, const json_t *j_body, unsigned need,
                            struct tasks_input *in)
{
    json_t *j_row = NULL, *j_title, *j_description;
    const char *message;
    int rc = 0, rule_rc;

    if (!json_is_object(j_body)) {
        rc = lintel_res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
        goto cleanup;
    }
    in->j_title = json_object_get(j_body, "title");
    in->j_description = json_object_get(j_body, "description");
    in->j_done = json_object_get(j_body, "done");
    if (in->j_title == NULL && (need & TASKS_NEED_TITLE))
        rc = lintel_res_invalid(res, "title", "is required");
    else if (in->j_title != NULL && !json_is_string(in->j_title))
        rc = lintel_res_invalid(res, "title", "must be a string");
    if (in->j_description == NULL && (need & TASKS_NEED_DESCRIPTION))
        rc = lintel_res_invalid(res, "description", "is required");
    else if (in->j_description != NULL && !json_is_string(in->j_description) &&
             !json_is_null(in->j_description))
        rc = lintel_res_invalid(res, "description", "must be a string or null");
    if (in->j_done == NULL && (need & TASKS_NEED_DONE))
        rc = lintel_res_invalid(res, "done", "is required");
    else if (in->j_done != NULL && !json_is_boolean(in->j_done))
        rc = lintel_res_invalid(res, "done", "must be a boolean");
    /* The rules run on every field of the right type, even when another field failed. */
    j_title = json_is_string(in->j_title) ? in->j_title : json_null();
    j_description = json_is_string(in->j_description) ? in->j_description : json_null();
    if (json_is_null(j_title) && json_is_null(j_description))
        goto cleanup;
    rule_rc = lintel_sql_rowf(req, &j_row,
                              "SELECT lintel_rule_task_title(trim(?1, " TASKS_WS ")) AS title,"
                              " lintel_rule_task_description(?2) AS description",
                              "OO", j_title, j_description);
    if (rule_rc != 0) {
        rc = rule_rc;
        goto cleanup;
    }
    message = json_string_value(json_object_get(j_row, "title"));
    if (message != NULL)
        rc = lintel_res_invalid(res, "title", "%s", message);
    message = json_string_value(json_object_get(j_row, "description"));
    if (message != NULL)
        rc = lintel_res_invalid(res, "description", "%s", message);
cleanup:
    json_decref(j_row);
    return rc;
}

/* POST /api/tasks {title, description?, done?} -> 201 task */
static int tasks_create(lintel_req *req, lintel_res *res, void *state)
{
    struct tasks_input in = {NULL, NULL, NULL};
    json_t *j_body = NULL, *j_row = NULL;
    int rc;

    (void)state;
    rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = tasks_input_read(req, res, j_body, TASKS_NEED_TITLE, &in);
    /* One statement: the host runs it in its own write transaction. */
    if (rc == 0)
        rc = lintel_sql_rowf(
            req, &j_row,
            "INSERT INTO tasks (user_id, title, description, done)"
            " VALUES (?1, trim(?2, " TASKS_WS "), ?3, ?4) RETURNING " TASKS_COLUMNS,
            "IOOb", (json_int_t)lintel_req_user_id(req), in.j_title,
            in.j_description != NULL ? in.j_description : json_null(), json_is_true(in.j_done));
    if (rc == 0)
        rc = lintel_res_created(req, res, j_row, "/api/tasks", "task.created", "task");
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* The fields a list of tasks may be sorted on (id order is creation order). */
static const struct lintel_sort tasks_sorts[] = {{"id", "id", NULL},
                                                 {"created_at", "created_at", NULL},
                                                 {"updated_at", "updated_at", NULL},
                                                 {"title", "title", NULL},
                                                 {0}};
#define TASKS_SORTS "id -id created_at -created_at updated_at -updated_at title -title"

/*
 * Brings the text index up to date with the tasks the triggers recorded in tasks_fts_pending
 * (sql/tasks/0005_tasks_fts.sql says why triggers cannot write it), in one write transaction;
 * nothing to do costs one indexed read.
 */
static int tasks_fts_catch_up(lintel_req *req)
{
    json_t *j_row = NULL;
    int rc;

    rc = lintel_sql_rowf(
        req, &j_row, "SELECT EXISTS (SELECT 1 FROM tasks_fts_pending) AS \"pending:bool\"", NULL);
    if (rc != 0 || !json_is_true(json_object_get(j_row, "pending")))
        goto cleanup;
    rc = lintel_sql_begin(req);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "DELETE FROM tasks_fts WHERE rowid IN"
                              " (SELECT task_id FROM tasks_fts_pending)",
                              NULL);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "INSERT INTO tasks_fts (rowid, title, description)"
                              " SELECT id, title, description FROM tasks"
                              " WHERE id IN (SELECT task_id FROM tasks_fts_pending)",
                              NULL);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL, "DELETE FROM tasks_fts_pending", NULL);
    if (rc == 0)
        rc = lintel_sql_commit(req);
    else
        lintel_sql_rollback(req);
cleanup:
    json_decref(j_row);
    return rc;
}

/*
 * GET /api/tasks?done&q&created_after&created_before&limit&offset|skip&after&sort ->
 * {items, total, limit, offset, next}, oldest first unless sorted otherwise. done is checked by
 * the host (a declared boolean). Every statement takes the same five parameters; a filter that
 * was not asked for is the constant "?N IS NULL" with NULL bound, which SQLite tests once, so
 * each combination keeps its own index.
 */
static int tasks_list(lintel_req *req, lintel_res *res, void *state)
{
    const char *done = lintel_req_query(req, "done"), *q = lintel_req_query(req, "q");
    long long after = LINTEL_TIME_MIN, before = LINTEL_TIME_MAX;
    bool created;
    char sql[1024];
    struct lintel_list list = {.sql = sql, .sorts = tasks_sorts};
    json_t *j_done, *j_after, *j_before, *j_q;
    int rc;

    (void)state;
    rc = lintel_created_range(req, &after, &before);
    if (rc != 0)
        return rc;
    created = after != LINTEL_TIME_MIN || before != LINTEL_TIME_MAX;
    if (q != NULL && q[strspn(q, " \t\n\v\f\r")] == '\0')
        return lintel_res_invalid(res, "q", "must contain a word to search for");
    if (q != NULL && (rc = tasks_fts_catch_up(req)) != 0)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT " TASKS_COLUMNS " FROM tasks WHERE user_id = ?1 AND %s AND %s AND %s",
             done != NULL ? "done = ?2" : "?2 IS NULL",
             created ? "created_at > strftime('%Y-%m-%dT%H:%M:%SZ', ?3, 'unixepoch')"
                       " AND created_at < strftime('%Y-%m-%dT%H:%M:%SZ', ?4, 'unixepoch')"
                     : "?3 IS NULL AND ?4 IS NULL",
             q != NULL ? "id IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH"
                         " lintel_fts_query(?5))"
                       : "?5 IS NULL");
    /* Without created or q, the totals are kept by triggers in tasks_user: no count. */
    if (!created && q == NULL)
        list.total_sql = "SELECT coalesce((SELECT CASE WHEN ?2 IS NULL THEN total WHEN ?2 THEN"
                         " done ELSE total - done END FROM tasks_user WHERE user_id = ?1), 0)"
                         " AS total, coalesce((SELECT version FROM tasks_user WHERE user_id"
                         " = ?1), 0) AS version WHERE ?3 IS NULL AND ?4 IS NULL AND ?5 IS NULL";
    j_done = done != NULL ? json_boolean(strcmp(done, "true") == 0) : json_null();
    j_after = created ? json_integer((json_int_t)after) : json_null();
    j_before = created ? json_integer((json_int_t)before) : json_null();
    j_q = q != NULL ? json_string(q) : json_null();
    return lintel_sql_page(req, res, &list, "Ioooo", (json_int_t)lintel_req_user_id(req), j_done,
                           j_after, j_before, j_q);
}

/* GET /api/tasks/{id} -> task */
static int tasks_get(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_res_by_id(req, res, "Task", LINTEL_ROW_OWNED,
                            "SELECT " TASKS_COLUMNS ", version AS \"version:etag\""
                            " FROM tasks WHERE id = ?1 AND user_id = ?2");
}

/*
 * PUT (put: every field required) and PATCH (any subset) of /api/tasks/{id} -> task. One
 * UPDATE for both: ?3/?5/?7 say whether title, description and done were given; an empty
 * PATCH changes nothing (not even updated_at): it reads the task.
 */
static int tasks_modify(lintel_req *req, lintel_res *res, bool put)
{
    struct tasks_input in = {NULL, NULL, NULL};
    json_t *j_body = NULL, *j_row = NULL;
    long long id;
    int rc;

    rc = lintel_req_id(req, "id", "Task", &id);
    if (rc == 0)
        rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = tasks_input_read(req, res, j_body, put ? TASKS_NEED_ALL : 0, &in);
    if (rc != 0)
        goto cleanup;
    if (in.j_title == NULL && in.j_description == NULL && in.j_done == NULL)
        rc = lintel_sql_rowf(req, &j_row,
                             "SELECT " TASKS_COLUMNS ", version AS \"version:etag\""
                             " FROM tasks WHERE id = ?1 AND user_id = ?2",
                             "II", (json_int_t)id, (json_int_t)lintel_req_user_id(req));
    else
        rc = lintel_sql_rowf(req, &j_row,
                             "UPDATE tasks SET"
                             " title = CASE WHEN ?3 THEN trim(?4, " TASKS_WS ") ELSE title END,"
                             " description = CASE WHEN ?5 THEN ?6 ELSE description END,"
                             " done = CASE WHEN ?7 THEN ?8 ELSE done END,"
                             " updated_at = " TASKS_NOW " WHERE id = ?1 AND user_id = ?2"
                             " RETURNING " TASKS_COLUMNS,
                             "IIbObObO", (json_int_t)id, (json_int_t)lintel_req_user_id(req),
                             in.j_title != NULL, in.j_title != NULL ? in.j_title : json_null(),
                             in.j_description != NULL,
                             in.j_description != NULL ? in.j_description : json_null(),
                             in.j_done != NULL, in.j_done != NULL ? in.j_done : json_null());
    rc = lintel_not_found(res, rc, "Task");
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    if (rc == 0)
        lintel_event_user(req, "task.updated", "task", j_row);
cleanup:
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

static int tasks_put(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return tasks_modify(req, res, true);
}

static int tasks_patch(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return tasks_modify(req, res, false);
}

/* DELETE /api/tasks/{id} -> 204 */
static int tasks_delete(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_delete_owned(req, res, "tasks", "Task", "task.deleted");
}

#define TASKS_SCHEMA                                                                               \
    "{\"title\":\"Task\",\"type\":\"object\",\"required\":[\"id\",\"title\",\"description\","      \
    "\"done\",\"created_at\",\"updated_at\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID             \
    ",\"title\":" LINTEL_SCHEMA_STRING ",\"description\":{\"type\":[\"string\",\"null\"]},"        \
    "\"done\":" LINTEL_SCHEMA_BOOLEAN ",\"created_at\":" LINTEL_SCHEMA_TIME                        \
    ",\"updated_at\":" LINTEL_SCHEMA_TIME "}}"
#define TASKS_BODY                                                                                 \
    "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":1,"         \
    "\"maxLength\":200},\"description\":{\"type\":[\"string\",\"null\"]},\"done\":{\"type\":"      \
    "\"boolean\"}}}"

static const struct lintel_route tasks_routes[] = {
    {.method = "POST",
     .path = "/api/tasks",
     .scope = "tasks:write",
     .handler = tasks_create,
     .summary = "Create a task",
     .body_schema = TASKS_BODY,
     .example = "{\"title\": \"Buy milk\", \"done\": false}",
     .replies = LINTEL_REPLIES({201, "The new task", TASKS_SCHEMA, NULL})},
    {.method = "GET",
     .path = "/api/tasks",
     .scope = "tasks:read",
     .handler = tasks_list,
     .summary = "The user's tasks, oldest first (keyset pages: after, next, Link)",
     .query = (const struct lintel_param[]){LINTEL_KEYSET_PARAMS(TASKS_SORTS),
                                            LINTEL_CREATED_PARAMS,
                                            {"done", LINTEL_PARAM_BOOLEAN, 0, 0, 0, NULL,
                                             "Only done (true) or open (false) tasks"},
                                            {"q", LINTEL_PARAM_STRING,
                                             LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 1, 200, NULL,
                                             "Words to find in the title or description (each"
                                             " a prefix; all must match)"},
                                            {0}},
     .replies = LINTEL_REPLIES({200, "A page of tasks", LINTEL_SCHEMA_LIST(TASKS_SCHEMA),
                                "{\"items\":[{\"id\":42,\"title\":\"Buy "
                                "milk\",\"description\":null,\"done\":false,\"created_at\":\"2026-"
                                "12-01T19:58:42Z\",\"updated_at\":\"2026-12-01T19:58:42Z\"}],"
                                "\"total\":1,\"limit\":100,\"offset\":0,\"next\":null}"})},
    {.method = "GET",
     .path = "/api/tasks/{id}",
     .scope = "tasks:read",
     .handler = tasks_get,
     .summary = "One task",
     .replies = LINTEL_REPLIES({200, "The task", TASKS_SCHEMA,
                                "{\"id\":29,\"title\":\"Buy milk\",\"description\":\"Two "
                                "litres\",\"done\":true,\"created_at\":\"2026-12-01T19:58:42Z\","
                                "\"updated_at\":\"2026-12-01T20:14:03Z\"}"})},
    {.method = "PUT",
     .path = "/api/tasks/{id}",
     .scope = "tasks:write",
     .handler = tasks_put,
     .summary = "Replace a task (every field)",
     .body_schema = TASKS_BODY,
     .example = "{\"title\": \"Buy milk\", \"description\": \"2 litres\", \"done\": true}",
     .replies = LINTEL_REPLIES({200, "The updated task", TASKS_SCHEMA, NULL})},
    {.method = "PATCH",
     .path = "/api/tasks/{id}",
     .scope = "tasks:write",
     .handler = tasks_patch,
     .summary = "Change some fields of a task",
     .body_schema = TASKS_BODY,
     .example = "{\"done\": true}",
     .replies = LINTEL_REPLIES({200, "The updated task", TASKS_SCHEMA, NULL})},
    {.method = "DELETE",
     .path = "/api/tasks/{id}",
     .scope = "tasks:write",
     .handler = tasks_delete,
     .summary = "Delete a task",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    int rc;

    LINTEL_KIT_DECLARE(p, api, "tasks", "1.0.0");
    (void)config;
    rc = lintel_migrations(p, tasks_migrations);
    if (rc == 0)
        rc = lintel_routes_add(p, tasks_routes, LINTEL_COUNT(tasks_routes), NULL);
    return rc;
}
