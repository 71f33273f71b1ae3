/*
 * Unit tests of app/migrate.c on a real SQLite file: id validation, core-first ordering,
 * re-runs that apply nothing, and a failing migration that leaves no trace.
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

#include <check.h>
#include <ftw.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tmp_root[256];
static struct config cfg;
static struct db *db;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/lintel-test-migrate-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = tmp_root;
    cfg.busy_timeout = 5000;
    ck_assert_int_eq(db_global_init(&cfg), 0);
    ck_assert_int_eq(db_thread(&db), 0);
}

static void teardown(void)
{
    migrate_release();
    db_global_release();
    nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The one value of a one-column, one-row query, as JSON text (caller frees). */
static char *value_of(const char *sql)
{
    json_t *j_row = NULL;
    char *text;

    ck_assert_msg(db_row(db, sql, NULL, &j_row) == 0, "%s: %s", sql, db_errmsg(db));
    text = json_dumps(json_object_get(j_row, "v"), JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j_row);
    return text;
}

static void assert_value(const char *sql, const char *expect)
{
    char *text = value_of(sql);

    ck_assert_str_eq(text, expect);
    free(text);
}

static void apply_ok(void)
{
    char *err = NULL;
    int rc = migrate_apply(&err);

    ck_assert_msg(rc == 0, "migrate_apply: %d %s", rc, err != NULL ? err : "");
    ck_assert_ptr_null(err);
}

#define LOG_SQL(name) "INSERT INTO log (name) VALUES ('" name "');"

START_TEST(test_ids)
{
    ck_assert_int_eq(migrate_add("core", "0001_init", "SELECT 1;"), 0);
    ck_assert_int_eq(migrate_add("core", "0001_init", "SELECT 2;"), LINTEL_ECONFLICT);
    ck_assert_int_eq(migrate_add("other", "0001_init", "SELECT 1;"), 0);
    ck_assert_int_eq(migrate_add("core", "0002_more-things_2", "SELECT 1;"), 0);

    ck_assert_int_eq(migrate_add("core", "1_init", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003_", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "000a_x", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003-x", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003_a b", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003_x.sql", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", NULL, "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("core", "0003_x", NULL), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("", "0003_x", "SELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add(NULL, "0003_x", "SELECT 1;"), LINTEL_EPARAM);
    apply_ok();
    assert_value("SELECT count(*) AS v FROM schema_migrations", "3");
}
END_TEST

START_TEST(test_order_and_rerun)
{
    char *before;

    /* registered out of order: core still goes first, then plugins as they registered */
    ck_assert_int_eq(migrate_add("b", "0002_second", LOG_SQL("b/0002")), 0);
    ck_assert_int_eq(migrate_add("a", "0001_first", LOG_SQL("a/0001")), 0);
    ck_assert_int_eq(migrate_add("core", "0002_second", LOG_SQL("core/0002")), 0);
    ck_assert_int_eq(migrate_add("core", "0001_init",
                                 "CREATE TABLE log (seq INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                                 "\n-- a comment\n" LOG_SQL("core/0001")),
                     0);
    ck_assert_int_eq(migrate_add("b", "0001_first", LOG_SQL("b/0001")), 0);
    apply_ok();
    assert_value("SELECT group_concat(name, ' ') AS v FROM (SELECT name FROM log ORDER BY seq)",
                 "\"core/0001 core/0002 b/0001 b/0002 a/0001\"");
    assert_value("SELECT count(*) AS v FROM schema_migrations", "5");
    assert_value("SELECT count(*) AS v FROM schema_migrations WHERE applied_at LIKE '____-__-__T__:"
                 "__:__Z' AND length(checksum) = 64 AND checksum NOT GLOB '*[^0-9a-f]*'",
                 "5");

    /* again: nothing to do */
    before = value_of("SELECT group_concat(component || '/' || id || applied_at) AS v FROM "
                      "schema_migrations");
    apply_ok();
    assert_value("SELECT count(*) AS v FROM log", "5");

    /* a changed text is not re-applied (forward-only; a warning is logged) */
    migrate_remove("a");
    ck_assert_int_eq(migrate_add("a", "0001_first", LOG_SQL("a/0001 changed")), 0);
    apply_ok();
    assert_value("SELECT count(*) AS v FROM log", "5");
    {
        char *after = value_of("SELECT group_concat(component || '/' || id || applied_at) AS v "
                               "FROM schema_migrations");
        ck_assert_str_eq(before, after);
        free(after);
    }
    free(before);

    /* a new one is */
    ck_assert_int_eq(migrate_add("a", "0002_next", LOG_SQL("a/0002")), 0);
    apply_ok();
    assert_value("SELECT name AS v FROM log ORDER BY seq DESC", "\"a/0002\"");
}
END_TEST

START_TEST(test_failure_leaves_no_trace)
{
    char *err = NULL;
    char *schema_before;
    char *schema_after;

    ck_assert_int_eq(migrate_add("core", "0001_init", "CREATE TABLE log (name TEXT);"), 0);
    ck_assert_int_eq(migrate_add("x", "0001_ok", "CREATE TABLE x1 (a INTEGER);"), 0);
    /* the second statement fails: the first must leave no trace */
    ck_assert_int_eq(migrate_add("x", "0002_broken",
                                 "CREATE TABLE x2 (a INTEGER);\n"
                                 "INSERT INTO log VALUES ('x2');\n"
                                 "INSERT INTO no_such_table VALUES (1);\n"),
                     0);
    ck_assert_int_eq(migrate_add("x", "0003_after", "CREATE TABLE x3 (a INTEGER);"), 0);
    ck_assert_int_eq(migrate_add("y", "0001_later", "CREATE TABLE y1 (a INTEGER);"), 0);

    ck_assert_int_ne(migrate_apply(&err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "x/0002_broken"));
    ck_assert_ptr_nonnull(strstr(err, "no such table: no_such_table"));
    free(err);
    err = NULL;

    schema_before = value_of("SELECT group_concat(name, ' ') AS v FROM "
                             "(SELECT name FROM sqlite_schema ORDER BY name)");
    ck_assert_str_eq(schema_before,
                     "\"log schema_migrations sqlite_autoindex_schema_migrations_1 x1\"");
    assert_value("SELECT count(*) AS v FROM log", "0");
    assert_value("SELECT group_concat(id, ' ') AS v FROM schema_migrations",
                 "\"0001_init 0001_ok\"");
    ck_assert(!db_in_tx(db));
    ck_assert(sqlite3_get_autocommit(db_handle(db)));

    /* failing again changes nothing either */
    ck_assert_int_ne(migrate_apply(&err), 0);
    free(err);
    err = NULL;
    schema_after = value_of("SELECT group_concat(name, ' ') AS v FROM "
                            "(SELECT name FROM sqlite_schema ORDER BY name)");
    ck_assert_str_eq(schema_before, schema_after);
    free(schema_before);
    free(schema_after);

    /* once fixed, the rest follows */
    migrate_remove("x");
    ck_assert_int_eq(migrate_add("x", "0001_ok", "CREATE TABLE x1 (a INTEGER);"), 0);
    ck_assert_int_eq(migrate_add("x", "0002_broken", "CREATE TABLE x2 (a INTEGER);"), 0);
    ck_assert_int_eq(migrate_add("x", "0003_after", "CREATE TABLE x3 (a INTEGER);"), 0);
    apply_ok();
    assert_value("SELECT count(*) AS v FROM sqlite_schema WHERE name IN ('x1','x2','x3','y1')",
                 "4");
}
END_TEST

START_TEST(test_transaction_control_refused)
{
    char *err = NULL;

    ck_assert_int_eq(migrate_add("core", "0001_commits", "COMMIT; CREATE TABLE t (a);"), 0);
    ck_assert_int_ne(migrate_apply(&err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "core/0001_commits"));
    ck_assert_ptr_nonnull(strstr(err, "BEGIN, COMMIT or ROLLBACK"));
    free(err);
    err = NULL;
    assert_value("SELECT count(*) AS v FROM schema_migrations", "0");
    assert_value("SELECT count(*) AS v FROM sqlite_schema WHERE name = 't'", "0");
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
    migrate_release();
    ck_assert_int_eq(migrate_add("core", "0001_begins", "CREATE TABLE t (a); BEGIN;"), 0);
    ck_assert_int_ne(migrate_apply(&err), 0);
    free(err);
    assert_value("SELECT count(*) AS v FROM sqlite_schema WHERE name = 't'", "0");
    /* savepoints nest inside the migration's transaction and are allowed */
    migrate_release();
    ck_assert_int_eq(migrate_add("core", "0001_sp", "SAVEPOINT a; CREATE TABLE t (a); RELEASE a;"),
                     0);
    apply_ok();
    assert_value("SELECT count(*) AS v FROM sqlite_schema WHERE name = 't'", "1");
}
END_TEST

START_TEST(test_extension_in_schema)
{
    json_t *j_params = json_pack("[s]", "x");

    /* CHECK constraints may call the extension's innocuous functions (trusted_schema off) */
    ck_assert_int_eq(
        migrate_add("core", "0001_v", "CREATE TABLE v (x TEXT CHECK (x <> lintel_version()));"), 0);
    apply_ok();
    ck_assert_int_eq(db_exec(db, "INSERT INTO v VALUES (?)", j_params, NULL, NULL), 0);
    ck_assert_int_eq(db_exec(db, "INSERT INTO v VALUES (lintel_version())", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    json_decref(j_params);
}
END_TEST

START_TEST(test_remove)
{
    ck_assert_int_eq(migrate_add("p", "0001_a", "CREATE TABLE pa (a);"), 0);
    ck_assert_int_eq(migrate_add("q", "0001_a", "CREATE TABLE qa (a);"), 0);
    migrate_remove("p");
    migrate_remove("nobody");
    apply_ok();
    assert_value("SELECT group_concat(component) AS v FROM schema_migrations", "\"q\"");
    /* an empty registry still creates the table and succeeds */
    migrate_release();
    apply_ok();
}
END_TEST

static Suite *migrate_suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_order_and_rerun);
    tcase_add_test(tc, test_failure_leaves_no_trace);
    tcase_add_test(tc, test_transaction_control_refused);
    tcase_add_test(tc, test_extension_in_schema);
    tcase_add_test(tc, test_remove);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(migrate_suite());
    int failed;

    log_init("warning");
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    log_close();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
