/*
 * Unit tests of app/migrate_files.c: lintel_data_file() reads a plain file beside the database
 * for a migration, and refuses every other name and kind of file; the purge of imported files.
 */
#include "lt_test.h"
#include "migrate_files.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static sqlite3 *h;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void put_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    char sub[300];

    snprintf(dir, sizeof(dir), "/tmp/lintel-test-mfiles-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/avatars", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(sqlite3_open(":memory:", &h), SQLITE_OK);
    ck_assert_int_eq(migrate_files_register(h, dir), SQLITE_OK);
}

static void teardown(void)
{
    sqlite3_close(h);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Runs SELECT <expr>: 0 with *out (malloc'd: the text of hex() of the value, or "NULL"), or
 * -1 with the error message in *out.
 */
static int eval(const char *expr, char **out)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    int src;

    snprintf(sql, sizeof(sql),
             "SELECT CASE WHEN v IS NULL THEN 'NULL' ELSE hex(v) END FROM"
             " (SELECT %s AS v)",
             expr);
    /* an unsafe use of a direct-only function fails when it is prepared */
    src = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    *out = strdup(src == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return src == SQLITE_ROW ? 0 : -1;
}

START_TEST(reads_a_plain_file_and_null_for_none)
{
    char *v = NULL;

    put_file("avatars/7", "AB\x01");
    ck_assert_int_eq(eval("lintel_data_file('avatars/7')", &v), 0);
    ck_assert_str_eq(v, "414201");
    free(v);
    put_file("avatars/8", "");
    ck_assert_int_eq(eval("typeof(lintel_data_file('avatars/8'))", &v), 0);
    ck_assert_str_eq(v, "626C6F62"); /* 'blob': an empty file is zero bytes, not NULL */
    free(v);
    ck_assert_int_eq(eval("lintel_data_file('avatars/9')", &v), 0);
    ck_assert_str_eq(v, "NULL");
    free(v);
    ck_assert_int_eq(eval("lintel_data_file(NULL)", &v), 0);
    ck_assert_str_eq(v, "NULL");
    free(v);
}
END_TEST

START_TEST(refuses_names_links_and_directories)
{
    static const char *const bad[] = {"'../etc/passwd'", "'/etc/passwd'", "'avatars/../x'",
                                      "'avatars//7'",    "'./avatars/7'", "''",
                                      "'avatars/7 '",    "'avatars/%37'", "'a\\b'"};
    char path[512], *v = NULL;
    size_t i;

    put_file("avatars/7", "x");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char expr[64];
        snprintf(expr, sizeof(expr), "lintel_data_file(%s)", bad[i]);
        ck_assert_msg(eval(expr, &v) == -1, "%s was read: %s", bad[i], v);
        ck_assert_msg(strstr(v, "not a plain relative file name") != NULL, "%s", v);
        free(v);
    }
    /* a symbolic link is not followed, even to a file inside the directory */
    snprintf(path, sizeof(path), "%s/avatars/link", dir);
    ck_assert_int_eq(symlink("7", path), 0);
    ck_assert_int_eq(eval("lintel_data_file('avatars/link')", &v), -1);
    ck_assert_msg(strstr(v, "cannot import") != NULL, "%s", v);
    free(v);
    /* a directory is not a file: an error, so the migration stops instead of losing it */
    ck_assert_int_eq(eval("lintel_data_file('avatars')", &v), -1);
    ck_assert_msg(strstr(v, "not a regular file") != NULL, "%s", v);
    free(v);
}
END_TEST

START_TEST(only_direct_use_and_gone_after_unregister)
{
    char *v = NULL;

    /* direct only: a view (as any schema object) cannot read files */
    ck_assert_int_eq(sqlite3_exec(h, "CREATE VIEW f AS SELECT lintel_data_file('avatars/7') AS v",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    put_file("avatars/7", "x");
    ck_assert_int_eq(eval("(SELECT v FROM f)", &v), -1);
    ck_assert_msg(strstr(v, "unsafe use") != NULL, "%s", v);
    free(v);
    migrate_files_unregister(h);
    ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT lintel_data_file('avatars/7')", -1,
                                        &(sqlite3_stmt *){NULL}, NULL),
                     SQLITE_ERROR);
}
END_TEST

START_TEST(purge_removes_the_listed_files_and_the_directory)
{
    char path[512];
    struct stat st;

    ck_assert_int_eq(sqlite3_exec(h,
                                  "CREATE TABLE avatar_orphans (user_id INTEGER PRIMARY KEY);"
                                  "INSERT INTO avatar_orphans VALUES (7), (8)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    put_file("avatars/7", "x");
    put_file("avatars/.7.tmpXYZ", "half"); /* an older release's crash */
    put_file("avatars/12", "not imported, not listed: kept");
    migrate_files_purge(h, dir);
    snprintf(path, sizeof(path), "%s/avatars/7", dir);
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/avatars/.7.tmpXYZ", dir);
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/avatars/12", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(sqlite3_exec(h, "SELECT 1 FROM avatar_orphans", NULL, NULL, NULL), SQLITE_OK);
    {
        sqlite3_stmt *s = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM avatar_orphans", -1, &s, NULL),
                         SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
        ck_assert_int_eq(sqlite3_column_int(s, 0), 0); /* 8 had no file: done too */
        sqlite3_finalize(s);
    }
    /* once the last file is gone, so is the directory */
    unlink(path);
    migrate_files_purge(h, dir);
    snprintf(path, sizeof(path), "%s/avatars", dir);
    ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

static Suite *migrate_files_suite(void)
{
    Suite *s = suite_create("migrate_files");
    TCase *tc = tcase_create("migrate_files");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reads_a_plain_file_and_null_for_none);
    tcase_add_test(tc, refuses_names_links_and_directories);
    tcase_add_test(tc, only_direct_use_and_gone_after_unregister);
    tcase_add_test(tc, purge_removes_the_listed_files_and_the_directory);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(migrate_files_suite)
