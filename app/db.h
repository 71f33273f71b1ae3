/*
 * The storage layer: one SQLite connection per worker thread, cached prepared statements,
 * rows as JSON, write transactions. All SQL of the app and of plugins goes through here.
 */
#ifndef LINTEL_APP_DB_H
#define LINTEL_APP_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>

struct config;
struct db; /* one connection, owned by one thread */

/*
 * Opens the database file under cfg->data_dir (creating the directory), checks it can be
 * used, and arranges for the extension's functions to be registered in every connection.
 */
int db_global_init(const struct config *cfg);

/* Closes every connection (after all worker threads stopped) and checkpoints the WAL. */
void db_global_release(void);

/* This thread's connection, opened on first use (borrowed; closed by db_global_release). */
int db_thread(struct db **out);

/*
 * The plugin ABI's sql_query/sql_row/sql_exec semantics (see include/lintel/plugin.h):
 * parameters from JSON, rows as JSON objects, status codes LINTEL_*. On error db_errmsg()
 * has a message fit for a client (a rule's message for CHECK failures).
 */
int db_query(struct db *db, const char *sql, const json_t *j_params, json_t **j_rows);
int db_row(struct db *db, const char *sql, const json_t *j_params, json_t **j_row);
int db_exec(struct db *db, const char *sql, const json_t *j_params, long long *changes,
            long long *last_id);
/*
 * Parameters inline, as the plugin kit's lintel_sql_*f take them (include/lintel/kit.h): fmt is
 * json_pack's format of the values of ?1..?N ("sI": a string, then an integer; NULL: none).
 * db_params_vpack packs them into the array for db_query/db_row/db_exec (new reference), or
 * gives NULL with why saying what failed (memory, a NULL where fmt wants a string, a format
 * over 120 characters). db_vrun runs what it packs as db_query (out: json_t **), db_row
 * (json_t **) or db_exec (long long *changes, may be NULL) does; a pack that fails runs
 * nothing and is a misuse, as a wrong parameter count is: logged, LINTEL_EINTERNAL.
 * db_queryf, db_rowf and db_execf are db_vrun with the arguments inline.
 */
enum db_kind { DB_QUERY, DB_ROW, DB_EXEC };
json_t *db_params_vpack(const char *fmt, va_list ap, json_error_t *why);
int db_vrun(struct db *db, enum db_kind kind, void *out, const char *sql, const char *fmt,
            va_list ap);
int db_queryf(struct db *db, json_t **j_rows, const char *sql, const char *fmt, ...);
int db_rowf(struct db *db, json_t **j_row, const char *sql, const char *fmt, ...);
int db_execf(struct db *db, long long *changes, const char *sql, const char *fmt, ...);

/*
 * db_query with the rows written as the text of a JSON array into b (appended), each row the
 * object db_query would give (same names, ":json"/":bool" suffixes, reals by the one printer),
 * without a jansson tree: a page of a list is written as it is read. With capped, at most
 * max_rows rows (0 too) are written; one more row is read then, and counted in rows, so rows >
 * max_rows says that more follow. j_last, when not NULL, gets the max_rows-th row as a JSON
 * object (new reference; NULL when there were fewer rows), for a keyset cursor. With object,
 * only the first row is written, as an object (nothing when there is none: rows says so).
 */
struct json_out_buf;
struct db_text {
    struct json_out_buf *b;
    bool object; /* only the first row's object, without the array around it */
    bool capped; /* max_rows applies; else every row is written */
    size_t max_rows;
    size_t rows;     /* out: rows read */
    json_t **j_last; /* in/out, may be NULL */
    /*
     * out: a column named "<name>:etag" is not written; its integer value (of the last row
     * read) is the reply's version for its ETag (api->res_etag).
     */
    bool has_etag;
    long long etag;
};
int db_query_text(struct db *db, const char *sql, const json_t *j_params, struct db_text *text);

/*
 * Bytes, which JSON cannot carry (BLOB columns). One blob goes in or comes out per call:
 * - in: db_exec with data (len bytes, borrowed for the call) bound as the parameter after the
 *   N of the array j_params (?N+1);
 * - out: db_row of a statement whose first column holds the bytes: its length is checked
 *   against max before it is copied into *data (malloc'd, *len bytes; a longer one is
 *   LINTEL_ETOOLARGE, logged), the other columns go to *j_row (new reference; j_row may be
 *   NULL). No row, or NULL in the first column: LINTEL_ENOTFOUND.
 */
int db_exec_blob(struct db *db, const char *sql, const json_t *j_params, const void *data,
                 size_t len, long long *changes);
int db_row_blob(struct db *db, const char *sql, const json_t *j_params, size_t max, void **data,
                size_t *len, json_t **j_row);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; db_in_tx says whether one is open. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
bool db_in_tx(const struct db *db);

/* The message of the last failed call on this connection (borrowed). */
const char *db_errmsg(const struct db *db);

/*
 * The field the last failure is about (borrowed), or NULL: the column of a UNIQUE, NOT NULL
 * or STRICT type failure, the name of a named CHECK constraint (CONSTRAINT value CHECK(...)).
 */
const char *db_errfield(const struct db *db);

/*
 * What a connection knows of the database's state: equal stamps mean that nothing was
 * committed in between, by this connection (INSERT, UPDATE, DELETE, trigger rows included) or
 * by any other, in this process or another (the sqlite3 shell, the CLI). Read from the WAL
 * index's header in shared memory without a transaction (the same for every connection of the
 * process), or, when the VFS cannot show it, from PRAGMA data_version and the connection's own
 * total changes (then only stamps of one connection compare). A cache of what a query returned
 * stays right while the stamp it was read under is the current one (app/auth.c keeps the
 * session state so). Not inside a transaction: LINTEL_EINTERNAL then. A storage backend that
 * cannot tell returns an error, and callers then always query.
 */
enum { DB_STAMP_WAL_INDEX = 1, DB_STAMP_PRAGMA = 2 };
struct db_stamp {
    unsigned long long source;     /* DB_STAMP_*; 0: no stamp */
    unsigned long long connection; /* PRAGMA: which connection; a stamp of another never matches */
    unsigned long long version;    /* WAL index: commits and last frame; PRAGMA data_version */
    unsigned long long changes;    /* WAL index: the log's salts; PRAGMA: total changes */
    unsigned long long check;      /* WAL index: the last frame's checksum */
};
int db_stamp(struct db *db, struct db_stamp *stamp);

/* The raw handle, for app code only (migrations, health); plugins never see it. */
sqlite3 *db_handle(struct db *db);

/*
 * Puts db.c's authorizer (which refuses BEGIN, COMMIT, ... in db_exec's SQL) back on h, for
 * code that set an authorizer of its own on a connection's raw handle (migrate.c).
 */
void db_authorizer_install(sqlite3 *h);

/* Whether the storage is a dqlite cluster (storage "dqlite") rather than the local file. */
bool db_remote(void);

/*
 * storage dqlite: a consistent copy of the cluster's database into file, a new SQLite file
 * (docs/cluster.md "Backup"); what reads the database through a handle opens that. 0, or a
 * LINTEL_E* with *err set (malloc'd); LINTEL_EPARAM on the single-node storage.
 */
int db_remote_copy(const char *file, char **err);

/*
 * Runs a script of several statements without parameters or rows (a migration's SQL), in the
 * transaction the caller opened with db_begin.
 */
int db_script(struct db *db, const char *sql);

/*
 * dqlite: brings the local copy of the cluster's schema (on which statements are checked) up to
 * date after the schema changed; SQLite: nothing to do.
 */
int db_schema_refresh(void);

/* 0 when the database answers a trivial query now, LINTEL_EUNAVAIL otherwise. */
int db_health(void);

#endif /* LINTEL_APP_DB_H */
