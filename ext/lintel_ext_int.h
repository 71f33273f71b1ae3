/*
 * Internal header of the lintel SQLite extension: the SQL function implementations that
 * lintel_ext.c registers, and small helpers shared by the ext/ source files.
 */
#ifndef LINTEL_EXT_LINTEL_EXT_INT_H
#define LINTEL_EXT_LINTEL_EXT_INT_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

/* Sets a formatted SQL error on ctx (sqlite3_mprintf formats), or "out of memory". */
void ext_error(sqlite3_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 for "1st", "2nd", ...: argument ordinals in error messages. */
const char *ext_ordinal(int i);

/* The storage class name as SQLite spells it: "INTEGER", "REAL", "TEXT", "BLOB", "NULL". */
const char *ext_type_name(int type);

/* f32.c */
void ext_f32_decode(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* datapoint.c */
void ext_datapoint_tags(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_datapoint_valid(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* fts.c */
void ext_fts_query(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* series.c */
void ext_time_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* rules.c */
void ext_rule_username(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_email(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_password(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_number(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_task_title(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_task_description(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_email_normalize(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* generic.c */
void ext_rule_url(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_length(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_enum(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_check(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* scopes.c */
void ext_role_scopes(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_scope_within(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_scope_has(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_rule_scope(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/*
 * stats.c: one aggregate state shared by every statistics function; the registration's user
 * data (sqlite3_user_data) says which function it is, for its result and its error messages.
 */
enum ext_stat_kind {
    EXT_STAT_ALL,
    EXT_STAT_MEDIAN,
    EXT_STAT_PERCENTILE,
    EXT_STAT_VARIANCE,
    EXT_STAT_STDDEV
};
struct ext_stat_fn {
    const char *name;
    enum ext_stat_kind kind;
};
void ext_stats_step(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_stats_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_stats_value(sqlite3_context *ctx);
void ext_stats_final(sqlite3_context *ctx);

/* Appends the shortest decimal text that reads back as d (JSON null when not finite). */
void ext_json_double(sqlite3_str *out, double d);

/* password.c */
void ext_password_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_password_verify(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void ext_password_needs_rehash(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* digest.c */
void ext_sha256_hex(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif /* LINTEL_EXT_LINTEL_EXT_INT_H */
