/*
 * The tasks plugin: each user's to-do items, CRUD with PUT (whole task) and PATCH (any subset).
 * Thin handlers: values are bound into SQL, the extension's rules give the 422 messages.
 */
#include <lintel/migrations.h>
#include <lintel/plugin.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of a task, in the shape the API returns. */
#define TASKS_COLUMNS "id, title, description, done AS \"done:bool\", created_at, updated_at"
#define TASKS_NOW     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
/* Titles are stored trimmed of ASCII whitespace (space, \t, \n, \v, \f, \r). */
#define TASKS_WS "' ' || char(9, 10, 11, 12, 13)"

extern const struct lintel_embedded_sql tasks_migrations[];

struct tasks {
    const struct lintel_api *api;
};

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
static int tasks_input_read(struct tasks *t, lintel_req *req, lintel_res *res, const json_t *j_body,
                            unsigned need, struct tasks_input *in)
{
    json_t *j_params = NULL, *j_row = NULL, *j_title, *j_description;
    const char *message;
    int rc = 0, rule_rc;

    if (!json_is_object(j_body)) {
        rc = t->api->res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
        goto cleanup;
    }
    in->j_title = json_object_get(j_body, "title");
    in->j_description = json_object_get(j_body, "description");
    in->j_done = json_object_get(j_body, "done");
    if (in->j_title == NULL && (need & TASKS_NEED_TITLE))
        rc = t->api->res_invalid(res, "title", "is required");
    else if (in->j_title != NULL && !json_is_string(in->j_title))
        rc = t->api->res_invalid(res, "title", "must be a string");
    if (in->j_description == NULL && (need & TASKS_NEED_DESCRIPTION))
        rc = t->api->res_invalid(res, "description", "is required");
    else if (in->j_description != NULL && !json_is_string(in->j_description) &&
             !json_is_null(in->j_description))
        rc = t->api->res_invalid(res, "description", "must be a string or null");
    if (in->j_done == NULL && (need & TASKS_NEED_DONE))
        rc = t->api->res_invalid(res, "done", "is required");
    else if (in->j_done != NULL && !json_is_boolean(in->j_done))
        rc = t->api->res_invalid(res, "done", "must be a boolean");
    /* The rules run on every field of the right type, even when another field failed. */
    j_title = json_is_string(in->j_title) ? in->j_title : json_null();
    j_description = json_is_string(in->j_description) ? in->j_description : json_null();
    if (json_is_null(j_title) && json_is_null(j_description))
        goto cleanup;
    j_params = json_pack("[OO]", j_title, j_description);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rule_rc = t->api->sql_row(req,
                              "SELECT lintel_rule_task_title(trim(?1, " TASKS_WS ")) AS title,"
                              " lintel_rule_task_description(?2) AS description",
                              j_params, &j_row);
    if (rule_rc != 0) {
        rc = rule_rc;
        goto cleanup;
    }
    message = json_string_value(json_object_get(j_row, "title"));
    if (message != NULL)
        rc = t->api->res_invalid(res, "title", "%s", message);
    message = json_string_value(json_object_get(j_row, "description"));
    if (message != NULL)
        rc = t->api->res_invalid(res, "description", "%s", message);
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

static int tasks_not_found(struct tasks *t, lintel_res *res, int rc)
{
    if (rc == LINTEL_ENOTFOUND)
        return t->api->res_error(res, LINTEL_ENOTFOUND, NULL, "Task not found");
    return rc;
}

/*
 * Tells the user's open WebSockets (GET /api/ws, docs/live.md): {"event": name, key: j_data}
 * with j_data stolen. Best effort, after the reply is written. event_publish precedes the
 * members init checks for (LINTEL_API_HAS), so every host that loaded the plugin has it.
 */
static void tasks_publish(struct tasks *t, lintel_req *req, const char *name, const char *key,
                          json_t *j_data)
{
    json_t *j_event = json_pack("{ss so}", "event", name, key, j_data);

    if (j_event != NULL)
        t->api->event_publish(req, t->api->req_user_id(req), j_event);
    json_decref(j_event);
}

/* POST /api/tasks {title, description?, done?} -> 201 task */
static int tasks_create(lintel_req *req, lintel_res *res, void *state)
{
    struct tasks *t = state;
    struct tasks_input in = {NULL, NULL, NULL};
    json_t *j_body = NULL, *j_params = NULL, *j_row = NULL;
    char location[64];
    int rc;

    rc = t->api->req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = tasks_input_read(t, req, res, j_body, TASKS_NEED_TITLE, &in);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[IOOb]", (json_int_t)t->api->req_user_id(req), in.j_title,
                         in.j_description != NULL ? in.j_description : json_null(),
                         json_is_true(in.j_done));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    /* One statement: the host runs it in its own write transaction. */
    rc = t->api->sql_row(req,
                         "INSERT INTO tasks (user_id, title, description, done)"
                         " VALUES (?1, trim(?2, " TASKS_WS "), ?3, ?4) RETURNING " TASKS_COLUMNS,
                         j_params, &j_row);
    if (rc != 0)
        goto cleanup;
    snprintf(location, sizeof(location), "/api/tasks/%lld",
             (long long)json_integer_value(json_object_get(j_row, "id")));
    t->api->res_header(res, "Location", location);
    rc = t->api->res_json(res, 201, j_row);
    if (rc == 0)
        tasks_publish(t, req, "task.created", "task", json_incref(j_row));
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    json_decref(j_body);
    return rc;
}

/* GET /api/tasks?done&limit&offset|skip -> {items, total, limit, offset}, oldest first */
static int tasks_list(lintel_req *req, lintel_res *res, void *state)
{
    struct tasks *t = state;
    json_t *j_params = NULL, *j_items = NULL, *j_count = NULL;
    const char *done = t->api->req_query(req, "done");
    long long limit, offset, user_id = t->api->req_user_id(req);
    int rc;

    rc = t->api->req_page(req, res, &limit, &offset);
    if (rc != 0)
        goto cleanup;
    if (done != NULL && strcmp(done, "true") != 0 && strcmp(done, "false") != 0) {
        rc = t->api->res_invalid(res, "done", "must be true or false");
        goto cleanup;
    }
    /* Separate statements with and without the filter, so each uses its own index. */
    if (done == NULL) {
        j_params = json_pack("[III]", (json_int_t)user_id, (json_int_t)limit, (json_int_t)offset);
        if (j_params != NULL)
            rc = t->api->sql_query(req,
                                   "SELECT " TASKS_COLUMNS " FROM tasks WHERE user_id = ?1"
                                   " ORDER BY id LIMIT ?2 OFFSET ?3",
                                   j_params, &j_items);
    } else {
        j_params = json_pack("[IIIb]", (json_int_t)user_id, (json_int_t)limit, (json_int_t)offset,
                             strcmp(done, "true") == 0);
        if (j_params != NULL)
            rc = t->api->sql_query(req,
                                   "SELECT " TASKS_COLUMNS " FROM tasks WHERE user_id = ?1"
                                   " AND done = ?4 ORDER BY id LIMIT ?2 OFFSET ?3",
                                   j_params, &j_items);
    }
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    /* Two statements outside a transaction: a concurrent write may land between them. */
    json_array_remove(j_params, 2);
    json_array_remove(j_params, 1);
    /* Totals are kept by triggers in tasks_user: no count over the user's rows. */
    if (done == NULL)
        rc = t->api->sql_row(req,
                             "SELECT coalesce((SELECT total FROM tasks_user WHERE user_id = ?1), 0)"
                             " AS total",
                             j_params, &j_count);
    else
        rc = t->api->sql_row(req,
                             "SELECT coalesce((SELECT CASE WHEN ?2 THEN done ELSE total - done END"
                             " FROM tasks_user WHERE user_id = ?1), 0) AS total",
                             j_params, &j_count);
    if (rc != 0)
        goto cleanup;
    rc = t->api->res_list(res, j_items, json_integer_value(json_object_get(j_count, "total")),
                          limit, offset);
cleanup:
    json_decref(j_count);
    json_decref(j_items);
    json_decref(j_params);
    return rc;
}

/* GET /api/tasks/{id} -> task */
static int tasks_get(lintel_req *req, lintel_res *res, void *state)
{
    struct tasks *t = state;
    json_t *j_params = NULL, *j_row = NULL;
    long long id;
    int rc;

    rc = t->api->req_id(req, res, "id", "Task", &id);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[II]", (json_int_t)id, (json_int_t)t->api->req_user_id(req));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = t->api->sql_row(req, "SELECT " TASKS_COLUMNS " FROM tasks WHERE id = ?1 AND user_id = ?2",
                         j_params, &j_row);
    if (rc != 0) {
        rc = tasks_not_found(t, res, rc);
        goto cleanup;
    }
    rc = t->api->res_json(res, 200, j_row);
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

/*
 * PUT (put: every field required) and PATCH (any subset) of /api/tasks/{id} -> task. One
 * UPDATE for both: ?3/?5/?7 say whether title, description and done were given.
 */
static int tasks_modify(lintel_req *req, lintel_res *res, struct tasks *t, bool put)
{
    struct tasks_input in = {NULL, NULL, NULL};
    json_t *j_body = NULL, *j_params = NULL, *j_row = NULL;
    long long id;
    int rc;

    rc = t->api->req_id(req, res, "id", "Task", &id);
    if (rc != 0)
        goto cleanup;
    rc = t->api->req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = tasks_input_read(t, req, res, j_body, put ? TASKS_NEED_ALL : 0, &in);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[IIbObObO]", (json_int_t)id, (json_int_t)t->api->req_user_id(req),
                         in.j_title != NULL, in.j_title != NULL ? in.j_title : json_null(),
                         in.j_description != NULL,
                         in.j_description != NULL ? in.j_description : json_null(),
                         in.j_done != NULL, in.j_done != NULL ? in.j_done : json_null());
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (in.j_title == NULL && in.j_description == NULL && in.j_done == NULL) {
        /* An empty PATCH changes nothing (not even updated_at): it reads the task. */
        while (json_array_size(j_params) > 2)
            json_array_remove(j_params, 2);
        rc = t->api->sql_row(req,
                             "SELECT " TASKS_COLUMNS " FROM tasks WHERE id = ?1 AND user_id = ?2",
                             j_params, &j_row);
    } else {
        rc = t->api->sql_row(req,
                             "UPDATE tasks SET"
                             " title = CASE WHEN ?3 THEN trim(?4, " TASKS_WS ") ELSE title END,"
                             " description = CASE WHEN ?5 THEN ?6 ELSE description END,"
                             " done = CASE WHEN ?7 THEN ?8 ELSE done END,"
                             " updated_at = " TASKS_NOW " WHERE id = ?1 AND user_id = ?2"
                             " RETURNING " TASKS_COLUMNS,
                             j_params, &j_row);
    }
    if (rc != 0) {
        rc = tasks_not_found(t, res, rc);
        goto cleanup;
    }
    rc = t->api->res_json(res, 200, j_row);
    if (rc == 0)
        tasks_publish(t, req, "task.updated", "task", json_incref(j_row));
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    json_decref(j_body);
    return rc;
}

static int tasks_put(lintel_req *req, lintel_res *res, void *state)
{
    return tasks_modify(req, res, state, true);
}

static int tasks_patch(lintel_req *req, lintel_res *res, void *state)
{
    return tasks_modify(req, res, state, false);
}

/* DELETE /api/tasks/{id} -> 204 */
static int tasks_delete(lintel_req *req, lintel_res *res, void *state)
{
    struct tasks *t = state;
    json_t *j_params = NULL;
    long long id, changes = 0;
    int rc;

    rc = t->api->req_id(req, res, "id", "Task", &id);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[II]", (json_int_t)id, (json_int_t)t->api->req_user_id(req));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = t->api->sql_exec(req, "DELETE FROM tasks WHERE id = ?1 AND user_id = ?2", j_params,
                          &changes, NULL);
    if (rc != 0)
        goto cleanup;
    if (changes == 0) {
        rc = t->api->res_error(res, LINTEL_ENOTFOUND, NULL, "Task not found");
        goto cleanup;
    }
    rc = t->api->res_empty(res, 204);
    if (rc == 0)
        tasks_publish(t, req, "task.deleted", "id", json_integer((json_int_t)id));
cleanup:
    json_decref(j_params);
    return rc;
}

static void tasks_unload(void *state)
{
    free(state);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    static const struct {
        const char *method, *path, *scope;
        lintel_handler handler;
    } routes[] = {
        {"POST", "/api/tasks", "tasks:write", tasks_create},
        {"GET", "/api/tasks", "tasks:read", tasks_list},
        {"GET", "/api/tasks/{id}", "tasks:read", tasks_get},
        {"PUT", "/api/tasks/{id}", "tasks:write", tasks_put},
        {"PATCH", "/api/tasks/{id}", "tasks:write", tasks_patch},
        {"DELETE", "/api/tasks/{id}", "tasks:write", tasks_delete},
    };
    struct tasks *t = NULL;
    size_t i;
    int rc;

    LINTEL_PLUGIN_DECLARE(p, api, "tasks", "1.0.0");
    (void)config;
    if (!LINTEL_API_HAS(api, res_invalid))
        return LINTEL_EVERSION;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return LINTEL_ENOMEM;
    t->api = api;
    rc = api->on_unload(p, tasks_unload, t);
    if (rc != 0) {
        free(t);
        return rc;
    }
    rc = lintel_migrations_add(p, api, tasks_migrations);
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]) && rc == 0; i++)
        rc = api->route_add(p, routes[i].method, routes[i].path, 0, routes[i].scope,
                            routes[i].handler, t);
    return rc;
}
