/*
 * Benchmark of app/db.c's statement cache: a point lookup by id through db_row, cached against
 * a unique SQL text per call (every call prepares). The figure of docs/storage.md.
 */
#include "config.h"
#include "db.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS  1000
#define CALLS 100000

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* µs per db_row call; unique: a trailing comment makes each SQL text new. */
static double bench_lookups(struct db *db, int unique)
{
    char sql[160];
    double t0 = bench_now();
    int i;

    for (i = 0; i < CALLS; i++) {
        json_t *j_params = json_pack("[i]", 1 + i % ROWS);
        json_t *j_row = NULL;

        if (unique)
            snprintf(sql, sizeof(sql),
                     "SELECT id, username, email, role, created_at FROM u WHERE id = ?1 /* %d */",
                     i);
        else
            snprintf(sql, sizeof(sql),
                     "SELECT id, username, email, role, created_at FROM u WHERE id = ?1");
        if (j_params == NULL || db_row(db, sql, j_params, &j_row) != 0) {
            fprintf(stderr, "bench_db: lookup failed: %s\n", db_errmsg(db));
            exit(1);
        }
        json_decref(j_params);
        json_decref(j_row);
    }
    return (bench_now() - t0) / CALLS * 1e6;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct db *db = NULL;
    double cached, uncached;

    if (argc != 2) {
        fprintf(stderr, "usage: bench_db SCRATCH_DIR\n");
        return 2;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = argv[1];
    cfg.busy_timeout = 5000;
    if (db_global_init(&cfg) != 0 || db_thread(&db) != 0 ||
        db_exec(db,
                "CREATE TABLE u (id INTEGER PRIMARY KEY, username TEXT, email TEXT, role TEXT, "
                "created_at TEXT)",
                NULL, NULL, NULL) != 0 ||
        db_exec(db,
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) "
                "INSERT INTO u SELECT i, 'user' || i, 'u' || i || '@example.com', 'user', "
                "'2026-01-01T00:00:00Z' FROM c",
                NULL, NULL, NULL) != 0) {
        fprintf(stderr, "bench_db: setup failed: %s\n", db != NULL ? db_errmsg(db) : "no db");
        return 1;
    }
    bench_lookups(db, 0); /* warm-up */
    cached = bench_lookups(db, 0);
    uncached = bench_lookups(db, 1);
    printf("bench_db: %d point lookups by id (5 columns as JSON through db_row), %d rows\n", CALLS,
           ROWS);
    printf("  cached statement   %6.2f us per query\n", cached);
    printf("  prepared each time %6.2f us per query  (cache: %.1fx faster)\n", uncached,
           uncached / cached);
    db_global_release();
    return 0;
}
