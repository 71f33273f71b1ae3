/*
 * A black-box walk through the cross-cutting sentences of api.md against the shared server:
 * headers and problem members on every route family, list envelopes, record shapes, tokens.
 */
#include "lt_test.h"

#include <check.h>
#include <orcania.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "contract-pass-1"

/* api.md "Roles" */
#define SCOPES_USER                                                                                \
    "numbers:read numbers:write numbers:delete tasks:read tasks:write datapoints:read profile"
#define SCOPES_ADMIN SCOPES_USER " datapoints:write users:admin"

static const char *url;

static char *fmt(const char *f, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&out, f, ap), 0);
    va_end(ap);
    return out;
}

static char *admin_token(void)
{
    char *token = NULL;

    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    return token;
}

/* The JSON of one base64url segment of a token (new reference). */
static json_t *segment_json(const char *seg, size_t len)
{
    struct _o_datum dat = {0, NULL};
    json_t *j;

    ck_assert_int_eq(o_base64url_decode_alloc((const unsigned char *)seg, len, &dat), 1);
    j = json_loadb((const char *)dat.data, dat.size, JSON_REJECT_DUPLICATES, NULL);
    o_free(dat.data);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Header (part 0) or claims (part 1) of a token (new reference). */
static json_t *token_part(const char *token, int part)
{
    const char *d1 = strchr(token, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;

    ck_assert_ptr_nonnull(d2);
    if (part == 0)
        return segment_json(token, (size_t)(d1 - token));
    return segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
}

static int matches(const char *text, const char *pattern)
{
    regex_t re;
    int ok;

    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    ok = text != NULL && regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* "2024-04-22T15:07:57Z" */
static void assert_timestamp(const json_t *j, const char *key)
{
    const char *t = json_string_value(json_object_get(j, key));

    ck_assert_msg(matches(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
                  "%s is not an ISO 8601 UTC timestamp: %s", key, t != NULL ? t : "(none)");
}

/* The object has exactly the keys of the NULL-terminated list. */
static void assert_keys(const json_t *j, const char *const *keys)
{
    size_t n = 0;

    ck_assert_msg(json_is_object(j), "not an object");
    for (; keys[n] != NULL; n++)
        ck_assert_msg(json_object_get(j, keys[n]) != NULL, "missing key %s", keys[n]);
    ck_assert_uint_eq(json_object_size(j), n);
}

static void assert_user(const json_t *j_user)
{
    static const char *const keys[] = {"id",         "username",   "email",      "role",
                                       "created_at", "updated_at", "avatar_url", NULL};

    assert_keys(j_user, keys);
    ck_assert(json_is_integer(json_object_get(j_user, "id")));
    assert_timestamp(j_user, "created_at");
    assert_timestamp(j_user, "updated_at");
}

/*
 * Every reply: X-Request-Id, X-Response-Time, nosniff; Cache-Control: no-store when the route
 * is authenticated. Errors: problem+json with its members, instance = the path without the
 * query, errors[] only on 400/422.
 */
static void assert_reply(const struct lt_resp *r, const char *path, int authenticated)
{
    const char *cc = lt_header(r, "Cache-Control");
    size_t plen = strcspn(path, "?");

    ck_assert_ptr_nonnull(lt_header(r, "X-Request-Id"));
    ck_assert_ptr_nonnull(lt_header(r, "X-Response-Time"));
    ck_assert_str_eq(lt_header(r, "X-Content-Type-Options"), "nosniff");
    if (authenticated)
        ck_assert_msg(cc != NULL && strcmp(cc, "no-store") == 0, "%s: Cache-Control %s", path,
                      cc != NULL ? cc : "(none)");
    if (r->status < 400)
        return;
    ck_assert_str_eq(lt_header(r, "Content-Type"), "application/problem+json");
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "type")), "about:blank");
    ck_assert(json_is_string(json_object_get(r->j_body, "title")));
    ck_assert(json_is_string(json_object_get(r->j_body, "detail")));
    ck_assert_int_eq(json_integer_value(json_object_get(r->j_body, "status")), r->status);
    ck_assert_msg(
        strlen(json_string_value(json_object_get(r->j_body, "instance"))) == plen &&
            strncmp(json_string_value(json_object_get(r->j_body, "instance")), path, plen) == 0,
        "instance of %s", path);
    if (r->status != 400 && r->status != 422)
        ck_assert_msg(json_object_get(r->j_body, "errors") == NULL, "%s: errors[] on %ld", path,
                      r->status);
    if (r->status == 401)
        ck_assert_msg(lt_header(r, "WWW-Authenticate") != NULL &&
                          strncmp(lt_header(r, "WWW-Authenticate"), "Bearer", 6) == 0,
                      "%s: 401 without a Bearer challenge", path);
}

struct call {
    const char *method, *path; /* "%s" in path: the id made for the test */
    int auth;                  /* 0 public, 1 user token, 2 admin token */
    const char *body;
    long status;
};

START_TEST(headers_and_problems_everywhere)
{
    static const struct call calls[] = {
        {"POST", "/api/auth/register", 0, "{\"username\":\"x\"}", 422},
        {"POST", "/api/auth/register", 0, "{\"username\":\"admin\",\"password\":\"" PW "\"}", 409},
        {"POST", "/api/auth/login", 0, "{\"username\":\"nobody-here\",\"password\":\"x\"}", 401},
        {"POST", "/api/auth/login", 0, "{\"username\":", 400},
        {"POST", "/api/auth/refresh", 0, "{\"refresh_token\":\"nope\"}", 401},
        {"POST", "/api/auth/refresh", 0, "{}", 422},
        {"GET", "/api/auth/jwks", 0, NULL, 200},
        {"DELETE", "/api/auth/jwks", 0, NULL, 405},
        {"POST", "/api/auth/logout", 0, NULL, 401},
        {"GET", "/api/users/me", 1, NULL, 200},
        {"GET", "/api/users/me", 0, NULL, 401},
        {"PATCH", "/api/users/me", 1, "{\"email\":\"nope\"}", 422},
        {"PATCH", "/api/users/me", 1, "{\"password\":\"" PW "x\"}", 403},
        {"GET", "/api/users?limit=5", 1, NULL, 200},
        {"GET", "/api/users?limit=-1", 1, NULL, 422},
        {"GET", "/api/users/1", 1, NULL, 403},
        {"GET", "/api/users/999999999", 2, NULL, 404},
        {"PATCH", "/api/users/1", 2, "{\"role\":\"king\"}", 422},
        {"PUT", "/api/users/1", 2, "{}", 405},
        {"POST", "/api/numbers", 1, "{\"value\":1.5}", 201},
        {"POST", "/api/numbers", 1, "{\"value\":0}", 422},
        {"GET", "/api/numbers?offset=1", 1, NULL, 200},
        {"GET", "/api/numbers/%s", 1, NULL, 200},
        {"PUT", "/api/numbers/%s", 1, "{\"value\":\"5\"}", 422},
        {"GET", "/api/numbers/999999999", 1, NULL, 404},
        {"GET", "/api/numbers/stats", 1, NULL, 200},
        {"PATCH", "/api/numbers/%s", 1, "{}", 405},
        {"POST", "/api/tasks", 1, "{\"title\":\"contract\"}", 201},
        {"POST", "/api/tasks", 1, "{\"title\":\" \"}", 422},
        {"GET", "/api/tasks?done=false", 1, NULL, 200},
        {"GET", "/api/tasks?done=yes", 1, NULL, 422},
        {"PATCH", "/api/tasks/999999999", 1, "{\"done\":true}", 404},
        {"DELETE", "/api/tasks", 1, NULL, 405},
        {"GET", "/api/no-such-thing", 1, NULL, 404},
    };
    char *user = NULL, *admin = admin_token(), *path, id[32] = "0";
    struct lt_resp r;
    size_t i;

    ck_assert_int_eq(lt_register(url, "hdr", PW, &user, NULL, NULL), 0);
    for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        const struct call *c = &calls[i];
        const char *token = c->auth == 0 ? NULL : c->auth == 1 ? user : admin;

        path = fmt(c->path, id);
        ck_assert_int_eq(lt_json(url, c->method, path, token, c->body, &r), 0);
        ck_assert_msg(r.status == c->status, "%s %s: %ld, expected %ld: %s", c->method, path,
                      r.status, c->status, r.body);
        assert_reply(&r, path, c->auth != 0 && r.status != 404 && r.status != 405);
        if (r.status == 405)
            ck_assert_ptr_nonnull(lt_header(&r, "Allow"));
        if (r.status == 201 && strcmp(c->path, "/api/numbers") == 0)
            snprintf(id, sizeof(id), "%lld",
                     (long long)json_integer_value(json_object_get(r.j_body, "id")));
        lt_resp_clear(&r);
        free(path);
    }
    free(user);
    free(admin);
}
END_TEST

/* A 422 names its field in the detail sentence and in errors[]. */
START_TEST(unprocessable_names_the_field)
{
    static const struct call calls[] = {
        {"POST", "/api/auth/register", 0, "{\"username\":\"ok-name\",\"password\":\"short\"}", 422},
        {"POST", "/api/auth/login", 0, "{\"password\":\"x\"}", 422},
        {"POST", "/api/auth/refresh", 0, "{\"refresh_token\":5}", 422},
        {"PATCH", "/api/users/me", 1, "{\"username\":\"a\"}", 422},
        {"GET", "/api/users?skip=x", 1, NULL, 422},
        {"POST", "/api/numbers", 1, "{\"value\":true}", 422},
        {"GET", "/api/numbers?limit=1.5", 1, NULL, 422},
        {"POST", "/api/tasks", 1, "{\"title\":\"t\",\"done\":1}", 422},
        {"GET", "/api/tasks?offset=-1", 1, NULL, 422},
        {"GET", "/api/datapoints?limit=x", 1, NULL, 422},
    };
    static const char *const fields[] = {"password", "username", "refresh_token", "username",
                                         "skip",     "value",    "limit",         "done",
                                         "offset",   "limit"};
    char *user = NULL;
    struct lt_resp r;
    const char *field, *detail;
    size_t i;

    ck_assert_int_eq(lt_register(url, "f", PW, &user, NULL, NULL), 0);
    for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        ck_assert_int_eq(lt_json(url, calls[i].method, calls[i].path, calls[i].auth ? user : NULL,
                                 calls[i].body, &r),
                         0);
        ck_assert_msg(r.status == 422, "%s: %ld %s", calls[i].path, r.status, r.body);
        field = lt_path_str(r.j_body, "errors.0.field");
        detail = lt_path_str(r.j_body, "detail");
        ck_assert_msg(field != NULL && strcmp(field, fields[i]) == 0, "%s: %s", calls[i].path,
                      r.body);
        ck_assert_msg(detail != NULL && strncmp(detail, fields[i], strlen(fields[i])) == 0,
                      "%s: detail does not name %s: %s", calls[i].path, fields[i], r.body);
        lt_resp_clear(&r);
    }
    free(user);
}
END_TEST

/* JSON without a Content-Type is accepted; unknown keys are ignored. */
START_TEST(no_content_type_and_unknown_keys)
{
    char *name = lt_unique("nct"), *body, *token = NULL, *path;
    struct lt_resp r;
    long long id;

    body = fmt("{\"username\":\"%s\",\"password\":\"%s\",\"color\":\"blue\"}", name, PW);
    ck_assert_int_eq(
        lt_request(url, "POST", "/api/auth/register", NULL, NULL, body, (size_t)-1, NULL, &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_request(url, "POST", "/api/auth/login", NULL, NULL, body, (size_t)-1, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    token = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(url, "POST", "/api/numbers", token, NULL,
                                "{\"value\":2,\"unit\":\"kg\"}", (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_null(json_object_get(r.j_body, "unit"));
    id = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    path = fmt("/api/numbers/%lld", id);
    ck_assert_int_eq(
        lt_request(url, "PUT", path, token, NULL, "{\"value\":3,\"x\":[]}", (size_t)-1, NULL, &r),
        0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    free(path);
    ck_assert_int_eq(lt_request(url, "POST", "/api/tasks", token, NULL,
                                "{\"title\":\"t\",\"priority\":9}", (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_null(json_object_get(r.j_body, "priority"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(url, "PATCH", "/api/users/me", token, NULL, "{\"shoe_size\":44}",
                                (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    assert_user(r.j_body);
    lt_resp_clear(&r);
    free(token);
    free(body);
    free(name);
}
END_TEST

/*
 * {items, total, limit, offset} (+ next on the keyset lists of numbers and tasks); defaults
 * 100/0; skip = offset; bad values 422.
 */
START_TEST(list_envelopes)
{
    static const char *const lists[] = {"/api/numbers", "/api/tasks", "/api/users"};
    static const char *const keys[] = {"items", "total", "limit", "offset", NULL};
    static const char *const keyset_keys[] = {"items", "total", "limit", "offset", "next", NULL};
    static const char *const bad[] = {"limit=-1",  "limit=1.5",  "limit=1001", "limit=x",
                                      "offset=-1", "offset=2.0", "skip=-3",    "skip=1e2"};
    char *user = NULL, *path;
    struct lt_resp r;
    size_t i, k;

    ck_assert_int_eq(lt_register(url, "list", PW, &user, NULL, NULL), 0);
    for (k = 0; k < 4; k++) { /* two numbers and two tasks: a page of one past the first is full */
        ck_assert_int_eq(lt_json(url, "POST", k < 2 ? "/api/numbers" : "/api/tasks", user,
                                 k < 2 ? "{\"value\":7}" : "{\"title\":\"a\"}", &r),
                         0);
        ck_assert_int_eq(r.status, 201);
        lt_resp_clear(&r);
    }
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(lt_json(url, "GET", lists[i], user, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        assert_keys(r.j_body, i < 2 ? keyset_keys : keys);
        ck_assert(json_is_array(json_object_get(r.j_body, "items")));
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 100);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 0);
        ck_assert_int_ge(json_integer_value(json_object_get(r.j_body, "total")), 1);
        lt_resp_clear(&r);

        path = fmt("%s?skip=1&limit=1", lists[i]);
        ck_assert_int_eq(lt_json(url, "GET", path, user, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 1);
        /* every list holds at least two (users: the admin and this user) */
        ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
        lt_resp_clear(&r);
        free(path);

        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            path = fmt("%s?%s", lists[i], bad[k]);
            ck_assert_int_eq(lt_json(url, "GET", path, user, NULL, &r), 0);
            ck_assert_msg(r.status == 422, "%s: %ld", path, r.status);
            assert_reply(&r, path, 1);
            ck_assert(json_is_array(json_object_get(r.j_body, "errors")));
            lt_resp_clear(&r);
            free(path);
        }
    }
    free(user);
}
END_TEST

/* A 200 list reply with a non-empty items array (so a loop over it checks something). */
static void assert_items(const struct lt_resp *r)
{
    ck_assert_int_eq(r->status, 200);
    ck_assert(json_is_array(json_object_get(r->j_body, "items")));
    ck_assert_int_ge(json_array_size(json_object_get(r->j_body, "items")), 1);
}

/* User, number and task records: exactly their fields, never a hash, ISO timestamps. */
START_TEST(record_shapes)
{
    static const char *const number_keys[] = {"id", "value", "created_at", "updated_at", NULL};
    static const char *const task_keys[] = {"id",         "title",      "description", "done",
                                            "created_at", "updated_at", NULL};
    static const char *const public_keys[] = {"id", "username", NULL};
    char *name = lt_unique("shape"), *body, *token = NULL, *admin = admin_token(), *path;
    struct lt_resp r;
    json_t *j_item;
    size_t i;
    long long id;

    body = fmt("{\"username\":\"%s\",\"password\":\"%s\",\"email\":\"%s@Example.COM\"}", name, PW,
               name);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 201);
    assert_user(json_object_get(r.j_body, "user"));
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "token_type")), "bearer");
    ck_assert(json_is_integer(json_object_get(r.j_body, "expires_in")));
    ck_assert(json_is_string(json_object_get(r.j_body, "refresh_token")));
    ck_assert_ptr_null(strstr(r.body, "$y$"));
    ck_assert_ptr_null(strstr(r.body, "hash"));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(json_object_get(r.j_body, "user"), "email")),
               "@example.com"));
    id = json_integer_value(json_object_get(json_object_get(r.j_body, "user"), "id"));
    token = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_user(r.j_body);
    ck_assert(json_is_null(json_object_get(r.j_body, "avatar_url")));
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "role")), "user");
    lt_resp_clear(&r);

    /* the list: {id, username} for a user, full records for an admin; never a hash */
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1000", token, NULL, &r), 0);
    assert_items(&r);
    json_array_foreach(json_object_get(r.j_body, "items"), i, j_item)
        assert_keys(j_item, public_keys);
    ck_assert_ptr_null(strstr(r.body, "hash"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1000", admin, NULL, &r), 0);
    assert_items(&r);
    json_array_foreach(json_object_get(r.j_body, "items"), i, j_item)
        assert_user(j_item);
    ck_assert_ptr_null(strstr(r.body, "hash"));
    lt_resp_clear(&r);
    /* an admin token narrowed at login to numbers:read is no key to the emails */
    free(admin);
    admin = NULL;
    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, "numbers:read", &admin, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users?limit=1000", admin, NULL, &r), 0);
    assert_items(&r);
    json_array_foreach(json_object_get(r.j_body, "items"), i, j_item)
        assert_keys(j_item, public_keys);
    lt_resp_clear(&r);
    free(admin);
    admin = admin_token();
    path = fmt("/api/users/%lld", id);
    ck_assert_int_eq(lt_json(url, "GET", path, admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_user(r.j_body);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "PATCH", path, admin, "{\"email\":null}", &r), 0);
    ck_assert_int_eq(r.status, 200);
    assert_user(r.j_body);
    lt_resp_clear(&r);
    free(path);

    ck_assert_int_eq(lt_json(url, "POST", "/api/numbers", token, "{\"value\":0.1}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    assert_keys(r.j_body, number_keys);
    assert_timestamp(r.j_body, "created_at");
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":0.1,"));
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/json");
    ck_assert_ptr_null(strchr(r.body, '\n')); /* compact */
    ck_assert_ptr_null(strstr(r.body, ": "));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/tasks", token, "{\"title\":\"x\"}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    assert_keys(r.j_body, task_keys);
    assert_timestamp(r.j_body, "updated_at");
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    free(token);
    free(admin);
    free(body);
    free(name);
}
END_TEST

/* Header, claims and scopes of access tokens; token replies are never cached. */
START_TEST(tokens)
{
    static const char *const claim_keys[] = {"iss", "aud", "sub",  "iat",   "nbf", "exp",
                                             "jti", "sid", "role", "scope", NULL};
    char *name = lt_unique("tok"), *body, *sub;
    struct lt_resp r, jwks;
    json_t *j_head, *j_claims, *j_key;
    const char *token, *kid;
    size_t i;
    int found = 0;

    body = fmt("{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "no-store");
    token = json_string_value(json_object_get(r.j_body, "access_token"));
    j_head = token_part(token, 0);
    j_claims = token_part(token, 1);
    ck_assert_str_eq(json_string_value(json_object_get(j_head, "typ")), "at+jwt");
    ck_assert_str_eq(json_string_value(json_object_get(j_head, "alg")), "EdDSA");
    kid = json_string_value(json_object_get(j_head, "kid"));
    ck_assert_int_eq(lt_json(url, "GET", "/api/auth/jwks", NULL, NULL, &jwks), 0);
    ck_assert_int_eq(jwks.status, 200);
    json_array_foreach(json_object_get(jwks.j_body, "keys"), i, j_key)
        found |= kid != NULL && json_is_string(json_object_get(j_key, "kid")) &&
                 strcmp(json_string_value(json_object_get(j_key, "kid")), kid) == 0;
    ck_assert_msg(found, "the token's kid is not in the JWK Set");
    lt_resp_clear(&jwks);
    assert_keys(j_claims, claim_keys);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "iss")), "lintel");
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "aud")), "lintel-api");
    sub = fmt("%lld", (long long)json_integer_value(
                          json_object_get(json_object_get(r.j_body, "user"), "id")));
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "sub")), sub);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "role")), "user");
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "scope")), SCOPES_USER);
    ck_assert_int_eq(json_integer_value(json_object_get(j_claims, "exp")) -
                         json_integer_value(json_object_get(j_claims, "iat")),
                     json_integer_value(json_object_get(r.j_body, "expires_in")));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "expires_in")), 900);
    json_decref(j_head);
    json_decref(j_claims);
    lt_resp_clear(&r);

    /* login: JSON and form, narrowed scope; the reply is not to be cached */
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL,
                             "{\"username\":\"admin\",\"password\":\"" LT_ADMIN_PASSWORD "\"}", &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "scope")), SCOPES_ADMIN);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "no-store");
    j_claims = token_part(json_string_value(json_object_get(r.j_body, "access_token")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "scope")), SCOPES_ADMIN);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "role")), "admin");
    json_decref(j_claims);
    lt_resp_clear(&r);
    free(body);
    body = fmt("grant_type=password&username=%s&password=%s&scope=tasks%%3Aread+profile", name, PW);
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/login", NULL,
                                "application/x-www-form-urlencoded", body, (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "scope")), "tasks:read profile");
    lt_resp_clear(&r);
    free(body);
    body = fmt("{\"username\":\"%s\",\"password\":\"%s\",\"scope\":\"users:admin\"}", name, PW);
    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 400); /* a role cannot ask for more than it has */
    lt_resp_clear(&r);
    free(body);
    free(sub);
    free(name);
}
END_TEST

/* A 1x1 PNG. */
static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92,
    0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* The user record's avatar_url is the one the avatar upload answered, and null without one. */
START_TEST(avatar_url_in_user_record)
{
    char *token = NULL, *avatar = NULL;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "ava", PW, &token, NULL, NULL), 0);
    ck_assert_int_eq(lt_request(url, "PUT", "/api/users/me/avatar", token, "image/png",
                                (const char *)png, sizeof(png), NULL, &r),
                     0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    avatar = strdup(json_string_value(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "avatar_url")), avatar);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "DELETE", "/api/users/me/avatar", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "GET", "/api/users/me", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    free(avatar);
    free(token);
}
END_TEST

static Suite *contract_suite(void)
{
    Suite *s = suite_create("contract");
    TCase *tc = tcase_create("api.md");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, headers_and_problems_everywhere);
    tcase_add_test(tc, unprocessable_names_the_field);
    tcase_add_test(tc, no_content_type_and_unknown_keys);
    tcase_add_test(tc, list_envelopes);
    tcase_add_test(tc, record_shapes);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, avatar_url_in_user_record);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    url = lt_shared_url();
    if (url == NULL) {
        fprintf(stderr, "no shared server\n");
        return EXIT_FAILURE;
    }
    sr = srunner_create(contract_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
