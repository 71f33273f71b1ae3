/*
 * The storage layer's insides, shared by db.c (SQLite in this process) and dqlite_db.c (the
 * same calls answered by a dqlite cluster): the connection, its statement cache, the helpers.
 */
#ifndef LINTEL_APP_DB_INTERNAL_H
#define LINTEL_APP_DB_INTERNAL_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Enough for every statement of the app and the first-party plugins together, so a busy
 * server never re-prepares; a plugin that builds SQL text dynamically only evicts its own.
 */
#define DB_CACHE_MAX 64

struct config;
struct dqc;

struct db_stmt {
    char *sql; /* the text it was prepared from: the cache key */
    uint64_t hash;
    uintptr_t addr; /* where the caller's text was at the last lookup: looked at first */
    sqlite3_stmt *stmt;
    unsigned long long used; /* db->tick at the last use, for LRU eviction */
    uint32_t remote_id;      /* dqlite: the leader's statement id, valid for remote_gen */
    unsigned remote_gen;
    bool pure; /* a SELECT that reads no table nor connection state (db.c's db_pure) */
};

/* The one blob of a call (db_exec_blob, db_row_blob): bound in, or copied out. */
struct db_blob {
    const void *in; /* the bytes bound, when out is NULL */
    size_t in_len;
    size_t max;     /* out: the longest value taken */
    void **out;     /* out: where the copy goes */
    size_t out_len; /* out: its length */
};

struct db {
    /*
     * SQLite: the database. dqlite: a copy of the cluster's schema only (no rows), on which
     * statements are prepared to check them and learn their parameters and whether they write.
     */
    sqlite3 *handle;
    struct db_stmt cache[DB_CACHE_MAX];
    unsigned ncache;
    unsigned long long tick;
    bool in_tx;                /* inside db_begin .. db_commit/db_rollback */
    unsigned long long serial; /* this connection among every one the process opened */
    char errmsg[256];
    char errfield[64];
    struct db *next; /* the registry of open connections */
    /* dqlite only */
    struct dqc *remote;  /* this thread's connection to the leader, or NULL */
    unsigned remote_gen; /* bumped at each new connection: cached statement ids expire */
    bool remote_tx_lost; /* the connection broke inside a transaction: it is gone */
    bool write_lock;     /* holds this process's write lock (dqlite_db.c) */
    bool remote_busy;    /* the last failure was another node's write transaction (BUSY) */
    /* SQLite only: the WAL index as mapped by the VFS, for db_stamp (db.c) */
    const volatile unsigned char *wal_index;
    bool wal_index_unsupported;
};

void db_seterr(struct db *db, const char *field, const char *fmt, ...) LINTEL_PRINTF(3, 4);
int db_map_error(struct db *db, int rc, const char *msg, const char *sql);
int db_misuse(struct db *db, const char *sql, const char *what);
/* The cache entry of sql (prepared on first use; tx: a transaction statement is allowed). */
int db_stmt_entry(struct db *db, const char *sql, bool tx, struct db_stmt **out);
/*
 * Checks j_params (and blob, bound as ?N+1) against the statement and binds them: db.c's rules
 * for both engines.
 */
int db_bind(struct db *db, sqlite3_stmt *stmt, const char *sql, const json_t *j_params,
            const struct db_blob *blob);
/*
 * A value of n bytes at src into blob->out (malloc'd), its length checked against blob->max
 * before anything is copied: NULL is LINTEL_ENOTFOUND, a longer value LINTEL_ETOOLARGE.
 */
int db_blob_take(struct db *db, struct db_blob *blob, bool is_null, const void *src, size_t n,
                 const char *sql);
/*
 * One value as JSON per its column name's suffix (":json", ":bool"): type is SQLite's
 * fundamental type, text/len hold TEXT and BLOB bytes. *out is a new reference.
 */
int db_value_json(struct db *db, const char *name, int type, long long i, double d,
                  const char *text, size_t len, const char *sql, json_t **out);
/* The key of a column in a row object: its name less the ":json"/":bool" suffix. */
size_t db_key_len(const char *name);

/* dqlite_db.c: the calls of db.h when the cluster answers them. */
int dqlite_db_global_init(const struct config *cfg, const char *shadow_path);
void dqlite_db_global_release(void);
void dqlite_db_close(struct db *db);
/* Finalizes e's statement on the leader before db.c evicts it from the cache. */
void dqlite_db_evict(struct db *db, struct db_stmt *e);
int dqlite_db_run(struct db *db, const char *sql, const json_t *j_params, struct db_blob *blob,
                  size_t max_rows, json_t **j_rows, long long *changes, long long *last_id);
int dqlite_db_tx(struct db *db, const char *sql);
int dqlite_db_script(struct db *db, const char *sql);
int dqlite_db_health(void);
int dqlite_db_schema_sync(void);
int dqlite_db_copy(const char *file, char **err);

#endif /* LINTEL_APP_DB_INTERNAL_H */
