/*
 * Entry point of the lintel SQLite extension: the table of every lintel_* SQL function with
 * its flags, registered in one loop by sqlite3_lintel_init (shell .load and server alike).
 */
#include "lintel_ext_int.h"
SQLITE_EXTENSION_INIT1

#include "lintel_ext.h"
#include <lintel/version.h>
#include <stdarg.h>
#include <stddef.h>

/*
 * Flags (style.md section 4): pure scalars are deterministic and innocuous so that CHECK
 * constraints and generated columns may use them with trusted_schema=OFF; aggregates are
 * innocuous; lintel_password_hash draws a random salt, so it is direct-only;
 * lintel_password_verify is deterministic but direct-only, because its cost is chosen by
 * the hash it is given: a hostile database's view or trigger must not run it on its own
 * hashes (and verify caps that cost too, see password.c R8).
 */
#define EXT_PURE (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
#define EXT_AGG  (SQLITE_UTF8 | SQLITE_INNOCUOUS)

static const struct ext_stat_fn ext_fn_stats = {"lintel_stats", EXT_STAT_ALL};
static const struct ext_stat_fn ext_fn_median = {"lintel_median", EXT_STAT_MEDIAN};
static const struct ext_stat_fn ext_fn_percentile = {"lintel_percentile", EXT_STAT_PERCENTILE};
static const struct ext_stat_fn ext_fn_variance = {"lintel_variance", EXT_STAT_VARIANCE};
static const struct ext_stat_fn ext_fn_stddev = {"lintel_stddev", EXT_STAT_STDDEV};

static void ext_version(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, LINTEL_VERSION, -1, SQLITE_STATIC);
}

static const struct {
    const char *name;
    int nargs;
    int flags;
    void (*func)(sqlite3_context *, int, sqlite3_value **);
} ext_scalars[] = {
    {"lintel_version", 0, EXT_PURE, ext_version},
    {"lintel_f32_decode", 1, EXT_PURE, ext_f32_decode},
    {"lintel_f32_decode", 2, EXT_PURE, ext_f32_decode},
    {"lintel_datapoint_tags", 3, EXT_PURE, ext_datapoint_tags},
    {"lintel_datapoint_tags", 4, EXT_PURE, ext_datapoint_tags},
    {"lintel_datapoint_valid", 1, EXT_PURE, ext_datapoint_valid},
    {"lintel_fts_query", 1, EXT_PURE, ext_fts_query},
    {"lintel_time_bucket", 2, EXT_PURE, ext_time_bucket},
    {"lintel_rule_username", 1, EXT_PURE, ext_rule_username},
    {"lintel_rule_email", 1, EXT_PURE, ext_rule_email},
    {"lintel_rule_password", 1, EXT_PURE, ext_rule_password},
    {"lintel_rule_password", 2, EXT_PURE, ext_rule_password},
    {"lintel_rule_number", 1, EXT_PURE, ext_rule_number},
    {"lintel_rule_task_title", 1, EXT_PURE, ext_rule_task_title},
    {"lintel_rule_task_description", 1, EXT_PURE, ext_rule_task_description},
    {"lintel_email_normalize", 1, EXT_PURE, ext_email_normalize},
    {"lintel_rule_url", 1, EXT_PURE, ext_rule_url},
    {"lintel_rule_length", 3, EXT_PURE, ext_rule_length},
    {"lintel_rule_enum", 2, EXT_PURE, ext_rule_enum},
    {"lintel_check", 2, EXT_PURE, ext_check},
    {"lintel_rule_scope", 1, EXT_PURE, ext_rule_scope},
    {"lintel_rule_scope", 2, EXT_PURE, ext_rule_scope},
    {"lintel_role_scopes", 1, EXT_PURE, ext_role_scopes},
    {"lintel_scope_within", 2, EXT_PURE, ext_scope_within},
    {"lintel_scope_has", 2, EXT_PURE, ext_scope_has},
    {"lintel_password_hash", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, ext_password_hash},
    {"lintel_password_hash", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, ext_password_hash},
    {"lintel_password_verify", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
     ext_password_verify},
    {"lintel_password_needs_rehash", 1, EXT_PURE, ext_password_needs_rehash},
    {"lintel_password_needs_rehash", 2, EXT_PURE, ext_password_needs_rehash},
    {"lintel_sha256_hex", 1, EXT_PURE, ext_sha256_hex},
};

static const struct {
    const char *name;
    int nargs;
    const struct ext_stat_fn *fn;
} ext_aggregates[] = {
    {"lintel_stats", 1, &ext_fn_stats},           {"lintel_median", 1, &ext_fn_median},
    {"lintel_percentile", 2, &ext_fn_percentile}, {"lintel_variance", 1, &ext_fn_variance},
    {"lintel_stddev", 1, &ext_fn_stddev},
};

void ext_error(sqlite3_context *ctx, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (msg == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_error(ctx, msg, -1);
    sqlite3_free(msg);
}

const char *ext_ordinal(int i)
{
    static const char *const names[] = {"1st", "2nd", "3rd", "4th", "5th"};
    return i >= 1 && i <= 5 ? names[i - 1] : "nth";
}

const char *ext_type_name(int type)
{
    switch (type) {
    case SQLITE_INTEGER:
        return "INTEGER";
    case SQLITE_FLOAT:
        return "REAL";
    case SQLITE_TEXT:
        return "TEXT";
    case SQLITE_BLOB:
        return "BLOB";
    default:
        return "NULL";
    }
}

__attribute__((visibility("default"))) int sqlite3_lintel_init(sqlite3 *db, char **pzErrMsg,
                                                               const sqlite3_api_routines *pApi)
{
    int rc = SQLITE_OK;
    size_t i;
    const char *failed = NULL;

    SQLITE_EXTENSION_INIT2(pApi);
    for (i = 0; i < sizeof ext_scalars / sizeof ext_scalars[0] && rc == SQLITE_OK; i++) {
        rc = sqlite3_create_function(db, ext_scalars[i].name, ext_scalars[i].nargs,
                                     ext_scalars[i].flags, NULL, ext_scalars[i].func, NULL, NULL);
        failed = ext_scalars[i].name;
    }
    for (i = 0; i < sizeof ext_aggregates / sizeof ext_aggregates[0] && rc == SQLITE_OK; i++) {
        rc = sqlite3_create_window_function(db, ext_aggregates[i].name, ext_aggregates[i].nargs,
                                            EXT_AGG, (void *)ext_aggregates[i].fn, ext_stats_step,
                                            ext_stats_final, ext_stats_value, ext_stats_inverse,
                                            NULL);
        failed = ext_aggregates[i].name;
    }
    if (rc != SQLITE_OK && pzErrMsg != NULL) {
        *pzErrMsg = sqlite3_mprintf("lintel: cannot register %s(): %s", failed, sqlite3_errstr(rc));
    }
    return rc;
}
