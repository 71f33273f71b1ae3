/*
 * Compatibility profile "tasks": seed 004's API (/users, /auth/login, /tasks CRUD) in FastAPI's
 * shapes, over lintel's users, sessions, tasks table and the task rules of the extension.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

#define TASKS_TTL 1800 /* "JWT with expiration": 30 minutes, as the seed's siblings */

/* The task as the seed shows it, and the columns lintel's tasks plugin publishes in events. */
#define TASKS_COLUMNS "id, title, description, done AS \"completed:bool\", user_id AS owner_id"
/* Titles are stored trimmed of ASCII whitespace, as lintel's tasks plugin stores them. */
#define TASKS_WS            "' ' || char(9, 10, 11, 12, 13)"
#define TASKS_EVENT_COLUMNS "id, title, description, done AS \"done:bool\", created_at, updated_at"

static const struct compat_fastapi tasks_errors = {
    .invalid_status = 401, .invalid_detail = "Could not validate credentials"};

/* A 401 of the seed's OAuth2 flow carries the Bearer challenge. */
static int tasks_unauthorized(lintel_res *res, const char *detail)
{
    lintel_res_header(res, "WWW-Authenticate", "Bearer");
    return compat_detail(res, 401, detail);
}

/* POST /users {username, password} -> 201 {id, username} */
static int tasks_user_new(lintel_req *req, lintel_res *res, void *state)
{
    static const char *const keys[] = {"id", "username", NULL};

    (void)state;
    return compat_signup(req, res, "Username already registered", NULL, 201, keys);
}

/* GET /users -> [{id, username}] (needs a token: the seed's public list enumerated users) */
static int tasks_users(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_res_rows(req, res,
                           "SELECT id, username FROM users WHERE deleted_at IS NULL ORDER BY id",
                           json_array());
}

/* POST /auth/login: JSON or the OAuth2 form {username, password} -> {access_token, token_type} */
static int tasks_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_body = NULL;
    struct lintel_login in = {.ttl = TASKS_TTL};
    const char *ct = lintel_req_header(req, "Content-Type");
    int rc;

    (void)state;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    /* The README posts JSON; an OAuth2 client posts the form: both are this login. */
    if (ct != NULL && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        compat_form_login(req, j_items, &j_body, &in.login, &in.password);
    } else {
        compat_credentials(req, j_items, "username", &j_body, &in.login, &in.password);
    }
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        goto cleanup;
    }
    in.sub = in.login;
    rc = compat_bearer(req, res, &in);
    if (rc == LINTEL_EAUTH)
        rc = tasks_unauthorized(res, "Incorrect username or password");
cleanup:
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/*
 * The task fields of a body: title (required), description (optional, null allowed) and
 * completed (optional bool, default false). 0, or LINTEL_EPARAM with items added.
 */
static int tasks_fields(const json_t *j_body, json_t *j_items, const char **title,
                        const char **description, int *completed)
{
    const json_t *j_done = json_object_get(j_body, "completed");
    int rc = 0;

    if (compat_str(j_body, "title", 1, j_items, title) != 0)
        rc = LINTEL_EPARAM;
    if (json_is_null(json_object_get(j_body, "description")))
        *description = NULL;
    else if (compat_str(j_body, "description", 0, j_items, description) != 0)
        rc = LINTEL_EPARAM;
    *completed = 0;
    if (j_done != NULL && !json_is_boolean(j_done)) {
        rc = compat_item(j_items, "bool_type", json_pack("[ss]", "body", "completed"),
                         "Input should be a valid boolean", json_incref((json_t *)j_done), NULL);
    } else if (j_done != NULL) {
        *completed = json_is_true(j_done);
    }
    return rc;
}

/* The extension's task rules (those the table's CHECKs run), as pydantic value_error items. */
static void tasks_rules(lintel_req *req, json_t *j_items, const char *title,
                        const char *description)
{
    static const char *const fields[] = {"title", "description"};
    json_t *j_row = NULL;
    const char *verdict;
    char msg[256];
    size_t i;

    if (lintel_sql_rowf(req, &j_row,
                        "SELECT lintel_rule_task_title(?1) AS title,"
                        " lintel_rule_task_description(?2) AS description",
                        "ss?", title, description) != 0)
        return;
    for (i = 0; i < 2; i++) {
        verdict = json_string_value(json_object_get(j_row, fields[i]));
        if (verdict == NULL)
            continue;
        snprintf(msg, sizeof(msg), "Value error, %s %s", fields[i], verdict);
        compat_item(j_items, "value_error", json_pack("[ss]", "body", fields[i]), msg,
                    json_string(i == 0 ? title : description), json_pack("{s{}}", "error"));
    }
    json_decref(j_row);
}

/* GET /tasks -> the caller's tasks, oldest first */
static int tasks_list(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_res_rows(req, res,
                           "SELECT " TASKS_COLUMNS " FROM tasks WHERE user_id = ?1 ORDER BY id",
                           json_pack("[I]", (json_int_t)lintel_req_user_id(req)));
}

/* Publishes the task as lintel's tasks plugin does, for /api/ws clients. */
static void tasks_event(lintel_req *req, const char *name, long long id)
{
    json_t *j_row = NULL;

    if (lintel_sql_rowf(req, &j_row, "SELECT " TASKS_EVENT_COLUMNS " FROM tasks WHERE id = ?1", "I",
                        (json_int_t)id) == 0)
        lintel_event_user(req, name, "task", j_row);
    json_decref(j_row);
}

/* POST /tasks {title, description?, completed?} -> 201 task; PUT /tasks/{id} -> 200 task */
static int tasks_write(lintel_req *req, lintel_res *res, int create)
{
    json_t *j_items = json_array(), *j_body = NULL, *j_row = NULL;
    const char *title = NULL, *description = NULL;
    long long id = 0;
    int rc, completed = 0, id_ok = 1;

    if (j_items == NULL)
        return LINTEL_ENOMEM;
    if (!create)
        id_ok = compat_path_int(req, "task_id", j_items, &id) == 0;
    rc = compat_body(req, j_items, &j_body);
    if (rc == 0)
        tasks_fields(j_body, j_items, &title, &description, &completed);
    if (json_array_size(j_items) == 0)
        tasks_rules(req, j_items, title, description);
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        goto cleanup;
    }
    if (!id_ok || (!create && id <= 0)) {
        rc = compat_detail(res, 404, "Task not found");
        goto cleanup;
    }
    /* the rules of the extension (the table's CHECKs) decide; a refusal is a 422 on the field */
    if (create)
        rc = lintel_sql_rowf(
            req, &j_row,
            "INSERT INTO tasks (user_id, title, description, done)"
            " VALUES (?1, trim(?2, " TASKS_WS "), ?3, ?4) RETURNING " TASKS_COLUMNS,
            "Iss?b", (json_int_t)lintel_req_user_id(req), title, description, completed);
    else
        rc = lintel_sql_rowf(req, &j_row,
                             "UPDATE tasks SET title = trim(?3, " TASKS_WS "), description = ?4,"
                             " done = ?5,"
                             " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                             " WHERE id = ?1 AND user_id = ?2 RETURNING " TASKS_COLUMNS,
                             "IIss?b", (json_int_t)id, (json_int_t)lintel_req_user_id(req), title,
                             description, completed);
    if (rc == LINTEL_ENOTFOUND) {
        rc = compat_detail(res, 404, "Task not found");
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json(res, create ? 201 : 200, j_row);
    if (rc == 0)
        tasks_event(req, create ? "task.created" : "task.updated",
                    (long long)json_integer_value(json_object_get(j_row, "id")));
cleanup:
    json_decref(j_row);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

static int tasks_create(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return tasks_write(req, res, 1);
}

static int tasks_update(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return tasks_write(req, res, 0);
}

/* GET /tasks/{task_id} -> the task, or 404 {"detail": "Task not found"} (others' tasks too) */
static int tasks_get(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_row = NULL;
    long long id;
    int rc;

    (void)state;
    rc = compat_path_id(req, res, "task_id", &id);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT " TASKS_COLUMNS " FROM tasks WHERE id = ?1 AND user_id = ?2", "II",
                         (json_int_t)id, (json_int_t)lintel_req_user_id(req));
    if (rc == LINTEL_ENOTFOUND)
        rc = compat_detail(res, 404, "Task not found");
    else if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    json_decref(j_row);
    return rc;
}

/* DELETE /tasks/{task_id} -> 204 */
static int tasks_delete(lintel_req *req, lintel_res *res, void *state)
{
    long long id;
    int rc;

    (void)state;
    rc = compat_path_id(req, res, "task_id", &id);
    if (rc != 0)
        return rc > 0 ? 0 : rc;
    rc = lintel_delete_owned_id(req, "tasks", id, "task.deleted");
    if (rc == LINTEL_ENOTFOUND)
        return compat_detail(res, 404, "Task not found");
    return rc == 0 ? lintel_res_empty(res, 204) : rc;
}

/* A task and a user as the seed answers them. */
#define CTASKS_TASK                                                                                \
    "{\"title\":\"SeedTask\",\"type\":\"object\",\"required\":[\"id\",\"title\",\"completed\","    \
    "\"owner_id\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID                                       \
    "," COMPAT_STR("title") ",\"description\":{\"type\":[\"string\",\"null\"]},"                   \
                            "\"completed\":" LINTEL_SCHEMA_BOOLEAN                                 \
                            ",\"owner_id\":" LINTEL_SCHEMA_ID "}}"
#define CTASKS_USER                                                                                \
    "{\"title\":\"SeedUser\",\"type\":\"object\",\"required\":[\"id\",\"username\"],"              \
    "\"properties\":{\"id\":" LINTEL_SCHEMA_ID "," COMPAT_STR("username") "}}"
#define CTASKS_BODY                                                                                \
    COMPAT_OBJ("\"title\"", COMPAT_STR("title") ",\"description\":{\"type\":[\"string\","          \
                                                "\"null\"]},\"completed\":" LINTEL_SCHEMA_BOOLEAN)
#define CTASKS_REPLIES(...) LINTEL_REPLIES(__VA_ARGS__, COMPAT_FASTAPI_ERRORS)

static const struct lintel_route tasks_routes[] = {
    {.method = "POST",
     .path = "/users",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = tasks_user_new,
     .summary = "Seed 004: create a user {username, password}",
     .body_schema = COMPAT_CREDENTIALS("username"),
     .example = "{\"username\": \"testuser\", \"password\": \"test1234\"}",
     .replies = CTASKS_REPLIES({201, "The user", CTASKS_USER, NULL})},
    {.method = "GET",
     .path = "/users",
     .handler = tasks_users,
     .summary = "Seed 004: the users {id, username}",
     .replies = CTASKS_REPLIES(
         {200, "Every user", "{\"type\":\"array\",\"items\":" CTASKS_USER "}", NULL})},
    {.method = "POST",
     .path = "/auth/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW | LINTEL_ROUTE_FORM,
     .handler = tasks_login,
     .summary = "Seed 004: log in (JSON or OAuth2 form)",
     .body_schema = COMPAT_CREDENTIALS("username"),
     .example = "{\"username\": \"testuser\", \"password\": \"test1234\"}",
     .replies = CTASKS_REPLIES({200, "A bearer token", COMPAT_TOKEN, NULL})},
    {.method = "POST",
     .path = "/tasks",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "tasks:write",
     .handler = tasks_create,
     .summary = "Seed 004: create a task",
     .body_schema = CTASKS_BODY,
     .example = "{\"title\": \"Buy milk\", \"description\": \"2 litres\"}",
     .replies = CTASKS_REPLIES({201, "The task", CTASKS_TASK, NULL})},
    {.method = "GET",
     .path = "/tasks",
     .scope = "tasks:read",
     .handler = tasks_list,
     .summary = "Seed 004: the caller's tasks",
     .replies = CTASKS_REPLIES(
         {200, "The tasks", "{\"type\":\"array\",\"items\":" CTASKS_TASK "}", NULL})},
    {.method = "GET",
     .path = "/tasks/{task_id}",
     .scope = "tasks:read",
     .handler = tasks_get,
     .summary = "Seed 004: one task",
     .replies = CTASKS_REPLIES({200, "The task", CTASKS_TASK, NULL})},
    {.method = "PUT",
     .path = "/tasks/{task_id}",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "tasks:write",
     .handler = tasks_update,
     .summary = "Seed 004: replace a task",
     .body_schema = CTASKS_BODY,
     .example = "{\"title\": \"Buy milk\", \"completed\": true}",
     .replies = CTASKS_REPLIES({200, "The task", CTASKS_TASK, NULL})},
    {.method = "DELETE",
     .path = "/tasks/{task_id}",
     .scope = "tasks:write",
     .handler = tasks_delete,
     .summary = "Seed 004: delete a task",
     .replies = CTASKS_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_KIT_DECLARE(p, api, "compat_tasks", "0.2.0");
    return compat_profile(p, NULL, compat_fastapi_render, &tasks_errors, tasks_routes,
                          LINTEL_COUNT(tasks_routes), NULL);
}
