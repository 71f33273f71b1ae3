/*
 * The users plugin: the caller's profile (/api/users/me), the user list, and administration of
 * any account (/api/users/{id}). Rules come from the extension; sessions end through the host.
 */
#include <lintel/kit.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

/*
 * The user record (api.md "User"). avatar_url comes from the core avatars table (one row per
 * user with an avatar; plugins/avatars keeps it): a subquery, so the same text serves a SELECT
 * FROM users and an UPDATE users ... RETURNING.
 */
#define USERS_COLS                                                                                 \
    "id, username, email, role, created_at, updated_at,"                                           \
    " (SELECT '/api/users/' || a.user_id || '/avatar?v=' || a.version FROM avatars a"              \
    " WHERE a.user_id = users.id) AS avatar_url"
#define USERS_NOW    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define USERS_WINDOW 900

struct users {
    lintel_plugin *p;
    long long password_min, password_cost, max_user;
};

/*
 * What a PATCH asks for, validated: NULL members are left as they are. The strings are borrowed
 * from the request body and from j_rules and j_hash, which the change owns (users_change_clear).
 */
struct users_change {
    const char *username;
    int email_set; /* email present (a string or null) */
    const char *email;
    const char *password;
    const char *role;
    const char *hash; /* password's hash (users_hash), borrowed from j_hash */
    json_t *j_rules;  /* the rules' verdicts and the normalized email (users_validate) */
    json_t *j_hash;
};

static void users_change_clear(struct users_change *c)
{
    json_decref(c->j_rules);
    json_decref(c->j_hash);
    c->j_rules = c->j_hash = NULL;
}

/*
 * The user a route acts on: the path's {id} on the admin routes (/api/users/{id}), the caller
 * on /api/users/me. 0, or the 404 "User not found" of a malformed id (recorded).
 */
static int users_target(lintel_req *req, long long *id)
{
    *id = lintel_req_user_id(req);
    if (lintel_req_param(req, "id") == NULL)
        return 0;
    return lintel_req_id(req, "id", "User", id);
}

/* The live (not deleted) user id as {role} (*j_row, new reference), else the 404 recorded. */
static int users_live(lintel_req *req, lintel_res *res, long long id, json_t **j_row)
{
    return lintel_not_found(res,
                            lintel_sql_rowf(req, j_row,
                                            "SELECT role FROM users WHERE id = ?1"
                                            " AND deleted_at IS NULL",
                                            "I", (json_int_t)id),
                            "User");
}

/* A string (or, with nullable, null) member; *present says whether the key was there. */
static int users_string(lintel_res *res, const json_t *j_body, const char *key, int nullable,
                        const char **out, int *present)
{
    json_t *j = json_object_get(j_body, key);

    *out = NULL;
    *present = j != NULL;
    if (j == NULL || (nullable && json_is_null(j)))
        return 0;
    if (!json_is_string(j))
        return lintel_res_invalid(res, key, "%s",
                                  nullable ? "must be a string or null" : "must be a string");
    *out = json_string_value(j);
    return 0;
}

/*
 * Validates the writable fields of j_body for user id (allowed: a mask of which ones) with the
 * extension's rules and uniqueness; every bad field is reported. c is cleared first.
 */
static int users_validate(struct users *u, lintel_req *req, lintel_res *res, long long id,
                          const json_t *j_body, int allow_username, int allow_role,
                          struct users_change *c)
{
    json_t *j_taken = NULL;
    const char *msg;
    int present, rc = 0, bad = 0;

    users_change_clear(c);
    memset(c, 0, sizeof(*c));
    if (!json_is_object(j_body))
        return lintel_res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
    if (allow_username && users_string(res, j_body, "username", 0, &c->username, &present))
        bad = 1;
    if (users_string(res, j_body, "email", 1, &c->email, &c->email_set))
        bad = 1;
    if (users_string(res, j_body, "password", 0, &c->password, &present))
        bad = 1;
    if (allow_role && users_string(res, j_body, "role", 0, &c->role, &present))
        bad = 1;
    if (c->role != NULL && strcmp(c->role, "user") != 0 && strcmp(c->role, "admin") != 0) {
        lintel_res_invalid(res, "role", "must be user or admin");
        bad = 1;
    }
    rc =
        lintel_sql_rowf(req, &c->j_rules,
                        "SELECT lintel_rule_username(?1) AS username,"
                        " lintel_rule_password(?2, ?3) AS password,"
                        " lintel_rule_email(?4) AS email, lintel_email_normalize(?4) AS normalized",
                        "s?s?Is?", c->username, c->password, (json_int_t)u->password_min, c->email);
    if (rc != 0)
        return rc;
    if (c->username != NULL && (msg = json_string_value(json_object_get(c->j_rules, "username")))) {
        lintel_res_invalid(res, "username", "%s", msg);
        bad = 1;
    }
    if (c->password != NULL && (msg = json_string_value(json_object_get(c->j_rules, "password")))) {
        lintel_res_invalid(res, "password", "%s", msg);
        bad = 1;
    }
    if (c->email != NULL && (msg = json_string_value(json_object_get(c->j_rules, "email")))) {
        lintel_res_invalid(res, "email", "%s", msg);
        bad = 1;
    }
    if (bad)
        return LINTEL_EPARAM;
    if (c->email != NULL)
        c->email = json_string_value(json_object_get(c->j_rules, "normalized"));
    rc = lintel_sql_rowf(req, &j_taken,
                         "SELECT (?1 IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE id <> ?3"
                         " AND username = ?1 COLLATE NOCASE)) AS u,"
                         " (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE id <> ?3"
                         " AND email = ?2 COLLATE NOCASE)) AS e",
                         "s?s?I", c->username, c->email, (json_int_t)id);
    if (rc == 0 && json_integer_value(json_object_get(j_taken, "u")) != 0)
        rc = lintel_res_error(res, LINTEL_ECONFLICT, "username", "Username '%s' is taken",
                              c->username);
    else if (rc == 0 && json_integer_value(json_object_get(j_taken, "e")) != 0)
        rc = lintel_res_error(res, LINTEL_ECONFLICT, "email", "Email is already registered");
    json_decref(j_taken);
    return rc;
}

/* 409 when id is the last admin and the change would leave none. */
static int users_last_admin(lintel_req *req, lintel_res *res, long long id)
{
    json_t *j_row = NULL;
    int rc;

    rc = lintel_sql_rowf(
        req, &j_row,
        "SELECT (SELECT role FROM users WHERE id = ?1 AND deleted_at IS NULL) = 'admin' AND"
        " (SELECT count(*) FROM users WHERE role = 'admin' AND deleted_at IS NULL)"
        " <= 1 AS last",
        "I", (json_int_t)id);
    if (rc == 0 && json_integer_value(json_object_get(j_row, "last")) != 0)
        rc = lintel_res_error(res, LINTEL_ECONFLICT, NULL,
                              "This is the last admin; make another admin first");
    json_decref(j_row);
    return rc;
}

/* Hashes c's new password, if any, into c->hash (c->j_hash keeps it). */
static int users_hash(struct users *u, lintel_req *req, struct users_change *c)
{
    if (c->password == NULL)
        return 0;
    return lintel_password_hash_new(req, c->password, u->password_cost, &c->j_hash, &c->hash);
}

/* Applies c to user id in the open transaction and returns the user (*j_user new ref). */
static int users_apply(lintel_req *req, lintel_res *res, long long id, const struct users_change *c,
                       json_t **j_user)
{
    int rc;

    rc = lintel_sql_rowf(req, j_user,
                         "UPDATE users SET username = coalesce(?2, username),"
                         " email = CASE WHEN ?3 THEN ?4 ELSE email END,"
                         " password_hash = coalesce(?5, password_hash),"
                         " role = coalesce(?6, role),"
                         /* a PATCH that changes nothing leaves updated_at alone (as tasks do) */
                         " updated_at = CASE WHEN coalesce(?2, username) IS NOT username"
                         " OR (?3 AND ?4 IS NOT email) OR ?5 IS NOT NULL"
                         " OR coalesce(?6, role) IS NOT role THEN " USERS_NOW " ELSE updated_at END"
                         " WHERE id = ?1 AND deleted_at IS NULL RETURNING " USERS_COLS,
                         "Is?bs?s?s?", (json_int_t)id, c->username, c->email_set, c->email, c->hash,
                         c->role);
    return lintel_not_found(res, rc, "User");
}

/*
 * The write of a PATCH, in one transaction: a role change away from admin must leave an admin;
 * applies c, ends the user's sessions (all but keep_sid) when end_sessions, commits (or rolls
 * back), and replies 200 with the user.
 */
static int users_write(lintel_req *req, lintel_res *res, long long id, const struct users_change *c,
                       bool end_sessions, const char *keep_sid)
{
    json_t *j_user = NULL;
    int rc = lintel_sql_begin(req);

    if (rc != 0)
        return rc;
    if (c->role != NULL && strcmp(c->role, "admin") != 0)
        rc = users_last_admin(req, res, id);
    if (rc == 0)
        rc = users_apply(req, res, id, c, &j_user);
    if (rc == 0 && end_sessions)
        rc = lintel_session_end(req, id, NULL, keep_sid);
    rc = lintel_sql_end(req, rc);
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_user);
    json_decref(j_user);
    return rc;
}

/* GET /api/users/me, and GET /api/users/{id} for admins */
static int users_get(lintel_req *req, lintel_res *res, void *state)
{
    long long id;
    int rc = users_target(req, &id);

    (void)state;
    /* res_rowf: the row is written as it is read ("User not found" when there is none) */
    if (rc == 0)
        rc =
            lintel_res_rowf(req, res, 200, "User",
                            "SELECT " USERS_COLS " FROM users WHERE id = ?1 AND deleted_at IS NULL",
                            "I", (json_int_t)id);
    return rc;
}

/* 429 while the user's failed password checks are at the login limit (same table as login). */
static int users_locked(struct users *u, lintel_req *req, lintel_res *res, const char *username)
{
    json_t *j_row = NULL;
    int rc;

    if (u->max_user <= 0)
        return 0;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT count(*) AS n FROM login_failures WHERE username = ?1"
                         " AND at > unixepoch() - ?2",
                         "sI", username, (json_int_t)USERS_WINDOW);
    if (rc == 0 && json_integer_value(json_object_get(j_row, "n")) >= u->max_user) {
        lintel_res_header(res, "Retry-After", "900");
        rc = lintel_res_error(res, LINTEL_ERATELIMIT, NULL,
                              "Too many wrong passwords; try again later");
    }
    json_decref(j_row);
    return rc;
}

/*
 * A new password needs the current one: 403 without it or when it is wrong (a stolen access
 * token alone cannot take the account over), and wrong guesses count like failed logins.
 */
static int users_check_current(struct users *u, lintel_req *req, lintel_res *res,
                               const json_t *j_body, long long id)
{
    json_t *j_cur = json_object_get(j_body, "current_password"), *j_row = NULL;
    const char *username;
    int rc;

    if (!json_is_string(j_cur))
        return lintel_res_error(res, LINTEL_EFORBIDDEN, "current_password",
                                "current_password is required to change the email or password");
    rc = lintel_sql_rowf(req, &j_row, "SELECT username, password_hash FROM users WHERE id = ?1",
                         "I", (json_int_t)id);
    if (rc != 0)
        goto cleanup;
    username = json_string_value(json_object_get(j_row, "username"));
    rc = users_locked(u, req, res, username);
    if (rc != 0)
        goto cleanup;
    rc = lintel_heavy_begin(req);
    if (rc != 0)
        goto cleanup;
    {
        json_t *j_ok = NULL;
        rc = lintel_sql_rowf(req, &j_ok, "SELECT lintel_password_verify(?1, ?2) AS ok", "sO",
                             json_string_value(j_cur), json_object_get(j_row, "password_hash"));
        lintel_heavy_end(req);
        if (rc == 0 && json_integer_value(json_object_get(j_ok, "ok")) != 1) {
            rc = lintel_sql_execf(req, NULL,
                                  "INSERT INTO login_failures (username, addr) VALUES (?1, ?2)",
                                  "ss", username, "password-change");
            if (rc == 0)
                rc = lintel_res_error(res, LINTEL_EFORBIDDEN, "current_password",
                                      "current_password is wrong");
        }
        json_decref(j_ok);
    }
cleanup:
    json_decref(j_row);
    return rc;
}

/* PATCH /api/users/me {username?, email?, password?, current_password?} */
static int users_me_patch(lintel_req *req, lintel_res *res, void *state)
{
    struct users *u = state;
    json_t *j_body = NULL, *j_role;
    const json_t *j_claims = lintel_req_claims(req);
    const char *role = json_string_value(json_object_get(j_claims, "role"));
    const char *sid = json_string_value(json_object_get(j_claims, "sid"));
    long long id = lintel_req_user_id(req);
    struct users_change c = {0};
    int rc;

    rc = lintel_req_json(req, &j_body);
    if (rc != 0)
        goto cleanup;
    /* The role is never the owner's to choose; echoing the current one back is harmless. */
    j_role = json_object_get(j_body, "role");
    if (j_role != NULL &&
        !(json_is_string(j_role) && role != NULL && strcmp(json_string_value(j_role), role) == 0)) {
        rc =
            lintel_res_error(res, LINTEL_EFORBIDDEN, "role", "role cannot be changed by its owner");
        goto cleanup;
    }
    rc = users_validate(u, req, res, id, j_body, 1, 0, &c);
    /* the address receives password-reset mails: changing it is as sensitive as the password */
    if (rc == 0 && (c.password != NULL || c.email_set))
        rc = users_check_current(u, req, res, j_body, id);
    if (rc == 0)
        rc = users_hash(u, req, &c);
    /* a new password: whoever else holds a session of this account is out */
    if (rc == 0)
        rc = users_write(req, res, id, &c, c.password != NULL, sid);
cleanup:
    users_change_clear(&c);
    json_decref(j_body);
    return rc;
}

/*
 * DELETE /api/users/me, and DELETE /api/users/{id} for admins: the host's account deletion
 * (the last admin stays), 204.
 */
static int users_delete(lintel_req *req, lintel_res *res, void *state)
{
    long long id;
    int rc = users_target(req, &id);

    (void)state;
    if (rc == 0)
        rc = lintel_user_delete(req, id);
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
    return rc;
}

/* GET /api/users: {id, username} for users, full records for admins. */
static int users_list(lintel_req *req, lintel_res *res, void *state)
{
    const json_t *j_claims = lintel_req_claims(req);
    const char *role = json_string_value(json_object_get(j_claims, "role"));
    const char *scope = json_string_value(json_object_get(j_claims, "scope"));
    /* full records (emails) only for a token that may administer users: an admin's token
       narrowed at login to, say, numbers:read sees what a user sees */
    json_t *j_admin = NULL;
    int rc, admin;

    (void)state;
    /* the extension's word test, the host's too */
    rc = lintel_sql_rowf(req, &j_admin,
                         "SELECT ?1 = 'admin' AND lintel_scope_has(?2, 'users:admin') AS a", "s?s?",
                         role, scope);
    admin = json_integer_value(json_object_get(j_admin, "a")) == 1;
    json_decref(j_admin);
    if (rc != 0)
        return rc;
    /* the page and its total as the kit counts them: {items, total, limit, offset} */
    return lintel_sql_list(req, res,
                           admin ? "SELECT " USERS_COLS " FROM users WHERE deleted_at IS NULL"
                                   " ORDER BY id"
                                 : "SELECT id, username FROM users WHERE deleted_at IS NULL"
                                   " ORDER BY id",
                           NULL);
}

/* PATCH /api/users/{id} {role?, password?, email?} (users:admin) */
static int users_admin_patch(lintel_req *req, lintel_res *res, void *state)
{
    struct users *u = state;
    json_t *j_body = NULL, *j_before = NULL;
    struct users_change c = {0};
    long long id = 0;
    int rc, ends;

    rc = lintel_req_id(req, "id", "User", &id);
    if (rc == 0)
        rc = lintel_req_json(req, &j_body);
    if (rc == 0)
        rc = users_live(req, res, id, &j_before);
    if (rc == 0)
        rc = users_validate(u, req, res, id, j_body, 0, 1, &c);
    if (rc != 0)
        goto cleanup;
    /* A reset password or a new role: every session of that user ends now. */
    ends = c.password != NULL ||
           (c.role != NULL &&
            strcmp(c.role, json_string_value(json_object_get(j_before, "role"))) != 0);
    rc = users_hash(u, req, &c);
    if (rc == 0)
        rc = users_write(req, res, id, &c, ends, NULL);
cleanup:
    users_change_clear(&c);
    json_decref(j_before);
    json_decref(j_body);
    return rc;
}

/* GET /api/users/{id}/sessions (users:admin): the user's open sessions, newest first. */
static int users_admin_sessions(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_user = NULL, *j_rows = NULL;
    long long id = 0;
    int rc;

    (void)state;
    rc = lintel_req_id(req, "id", "User", &id);
    if (rc == 0)
        rc = users_live(req, res, id, &j_user);
    if (rc == 0)
        rc = lintel_sql_queryf(
            req, &j_rows,
            "SELECT id, scope, strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') AS "
            "created_at, strftime('%Y-%m-%dT%H:%M:%SZ', last_used_at, 'unixepoch') AS "
            "last_used_at, client_addr, user_agent "
            "FROM sessions WHERE user_id = ?1 AND ended_at IS NULL "
            "ORDER BY sessions.created_at DESC, sessions.rowid DESC LIMIT 1000",
            "I", (json_int_t)id);
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_rows);
    json_decref(j_rows);
    json_decref(j_user);
    return rc;
}

/* DELETE /api/users/{id}/sessions/{sid} (users:admin): its tokens fail from the next request. */
static int users_admin_session_end(lintel_req *req, lintel_res *res, void *state)
{
    const char *sid = lintel_req_param(req, "sid");
    json_t *j_row = NULL;
    long long id = 0;
    int rc;

    (void)state;
    rc = lintel_req_id(req, "id", "User", &id);
    if (rc != 0)
        goto cleanup;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT s.id FROM sessions s JOIN users ON users.id = s.user_id "
                         "WHERE s.id = ?1 AND s.user_id = ?2 AND s.ended_at IS NULL "
                         "AND users.deleted_at IS NULL",
                         "sI", sid != NULL ? sid : "", (json_int_t)id);
    if (rc == LINTEL_ENOTFOUND)
        rc = lintel_res_error(res, LINTEL_ENOTFOUND, NULL,
                              "User %lld has no open session with that id", id);
    if (rc == 0)
        rc = lintel_session_end(req, id, sid, NULL);
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
cleanup:
    json_decref(j_row);
    return rc;
}

static void users_unload(void *state)
{
    struct users *u = state;

    if (u == NULL)
        return;
    free(u);
}

/* What every administration route is: for admins, with the users:admin scope. */
#define USERS_ADMIN .flags = LINTEL_ROUTE_ADMIN, .scope = "users:admin"

/* A session as GET /api/users/{id}/sessions lists it. */
#define USERS_SESSION                                                                              \
    "{\"title\":\"UserSession\",\"type\":\"object\",\"required\":[\"id\",\"created_at\"],"         \
    "\"properties\":{\"id\":" LINTEL_SCHEMA_STRING ",\"scope\":{\"type\":[\"string\",\"null\"]},"  \
    "\"created_at\":" LINTEL_SCHEMA_TIME ",\"last_used_at\":{\"type\":[\"string\",\"null\"]},"     \
    "\"client_addr\":{\"type\":[\"string\",\"null\"]},\"user_agent\":{\"type\":[\"string\","       \
    "\"null\"]}}}"
#define USERS_ME_BODY                                                                              \
    "{\"type\":\"object\",\"properties\":{\"username\":" LINTEL_SCHEMA_STRING ",\"email\":"        \
    "{\"type\":[\"string\",\"null\"]},\"password\":" LINTEL_SCHEMA_STRING                          \
    ",\"current_password\":{\"type\":\"string\",\"description\":\"For a new password or "          \
    "email\"}}}"
#define USERS_ADMIN_BODY                                                                           \
    "{\"type\":\"object\",\"properties\":{\"role\":{\"enum\":[\"user\",\"admin\"]},\"email\":"     \
    "{\"type\":[\"string\",\"null\"]},\"password\":" LINTEL_SCHEMA_STRING "}}"

static const struct lintel_route users_routes[] = {
    {.method = "GET",
     .path = "/api/users/me",
     .scope = "profile",
     .flags = LINTEL_ROUTE_CACHEABLE,
     .handler = users_get,
     .summary = "The signed-in user",
     .replies = LINTEL_REPLIES(
         {200, "The user", LINTEL_SCHEMA_USER,
          "{\"id\":2,\"username\":\"alice\",\"email\":\"alice@example.com\",\"role\":\"user\","
          "\"created_at\":\"2026-12-01T19:58:42Z\",\"updated_at\":\"2026-12-01T20:14:03Z\","
          "\"avatar_url\":\"/api/users/2/avatar?v=1796155117050\"}"})},
    {.method = "PATCH",
     .path = "/api/users/me",
     .scope = "profile",
     .handler = users_me_patch,
     .summary = "Change the signed-in user's username, email or password",
     .body_schema = USERS_ME_BODY,
     .example = "{\"email\": \"alice@example.com\"}",
     .replies = LINTEL_REPLIES({200, "The changed user", LINTEL_SCHEMA_USER, NULL})},
    {.method = "DELETE",
     .path = "/api/users/me",
     .scope = "profile",
     .handler = users_delete,
     .summary = "Delete the signed-in user's account and data",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "GET",
     .path = "/api/users",
     .handler = users_list,
     .summary = "Users: ids and names, or full records for admins",
     .query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS, {0}},
     .replies =
         LINTEL_REPLIES({200, "A page of users", LINTEL_SCHEMA_LIST(LINTEL_SCHEMA_USER),
                         "{\"items\":[{\"id\":1,\"username\":\"admin\"},{\"id\":2,\"username\":"
                         "\"alice\"}],\"total\":2,\"limit\":100,\"offset\":0}"})},
    {.method = "GET",
     .path = "/api/users/{id}",
     USERS_ADMIN,
     .handler = users_get,
     .summary = "One user (admin)",
     .replies = LINTEL_REPLIES({200, "The user", LINTEL_SCHEMA_USER,
                                "{\"id\":1,\"username\":\"admin\",\"email\":null,\"role\":"
                                "\"admin\",\"created_at\":\"2026-12-01T19:58:42Z\",\"updated_at\":"
                                "\"2026-12-01T19:58:42Z\",\"avatar_url\":null}"})},
    {.method = "PATCH",
     .path = "/api/users/{id}",
     USERS_ADMIN,
     .handler = users_admin_patch,
     .summary = "Change a user (admin)",
     .body_schema = USERS_ADMIN_BODY,
     .example = "{\"role\": \"admin\"}",
     .replies = LINTEL_REPLIES({200, "The changed user", LINTEL_SCHEMA_USER, NULL})},
    {.method = "DELETE",
     .path = "/api/users/{id}",
     USERS_ADMIN,
     .handler = users_delete,
     .summary = "Delete a user (admin)",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "GET",
     .path = "/api/users/{id}/sessions",
     USERS_ADMIN,
     .handler = users_admin_sessions,
     .summary = "A user's open sessions (admin)",
     .replies = LINTEL_REPLIES(
         {200, "Newest first", "{\"type\":\"array\",\"items\":" USERS_SESSION "}",
          "[{\"id\":\"yX3fjLDGVROLJ3sVqsi5sA\",\"scope\":\"numbers:read tasks:read "
          "profile\",\"created_at\":\"2026-12-01T19:58:42Z\",\"last_used_at\":\"2026-12-01T20:14:"
          "03Z\",\"client_addr\":\"192.0.2.10\",\"user_agent\":null}]"})},
    {.method = "DELETE",
     .path = "/api/users/{id}/sessions/{sid}",
     USERS_ADMIN,
     .handler = users_admin_session_end,
     .summary = "End one session of a user (admin)",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct users *u = NULL;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "users", "1.0.0");
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return LINTEL_ENOMEM;
    u->p = p;
    rc = lintel_on_unload(p, users_unload, u);
    if (rc != 0) {
        users_unload(u);
        return rc;
    }
    (void)config;
    rc = lintel_setting_int(p, "password_min", &u->password_min);
    if (rc == 0)
        rc = lintel_setting_int(p, "password_cost", &u->password_cost);
    if (rc == 0)
        rc = lintel_setting_int(p, "login_max_user", &u->max_user);
    if (rc == 0)
        rc = lintel_routes_add(p, users_routes, LINTEL_COUNT(users_routes), u);
    return rc;
}
