/*
 * Password reset: forgot (always 202, rate-limited per address and per client, the same work
 * for known and unknown addresses: the mail itself goes out from the host's worker) and reset
 * (a single-use token stored hashed, the password rule, every session ended).
 */
#include "account.h"

#include <jansson.h>
#include <stdio.h>

int account_need_mail(const struct account *a, lintel_res *res)
{
    if (a->smtp_url != NULL)
        return 0;
    return lintel_res_error(res, LINTEL_EUNAVAIL, NULL,
                            "Mail is not configured on this server: the operator sets smtp_url"
                            " (smtp:// or smtps://) and smtp_from, and smtp_user/smtp_password"
                            " when the server needs them (docs/configuration.md)");
}

int account_body_str(lintel_res *res, const json_t *j_body, const char *name, size_t max,
                     const char **out)
{
    const json_t *j = json_object_get(j_body, name);
    size_t len = json_string_length(j);

    *out = NULL;
    if (j == NULL)
        return lintel_res_invalid(res, name, "is required");
    if (!json_is_string(j))
        return lintel_res_invalid(res, name, "must be a string");
    if (len == 0 || len > max)
        return lintel_res_invalid(res, name, "must be 1 to %zu characters", max);
    *out = json_string_value(j);
    return 0;
}

/* The prologue of the mail routes that take a body: the 503 without mail, else the body read. */
static int account_mail_body(const struct account *a, lintel_req *req, lintel_res *res,
                             json_t **j_body)
{
    int rc = account_need_mail(a, res);

    if (rc == 0)
        rc = lintel_req_json(req, j_body);
    return rc;
}

/* 429 with Retry-After when email or addr asked for max mails within the hour. */
static int account_forgot_limited(struct account *a, lintel_req *req, lintel_res *res,
                                  const char *email, const char *addr)
{
    json_t *j_row = NULL;
    char retry[32];
    long long wait;
    int rc;

    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT (SELECT count(*) FROM mail_requests WHERE email = ?1"
                         " AND at > unixepoch() - 3600) >= ?3 AND ?3 > 0 AS by_email,"
                         " (SELECT count(*) FROM mail_requests WHERE addr = ?2"
                         " AND at > unixepoch() - 3600) >= ?4 AND ?4 > 0 AS by_addr,"
                         " (SELECT min(at) FROM mail_requests WHERE (email = ?1 OR addr = ?2)"
                         " AND at > unixepoch() - 3600) + 3600 - unixepoch() AS wait",
                         "ssII", email, addr, (json_int_t)a->forgot_max_email,
                         (json_int_t)a->forgot_max_ip);
    if (rc != 0)
        return rc;
    if (json_integer_value(json_object_get(j_row, "by_email")) == 1 ||
        json_integer_value(json_object_get(j_row, "by_addr")) == 1) {
        wait = (long long)json_integer_value(json_object_get(j_row, "wait"));
        snprintf(retry, sizeof(retry), "%lld", wait < 1 ? 1 : wait);
        rc = lintel_res_header(res, "Retry-After", retry);
        if (rc == 0)
            rc = lintel_res_error(res, LINTEL_ERATELIMIT, NULL,
                                  "Too many password reset requests; try again in %s seconds",
                                  retry);
    }
    json_decref(j_row);
    return rc;
}

int account_forgot(lintel_req *req, lintel_res *res, void *state)
{
    struct account *a = state;
    const char *email, *addr = lintel_req_client_addr(req);
    json_t *j_body = NULL;
    int rc;

    rc = account_mail_body(a, req, res, &j_body);
    if (rc == 0)
        rc = account_body_str(res, j_body, "email", 254, &email);
    if (rc == 0)
        rc = account_forgot_limited(a, req, res, email, addr != NULL ? addr : "");
    if (rc != 0)
        goto cleanup;
    /*
     * Known or not, the same statements write the same rows: the request, and one outbox row
     * whose user_id is the live account's, or 0 (no user has it) for an unknown address; the
     * worker drops such a row without sending. No mail is sent here, so the reply takes the
     * same time either way (tests/bench/bench_forgot.sh).
     */
    rc = lintel_sql_begin(req);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL, "INSERT INTO mail_requests (email, addr) VALUES (?1, ?2)",
                              "ss", email, addr != NULL ? addr : "");
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "INSERT INTO mail_outbox (kind, user_id, email)"
                              " SELECT 'reset', coalesce(max(id), 0), coalesce(max(email), ?1)"
                              " FROM users WHERE email = ?1 COLLATE NOCASE AND deleted_at IS NULL",
                              "s", email);
    if (rc == 0)
        rc = lintel_sql_commit(req);
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json_new(
        res, 202,
        json_pack("{ss}", "detail",
                  "If an account has this address, a mail with a reset code is on its way"));
cleanup:
    json_decref(j_body);
    return rc;
}

/* The live token of kind (its SHA-256 looked up), as a row with user_id, username, email. */
static int account_token_row(lintel_req *req, lintel_res *res, const char *token, const char *kind,
                             json_t **j_row)
{
    int rc;

    rc = lintel_sql_rowf(req, j_row,
                         "SELECT t.hash AS hash, t.user_id AS user_id, u.username AS username,"
                         " t.email AS email FROM account_tokens t JOIN users u"
                         " ON u.id = t.user_id AND u.deleted_at IS NULL"
                         " WHERE t.hash = lintel_sha256_hex(?1) AND t.kind = ?2"
                         " AND t.used_at IS NULL"
                         " AND t.expires_at > unixepoch()"
                         " AND (t.kind <> 'verify' OR u.email = t.email COLLATE NOCASE)",
                         "ss", token, kind);
    if (rc == LINTEL_ENOTFOUND)
        rc = lintel_res_invalid(res, "token", "is unknown, already used, or expired");
    return rc;
}

/*
 * Opens the write transaction, spends the token of j_tok (of two concurrent uses of one token,
 * the second changes nothing and is refused) and marks the address the mail reached as
 * verified: *j_user (new reference) is then {email, email_verified_at}. 0 with the transaction
 * open, or the failure (rolled back).
 */
static int account_token_redeem(lintel_req *req, lintel_res *res, const json_t *j_tok,
                                json_t **j_user)
{
    long long changes = 0;
    int rc = lintel_sql_begin(req);

    if (rc != 0)
        return rc;
    rc = lintel_sql_execf(req, &changes,
                          "UPDATE account_tokens SET used_at = unixepoch() WHERE hash = ?1"
                          " AND used_at IS NULL",
                          "O", json_object_get(j_tok, "hash"));
    if (rc == 0 && changes == 0)
        rc = lintel_res_invalid(res, "token", "is unknown, already used, or expired");
    if (rc == 0)
        rc = lintel_sql_rowf(req, j_user,
                             "UPDATE users SET email_verified_at = coalesce(email_verified_at,"
                             " strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) WHERE id = ?1"
                             " RETURNING email, email_verified_at",
                             "O", json_object_get(j_tok, "user_id"));
    return rc != 0 ? lintel_sql_end(req, rc) : 0;
}

/* 0 when password passes the extension's rule at the server's minimum length, else the 422. */
static int account_password_rule(const struct account *a, lintel_req *req, lintel_res *res,
                                 const char *password)
{
    json_t *j_rule = NULL;
    const char *problem;
    int rc;

    rc = lintel_sql_rowf(req, &j_rule, "SELECT lintel_rule_password(?1, ?2) AS problem", "sI",
                         password, (json_int_t)a->password_min);
    problem = json_string_value(json_object_get(j_rule, "problem"));
    if (rc == 0 && problem != NULL)
        rc = lintel_res_invalid(res, "password", "%s", problem);
    json_decref(j_rule);
    return rc;
}

int account_reset(lintel_req *req, lintel_res *res, void *state)
{
    struct account *a = state;
    const char *token = NULL, *password = NULL, *addr = lintel_req_client_addr(req);
    json_t *j_body = NULL, *j_tok = NULL, *j_user = NULL, *j_hash = NULL;
    json_int_t uid;
    const char *hash = NULL;
    int rc;

    rc = account_mail_body(a, req, res, &j_body);
    if (rc != 0)
        goto cleanup;
    rc = account_body_str(res, j_body, "token", 128, &token);
    if (account_body_str(res, j_body, "password", 1024, &password) != 0 && rc == 0)
        rc = LINTEL_EPARAM;
    if (rc == 0)
        rc = account_password_rule(a, req, res, password);
    if (rc == 0)
        rc = account_token_row(req, res, token, "reset", &j_tok);
    if (rc != 0)
        goto cleanup;
    uid = json_integer_value(json_object_get(j_tok, "user_id"));
    rc = lintel_password_hash_new(req, password, a->password_cost, &j_hash, &hash);
    /* the mail reached the address: it is verified now too */
    if (rc == 0)
        rc = account_token_redeem(req, res, j_tok, &j_user);
    if (rc != 0)
        goto cleanup;
    rc = lintel_sql_execf(req, NULL,
                          "UPDATE users SET password_hash = ?2,"
                          " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
                          "Is", uid, hash);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "UPDATE sessions SET ended_at = unixepoch(),"
                              " end_reason = 'password reset' WHERE user_id = ?1"
                              " AND ended_at IS NULL",
                              "I", uid);
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL, "DELETE FROM login_failures WHERE username = ?1", "O",
                              json_object_get(j_tok, "username"));
    if (rc == 0)
        rc = lintel_sql_execf(req, NULL,
                              "INSERT INTO audit_events (action, user_id, actor_id, addr, subject)"
                              " VALUES ('password.reset', ?1, ?1, ?2, ?3)",
                              "Is?O", uid, addr, json_object_get(j_tok, "username"));
    rc = lintel_sql_end(req, rc);
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
cleanup:
    json_decref(j_hash);
    json_decref(j_user);
    json_decref(j_tok);
    json_decref(j_body);
    return rc;
}

int account_verify(lintel_req *req, lintel_res *res, void *state)
{
    struct account *a = state;
    const char *token = NULL;
    json_t *j_body = NULL, *j_tok = NULL, *j_user = NULL;
    int rc;

    rc = account_mail_body(a, req, res, &j_body);
    if (rc == 0)
        rc = account_body_str(res, j_body, "token", 128, &token);
    if (rc == 0)
        rc = account_token_row(req, res, token, "verify", &j_tok);
    if (rc == 0)
        rc = account_token_redeem(req, res, j_tok, &j_user);
    if (rc == 0)
        rc = lintel_sql_commit(req);
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_user);
    json_decref(j_user);
    json_decref(j_tok);
    json_decref(j_body);
    return rc;
}

int account_verify_send(lintel_req *req, lintel_res *res, void *state)
{
    struct account *a = state;
    json_t *j_user = NULL;
    int rc;

    rc = account_need_mail(a, res);
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_user,
                             "SELECT email, email_verified_at IS NOT NULL AS verified,"
                             " (SELECT count(*) FROM mail_outbox WHERE user_id = ?1) AS queued"
                             " FROM users WHERE id = ?1 AND deleted_at IS NULL",
                             "I", (json_int_t)lintel_req_user_id(req));
    if (rc != 0)
        goto cleanup;
    if (!json_is_string(json_object_get(j_user, "email"))) {
        rc = lintel_res_error(res, LINTEL_ECONFLICT, NULL,
                              "This account has no email address to verify");
        goto cleanup;
    }
    if (json_integer_value(json_object_get(j_user, "verified")) == 1) {
        rc = lintel_res_error(res, LINTEL_ECONFLICT, NULL, "The email address is verified already");
        goto cleanup;
    }
    /* one mail in the queue at a time: repeated clicks do not flood the inbox */
    if (json_integer_value(json_object_get(j_user, "queued")) == 0)
        rc = lintel_sql_execf(req, NULL,
                              "INSERT INTO mail_outbox (kind, user_id, email) VALUES"
                              " ('verify', ?1, ?2)",
                              "IO", (json_int_t)lintel_req_user_id(req),
                              json_object_get(j_user, "email"));
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json_new(res, 202,
                             json_pack("{ss}", "detail", "A verification mail is on its way"));
cleanup:
    json_decref(j_user);
    return rc;
}
