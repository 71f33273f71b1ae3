/*
 * The storage layer: one SQLite connection per thread (WAL, foreign keys, the extension
 * registered), an LRU cache of prepared statements per connection, JSON in and JSON rows out.
 */
#include "db.h"

#include "config.h"
#include "counters.h"
#include "db_internal.h"
#include "double_text.h"
#include "json_out.h"
#include "log.h"
#include "va_forward.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lintel/plugin.h>
#include <lintel_ext.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* What db_global_init was given; read-only while connections are opened. */
static struct {
    char path[PATH_MAX];
    char synchronous[8];
    unsigned busy_timeout;
    bool ckpt_external; /* wal_checkpoint=external: another process (Litestream) checkpoints */
    bool ready;
    bool remote; /* storage dqlite: statements go to the cluster, path is the schema copy */
} db_cfg;

/*
 * SQLite's soft heap limit for the process (docs/hardening.md "Soak"): the soak's steady use is
 * 4-5 MiB (schemas, statements, page caches); at 32 MiB it bounded nothing a soak could see.
 */
#define DB_HEAP_SOFT_LIMIT (8LL * 1024 * 1024)

static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong db_serial;
static struct db *db_list;
/* Bumped by db_global_release so a thread never reuses a connection of an earlier life. */
static atomic_uint db_generation;
static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static _Thread_local struct {
    struct db *db;
    unsigned generation;
} db_tls;

static uint64_t db_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void db_seterr(struct db *db, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
    va_end(ap);
    snprintf(db->errfield, sizeof(db->errfield), "%s", field != NULL ? field : "");
}

static void db_clearerr(struct db *db)
{
    db->errmsg[0] = '\0';
    db->errfield[0] = '\0';
}

static bool db_is_ident(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len >= 64)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

/* "t.col" or "col" in s[0..len) -> the column part, when it is an identifier. */
static void db_field_from(struct db *db, const char *s, size_t len)
{
    const char *dot = memchr(s, '.', len);

    if (dot != NULL) {
        len -= (size_t)(dot + 1 - s);
        s = dot + 1;
    }
    if (db_is_ident(s, len))
        snprintf(db->errfield, sizeof(db->errfield), "%.*s", (int)len, s);
}

/*
 * Turns SQLite's error on db into a LINTEL_E* code and a message fit for a client. rc is the
 * extended code returned by the failed call; msg is SQLite's message, copied by the caller
 * before anything else ran on the connection.
 */
int db_map_error(struct db *db, int rc, const char *msg, const char *sql)
{
    const char *p;

    db_clearerr(db);
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        /* "UNIQUE constraint failed: users.username[, users.email]" or "...: index 'x'" */
        p = strstr(msg, "failed: ");
        if (p != NULL && strncmp(p + 8, "index ", 6) != 0) {
            char cols[192] = "";
            const char *s = p + 8;

            while (*s != '\0') {
                size_t n = strcspn(s, ",");
                const char *dot = memchr(s, '.', n);
                const char *c = dot != NULL ? dot + 1 : s;
                size_t cn = n - (size_t)(c - s);
                size_t used = strlen(cols);

                if (db->errfield[0] == '\0')
                    db_field_from(db, c, cn);
                snprintf(cols + used, sizeof(cols) - used, "%s%.*s", used > 0 ? ", " : "", (int)cn,
                         c);
                s += n;
                while (*s == ',' || *s == ' ')
                    s++;
            }
            snprintf(db->errmsg, sizeof(db->errmsg), "%s already exists", cols);
        } else {
            snprintf(db->errmsg, sizeof(db->errmsg), "the value already exists");
        }
        return LINTEL_ECONFLICT;
    case SQLITE_CONSTRAINT_CHECK:
        /* "CHECK constraint failed: <name or expression>" */
        p = strstr(msg, "failed: ");
        if (p != NULL && db_is_ident(p + 8, strlen(p + 8)))
            snprintf(db->errfield, sizeof(db->errfield), "%s", p + 8);
        snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
        return LINTEL_EPARAM;
    case SQLITE_CONSTRAINT_NOTNULL:
        /* "NOT NULL constraint failed: t.col" */
        p = strstr(msg, "failed: ");
        if (p != NULL)
            db_field_from(db, p + 8, strlen(p + 8));
        if (db->errfield[0] != '\0')
            snprintf(db->errmsg, sizeof(db->errmsg), "%s is required", db->errfield);
        else
            snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
        return LINTEL_EPARAM;
    case SQLITE_CONSTRAINT_DATATYPE:
        /* STRICT tables: "cannot store TEXT value in INTEGER column t.col" */
        p = strstr(msg, " column ");
        if (p != NULL)
            db_field_from(db, p + 8, strlen(p + 8));
        snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
        return LINTEL_EPARAM;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER: /* RAISE(ABORT, 'message') in a trigger: a rule */
        snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
        return LINTEL_EPARAM;
    default:
        break;
    }

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        snprintf(db->errmsg, sizeof(db->errmsg), "the database is busy");
        return LINTEL_EUNAVAIL;
    case SQLITE_NOMEM:
        snprintf(db->errmsg, sizeof(db->errmsg), "out of memory");
        return LINTEL_ENOMEM;
    case SQLITE_TOOBIG:
        snprintf(db->errmsg, sizeof(db->errmsg), "a value is too large");
        return LINTEL_EPARAM;
    case SQLITE_CONSTRAINT:
        snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
        return LINTEL_EPARAM;
    case SQLITE_ERROR:
        /* lintel_check() in a CHECK constraint: "rule: <field>: <message>" is a 422 on field. */
        if (strncmp(msg, "rule: ", 6) == 0 && (p = strstr(msg + 6, ": ")) != NULL &&
            db_is_ident(msg + 6, (size_t)(p - msg - 6))) {
            snprintf(db->errfield, sizeof(db->errfield), "%.*s", (int)(p - msg - 6), msg + 6);
            snprintf(db->errmsg, sizeof(db->errmsg), "%s", p + 2);
            return LINTEL_EPARAM;
        }
        /* An error raised by one of the extension's functions: "lintel_f32_decode(): ..." */
        if (strncmp(msg, "lintel_", 7) == 0 && strstr(msg, "(): ") != NULL) {
            snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
            return LINTEL_EPARAM;
        }
        break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        /* The file itself is in trouble: the service is unavailable, not the request wrong. */
        log_error("db: '%s' failed: %s (%d)", sql, msg, rc);
        snprintf(db->errmsg, sizeof(db->errmsg), "the database is unavailable");
        return LINTEL_EUNAVAIL;
    default:
        break;
    }
    log_error("db: '%s' failed: %s (%d)", sql, msg, rc);
    snprintf(db->errmsg, sizeof(db->errmsg), "database error");
    return LINTEL_EDB;
}

/* Maps the connection's current error; copies SQLite's message first. */
static int db_fail(struct db *db, int rc, const char *sql)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(db->handle));
    return db_map_error(db, rc, msg, sql);
}

/* A programming error of the caller: logged, and a 500 for the client. */
int db_misuse(struct db *db, const char *sql, const char *what)
{
    log_error("db: '%s': %s", sql, what);
    db_seterr(db, NULL, "internal error");
    return LINTEL_EINTERNAL;
}

static void db_stmt_clear(struct db_stmt *e)
{
    sqlite3_finalize(e->stmt);
    free(e->sql);
    memset(e, 0, sizeof(*e));
}

/*
 * While db_stmt_get prepares a statement for db_exec/db_query/db_row on this thread (each
 * thread has its own connection), the authorizer refuses transaction statements (BEGIN,
 * COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE): those go through db_begin/db_commit/
 * db_rollback only, so the connection's state is always known. SQLite's parser decides what
 * the statement is, whatever blanks and comments precede it. Outside that window (db_simple's
 * own statements, migrate.c driving the handle) everything is allowed.
 */
static _Thread_local bool db_checking;
static _Thread_local bool db_tx_denied;
/* set while a statement is prepared when it reads a table or a connection's state (db_pure) */
static _Thread_local bool db_touches;

static int db_authorize(void *arg, int action, const char *a1, const char *a2, const char *a3,
                        const char *a4)
{
    (void)arg;
    (void)a1;
    (void)a3;
    (void)a4;
    if (db_checking && (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT)) {
        db_tx_denied = true;
        return SQLITE_DENY;
    }
    /* Only SELECT and functions that read no connection state keep a statement pure. */
    if (action != SQLITE_SELECT &&
        (action != SQLITE_FUNCTION || a2 == NULL || strcmp(a2, "changes") == 0 ||
         strcmp(a2, "total_changes") == 0 || strcmp(a2, "last_insert_rowid") == 0))
        db_touches = true;
    return SQLITE_OK;
}

void db_authorizer_install(sqlite3 *h)
{
    sqlite3_set_authorizer(h, db_authorize, NULL);
}

/*
 * Whether the text after the first statement holds another one: SQLite prepares it (blanks,
 * ';' and comments give no statement). A remainder that does not compile counts as one.
 */
static bool db_has_more(struct db *db, const char *tail)
{
    sqlite3_stmt *extra = NULL;
    bool more = false;

    while (tail != NULL && *tail != '\0' && !more) {
        const char *next = NULL;
        if (sqlite3_prepare_v2(db->handle, tail, -1, &extra, &next) != SQLITE_OK)
            more = true;
        else if (extra != NULL)
            more = true;
        sqlite3_finalize(extra);
        extra = NULL;
        if (next == tail)
            break;
        tail = next;
    }
    return more;
}

/*
 * The cache entry for sql, prepared on first use; reset and unbound. tx: sql is one of
 * db_simple's transaction statements (else those are refused).
 */
int db_stmt_entry(struct db *db, const char *sql, bool tx, struct db_stmt **out)
{
    uint64_t hash;
    struct db_stmt *e = NULL;
    const char *tail = NULL;
    sqlite3_stmt *stmt = NULL;
    char *copy = NULL;
    bool touches;
    unsigned i;
    int src;
    int rc = 0;

    *out = NULL;
    /*
     * Statements are mostly string literals, passed at the same address every time: found by
     * it, the text is compared but not hashed (FNV-1a, one multiply after another over a few
     * hundred bytes, was a visible share of a request in a perf profile). The address only
     * points at where to look; equal text decides.
     */
    for (i = 0; i < db->ncache; i++) {
        if (db->cache[i].addr == (uintptr_t)sql && strcmp(db->cache[i].sql, sql) == 0) {
            e = &db->cache[i];
            goto hit;
        }
    }
    hash = db_hash(sql);
    for (i = 0; i < db->ncache; i++) {
        if (db->cache[i].hash == hash && strcmp(db->cache[i].sql, sql) == 0) {
            e = &db->cache[i];
            e->addr = (uintptr_t)sql;
            goto hit;
        }
    }

    counters_inc(COUNTER_STMT_CACHE_MISS);
    db_checking = !tx;
    db_tx_denied = false;
    db_touches = false;
    src = sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    db_checking = false;
    touches = db_touches;
    if (src != SQLITE_OK && db_tx_denied) {
        rc = db_misuse(db, sql, "use db_begin/db_commit/db_rollback for transactions");
        goto cleanup;
    }
    if (src != SQLITE_OK) {
        /* A statement that does not compile is the caller's bug, or the schema is missing. */
        char msg[256];

        snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(db->handle));
        rc = db_map_error(db, src, msg, sql);
        if (rc == LINTEL_EDB)
            rc = LINTEL_EINTERNAL;
        goto cleanup;
    }
    if (stmt == NULL) {
        rc = db_misuse(db, sql, "no statement in the SQL text");
        goto cleanup;
    }
    if (db_has_more(db, tail)) {
        rc = db_misuse(db, sql, "more than one statement in the SQL text");
        goto cleanup;
    }

    copy = strdup(sql);
    if (copy == NULL) {
        db_seterr(db, NULL, "out of memory");
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (db->ncache < DB_CACHE_MAX) {
        e = &db->cache[db->ncache++];
    } else {
        e = &db->cache[0];
        for (i = 1; i < db->ncache; i++)
            if (db->cache[i].used < e->used)
                e = &db->cache[i];
        if (db->remote != NULL)
            dqlite_db_evict(db, e);
        db_stmt_clear(e);
    }
    e->sql = copy;
    e->hash = hash;
    e->addr = (uintptr_t)sql;
    e->stmt = stmt;
    e->used = ++db->tick;
    e->pure = !touches && sqlite3_stmt_readonly(stmt) && sqlite3_column_count(stmt) > 0;
    *out = e;
    stmt = NULL;
    goto cleanup;
hit:
    e->used = ++db->tick;
    *out = e;
    counters_inc(COUNTER_STMT_CACHE_HIT);
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

/* The cached statement for sql (see db_stmt_entry). */
static int db_stmt_get(struct db *db, const char *sql, bool tx, sqlite3_stmt **out)
{
    struct db_stmt *e = NULL;
    int rc = db_stmt_entry(db, sql, tx, &e);

    *out = e != NULL ? e->stmt : NULL;
    return rc;
}

/* Runs a statement without parameters or rows (BEGIN IMMEDIATE, COMMIT, ROLLBACK). */
static int db_simple(struct db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int src;
    int rc;

    rc = db_stmt_get(db, sql, true, &stmt);
    if (rc != 0)
        goto cleanup;
    src = sqlite3_step(stmt);
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = db_fail(db, src, sql);
    sqlite3_reset(stmt);
cleanup:
    return rc;
}

/*
 * Rolls back a transaction still open after a failure, keeping the failure's message and field
 * (ROLLBACK would overwrite them) for the caller to report.
 */
static void db_rollback_keeping_error(struct db *db)
{
    char keep[sizeof(db->errmsg)];
    char keepf[sizeof(db->errfield)];

    if (sqlite3_get_autocommit(db->handle))
        return;
    memcpy(keep, db->errmsg, sizeof(keep));
    memcpy(keepf, db->errfield, sizeof(keepf));
    db_simple(db, "ROLLBACK");
    memcpy(db->errmsg, keep, sizeof(keep));
    memcpy(db->errfield, keepf, sizeof(keepf));
}

static int db_bind_value(sqlite3_stmt *stmt, int idx, const json_t *j_value)
{
    char *text;

    switch (json_typeof(j_value)) {
    case JSON_INTEGER:
        return sqlite3_bind_int64(stmt, idx, json_integer_value(j_value));
    case JSON_REAL:
        return sqlite3_bind_double(stmt, idx, json_real_value(j_value));
    case JSON_STRING:
        /* Static: the caller's JSON outlives the statement's use; bindings are cleared after. */
        return sqlite3_bind_text64(stmt, idx, json_string_value(j_value),
                                   json_string_length(j_value), SQLITE_STATIC, SQLITE_UTF8);
    case JSON_TRUE:
        return sqlite3_bind_int(stmt, idx, 1);
    case JSON_FALSE:
        return sqlite3_bind_int(stmt, idx, 0);
    case JSON_NULL:
        return sqlite3_bind_null(stmt, idx);
    case JSON_ARRAY:
    case JSON_OBJECT:
        text = json_dumps(j_value, JSON_COMPACT);
        if (text == NULL)
            return SQLITE_NOMEM;
        return sqlite3_bind_text64(stmt, idx, text, strlen(text), free, SQLITE_UTF8);
    }
    return SQLITE_MISMATCH;
}

/* Does the statement have a parameter :key, @key or $key? */
static bool db_has_param(sqlite3_stmt *stmt, const char *key)
{
    int n = sqlite3_bind_parameter_count(stmt);
    int i;

    for (i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(stmt, i);
        if (name != NULL && name[0] != '?' && strcmp(name + 1, key) == 0)
            return true;
    }
    return false;
}

/*
 * Binds j_params (an array for ?1..?N, an object for named ones, or NULL) and, when blob is
 * not NULL, the blob as the one parameter after them (?N+1).
 */
int db_bind(struct db *db, sqlite3_stmt *stmt, const char *sql, const json_t *j_params,
            const struct db_blob *blob)
{
    int n = sqlite3_bind_parameter_count(stmt) - (blob != NULL ? 1 : 0);
    char what[192];
    const char *key;
    const json_t *j_value;
    int src = SQLITE_OK;
    int i;

    if (n < 0)
        return db_misuse(db, sql, "no parameter for the blob");
    if (blob != NULL) {
        const char *name = sqlite3_bind_parameter_name(stmt, n + 1);
        if (name != NULL && name[0] != '?')
            return db_misuse(db, sql, "the blob's parameter is named");
        src = sqlite3_bind_blob64(stmt, n + 1, blob->in != NULL ? blob->in : "",
                                  (sqlite3_uint64)blob->in_len, SQLITE_STATIC);
        if (src != SQLITE_OK)
            return db_fail(db, src, sql);
    }
    if (j_params == NULL || (json_is_array(j_params) && json_array_size(j_params) == 0) ||
        (json_is_object(j_params) && json_object_size(j_params) == 0)) {
        if (n != 0) {
            snprintf(what, sizeof(what), "%d parameter(s) expected, none given", n);
            return db_misuse(db, sql, what);
        }
        return 0;
    }
    if (blob != NULL && !json_is_array(j_params))
        return db_misuse(db, sql, "a blob goes with positional parameters only");
    if (json_is_array(j_params)) {
        if (json_array_size(j_params) != (size_t)n) {
            snprintf(what, sizeof(what), "%d parameter(s) expected, %zu given", n,
                     json_array_size(j_params));
            return db_misuse(db, sql, what);
        }
        for (i = 1; i <= n && src == SQLITE_OK; i++) {
            const char *name = sqlite3_bind_parameter_name(stmt, i);
            if (name != NULL && name[0] != '?') {
                snprintf(what, sizeof(what), "named parameter %s given by position", name);
                return db_misuse(db, sql, what);
            }
            src = db_bind_value(stmt, i, json_array_get(j_params, (size_t)i - 1));
        }
    } else if (json_is_object(j_params)) {
        json_object_foreach((json_t *)j_params, key, j_value) {
            if (!db_has_param(stmt, key)) {
                snprintf(what, sizeof(what), "unknown parameter \"%.64s\"", key);
                return db_misuse(db, sql, what);
            }
        }
        for (i = 1; i <= n && src == SQLITE_OK; i++) {
            const char *name = sqlite3_bind_parameter_name(stmt, i);
            if (name == NULL || name[0] == '?') {
                snprintf(what, sizeof(what), "positional parameter %d with named parameters", i);
                return db_misuse(db, sql, what);
            }
            j_value = json_object_get(j_params, name + 1);
            if (j_value == NULL) {
                snprintf(what, sizeof(what), "parameter %.64s not given", name);
                return db_misuse(db, sql, what);
            }
            src = db_bind_value(stmt, i, j_value);
        }
    } else {
        return db_misuse(db, sql, "parameters are neither an array nor an object");
    }
    if (src != SQLITE_OK)
        return db_fail(db, src, sql);
    return 0;
}

int db_value_json(struct db *db, const char *name, int type, long long i, double d,
                  const char *text, size_t len, const char *sql, json_t **out)
{
    size_t nlen = strlen(name);
    bool as_json = nlen > 5 && strcmp(name + nlen - 5, ":json") == 0;
    bool as_bool = nlen > 5 && strcmp(name + nlen - 5, ":bool") == 0;
    char what[192];
    json_error_t jerr;

    *out = NULL;
    switch (type) {
    case SQLITE_NULL:
        *out = json_null();
        break;
    case SQLITE_INTEGER:
        if (as_bool)
            *out = json_boolean(i != 0);
        else
            *out = json_integer(i);
        break;
    case SQLITE_FLOAT:
        if (as_bool)
            *out = json_boolean(d != 0.0);
        else if (isinf(d) || isnan(d))
            *out = json_null(); /* JSON has no infinity; NaN cannot come out of SQLite */
        else
            *out = json_real(d);
        break;
    case SQLITE_TEXT:
        if (as_bool) {
            snprintf(what, sizeof(what), "column %.64s holds text", name);
            return db_misuse(db, sql, what);
        }
        if (as_json) {
            *out = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
            if (*out == NULL) {
                log_error("db: '%s': column %s is not valid JSON: %s", sql, name, jerr.text);
                db_seterr(db, NULL, "database error");
                return LINTEL_EDB;
            }
            return 0;
        }
        *out = json_stringn(text, len);
        if (*out == NULL) {
            log_error("db: '%s': column %s is not valid UTF-8", sql, name);
            db_seterr(db, NULL, "database error");
            return LINTEL_EDB;
        }
        break;
    case SQLITE_BLOB:
    default:
        /* JSON has no bytes: select hex(x) or length(x), never the BLOB itself. */
        snprintf(what, sizeof(what), "blob column %.64s (select hex() of it)", name);
        return db_misuse(db, sql, what);
    }
    if (*out == NULL) {
        db_seterr(db, NULL, "out of memory");
        return LINTEL_ENOMEM;
    }
    return 0;
}

size_t db_key_len(const char *name)
{
    size_t len = strlen(name);

    if (len > 5 && (strcmp(name + len - 5, ":json") == 0 || strcmp(name + len - 5, ":bool") == 0))
        len -= 5;
    return len;
}

/* One column of the current row as JSON (new reference), per its name's suffix. */
static int db_column(struct db *db, sqlite3_stmt *stmt, int col, const char *sql, json_t **out)
{
    int type = sqlite3_column_type(stmt, col);
    const char *text = NULL;
    size_t len = 0;

    if (type == SQLITE_TEXT) {
        text = (const char *)sqlite3_column_text(stmt, col);
        len = (size_t)sqlite3_column_bytes(stmt, col);
    }
    return db_value_json(db, sqlite3_column_name(stmt, col), type,
                         type == SQLITE_INTEGER ? sqlite3_column_int64(stmt, col) : 0,
                         type == SQLITE_FLOAT ? sqlite3_column_double(stmt, col) : 0.0, text, len,
                         sql, out);
}

/* The current row's columns from first on as one JSON object (new reference). */
static int db_row_json(struct db *db, sqlite3_stmt *stmt, const char *sql, int first,
                       json_t **j_row)
{
    json_t *j_obj = NULL;
    json_t *j_value = NULL;
    int ncol = sqlite3_column_count(stmt);
    int rc = 0;
    int i;

    *j_row = NULL;
    j_obj = json_object();
    if (j_obj == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    for (i = first; i < ncol; i++) {
        const char *name = sqlite3_column_name(stmt, i);
        size_t len;

        if (name == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        len = db_key_len(name);
        rc = db_column(db, stmt, i, sql, &j_value);
        if (rc != 0)
            goto cleanup;
        if (json_object_setn_new(j_obj, name, len, j_value) != 0) {
            j_value = NULL;
            rc = db_misuse(db, sql, "a column name is not valid UTF-8");
            goto cleanup;
        }
        j_value = NULL;
    }
    *j_row = j_obj;
    j_obj = NULL;
cleanup:
    if (rc == LINTEL_ENOMEM)
        db_seterr(db, NULL, "out of memory");
    json_decref(j_value);
    json_decref(j_obj);
    return rc;
}

int db_blob_take(struct db *db, struct db_blob *blob, bool is_null, const void *src, size_t n,
                 const char *sql)
{
    void **out = blob->out;

    if (is_null) {
        db_seterr(db, NULL, "not found");
        return LINTEL_ENOTFOUND;
    }
    if (n > blob->max) {
        log_error("db: '%s': a value of %zu bytes, more than the %zu the caller takes", sql, n,
                  blob->max);
        db_seterr(db, NULL, "the stored value is too large");
        return LINTEL_ETOOLARGE;
    }
    *out = malloc(n + 1); /* +1: a zero-length value still gets a pointer */
    if (*out == NULL) {
        db_seterr(db, NULL, "out of memory");
        return LINTEL_ENOMEM;
    }
    if (n > 0)
        memcpy(*out, src, n);
    blob->out_len = n;
    return 0;
}

/* The first column of the current row into blob->out (see db_blob_take). */
static int db_column_bytes(struct db *db, sqlite3_stmt *stmt, struct db_blob *blob, const char *sql)
{
    bool is_null = sqlite3_column_type(stmt, 0) == SQLITE_NULL;
    const void *src = is_null ? NULL : sqlite3_column_blob(stmt, 0);

    return db_blob_take(db, blob, is_null, src, (size_t)sqlite3_column_bytes(stmt, 0), sql);
}

/* Whether the n bytes of s go into a JSON string as they are: printable ASCII, no '"' or '\\'. */
static bool db_plain_text(const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x80 || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/*
 * The keys of a row object for stmt's columns, written once per query into k: '"name":' for
 * each column (',"name":' after the first; ":json"/":bool" suffixes dropped), column i's text
 * ending at k->col[i].end.
 */
struct db_keys {
    struct json_out_buf text;
    struct db_key {
        size_t end;
        bool suffix; /* ":json" or ":bool": db_column decides the value */
        bool etag;   /* ":etag": not written, its value is the reply's version */
    } * col;
};

static int db_keys_init(struct db_keys *k, sqlite3_stmt *stmt)
{
    int ncol = sqlite3_column_count(stmt), i;
    bool first = true;

    k->col = calloc((size_t)ncol + 1, sizeof(*k->col));
    if (k->col == NULL)
        return LINTEL_ENOMEM;
    for (i = 0; i < ncol; i++) {
        const char *name = sqlite3_column_name(stmt, i);
        size_t len;

        if (name == NULL)
            return LINTEL_ENOMEM;
        len = strlen(name);
        if (len > 5 && strcmp(name + len - 5, ":etag") == 0) {
            k->col[i].etag = true; /* no key: the value goes to the reply's ETag */
            k->col[i].end = k->text.len;
            continue;
        }
        len = db_key_len(name);
        k->col[i].suffix = name[len] != '\0';
        if ((!first && json_out_put(&k->text, ",", 1) != 0) ||
            json_out_string(&k->text, name, len) != 0 || json_out_put(&k->text, ":", 1) != 0)
            return LINTEL_ENOMEM;
        k->col[i].end = k->text.len;
        first = false;
    }
    return 0;
}

static void db_keys_clear(struct db_keys *k)
{
    free(k->text.data);
    free(k->col);
    memset(k, 0, sizeof(*k));
}

/*
 * The current row as a JSON object written into b: the same names and values db_row_json
 * gives, without building them as jansson values. Numbers, NULL and plain ASCII text are
 * written directly; other text, ":json"/":bool" columns and anything db_column refuses go
 * through db_column.
 */
static int db_row_text(struct db *db, sqlite3_stmt *stmt, const char *sql, const struct db_keys *k,
                       struct db_text *text_out)
{
    struct json_out_buf *b = text_out->b;
    char num[EXT_DOUBLE_TEXT_SIZE];
    int ncol = sqlite3_column_count(stmt);
    json_t *j_value = NULL;
    int i, rc = 0;

    json_out_put(b, "{", 1);
    for (i = 0; i < ncol && rc == 0 && !b->failed; i++) {
        size_t start = i > 0 ? k->col[i - 1].end : 0;
        bool suffix = k->col[i].suffix;
        int type = sqlite3_column_type(stmt, i);
        const unsigned char *text;
        size_t n;

        if (k->col[i].etag) {
            text_out->has_etag = true;
            text_out->etag = (long long)sqlite3_column_int64(stmt, i);
            continue;
        }
        json_out_put(b, k->text.data + start, k->col[i].end - start);
        if (type == SQLITE_NULL) {
            json_out_put(b, "null", 4);
        } else if (type == SQLITE_INTEGER && !suffix) {
            json_out_integer(b, (long long)sqlite3_column_int64(stmt, i));
        } else if (type == SQLITE_FLOAT && !suffix) {
            ext_double_text(sqlite3_column_double(stmt, i), num); /* "null" for an infinity */
            json_out_put(b, num, strlen(num));
        } else if (type == SQLITE_TEXT && !suffix &&
                   (text = sqlite3_column_text(stmt, i)) != NULL &&
                   db_plain_text(text, n = (size_t)sqlite3_column_bytes(stmt, i))) {
            json_out_put(b, "\"", 1);
            json_out_put(b, (const char *)text, n);
            json_out_put(b, "\"", 1);
        } else {
            rc = db_column(db, stmt, i, sql, &j_value);
            if (rc == 0)
                json_out_value(b, j_value);
            json_decref(j_value);
            j_value = NULL;
        }
    }
    json_out_put(b, "}", 1);
    if (rc == 0 && b->failed)
        rc = LINTEL_ENOMEM;
    if (rc == LINTEL_ENOMEM)
        db_seterr(db, NULL, "out of memory");
    return rc;
}

/*
 * dqlite: whether sql reads nothing of the database nor of the connection (a SELECT of
 * parameters and functions, such as a rule's check): the schema copy answers it as the leader
 * would, and a round trip is saved. Not inside a transaction, whose statements all go to the
 * leader in order.
 */
static bool db_pure(struct db *db, const char *sql)
{
    struct db_stmt *e = NULL;

    return !db->in_tx && db_stmt_entry(db, sql, false, &e) == 0 && e->pure;
}

/*
 * Runs sql with j_params. With j_rows, collects up to max_rows rows (0: all) into a new array;
 * with text, writes them as a JSON array's text instead (db_query_text).
 * A statement that writes, outside a transaction, runs inside its own BEGIN IMMEDIATE.
 */
static int db_run(struct db *db, const char *sql, const json_t *j_params, struct db_blob *blob,
                  size_t max_rows, json_t **j_rows, struct db_text *text, long long *changes,
                  long long *last_id)
{
    sqlite3_stmt *stmt = NULL;
    struct db_keys keys = {0};
    json_t *j_list = NULL;
    json_t *j_row = NULL;
    bool own_tx = false;
    bool readonly;
    int src;
    int rc;

    db_clearerr(db);
    /* One predictable branch: the single-node path pays nothing else for the other engine. */
    if (__builtin_expect(db_cfg.remote, 0) && !db_pure(db, sql))
        return dqlite_db_run(db, sql, j_params, blob, max_rows, j_rows, changes, last_id);
    if (db->in_tx && sqlite3_get_autocommit(db->handle)) {
        /* SQLite rolled the transaction back on an earlier error (SQLITE_FULL, ...). */
        db_seterr(db, NULL, "the transaction was rolled back by an earlier error");
        rc = LINTEL_EDB;
        goto cleanup;
    }
    rc = db_stmt_get(db, sql, false, &stmt);
    if (rc != 0)
        goto cleanup;
    rc = db_bind(db, stmt, sql, j_params, blob != NULL && blob->out == NULL ? blob : NULL);
    if (rc != 0)
        goto cleanup;
    if (j_rows != NULL) {
        j_list = json_array();
        if (j_list == NULL) {
            db_seterr(db, NULL, "out of memory");
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    }

    readonly = sqlite3_stmt_readonly(stmt) != 0;
    if (!readonly && sqlite3_get_autocommit(db->handle)) {
        rc = db_simple(db, "BEGIN IMMEDIATE");
        if (rc != 0)
            goto cleanup;
        own_tx = true;
    }

    for (;;) {
        src = sqlite3_step(stmt);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = db_fail(db, src, sql);
            goto cleanup;
        }
        if (text != NULL) {
            /* one row past max_rows is only counted: it tells the caller that more follow */
            if (max_rows > 0 && text->rows >= max_rows - 1) {
                text->rows++;
                break;
            }
            text->rows++;
            if ((text->rows == 1 && (rc = db_keys_init(&keys, stmt)) != 0) ||
                (text->rows > 1 && json_out_put(text->b, ",", 1) != 0) ||
                (text->j_last != NULL && max_rows > 0 && text->rows == max_rows - 1 &&
                 (rc = db_row_json(db, stmt, sql, 0, text->j_last)) != 0) ||
                (rc = db_row_text(db, stmt, sql, &keys, text)) != 0) {
                if (rc == 0 || rc == LINTEL_ENOMEM) {
                    db_seterr(db, NULL, "out of memory");
                    rc = LINTEL_ENOMEM;
                }
                goto cleanup;
            }
            continue;
        }
        if (j_list == NULL)
            continue;
        if (blob != NULL && blob->out != NULL) {
            rc = db_column_bytes(db, stmt, blob, sql);
            if (rc != 0)
                goto cleanup;
        }
        rc = db_row_json(db, stmt, sql, blob != NULL && blob->out != NULL ? 1 : 0, &j_row);
        if (rc != 0)
            goto cleanup;
        if (json_array_append_new(j_list, j_row) != 0) {
            j_row = NULL;
            db_seterr(db, NULL, "out of memory");
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        j_row = NULL;
        /* RETURNING makes every change on the first step, so stopping early loses nothing. */
        if (max_rows > 0 && json_array_size(j_list) >= max_rows)
            break;
    }
    if (changes != NULL)
        *changes = readonly ? 0 : (long long)sqlite3_changes64(db->handle);
    if (last_id != NULL)
        *last_id = (long long)sqlite3_last_insert_rowid(db->handle);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    stmt = NULL;

    if (own_tx) {
        own_tx = false;
        rc = db_simple(db, "COMMIT");
        if (rc != 0) {
            if (!sqlite3_get_autocommit(db->handle))
                db_simple(db, "ROLLBACK");
            goto cleanup;
        }
    }
    if (j_rows != NULL) {
        *j_rows = j_list;
        j_list = NULL;
    }
cleanup:
    if (stmt != NULL) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
    if (own_tx)
        db_rollback_keeping_error(db);
    db_keys_clear(&keys);
    json_decref(j_row);
    json_decref(j_list);
    return rc;
}

int db_query(struct db *db, const char *sql, const json_t *j_params, json_t **j_rows)
{
    *j_rows = NULL;
    return db_run(db, sql, j_params, NULL, 0, j_rows, NULL, NULL, NULL);
}

/*
 * db_query_text when dqlite answers: its rows come as JSON (dqlite_db_run), written out the same
 * way, with the same cap, count and last row.
 */
static int db_query_text_rows(struct db *db, const char *sql, const json_t *j_params,
                              size_t max_rows, struct db_text *text)
{
    json_t *j_rows = NULL, *j_row, *j_value;
    const char *key;
    void *tmp;
    size_t i, len;
    int rc = db_run(db, sql, j_params, NULL, max_rows, &j_rows, NULL, NULL, NULL);

    json_array_foreach(j_rows, i, j_row) {
        if (rc != 0)
            break;
        json_object_foreach_safe(j_row, tmp, key, j_value) {
            len = strlen(key);
            if (len > 5 && strcmp(key + len - 5, ":etag") == 0) {
                text->has_etag = true;
                text->etag = (long long)json_integer_value(j_value);
                json_object_del(j_row, key);
            }
        }
        text->rows++;
        if (max_rows > 0 && text->rows >= max_rows)
            break; /* the row past the cap is only counted */
        if ((i > 0 && json_out_put(text->b, ",", 1) != 0) || json_out_value(text->b, j_row) != 0)
            rc = LINTEL_ENOMEM;
        if (text->j_last != NULL && max_rows > 0 && text->rows == max_rows - 1)
            *text->j_last = json_incref(j_row);
    }
    json_decref(j_rows);
    return rc;
}

int db_query_text(struct db *db, const char *sql, const json_t *j_params, struct db_text *text)
{
    size_t max_rows = text->object ? 2 : text->capped ? text->max_rows + 1 : 0;
    int rc;

    text->rows = 0;
    text->has_etag = false;
    if (text->j_last != NULL)
        *text->j_last = NULL;
    if (!text->object && json_out_put(text->b, "[", 1) != 0) {
        db_seterr(db, NULL, "out of memory");
        return LINTEL_ENOMEM;
    }
    /* for the text, max_rows is the rows written plus one (0: no cap), so 0 rows can be asked */
    if (db_cfg.remote)
        rc = db_query_text_rows(db, sql, j_params, max_rows, text);
    else
        rc = db_run(db, sql, j_params, NULL, max_rows, NULL, text, NULL, NULL);
    if (rc == 0 && !text->object && json_out_put(text->b, "]", 1) != 0) {
        db_seterr(db, NULL, "out of memory");
        rc = LINTEL_ENOMEM;
    }
    if (rc != 0 && text->j_last != NULL) {
        json_decref(*text->j_last);
        *text->j_last = NULL;
    }
    return rc;
}

int db_row(struct db *db, const char *sql, const json_t *j_params, json_t **j_row)
{
    json_t *j_rows = NULL;
    int rc;

    *j_row = NULL;
    rc = db_run(db, sql, j_params, NULL, 1, &j_rows, NULL, NULL, NULL);
    if (rc != 0)
        goto cleanup;
    if (json_array_size(j_rows) == 0) {
        db_seterr(db, NULL, "not found");
        rc = LINTEL_ENOTFOUND;
        goto cleanup;
    }
    *j_row = json_incref(json_array_get(j_rows, 0));
cleanup:
    json_decref(j_rows);
    return rc;
}

int db_exec(struct db *db, const char *sql, const json_t *j_params, long long *changes,
            long long *last_id)
{
    long long n = 0;
    long long id = 0;
    int rc;

    rc = db_run(db, sql, j_params, NULL, 0, NULL, NULL, &n, &id);
    if (rc == 0) {
        if (changes != NULL)
            *changes = n;
        if (last_id != NULL)
            *last_id = id;
    }
    return rc;
}

json_t *db_params_vpack(const char *fmt, va_list ap, json_error_t *why)
{
    char wrapped[124];
    json_t *j;

    if (fmt == NULL) {
        j = json_array();
        if (j == NULL)
            snprintf(why->text, sizeof(why->text), "out of memory");
        return j;
    }
    if (snprintf(wrapped, sizeof(wrapped), "[%s]", fmt) >= (int)sizeof(wrapped)) {
        snprintf(why->text, sizeof(why->text), "the format is longer than %zu characters",
                 sizeof(wrapped) - 3);
        return NULL;
    }
    return json_vpack_ex(why, 0, wrapped, ap);
}

int db_vrun(struct db *db, enum db_kind kind, void *out, const char *sql, const char *fmt,
            va_list ap)
{
    json_error_t why;
    json_t *j_params = db_params_vpack(fmt, ap, &why);
    char what[224];
    int rc;

    if (j_params == NULL) {
        snprintf(what, sizeof(what), "parameters \"%.48s\": %s", fmt, why.text);
        return db_misuse(db, sql, what);
    }
    if (kind == DB_QUERY)
        rc = db_query(db, sql, j_params, out);
    else if (kind == DB_ROW)
        rc = db_row(db, sql, j_params, out);
    else
        rc = db_exec(db, sql, j_params, out, NULL);
    json_decref(j_params);
    return rc;
}

VA_FORWARD(int db_queryf(struct db *db, json_t **j_rows, const char *sql, const char *fmt, ...),
           fmt, *j_rows = NULL, db_vrun(db, DB_QUERY, j_rows, sql, fmt, ap))
VA_FORWARD(int db_rowf(struct db *db, json_t **j_row, const char *sql, const char *fmt, ...), fmt,
           *j_row = NULL, db_vrun(db, DB_ROW, j_row, sql, fmt, ap))
VA_FORWARD(int db_execf(struct db *db, long long *changes, const char *sql, const char *fmt, ...),
           fmt, (void)0, db_vrun(db, DB_EXEC, changes, sql, fmt, ap))

int db_exec_blob(struct db *db, const char *sql, const json_t *j_params, const void *data,
                 size_t len, long long *changes)
{
    struct db_blob blob = {.in = data, .in_len = len};
    long long n = 0;
    int rc;

    rc = db_run(db, sql, j_params, &blob, 0, NULL, NULL, &n, NULL);
    if (rc == 0 && changes != NULL)
        *changes = n;
    return rc;
}

int db_row_blob(struct db *db, const char *sql, const json_t *j_params, size_t max, void **data,
                size_t *len, json_t **j_row)
{
    struct db_blob blob = {.max = max, .out = data};
    json_t *j_rows = NULL;
    int rc;

    *data = NULL;
    *len = 0;
    if (j_row != NULL)
        *j_row = NULL;
    rc = db_run(db, sql, j_params, &blob, 1, &j_rows, NULL, NULL, NULL);
    if (rc == 0 && json_array_size(j_rows) == 0) {
        db_seterr(db, NULL, "not found");
        rc = LINTEL_ENOTFOUND;
    }
    if (rc == 0) {
        *len = blob.out_len;
        if (j_row != NULL)
            *j_row = json_incref(json_array_get(j_rows, 0));
    } else {
        free(*data);
        *data = NULL;
    }
    json_decref(j_rows);
    return rc;
}

int db_begin(struct db *db)
{
    int rc;

    db_clearerr(db);
    if (db->in_tx || (!db_cfg.remote && !sqlite3_get_autocommit(db->handle)))
        return db_misuse(db, "BEGIN IMMEDIATE", "a transaction is already open");
    rc = db_cfg.remote ? dqlite_db_tx(db, "BEGIN IMMEDIATE") : db_simple(db, "BEGIN IMMEDIATE");
    if (rc == 0)
        db->in_tx = true;
    return rc;
}

int db_commit(struct db *db)
{
    int rc;

    db_clearerr(db);
    if (!db->in_tx)
        return db_misuse(db, "COMMIT", "no transaction is open");
    db->in_tx = false;
    if (db_cfg.remote)
        return dqlite_db_tx(db, "COMMIT");
    if (sqlite3_get_autocommit(db->handle)) {
        db_seterr(db, NULL, "the transaction was rolled back by an earlier error");
        return LINTEL_EDB;
    }
    rc = db_simple(db, "COMMIT");
    if (rc != 0)
        db_rollback_keeping_error(db);
    return rc;
}

int db_rollback(struct db *db)
{
    db_clearerr(db);
    if (db_cfg.remote) {
        bool was = db->in_tx;
        db->in_tx = false;
        return was ? dqlite_db_tx(db, "ROLLBACK") : 0;
    }
    db->in_tx = false;
    /* Idempotent: SQLite may already have rolled back, and the host rolls back leftovers. */
    if (sqlite3_get_autocommit(db->handle))
        return 0;
    return db_simple(db, "ROLLBACK");
}

bool db_in_tx(const struct db *db)
{
    return db->in_tx;
}

const char *db_errmsg(const struct db *db)
{
    return db->errmsg[0] != '\0' ? db->errmsg : "no error";
}

const char *db_errfield(const struct db *db)
{
    return db->errfield[0] != '\0' ? db->errfield : NULL;
}

sqlite3 *db_handle(struct db *db)
{
    return db->handle;
}

/*
 * The WAL index (the -shm file SQLite maps) as documented for the unix VFS (sqlite.org
 * walformat.html, "The WAL-Index Header"): two copies of a 48-byte header at offsets 0 and 48,
 * native byte order. A writer rewrites both at every commit, the second copy first, so a reader
 * that finds the two equal read one whole header; each commit raises iChange and mxFrame, and a
 * restart of the log (after a checkpoint) draws new salts. The same check SQLite's readers make
 * before they take a read lock, minus the lock: equal headers, equal committed database.
 */
#define DB_WAL_INDEX_VERSION 3007000u /* iVersion of every WAL index since 3.7.0 */
#define DB_WAL_INDEX_PGSZ    32768    /* the size of the regions xShmMap hands out */
#define DB_WAL_HDR_SIZE      48

struct db_wal_hdr {
    uint32_t version; /* iVersion */
    uint32_t unused;
    uint32_t change; /* iChange: commits counted */
    uint8_t init;    /* isInit */
    uint8_t big_end_cksum;
    uint16_t page_size;
    uint32_t max_frame; /* mxFrame: the last committed frame */
    uint32_t pages;
    uint32_t frame_cksum[2];
    uint32_t salt[2];
    uint32_t cksum[2];
};

/*
 * Looks up the connection's view of the WAL index: the region belongs to the connection's
 * shared-memory node and stays mapped while the connection is open in WAL mode (db_open
 * insists on it, and lintel never leaves it). Only after a read transaction, so the node is
 * SQLite's own (asked earlier, the VFS would open one the pager does not know of and never
 * frees). Tried after each PRAGMA stamp until it is there; a VFS without shared memory is asked
 * once, and db_stamp then always runs its statement.
 */
static void db_wal_index_map(struct db *db)
{
    sqlite3_file *file = NULL;
    void volatile *region = NULL;

    if (db->wal_index != NULL || db->wal_index_unsupported)
        return;
    if (sqlite3_file_control(db->handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        file == NULL || file->pMethods == NULL || file->pMethods->iVersion < 2 ||
        file->pMethods->xShmMap == NULL) {
        db->wal_index_unsupported = true;
        return;
    }
    if (file->pMethods->xShmMap(file, 0, DB_WAL_INDEX_PGSZ, 0, &region) == SQLITE_OK)
        db->wal_index = (const volatile unsigned char *)region;
}

/* One copy of the header, byte by byte through the volatile mapping. */
static void db_wal_hdr_read(const volatile unsigned char *at, struct db_wal_hdr *hdr)
{
    unsigned char *out = (unsigned char *)hdr;
    size_t i;

    for (i = 0; i < DB_WAL_HDR_SIZE; i++)
        out[i] = at[i];
}

/* The stamp from the WAL index's header, without a transaction; -1 when it cannot tell. */
static int db_stamp_wal(struct db *db, struct db_stamp *stamp)
{
    const volatile unsigned char *index = db->wal_index;
    struct db_wal_hdr first, second;

    _Static_assert(sizeof(struct db_wal_hdr) == DB_WAL_HDR_SIZE, "the WAL index header");
    if (index == NULL)
        return -1;
    db_wal_hdr_read(index, &first);
    atomic_thread_fence(memory_order_acquire); /* the writer's order, reversed */
    db_wal_hdr_read(index + DB_WAL_HDR_SIZE, &second);
    if (memcmp(&first, &second, sizeof(first)) != 0 || first.init == 0 ||
        first.version != DB_WAL_INDEX_VERSION)
        return -1; /* a commit is writing it, or it awaits recovery: ask SQLite */
    stamp->source = DB_STAMP_WAL_INDEX;
    stamp->version = (unsigned long long)first.change << 32 | first.max_frame;
    stamp->changes = (unsigned long long)first.salt[0] << 32 | first.salt[1];
    stamp->check = (unsigned long long)first.frame_cksum[0] << 32 | first.frame_cksum[1];
    return 0;
}

int db_stamp(struct db *db, struct db_stamp *stamp)
{
    sqlite3_stmt *stmt = NULL;
    int src, rc;

    memset(stamp, 0, sizeof(*stamp));
    db_clearerr(db);
    if (db_cfg.remote)
        return LINTEL_EUNAVAIL; /* dqlite: other nodes' commits are not in this file's counter */
    if (db->in_tx || !sqlite3_get_autocommit(db->handle))
        return db_misuse(db, "PRAGMA data_version", "a transaction is open");
    /*
     * Without a transaction first: a read transaction takes the WAL index's read lock, whose
     * mutex every connection of the process shares and whose fcntl() each first reader pays,
     * so under load most requests waited on it in futex() for nothing but this stamp.
     */
    if (db_stamp_wal(db, stamp) == 0)
        return 0;
    memset(stamp, 0, sizeof(*stamp));
    /*
     * A statement, not SQLITE_FCNTL_DATA_VERSION: stepping it starts a read transaction, which
     * reads the WAL index as it is now; the file control reports the pager's counter as of
     * this connection's last transaction, which may be older than another's commit.
     */
    rc = db_stmt_get(db, "PRAGMA data_version", false, &stmt);
    if (rc != 0)
        return rc;
    src = sqlite3_step(stmt);
    if (src == SQLITE_ROW) {
        stamp->source = DB_STAMP_PRAGMA;
        stamp->connection = db->serial;
        stamp->version = (unsigned long long)sqlite3_column_int64(stmt, 0);
        stamp->changes = (unsigned long long)sqlite3_total_changes64(db->handle);
    } else {
        rc = db_fail(db, src, "PRAGMA data_version");
    }
    sqlite3_reset(stmt);
    if (rc == 0)
        db_wal_index_map(db); /* the next stamps without a transaction */
    return rc;
}

/* Runs one PRAGMA on a fresh handle; expect, when not NULL, is the value it must report. */
static int db_pragma(sqlite3 *h, const char *sql, const char *expect)
{
    sqlite3_stmt *stmt = NULL;
    int src;
    int rc = 0;

    src = sqlite3_prepare_v2(h, sql, -1, &stmt, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(stmt);
        if (src == SQLITE_ROW && expect != NULL &&
            strcasecmp((const char *)sqlite3_column_text(stmt, 0), expect) != 0) {
            log_error("db: %s gave '%s', not '%s'", sql, sqlite3_column_text(stmt, 0), expect);
            rc = LINTEL_EUNAVAIL;
            goto cleanup;
        }
    }
    if (src != SQLITE_OK && src != SQLITE_ROW && src != SQLITE_DONE) {
        log_error("db: %s failed: %s", sql, sqlite3_errmsg(h));
        rc = (src & 0xff) == SQLITE_NOMEM ? LINTEL_ENOMEM : LINTEL_EUNAVAIL;
    }
cleanup:
    sqlite3_finalize(stmt);
    return rc;
}

static void db_close(struct db *db)
{
    unsigned i;

    for (i = 0; i < db->ncache; i++)
        db_stmt_clear(&db->cache[i]);
    dqlite_db_close(db);
    if (sqlite3_close(db->handle) != SQLITE_OK)
        log_error("db: close: %s", sqlite3_errmsg(db->handle));
    free(db);
}

static int db_open(struct db **out)
{
    struct db *db = NULL;
    char sql[64];
    int src;
    int rc = LINTEL_EUNAVAIL;

    *out = NULL;
    db = calloc(1, sizeof(*db));
    if (db == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    src = sqlite3_open_v2(db_cfg.path, &db->handle,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        log_error("db: cannot open %s: %s", db_cfg.path,
                  db->handle != NULL ? sqlite3_errmsg(db->handle) : sqlite3_errstr(src));
        rc = src == SQLITE_NOMEM ? LINTEL_ENOMEM : LINTEL_EUNAVAIL;
        goto cleanup;
    }
    sqlite3_extended_result_codes(db->handle, 1);
    db->serial = atomic_fetch_add(&db_serial, 1) + 1;
    /*
     * Defensive: no writable_schema games, no corrupting PRAGMAs. Load_extension() stays off at
     * the SQL level (the extension is linked in). Double-quoted strings are identifiers only, so
     * a typo in a column name is an error instead of a string constant.
     */
    if (sqlite3_db_config(db->handle, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
        sqlite3_db_config(db->handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL) !=
            SQLITE_OK ||
        sqlite3_db_config(db->handle, SQLITE_DBCONFIG_DQS_DML, 0, NULL) != SQLITE_OK ||
        sqlite3_db_config(db->handle, SQLITE_DBCONFIG_DQS_DDL, 0, NULL) != SQLITE_OK) {
        log_error("db: cannot configure the connection: %s", sqlite3_errmsg(db->handle));
        goto cleanup;
    }
    sqlite3_busy_timeout(db->handle, (int)db_cfg.busy_timeout);
    /*
     * Litestream copies every WAL frame before it checkpoints, and must be the only one that
     * does (litestream.io/tips): no automatic checkpoint after commits, none at close.
     */
    if (db_cfg.ckpt_external &&
        (sqlite3_wal_autocheckpoint(db->handle, 0) != SQLITE_OK ||
         sqlite3_db_config(db->handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)) {
        log_error("db: cannot leave checkpoints to another process: %s",
                  sqlite3_errmsg(db->handle));
        goto cleanup;
    }
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", db_cfg.synchronous);
    rc = db_pragma(db->handle, "PRAGMA journal_mode=WAL", "wal");
    if (rc == 0)
        rc = db_pragma(db->handle, "PRAGMA foreign_keys=ON", NULL);
    if (rc == 0)
        rc = db_pragma(db->handle, sql, NULL);
    if (rc == 0)
        rc = db_pragma(db->handle, "PRAGMA trusted_schema=OFF", NULL);
    if (rc != 0)
        goto cleanup;
    db_authorizer_install(db->handle);
    *out = db;
    db = NULL;
cleanup:
    if (db != NULL) {
        sqlite3_close(db->handle);
        free(db);
    }
    return rc;
}

/* Unlinks and closes a thread's connection when the thread ends before the server stops. */
static void db_thread_exit(void *unused)
{
    struct db **pp;

    (void)unused;
    pthread_mutex_lock(&db_lock);
    if (db_tls.db != NULL && db_tls.generation == atomic_load(&db_generation)) {
        for (pp = &db_list; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == db_tls.db) {
                *pp = db_tls.db->next;
                db_close(db_tls.db);
                break;
            }
        }
    }
    db_tls.db = NULL;
    pthread_mutex_unlock(&db_lock);
}

static void db_key_create(void)
{
    if (pthread_key_create(&db_key, db_thread_exit) != 0)
        log_error("db: pthread_key_create failed");
}

int db_thread(struct db **out)
{
    struct db *db = NULL;
    unsigned generation = atomic_load(&db_generation);
    int rc;

    *out = NULL;
    if (db_tls.db != NULL && db_tls.generation == generation) {
        *out = db_tls.db;
        return 0;
    }
    if (!db_cfg.ready)
        return LINTEL_EUNAVAIL;
    rc = db_open(&db);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&db_lock);
    db->next = db_list;
    db_list = db;
    pthread_mutex_unlock(&db_lock);
    db_tls.db = db;
    db_tls.generation = generation;
    pthread_setspecific(db_key, &db_tls);
    *out = db;
    return 0;
}

static int db_mkdirs(const char *dir)
{
    char path[PATH_MAX];
    char *p;
    struct stat st;

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return -1;
    for (p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    /* The data directory holds keys too: only the owner gets in. */
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/*
 * The database and its -wal and -shm files hold every user's data: owner only, whatever the
 * umask. SQLite creates the main file with 0644 & ~umask but gives -wal and -shm the main
 * file's mode, so creating the main file 0600 here covers all three; files an older version
 * left readable by others are narrowed too.
 */
static int db_private_files(const char *db_path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[PATH_MAX + 16];
    struct stat st;
    size_t i;
    int fd;

    fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) != 0 || ((st.st_mode & 0077) != 0 && fchmod(fd, 0600) != 0)) {
        log_error("db: cannot create %s with mode 0600: %s", db_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    for (i = 1; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", db_path, suffixes[i]);
        if (stat(path, &st) == 0 && (st.st_mode & 0077) != 0 && chmod(path, 0600) != 0) {
            log_error("db: cannot make %s private: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int db_global_init(const struct config *cfg)
{
    struct db *db = NULL;
    json_t *j_row = NULL;
    const char *dir = cfg->data_dir != NULL ? cfg->data_dir : "./data";
    const char *sync = cfg->synchronous != NULL ? cfg->synchronous : "FULL";
    int rc = 0;

    pthread_once(&db_key_once, db_key_create);
    if (strcasecmp(sync, "FULL") != 0 && strcasecmp(sync, "NORMAL") != 0) {
        log_error("db: synchronous must be FULL or NORMAL, not '%s'", sync);
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    if (db_mkdirs(dir) != 0) {
        log_error("db: cannot create the data directory %s: %s", dir, strerror(errno));
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    /* dqlite: the rows live in the cluster; this file holds a copy of its schema only. */
    if (snprintf(db_cfg.path, sizeof(db_cfg.path), "%s/%s", dir,
                 cfg->storage != NULL && strcmp(cfg->storage, "dqlite") == 0
                     ? "schema-copy.db"
                     : "lintel.db") >= (int)sizeof(db_cfg.path)) {
        log_error("db: data directory path too long");
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    if (db_private_files(db_cfg.path) != 0) {
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    snprintf(db_cfg.synchronous, sizeof(db_cfg.synchronous), "%s",
             strcasecmp(sync, "FULL") == 0 ? "FULL" : "NORMAL");
    db_cfg.busy_timeout = cfg->busy_timeout;
    db_cfg.ckpt_external = cfg->wal_checkpoint_external;
    db_cfg.remote = cfg->storage != NULL && strcmp(cfg->storage, "dqlite") == 0;

    /*
     * One bound for SQLite's heap in the whole process, whatever the number of worker threads
     * (each has its connection, and each connection's page cache may grow to 2 MiB as the
     * database grows): past it SQLite reuses page-cache memory instead of asking for more.
     */
    sqlite3_soft_heap_limit64(DB_HEAP_SOFT_LIMIT);
    /* Every connection opened from now on, in any thread, gets the lintel_* functions. */
    if (sqlite3_auto_extension((void (*)(void))sqlite3_lintel_init) != SQLITE_OK) {
        log_error("db: cannot register the extension");
        rc = LINTEL_EINTERNAL;
        goto cleanup;
    }
    db_cfg.ready = true;
    if (db_cfg.remote) {
        /* Only after the extension is registered: this node may lead as soon as it starts. */
        rc = dqlite_db_global_init(cfg, db_cfg.path);
        if (rc != 0) {
            db_global_release();
            goto cleanup;
        }
    }

    /* Open this thread's connection now, so a bad file stops the start. */
    rc = db_thread(&db);
    if (rc == 0)
        rc = db_row(db, "SELECT count(*) AS n FROM sqlite_schema", NULL, &j_row);
    if (rc != 0) {
        log_error("db: %s is not usable", db_cfg.path);
        db_global_release();
        rc = rc == LINTEL_ENOMEM ? rc : LINTEL_EUNAVAIL;
    }
cleanup:
    json_decref(j_row);
    return rc;
}

void db_global_release(void)
{
    struct db *db;

    pthread_mutex_lock(&db_lock);
    while (db_list != NULL) {
        db = db_list;
        db_list = db->next;
        if (db_list == NULL && !db->in_tx && !db_cfg.remote && !db_cfg.ckpt_external) {
            /* The last one out folds the WAL into the database file (unless Litestream does). */
            sqlite3_exec(db->handle, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        }
        db_close(db);
    }
    atomic_fetch_add(&db_generation, 1);
    db_tls.db = NULL;
    db_cfg.ready = false;
    pthread_mutex_unlock(&db_lock);
    if (db_cfg.remote)
        dqlite_db_global_release();
    db_cfg.remote = false;
}

int db_health(void)
{
    struct db *db = NULL;
    json_t *j_row = NULL;
    int rc;

    if (db_cfg.remote)
        return db_cfg.ready ? dqlite_db_health() : LINTEL_EUNAVAIL;
    /* A deleted or unreadable file is unavailable even though an open handle still reads. */
    if (!db_cfg.ready || access(db_cfg.path, R_OK | W_OK) != 0) {
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    rc = db_thread(&db);
    if (rc == 0)
        rc = db_row(db, "SELECT count(*) AS n FROM sqlite_schema", NULL, &j_row);
    if (rc != 0)
        rc = LINTEL_EUNAVAIL;
cleanup:
    json_decref(j_row);
    return rc;
}

bool db_remote(void)
{
    return db_cfg.remote;
}

int db_remote_copy(const char *file, char **err)
{
    if (!db_cfg.remote) {
        *err = strdup("the storage is not a cluster");
        return LINTEL_EPARAM;
    }
    return dqlite_db_copy(file, err);
}

int db_script(struct db *db, const char *sql)
{
    char *zerr = NULL;
    int src;
    int rc = 0;

    db_clearerr(db);
    if (db_cfg.remote)
        return dqlite_db_script(db, sql);
    src = sqlite3_exec(db->handle, sql, NULL, NULL, &zerr);
    if (src != SQLITE_OK)
        rc = db_map_error(db, sqlite3_extended_errcode(db->handle), zerr != NULL ? zerr : "?", sql);
    sqlite3_free(zerr);
    return rc;
}

int db_schema_refresh(void)
{
    return db_cfg.remote ? dqlite_db_schema_sync() : 0;
}
