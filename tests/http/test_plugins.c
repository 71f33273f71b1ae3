/*
 * The plugin loader, black-box: plugins of another ABI major, a newer minor, a failing init, a
 * duplicate route, a missing symbol or no declaration are refused by name; with
 * plugin_failure=skip the server runs without them; a failing migration changes nothing.
 */
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary plugin dir with symlinks to the built plugins named (NULL-terminated). */
static void plugin_dir(char *dir, size_t size, const char *const *names)
{
    const char *good = getenv("LINTEL_TEST_PLUGIN_DIR");
    const char *bad = getenv("LINTEL_TEST_BAD_PLUGIN_DIR");
    char src[PATH_MAX], dst[PATH_MAX * 2];

    snprintf(dir, size, "/tmp/lintel-plugins-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (; *names != NULL; names++) {
        snprintf(src, sizeof(src), "%s/%s.so", strcmp(*names, "example") == 0 ? good : bad, *names);
        ck_assert_int_eq(access(src, R_OK), 0);
        snprintf(dst, sizeof(dst), "%s/%s.so", dir, *names);
        ck_assert_int_eq(symlink(src, dst), 0);
    }
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* `lintel migrate` with these plugins must exit 1 with a message holding every needle. */
static void expect_refused(const char *const *names, const char *const *needles)
{
    char dir[PATH_MAX], data[] = "/tmp/lintel-data-XXXXXX", env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, NULL};
    static const char *const args[] = {"migrate", NULL};
    char *out = NULL;

    plugin_dir(dir, sizeof(dir), names);
    ck_assert_ptr_nonnull(mkdtemp(data));
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_run(data, env, args, &out), 1);
    for (; *needles != NULL; needles++)
        if (strstr(out, *needles) == NULL)
            ck_abort_msg("output lacks '%s':\n%s", *needles, out);
    ck_assert_ptr_nonnull(strstr(out, "start stopped"));
    free(out);
    rm_rf(dir);
    rm_rf(data);
}

START_TEST(wrong_major)
{
    static const char *const names[] = {"bad_major", "example", NULL};
    static const char *const needles[] = {"bad_major", "ABI 2.0", "ABI 1.", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(newer_minor)
{
    static const char *const names[] = {"example", "newer_minor", NULL};
    static const char *const needles[] = {"newer_minor", "newer minor", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(failing_init)
{
    static const char *const names[] = {"example", "init_fails", NULL};
    static const char *const needles[] = {"init_fails", "init failed", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(duplicate_route)
{
    static const char *const names[] = {"dup_route", "example", NULL};
    static const char *const needles[] = {"plugin example", "GET /api/example/ping",
                                          "held by plugin dup_route", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(missing_symbol)
{
    static const char *const names[] = {"no_symbol", NULL};
    static const char *const needles[] = {"no_symbol", "lintel_plugin_init", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(no_declaration)
{
    static const char *const names[] = {"no_declare", NULL};
    static const char *const needles[] = {"no_declare", "declare", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(named_but_absent)
{
    static const char *const names[] = {"example", NULL};
    char dir[PATH_MAX], data[] = "/tmp/lintel-data-XXXXXX", env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, "LINTEL_PLUGINS=example,ghost", NULL};
    static const char *const args[] = {"migrate", NULL};
    char *out = NULL;

    plugin_dir(dir, sizeof(dir), names);
    ck_assert_ptr_nonnull(mkdtemp(data));
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_run(data, env, args, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "plugin ghost: cannot load"));
    free(out);
    rm_rf(dir);
    rm_rf(data);
}
END_TEST

/* With plugin_failure=skip the refused plugins are left out and the rest serves. */
START_TEST(skip_mode)
{
    static const char *const names[] = {"bad_major",  "dup_route", "example",
                                        "init_fails", "no_symbol", NULL};
    char dir[PATH_MAX], env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, "LINTEL_PLUGIN_FAILURE=skip", NULL};
    struct lt_server s = {.pid = 0};
    struct lt_resp r = {0};
    const json_t *j_p;

    plugin_dir(dir, sizeof(dir), names);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    /* init_fails registered this route before failing: nothing of it may remain. */
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/init_fails/x", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
    /* dup_route loaded first and holds the route; example was refused as a whole. */
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/example/ping", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/problem+json");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/example/notes/count", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "plugins")), 1);
    j_p = json_array_get(json_object_get(r.j_body, "plugins"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_p, "name")), "dup_route");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    rm_rf(dir);
}
END_TEST

static char *sqlite_scalar(const char *db, const char *sql)
{
    char cmd[PATH_MAX * 2], line[256] = "";
    FILE *p;

    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\" 2>&1", db, sql);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return strdup(line);
}

/* A failing migration stops the start and leaves the database as it found it. */
START_TEST(failing_migration)
{
    static const char *const names[] = {"bad_migration", "example", NULL};
    static const char *const args[] = {"migrate", NULL};
    char dir[PATH_MAX], data[] = "/tmp/lintel-data-XXXXXX", env_dir[PATH_MAX + 32];
    char db[PATH_MAX + 16], *before, *after, *out = NULL;
    const char *env[] = {env_dir, "LINTEL_PLUGINS=example", NULL};
    const char *count_sql = "SELECT count(*) || '/' || (SELECT count(*) FROM schema_migrations) "
                            "FROM sqlite_master";

    plugin_dir(dir, sizeof(dir), names);
    ck_assert_ptr_nonnull(mkdtemp(data));
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    snprintf(db, sizeof(db), "%s/lintel.db", data);
    /* First the good plugins alone. */
    ck_assert_int_eq(lt_run(data, env, args, &out), 0);
    free(out);
    before = sqlite_scalar(db, count_sql);
    /* Then with the bad one too. */
    env[1] = NULL;
    ck_assert_int_eq(lt_run(data, env, args, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "bad_migration"));
    ck_assert_ptr_nonnull(strstr(out, "0001_bad"));
    ck_assert_ptr_nonnull(strstr(out, "no_such_table"));
    free(out);
    after = sqlite_scalar(db, count_sql);
    ck_assert_str_eq(before, after);
    free(after);
    after = sqlite_scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'bad_migration_t'");
    ck_assert_str_eq(after, "0");
    free(after);
    free(before);
    rm_rf(dir);
    rm_rf(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("plugins");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, wrong_major);
    tcase_add_test(tc, newer_minor);
    tcase_add_test(tc, failing_init);
    tcase_add_test(tc, duplicate_route);
    tcase_add_test(tc, missing_symbol);
    tcase_add_test(tc, no_declaration);
    tcase_add_test(tc, named_but_absent);
    tcase_add_test(tc, skip_mode);
    tcase_add_test(tc, failing_migration);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
