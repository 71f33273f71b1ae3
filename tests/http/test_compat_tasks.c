/*
 * Black-box tests of the "tasks" compatibility profile (seed 004) on a private server: the
 * README's manual flow, the FastAPI error shapes, ownership and revocation.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tasks_env[] = {"LINTEL_COMPAT=tasks", "LINTEL_PASSWORD_MIN=4", NULL};

static void tasks_start(void)
{
    lt_compat_start(tasks_env);
}

/* {"detail": detail} with status, and nothing else. */
static void expect_detail(const char *method, const char *path, const char *token, const char *body,
                          long status, const char *detail)
{
    struct lt_resp r;

    lt_compat_send(&r, method, path, token, body);
    ck_assert_msg(r.status == status, "%s %s: expected %ld, got %ld: %s", method, path, status,
                  r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")), detail);
    ck_assert_int_eq(json_object_size(r.j_body), 1);
    lt_resp_clear(&r);
}

/* A 422 whose first pydantic item has type and loc ["body"|"path", field] and msg. */
static void expect_item(const char *method, const char *path, const char *token, const char *body,
                        const char *type, const char *where, const char *field, const char *msg)
{
    struct lt_resp r;
    const json_t *j_item;

    lt_compat_send(&r, method, path, token, body);
    ck_assert_msg(r.status == 422, "expected 422, got %ld: %s", r.status, r.body);
    j_item = json_array_get(json_object_get(r.j_body, "detail"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "type")), type);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j_item, "loc"), 0)), where);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j_item, "loc"), 1)), field);
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "msg")), msg);
    ck_assert_ptr_nonnull(json_object_get(j_item, "input"));
    lt_resp_clear(&r);
}

/* POST /users then POST /auth/login (JSON); the access token (malloc'd). */
static char *user_token(const char *prefix, long long *id)
{
    struct lt_resp r;
    char *name = lt_unique(prefix), body[256], *t;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"test123\"}", name);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/users", NULL, body), 201);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "username")), name);
    if (id != NULL)
        *id = (long long)json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_eq(json_object_size(r.j_body), 2);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/auth/login", NULL, body), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "token_type")), "bearer");
    t = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    free(name);
    return t;
}

/* The README's flow: (1) no token, (2) create a user, (3) log in, (4) list users, (5) CRUD. */
START_TEST(readme_flow)
{
    struct lt_resp r;
    char *t, path[64];
    long long uid, id;
    const json_t *j;
    size_t i;
    int found = 0;

    expect_detail("POST", "/tasks", NULL, "{\"title\":\"x\"}", 401, "Not authenticated");
    lt_compat_send(&r, "POST", "/tasks", NULL, "{\"title\":\"x\"}");
    ck_assert_str_eq(lt_header(&r, "www-authenticate"), "Bearer");
    lt_resp_clear(&r);
    t = user_token("testuser", &uid);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/users", t, NULL), 200);
    json_array_foreach(r.j_body, i, j) {
        ck_assert_int_eq(json_object_size(j), 2); /* id and username, never a password */
        if (json_integer_value(json_object_get(j, "id")) == uid)
            found = 1;
    }
    ck_assert(found);
    lt_resp_clear(&r);

    ck_assert_int_eq(
        lt_compat_send(&r, "POST", "/tasks", t, "{\"title\":\"buy milk\",\"description\":\"2 l\"}"),
        201);
    id = (long long)json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "title")), "buy milk");
    ck_assert(json_is_false(json_object_get(r.j_body, "completed")));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "owner_id")), uid);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/tasks", t, NULL), 200);
    ck_assert_int_eq(json_array_size(r.j_body), 1);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/tasks/%lld", id);
    ck_assert_int_eq(lt_compat_send(&r, "GET", path, t, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "description")), "2 l");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "PUT", path, t, "{\"title\":\"milk\",\"completed\":true}"),
                     200);
    ck_assert(json_is_true(json_object_get(r.j_body, "completed")));
    ck_assert(json_is_null(json_object_get(r.j_body, "description"))); /* a full replacement */
    lt_resp_clear(&r);
    /* the same row through lintel's own API */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/tasks", t, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    ck_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "done")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "DELETE", path, t, NULL), 204);
    lt_resp_clear(&r);
    expect_detail("GET", path, t, NULL, 404, "Task not found");
    expect_detail("DELETE", path, t, NULL, 404, "Task not found");
    free(t);
}
END_TEST

START_TEST(users_and_login_errors)
{
    struct lt_resp r;
    char *name = lt_unique("dup"), body[256];

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"test123\"}", name);
    ck_assert_int_eq(lt_compat_send(&r, "POST", "/users", NULL, body), 201);
    lt_resp_clear(&r);
    expect_detail("POST", "/users", NULL, body, 400, "Username already registered");
    expect_item("POST", "/users", NULL, "{\"username\":\"someone\"}", "missing", "body", "password",
                "Field required");
    expect_item("POST", "/users", NULL, "{\"username\":\"someone\",\"password\":\"x\"}",
                "value_error", "body", "password",
                "Value error, password must be at least 4 characters");
    expect_item("POST", "/users", NULL, "{\"username\":7,\"password\":\"test123\"}", "string_type",
                "body", "username", "Input should be a valid string");
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"wrong\"}", name);
    expect_detail("POST", "/auth/login", NULL, body, 401, "Incorrect username or password");
    lt_compat_send(&r, "POST", "/auth/login", NULL, body);
    ck_assert_str_eq(lt_header(&r, "www-authenticate"), "Bearer");
    lt_resp_clear(&r);
    /* the OAuth2 password form logs in too */
    snprintf(body, sizeof(body), "username=%s&password=test123", name);
    ck_assert_int_eq(lt_request(lt_compat.url, "POST", "/auth/login", NULL,
                                "application/x-www-form-urlencoded", body, (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    /* the list of users is not public (the seed's was: user enumeration) */
    expect_detail("GET", "/users", NULL, NULL, 401, "Not authenticated");
    free(name);
}
END_TEST

START_TEST(task_validation)
{
    char *t = user_token("valid", NULL);

    expect_item("POST", "/tasks", t, "{}", "missing", "body", "title", "Field required");
    expect_item("POST", "/tasks", t, "{\"title\":5}", "string_type", "body", "title",
                "Input should be a valid string");
    expect_item("POST", "/tasks", t, "{\"title\":\"  \"}", "value_error", "body", "title",
                "Value error, title must not be empty");
    expect_item("POST", "/tasks", t, "{\"title\":\"a\",\"completed\":\"maybe\"}", "bool_type",
                "body", "completed", "Input should be a valid boolean");
    expect_item("GET", "/tasks/abc", t, NULL, "int_parsing", "path", "task_id",
                "Input should be a valid integer, unable to parse string as an integer");
    expect_detail("GET", "/tasks/999999", t, NULL, 404, "Task not found");
    expect_detail("PUT", "/tasks/999999", t, "{\"title\":\"a\"}", 404, "Task not found");
    expect_detail("GET", "/tasks", "not-a-token", NULL, 401, "Could not validate credentials");
    free(t);
}
END_TEST

/* Another user's task is 404 everywhere; a deleted account's token stops working. */
START_TEST(ownership_and_revocation)
{
    struct lt_resp r;
    char *a = user_token("owner", NULL), *b = user_token("other", NULL), path[64];

    ck_assert_int_eq(lt_compat_send(&r, "POST", "/tasks", a, "{\"title\":\"mine\"}"), 201);
    snprintf(path, sizeof(path), "/tasks/%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    expect_detail("GET", path, b, NULL, 404, "Task not found");
    expect_detail("PUT", path, b, "{\"title\":\"theirs\"}", 404, "Task not found");
    expect_detail("DELETE", path, b, NULL, 404, "Task not found");
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/tasks", b, NULL), 200);
    ck_assert_int_eq(json_array_size(r.j_body), 0);
    lt_resp_clear(&r);
    /* "token and user validated on every request": a deleted user's token is refused */
    ck_assert_int_eq(lt_compat_send(&r, "DELETE", "/api/users/me", b, NULL), 204);
    lt_resp_clear(&r);
    expect_detail("GET", "/tasks", b, NULL, 401, "Could not validate credentials");
    free(a);
    free(b);
}
END_TEST

/* The seed's bcrypt hash of "admin" (passlib, cost 12, as seed 004 stores them). */
#define SEED_HASH "$2b$12$a/pMatsPyWuHa5KdqatsFOLZgPYjPZU4If4//jeretXqZ.ujoYFJG"
#define SEED_USERS                                                                                 \
    "{\"users\": {\"id\": 1, \"username\": \"testuser\", \"hashed_password\": \"" SEED_HASH        \
    "\"}}\n"                                                                                       \
    "{\"users\": {\"id\": 7, \"username\": \"other\", \"hashed_password\": \"" SEED_HASH "\"}}\n"

/* lintel import tasks: seed 004's users and tasks as JSON lines, all or nothing. */
START_TEST(import_jsonl)
{
    struct lt_server s;
    struct lt_resp r;
    char env_dir[4200], kept[4200], *t;
    const char *env[] = {"LINTEL_COMPAT=tasks", "LINTEL_PASSWORD_MIN=4", env_dir, NULL};

    ck_assert_int_eq(lt_server_prepare(&s, env, env_dir, sizeof(env_dir), kept, sizeof(kept)), 0);
    /* a task whose owner is no user of the file, a title the rules refuse, a cut line */
    lt_import_expect(s.data_dir, env, "tasks",
                     SEED_USERS "{\"tasks\": {\"id\": 1, \"title\": \"x\", \"owner_id\": 2}}\n", 1,
                     "line 3: owner_id is not the id of a user");
    lt_import_expect(s.data_dir, env, "tasks",
                     SEED_USERS "{\"tasks\": {\"id\": 1, \"title\": \"   \", \"owner_id\": 1}}\n",
                     1, "line 3 (tasks) refused: title");
    lt_import_expect(s.data_dir, env, "tasks", SEED_USERS "{\"tasks\": {\"id\"", 1,
                     "line 3: not JSON");
    lt_import_expect(s.data_dir, env, "tasks", "{\"notes\": {}}\n", 1,
                     "line 1: not {\"users\"|\"tasks\": {...}}");
    lt_import_expect(s.data_dir, env, "tasks",
                     SEED_USERS
                     "{\"tasks\": {\"id\": 1, \"title\": \"buy milk\", \"description\": \"2 l\","
                     " \"completed\": true, \"owner_id\": 1}}\n"
                     "{\"tasks\": {\"id\": 2, \"title\": \"theirs\", \"description\": null,"
                     " \"completed\": false, \"owner_id\": 7}}\n"
                     "{\"tasks\": {\"id\": 3, \"title\": \"call\", \"description\": null,"
                     " \"completed\": false, \"owner_id\": 1}}\n",
                     0, "imported 5 rows");
    /* a name lintel has now stops a second run: its tasks would go to someone else */
    lt_import_expect(s.data_dir, env, "tasks", SEED_USERS, 1,
                     "line 1: 'testuser' is already a lintel account");
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    t = lt_compat_token(s.url, "/auth/login", "application/json",
                        "{\"username\":\"testuser\",\"password\":\"admin\"}");
    ck_assert_int_eq(lt_json(s.url, "GET", "/tasks", t, NULL, &r), 0);
    ck_assert_int_eq(json_array_size(r.j_body), 2); /* the owner's two, in the seed's order */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r.j_body, 0), "title")),
                     "buy milk");
    ck_assert(json_is_true(json_object_get(json_array_get(r.j_body, 0), "completed")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r.j_body, 1), "title")),
                     "call");
    ck_assert(json_is_null(json_object_get(json_array_get(r.j_body, 1), "description")));
    lt_resp_clear(&r);
    free(t);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(system(kept), 0);
}
END_TEST

static Suite *tasks_suite(void)
{
    Suite *s = suite_create("compat_tasks");
    TCase *tc = tcase_create("tasks");

    tcase_add_unchecked_fixture(tc, tasks_start, lt_compat_stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, readme_flow);
    tcase_add_test(tc, users_and_login_errors);
    tcase_add_test(tc, task_validation);
    tcase_add_test(tc, ownership_and_revocation);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, import_jsonl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tasks_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
