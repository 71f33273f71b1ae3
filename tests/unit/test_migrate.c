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
#include <unistd.h>

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
    migrate_set_options(&(struct migrate_options){0});
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

    /* a changed text stops the start, naming the file; nothing else is applied */
    migrate_remove("a");
    ck_assert_int_eq(migrate_add("a", "0001_first", LOG_SQL("a/0001 changed")), 0);
    ck_assert_int_eq(migrate_add("a", "0003_later", LOG_SQL("a/0003")), 0);
    {
        char *err = NULL;
        ck_assert_int_eq(migrate_apply(&err), LINTEL_ECONFLICT);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "sql/a/0001_first.sql"));
        free(err);
    }
    assert_value("SELECT count(*) AS v FROM log", "5");
    {
        char *after = value_of("SELECT group_concat(component || '/' || id || applied_at) AS v "
                               "FROM schema_migrations");
        ck_assert_str_eq(before, after);
        free(after);
    }
    free(before);
    /* accepted by the operator: not re-applied, its new checksum recorded, the rest applied */
    {
        struct migrate_options opts = {.accept_changed = true};
        migrate_set_options(&opts);
        apply_ok();
        opts.accept_changed = false;
        migrate_set_options(&opts);
        apply_ok();
    }
    assert_value("SELECT count(*) AS v FROM log", "6");
    migrate_remove("a");

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

/* A parent with children that cascade, a trigger on the parent owned by someone else. */
#define FAMILY_SQL                                                                                 \
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"                            \
    "CREATE INDEX parent_name ON parent (name);"                                                   \
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL"                       \
    " REFERENCES parent (id) ON DELETE CASCADE);"                                                  \
    "CREATE TABLE audit (what TEXT);"                                                              \
    "INSERT INTO parent VALUES (1, 'a'), (2, 'b'), (3, 'c');"                                      \
    "INSERT INTO child VALUES (10, 1), (11, 1), (12, 2), (13, 3);"

#define REBUILD_SQL(extra)                                                                         \
    "-- Parent ids are never reused.\n"                                                            \
    "-- lintel: rebuild parent\n"                                                                  \
    "CREATE TABLE parent_new (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);"          \
    "INSERT INTO parent_new (id, name) SELECT id, name FROM parent;" extra "DROP TABLE parent;"    \
    "ALTER TABLE parent_new RENAME TO parent;"

START_TEST(test_rebuild)
{
    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    ck_assert_int_eq(migrate_add("other", "0001_trigger",
                                 "CREATE TRIGGER parent_gone AFTER DELETE ON parent BEGIN"
                                 " INSERT INTO audit VALUES ('gone ' || OLD.id); END;"),
                     0);
    ck_assert_int_eq(migrate_add("core", "0002_rebuild", REBUILD_SQL("")), 0);
    apply_ok();
    /* no child lost to the drop's cascade, the schema has AUTOINCREMENT */
    assert_value("SELECT count(*) AS v FROM child", "4");
    assert_value("SELECT count(*) AS v FROM audit", "0");
    assert_value("SELECT instr(sql, 'AUTOINCREMENT') > 0 AS v FROM sqlite_schema"
                 " WHERE name = 'parent'",
                 "1");
    /* the index and the other component's trigger came back, on the new table */
    assert_value("SELECT group_concat(name, ' ') AS v FROM (SELECT name FROM sqlite_schema"
                 " WHERE tbl_name = 'parent' AND type <> 'table' ORDER BY name)",
                 "\"parent_gone parent_name\"");
    /* foreign keys are on again: the cascade works, the trigger fires */
    ck_assert_int_eq(db_exec(db, "DELETE FROM parent WHERE id = 1", NULL, NULL, NULL), 0);
    assert_value("SELECT count(*) AS v FROM child", "2");
    assert_value("SELECT what AS v FROM audit", "\"gone 1\"");
    assert_value("SELECT foreign_keys AS v FROM pragma_foreign_keys", "1");
    assert_value("SELECT legacy_alter_table AS v FROM pragma_legacy_alter_table", "0");
}
END_TEST

START_TEST(test_rebuild_dangling_rolls_back)
{
    char *err = NULL;
    char *schema_before;
    char *schema_after;

    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    apply_ok();
    schema_before = value_of("SELECT group_concat(sql, ';') AS v FROM sqlite_schema");
    /* the copy forgets parent 2: child 12 would point at nothing */
    ck_assert_int_eq(
        migrate_add("core", "0002_rebuild", REBUILD_SQL("DELETE FROM parent_new WHERE id = 2;")),
        0);
    ck_assert_int_eq(migrate_apply(&err), LINTEL_EDB);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "core/0002_rebuild") != NULL && strstr(err, "table child") != NULL &&
                      strstr(err, "row 12") != NULL && strstr(err, "references parent") != NULL,
                  "%s", err);
    free(err);
    schema_after = value_of("SELECT group_concat(sql, ';') AS v FROM sqlite_schema");
    ck_assert_str_eq(schema_before, schema_after);
    free(schema_before);
    free(schema_after);
    assert_value("SELECT count(*) AS v FROM parent", "3");
    assert_value("SELECT count(*) AS v FROM child", "4");
    assert_value("SELECT count(*) AS v FROM schema_migrations", "1");
    assert_value("SELECT foreign_keys AS v FROM pragma_foreign_keys", "1");
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
}
END_TEST

START_TEST(test_rebuild_old_dangling_tolerated)
{
    /* a row an operator orphaned with foreign keys off is not the migration's doing */
    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    apply_ok();
    ck_assert_int_eq(db_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL), 0);
    ck_assert_int_eq(db_exec(db, "DELETE FROM parent WHERE id = 3", NULL, NULL, NULL), 0);
    ck_assert_int_eq(db_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), 0);
    ck_assert_int_eq(migrate_add("core", "0002_rebuild", REBUILD_SQL("")), 0);
    apply_ok();
    assert_value("SELECT count(*) AS v FROM child", "4");
}
END_TEST

START_TEST(test_drop_referenced_needs_rebuild)
{
    char *err = NULL;

    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    /* without the rebuild line, the drop would cascade into child: refused */
    ck_assert_int_eq(migrate_add("core", "0002_plain",
                                 "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);"
                                 "INSERT INTO parent_new SELECT * FROM parent;"
                                 "DROP TABLE parent;"
                                 "ALTER TABLE parent_new RENAME TO parent;"),
                     0);
    ck_assert_int_eq(migrate_apply(&err), LINTEL_EDB);
    ck_assert_msg(strstr(err, "drops table parent") != NULL &&
                      strstr(err, "-- lintel: rebuild parent") != NULL,
                  "%s", err);
    free(err);
    assert_value("SELECT count(*) AS v FROM child", "4");
    /* a table nobody references may still be dropped */
    migrate_release();
    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    ck_assert_int_eq(migrate_add("core", "0002_drop_audit", "DROP TABLE audit;"), 0);
    apply_ok();
}
END_TEST

/* A rebuild whose SQL leaves the table out is refused, and nothing of it stays. */
START_TEST(test_rebuild_leaves_no_table)
{
    char *err = NULL;

    ck_assert_int_eq(
        migrate_add("core", "0001_solo", "CREATE TABLE solo (id INTEGER PRIMARY KEY);"), 0);
    ck_assert_int_eq(migrate_add("core", "0002_lost", "-- lintel: rebuild solo\nDROP TABLE solo;"),
                     0);
    ck_assert_int_ne(migrate_apply(&err), 0);
    ck_assert_msg(strstr(err, "rebuilds table solo but leaves no table of that name") != NULL, "%s",
                  err);
    free(err);
    assert_value("SELECT count(*) AS v FROM sqlite_schema WHERE name = 'solo'", "1");
}
END_TEST

START_TEST(test_rebuild_header)
{
    ck_assert_int_eq(migrate_add("c", "0001_a", "-- lintel: rebuild t1 t_2\nSELECT 1;"), 0);
    ck_assert_int_eq(migrate_add("c", "0002_a", "\n-- x\n\n--lintel: rebuild t\nSELECT 1;"), 0);
    /* after the leading comments the line is just a comment */
    ck_assert_int_eq(migrate_add("c", "0003_a", "SELECT 1;\n-- lintel: rebuilt x\n"), 0);
    ck_assert_int_eq(migrate_add("c", "0004_a", "-- lintel: rebuilt t\nSELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("c", "0005_a", "-- lintel: rebuild\nSELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("c", "0006_a", "-- lintel: rebuild 1t\nSELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("c", "0007_a", "-- lintel: rebuild t;\nSELECT 1;"), LINTEL_EPARAM);
    ck_assert_int_eq(migrate_add("c", "0008_a", "-- lintel: rebuild a b c d e f g h i\nSELECT 1;"),
                     LINTEL_EPARAM);
    ck_assert_int_eq(
        migrate_add("c", "0009_a", "-- lintel: rebuild a\n-- lintel: rebuild b\nSELECT 1;"),
        LINTEL_EPARAM);
    /* a rebuild of a table that does not exist is refused when applied */
    {
        char *err = NULL;
        ck_assert_int_ne(migrate_apply(&err), 0);
        ck_assert_ptr_nonnull(strstr(err, "rebuilds table t1, which does not exist"));
        free(err);
    }
}
END_TEST

static int count_snapshots(const char *dir)
{
    char cmd[600];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls %s/snapshots | grep -c '^lintel-.*\\.db$'", dir);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

START_TEST(test_snapshot_status_dry_run)
{
    struct migrate_options opts = {.data_dir = tmp_root, .snapshot_keep = 2};
    char *err = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out;
    int i;

    migrate_set_options(&opts);
    /* a new database: nothing to keep */
    ck_assert_int_eq(migrate_add("core", "0001_family", FAMILY_SQL), 0);
    apply_ok();
    ck_assert_int_eq(count_snapshots(tmp_root), 0);
    assert_value("SELECT user_version AS v FROM pragma_user_version", "2000");

    /* status: one applied, one pending with its rebuild */
    ck_assert_int_eq(migrate_add("core", "0002_rebuild", REBUILD_SQL("")), 0);
    out = open_memstream(&text, &len);
    ck_assert_int_eq(migrate_status(out, &err), 0);
    fclose(out);
    ck_assert_msg(strstr(text, "0001_family") && strstr(text, "applied") &&
                      strstr(text, "0002_rebuild") && strstr(text, "pending") &&
                      strstr(text, "rebuild: parent") && strstr(text, "1 pending, 0 changed"),
                  "%s", text);
    free(text);

    /* dry run: reports, changes nothing */
    out = open_memstream(&text, &len);
    ck_assert_int_eq(migrate_dry_run(out, &err), 0);
    fclose(out);
    ck_assert_msg(strstr(text, "ok       core/0002_rebuild, rebuilds parent") != NULL, "%s", text);
    free(text);
    assert_value("SELECT count(*) AS v FROM schema_migrations", "1");
    assert_value("SELECT instr(sql, 'AUTOINCREMENT') AS v FROM sqlite_schema WHERE name = "
                 "'parent'",
                 "0");

    /* each apply with something pending takes a snapshot that holds the data as it was */
    apply_ok();
    ck_assert_int_eq(count_snapshots(tmp_root), 1);
    for (i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%04d_more", 3 + i);
        ck_assert_int_eq(migrate_add("core", id, "INSERT INTO audit VALUES ('x');"), 0);
        sleep(1); /* names hold the second */
        apply_ok();
    }
    ck_assert_int_eq(count_snapshots(tmp_root), 2);

    /* a failing dry run says so */
    ck_assert_int_eq(migrate_add("core", "0010_bad", "INSERT INTO nowhere VALUES (1);"), 0);
    out = open_memstream(&text, &len);
    ck_assert_int_ne(migrate_dry_run(out, &err), 0);
    fclose(out);
    ck_assert_msg(strstr(text, "FAILS") && strstr(text, "no such table: nowhere"), "%s", text);
    free(text);
    free(err);
    err = NULL;

    /* a database of a newer release is refused */
    migrate_release();
    ck_assert_int_eq(db_exec(db, "PRAGMA user_version=99000000", NULL, NULL, NULL), 0);
    ck_assert_int_eq(migrate_apply(&err), LINTEL_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err, "lintel 99.0.0"));
    free(err);
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
    tcase_add_test(tc, test_rebuild);
    tcase_add_test(tc, test_rebuild_dangling_rolls_back);
    tcase_add_test(tc, test_rebuild_old_dangling_tolerated);
    tcase_add_test(tc, test_drop_referenced_needs_rebuild);
    tcase_add_test(tc, test_rebuild_header);
    tcase_add_test(tc, test_rebuild_leaves_no_table);
    tcase_add_test(tc, test_snapshot_status_dry_run);
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
