/*
 * libFuzzer harness for the extension: feeds fuzz input through SQL to one lintel_* function,
 * chosen by LINTEL_FUZZ_FUNC, so each function gets its own run and corpus (tests/fuzz/run.sh).
 *
 * Input format, scalars: byte 0 holds two bits per argument (0 TEXT, 1 BLOB, 2 INTEGER, 3 REAL
 * or NULL); the rest is split at 0x01 bytes into the arguments. Aggregates: the rest is split
 * into rows at '\n', each row typed by its first byte ('t', 'b', 'r', 'n', else INTEGER), run
 * as a plain aggregate and over a sliding and a growing window frame.
 */
#include "lintel_ext.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;
static const struct fuzz_fn *fn;
static sqlite3_stmt *stmt;
static sqlite3_stmt *insert;
static sqlite3_stmt *queries[3];

struct fuzz_fn {
    const char *name;
    int nargs;
    int aggregate;
};

static const struct fuzz_fn fuzz_fns[] = {
    {"lintel_version", 0, 0},         {"lintel_f32_decode", 1, 0},
    {"lintel_f32_decode", 2, 0},      {"lintel_datapoint_tags", 3, 0},
    {"lintel_datapoint_tags", 4, 0},  {"lintel_datapoint_valid", 1, 0},
    {"lintel_rule_username", 1, 0},   {"lintel_rule_email", 1, 0},
    {"lintel_rule_password", 2, 0},   {"lintel_rule_number", 1, 0},
    {"lintel_rule_task_title", 1, 0}, {"lintel_rule_task_description", 1, 0},
    {"lintel_email_normalize", 1, 0}, {"lintel_role_scopes", 1, 0},
    {"lintel_scope_within", 2, 0},    {"lintel_rule_scope", 1, 0},
    {"lintel_rule_scope", 2, 0},      {"lintel_password_hash", 2, 0},
    {"lintel_password_verify", 2, 0}, {"lintel_password_needs_rehash", 2, 0},
    {"lintel_stats", 1, 1},           {"lintel_median", 1, 1},
    {"lintel_percentile", 2, 1},      {"lintel_stddev", 1, 1},
    {"lintel_variance", 1, 1},
};

/*
 * Valid hashes (of "fuzz") with cheap settings: a fuzzed hash starting with '$' is replaced
 * by one of these, since a hash naming a huge cost would only measure libxcrypt.
 */
static const char *const fuzz_hashes[] = {
    "$2b$04$bHM2dx.WV4T4bt4BptD7DuVKcjFdD/jtZHH69q5LCz042NxqRZOIK",
    "$y$j75$BamSq4rM48dV/JHvVZtb1.$LwWBIfkJB9n/rEFQZ/QK7c4x/avtMu1GB8pTie9TUB1",
    ("$6$rounds=1000$xM/hnB/EPPeZ4W.G$mjfPpjfb.Ow/q.7EpaCKiHaBRhxw.Xu5Bnyb/"
     "suyP05zUrF4L3qAt5xoap6UyltMb4Tm5Z0iG8C9AXdznpyuu1"),
};

static void fuzz_die(const char *what)
{
    fprintf(stderr, "fuzz_ext: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no db");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *want = getenv("LINTEL_FUZZ_FUNC");
    char *err = NULL;
    char sql[512];
    size_t i;

    (void)argc;
    (void)argv;
    for (i = 0; want != NULL && i < sizeof fuzz_fns / sizeof fuzz_fns[0]; i++) {
        char full[64];
        snprintf(full, sizeof full, "%s/%d", fuzz_fns[i].name, fuzz_fns[i].nargs);
        if (strcmp(want, full) == 0 || strcmp(want, fuzz_fns[i].name) == 0) {
            fn = &fuzz_fns[i];
            break;
        }
    }
    if (fn == NULL) {
        fprintf(stderr, "fuzz_ext: set LINTEL_FUZZ_FUNC to one of:");
        for (i = 0; i < sizeof fuzz_fns / sizeof fuzz_fns[0]; i++)
            fprintf(stderr, " %s/%d", fuzz_fns[i].name, fuzz_fns[i].nargs);
        fprintf(stderr, "\n");
        exit(2);
    }
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_lintel_init(db, &err, NULL) != SQLITE_OK)
        fuzz_die("open");
    /* keep a runaway value from eating the fuzzer's memory limit: 1 MiB strings */
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
    if (fn->aggregate) {
        static const char *const frames[] = {
            "SELECT %s(v%s) FROM t",
            "SELECT %s(v%s) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) FROM t",
            "SELECT %s(v%s) OVER (ORDER BY v, id) FROM t",
        };
        if (sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", NULL, NULL, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &insert, NULL) != SQLITE_OK)
            fuzz_die("prepare insert");
        for (i = 0; i < 3; i++) {
            snprintf(sql, sizeof sql, frames[i], fn->name, fn->nargs == 2 ? ", ?1" : "");
            if (sqlite3_prepare_v2(db, sql, -1, &queries[i], NULL) != SQLITE_OK)
                fuzz_die("prepare query");
        }
    } else {
        snprintf(sql, sizeof sql, "SELECT %s(%s)", fn->name,
                 fn->nargs == 0   ? ""
                 : fn->nargs == 1 ? "?1"
                 : fn->nargs == 2 ? "?1, ?2"
                 : fn->nargs == 3 ? "?1, ?2, ?3"
                                  : "?1, ?2, ?3, ?4");
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
            fuzz_die("prepare");
    }
    return 0;
}

static void fuzz_bind(sqlite3_stmt *s, int col, int type, const uint8_t *p, size_t n)
{
    char buf[32];
    double d = 0;

    switch (type) {
    case 0:
        sqlite3_bind_text(s, col, (const char *)p, (int)n, SQLITE_TRANSIENT);
        break;
    case 1:
        sqlite3_bind_blob(s, col, p, (int)n, SQLITE_TRANSIENT);
        break;
    case 2:
        snprintf(buf, sizeof buf, "%.*s", (int)(n < 31 ? n : 31), (const char *)p);
        sqlite3_bind_int64(s, col, strtoll(buf, NULL, 10));
        break;
    default:
        if (n >= sizeof d) {
            memcpy(&d, p, sizeof d);
            sqlite3_bind_double(s, col, d); /* NaN binds as NULL */
        } else {
            sqlite3_bind_null(s, col);
        }
        break;
    }
}

static void fuzz_run(sqlite3_stmt *s)
{
    while (sqlite3_step(s) == SQLITE_ROW) {
        /* touch the result, as a caller would */
        (void)sqlite3_column_bytes(s, 0);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static void fuzz_scalar(const uint8_t *data, size_t size)
{
    uint8_t types = data[0];
    size_t pos = 1;
    int k;

    for (k = 0; k < fn->nargs; k++) {
        size_t end = pos;
        int type = types >> (2 * k) & 3;

        while (end < size && data[end] != 0x01)
            end++;
        /* cheap costs only: the cost of yescrypt is libxcrypt's business, not ours */
        if (strcmp(fn->name, "lintel_password_hash") == 0 && k == 1) {
            sqlite3_bind_int(stmt, 2, end > pos && data[pos] == 'x' ? 12 : 1);
        } else if (strcmp(fn->name, "lintel_password_verify") == 0 && k == 1 &&
                   (end == pos || data[pos] == '$')) {
            int pick = end > pos ? data[pos] % 3 : 0;
            sqlite3_bind_text(stmt, 2, fuzz_hashes[pick], -1, SQLITE_STATIC);
        } else {
            fuzz_bind(stmt, k + 1, type, data + pos, pos <= size ? end - pos : 0);
        }
        pos = end < size ? end + 1 : size;
    }
    fuzz_run(stmt);
}

static void fuzz_aggregate(const uint8_t *data, size_t size)
{
    size_t pos = 1;
    int i;

    sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL);
    while (pos < size) {
        size_t end = pos;
        int type;

        while (end < size && data[end] != '\n')
            end++;
        switch (data[pos]) {
        case 't':
            type = 0;
            break;
        case 'b':
            type = 1;
            break;
        case 'r':
            type = 3;
            break;
        case 'n':
            type = -1;
            break;
        default:
            type = 2;
            break;
        }
        sqlite3_reset(insert);
        if (type < 0)
            sqlite3_bind_null(insert, 1);
        else
            fuzz_bind(insert, 1, type, data + pos + (type != 2), end - pos - (type != 2));
        sqlite3_step(insert);
        sqlite3_reset(insert);
        pos = end + 1;
    }
    for (i = 0; i < 3; i++) {
        if (fn->nargs == 2)
            sqlite3_bind_double(queries[i], 1, (double)(data[0] % 110));
        fuzz_run(queries[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (fn->aggregate)
        fuzz_aggregate(data, size);
    else
        fuzz_scalar(data, size);
    return 0;
}
