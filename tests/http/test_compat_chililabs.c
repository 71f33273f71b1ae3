/*
 * Black-box tests of the "chililabs" compatibility profile (seed 001) on a private server:
 * wire.md's proposed tests, exact bodies, revocation by deletion, and lintel's view of the rows.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <limits.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const chili_env[] = {"LINTEL_COMPAT=chililabs", "LINTEL_PASSWORD_MIN=4", NULL};

static void chili_start(void)
{
    lt_compat_start(chili_env);
}

/* The same, expecting the seed's {"detail": detail} with status. */
static void chili_detail(const char *method, const char *path, const char *token,
                         const char *json_text, long status, const char *detail)
{
    struct lt_resp r;

    lt_compat_send(&r, method, path, token, json_text);
    lt_assert_detail(&r, status, detail);
    lt_resp_clear(&r);
}

/* {"identifier": id, "password": pw} as JSON text (malloc'd); the identifier escaped by jansson. */
static char *creds(const char *id, const char *pw)
{
    json_t *j = json_pack("{ss ss}", "identifier", id, "password", pw);
    char *s = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* POST path (/register or /login) with id/pw; checks the JSend token reply; the token (malloc'd).
 */
static char *chili_token(const char *path, const char *id, const char *pw)
{
    struct lt_resp r;
    char *body = creds(id, pw), *t;
    json_t *j_claims;
    long long now = (long long)time(NULL), exp;

    ck_assert_int_eq(lt_compat_send(&r, "POST", path, NULL, body), 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "status"), "success");
    ck_assert_int_eq(json_object_size(r.j_body), 2);
    ck_assert_int_eq(json_object_size(lt_path(r.j_body, "data")), 2);
    ck_assert_str_eq(lt_path_str(r.j_body, "data.identifier"), id);
    t = strdup(lt_path_str(r.j_body, "data.token"));
    /* wire.md test 1: sub is the identifier, the token lives 60 minutes */
    j_claims = lt_jwt_payload(t);
    ck_assert_str_eq(json_string_value(json_object_get(j_claims, "sub")), id);
    exp = (long long)json_integer_value(json_object_get(j_claims, "exp"));
    ck_assert_msg(exp - now >= 3590 && exp - now <= 3610, "exp - now = %lld", exp - now);
    json_decref(j_claims);
    lt_resp_clear(&r);
    free(body);
    return t;
}

/* wire.md test 7: the exact body; lintel's own health stays at /api/health. */
START_TEST(health)
{
    struct lt_resp r;

    ck_assert_int_eq(lt_compat_send(&r, "GET", "/health", NULL, NULL), 200);
    ck_assert_str_eq(r.body,
                     "{\"status\":\"success\",\"data\":{\"message\":\"API is running. 123\"}}");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/health", NULL, NULL), 200);
    ck_assert_ptr_null(lt_path(r.j_body, "data"));
    lt_resp_clear(&r);
}
END_TEST

/* wire.md tests 1-3, with free-text identifiers (nickname, e-mail, phone, a path). */
START_TEST(register_and_login)
{
    static const char *const kinds[] = {"nick", "mail@example.org", "+371 2000 0000", "../x/y"};
    char *u = lt_unique("chili"), id[160], *t, *t2, *body;
    struct lt_resp r;
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        snprintf(id, sizeof(id), "%s %s", kinds[i], u);
        if (i < 2) /* these two pass lintel's username rule as they are */
            snprintf(id, sizeof(id), "%s.%s", u, kinds[i]);
        t = chili_token("/register", id, "1234");
        /* wire.md test 2: taken */
        body = creds(id, "other-pass");
        chili_detail("POST", "/register", NULL, body, 400, "Identifier already exists");
        free(body);
        t2 = chili_token("/login", id, "1234");
        /* the account is a lintel user: the token works on lintel's API */
        ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t2, NULL), 200);
        if (i < 2)
            ck_assert_str_eq(lt_path_str(r.j_body, "username"), id);
        else /* a generated username; the identifier is the profile's */
            ck_assert_int_eq(strncmp(lt_path_str(r.j_body, "username"), "cl_", 3), 0);
        lt_resp_clear(&r);
        free(t);
        free(t2);
    }
    /* wire.md test 3: unknown and wrong password are one answer (no enumeration) */
    body = creds(id, "wrong");
    chili_detail("POST", "/login", NULL, body, 401, "Invalid identifier or password");
    free(body);
    body = creds("nobody-at-all-here", "1234");
    chili_detail("POST", "/login", NULL, body, 401, "Invalid identifier or password");
    free(body);
    free(u);
}
END_TEST

/* 422s in pydantic's shape; the password rule of lintel answers as a value_error. */
START_TEST(validation)
{
    struct lt_resp r;

    lt_compat_send(&r, "POST", "/register", NULL, "{\"identifier\":\"someone\"}");
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.type"), "missing");
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.loc.1"), "password");
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.msg"), "Field required");
    lt_resp_clear(&r);
    lt_compat_send(&r, "POST", "/login", NULL, "{\"identifier\":5,\"password\":\"1234\"}");
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.type"), "string_type");
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.loc.1"), "identifier");
    lt_resp_clear(&r);
    lt_compat_send(&r, "POST", "/login", NULL, "{\"identifier\":");
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.type"), "json_invalid");
    lt_resp_clear(&r);
    lt_compat_send(&r, "POST", "/register", NULL,
                   "{\"identifier\":\"short-pw\",\"password\":\"12\"}");
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.type"), "value_error");
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.loc.1"), "password");
    lt_resp_clear(&r);
}
END_TEST

/* wire.md test 6 and the task's "every previously issued token unusable". */
START_TEST(delete_user)
{
    char *u = lt_unique("gone"), *t, *t2, *body = creds(u, "1234");
    struct lt_resp r;

    chili_detail("DELETE", "/user", NULL, NULL, 401, "Not authenticated");
    lt_compat_send(&r, "DELETE", "/user", NULL, NULL);
    ck_assert_str_eq(lt_header(&r, "www-authenticate"), "Bearer");
    lt_resp_clear(&r);
    chili_detail("DELETE", "/user", "garbage.token.here", NULL, 401, "Invalid or expired token");
    t = chili_token("/register", u, "1234");
    t2 = chili_token("/login", u, "1234");
    ck_assert_int_eq(lt_compat_send(&r, "DELETE", "/user", t, NULL), 200);
    ck_assert_str_eq(
        r.body, "{\"status\":\"success\",\"data\":{\"message\":\"User deleted successfully\"}}");
    lt_resp_clear(&r);
    /* both sessions ended: the same and the other token are refused at once */
    chili_detail("DELETE", "/user", t, NULL, 401, "User not authorized");
    chili_detail("DELETE", "/user", t2, NULL, 401, "User not authorized");
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t2, NULL),
                     401); /* lintel's API too */
    lt_resp_clear(&r);
    chili_detail("POST", "/login", NULL, body, 401, "Invalid identifier or password");
    chili_detail("POST", "/register", NULL, body, 400, "Identifier already exists");
    free(body);
    free(t);
    free(t2);
    free(u);
}
END_TEST

/* A real 2x2 grey PNG made by libpng (malloc'd). */
static unsigned char *make_png(size_t *len)
{
    static const unsigned char px[4] = {0, 255, 255, 0};
    png_image img = {
        .version = PNG_IMAGE_VERSION, .width = 2, .height = 2, .format = PNG_FORMAT_GRAY};
    png_alloc_size_t n = 0;
    unsigned char *buf;

    ck_assert(png_image_write_to_memory(&img, NULL, &n, 0, px, 0, NULL));
    buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    ck_assert(png_image_write_to_memory(&img, buf, &n, 0, px, 0, NULL));
    *len = n;
    return buf;
}

/* POST /avatar with one multipart part named field (NULL: a JSON body instead); the status. */
static long post_avatar(struct lt_resp *r, const char *token, const char *field, const void *data,
                        size_t len, const char *const *headers)
{
    static const char b[] = "chiliB0undary";
    char head[256], *body;
    size_t hn, n;
    int hl;

    if (field == NULL) {
        ck_assert_int_eq(lt_request(lt_compat.url, "POST", "/avatar", token, "application/json",
                                    "{}", (size_t)-1, headers, r),
                         0);
        return r->status;
    }
    hl = snprintf(head, sizeof(head),
                  "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"a.png\"\r\n"
                  "Content-Type: image/png\r\n\r\n",
                  b, field);
    hn = (size_t)hl;
    body = malloc(hn + len + sizeof(b) + 8);
    ck_assert_ptr_nonnull(body);
    memcpy(body, head, hn);
    memcpy(body + hn, data, len);
    n = hn + len + (size_t)sprintf(body + hn + len, "\r\n--%s--\r\n", b);
    ck_assert_int_eq(lt_request(lt_compat.url, "POST", "/avatar", token,
                                "multipart/form-data; boundary=chiliB0undary", body, n, headers, r),
                     0);
    free(body);
    return r->status;
}

/* wire.md tests 4 and 5; the image is lintel's avatar of the user; no file named by the user. */
START_TEST(avatar)
{
    static const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    char *u = lt_unique("pic"), id[128], *t, path[PATH_MAX + 64];
    struct lt_resp r;
    long long uid;
    size_t n;
    unsigned char *img = make_png(&n);
    struct stat st;

    ck_assert_int_eq(post_avatar(&r, NULL, "file", img, n, NULL), 401);
    lt_assert_detail(&r, 401, "Not authenticated");
    lt_resp_clear(&r);
    post_avatar(&r, "garbage.token.here", "file", img, n, NULL);
    lt_assert_detail(&r, 401, "Invalid or expired token");
    lt_resp_clear(&r);
    snprintf(id, sizeof(id), "../../%s", u); /* the seed wrote this outside avatars/ */
    t = chili_token("/register", id, "1234");
    ck_assert_int_eq(post_avatar(&r, t, "picture", img, n, NULL), 422);
    ck_assert_str_eq(r.body, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"file\"],"
                             "\"msg\":\"Field required\",\"input\":null}]}");
    lt_resp_clear(&r);
    ck_assert_int_eq(post_avatar(&r, t, NULL, NULL, 0, NULL), 422);
    ck_assert_str_eq(lt_path_str(r.j_body, "detail.0.loc.1"), "file");
    lt_resp_clear(&r);
    ck_assert_int_eq(post_avatar(&r, t, "file", gif, sizeof(gif) - 1, NULL), 415);
    ck_assert_ptr_nonnull(lt_path_str(r.j_body, "detail"));
    lt_resp_clear(&r);
    ck_assert_int_eq(post_avatar(&r, t, "file", img, n, NULL), 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "status"), "success");
    snprintf(path, sizeof(path), "avatars/%s.png", id);
    ck_assert_str_eq(lt_path_str(r.j_body, "data.avatar_url"), path);
    lt_resp_clear(&r);
    /* the same image through lintel's API, stored under the user's id */
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t, NULL), 200);
    uid = (long long)json_integer_value(lt_path(r.j_body, "id"));
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_request(lt_compat.url, "GET", "/api/users/me/avatar", t, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, n);
    ck_assert_int_eq(memcmp(r.body, img, n), 0);
    lt_resp_clear(&r);
    /* in the database, never a file named after the identifier (nor any file) */
    snprintf(path, sizeof(path), "%s/avatars", lt_compat.data_dir);
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/%s.png", lt_compat.data_dir, u);
    ck_assert_int_ne(stat(path, &st), 0);
    /* deleting the account takes the avatar */
    ck_assert_int_eq(lt_compat_send(&r, "DELETE", "/user", t, NULL), 200);
    lt_resp_clear(&r);
    free(t);
    t = chili_token("/register", u, "1234");
    snprintf(path, sizeof(path), "/api/users/%lld/avatar", uid);
    ck_assert_int_eq(lt_request(lt_compat.url, "GET", path, t, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
    free(t);
    free(img);
    free(u);
}
END_TEST

/* wire.md test 8: /ws/avatar pushes the seed's message, refuses bad tokens, closes on deletion. */
START_TEST(avatar_socket)
{
    char *u = lt_unique("live"), *t, h[4096];
    int status, by_token, by_bearer, plain, refused;
    unsigned char *img;
    struct lt_resp r;
    json_t *j;
    size_t n;

    img = make_png(&n);
    t = chili_token("/register", u, "1234");
    snprintf(h, sizeof(h), "token: %s\r\n", t);
    by_token = lt_ws_open(lt_compat.url, "/ws/avatar", h, &status);
    ck_assert_int_eq(status, 101);
    snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n", t);
    by_bearer = lt_ws_open(lt_compat.url, "/ws/avatar", h, &status);
    ck_assert_int_eq(status, 101);
    plain = lt_ws_open(lt_compat.url, "/api/ws", h, &status);
    ck_assert_int_eq(status, 101);
    ck_assert_int_eq(post_avatar(&r, t, "file", img, n, NULL), 200);
    lt_resp_clear(&r);
    j = lt_ws_json(by_token, 5000);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_object_size(j), 2);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "avatar_changed");
    ck_assert_int_eq(
        strncmp(json_string_value(json_object_get(j, "avatar_url")), "/api/users/", 11), 0);
    json_decref(j);
    j = lt_ws_json(by_bearer, 5000);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "avatar_changed");
    json_decref(j);
    /* lintel's own socket gets lintel's event, not the seed's message */
    j = lt_ws_json(plain, 5000);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.updated");
    json_decref(j);
    /* no token, a bad one: closed with 1008 right after the 101, as /api/ws does */
    refused = lt_ws_open(lt_compat.url, "/ws/avatar", "", &status);
    ck_assert_int_eq(lt_ws_close(refused, 5000), 1008);
    close(refused);
    refused = lt_ws_open(lt_compat.url, "/ws/avatar", "token: not.a.token\r\n", &status);
    ck_assert_int_eq(lt_ws_close(refused, 5000), 1008);
    close(refused);
    /* the task: deleting the user closes its sockets (the session watcher: 4401) */
    ck_assert_int_eq(lt_compat_send(&r, "DELETE", "/user", t, NULL), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_ws_close(by_token, 5000), 4401);
    ck_assert_int_eq(lt_ws_close(by_bearer, 5000), 4401);
    close(by_token);
    close(by_bearer);
    close(plain);
    free(img);
    free(t);
    free(u);
}
END_TEST

/* lintel import chililabs: seed 001's app.db (made here with the sqlite3 CLI), all or nothing. */
START_TEST(import_app_db)
{
    /* wire.md 1.6: the committed fixture row, matt / 1234, deleted; two live users share it */
    static const char rows[] =
        "CREATE TABLE users (id INTEGER PRIMARY KEY, identifier VARCHAR UNIQUE NOT NULL,"
        " password_hash VARCHAR NOT NULL, avatar_url VARCHAR, is_deleted BOOLEAN DEFAULT 0);"
        " INSERT INTO users VALUES (1, 'matt',"
        " '$2b$12$EqnSpBMP/k3b/wAeJAIfIuKCFYiyjXenCf4Ga5SrEotOyDewNS5EW', 'avatars123/matt.png', "
        "1),"
        " (2, 'ana@example.org', '$2b$12$EqnSpBMP/k3b/wAeJAIfIuKCFYiyjXenCf4Ga5SrEotOyDewNS5EW',"
        " NULL, 0), (3, '+371 2000 0000',"
        " '$2b$12$EqnSpBMP/k3b/wAeJAIfIuKCFYiyjXenCf4Ga5SrEotOyDewNS5EW', NULL, 0);";
    struct lt_server s;
    struct lt_resp r;
    char db[4200], env_dir[4200], cmd[8800], *out = NULL, *t;
    const char *env[] = {"LINTEL_COMPAT=chililabs", "LINTEL_PASSWORD_MIN=4", env_dir, NULL};
    const char *args[] = {"import", "chililabs", db, NULL};
    FILE *sql;

    /* a first start migrates the profile's table */
    ck_assert_int_eq(lt_server_start(&s, chili_env, NULL), 0);
    ck_assert_int_eq(lt_server_stop_keep(&s), 0);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_DATA_DIR=%s", s.data_dir);
    snprintf(db, sizeof(db), "%s/app.db", s.data_dir);
    snprintf(cmd, sizeof(cmd), "%s/seed.sql", s.data_dir); /* a file: no shell sees the $ */
    sql = fopen(cmd, "w");
    ck_assert_ptr_nonnull(sql);
    ck_assert_int_ge(fputs(rows, sql), 0);
    ck_assert_int_eq(fclose(sql), 0);
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' < '%s/seed.sql'", db, s.data_dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(lt_run(s.data_dir, env, args, &out), 0);
    ck_assert_msg(strstr(out, "imported 3 rows") != NULL && strstr(out, "active 2") != NULL &&
                      strstr(out, "deleted 1") != NULL,
                  "%s", out);
    free(out);
    /* again: every identifier exists now, and nothing of the second run stays */
    ck_assert_int_eq(lt_run(s.data_dir, env, args, &out), 1);
    ck_assert_msg(strstr(out, "identifier 'matt' exists") != NULL &&
                      strstr(out, "nothing was imported") != NULL,
                  "%s", out);
    free(out);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    lt_compat = s; /* chili_token and chili_detail talk to this server */
    t = chili_token("/login", "+371 2000 0000", "1234"); /* the bcrypt hash verifies */
    free(t);
    t = chili_token("/login", "+371 2000 0000", "1234"); /* and after its rehash */
    free(t);
    t = chili_token("/login", "ana@example.org", "1234");
    ck_assert_int_eq(lt_compat_send(&r, "GET", "/api/users/me", t, NULL), 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "username"), "ana@example.org");
    lt_resp_clear(&r);
    free(t);
    chili_detail("POST", "/login", NULL, "{\"identifier\":\"matt\",\"password\":\"1234\"}", 401,
                 "Invalid identifier or password");
    chili_detail("POST", "/register", NULL, "{\"identifier\":\"matt\",\"password\":\"1234\"}", 400,
                 "Identifier already exists");
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

static Suite *chili_suite(void)
{
    Suite *s = suite_create("compat_chililabs");
    TCase *tc = tcase_create("chililabs");

    tcase_add_unchecked_fixture(tc, chili_start, lt_compat_stop);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, health);
    tcase_add_test(tc, register_and_login);
    tcase_add_test(tc, validation);
    tcase_add_test(tc, delete_user);
    tcase_add_test(tc, avatar);
    tcase_add_test(tc, avatar_socket);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, import_app_db);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lt_run_suite(chili_suite());
}
