/*
 * The auth plugin: register, login (JSON or OAuth2 password form), refresh-token rotation with
 * reuse detection, logout. The host signs tokens and checks them; this decides when to issue.
 */
#include "gate.h"

#include <lintel/kit.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

LINTEL_KIT_INIT;

struct authp {
    lintel_plugin *p;
    long long refresh_ttl;
    struct authp_gate gate; /* registration modes and throttle (gate.c) */
};

/*
 * A 401 of this plugin (a wrong password, a bad refresh token). RFC 9110 requires a challenge
 * on every 401; the host adds it only on the routes it authenticates itself.
 */
static int authp_unauthorized(lintel_res *res, int rc, const char *detail)
{
    lintel_res_header(res, "WWW-Authenticate", "Bearer");
    return lintel_res_error(res, rc, NULL, "%s", detail);
}

/* A reply carrying tokens must never be stored by a cache (RFC 6749 section 5.1). */
static int authp_tokens_reply(lintel_res *res, unsigned status, const json_t *j_out)
{
    lintel_res_header(res, "Cache-Control", "no-store");
    lintel_res_header(res, "Pragma", "no-cache");
    return lintel_res_json(res, status, j_out);
}

/* A string member of the body: required or optional; 422 naming it otherwise. */
static int authp_string(lintel_res *res, const json_t *j_body, const char *key, int required,
                        const char **out)
{
    json_t *j = json_object_get(j_body, key);

    *out = NULL;
    if (j == NULL || (json_is_null(j) && !required)) {
        if (required)
            return lintel_res_invalid(res, key, "is required");
        return 0;
    }
    if (!json_is_string(j))
        return lintel_res_invalid(res, key, "must be a string");
    *out = json_string_value(j);
    return 0;
}

static int authp_body(lintel_req *req, lintel_res *res, json_t **j_body)
{
    int rc = lintel_req_json(req, j_body);

    if (rc != 0)
        return rc;
    if (!json_is_object(*j_body))
        return lintel_res_error(res, LINTEL_EPARAM, NULL, "The body must be a JSON object");
    return 0;
}

/* The words of scope that role still grants, space-separated. *out: malloc'd. */
static int authp_scope_within(lintel_req *req, const char *scope, const char *role, char **out)
{
    json_t *j_row = NULL;
    const char *kept;
    int rc;

    *out = NULL;
    rc = lintel_sql_rowf(req, &j_row, "SELECT lintel_scope_within(coalesce(?1, ''), ?2) AS scope",
                         "s?s?", scope, role);
    if (rc == 0) {
        kept = json_string_value(json_object_get(j_row, "scope"));
        *out = strdup(kept != NULL ? kept : "");
        rc = *out != NULL ? 0 : LINTEL_ENOMEM;
    }
    json_decref(j_row);
    return rc;
}

/* {access_token, token_type, expires_in, refresh_token, scope} for a session (new ref). */
static int authp_grant(lintel_req *req, long long user_id, const char *sid, const char *role,
                       const char *scope, const char *refresh, json_t **j_out)
{
    json_t *j_claims = NULL;
    char sub[32], *token = NULL;
    long long expires_in = 0;
    int rc;

    *j_out = NULL;
    snprintf(sub, sizeof(sub), "%lld", user_id);
    j_claims = json_pack("{ss ss ss ss}", "sub", sub, "sid", sid, "role", role, "scope", scope);
    if (j_claims == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_token_issue(req, j_claims, &token, &expires_in);
    if (rc == 0) {
        *j_out = json_pack("{ss ss sI ss ss}", "access_token", token, "token_type", "bearer",
                           "expires_in", (json_int_t)expires_in, "refresh_token", refresh, "scope",
                           scope);
        rc = *j_out != NULL ? 0 : LINTEL_ENOMEM;
    }
    lintel_free(token);
    json_decref(j_claims);
    return rc;
}

/*
 * POST /api/auth/login: JSON {username, password, scope?} or form grant_type=password&...
 * The login itself (lockout, verification, session, tokens) is the host's api->login.
 */
static int authp_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_login = NULL, *j_out = NULL;
    struct lintel_login in = {0};
    const char *grant = NULL;
    int rc;

    (void)state;
    rc = authp_body(req, res, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = authp_string(res, j_body, "grant_type", 0, &grant);
    if (rc == 0 && grant != NULL && strcmp(grant, "password") != 0)
        rc = lintel_res_invalid(res, "grant_type", "must be password");
    if (rc == 0)
        rc = authp_string(res, j_body, "username", 1, &in.login);
    if (rc == 0)
        rc = authp_string(res, j_body, "password", 1, &in.password);
    if (rc == 0)
        rc = authp_string(res, j_body, "scope", 0, &in.scope);
    if (rc != 0)
        goto cleanup;
    rc = lintel_login(req, &in, &j_login);
    if (rc == LINTEL_EAUTH)
        lintel_res_header(res, "WWW-Authenticate", "Bearer");
    if (rc != 0)
        goto cleanup;
    j_out = json_pack("{sO ss sO sO sO}", "access_token", json_object_get(j_login, "access_token"),
                      "token_type", "bearer", "expires_in", json_object_get(j_login, "expires_in"),
                      "refresh_token", json_object_get(j_login, "refresh_token"), "scope",
                      json_object_get(j_login, "scope"));
    rc = j_out != NULL ? authp_tokens_reply(res, 200, j_out) : LINTEL_ENOMEM;
cleanup:
    json_decref(j_out);
    json_decref(j_login);
    json_decref(j_body);
    return rc;
}

/* POST /api/auth/register {username, password, email?} -> 201 {user, tokens...} */
static int authp_register(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_user = NULL, *j_login = NULL, *j_out = NULL;
    struct lintel_user_new in = {0};
    struct authp *a = state;
    const char *invite = NULL;
    long long user_id = 0;
    int rc, bad = 0;

    rc = authp_body(req, res, &j_body);
    if (rc == 0)
        rc = authp_gate_register(&a->gate, req, res, j_body, &invite);
    if (rc != 0)
        goto cleanup;
    /* Every bad field is reported, not just the first. */
    if (authp_string(res, j_body, "username", 1, &in.username) != 0)
        bad = 1;
    if (authp_string(res, j_body, "password", 1, &in.password) != 0)
        bad = 1;
    if (authp_string(res, j_body, "email", 0, &in.email) != 0)
        bad = 1;
    if (bad) {
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    rc = lintel_user_create(req, &in, &j_user);
    if (rc == 0)
        user_id = (long long)json_integer_value(json_object_get(j_user, "id"));
    authp_gate_registered(&a->gate, req, invite, rc == 0 ? user_id : 0);
    if (rc != 0)
        goto cleanup;
    rc = lintel_session_start(req, user_id, NULL, &j_login);
    if (rc != 0)
        goto cleanup;
    if (json_object_set_new(j_user, "avatar_url", json_null()) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    j_out =
        json_pack("{sO ss sO sO sO sO}", "access_token", json_object_get(j_login, "access_token"),
                  "token_type", "bearer", "expires_in", json_object_get(j_login, "expires_in"),
                  "refresh_token", json_object_get(j_login, "refresh_token"), "scope",
                  json_object_get(j_login, "scope"), "user", j_user);
    if (j_out == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    {
        char location[64];
        snprintf(location, sizeof(location), "/api/users/%lld", user_id);
        lintel_res_header(res, "Location", location);
    }
    rc = authp_tokens_reply(res, 201, j_out);
cleanup:
    json_decref(j_out);
    json_decref(j_login);
    json_decref(j_user);
    json_decref(j_body);
    return rc;
}

static int authp_refresh_refused(lintel_res *res)
{
    return authp_unauthorized(res, LINTEL_ETOKEN, "Invalid or expired refresh token");
}

/* POST /api/auth/refresh: JSON {refresh_token} or form grant_type=refresh_token&... */
static int authp_refresh(lintel_req *req, lintel_res *res, void *state)
{
    struct authp *a = state;
    json_t *j_body = NULL, *j_row = NULL, *j_out = NULL;
    const char *presented = NULL, *grant = NULL, *sid, *role;
    char *next = NULL, *scope = NULL;
    long long user_id = 0;
    int rc, in_tx = 0, reused = 0;

    rc = authp_body(req, res, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = authp_string(res, j_body, "grant_type", 0, &grant);
    if (rc == 0 && grant != NULL && strcmp(grant, "refresh_token") != 0)
        rc = lintel_res_invalid(res, "grant_type", "must be refresh_token");
    if (rc == 0)
        rc = authp_string(res, j_body, "refresh_token", 1, &presented);
    if (rc == 0)
        rc = lintel_random_token(32, &next);
    if (rc != 0)
        goto cleanup;
    /* One write transaction: of two concurrent uses of one token, exactly one wins. */
    rc = lintel_sql_begin(req);
    if (rc != 0)
        goto cleanup;
    in_tx = 1;
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT t.session_id AS sid, t.used_at IS NOT NULL AS used,"
                         " t.expires_at <= unixepoch() AS expired, s.ended_at IS NOT NULL AS ended,"
                         " s.user_id AS user_id, s.scope AS scope, u.role AS role,"
                         " u.deleted_at IS NOT NULL AS deleted"
                         " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
                         " JOIN users u ON u.id = s.user_id WHERE t.hash = lintel_sha256_hex(?1)",
                         "s", presented);
    if (rc == LINTEL_ENOTFOUND) {
        rc = authp_refresh_refused(res);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    sid = json_string_value(json_object_get(j_row, "sid"));
    user_id = (long long)json_integer_value(json_object_get(j_row, "user_id"));
    role = json_string_value(json_object_get(j_row, "role"));
    if (json_integer_value(json_object_get(j_row, "used")) != 0) {
        /* A rotated token came back: it was copied. End the whole family (the session). */
        reused = json_integer_value(json_object_get(j_row, "ended")) == 0;
        rc = lintel_sql_execf(
            req, NULL,
            "UPDATE sessions SET ended_at = unixepoch(),"
            " end_reason = 'refresh token reuse' WHERE id = ?1 AND ended_at IS NULL",
            "s", sid);
        if (rc == 0)
            rc = lintel_sql_commit(req);
        in_tx = 0;
        if (reused)
            lintel_log(a->p, LINTEL_LOG_WARNING,
                       "refresh token reused for user %lld: session ended", user_id);
        if (rc == 0)
            rc = authp_refresh_refused(res);
        goto cleanup;
    }
    if (json_integer_value(json_object_get(j_row, "expired")) != 0 ||
        json_integer_value(json_object_get(j_row, "ended")) != 0 ||
        json_integer_value(json_object_get(j_row, "deleted")) != 0) {
        rc = authp_refresh_refused(res);
        goto cleanup;
    }
    rc = lintel_sql_execf(req, NULL,
                          "UPDATE refresh_tokens SET used_at = unixepoch()"
                          " WHERE hash = lintel_sha256_hex(?1) AND used_at IS NULL",
                          "s", presented);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "INSERT INTO refresh_tokens (hash, session_id, expires_at)"
                              " VALUES (lintel_sha256_hex(?1), ?2, unixepoch() + ?3)",
                              "ssI", next, sid, (json_int_t)a->refresh_ttl);
    if (rc == 0)
        rc = lintel_sql_commit(req);
    if (rc != 0)
        goto cleanup;
    in_tx = 0;
    /* The session keeps its scope, less whatever the role no longer grants. */
    rc = authp_scope_within(req, json_string_value(json_object_get(j_row, "scope")), role, &scope);
    if (rc == 0)
        rc = authp_grant(req, user_id, sid, role, scope, next, &j_out);
    if (rc == 0)
        rc = authp_tokens_reply(res, 200, j_out);
cleanup:
    if (in_tx)
        lintel_sql_rollback(req);
    free(scope);
    lintel_free(next);
    json_decref(j_out);
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* POST /api/auth/logout -> 204: this token, its session and its refresh family end now. */
static int authp_logout(lintel_req *req, lintel_res *res, void *state)
{
    const json_t *j_claims = lintel_req_claims(req);
    const char *sid = json_string_value(json_object_get(j_claims, "sid"));
    const char *jti = json_string_value(json_object_get(j_claims, "jti"));
    json_t *j_exp = json_object_get(j_claims, "exp");
    long long user_id = lintel_req_user_id(req);
    int rc;

    (void)state;
    if (sid == NULL || jti == NULL || user_id <= 0)
        return LINTEL_ETOKEN;
    rc = lintel_sql_begin(req);
    if (rc != 0)
        return rc;
    rc = lintel_sql_execf(req, NULL, "DELETE FROM revoked_jtis WHERE expires_at < unixepoch() - 60",
                          "");
    if (rc == 0)
        rc = lintel_sql_execf(
            req, NULL, "INSERT OR IGNORE INTO revoked_jtis (jti, expires_at) VALUES (?1, ?2)", "sI",
            jti, json_integer_value(j_exp));
    if (rc == 0)
        rc = lintel_session_end(req, user_id, sid, NULL);
    rc = lintel_sql_end(req, rc);
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
    return rc;
}

static const struct lintel_route authp_routes[] = {
    {.method = "POST",
     .path = "/api/auth/register",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = authp_register,
     .summary = "Create an account",
     .body_schema = "{\"type\":\"object\",\"required\":[\"username\",\"password\"],"
                    "\"properties\":{\"username\":{\"type\":\"string\",\"minLength\":3,"
                    "\"maxLength\":64},\"password\":{\"type\":\"string\",\"maxLength\":128},"
                    "\"email\":" LINTEL_SCHEMA_STRING ",\"invite\":" LINTEL_SCHEMA_STRING "}}",
     .example = "{\"username\": \"alice\", \"password\": \"correct horse battery\"}",
     .replies = LINTEL_REPLIES(
         {201, "The user and a first session's tokens", LINTEL_SCHEMA_TOKENS, NULL})},
    {.method = "POST",
     .path = "/api/auth/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_FORM,
     .handler = authp_login,
     .summary = "Log in (JSON or OAuth2 password form)",
     .body_schema =
         "{\"type\":\"object\",\"required\":[\"username\",\"password\"],"
         "\"properties\":{\"username\":" LINTEL_SCHEMA_STRING ",\"password\":" LINTEL_SCHEMA_STRING
         ",\"scope\":{\"type\":\"string\",\"description\":"
         "\"Fewer scopes than the role has, space-separated\"},\"grant_type\":"
         "{\"const\":\"password\"}}}",
     .example = "{\"username\": \"alice\", \"password\": \"correct horse battery\"}",
     .replies = LINTEL_REPLIES({200, "The session's tokens", LINTEL_SCHEMA_TOKENS, NULL})},
    {.method = "POST",
     .path = "/api/auth/refresh",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_FORM,
     .handler = authp_refresh,
     .summary = "Trade a refresh token for new tokens",
     .body_schema = "{\"type\":\"object\",\"required\":[\"refresh_token\"],\"properties\":{"
                    "\"refresh_token\":" LINTEL_SCHEMA_STRING ",\"grant_type\":{\"const\":"
                    "\"refresh_token\"}}}",
     .example = "{\"refresh_token\": \"the refresh_token of the last login or refresh\"}",
     .replies = LINTEL_REPLIES(
         {200, "New tokens (the old refresh token is spent)", LINTEL_SCHEMA_TOKENS, NULL})},
    {.method = "POST",
     .path = "/api/auth/logout",
     .handler = authp_logout,
     .summary = "End the session",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

static void authp_unload(void *state)
{
    struct authp *a = state;

    if (a == NULL)
        return;
    free(a);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct authp *a = NULL;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "auth", "1.0.0");
    (void)config;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return LINTEL_ENOMEM;
    a->p = p;
    rc = lintel_on_unload(p, authp_unload, a);
    if (rc != 0) {
        authp_unload(a);
        return rc;
    }
    /* The host's validated settings: no default or bound of its own here. */
    rc = lintel_setting_int(p, "refresh_ttl", &a->refresh_ttl);
    if (rc == 0)
        rc = authp_gate_init(&a->gate, p);
    if (rc == 0)
        rc = lintel_routes_add(p, authp_routes, LINTEL_COUNT(authp_routes), a);
    return rc;
}
