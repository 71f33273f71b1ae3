/*
 * Compatibility profile "fender": seed 003's account API (/health, /api/users/register,
 * /api/login, /api/logout, /api/users/me) over lintel's users, sessions and account rules.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

LINTEL_KIT_INIT;

#define FENDER_TTL      1800 /* ACCESS_TOKEN_EXPIRE_MINUTES=30 */
#define FENDER_PW_MIN   8    /* the seed's Field(min_length=8, max_length=128) */
#define FENDER_PW_MAX   128
#define FENDER_NAME_MAX 1000 /* the seed has none; lintel bounds every stored string */
#define FENDER_NOW      "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
/* A version 4 uuid from SQLite's CSPRNG (randomblob), lower-case as Python's str(uuid4()). */
#define FENDER_UUID                                                                                \
    "lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)),"                    \
    " substr(hex(randomblob(2)), 2), substr('89ab', 1 + abs(random() % 4), 1),"                    \
    " substr(hex(randomblob(2)), 2), hex(randomblob(6))))"
#define FENDER_MSG_EMAIL "value is not a valid email address: "

struct fender {
    long long password_min;  /* the server's, applied on top of the seed's 8 */
    long long password_cost; /* bcrypt/yescrypt cost lintel hashes with      */
};

static const struct compat_fastapi fender_errors = {.invalid_status = 401,
                                                    .invalid_detail = "Invalid token"};

/* Unicode code points of UTF-8 text (pydantic counts those, not bytes). */
static size_t fender_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0u) != 0x80u;
    return n;
}

/* string_too_short / string_too_long on body.field when s has fewer than min or more than max. */
static int fender_length(json_t *j_items, const char *field, const char *s, size_t min, size_t max)
{
    size_t n = fender_chars(s);
    char msg[96];

    if (n < min) {
        snprintf(msg, sizeof(msg), "String should have at least %zu character%s", min,
                 min == 1 ? "" : "s");
        return compat_item(j_items, "string_too_short", json_pack("[ss]", "body", field), msg,
                           json_string(s), json_pack("{sI}", "min_length", (json_int_t)min));
    }
    if (n > max) {
        snprintf(msg, sizeof(msg), "String should have at most %zu characters", max);
        return compat_item(j_items, "string_too_long", json_pack("[ss]", "body", field), msg,
                           json_string(s), json_pack("{sI}", "max_length", (json_int_t)max));
    }
    return 0;
}

/* email-validator's reason for an address lintel_rule_email refused. */
static const char *fender_email_reason(const char *email)
{
    const char *at = strrchr(email, '@');

    if (at == NULL)
        return "An email address must have an @-sign.";
    if (at == email)
        return "There must be something before the @-sign.";
    if (at[1] == '\0')
        return "There must be something after the @-sign.";
    if (strchr(at, '.') == NULL)
        return "The part after the @-sign is not valid. It should have a period.";
    return "The email address is not valid.";
}

/* email-validator refuses the special-use names of RFC 6761 and friends as top-level domains. */
static int fender_special_tld(const char *email)
{
    static const char *const tlds[] = {"arpa", "invalid", "local", "localhost", "onion", "test"};
    const char *dot = strrchr(email, '.');
    size_t i;

    if (dot == NULL)
        return 0;
    for (i = 0; i < sizeof(tlds) / sizeof(tlds[0]); i++)
        if (strcasecmp(dot + 1, tlds[i]) == 0)
            return 1;
    return 0;
}

/*
 * EmailStr on body.email with lintel's rule (lintel_rule_email): a refusal is pydantic's
 * value_error. *j_norm (new reference) holds {"email": the address with its domain lower-cased}.
 */
static int fender_email(lintel_req *req, json_t *j_items, const char *email, json_t **j_norm)
{
    const char *verdict, *reason = NULL;
    char msg[256];
    int rc;

    *j_norm = NULL;
    rc = lintel_sql_rowf(req, j_norm,
                         "SELECT lintel_rule_email(?1) AS verdict,"
                         " lintel_email_normalize(?1) AS email",
                         "s", email);
    if (rc != 0)
        return rc;
    verdict = json_string_value(json_object_get(*j_norm, "verdict"));
    if (verdict != NULL)
        reason =
            strlen(email) > 254 ? "The email address is too long." : fender_email_reason(email);
    else if (fender_special_tld(email))
        reason = "The part after the @-sign is a special-use or reserved name that cannot be used "
                 "with email.";
    if (reason == NULL)
        return 0;
    snprintf(msg, sizeof(msg), FENDER_MSG_EMAIL "%s", reason);
    return compat_item(j_items, "value_error", json_pack("[ss]", "body", "email"), msg,
                       json_string(email), json_pack("{ss}", "reason", reason));
}

/* lintel_rule_password with the server's password_min (when stricter than the seed's 8). */
static int fender_password_rule(struct fender *f, lintel_req *req, json_t *j_items,
                                const char *password)
{
    json_t *j_row = NULL;
    const char *verdict;
    char msg[160];
    int rc;

    rc = lintel_sql_rowf(req, &j_row, "SELECT lintel_rule_password(?1, ?2) AS verdict", "sI",
                         password, (json_int_t)f->password_min);
    verdict = rc == 0 ? json_string_value(json_object_get(j_row, "verdict")) : NULL;
    if (verdict != NULL) {
        snprintf(msg, sizeof(msg), "Value error, password %s", verdict);
        rc = compat_item(j_items, "value_error", json_pack("[ss]", "body", "password"), msg,
                         json_string(password), json_pack("{s{}}", "error"));
    }
    json_decref(j_row);
    return rc;
}

/*
 * The name, email and password of a body (register: all required; PATCH: any subset, an
 * explicit null refused) with the seed's and lintel's rules. *j_norm keeps the normalized email.
 */
static void fender_fields(struct fender *f, lintel_req *req, const json_t *j_body, int required,
                          json_t *j_items, const char **name, const char **email,
                          const char **password, json_t **j_norm)
{
    compat_str(j_body, "name", required, j_items, name);
    compat_str(j_body, "email", required, j_items, email);
    compat_str(j_body, "password", required, j_items, password);
    if (*name != NULL)
        fender_length(j_items, "name", *name, 0, FENDER_NAME_MAX);
    if (*email != NULL && fender_email(req, j_items, *email, j_norm) == 0 &&
        json_array_size(j_items) == 0)
        *email = json_string_value(json_object_get(*j_norm, "email"));
    if (*password != NULL &&
        fender_length(j_items, "password", *password, FENDER_PW_MIN, FENDER_PW_MAX) == 0)
        fender_password_rule(f, req, j_items, *password);
}

/* 1 when email (normalized) belongs to an account other than user_id, 0 if not, or an error. */
static int fender_email_taken(lintel_req *req, const char *email, long long user_id)
{
    json_t *j_row = NULL;
    int rc;

    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1 COLLATE NOCASE"
                         " AND id <> ?2) AS taken",
                         "sI", email, (json_int_t)user_id);
    if (rc == 0)
        rc = json_integer_value(json_object_get(j_row, "taken")) != 0;
    json_decref(j_row);
    return rc;
}

/*
 * The profile's row of user_id, made on first use for an account lintel's own API created
 * (its name then the username): *j_row (new reference) {"name", "email", "id"}, in the seed's
 * order. LINTEL_ENOTFOUND for a deleted or unknown account.
 */
static int fender_me_row(lintel_req *req, long long user_id, json_t **j_row)
{
    static const char *const sql = "SELECT f.name, u.email, f.uid AS id FROM users u"
                                   " JOIN compat_fender_users f ON f.user_id = u.id"
                                   " WHERE u.id = ?1 AND u.deleted_at IS NULL";
    int rc;

    rc = lintel_sql_rowf(req, j_row, sql, "I", (json_int_t)user_id);
    if (rc != LINTEL_ENOTFOUND)
        return rc;
    rc = lintel_sql_execf(req, NULL,
                          "INSERT INTO compat_fender_users (user_id, uid, name)"
                          " SELECT id, " FENDER_UUID ", username FROM users"
                          " WHERE id = ?1 AND deleted_at IS NULL"
                          " ON CONFLICT (user_id) DO NOTHING",
                          "I", (json_int_t)user_id);
    if (rc == 0)
        rc = lintel_sql_rowf(req, j_row, sql, "I", (json_int_t)user_id);
    return rc;
}

/* GET /health -> {"status": "OK"} */
static int fender_health(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)state;
    return lintel_res_json_new(res, 200, json_pack("{ss}", "status", "OK"));
}

/* A lintel username for an e-mail account: its local part's allowed characters, a random tail. */
static int fender_username(const char *email, char *buf, size_t size)
{
    char *tail = NULL;
    size_t n = 0;
    int rc;

    for (; *email != '\0' && *email != '@' && n < 40 && n + 1 < size; email++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", *email))
            buf[n++] = *email;
    rc = lintel_random_token(6, &tail);
    if (rc != 0)
        return rc;
    snprintf(buf + n, size - n, "%s%s", n == 0 ? "user-" : "-", tail);
    lintel_free(tail);
    return 0;
}

/* POST /api/users/register {name, email, password} -> 204 */
static int fender_register(lintel_req *req, lintel_res *res, void *state)
{
    struct fender *f = state;
    json_t *j_items = json_array(), *j_body = NULL, *j_norm = NULL, *j_user = NULL;
    const char *name = NULL, *email = NULL, *password = NULL;
    struct lintel_user_new in = {0};
    char username[64];
    int rc, tries;

    if (j_items == NULL)
        return LINTEL_ENOMEM;
    rc = compat_body(req, j_items, &j_body);
    if (rc == 0)
        fender_fields(f, req, j_body, 1, j_items, &name, &email, &password, &j_norm);
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        goto cleanup;
    }
    in.email = email;
    in.password = password;
    for (tries = 0; tries < 3; tries++) {
        rc = fender_email_taken(req, email, 0);
        if (rc == 1) {
            rc = compat_detail(res, 400, "Email already exists");
            goto cleanup;
        }
        if (rc == 0)
            rc = fender_username(email, username, sizeof(username));
        if (rc != 0)
            goto cleanup;
        in.username = username;
        rc = lintel_user_create(req, &in, &j_user);
        if (rc != LINTEL_ECONFLICT) /* a username taken by chance: draw another tail */
            break;
    }
    if (rc != 0)
        goto cleanup; /* a rule's 422 or the hashing gate's 503, rendered for the seed */
    rc = lintel_sql_execf(req, NULL,
                          "INSERT INTO compat_fender_users (user_id, uid, name)"
                          " VALUES (?1, " FENDER_UUID ", ?2)",
                          "Is", json_integer_value(json_object_get(j_user, "id")), name);
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
cleanup:
    json_decref(j_user);
    json_decref(j_norm);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/* POST /api/login (OAuth2 form, username = the email) -> {"access_token"} */
static int fender_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_items = json_array(), *j_form = NULL, *j_user = NULL, *j_me = NULL;
    json_t *j_claims = json_pack("{ss}", "type", "access"), *j_out = NULL;
    struct lintel_login in = {.flags = LINTEL_LOGIN_EMAIL, .ttl = FENDER_TTL};
    int rc;

    (void)state;
    if (j_items == NULL || j_claims == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    compat_form_login(req, j_items, &j_form, &in.login, &in.password);
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        goto cleanup;
    }
    rc = lintel_sql_rowf(req, &j_user,
                         "SELECT u.id, n.email FROM (SELECT lintel_email_normalize(?1) AS email) n"
                         " LEFT JOIN users u ON u.email = n.email COLLATE NOCASE"
                         " AND u.deleted_at IS NULL",
                         "s", in.login);
    if (rc != 0)
        goto cleanup;
    in.login = json_string_value(json_object_get(j_user, "email"));
    /* the token's sub is the seed's opaque id; the host still finds the user by its session */
    if (json_integer_value(json_object_get(j_user, "id")) > 0) {
        rc = fender_me_row(req, json_integer_value(json_object_get(j_user, "id")), &j_me);
        if (rc != 0 && rc != LINTEL_ENOTFOUND)
            goto cleanup;
        in.sub = json_string_value(json_object_get(j_me, "id"));
    }
    in.j_claims = j_claims;
    rc = lintel_login(req, &in, &j_out);
    if (rc == LINTEL_EAUTH) {
        rc = compat_detail(res, 401, "Invalid email or password");
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json_new(
        res, 200, json_pack("{sO}", "access_token", json_object_get(j_out, "access_token")));
cleanup:
    json_decref(j_out);
    json_decref(j_me);
    json_decref(j_user);
    json_decref(j_claims);
    json_decref(j_form);
    json_decref(j_items);
    return rc;
}

/* POST /api/logout -> 204: every session of the user ends, as the seed deletes every token */
static int fender_logout(lintel_req *req, lintel_res *res, void *state)
{
    int rc;

    (void)state;
    rc = lintel_session_end(req, lintel_req_user_id(req), NULL, NULL);
    return rc != 0 ? rc : lintel_res_empty(res, 204);
}

/* GET /api/users/me -> {"name", "email", "id"} */
static int fender_me(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_row = NULL;
    int rc;

    (void)state;
    rc = fender_me_row(req, lintel_req_user_id(req), &j_row);
    if (rc == LINTEL_ENOTFOUND)
        rc = compat_detail(res, 401, "Invalid token");
    else if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
    json_decref(j_row);
    return rc;
}

/* PATCH /api/users/me {name?, email?, password?} -> the user as GET shows it */
static int fender_me_patch(lintel_req *req, lintel_res *res, void *state)
{
    struct fender *f = state;
    json_t *j_items = json_array(), *j_body = NULL, *j_norm = NULL, *j_hash = NULL, *j_row = NULL;
    const char *name = NULL, *email = NULL, *password = NULL, *hash = NULL;
    const char *sid = json_string_value(json_object_get(lintel_req_claims(req), "sid"));
    long long id = lintel_req_user_id(req);
    int rc;

    if (j_items == NULL)
        return LINTEL_ENOMEM;
    rc = compat_body(req, j_items, &j_body);
    if (rc == 0)
        fender_fields(f, req, j_body, 0, j_items, &name, &email, &password, &j_norm);
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        goto cleanup;
    }
    if (email != NULL) {
        rc = fender_email_taken(req, email, id);
        if (rc == 1) {
            rc = compat_detail(res, 400, "Email already exists");
            goto cleanup;
        }
        if (rc != 0)
            goto cleanup;
    }
    if (password != NULL) {
        rc = lintel_password_hash_new(req, password, f->password_cost, &j_hash, &hash);
        if (rc != 0)
            goto cleanup;
    }
    rc = lintel_sql_begin(req);
    if (rc != 0)
        goto cleanup;
    rc = fender_me_row(req, id, &j_row); /* the profile row exists before it is updated */
    json_decref(j_row);
    j_row = NULL;
    if (rc == 0 && (email != NULL || hash != NULL))
        rc = lintel_sql_execf(req, NULL,
                              "UPDATE users SET email = coalesce(?2, email),"
                              " password_hash = coalesce(?3, password_hash),"
                              " updated_at = " FENDER_NOW " WHERE id = ?1",
                              "Is?s?", (json_int_t)id, email, hash);
    if (rc == 0 && name != NULL)
        rc = lintel_sql_execf(req, NULL,
                              "UPDATE compat_fender_users SET name = ?2 WHERE user_id = ?1", "Is",
                              (json_int_t)id, name);
    /* lintel's rule, not the seed's: a new password ends every other session of the account */
    if (rc == 0 && hash != NULL)
        rc = lintel_session_end(req, id, NULL, sid);
    rc = lintel_sql_end(req, rc);
    if (rc == LINTEL_ECONFLICT) { /* the email was taken in between */
        rc = compat_detail(res, 400, "Email already exists");
        goto cleanup;
    }
    if (rc == 0)
        rc = fender_me_row(req, id, &j_row);
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_row);
cleanup:
    json_decref(j_row);
    json_decref(j_hash);
    json_decref(j_norm);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

/*
 * DELETE /api/users/me -> 204: lintel's account deletion (the account is soft-deleted, its
 * email and hash dropped, every session ended, the last admin kept; the trigger of 0001 drops
 * the profile row).
 */
static int fender_me_delete(lintel_req *req, lintel_res *res, void *state)
{
    int rc;

    (void)state;
    rc = lintel_user_delete(req, lintel_req_user_id(req));
    return rc != 0 ? rc : lintel_res_empty(res, 204);
}

/* The user as the seed answers it. */
#define FENDER_USER                                                                                \
    "{\"title\":\"FenderUser\",\"type\":\"object\",\"required\":[\"name\",\"email\",\"id\"],"      \
    "\"properties\":{" COMPAT_STR("name") "," COMPAT_STR("email") ",\"id\":{\"type\":"             \
                                                                  "[\"string\",\"integer\"]}}}"
#define FENDER_REPLIES(...) LINTEL_REPLIES(__VA_ARGS__, COMPAT_FASTAPI_ERRORS)

static const struct lintel_route fender_routes[] = {
    {.method = "GET",
     .path = "/health",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = fender_health,
     .summary = "Seed 003: health {\"status\": \"OK\"} (lintel's own: /api/health)",
     .replies =
         FENDER_REPLIES({200, "Running", COMPAT_OBJ("\"status\"", COMPAT_STR("status")), NULL})},
    {.method = "POST",
     .path = "/api/users/register",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = fender_register,
     .summary = "Seed 003: register {name, email, password}",
     .body_schema =
         COMPAT_OBJ("\"name\",\"email\",\"password\"",
                    COMPAT_STR("name") "," COMPAT_STR("email") "," COMPAT_STR("password")),
     .example = "{\"name\": \"Alice\", \"email\": \"alice@example.com\", \"password\": "
                "\"correct horse\"}",
     .replies = FENDER_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "POST",
     .path = "/api/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW | LINTEL_ROUTE_FORM,
     .handler = fender_login,
     .summary = "Seed 003: log in with the OAuth2 form (username = email)",
     .replies = FENDER_REPLIES({200, "The access token",
                                COMPAT_OBJ("\"access_token\"", COMPAT_STR("access_token")), NULL})},
    {.method = "POST",
     .path = "/api/logout",
     .handler = fender_logout,
     .summary = "Seed 003: end every session of the user",
     .replies = FENDER_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "GET",
     .path = "/api/users/me",
     .handler = fender_me,
     .summary = "Seed 003: the user {name, email, id}",
     .replies = FENDER_REPLIES({200, "The user", FENDER_USER, NULL})},
    {.method = "PATCH",
     .path = "/api/users/me",
     .flags = LINTEL_ROUTE_RAW,
     .handler = fender_me_patch,
     .summary = "Seed 003: change name, email or password",
     .body_schema =
         COMPAT_OBJ("", COMPAT_STR("name") "," COMPAT_STR("email") "," COMPAT_STR("password")),
     .example = "{\"name\": \"Alice B.\"}",
     .replies = FENDER_REPLIES({200, "The changed user", FENDER_USER, NULL})},
    {.method = "DELETE",
     .path = "/api/users/me",
     .handler = fender_me_delete,
     .summary = "Seed 003: delete the account",
     .replies = FENDER_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

static void fender_free(void *state)
{
    free(state);
}

extern const struct lintel_embedded_sql compat_fender_migrations[];

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct fender *f;
    int rc;

    (void)config;
    LINTEL_KIT_DECLARE(p, api, "compat_fender", "0.2.0");
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_on_unload(p, fender_free, f);
    if (rc != 0) {
        free(f);
        return rc;
    }
    rc = lintel_setting_int(p, "password_min", &f->password_min);
    if (rc == 0)
        rc = lintel_setting_int(p, "password_cost", &f->password_cost);
    if (rc == 0)
        rc = compat_profile(p, compat_fender_migrations, compat_fastapi_render, &fender_errors,
                            fender_routes, LINTEL_COUNT(fender_routes), f);
    return rc;
}
