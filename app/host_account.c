/*
 * Accounts as host services (ABI 2.1): the password login that lintel's own auth plugin and
 * every compatibility profile share, so lockout, hashing, sessions and tokens exist once.
 */
#include "host_account.h"

#include "auth.h"
#include "config.h"
#include "db.h"
#include "host_api.h"
#include "user_new.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT_WINDOW     900 /* brute-force window, seconds (api.md: 15 minutes) */
#define ACCOUNT_DUMMY_PASS "lintel: no such user, spend the same time"

/* A hash of ACCOUNT_DUMMY_PASS at the configured cost, made on first need (malloc'd). */
static pthread_mutex_t account_dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char *account_dummy_hash;

void host_account_release(void)
{
    pthread_mutex_lock(&account_dummy_lock);
    free(account_dummy_hash);
    account_dummy_hash = NULL;
    pthread_mutex_unlock(&account_dummy_lock);
}

/* The dummy hash (borrowed until host_account_release), or NULL when it cannot be made. */
static const char *account_dummy(lintel_req *req)
{
    const struct lintel_api *api = host_api();
    json_t *j_row = NULL;

    pthread_mutex_lock(&account_dummy_lock);
    if (account_dummy_hash == NULL &&
        api->sql_rowf(req, &j_row, "SELECT lintel_password_hash(?1, ?2) AS h", "sI",
                      ACCOUNT_DUMMY_PASS, (json_int_t)req->cfg->password_cost) == 0) {
        const char *h = json_string_value(json_object_get(j_row, "h"));
        account_dummy_hash = h != NULL ? strdup(h) : NULL;
    }
    pthread_mutex_unlock(&account_dummy_lock);
    json_decref(j_row);
    return account_dummy_hash;
}

static const char *account_addr(lintel_req *req)
{
    const char *addr = host_api()->req_client_addr(req);

    return addr != NULL && addr[0] != '\0' ? addr : "unknown";
}

/*
 * Whether no page of another site could have made a browser send this login: its body is
 * application/json (or +json), which a browser sends cross-site only after a CORS preflight,
 * and it has no Origin, or one that cors_origins lists by name (with "*" every site passes
 * the preflight, so only a client without an Origin is trusted). A form post, or a body
 * without a Content-Type, is not: any page can submit one (docs/auth.md "Brute force").
 */
static bool account_trusted_channel(lintel_req *req)
{
    const struct lintel_api *api = host_api();
    const char *ct = api->req_header(req, "Content-Type");
    const char *origin = api->req_header(req, "Origin");
    char mt[128];
    size_t i = 0, n;

    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' && i + 1 < sizeof(mt); i++)
        mt[i] = (char)tolower((unsigned char)ct[i]);
    mt[i] = '\0';
    n = strlen(mt);
    if (strcmp(mt, "application/json") != 0 && (n <= 5 || strcmp(mt + n - 5, "+json") != 0))
        return false;
    if (origin == NULL)
        return true;
    return !req->cfg->cors_any && config_origin_allowed(req->cfg, origin);
}

/*
 * 429 when the login name or the client address has reached its limit of failures in the
 * window. Retry-After is when enough of them have aged out for one more try. A login through
 * a trusted channel counts only the name's trusted failures, so failures forged through other
 * people's browsers lock out forms only, never the app (docs/auth.md "Brute force").
 */
static int account_limited(lintel_req *req, const char *login, const char *addr, bool trusted)
{
    static const char *const sql[2] = {
        "WITH f AS (SELECT at FROM login_failures WHERE username = ?1"
        " AND (?4 = 0 OR trusted = 1)"
        " AND at > unixepoch() - ?2) SELECT (SELECT count(*) FROM f) AS n,"
        " (SELECT at FROM f ORDER BY at LIMIT 1 OFFSET max((SELECT count(*) FROM f) - ?3, 0))"
        " + ?2 - unixepoch() AS wait",
        "WITH f AS (SELECT at FROM login_failures WHERE addr = ?1"
        " AND at > unixepoch() - ?2) SELECT (SELECT count(*) FROM f) AS n,"
        " (SELECT at FROM f ORDER BY at LIMIT 1 OFFSET max((SELECT count(*) FROM f) - ?3, 0))"
        " + ?2 - unixepoch() AS wait"};
    const struct lintel_api *api = host_api();
    const char *keys[2] = {login, addr};
    long long limits[2] = {req->cfg->login_max_user, req->cfg->login_max_ip};
    json_t *j_row = NULL;
    char retry[32];
    long long wait;
    int i, rc = 0;

    for (i = 0; i < 2 && rc == 0; i++) {
        if (limits[i] <= 0)
            continue;
        rc = i == 0
                 ? api->sql_rowf(req, &j_row, sql[i], "sIII", keys[i], (json_int_t)ACCOUNT_WINDOW,
                                 (json_int_t)limits[i], (json_int_t)trusted)
                 : api->sql_rowf(req, &j_row, sql[i], "sII", keys[i], (json_int_t)ACCOUNT_WINDOW,
                                 (json_int_t)limits[i]);
        if (rc != 0)
            break;
        if (json_integer_value(json_object_get(j_row, "n")) >= limits[i]) {
            /* audited once per window and key, so a locked-out guesser cannot fill the table */
            rc = api->sql_execf(
                req, NULL,
                "INSERT INTO audit_events (action, user_id, addr, subject, new_value)"
                " SELECT 'login.locked', (SELECT id FROM users WHERE username = ?2"
                " COLLATE NOCASE), ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM"
                " audit_events WHERE action = 'login.locked' AND at > unixepoch() - ?4"
                " AND new_value = ?3 AND (CASE ?3 WHEN 'username'"
                " THEN subject = ?2 COLLATE NOCASE ELSE addr = ?1 END))",
                "sssI", addr, login, i == 0 ? "username" : "address", (json_int_t)ACCOUNT_WINDOW);
            wait = (long long)json_integer_value(json_object_get(j_row, "wait"));
            snprintf(retry, sizeof(retry), "%lld", wait < 1 ? 1 : wait);
            if (rc == 0)
                rc = api->res_header(&req->res, "Retry-After", retry);
            if (rc == 0)
                rc = api->res_error(&req->res, LINTEL_ERATELIMIT, NULL,
                                    "Too many failed logins; try again in %s seconds", retry);
        }
        json_decref(j_row);
        j_row = NULL;
    }
    return rc;
}

static int account_record_failure(lintel_req *req, const char *login, const char *addr,
                                  bool trusted)
{
    const struct lintel_api *api = host_api();
    int rc;

    rc = api->sql_execf(req, NULL, "DELETE FROM login_failures WHERE at <= unixepoch() - ?1", "I",
                        (json_int_t)ACCOUNT_WINDOW);
    if (rc == 0)
        rc = api->sql_execf(req, NULL,
                            "INSERT INTO login_failures (username, addr, trusted)"
                            " VALUES (?1, ?2, ?3)",
                            "ssI", login, addr, (json_int_t)trusted);
    return rc;
}

/*
 * The scope a login asks for (NULL or blank: everything the role has), as role grants it; with
 * role NULL only that every name exists. The table and the messages are the extension's, the
 * same the host checks every request against. *granted: malloc'd.
 */
static int account_scope(lintel_req *req, const char *asked, const char *role, char **granted)
{
    const struct lintel_api *api = host_api();
    json_t *j_row = NULL;
    const char *problem, *scope;
    int rc;

    *granted = NULL;
    rc = api->sql_rowf(req, &j_row,
                       "SELECT lintel_rule_scope(?1, ?2) AS problem, lintel_scope_within("
                       "coalesce(nullif(trim(?1), ''), lintel_role_scopes(?3)), ?3) AS scope",
                       "s?s?s", asked, role, role != NULL ? role : "admin");
    if (rc != 0)
        goto cleanup;
    problem = json_string_value(json_object_get(j_row, "problem"));
    if (problem != NULL) {
        rc = api->res_error(&req->res, LINTEL_EMALFORMED, "scope", "invalid_scope: %s", problem);
        goto cleanup;
    }
    scope = json_string_value(json_object_get(j_row, "scope"));
    *granted = strdup(scope != NULL ? scope : "");
    rc = *granted != NULL ? 0 : LINTEL_ENOMEM;
cleanup:
    json_decref(j_row);
    return rc;
}

/*
 * A new session of user_id with scope and its first refresh token, in one transaction with the
 * end of the login's failure record. *sid and *refresh: api memory.
 */
static int account_session_new(lintel_req *req, const char *login, long long user_id,
                               const char *scope, char **sid, char **refresh)
{
    const struct lintel_api *api = host_api();
    char digest[65];
    int rc;

    *sid = NULL;
    *refresh = NULL;
    rc = api->random_token(16, sid);
    if (rc == 0)
        rc = api->random_token(32, refresh);
    if (rc == 0)
        rc = api->sha256_hex(*refresh, strlen(*refresh), digest);
    if (rc == 0)
        rc = api->sql_begin(req);
    if (rc != 0)
        goto cleanup;
    if (login != NULL)
        rc =
            api->sql_execf(req, NULL, "DELETE FROM login_failures WHERE username = ?1", "s", login);
    if (rc == 0)
        rc = api->sql_execf(
            req, NULL,
            "INSERT INTO sessions (id, user_id, scope, client_addr, user_agent,"
            " last_used_at) VALUES (?1, ?2, ?3, ?4, substr(?5, 1, 256), unixepoch())",
            "sIss?s?", *sid, (json_int_t)user_id, scope, api->req_client_addr(req),
            api->req_header(req, "User-Agent"));
    if (rc == 0)
        rc = api->sql_execf(req, NULL,
                            "INSERT INTO refresh_tokens (hash, session_id, expires_at)"
                            " VALUES (?1, ?2, unixepoch() + ?3)",
                            "ssI", digest, *sid, (json_int_t)req->cfg->refresh_ttl);
    if (rc == 0)
        rc = api->sql_commit(req);
    else
        api->sql_rollback(req);
cleanup:
    if (rc != 0) {
        api->free(*sid);
        api->free(*refresh);
        *sid = NULL;
        *refresh = NULL;
    }
    return rc;
}

/* The access token of the new session, shaped by in. *token: api memory. */
static int account_token(lintel_req *req, const struct lintel_login *in, long long user_id,
                         const char *sid, const char *role, const char *scope, char **token,
                         long long *expires_in)
{
    json_t *j_claims = NULL;
    char sub[32];
    int rc;

    *token = NULL;
    snprintf(sub, sizeof(sub), "%lld", user_id);
    j_claims = in->j_claims != NULL ? json_deep_copy(in->j_claims) : json_object();
    if (j_claims == NULL || !json_is_object(j_claims)) {
        rc = j_claims == NULL ? LINTEL_ENOMEM : LINTEL_EINTERNAL;
        goto cleanup;
    }
    if (json_object_set_new(j_claims, "sub", json_string(in->sub != NULL ? in->sub : sub)) != 0 ||
        json_object_set_new(j_claims, "sid", json_string(sid)) != 0 ||
        json_object_set_new(j_claims, "role", json_string(role)) != 0 ||
        json_object_set_new(j_claims, "scope", json_string(scope)) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = auth_token_issue(j_claims, in->ttl, token, expires_in);
    if (rc != 0)
        host_res_record(&req->res, rc, NULL, NULL, true);
cleanup:
    json_decref(j_claims);
    return rc;
}

/*
 * The session a login or a registration opens, and its tokens shaped by in (scope, sub,
 * claims, ttl). login: the name whose failure record the session clears, or NULL.
 */
static int account_start(lintel_req *req, const char *login, long long user_id, const char *role,
                         const char *username, const struct lintel_login *in, json_t **j_out)
{
    char *scope = NULL, *sid = NULL, *refresh = NULL, *token = NULL;
    long long expires_in = 0;
    int rc;

    *j_out = NULL;
    if (role == NULL || username == NULL)
        return LINTEL_EINTERNAL;
    rc = account_scope(req, in->scope, role, &scope);
    if (rc == 0)
        rc = account_session_new(req, login, user_id, scope, &sid, &refresh);
    if (rc == 0)
        rc = account_token(req, in, user_id, sid, role, scope, &token, &expires_in);
    if (rc != 0)
        goto cleanup;
    *j_out = json_pack("{sI ss ss ss ss ss sI ss}", "user_id", (json_int_t)user_id, "username",
                       username, "role", role, "sid", sid, "scope", scope, "access_token", token,
                       "expires_in", (json_int_t)expires_in, "refresh_token", refresh);
    rc = *j_out != NULL ? 0 : LINTEL_ENOMEM;
cleanup:
    host_api()->free(token);
    host_api()->free(sid);
    host_api()->free(refresh);
    free(scope);
    return rc;
}

int host_account_session_start(lintel_req *req, long long user_id, const struct lintel_login *in,
                               json_t **j_out)
{
    const struct lintel_api *api = host_api();
    struct lintel_login none = {0};
    json_t *j_user = NULL;
    int rc;

    *j_out = NULL;
    rc = api->sql_rowf(req, &j_user,
                       "SELECT username, role FROM users WHERE id = ?1 AND deleted_at IS NULL", "I",
                       (json_int_t)user_id);
    if (rc == LINTEL_ENOTFOUND)
        rc = api->res_error(&req->res, LINTEL_ENOTFOUND, NULL, "User not found");
    if (rc == 0)
        rc = account_start(req, NULL, user_id, json_string_value(json_object_get(j_user, "role")),
                           json_string_value(json_object_get(j_user, "username")),
                           in != NULL ? in : &none, j_out);
    json_decref(j_user);
    return rc;
}

static int account_gate_enter(void *req)
{
    return host_api()->heavy_begin(req);
}

static void account_gate_leave(void *req)
{
    host_api()->heavy_end(req);
}

int host_account_user_create(lintel_req *req, const struct lintel_user_new *in, json_t **j_user)
{
    const struct lintel_api *api = host_api();
    const struct user_new_gate gate = {account_gate_enter, account_gate_leave, req};
    json_t *j_problems = NULL;
    const json_t *j_p;
    struct db *db = NULL;
    size_t i;
    int rc;

    *j_user = NULL;
    if (in == NULL || in->username == NULL || in->password == NULL)
        return api->res_error(&req->res, LINTEL_EINTERNAL, NULL,
                              "user_create: no name or password");
    rc = host_req_db(req, &db);
    if (rc != 0)
        return rc;
    rc = user_new(db, req->cfg, in, &gate, j_user, &j_problems);
    /* every bad field is reported, not just the first; the rules are the extension's */
    json_array_foreach(j_problems, i, j_p) {
        const char *field = json_string_value(json_object_get(j_p, "field"));
        const char *msg = json_string_value(json_object_get(j_p, "message"));
        if (rc == LINTEL_EPARAM)
            api->res_invalid(&req->res, field, "%s", msg);
        else
            api->res_error(&req->res, rc, field, "%s", msg);
    }
    if (rc != 0 && json_array_size(j_problems) == 0 && !req->res.err_rc)
        host_res_record(&req->res, rc, NULL, db_errmsg(db), true);
    json_decref(j_problems);
    return rc;
}

int host_account_login(lintel_req *req, const struct lintel_login *in, json_t **j_out)
{
    const struct lintel_api *api = host_api();
    json_t *j_user = NULL, *j_check = NULL;
    const char *hash, *addr, *role;
    char *scope = NULL;
    long long user_id;
    bool trusted;
    int rc, ok;

    *j_out = NULL;
    if (in == NULL || in->login == NULL || in->password == NULL)
        return api->res_error(&req->res, LINTEL_EINTERNAL, NULL, "login: no login or password");
    rc = account_scope(req, in->scope, NULL, &scope); /* names only; the role comes later */
    if (rc != 0)
        goto cleanup;
    free(scope);
    scope = NULL;
    addr = account_addr(req);
    trusted = account_trusted_channel(req);
    rc = account_limited(req, in->login, addr, trusted);
    if (rc != 0)
        goto cleanup;
    rc = api->sql_rowf(req, &j_user,
                       (in->flags & LINTEL_LOGIN_EMAIL)
                           ? "SELECT id, username, password_hash, role,"
                             " email_verified_at IS NOT NULL AS verified FROM users"
                             " WHERE email = ?1 COLLATE NOCASE AND deleted_at IS NULL"
                           : "SELECT id, username, password_hash, role,"
                             " email_verified_at IS NOT NULL AS verified FROM users"
                             " WHERE username = ?1 COLLATE NOCASE AND deleted_at IS NULL",
                       "s", in->login);
    if (rc != 0 && rc != LINTEL_ENOTFOUND)
        goto cleanup;
    rc = api->heavy_begin(req);
    if (rc != 0)
        goto cleanup;
    /* Unknown and deleted users cost one verification too, so timing tells nothing. */
    hash = j_user != NULL ? json_string_value(json_object_get(j_user, "password_hash"))
                          : account_dummy(req);
    rc = api->sql_rowf(req, &j_check,
                       "SELECT lintel_password_verify(?1, ?2) AS ok,"
                       " lintel_password_needs_rehash(?2, ?3) AS rehash",
                       "ssI", in->password, hash != NULL ? hash : "*",
                       (json_int_t)req->cfg->password_cost);
    if (rc != 0)
        goto cleanup;
    ok = j_user != NULL && json_integer_value(json_object_get(j_check, "ok")) == 1;
    if (!ok) {
        api->heavy_end(req);
        rc = account_record_failure(req, in->login, addr, trusted);
        if (rc == 0)
            rc = api->res_error(&req->res, LINTEL_EAUTH, NULL, "Invalid username or password");
        goto cleanup;
    }
    user_id = (long long)json_integer_value(json_object_get(j_user, "id"));
    if (json_integer_value(json_object_get(j_check, "rehash")) == 1) {
        /* bcrypt imports and old costs move to the current scheme now that we know it: hash
         * in the gate, then write (no write lock is held while hashing) */
        json_t *j_new = NULL;
        rc = api->sql_rowf(req, &j_new, "SELECT lintel_password_hash(?1, ?2) AS h", "sI",
                           in->password, (json_int_t)req->cfg->password_cost);
        if (rc == 0)
            rc = api->sql_execf(req, NULL,
                                "UPDATE users SET password_hash = ?1 WHERE id = ?2"
                                " AND password_hash = ?3",
                                "sIs", json_string_value(json_object_get(j_new, "h")),
                                (json_int_t)user_id, hash);
        json_decref(j_new);
        if (rc != 0)
            goto cleanup;
    }
    api->heavy_end(req);
    /* require_verified_email: checked once the password is right, so it tells nothing more;
     * admins are exempt (the first admin and `lintel user add` accounts have no address) */
    role = json_string_value(json_object_get(j_user, "role"));
    if (req->cfg->require_verified_email && (role == NULL || strcmp(role, "admin") != 0) &&
        json_integer_value(json_object_get(j_user, "verified")) != 1) {
        rc = api->res_error(&req->res, LINTEL_EFORBIDDEN, NULL,
                            "Verify your email address first: follow the mail sent to it"
                            " (POST /api/auth/email/verify)");
        goto cleanup;
    }
    rc = account_start(req, in->login, user_id, json_string_value(json_object_get(j_user, "role")),
                       json_string_value(json_object_get(j_user, "username")), in, j_out);
cleanup:
    api->heavy_end(req); /* no-op unless a failure left the section open */
    free(scope);
    json_decref(j_check);
    json_decref(j_user);
    return rc;
}

int host_account_user_delete(lintel_req *req, long long user_id)
{
    const struct lintel_api *api = host_api();
    json_t *j_row = NULL;
    long long changes = 0;
    int rc;

    rc = api->sql_begin(req);
    if (rc != 0)
        return rc;
    rc = api->sql_rowf(req, &j_row,
                       "SELECT (SELECT role FROM users WHERE id = ?1 AND deleted_at IS NULL) ="
                       " 'admin' AND (SELECT count(*) FROM users WHERE role = 'admin' AND"
                       " deleted_at IS NULL) <= 1 AS last",
                       "I", (json_int_t)user_id);
    if (rc == 0 && json_integer_value(json_object_get(j_row, "last")) != 0)
        rc = api->res_error(&req->res, LINTEL_ECONFLICT, NULL,
                            "This is the last admin; make another admin first");
    /* the same soft delete as DELETE /api/users/me: the username stays reserved */
    if (rc == 0)
        rc = api->sql_execf(req, &changes,
                            "UPDATE users SET deleted_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                            " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), email = NULL,"
                            " password_hash = '*' WHERE id = ?1 AND deleted_at IS NULL",
                            "I", (json_int_t)user_id);
    if (rc == 0 && changes == 0)
        rc = api->res_error(&req->res, LINTEL_ENOTFOUND, NULL, "User not found");
    if (rc == 0)
        rc = api->session_end(req, user_id, NULL, NULL);
    if (rc == 0)
        rc = api->sql_commit(req);
    else
        api->sql_rollback(req);
    json_decref(j_row);
    return rc;
}
