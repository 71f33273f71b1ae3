/*
 * Unit tests of app/db.c against a real SQLite file in a temporary directory: pragmas, JSON
 * binding and rows, error mapping, transactions, per-thread connections, the statement cache.
 */
#include "config.h"
#include "db.h"
#include "json_out.h"
#include "log.h"
#include "lt_test.h"

#include <check.h>
#include <ftw.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_root[256];
static char data_dir[512];
static struct config cfg;
static struct db *db;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup_with(const char *sync, unsigned busy_timeout)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/lintel-test-db-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
    /* Two levels that do not exist yet: db_global_init creates them. */
    snprintf(data_dir, sizeof(data_dir), "%s/a/data", tmp_root);
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = data_dir;
    cfg.synchronous = (char *)sync;
    cfg.busy_timeout = busy_timeout;
    ck_assert_int_eq(db_global_init(&cfg), 0);
    ck_assert_int_eq(db_thread(&db), 0);
    ck_assert_ptr_nonnull(db);
}

static void setup(void)
{
    setup_with(NULL, 5000);
}

static void teardown(void)
{
    db_global_release();
    nftw(tmp_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void exec_ok(const char *sql)
{
    ck_assert_msg(db_exec(db, sql, NULL, NULL, NULL) == 0, "%s: %s", sql, db_errmsg(db));
}

/* The one row of sql as JSON text (caller frees). */
static char *row_text(const char *sql, const json_t *j_params)
{
    json_t *j_row = NULL;
    char *text;
    int rc = db_row(db, sql, j_params, &j_row);

    ck_assert_msg(rc == 0, "%s: %d %s", sql, rc, db_errmsg(db));
    text = json_dumps(j_row, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j_row);
    return text;
}

static void assert_row(const char *sql, const json_t *j_params, const char *expect)
{
    char *text = row_text(sql, j_params);

    ck_assert_str_eq(text, expect);
    free(text);
}

START_TEST(test_pragmas)
{
    struct stat st;

    assert_row("PRAGMA journal_mode", NULL, "{\"journal_mode\":\"wal\"}");
    assert_row("PRAGMA foreign_keys", NULL, "{\"foreign_keys\":1}");
    assert_row("PRAGMA synchronous", NULL, "{\"synchronous\":2}");
    assert_row("PRAGMA busy_timeout", NULL, "{\"timeout\":5000}");
    assert_row("PRAGMA trusted_schema", NULL, "{\"trusted_schema\":0}");
    ck_assert_int_eq(stat(data_dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_ptr_nonnull(strstr(sqlite3_db_filename(db_handle(db), "main"), "/a/data/lintel.db"));
}
END_TEST

START_TEST(test_synchronous_normal)
{
    teardown();
    setup_with("normal", 1234);
    assert_row("PRAGMA synchronous", NULL, "{\"synchronous\":1}");
    assert_row("PRAGMA busy_timeout", NULL, "{\"timeout\":1234}");
}
END_TEST

START_TEST(test_bad_config)
{
    struct config bad = cfg;

    db_global_release();
    bad.synchronous = "OFF";
    ck_assert_int_eq(db_global_init(&bad), LINTEL_EPARAM);
    bad.synchronous = NULL;
    bad.data_dir = "/proc/no/such/dir";
    ck_assert_int_eq(db_global_init(&bad), LINTEL_EUNAVAIL);
    ck_assert_int_eq(db_thread(&db), LINTEL_EUNAVAIL);
}
END_TEST

START_TEST(test_not_a_database)
{
    char path[600];
    FILE *f;

    db_global_release();
    snprintf(path, sizeof(path), "%s/lintel.db", data_dir);
    remove(path);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database file, only text. ", f);
    fclose(f);
    ck_assert_int_eq(db_global_init(&cfg), LINTEL_EUNAVAIL);
}
END_TEST

START_TEST(test_bind_positional)
{
    json_t *j_params = json_pack("[I, f, s, b, b, n, [i, s], {s:i}]", (json_int_t)1 << 62, 1.5,
                                 "h\xc3\xa9llo", 1, 0, 1, "a", "k", 2);

    assert_row("SELECT ?1 AS i, typeof(?1) AS ti, ?2 AS r, typeof(?2) AS tr, ?3 AS s, "
               "?4 AS t, ?5 AS f, ?6 AS n, typeof(?6) AS tn, ?7 AS a, ?8 AS o",
               j_params,
               "{\"a\":\"[1,\\\"a\\\"]\",\"f\":0,\"i\":4611686018427387904,\"n\":null,"
               "\"o\":\"{\\\"k\\\":2}\",\"r\":1.5,\"s\":\"h\xc3\xa9llo\",\"t\":1,"
               "\"ti\":\"integer\",\"tn\":\"null\",\"tr\":\"real\"}");
    json_decref(j_params);

    /* "?" without numbers binds in order, and text may contain a NUL */
    j_params = json_pack("[s%, i]", "a\0b", (size_t)3, 7);
    assert_row("SELECT length(CAST(? AS BLOB)) AS len, ? AS seven", j_params,
               "{\"len\":3,\"seven\":7}");
    json_decref(j_params);
}
END_TEST

/*
 * db_execf, db_rowf and db_queryf pack their parameters as json_pack packs "[fmt]"; a pack that
 * fails runs nothing and is a misuse (LINTEL_EINTERNAL), as a wrong parameter count is.
 */
START_TEST(test_execf)
{
    long long changes = -1;
    json_t *j_row = NULL, *j_rows = NULL, *j_held = json_object();
    char *text;
    char long_fmt[160];

    exec_ok("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)");
    ck_assert_int_eq(db_execf(db, &changes, "INSERT INTO t (v, n) VALUES (?1, ?2)", "s%I", "abc",
                              (size_t)2, (json_int_t)7),
                     0);
    ck_assert_int_eq(changes, 1);
    ck_assert_int_eq(db_execf(db, NULL, "INSERT INTO t (v, n) VALUES (?1, ?2)", "s?I",
                              (const char *)NULL, (json_int_t)8),
                     0);
    assert_row(
        "SELECT group_concat(x, ',') AS r FROM (SELECT quote(v) || n AS x FROM t ORDER BY id)",
        NULL, "{\"r\":\"'ab'7,NULL8\"}");

    changes = -1;
    ck_assert_int_eq(db_execf(db, &changes, "DELETE FROM t", "s", (const char *)NULL),
                     LINTEL_EINTERNAL);
    ck_assert_int_eq(changes, -1);
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");
    memset(long_fmt, 'I', sizeof(long_fmt) - 1);
    long_fmt[sizeof(long_fmt) - 1] = '\0';
    ck_assert_int_eq(db_execf(db, NULL, "DELETE FROM t", long_fmt), LINTEL_EINTERNAL);
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");

    /* one row, and the rows, with the same inline parameters; NULL fmt is none */
    ck_assert_int_eq(db_rowf(db, &j_row, "SELECT v, n FROM t WHERE n = ?1", "I", (json_int_t)7), 0);
    text = json_dumps(j_row, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(text, "{\"n\":7,\"v\":\"ab\"}");
    free(text);
    json_decref(j_row);
    j_row = j_held; /* an output is cleared first, whatever happens */
    ck_assert_int_eq(db_rowf(db, &j_row, "SELECT v FROM t WHERE n = ?1", "I", (json_int_t)9),
                     LINTEL_ENOTFOUND);
    ck_assert_ptr_null(j_row);
    j_row = j_held;
    ck_assert_int_eq(db_rowf(db, &j_row, "SELECT v FROM t WHERE v = ?1", "s", (const char *)NULL),
                     LINTEL_EINTERNAL);
    ck_assert_ptr_null(j_row);
    ck_assert_int_eq(db_queryf(db, &j_rows, "SELECT n FROM t ORDER BY n", NULL), 0);
    text = json_dumps(j_rows, JSON_COMPACT);
    ck_assert_str_eq(text, "[{\"n\":7},{\"n\":8}]");
    free(text);
    json_decref(j_rows);
    j_rows = j_held;
    ck_assert_int_eq(
        db_queryf(db, &j_rows, "SELECT n FROM t WHERE n > ?1", "s", (const char *)NULL),
        LINTEL_EINTERNAL);
    ck_assert_ptr_null(j_rows);

    ck_assert_int_eq(db_execf(db, NULL, "INSERT INTO t (id) VALUES (?1)", "I", (json_int_t)1),
                     LINTEL_ECONFLICT);
    ck_assert_int_eq(db_execf(db, &changes, "DELETE FROM t WHERE n = ?1", "I", (json_int_t)8), 0);
    ck_assert_int_eq(changes, 1);
    json_decref(j_held);
}
END_TEST

START_TEST(test_bind_named)
{
    json_t *j_params = json_pack("{s:i, s:s, s:b, s:[i]}", "a", 1, "b", "two", "c", 1, "d", 4);

    assert_row("SELECT :a AS a, @b AS b, $c AS c, :d AS d, :a + 1 AS a1", j_params,
               "{\"a\":1,\"a1\":2,\"b\":\"two\",\"c\":1,\"d\":\"[4]\"}");
    json_decref(j_params);
}
END_TEST

START_TEST(test_bind_errors)
{
    json_t *j_rows = NULL;
    json_t *j_params;

    /* too few, too many, none */
    j_params = json_pack("[i]", 1);
    ck_assert_int_eq(db_query(db, "SELECT ?1, ?2", j_params, &j_rows), LINTEL_EINTERNAL);
    ck_assert_ptr_null(j_rows);
    ck_assert_int_eq(db_query(db, "SELECT 1", j_params, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELECT ?1", NULL, &j_rows), LINTEL_EINTERNAL);
    /* a named parameter by position */
    ck_assert_int_eq(db_query(db, "SELECT :a", j_params, &j_rows), LINTEL_EINTERNAL);
    json_decref(j_params);

    /* unknown name, missing name, positional with an object */
    j_params = json_pack("{s:i, s:i}", "a", 1, "zz", 2);
    ck_assert_int_eq(db_query(db, "SELECT :a", j_params, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELECT :a, :b, :zz", j_params, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELECT :a, ?, :zz", j_params, &j_rows), LINTEL_EINTERNAL);
    ck_assert_str_eq(db_errmsg(db), "internal error");
    json_decref(j_params);

    /* neither array nor object */
    j_params = json_string("x");
    ck_assert_int_eq(db_query(db, "SELECT ?", j_params, &j_rows), LINTEL_EINTERNAL);
    json_decref(j_params);

    /* an empty array or object is "no parameters" */
    j_params = json_array();
    ck_assert_int_eq(db_query(db, "SELECT 1 AS one", j_params, &j_rows), 0);
    json_decref(j_rows);
    json_decref(j_params);

    /* SQL that is not exactly one statement, or does not compile */
    ck_assert_int_eq(db_query(db, "SELECT 1; SELECT 2", NULL, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "  -- nothing", NULL, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELEC 1", NULL, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELECT * FROM no_such_table", NULL, &j_rows), LINTEL_EINTERNAL);
    /* a trailing ';' and comment are fine */
    ck_assert_int_eq(db_query(db, "SELECT 1 AS one; -- done\n", NULL, &j_rows), 0);
    json_decref(j_rows);
    /* double-quoted strings are identifiers only (DQS off) */
    ck_assert_int_eq(db_query(db, "SELECT \"not a column\"", NULL, &j_rows), LINTEL_EINTERNAL);
}
END_TEST

START_TEST(test_columns)
{
    json_t *j_rows = NULL;
    char *text;

    assert_row("SELECT 1 AS i, 2.5 AS r, 'x' AS t, NULL AS n, 1e999 AS inf, -1e999 AS ninf, "
               "0.1 AS tenth",
               NULL,
               "{\"i\":1,\"inf\":null,\"n\":null,\"ninf\":null,\"r\":2.5,\"t\":\"x\","
               "\"tenth\":0.10000000000000001}");
    assert_row("SELECT '{\"a\":[1,true]}' AS \"o:json\", NULL AS \"n:json\", '3' AS \"t:json\", "
               "4 AS \"i:json\", 1.5 AS \"r:json\", '\"s\"' AS \"s:json\"",
               NULL, "{\"i\":4,\"n\":null,\"o\":{\"a\":[1,true]},\"r\":1.5,\"s\":\"s\",\"t\":3}");
    assert_row("SELECT 1 AS \"a:bool\", 0 AS \"b:bool\", NULL AS \"c:bool\", 7 AS \"d:bool\", "
               "0.0 AS \"e:bool\"",
               NULL, "{\"a\":true,\"b\":false,\"c\":null,\"d\":true,\"e\":false}");

    /* rows keep their order; an empty result is an empty array */
    exec_ok("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    exec_ok("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");
    ck_assert_int_eq(db_query(db, "SELECT id, v FROM t ORDER BY id", NULL, &j_rows), 0);
    text = json_dumps(j_rows, JSON_COMPACT);
    ck_assert_str_eq(text,
                     "[{\"id\":1,\"v\":\"a\"},{\"id\":2,\"v\":\"b\"},{\"id\":3,\"v\":\"c\"}]");
    free(text);
    json_decref(j_rows);
    ck_assert_int_eq(db_query(db, "SELECT id FROM t WHERE id > 99", NULL, &j_rows), 0);
    ck_assert_int_eq(json_array_size(j_rows), 0);
    json_decref(j_rows);

    /* BLOBs, invalid JSON, invalid UTF-8, text as bool */
    ck_assert_int_eq(db_query(db, "SELECT x'00ff' AS b", NULL, &j_rows), LINTEL_EINTERNAL);
    ck_assert_ptr_null(j_rows);
    ck_assert_int_eq(db_query(db, "SELECT '{bad' AS \"x:json\"", NULL, &j_rows), LINTEL_EDB);
    ck_assert_int_eq(db_query(db, "SELECT CAST(x'ff41' AS TEXT) AS t", NULL, &j_rows), LINTEL_EDB);
    ck_assert_int_eq(db_query(db, "SELECT 'yes' AS \"x:bool\"", NULL, &j_rows), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_query(db, "SELECT hex(x'00ff') AS b", NULL, &j_rows), 0);
    json_decref(j_rows);
}
END_TEST

/* db_query_text writes the same text json_out_dump makes of db_query's rows. */
static void assert_text_same(const char *sql)
{
    struct json_out_buf b = {0};
    struct db_text text = {.b = &b};
    json_t *j_rows = NULL;
    char *dump = NULL;
    size_t len = 0;
    int rc = db_query(db, sql, NULL, &j_rows), rc_text;

    rc_text = db_query_text(db, sql, NULL, &text);
    ck_assert_msg(rc == rc_text, "%s: %d against %d", sql, rc, rc_text);
    if (rc == 0) {
        ck_assert_int_eq(json_out_dump(j_rows, &dump, &len), 0);
        ck_assert_str_eq(b.data, dump);
        ck_assert_uint_eq(text.rows, json_array_size(j_rows));
    }
    free(dump);
    free(b.data);
    json_decref(j_rows);
}

START_TEST(test_text_rows)
{
    struct json_out_buf b = {0};
    struct db_text text = {.b = &b, .capped = true, .max_rows = 2};
    json_t *j_last = NULL;

    assert_text_same("SELECT 1 AS i, 2.5 AS r, 'x' AS t, NULL AS n, 1e999 AS inf, -1e999 AS ninf, "
                     "0.1 AS tenth, -0.0 AS nz, 1e300 AS big, -9223372036854775808 AS imin, "
                     "123456789012.5 AS r2, 5.0 AS five");
    assert_text_same("SELECT 'tab\there \"q\" back\\slash' AS t, 'caf\xc3\xa9 \xe2\x82\xac' AS u, "
                     "char(1, 31, 127) AS ctl, '' AS empty, 1 AS \"odd \"\"name\"\"\"");
    assert_text_same(
        "SELECT '{\"a\":[1,true]}' AS \"o:json\", NULL AS \"n:json\", '3' AS \"t:json\", "
        "4 AS \"i:json\", 1.5 AS \"r:json\", '\"s\"' AS \"s:json\"");
    assert_text_same(
        "SELECT 1 AS \"a:bool\", 0 AS \"b:bool\", NULL AS \"c:bool\", 7 AS \"d:bool\", "
        "0.0 AS \"e:bool\"");
    exec_ok("CREATE TABLE t (id INTEGER PRIMARY KEY, v ANY)");
    exec_ok("INSERT INTO t (v) VALUES ('a'), (2.25), (NULL), (7), ('\xce\xbb')");
    assert_text_same("SELECT id, v FROM t ORDER BY id");
    assert_text_same("SELECT id FROM t WHERE id > 99");
    /* the same refusals as db_query: BLOBs, invalid JSON, invalid UTF-8, text as bool */
    assert_text_same("SELECT x'00ff' AS b");
    assert_text_same("SELECT '{bad' AS \"x:json\"");
    assert_text_same("SELECT CAST(x'ff41' AS TEXT) AS t");
    assert_text_same("SELECT 'yes' AS \"x:bool\"");

    /* max_rows: written up to it, one more read and counted, the last written one as JSON */
    text.j_last = &j_last;
    ck_assert_int_eq(db_query_text(db, "SELECT id FROM t ORDER BY id", NULL, &text), 0);
    ck_assert_str_eq(b.data, "[{\"id\":1},{\"id\":2}]");
    ck_assert_uint_eq(text.rows, 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j_last, "id")), 2);
    json_decref(j_last);
    free(b.data);
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(db_query_text(db, "SELECT id FROM t WHERE id = 5", NULL, &text), 0);
    ck_assert_str_eq(b.data, "[{\"id\":5}]");
    ck_assert_uint_eq(text.rows, 1);
    ck_assert_ptr_null(j_last);
    free(b.data);
    memset(&b, 0, sizeof(b));
    text.max_rows = 0; /* none written, one read */
    ck_assert_int_eq(db_query_text(db, "SELECT id FROM t ORDER BY id", NULL, &text), 0);
    ck_assert_str_eq(b.data, "[]");
    ck_assert_uint_eq(text.rows, 1);
    ck_assert_ptr_null(j_last);
    free(b.data);
    memset(&b, 0, sizeof(b));

    /* object: the first row alone, nothing for none */
    text = (struct db_text){.b = &b, .object = true};
    ck_assert_int_eq(db_query_text(db, "SELECT id, v FROM t ORDER BY id", NULL, &text), 0);
    ck_assert_str_eq(b.data, "{\"id\":1,\"v\":\"a\"}");
    free(b.data);
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(db_query_text(db, "SELECT id FROM t WHERE id > 99", NULL, &text), 0);
    ck_assert_uint_eq(text.rows, 0);
    ck_assert_ptr_null(b.data);
    ck_assert(!text.has_etag);

    /* a ":etag" column is not written, wherever it is; its value is the version of the reply */
    text = (struct db_text){.b = &b, .object = true};
    ck_assert_int_eq(
        db_query_text(db, "SELECT 41 AS \"version:etag\", id, v FROM t WHERE id = 1", NULL, &text),
        0);
    ck_assert_str_eq(b.data, "{\"id\":1,\"v\":\"a\"}");
    ck_assert(text.has_etag);
    ck_assert_int_eq(text.etag, 41);
    free(b.data);
    memset(&b, 0, sizeof(b));
    text = (struct db_text){.b = &b, .object = true};
    ck_assert_int_eq(
        db_query_text(db, "SELECT id, 7 AS \"v:etag\" FROM t WHERE id = 2", NULL, &text), 0);
    ck_assert_str_eq(b.data, "{\"id\":2}");
    ck_assert_int_eq(text.etag, 7);
    free(b.data);
    memset(&b, 0, sizeof(b));
    /* a query that reads no row leaves no version, even after one that had one */
    ck_assert_int_eq(
        db_query_text(db, "SELECT id, 7 AS \"v:etag\" FROM t WHERE id > 99", NULL, &text), 0);
    ck_assert(!text.has_etag);
}
END_TEST

/* Stamps move with every commit: this connection's, another connection's, another process's. */
START_TEST(test_stamp)
{
    struct db_stamp a, b, c;
    sqlite3 *other = NULL;
    char path[600];

    exec_ok("CREATE TABLE s (v INTEGER)");
    ck_assert_int_eq(db_stamp(db, &a), 0);
    ck_assert_uint_eq(a.source, DB_STAMP_PRAGMA); /* a connection's first, under a transaction */
    ck_assert_uint_ne(a.connection, 0);
    ck_assert_int_eq(db_stamp(db, &a), 0);
    ck_assert_int_eq(db_stamp(db, &b), 0);
    ck_assert_mem_eq(&a, &b, sizeof(a));             /* nothing written: the same */
    ck_assert_uint_eq(a.source, DB_STAMP_WAL_INDEX); /* read without a transaction */
    exec_ok("INSERT INTO s VALUES (1)");             /* this connection */
    ck_assert_int_eq(db_stamp(db, &b), 0);
    ck_assert_int_ne(memcmp(&a, &b, sizeof(a)), 0);
    a = b;
    exec_ok("SELECT count(*) FROM s"); /* a read changes nothing */
    ck_assert_int_eq(db_stamp(db, &b), 0);
    ck_assert_mem_eq(&a, &b, sizeof(a));
    /* another connection, as the sqlite3 shell or the CLI would have */
    snprintf(path, sizeof(path), "%s/lintel.db", data_dir);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "UPDATE s SET v = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(db_stamp(db, &b), 0);
    ck_assert_int_ne(memcmp(&a, &b, sizeof(a)), 0);
    /* a checkpoint that empties the log, then one commit: the log restarts at its first frame */
    a = b;
    ck_assert_int_eq(
        sqlite3_wal_checkpoint_v2(db_handle(db), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
        SQLITE_OK);
    ck_assert_int_eq(db_stamp(db, &c), 0);
    exec_ok("UPDATE s SET v = 3");
    ck_assert_int_eq(db_stamp(db, &b), 0);
    ck_assert_int_ne(memcmp(&a, &b, sizeof(a)), 0);
    ck_assert_int_ne(memcmp(&c, &b, sizeof(c)), 0);
    ck_assert_uint_eq(b.source, DB_STAMP_WAL_INDEX);
    /* not inside a transaction */
    ck_assert_int_eq(db_begin(db), 0);
    ck_assert_int_eq(db_stamp(db, &b), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_rollback(db), 0);
}
END_TEST

START_TEST(test_row_and_exec)
{
    json_t *j_row = NULL;
    json_t *j_rows = NULL;
    json_t *j_params;
    long long changes = -1;
    long long last_id = -1;

    exec_ok("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    ck_assert_int_eq(db_row(db, "SELECT v FROM t", NULL, &j_row), LINTEL_ENOTFOUND);
    ck_assert_ptr_null(j_row);

    j_params = json_pack("[s]", "a");
    ck_assert_int_eq(db_exec(db, "INSERT INTO t (v) VALUES (?)", j_params, &changes, &last_id), 0);
    ck_assert_int_eq(changes, 1);
    ck_assert_int_eq(last_id, 1);
    ck_assert_int_eq(db_exec(db, "INSERT INTO t (v) VALUES (?)", j_params, NULL, &last_id), 0);
    ck_assert_int_eq(last_id, 2);
    json_decref(j_params);
    ck_assert_int_eq(db_exec(db, "UPDATE t SET v = 'b'", NULL, &changes, NULL), 0);
    ck_assert_int_eq(changes, 2);
    ck_assert_int_eq(db_exec(db, "SELECT * FROM t", NULL, &changes, NULL), 0);
    ck_assert_int_eq(changes, 0);
    ck_assert_int_eq(db_row(db, "SELECT id FROM t ORDER BY id DESC", NULL, &j_row), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j_row, "id")), 2);
    json_decref(j_row);

    /* a write through db_query (RETURNING) commits, even when only one row is taken */
    ck_assert_int_eq(
        db_query(db, "INSERT INTO t (v) VALUES ('c'), ('d') RETURNING id", NULL, &j_rows), 0);
    ck_assert_int_eq(json_array_size(j_rows), 2);
    json_decref(j_rows);
    ck_assert_int_eq(db_row(db, "DELETE FROM t WHERE v IN ('c', 'd') RETURNING id", NULL, &j_row),
                     0);
    json_decref(j_row);
    ck_assert(!db_in_tx(db));
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");
}
END_TEST

START_TEST(test_constraints)
{
    json_t *j_params = NULL;

    exec_ok("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
            "value INTEGER CONSTRAINT value CHECK (value > 0), other INTEGER CHECK (other < 5))");
    exec_ok("CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id))");
    exec_ok("CREATE TABLE s (a INTEGER, b TEXT) STRICT");
    exec_ok("CREATE TRIGGER p_no_bob BEFORE INSERT ON p WHEN NEW.name = 'bob' "
            "BEGIN SELECT RAISE(ABORT, 'bob is not welcome'); END");
    exec_ok("INSERT INTO p (id, name, value) VALUES (1, 'x', 1)");

    ck_assert_int_eq(db_exec(db, "INSERT INTO p (name, value) VALUES ('x', 2)", NULL, NULL, NULL),
                     LINTEL_ECONFLICT);
    ck_assert_str_eq(db_errmsg(db), "name already exists");
    ck_assert_str_eq(db_errfield(db), "name");
    ck_assert_int_eq(db_exec(db, "INSERT INTO p (id, name) VALUES (1, 'y')", NULL, NULL, NULL),
                     LINTEL_ECONFLICT);
    ck_assert_str_eq(db_errfield(db), "id");

    ck_assert_int_eq(db_exec(db, "INSERT INTO p (name, value) VALUES ('y', 0)", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_str_eq(db_errmsg(db), "CHECK constraint failed: value");
    ck_assert_str_eq(db_errfield(db), "value");
    ck_assert_int_eq(db_exec(db, "INSERT INTO p (name, other) VALUES ('y', 9)", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_ptr_null(db_errfield(db)); /* unnamed: the message has the expression */
    ck_assert_ptr_nonnull(strstr(db_errmsg(db), "other < 5"));

    ck_assert_int_eq(db_exec(db, "INSERT INTO p (value) VALUES (1)", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_str_eq(db_errmsg(db), "name is required");
    ck_assert_str_eq(db_errfield(db), "name");

    ck_assert_int_eq(db_exec(db, "INSERT INTO c (p_id) VALUES (42)", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_str_eq(db_errmsg(db), "FOREIGN KEY constraint failed");

    j_params = json_pack("[s]", "text");
    ck_assert_int_eq(db_exec(db, "INSERT INTO s (a) VALUES (?)", j_params, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_str_eq(db_errfield(db), "a");
    json_decref(j_params);

    ck_assert_int_eq(db_exec(db, "INSERT INTO p (name) VALUES ('bob')", NULL, NULL, NULL),
                     LINTEL_EPARAM);
    ck_assert_str_eq(db_errmsg(db), "bob is not welcome");

    /* nothing of the failed statements stayed, no transaction is left open */
    assert_row("SELECT count(*) AS n FROM p", NULL, "{\"n\":1}");
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
    /* a later success clears the error */
    exec_ok("INSERT INTO p (name, value) VALUES ('z', 3)");
    ck_assert_ptr_null(db_errfield(db));
}
END_TEST

static void fail_function(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_error(ctx, "lintel_test_fail(): 1st argument is not a BLOB", -1);
}

START_TEST(test_function_error)
{
    json_t *j_rows = NULL;

    /* an extension function's error is the client's (a value it sent), with its message */
    ck_assert_int_eq(sqlite3_create_function(db_handle(db), "lintel_test_fail", 1, SQLITE_UTF8,
                                             NULL, fail_function, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(db_query(db, "SELECT lintel_test_fail(1) AS x", NULL, &j_rows), LINTEL_EPARAM);
    ck_assert_str_eq(db_errmsg(db), "lintel_test_fail(): 1st argument is not a BLOB");

    /* the same with the real extension's functions */
    ck_assert_int_eq(db_query(db, "SELECT lintel_f32_decode(x'0102') AS x", NULL, &j_rows),
                     LINTEL_EPARAM);
    ck_assert_ptr_nonnull(strstr(db_errmsg(db), "lintel_f32_decode(): "));
    assert_row("SELECT lintel_f32_decode(x'9d2a4cbe') AS x", NULL, "{\"x\":-0.19938130676746368}");

    /* other runtime errors are the database's (500), with a generic message */
    ck_assert_int_eq(db_query(db, "SELECT abs(-9223372036854775807 - 1) AS x", NULL, &j_rows),
                     LINTEL_EDB);
    ck_assert_str_eq(db_errmsg(db), "database error");
}
END_TEST

START_TEST(test_extension_and_load_extension)
{
    json_t *j_rows = NULL;

    assert_row("SELECT typeof(lintel_version()) AS t", NULL, "{\"t\":\"text\"}");
    /* the SQL function load_extension() stays disabled */
    ck_assert_int_eq(db_query(db, "SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6') AS x",
                              NULL, &j_rows),
                     LINTEL_EDB);
    ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db_handle(db)), "not authorized"));
    /* defensive mode: sqlite_schema stays read-only even with writable_schema */
    ck_assert_int_eq(db_exec(db, "PRAGMA writable_schema = ON", NULL, NULL, NULL), 0);
    exec_ok("CREATE TABLE t (v INTEGER)");
    ck_assert_int_ne(db_exec(db, "UPDATE sqlite_schema SET sql = sql", NULL, NULL, NULL), 0);
}
END_TEST

static void busy_setup(void)
{
    setup_with(NULL, 50);
}

START_TEST(test_busy)
{
    sqlite3 *other = NULL;
    json_t *j_row = NULL;

    exec_ok("CREATE TABLE t (v INTEGER)");
    ck_assert_int_eq(sqlite3_open(sqlite3_db_filename(db_handle(db), "main"), &other), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1)", NULL, NULL, NULL),
        SQLITE_OK);

    ck_assert_int_eq(db_exec(db, "INSERT INTO t VALUES (2)", NULL, NULL, NULL), LINTEL_EUNAVAIL);
    ck_assert_str_eq(db_errmsg(db), "the database is busy");
    ck_assert_int_eq(db_begin(db), LINTEL_EUNAVAIL);
    ck_assert(!db_in_tx(db));
    /* WAL: readers are not blocked by the writer */
    ck_assert_int_eq(db_row(db, "SELECT count(*) AS n FROM t", NULL, &j_row), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j_row, "n")), 0);
    json_decref(j_row);

    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    exec_ok("INSERT INTO t VALUES (2)");
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");
}
END_TEST

START_TEST(test_transactions)
{
    ck_assert(!db_in_tx(db));
    exec_ok("CREATE TABLE t (v INTEGER UNIQUE)");

    ck_assert_int_eq(db_begin(db), 0);
    ck_assert(db_in_tx(db));
    ck_assert_int_eq(db_begin(db), LINTEL_EINTERNAL); /* not nested */
    exec_ok("INSERT INTO t VALUES (1)");
    exec_ok("INSERT INTO t VALUES (2)");
    /* a failed statement inside keeps the transaction and the earlier statements */
    ck_assert_int_eq(db_exec(db, "INSERT INTO t VALUES (1)", NULL, NULL, NULL), LINTEL_ECONFLICT);
    ck_assert(db_in_tx(db));
    ck_assert_int_eq(db_commit(db), 0);
    ck_assert(!db_in_tx(db));
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");

    ck_assert_int_eq(db_begin(db), 0);
    exec_ok("INSERT INTO t VALUES (3)");
    exec_ok("DELETE FROM t WHERE v = 1");
    ck_assert_int_eq(db_rollback(db), 0);
    ck_assert(!db_in_tx(db));
    assert_row("SELECT group_concat(v) AS v FROM t", NULL, "{\"v\":\"1,2\"}");

    ck_assert_int_eq(db_commit(db), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_rollback(db), 0); /* idempotent */

    /* transaction statements only through db_begin/db_commit/db_rollback */
    ck_assert_int_eq(db_exec(db, "BEGIN", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, " /* x */ begin immediate", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "SAVEPOINT a", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "-- c\nCOMMIT", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "END", NULL, NULL, NULL), LINTEL_EINTERNAL);
    /* SQLite's parser decides, not a scan of the text: a form feed is a blank to SQLite */
    ck_assert_int_eq(db_exec(db, "\fBEGIN", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "\v/**/ROLLBACK", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "RELEASE a", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "ROLLBACK TO a", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
    /* one statement per call: what follows is prepared, and blanks or comments are no statement */
    exec_ok("UPDATE t SET v = v WHERE v = 0;\f-- done\n/* really */ ;");
    ck_assert_int_eq(db_exec(db, "SELECT 1;\fSELECT 2", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "SELECT 1; DELETE FROM t", NULL, NULL, NULL), LINTEL_EINTERNAL);
    ck_assert_int_eq(db_exec(db, "SELECT 1; garbage", NULL, NULL, NULL), LINTEL_EINTERNAL);
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");
    exec_ok("UPDATE t SET v = v WHERE v = 0");

    /* a COMMIT that fails (deferred foreign key) rolls back and closes the transaction */
    exec_ok("CREATE TABLE p (id INTEGER PRIMARY KEY)");
    exec_ok("CREATE TABLE c (p_id INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");
    ck_assert_int_eq(db_begin(db), 0);
    exec_ok("INSERT INTO t VALUES (4)");
    exec_ok("INSERT INTO c VALUES (99)");
    ck_assert_int_eq(db_commit(db), LINTEL_EPARAM);
    ck_assert(!db_in_tx(db));
    ck_assert(sqlite3_get_autocommit(db_handle(db)));
    assert_row("SELECT (SELECT count(*) FROM t WHERE v = 4) + (SELECT count(*) FROM c) AS n", NULL,
               "{\"n\":0}");
}
END_TEST

struct thread_result {
    struct db *db;
    struct db *again;
    char version[64];
    int rc;
};

static void *thread_main(void *arg)
{
    struct thread_result *r = arg;
    json_t *j_row = NULL;

    r->rc = db_thread(&r->db);
    if (r->rc == 0)
        r->rc = db_thread(&r->again);
    if (r->rc == 0)
        r->rc = db_row(r->db, "SELECT lintel_version() AS v", NULL, &j_row);
    if (r->rc == 0)
        snprintf(r->version, sizeof(r->version), "%s",
                 json_string_value(json_object_get(j_row, "v")));
    if (r->rc == 0)
        r->rc = db_exec(r->db, "INSERT INTO t VALUES (1)", NULL, NULL, NULL);
    json_decref(j_row);
    return NULL;
}

START_TEST(test_threads)
{
    struct thread_result r1 = {0};
    struct thread_result r2 = {0};
    pthread_t t1;
    pthread_t t2;
    struct db *again = NULL;

    exec_ok("CREATE TABLE t (v INTEGER)");
    ck_assert_int_eq(pthread_create(&t1, NULL, thread_main, &r1), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, thread_main, &r2), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_int_eq(r1.rc, 0);
    ck_assert_int_eq(r2.rc, 0);
    ck_assert_ptr_eq(r1.db, r1.again);
    ck_assert_ptr_eq(r2.db, r2.again);
    ck_assert_ptr_ne(r1.db, db);
    ck_assert_ptr_ne(r2.db, db);
    ck_assert_str_eq(r1.version, r2.version);
    ck_assert_int_ne(strlen(r1.version), 0);
    ck_assert_int_eq(db_thread(&again), 0);
    ck_assert_ptr_eq(again, db);
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":2}");
}
END_TEST

static void *writer_main(void *arg)
{
    struct db *mine = NULL;
    json_t *j_params = NULL;
    long rc = db_thread(&mine);

    (void)arg;
    for (int i = 0; i < 20 && rc == 0; i++) {
        j_params = json_pack("[i]", i);
        if (i % 2 == 0) {
            rc = db_exec(mine, "INSERT INTO t VALUES (?)", j_params, NULL, NULL);
        } else {
            rc = db_begin(mine);
            if (rc == 0)
                rc = db_exec(mine, "INSERT INTO t VALUES (?)", j_params, NULL, NULL);
            if (rc == 0)
                rc = db_exec(mine, "UPDATE t SET v = v WHERE v = 0", NULL, NULL, NULL);
            rc = rc == 0 ? db_commit(mine) : db_rollback(mine);
        }
        json_decref(j_params);
    }
    return (void *)rc;
}

START_TEST(test_concurrent_writers)
{
    pthread_t threads[4];
    void *ret;

    /* writers in BEGIN IMMEDIATE wait for each other within busy_timeout: none fails */
    exec_ok("CREATE TABLE t (v INTEGER)");
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, writer_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], &ret);
        ck_assert_int_eq((long)ret, 0);
    }
    assert_row("SELECT count(*) AS n FROM t", NULL, "{\"n\":80}");
}
END_TEST

static int count_stmts(void)
{
    sqlite3_stmt *s = NULL;
    int n = 0;

    while ((s = sqlite3_next_stmt(db_handle(db), s)) != NULL)
        n++;
    return n;
}

START_TEST(test_statement_cache)
{
    json_t *j_rows = NULL;
    json_t *j_params;
    char sql[64];
    int n;

    ck_assert_int_eq(db_query(db, "SELECT 1 AS one", NULL, &j_rows), 0);
    json_decref(j_rows);
    n = count_stmts();
    ck_assert_int_eq(db_query(db, "SELECT 1 AS one", NULL, &j_rows), 0);
    json_decref(j_rows);
    ck_assert_int_eq(count_stmts(), n); /* reused, not prepared again */
    ck_assert_int_eq(db_query(db, "SELECT 2 AS two", NULL, &j_rows), 0);
    json_decref(j_rows);
    ck_assert_int_eq(count_stmts(), n + 1);

    /* bounded: 200 different statements keep at most 64 prepared */
    for (int i = 0; i < 200; i++) {
        snprintf(sql, sizeof(sql), "SELECT %d AS n", i);
        ck_assert_int_eq(db_query(db, sql, NULL, &j_rows), 0);
        json_decref(j_rows);
    }
    ck_assert_int_le(count_stmts(), 64);
    /* a cached statement comes back reset and unbound */
    j_params = json_pack("[i]", 5);
    assert_row("SELECT ?1 AS v", j_params, "{\"v\":5}");
    json_decref(j_params);
    ck_assert_int_eq(db_query(db, "SELECT ?1 AS v", NULL, &j_rows), LINTEL_EINTERNAL);

    /* a schema change re-prepares cached statements transparently */
    exec_ok("CREATE TABLE t (a INTEGER)");
    exec_ok("INSERT INTO t VALUES (1)");
    assert_row("SELECT * FROM t", NULL, "{\"a\":1}");
    exec_ok("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
    assert_row("SELECT * FROM t", NULL, "{\"a\":1,\"b\":\"x\"}");
}
END_TEST

/*
 * db_health() as a user the file's mode applies to: this process, or, when it runs as root
 * (the documented run, where modes do not apply), a child that drops to nobody (65534) with
 * the data dir opened to it. Returns what db_health() returned.
 */
static int health_unprivileged(void)
{
    char dir_a[300];
    pid_t pid;
    int status = 0;

    if (geteuid() != 0)
        return db_health();
    /* every directory down to the file, so that only the file's own mode can refuse */
    snprintf(dir_a, sizeof(dir_a), "%s/a", tmp_root);
    ck_assert_int_eq(chmod(tmp_root, 0755), 0);
    ck_assert_int_eq(chmod(dir_a, 0755), 0);
    ck_assert_int_eq(chmod(data_dir, 0755), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int rc;
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(100);
        rc = db_health();
        _exit(rc == 0 ? 0 : rc == LINTEL_EUNAVAIL ? 1 : 2);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(chmod(tmp_root, 0700), 0);
    ck_assert(WIFEXITED(status));
    ck_assert_int_ne(WEXITSTATUS(status), 100);
    return WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 1 ? LINTEL_EUNAVAIL : -1;
}

START_TEST(test_health)
{
    char path[600];

    ck_assert_int_eq(db_health(), 0);
    snprintf(path, sizeof(path), "%s/lintel.db", data_dir);
    ck_assert_int_eq(chmod(path, 0), 0);
    ck_assert_int_eq(health_unprivileged(), LINTEL_EUNAVAIL);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(db_health(), 0);
    ck_assert_int_eq(remove(path), 0);
    ck_assert_int_eq(db_health(), LINTEL_EUNAVAIL);
}
END_TEST

START_TEST(test_release_and_reopen)
{
    struct db *again = NULL;
    char wal[600];
    struct stat st;

    exec_ok("CREATE TABLE t (v INTEGER)");
    exec_ok("INSERT INTO t VALUES (7)");
    db_global_release();
    /* the last connection checkpointed and truncated the WAL */
    snprintf(wal, sizeof(wal), "%s/lintel.db-wal", data_dir);
    ck_assert(stat(wal, &st) != 0 || st.st_size == 0);
    ck_assert_int_eq(db_thread(&again), LINTEL_EUNAVAIL);

    ck_assert_int_eq(db_global_init(&cfg), 0);
    ck_assert_int_eq(db_thread(&db), 0);
    assert_row("SELECT v FROM t", NULL, "{\"v\":7}");
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("db");
    TCase *tc_busy = tcase_create("busy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pragmas);
    tcase_add_test(tc, test_synchronous_normal);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_not_a_database);
    tcase_add_test(tc, test_bind_positional);
    tcase_add_test(tc, test_execf);
    tcase_add_test(tc, test_bind_named);
    tcase_add_test(tc, test_bind_errors);
    tcase_add_test(tc, test_columns);
    tcase_add_test(tc, test_text_rows);
    tcase_add_test(tc, test_stamp);
    tcase_add_test(tc, test_row_and_exec);
    tcase_add_test(tc, test_constraints);
    tcase_add_test(tc, test_function_error);
    tcase_add_test(tc, test_extension_and_load_extension);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_concurrent_writers);
    tcase_add_test(tc, test_statement_cache);
    tcase_add_test(tc, test_health);
    tcase_add_test(tc, test_release_and_reopen);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tc_busy, busy_setup, teardown);
    tcase_add_test(tc_busy, test_busy);
    suite_add_tcase(s, tc_busy);
    return s;
}

int main(void)
{
    int status;

    log_init("warning");
    status = lt_run_suite(db_suite());
    log_close();
    return status;
}
