/*
 * Benchmark of the extension's hot paths on a 1 000 000-row in-memory table: float32 decoding
 * against the scan floor sum(length(b)), lintel_stats against the built-ins it subsumes, and
 * the data-point tag rules in C against the same rules written with SQLite's JSON functions
 * (json_each, json_insert), which is what decides whether ext/datapoint.c keeps its parser.
 */
#include "lintel_ext.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS   1000000
#define REPEAT 5

static sqlite3 *db;

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_die(const char *what)
{
    fprintf(stderr, "bench_ext: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

/* The best of REPEAT runs of sql (one result row, stepped to the end), in seconds. */
static double bench_query(const char *sql)
{
    double best = 1e9;
    int r;

    for (r = 0; r < REPEAT; r++) {
        sqlite3_stmt *stmt = NULL;
        double t0 = bench_now();
        double t;

        if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
            bench_die(sql);
        while (sqlite3_step(stmt) == SQLITE_ROW)
            ;
        if (sqlite3_finalize(stmt) != SQLITE_OK)
            bench_die(sql);
        t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

/* The one integer result of sql. */
static long long bench_query_int(const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long long v;

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW)
        bench_die(sql);
    v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

/* lintel_datapoint_valid(g) and lintel_datapoint_tags(g, 0, 99999) with SQLite's JSON only. */
#define DP_VALID_SQL                                                                               \
    "NOT EXISTS (SELECT 1 FROM json_each(g) WHERE value IN "                                       \
    "('system', 'suspect', 'too old', 'not finite'))"
#define DP_TAGS_SQL                                                                                \
    "(CASE WHEN 99999 - 0 > 3600 AND NOT EXISTS (SELECT 1 FROM json_each(g) WHERE value = "        \
    "'too old') THEN json_insert(g, '$[#]', 'too old') ELSE json(g) END)"

static void bench_fill(void)
{
    sqlite3_stmt *stmt = NULL;
    static const char *const tags[] = {"[]",
                                       "[\"sensor-7\"]",
                                       "[\"system\"]",
                                       "[\"sensor-7\",\"calibrated\"]",
                                       "[\"suspect\"]",
                                       "[\"a\\u00e9\",\"b\"]"};
    uint64_t x = 88172645463325252ULL;
    int i;

    if (sqlite3_exec(db, "CREATE TABLE t(b BLOB, j TEXT, v REAL, g TEXT); BEGIN", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4)", -1, &stmt, NULL) !=
            SQLITE_OK)
        bench_die("create");
    for (i = 0; i < ROWS; i++) {
        unsigned char b[4];
        char j[24];
        float f;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f = (float)((double)(x >> 11) / 9007199254740992.0 * 200.0 - 100.0);
        memcpy(b, &f, 4); /* the bench host is little-endian, as the data's byte order */
        snprintf(j, sizeof j, "[%d,%d,%d,%d]", b[0], b[1], b[2], b[3]);
        sqlite3_bind_blob(stmt, 1, b, 4, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 2, j, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(stmt, 3, (double)(x % 1000003) / 7.0 + 1.0);
        /* tags as sensors send them: mostly one or two, a third of the points invalid */
        sqlite3_bind_text(stmt, 4, tags[x % 6], -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            bench_die("insert");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        bench_die("commit");
}

static void bench_pair(const char *label, const char *floor_sql, const char *sql, double target)
{
    double floor_s = bench_query(floor_sql);
    double s = bench_query(sql);

    printf("%-22s %8.1f ms vs %8.1f ms floor  ratio %.2fx", label, s * 1e3, floor_s * 1e3,
           s / floor_s);
    if (target > 0)
        printf(" (target %.1fx: %s)", target, s / floor_s <= target ? "ok" : "OVER");
    printf("\n");
}

int main(void)
{
    char *err = NULL;

    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_lintel_init(db, &err, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_ext: cannot open: %s\n", err ? err : sqlite3_errmsg(db));
        return 1;
    }
    bench_fill();
    printf("bench_ext: %d rows, best of %d runs each, SQLite %s\n", ROWS, REPEAT,
           sqlite3_libversion());
    bench_pair("f32_decode(blob)", "SELECT sum(length(b)) FROM t",
               "SELECT sum(lintel_f32_decode(b)) FROM t", 1.5);
    bench_pair("f32_decode(json)", "SELECT sum(length(j)) FROM t",
               "SELECT sum(lintel_f32_decode(j)) FROM t", 0);
    bench_pair("f32_decode(json, be)", "SELECT sum(length(j)) FROM t",
               "SELECT sum(lintel_f32_decode(j, 'be')) FROM t", 0);
    bench_pair("lintel_stats(v)", "SELECT count(v), sum(v), avg(v), min(v), max(v) FROM t",
               "SELECT lintel_stats(v) FROM t", 3.0);
    bench_pair("lintel_median(v)", "SELECT count(v), sum(v), avg(v), min(v), max(v) FROM t",
               "SELECT lintel_median(v) FROM t", 0);
    /* one yescrypt hash at the default cost (docs/auth.md), the best of REPEAT */
    printf("%-22s %8.1f ms per hash (cost 5, the default)\n", "password_hash",
           bench_query("SELECT lintel_password_hash('bench-password-123', 5)") * 1e3);
    /* the same results both ways, checked before they are timed against each other */
    if (bench_query_int("SELECT sum(lintel_datapoint_valid(g)) FROM t") !=
            bench_query_int("SELECT sum(" DP_VALID_SQL ") FROM t") ||
        bench_query_int("SELECT sum(lintel_datapoint_tags(g, 0, 99999) = " DP_TAGS_SQL
                        ") FROM t") != ROWS)
        bench_die("the C and SQL tag rules disagree");
    bench_pair("datapoint_valid: C", "SELECT sum(" DP_VALID_SQL ") FROM t",
               "SELECT sum(lintel_datapoint_valid(g)) FROM t", 0);
    bench_pair("datapoint_tags: C", "SELECT sum(length(" DP_TAGS_SQL ")) FROM t",
               "SELECT sum(length(lintel_datapoint_tags(g, 0, 99999))) FROM t", 0);
    printf("  (for the datapoint rows the second figure is the same rule with json_each and\n"
           "   json_insert instead of the C parser; a ratio below 1 means C is faster)\n");
    sqlite3_close(db);
    return 0;
}
