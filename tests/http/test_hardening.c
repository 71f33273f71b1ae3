/*
 * Faults a server must survive and secrets it must keep (issue 11): private data files whatever
 * the umask, the generated admin password kept out of the log, 128-character passwords of
 * 4-byte characters, populate's total deadline.
 */
#include "datapoints_sim.h"
#include "lt_test.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
    fclose(f);
    return buf;
}

/* The permission bits of dir/name; -1 when it does not exist. */
static int mode_of(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void expect_private_files(const char *dir)
{
    char path[PATH_MAX + 300];
    struct dirent *e;
    struct stat st;
    DIR *d = opendir(dir);

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        ck_assert_msg((st.st_mode & 07777) == 0600, "%s has mode %o, not 0600", e->d_name,
                      (unsigned)(st.st_mode & 07777));
    }
    closedir(d);
}

static void chmod_in(const char *dir, const char *name, mode_t mode)
{
    char path[PATH_MAX + 64];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    chmod(path, mode); /* the file may not exist (-wal, -shm after a clean stop) */
}

static long login(const char *url, const char *user, const char *pw)
{
    struct lt_resp r;
    json_t *j = json_pack("{ssss}", "username", user, "password", pw);
    char *body = json_dumps(j, JSON_COMPACT);
    long status;

    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    status = r.status;
    lt_resp_clear(&r);
    free(body);
    json_decref(j);
    return status;
}

/*
 * Item 8: lintel.db, its -wal and -shm and the signing key are 0600 under umask 0 in a data
 * directory that already exists with 0755, and files left readable are narrowed at start.
 * Item 7: the generated admin password is in <data_dir>/admin-password (0600), not in the log.
 */
START_TEST(data_files_private_and_admin_password_kept_out_of_the_log)
{
    static const char *const files[] = {"lintel.db", "lintel.db-wal", "lintel.db-shm"};
    char dir[PATH_MAX] = "/tmp/lintel-harden-XXXXXX", env_dir[PATH_MAX + 32], *log, *text, *pw;
    const char *env[] = {env_dir, "LINTEL_ADMIN_PASSWORD", NULL}; /* unset */
    struct lt_server s;
    char *token = NULL;
    mode_t old = umask(0);
    size_t i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chmod(dir, 0755), 0);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_DATA_DIR=%s", dir);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    umask(old);
    ck_assert_int_eq(lt_register(s.url, "perm", "password-of-perm", &token, NULL, NULL), 0);
    free(token);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        ck_assert_msg(mode_of(dir, files[i]) == 0600, "%s has mode %o, not 0600", files[i],
                      (unsigned)mode_of(dir, files[i]));
    /* and so is every other file the server made there (keys, admin-password, ...) */
    expect_private_files(dir);

    /* the password: in the file, 0600, working; never in the log */
    ck_assert_int_eq(mode_of(dir, "admin-password"), 0600);
    snprintf(env_dir + strlen(env_dir), 32, "/admin-password");
    text = slurp(env_dir + strlen("LINTEL_DATA_DIR="));
    ck_assert_ptr_nonnull(text);
    pw = strstr(text, "password=");
    ck_assert_ptr_nonnull(pw);
    pw += strlen("password=");
    pw[strcspn(pw, "\n")] = '\0';
    ck_assert_uint_ge(strlen(pw), 16);
    ck_assert_int_eq(login(s.url, "admin", pw), 200);
    log = slurp(s.log_path);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_null(strstr(log, pw));
    ck_assert_ptr_nonnull(strstr(log, "admin-password"));
    free(log);
    ck_assert_int_eq(lt_server_stop(&s), 0);

    /* database files an older version left readable are narrowed at the next start */
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        chmod_in(dir, files[i], 0644);
    env_dir[strlen("LINTEL_DATA_DIR=") + strlen(dir)] = '\0';
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(login(s.url, "admin", pw), 200);
    ck_assert_int_eq(mode_of(dir, "lintel.db"), 0600);
    ck_assert_int_eq(mode_of(dir, "lintel.db-wal"), 0600);
    ck_assert_int_eq(mode_of(dir, "lintel.db-shm"), 0600);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(text);
    ck_assert_int_eq(system(NULL), 1);
    snprintf(env_dir, sizeof(env_dir), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(env_dir), 0);
}
END_TEST

/* Item 9: 128 characters of 4 bytes (512 bytes, past libxcrypt's limit) register and log in. */
START_TEST(password_of_128_four_byte_characters)
{
    char pw[129 * 4 + 1] = "", *token = NULL, *name = NULL;
    struct lt_resp r;
    json_t *j;
    char *body;
    int i;

    for (i = 0; i < 128; i++)
        strcat(pw, "\xf0\x9f\x98\x80"); /* U+1F600 */
    ck_assert_int_eq(lt_register(lt_base(), "emoji", pw, &token, NULL, &name), 0);
    ck_assert_int_eq(login(lt_base(), name, pw), 200);
    pw[127 * 4] = '\0'; /* its first 127 characters are another password */
    ck_assert_int_eq(login(lt_base(), name, pw), 401);
    free(token);
    free(name);

    /* 129 characters: refused by the rule, counted in characters */
    for (i = 127; i < 129; i++)
        strcat(pw, "\xf0\x9f\x98\x80");
    j = json_pack("{ssss}", "username", "emoji_too_long", "password", pw);
    body = json_dumps(j, JSON_COMPACT);
    ck_assert_int_eq(lt_json(lt_base(), "POST", "/api/auth/register", NULL, body, &r), 0);
    ck_assert_int_eq(r.status, 422);
    ck_assert_ptr_nonnull(strstr(r.body, "128 characters"));
    lt_resp_clear(&r);
    free(body);
    json_decref(j);
}
END_TEST

/* Item 11: populate stops at its deadline (populate_timeout) and stores nothing. */
START_TEST(populate_has_a_total_deadline)
{
    char upstream[128], conf[PATH_MAX], *admin = NULL;
    const char *env[] = {upstream, NULL};
    const char *args[] = {"--config", conf, NULL};
    struct lt_server s;
    struct dp_sim sim;
    struct lt_resp r;
    FILE *f;

    ck_assert_int_eq(dp_sim_start(&sim, "delay:400"), 0);
    snprintf(upstream, sizeof(upstream), "LINTEL_UPSTREAM_URL=%s/sensor", sim.url);
    snprintf(conf, sizeof(conf), "/tmp/lintel-harden-%d.json", (int)getpid());
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"plugins\": [{\"name\": \"datapoints\", \"config\": {\"populate_timeout\": 1}}]}", f);
    fclose(f);
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
    /* 30 fetches of 400 ms are 12 s; the deadline is 1 s */
    ck_assert_int_eq(lt_json(s.url, "POST", "/api/datapoints/populate?count=30", admin, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 504);
    lt_resp_clear(&r);
    ck_assert_int_le(dp_sim_hits(&sim), 5);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/datapoints/stats", admin, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"count\":0"));
    lt_resp_clear(&r);
    free(admin);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    dp_sim_stop(&sim);
    unlink(conf);
}
END_TEST

/*
 * Bytes that are not UTF-8 in the raw path or quoted from a malformed body used to make the
 * error reply itself fail (jansson refuses such strings): 500 instead of the 4xx. Found by
 * tests/fuzz (route and json harnesses).
 */
START_TEST(raw_bytes_that_are_not_utf8_get_a_4xx)
{
    static const char *const reqs[] = {
        "GET /api/tasks/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /api/nothing\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n\"\\u6d\xcb\x9b"
        "1t\"",
    };
    const char *url = lt_base(), *colon = strrchr(url, ':');
    size_t i;

    ck_assert_ptr_nonnull(colon);
    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        char *reply = lt_raw(atoi(colon + 1), reqs[i], strlen(reqs[i]), 5000);
        ck_assert_ptr_nonnull(reply);
        ck_assert_msg(strncmp(reply, "HTTP/1.1 4", 10) == 0, "request %zu: %.60s", i, reply);
        /* the problem body is there and valid JSON, the raw byte written as %XX */
        ck_assert_ptr_nonnull(strstr(reply, "\"status\":4"));
        ck_assert_msg(strstr(reply, i == 0   ? "/api/tasks/%FF"
                                    : i == 1 ? "%FE"
                                             : "%CB") != NULL,
                      "request %zu: %s", i, strstr(reply, "\r\n\r\n") + 4);
        free(reply);
    }
}
END_TEST

static long form_login(const char *url, const char *user, const char *pw)
{
    static const char *const headers[] = {"Origin: https://attacker.example", NULL};
    char body[256];
    struct lt_resp r;
    long status;

    snprintf(body, sizeof(body), "grant_type=password&username=%s&password=%s", user, pw);
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/login", NULL,
                                "application/x-www-form-urlencoded", body, strlen(body), headers,
                                &r),
                     0);
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

/*
 * Item 11: form posts from other people's browsers (any page can submit a form to the login)
 * lock the username for forms only; the owner's JSON login with the right password still
 * works, and JSON guesses are still limited.
 */
START_TEST(forged_form_failures_do_not_lock_the_app_out)
{
    struct lt_server s;
    char *token = NULL, *name = NULL;
    int i;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "victim", "victim-password", &token, NULL, &name), 0);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(form_login(s.url, name, "wrong-guess"), 401);
    ck_assert_int_eq(form_login(s.url, name, "victim-password"), 429); /* forms: locked */
    ck_assert_int_eq(login(s.url, name, "victim-password"), 200);      /* the app: not */
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(login(s.url, name, "wrong-guess"), 401);
    ck_assert_int_eq(login(s.url, name, "victim-password"), 429); /* JSON guesses still lock */
    free(token);
    free(name);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hardening");
    TCase *tc = tcase_create("hardening");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, data_files_private_and_admin_password_kept_out_of_the_log);
    tcase_add_test(tc, password_of_128_four_byte_characters);
    tcase_add_test(tc, populate_has_a_total_deadline);
    tcase_add_test(tc, raw_bytes_that_are_not_utf8_get_a_4xx);
    tcase_add_test(tc, forged_form_failures_do_not_lock_the_app_out);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
