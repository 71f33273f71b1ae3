/*
 * Black-box tests of the "fender" compatibility profile (seed 003) on a private server: every
 * endpoint of wire.md with its exact bodies, validation items, logout of every session.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <orcania.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fender_env[] = {"LINTEL_COMPAT=fender", NULL};

static void fender_start(void)
{
    lt_compat_start(fender_env);
}

/* The reply is exactly status and body (compact JSON text, or "" for none). */
static void expect(const char *method, const char *path, const char *token, const char *body,
                   long status, const char *reply)
{
    struct lt_resp r;

    lt_compat_send(&r, method, path, token, body);
    ck_assert_msg(r.status == status, "%s %s: expected %ld, got %ld: %s", method, path, status,
                  r.status, r.body);
    ck_assert_str_eq(r.body != NULL ? r.body : "", reply);
    lt_resp_clear(&r);
}

/* A 422 whose first item has type, loc ["body", field] and msg. */
static void expect_item(const char *method, const char *path, const char *token, const char *body,
                        const char *type, const char *field, const char *msg)
{
    struct lt_resp r;
    const json_t *j_item;

    lt_compat_send(&r, method, path, token, body);
    ck_assert_msg(r.status == 422, "expected 422, got %ld: %s", r.status, r.body);
    j_item = json_array_get(json_object_get(r.j_body, "detail"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "type")), type);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j_item, "loc"), 1)), field);
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "msg")), msg);
    lt_resp_clear(&r);
}

/* POST /api/login with the OAuth2 form; the status, *r the reply. */
static long form_login(struct lt_resp *r, const char *email, const char *password)
{
    char body[512];

    snprintf(body, sizeof(body), "username=%s&password=%s", email, password);
    ck_assert_int_eq(lt_request(lt_compat.url, "POST", "/api/login", NULL,
                                "application/x-www-form-urlencoded", body, (size_t)-1, NULL, r),
                     0);
    return r->status;
}

/* A fresh e-mail address (malloc'd). */
static char *fresh_email(const char *prefix)
{
    char *u = lt_unique(prefix), *e = malloc(strlen(u) + 16);

    ck_assert_ptr_nonnull(e);
    sprintf(e, "%s@Example.COM", u);
    free(u);
    return e;
}

/* Registers {name, email, password} (204) and logs in; the access token (malloc'd). */
static char *register_login(const char *name, const char *email, const char *password)
{
    struct lt_resp r;
    char body[512], *t;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"email\":\"%s\",\"password\":\"%s\"}", name,
             email, password);
    expect("POST", "/api/users/register", NULL, body, 204, "");
    ck_assert_int_eq(form_login(&r, email, password), 200);
    ck_assert_int_eq(json_object_size(r.j_body), 1); /* access_token alone */
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    return t;
}

/* The claims of a JWT (base64url with orcania). */
static json_t *jwt_claims(const char *token)
{
    const char *p = strchr(token, '.') + 1, *end = strchr(p, '.');
    unsigned char out[2048];
    size_t len = 0;

    ck_assert(end != NULL && (size_t)(end - p) < sizeof(out));
    ck_assert(o_base64url_decode((const unsigned char *)p, (size_t)(end - p), out, &len));
    return json_loadb((const char *)out, len, 0, NULL);
}

/* The README's session: health, register, login, me, update, logout, delete. */
START_TEST(readme_session)
{
    struct lt_resp r;
    char *email = fresh_email("ada"), *lower, body[512], *t, *admin = NULL, id[64];
    json_t *j_claims;

    expect("GET", "/health", NULL, NULL, 200, "{\"status\":\"OK\"}");
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/health", NULL, NULL), 200); /* lintel's own */
    lt_resp_clear(&r);
    t = register_login("Ada", email, "password123");
    /* the domain is lower-cased, the local part kept */
    lower = strdup(email);
    strcpy(strchr(lower, '@'), "@example.com");
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t, NULL), 200);
    ck_assert_int_eq(json_object_size(r.j_body), 3);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "email")), lower);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.j_body, "id")));
    ck_assert_int_eq(strlen(id), 36);
    ck_assert_int_eq(id[14], '4');
    snprintf(body, sizeof(body), "{\"name\":\"Ada\",\"email\":\"%s\",\"id\":\"%s\"}", lower, id);
    ck_assert_str_eq(r.body, body); /* exact, in the seed's order */
    lt_resp_clear(&r);
    /* the token: sub is the opaque id, type access, 30 minutes */
    j_claims = jwt_claims(t);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "sub")), id);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "type")), "access");
    ck_assert_int_eq(json_integer_value(json_object_get(j_claims, "exp")) -
                         json_integer_value(json_object_get(j_claims, "iat")),
                     1800);
    json_decref(j_claims);
    /* PATCH {} changes nothing; a name change shows */
    expect("PATCH", "/api/users/me", t, "{}", 200, body);
    ck_assert_int_eq(lt_compat_send(&r, "PATCH", "/api/users/me", t, "{\"name\":\"Ada L.\"}"), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "name")), "Ada L.");
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "id")), id);
    lt_resp_clear(&r);
    /* the same account through lintel's own API: the e-mail is lintel's users.email */
    ck_assert_int_eq(lt_login(lt_compat.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users?limit=1000", admin, NULL), 200);
    ck_assert_ptr_nonnull(strstr(r.body, lower));
    lt_resp_clear(&r);
    free(admin);
    expect("DELETE", "/api/users/me", t, NULL, 204, "");
    expect("GET", "/api/users/me", t, NULL, 401, "{\"detail\":\"Invalid token\"}");
    ck_assert_int_eq(form_login(&r, email, "password123"), 401);
    ck_assert_str_eq(r.body, "{\"detail\":\"Invalid email or password\"}");
    lt_resp_clear(&r);
    /* the address is free again */
    free(register_login("Ada", email, "password123"));
    free(t);
    free(lower);
    free(email);
}
END_TEST

START_TEST(register_and_login_errors)
{
    struct lt_resp r;
    char *email = fresh_email("dup"), body[512];

    free(register_login("Dup", email, "password123"));
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"email\":\"%s\",\"password\":\"password123\"}",
             email);
    expect("POST", "/api/users/register", NULL, body, 400, "{\"detail\":\"Email already exists\"}");
    expect_item("POST", "/api/users/register", NULL,
                "{\"name\":\"x\",\"email\":\"nope\",\"password\":\"password123\"}", "value_error",
                "email",
                "value is not a valid email address: An email address must have an @-sign.");
    expect_item("POST", "/api/users/register", NULL,
                "{\"name\":\"x\",\"email\":\"a@b.test\",\"password\":\"password123\"}",
                "value_error", "email",
                "value is not a valid email address: The part after the @-sign is a special-use "
                "or reserved name that cannot be used with email.");
    lt_compat_send(&r, "POST", "/api/users/register", NULL,
                   "{\"name\":\"x\",\"email\":\"short@example.com\",\"password\":\"1234567\"}");
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(r.body,
                     "{\"detail\":[{\"type\":\"string_too_short\",\"loc\":[\"body\",\"password\"],"
                     "\"msg\":\"String should have at least 8 characters\",\"input\":\"1234567\","
                     "\"ctx\":{\"min_length\":8}}]}");
    lt_resp_clear(&r);
    {
        char big[256];
        memset(big, 'x', 129);
        big[129] = '\0';
        snprintf(body, sizeof(body),
                 "{\"name\":\"x\",\"email\":\"l@example.com\",\"password\":\"%s\"}", big);
        expect_item("POST", "/api/users/register", NULL, body, "string_too_long", "password",
                    "String should have at most 128 characters");
    }
    expect_item("POST", "/api/users/register", NULL,
                "{\"email\":\"m@example.com\",\"password\":\"password123\"}", "missing", "name",
                "Field required");
    expect_item("POST", "/api/users/register", NULL,
                "{\"name\":1,\"email\":\"m@example.com\",\"password\":\"password123\"}",
                "string_type", "name", "Input should be a valid string");
    /* login: wrong password and unknown e-mail are one answer */
    ck_assert_int_eq(form_login(&r, email, "wrongpassword"), 401);
    ck_assert_str_eq(r.body, "{\"detail\":\"Invalid email or password\"}");
    lt_resp_clear(&r);
    ck_assert_int_eq(form_login(&r, "nobody@example.com", "password123"), 401);
    ck_assert_str_eq(r.body, "{\"detail\":\"Invalid email or password\"}");
    lt_resp_clear(&r);
    ck_assert_int_eq(form_login(&r, "", "password123"), 422);
    lt_resp_clear(&r);
    free(email);
}
END_TEST

START_TEST(auth_errors_and_logout)
{
    struct lt_resp r;
    char *email = fresh_email("out"), *a, *b;

    expect("GET", "/api/users/me", NULL, NULL, 401, "{\"detail\":\"Not authenticated\"}");
    lt_compat_send(&r, "GET", "/api/users/me", NULL, NULL);
    ck_assert_str_eq(lt_header(&r, "www-authenticate"), "Bearer");
    lt_resp_clear(&r);
    expect("GET", "/api/users/me", "not-a-token", NULL, 401, "{\"detail\":\"Invalid token\"}");
    expect("POST", "/api/logout", NULL, NULL, 401, "{\"detail\":\"Not authenticated\"}");
    a = register_login("Out", email, "password123");
    ck_assert_int_eq(form_login(&r, email, "password123"), 200);
    b = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    expect("POST", "/api/logout", a, NULL, 204, "");
    /* every session of the user ends, not only the one logging out */
    expect("GET", "/api/users/me", a, NULL, 401, "{\"detail\":\"Invalid token\"}");
    expect("GET", "/api/users/me", b, NULL, 401, "{\"detail\":\"Invalid token\"}");
    free(a);
    free(b);
    free(email);
}
END_TEST

/* DELETE /api/users/me is the host's account deletion: the last admin stays, in the seed's shape.
 */
START_TEST(delete_keeps_last_admin)
{
    char *admin = NULL;

    ck_assert_int_eq(lt_login(lt_compat.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
    expect("DELETE", "/api/users/me", admin, NULL, 409,
           "{\"detail\":\"This is the last admin; make another admin first\"}");
    free(admin);
}
END_TEST

START_TEST(patch_rules)
{
    struct lt_resp r;
    char *e1 = fresh_email("p1"), *e2 = fresh_email("p2"), *t, *other, body[512];

    t = register_login("One", e1, "password123");
    other = register_login("Two", e2, "password123");
    snprintf(body, sizeof(body), "{\"email\":\"%s\"}", e2);
    expect("PATCH", "/api/users/me", t, body, 400, "{\"detail\":\"Email already exists\"}");
    snprintf(body, sizeof(body), "{\"email\":\"%s\"}", e1); /* its own: fine */
    ck_assert_int_eq(lt_compat_send(&r, "PATCH", "/api/users/me", t, body), 200);
    lt_resp_clear(&r);
    expect_item("PATCH", "/api/users/me", t, "{\"name\":null}", "string_type", "name",
                "Input should be a valid string");
    expect_item("PATCH", "/api/users/me", t, "{\"password\":\"short\"}", "string_too_short",
                "password", "String should have at least 8 characters");
    expect_item("PATCH", "/api/users/me", t, "{\"email\":\"bad@\"}", "value_error", "email",
                "value is not a valid email address: There must be something after the @-sign.");
    /* a new password: the old one fails, the new one logs in, the caller's session stays */
    ck_assert_int_eq(
        lt_compat_send(&r, "PATCH", "/api/users/me", t, "{\"password\":\"newpassword1\"}"), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(form_login(&r, e1, "password123"), 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(form_login(&r, e1, "newpassword1"), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "name")), "One");
    lt_resp_clear(&r);
    /* each account sees only itself */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", other, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "name")), "Two");
    lt_resp_clear(&r);
    free(t);
    free(other);
    free(e1);
    free(e2);
}
END_TEST

/* The seed's bcrypt hash of "admin" (seed 002's fixture; the same passlib scheme, cost 12). */
#define SEED_HASH "$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG"

/* A USER item of the seed's table in DynamoDB JSON (scan output), and as one line. */
#define SEED_ITEM(uuid, name, email)                                                               \
    "{\"PK\":{\"S\":\"USER\"},\"SK\":{\"S\":\"USER#" uuid "\"},\"_TYPE\":{\"S\":\"USER\"},"        \
    "\"id\":{\"S\":\"" uuid "\"},\"name\":{\"S\":\"" name "\"},\"email\":{\"S\":\"" email "\"},"   \
    "\"password_hash\":{\"S\":\"" SEED_HASH "\"}}"
#define SEED_USER(uuid, name, email) SEED_ITEM(uuid, name, email) "\n"
#define SEED_UUID                    "5c324722-67bf-4e2f-8d2d-727fb598e380"

/* lintel import fender: seed 003's DynamoDB items as JSON lines, all or nothing. */
START_TEST(import_dynamodb_jsonl)
{
    struct lt_server s;
    struct lt_resp r;
    char env_dir[4200], kept[4200], *t;
    const char *env[] = {"LINTEL_COMPAT=fender", env_dir, NULL};
    static const char good[] =
        SEED_USER(SEED_UUID, "John Doe",
                  "john@Example.com") "{\"PK\":{\"S\":\"USER#" SEED_UUID
                                      "\"},\"SK\":{\"S\":\"TOKEN#eyJ.x.y\"},"
                                      "\"_TYPE\":{\"S\":\"TOKEN\"},\"id\":{\"S\":\"eyJ.x.y\"},"
                                      "\"expires_at\":{\"N\":\"1747712345\"}}\n"
                                      "\n"
                                      "{\"Item\":" SEED_ITEM("0f6b2d1e-3a4c-4b5d-9e6f-7a8b9c0d1e2f",
                                                             "Ana", "ana@example.org") "}\n";

    ck_assert_int_eq(lt_server_prepare(&s, env, env_dir, sizeof(env_dir), kept, sizeof(kept)), 0);
    /* a cut last line is named, and the user of line 1 is not kept either (the run below) */
    lt_import_expect(
        s.data_dir, env, "fender",
        SEED_USER(SEED_UUID, "John Doe", "john@example.com") "{\"PK\":{\"S\":\"USER\"}", 1,
        "line 2: not JSON");
    /* an address lintel's rule refuses, and an item of another type */
    lt_import_expect(s.data_dir, env, "fender",
                     SEED_USER(SEED_UUID, "John Doe", "john@example.com")
                         SEED_USER("6c324722-67bf-4e2f-8d2d-727fb598e380", "X", "not-an-email"),
                     1, "line 2: account 'not-an-email' refused");
    lt_import_expect(s.data_dir, env, "fender", "{\"_TYPE\":{\"S\":\"ORDER\"}}\n", 1,
                     "line 1: not a USER or TOKEN item");
    lt_import_expect(s.data_dir, env, "fender", good, 0, "(fender): users 2 tokens skipped 1");
    lt_import_expect(s.data_dir, env, "fender", good, 1,
                     "line 1: 'john@Example.com' is already a lintel account");
    /* the seed's hash logs in, and the seed's id and name are what its clients see */
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_request(s.url, "POST", "/api/login", NULL,
                                "application/x-www-form-urlencoded",
                                "username=john@example.com&password=admin", (size_t)-1, NULL, &r),
                     0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", t, NULL, &r), 0);
    ck_assert_str_eq(
        r.body, "{\"name\":\"John Doe\",\"email\":\"john@example.com\",\"id\":\"" SEED_UUID "\"}");
    lt_resp_clear(&r);
    free(t);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(system(kept), 0);
}
END_TEST

static Suite *fender_suite(void)
{
    Suite *s = suite_create("compat_fender");
    TCase *tc = tcase_create("fender");

    tcase_add_unchecked_fixture(tc, fender_start, lt_compat_stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, readme_session);
    tcase_add_test(tc, register_and_login_errors);
    tcase_add_test(tc, auth_errors_and_logout);
    tcase_add_test(tc, patch_rules);
    tcase_add_test(tc, delete_keeps_last_admin);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, import_dynamodb_jsonl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lt_run_suite(fender_suite());
}
