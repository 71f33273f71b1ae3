/*
 * Black-box tests of the tasks plugin against the shared server: every route with its error
 * cases, PUT versus PATCH, the done filter, ownership across users (IDOR).
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "tasks-password-1"

/* Creates a task from a JSON body (asserting 201) and returns its id. */
static long long task_new(const struct lt_user *u, const char *body)
{
    struct lt_resp r;
    long long id;

    ck_assert_msg(lt_send(&r, "POST", "/api/tasks", u->token, body) == 201, "%ld %s", r.status,
                  r.body);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    lt_resp_clear(&r);
    return id;
}

/* A JSON body {"<field>": "<c repeated n times>"} plus extra (",..." or ""). */
static char *body_repeat(const char *field, char c, size_t n, const char *extra)
{
    json_t *j = json_object();
    char *text, *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    json_object_set_new(j, field, json_string(s));
    text = json_dumps(j, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    free(s);
    json_decref(j);
    if (extra[0] != '\0') { /* splice extra members in before the closing brace */
        size_t len = strlen(text);
        char *joined = malloc(len + strlen(extra) + 1);

        memcpy(joined, text, len - 1);
        strcpy(joined + len - 1, extra);
        strcat(joined, "}");
        free(text);
        text = joined;
    }
    return text;
}

static void expect_422(const struct lt_user *u, const char *method, const char *path,
                       const char *body, const char *field, const char *message)
{
    struct lt_resp r;

    lt_send(&r, method, path, u->token, body);
    lt_assert_422(&r, field, message);
    lt_resp_clear(&r);
}

static const char *str_of(const json_t *j_obj, const char *key)
{
    return json_string_value(json_object_get(j_obj, key));
}

START_TEST(create_and_get)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *body;
    long long id;

    lt_user_new(&u, "task", PASSWORD);
    ck_assert_int_eq(
        lt_send(&r, "POST", "/api/tasks", u.token, "{\"title\":\"  Buy milk \\t\\n\"}"), 201);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_str_eq(str_of(r.j_body, "title"), "Buy milk");
    ck_assert(json_is_null(json_object_get(r.j_body, "description")));
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    ck_assert_ptr_nonnull(str_of(r.j_body, "created_at"));
    ck_assert_ptr_nonnull(str_of(r.j_body, "updated_at"));
    ck_assert_int_eq(json_object_size(r.j_body), 6);
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    ck_assert_str_eq(lt_header(&r, "location"), path);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id);
    ck_assert_str_eq(str_of(r.j_body, "title"), "Buy milk");
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "POST", "/api/tasks", u.token,
                             "{\"title\":\"Write\",\"description\":\"the docs\",\"done\":true,"
                             "\"id\":1,\"extra\":null}"),
                     201);
    ck_assert_str_eq(str_of(r.j_body, "description"), "the docs");
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    ck_assert_int_ne(json_integer_value(json_object_get(r.j_body, "id")), 1);
    lt_resp_clear(&r);
    task_new(&u, "{\"title\":\"x\",\"description\":null,\"done\":false}");

    /* Limits: 200 characters (after trimming, in characters not bytes), 10 000 description. */
    body = body_repeat("title", 'x', 200, "");
    task_new(&u, body);
    free(body);
    body = body_repeat("title", ' ', 30, "");
    body[10] = 'y'; /* 30 characters, one of them not blank: "y" once trimmed */
    ck_assert_int_eq(lt_send(&r, "POST", "/api/tasks", u.token, body), 201);
    ck_assert_str_eq(str_of(r.j_body, "title"), "y");
    lt_resp_clear(&r);
    free(body);
    {
        /* 200 "é" are 400 bytes but 200 characters; padded with blanks that are trimmed. */
        char title[512] = "{\"title\":\"   ";
        size_t i;

        for (i = 0; i < 200; i++)
            strcat(title, "\xc3\xa9");
        strcat(title, "  \"}");
        task_new(&u, title);
    }
    body = body_repeat("description", 'd', 10000, ",\"title\":\"t\"");
    task_new(&u, body);
    free(body);
    lt_user_clear(&u);
}
END_TEST

START_TEST(bad_values)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *body;

    lt_user_new(&u, "task", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld", task_new(&u, "{\"title\":\"keep\"}"));

    expect_422(&u, "POST", "/api/tasks", "{}", "title", "is required");
    expect_422(&u, "POST", "/api/tasks", "{\"description\":\"d\"}", "title", "is required");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":null}", "title", "must be a string");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":5}", "title", "must be a string");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":true}", "title", "must be a string");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":[\"a\"]}", "title", "must be a string");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"\"}", "title", NULL);
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"   \"}", "title", NULL);
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"\\t\\n \\r\"}", "title", NULL);
    body = body_repeat("title", 'x', 201, "");
    expect_422(&u, "POST", "/api/tasks", body, "title", NULL);
    expect_422(&u, "PUT", path, body, "title", NULL);
    expect_422(&u, "PATCH", path, body, "title", NULL);
    free(body);
    body = body_repeat("description", 'd', 10001, ",\"title\":\"t\"");
    expect_422(&u, "POST", "/api/tasks", body, "description", NULL);
    expect_422(&u, "PATCH", path, body, "description", NULL);
    free(body);
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"t\",\"description\":5}", "description",
               NULL);
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"t\",\"done\":\"true\"}", "done",
               "must be a boolean");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"t\",\"done\":1}", "done",
               "must be a boolean");
    expect_422(&u, "POST", "/api/tasks", "{\"title\":\"t\",\"done\":null}", "done",
               "must be a boolean");
    /* Every bad field is reported at once. */
    lt_send(&r, "POST", "/api/tasks", u.token, "{\"title\":\"\",\"done\":0}");
    lt_assert_422(&r, "title", NULL);
    lt_assert_422(&r, "done", NULL);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_status("POST", "/api/tasks", u.token, "[]"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/tasks", u.token, "\"title\""), 422);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "[]"), 422);
    ck_assert_int_eq(lt_status("POST", "/api/tasks", u.token, "{\"title\":"), 400);
    ck_assert_int_eq(lt_status("PUT", path, u.token, "{'title':'x'}"), 400);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, ""), 400);
    ck_assert_int_eq(lt_request(lt_base(), "POST", "/api/tasks", u.token, "text/plain",
                                "{\"title\":\"t\"}", (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 415);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(lt_base(), "PATCH", path, u.token, "application/xml",
                                "{\"title\":\"t\"}", (size_t)-1, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 415);
    lt_resp_clear(&r);

    /* Nothing of the refused requests was stored or changed. */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    ck_assert_str_eq(str_of(json_array_get(json_object_get(r.j_body, "items"), 0), "title"),
                     "keep");
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(put_patch_delete)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *created_at;

    lt_user_new(&u, "task", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld",
             task_new(&u, "{\"title\":\"a\",\"description\":\"d\"}"));
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    created_at = strdup(str_of(r.j_body, "created_at"));
    lt_resp_clear(&r);

    /* PUT needs the whole task. */
    expect_422(&u, "PUT", path, "{\"title\":\"b\",\"description\":null}", "done", "is required");
    expect_422(&u, "PUT", path, "{\"title\":\"b\",\"done\":true}", "description", "is required");
    expect_422(&u, "PUT", path, "{\"description\":\"x\",\"done\":true}", "title", "is required");
    lt_send(&r, "PUT", path, u.token, "{}");
    lt_assert_422(&r, "title", "is required");
    lt_assert_422(&r, "description", "is required");
    lt_assert_422(&r, "done", "is required");
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_send(&r, "PUT", path, u.token, "{\"title\":\" b \",\"description\":null,\"done\":true}"),
        200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "b");
    ck_assert(json_is_null(json_object_get(r.j_body, "description")));
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    ck_assert_str_eq(str_of(r.j_body, "created_at"), created_at);
    ck_assert_str_ge(str_of(r.j_body, "updated_at"), created_at);
    lt_resp_clear(&r);

    /* PATCH changes only what it names. */
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"done\":false}"), 200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "b");
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"description\":\"new\"}"), 200);
    ck_assert_str_eq(str_of(r.j_body, "description"), "new");
    ck_assert_str_eq(str_of(r.j_body, "title"), "b");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"title\":\"c\\n\"}"), 200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "c");
    ck_assert_str_eq(str_of(r.j_body, "description"), "new");
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"description\":null,\"done\":true}"),
                     200);
    ck_assert(json_is_null(json_object_get(r.j_body, "description")));
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    /* An empty PATCH is a no-op that answers the task. */
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"unknown\":1}"), 200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "c");
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    expect_422(&u, "PATCH", path, "{\"title\":\" \"}", "title", NULL);
    expect_422(&u, "PATCH", path, "{\"title\":null}", "title", "must be a string");
    expect_422(&u, "PATCH", path, "{\"done\":\"yes\"}", "done", "must be a boolean");
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "c");
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "DELETE", path, u.token, NULL), 204);
    ck_assert_int_eq(r.len, 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("GET", path, u.token, NULL), 404);
    ck_assert_int_eq(
        lt_status("PUT", path, u.token, "{\"title\":\"b\",\"description\":null,\"done\":true}"),
        404);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "{\"done\":true}"), 404);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "{}"), 404);
    ck_assert_int_eq(lt_status("DELETE", path, u.token, NULL), 404);
    free(created_at);
    lt_user_clear(&u);
}
END_TEST

START_TEST(list_filter_and_pages)
{
    static const char *const bad[][2] = {
        {"done=yes", "done"},        {"done=1", "done"},      {"done=TRUE", "done"},
        {"done=", "done"},           {"limit=-1", "limit"},   {"limit=1001", "limit"},
        {"limit=two", "limit"},      {"offset=-5", "offset"}, {"skip=1.0", "skip"},
        {"offset=2&skip=1", "skip"},
    };
    struct lt_user u;
    struct lt_resp r;
    const json_t *j_items;
    long long ids[4];
    char path[64];
    size_t i;

    lt_user_new(&u, "task", PASSWORD);
    ids[0] = task_new(&u, "{\"title\":\"1\",\"done\":true}");
    ids[1] = task_new(&u, "{\"title\":\"2\"}");
    ids[2] = task_new(&u, "{\"title\":\"3\",\"done\":true}");
    ids[3] = task_new(&u, "{\"title\":\"4\",\"done\":true}");

    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 100);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 0);
    j_items = json_object_get(r.j_body, "items");
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, i), "id")),
                         ids[i]);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks?done=true", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 3);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, 1), "id")), ids[2]);
    ck_assert(json_is_true(json_object_get(json_array_get(j_items, 0), "done")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks?done=false", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.j_body, "items"), 0), "id")),
                     ids[1]);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks?done=true&limit=1&skip=1", u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "offset")), 1);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j_items, 0), "id")), ids[2]);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks?offset=3&limit=5", u.token, NULL), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "limit")), 5);
    lt_resp_clear(&r);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/tasks?%s", bad[i][0]);
        lt_send(&r, "GET", path, u.token, NULL);
        lt_assert_422(&r, bad[i][1], NULL);
        lt_resp_clear(&r);
    }
    lt_user_clear(&u);
}
END_TEST

START_TEST(bad_ids_are_404)
{
    static const char *const ids[] = {"0", "-2", "x", "2.0", "99999999999999999999", "1a"};
    struct lt_user u;
    struct lt_resp r;
    char path[96];
    size_t i;

    lt_user_new(&u, "task", PASSWORD);
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        snprintf(path, sizeof(path), "/api/tasks/%s", ids[i]);
        ck_assert_msg(lt_status("GET", path, u.token, NULL) == 404, "GET %s", path);
        ck_assert_msg(lt_status("PATCH", path, u.token, "{\"done\":true}") == 404, "PATCH %s",
                      path);
        ck_assert_msg(lt_status("PUT", path, u.token,
                                "{\"title\":\"t\",\"description\":null,\"done\":true}") == 404,
                      "PUT %s", path);
        ck_assert_msg(lt_status("DELETE", path, u.token, NULL) == 404, "DELETE %s", path);
    }
    /* A malformed id gets the very reply an unknown one does (api->req_id). */
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks/1a", u.token, NULL), 404);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")), "Task not found");
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(authentication_and_scopes)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], *read_only = NULL, *numbers_only = NULL;
    const char *detail;

    lt_user_new(&u, "task", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld", task_new(&u, "{\"title\":\"t\"}"));
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks", NULL, NULL), 401);
    ck_assert_ptr_nonnull(lt_header(&r, "www-authenticate"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("POST", "/api/tasks", NULL, "{\"title\":\"t\"}"), 401);
    ck_assert_int_eq(lt_status("GET", path, NULL, NULL), 401);
    ck_assert_int_eq(lt_status("PUT", path, NULL, "{}"), 401);
    ck_assert_int_eq(lt_status("PATCH", path, NULL, "{}"), 401);
    ck_assert_int_eq(lt_status("DELETE", path, NULL, NULL), 401);
    ck_assert_int_eq(lt_status("GET", path, "Bearer-garbage", NULL), 401);

    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, "tasks:read", &read_only, NULL), 0);
    ck_assert_int_eq(lt_status("GET", "/api/tasks", read_only, NULL), 200);
    ck_assert_int_eq(lt_status("GET", path, read_only, NULL), 200);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/tasks", read_only, "{\"title\":\"t\"}"), 403);
    detail = json_string_value(json_object_get(r.j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "tasks:write") != NULL, "%s", r.body);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("PATCH", path, read_only, "{\"done\":true}"), 403);
    ck_assert_int_eq(
        lt_status("PUT", path, read_only, "{\"title\":\"t\",\"description\":null,\"done\":true}"),
        403);
    ck_assert_int_eq(lt_status("DELETE", path, read_only, NULL), 403);

    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, "numbers:read", &numbers_only, NULL),
                     0);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks", numbers_only, NULL), 403);
    detail = json_string_value(json_object_get(r.j_body, "detail"));
    ck_assert_msg(detail != NULL && strstr(detail, "tasks:read") != NULL, "%s", r.body);
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    free(read_only);
    free(numbers_only);
    lt_user_clear(&u);
}
END_TEST

START_TEST(other_users_tasks_are_404)
{
    struct lt_user a, b;
    struct lt_resp r;
    char path[64];

    lt_user_new(&a, "task", PASSWORD);
    lt_user_new(&b, "task", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld",
             task_new(&a, "{\"title\":\"secret of A\",\"description\":\"private\"}"));
    task_new(&b, "{\"title\":\"B's\"}");

    ck_assert_int_eq(lt_send(&r, "GET", path, b.token, NULL), 404);
    ck_assert_ptr_null(strstr(r.body, "secret"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("PUT", path, b.token,
                               "{\"title\":\"stolen\",\"description\":null,\"done\":true}"),
                     404);
    ck_assert_int_eq(lt_status("PATCH", path, b.token, "{\"done\":true}"), 404);
    ck_assert_int_eq(lt_status("PATCH", path, b.token, "{}"), 404);
    ck_assert_int_eq(lt_status("DELETE", path, b.token, NULL), 404);

    ck_assert_int_eq(lt_send(&r, "GET", path, a.token, NULL), 200);
    ck_assert_str_eq(str_of(r.j_body, "title"), "secret of A");
    ck_assert_str_eq(str_of(r.j_body, "description"), "private");
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "GET", "/api/tasks", b.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    ck_assert_ptr_null(strstr(r.body, "secret"));
    lt_resp_clear(&r);
    lt_user_clear(&a);
    lt_user_clear(&b);
}
END_TEST

/* Runs sql on the shared server's database in the sqlite3 shell; returns the first integer. */
static long long shared_db_count(const char *sql)
{
    char dir_file[4096], data_dir[4096] = "", cmd[8192], out[64] = "";
    const char *shared = getenv("LINTEL_TEST_SHARED");
    FILE *f;

    ck_assert_ptr_nonnull(shared);
    snprintf(dir_file, sizeof(dir_file), "%s/data_dir", shared);
    f = fopen(dir_file, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(data_dir, sizeof(data_dir), f));
    fclose(f);
    data_dir[strcspn(data_dir, "\r\n")] = '\0';
    snprintf(cmd, sizeof(cmd), "sqlite3 -batch '%s/lintel.db' \"%s\"", data_dir, sql);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
    ck_assert_int_eq(pclose(f), 0);
    return atoll(out);
}

START_TEST(deleted_account_loses_its_tasks)
{
    struct lt_user u, other;
    char sql[256];

    lt_user_new(&u, "task", PASSWORD);
    lt_user_new(&other, "task", PASSWORD);
    task_new(&u, "{\"title\":\"a\"}");
    task_new(&u, "{\"title\":\"b\",\"done\":true}");
    task_new(&other, "{\"title\":\"c\"}");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tasks WHERE user_id = %lld", u.id);
    ck_assert_int_eq(shared_db_count(sql), 2);

    ck_assert_int_eq(lt_status("DELETE", "/api/users/me", u.token, NULL), 204);
    ck_assert_int_eq(shared_db_count(sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tasks WHERE user_id = %lld", other.id);
    ck_assert_int_eq(shared_db_count(sql), 1);
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

static Suite *tasks_suite(void)
{
    Suite *s = suite_create("tasks");
    TCase *tc = tcase_create("http");

    tcase_add_test(tc, create_and_get);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, put_patch_delete);
    tcase_add_test(tc, list_filter_and_pages);
    tcase_add_test(tc, bad_ids_are_404);
    tcase_add_test(tc, authentication_and_scopes);
    tcase_add_test(tc, other_users_tasks_are_404);
    tcase_add_test(tc, deleted_account_loses_its_tasks);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(tasks_suite)
