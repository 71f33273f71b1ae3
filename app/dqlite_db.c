/*
 * The storage layer's calls answered by a dqlite cluster: each statement is checked on a local
 * copy of the schema, then sent to the leader, writes as EXEC and reads as QUERY.
 *
 * Why the schema copy: the wire protocol binds parameters by position only and says nothing of
 * a statement before it runs. Preparing it locally gives db.c's checks unchanged (one statement,
 * no BEGIN/COMMIT, the parameters given match), the names of its parameters, and whether it
 * writes. That decides the request: dqlite 1.11 answers a write sent as QUERY without
 * replicating it (and its leader then crashes), so a write always goes as EXEC, and a write with
 * RETURNING is never sent: it runs as the write plus a read, in one transaction.
 */
#include "cluster_copy.h"
#include "cluster_node.h"
#include "config.h"
#include "db.h"
#include "db_internal.h"
#include "dqlite_client.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A request waits this long for an answer; a leader that died answers nothing. */
#define DQDB_IO_TIMEOUT_MS 5000
/* Statements wait at least this long for a new leader (the election after a crash). */
#define DQDB_FAILOVER_MS 5000
/* The pause between two tries of a write that met another node's transaction */
#define DQDB_BUSY_NAP_MS 2

static struct {
    /*
     * The leader lets one write transaction run at a time and answers any other BEGIN or write
     * with SQLITE_BUSY at once (it cannot wait: it serves every connection from one thread).
     * Threads of this process queue here instead of retrying with naps; writes from other
     * nodes still meet BUSY and are retried.
     */
    pthread_mutex_t write_lock;
    char shadow[PATH_MAX];
    unsigned wait_ms; /* how long a statement waits for the leader or the write lock */
    atomic_uint gen;  /* connection generations: a cached statement id belongs to one */
} dqdb = {.write_lock = PTHREAD_MUTEX_INITIALIZER};

static void dqdb_lock(struct db *db)
{
    if (!db->write_lock) {
        pthread_mutex_lock(&dqdb.write_lock);
        db->write_lock = true;
    }
}

static void dqdb_unlock(struct db *db)
{
    if (db->write_lock) {
        db->write_lock = false;
        pthread_mutex_unlock(&dqdb.write_lock);
    }
}

static long long dqdb_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dqdb_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * The pause before a statement is sent again. Another node's write transaction (BUSY) ends in
 * milliseconds and the node that holds it hands over to its own next writer at once: a short
 * pause gives this node its turn. Without a leader (an election) the pause doubles up to 20 ms.
 */
static long dqdb_next_nap(const struct db *db, long nap)
{
    if (db->remote_busy)
        return DQDB_BUSY_NAP_MS;
    return nap < 20 ? nap * 2 : 20;
}

/* The leader, with the database open and the connection's settings db.c gives its own. */
static int dqdb_leader(struct dqc **out)
{
    char **addrs = NULL;
    size_t n = 0;
    int rc;

    rc = cluster_node_addrs(&addrs, &n) == 0 ? 0 : DQW_ENOMEM;
    if (rc == 0)
        rc = dqc_connect_leader((const char *const *)addrs, n, CLUSTER_DB_NAME, DQDB_IO_TIMEOUT_MS,
                                out);
    cluster_node_addrs_free(addrs, n);
    if (rc == 0) {
        rc = dqc_exec_sql(*out, "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF", NULL, 0);
        if (rc != 0) {
            /* it stopped leading meanwhile: as if it never answered */
            dqc_free(*out);
            *out = NULL;
            rc = DQW_EIO;
        }
    }
    return rc;
}

static int dqdb_connect(struct db *db)
{
    int rc;

    if (db->remote != NULL)
        return 0;
    rc = dqdb_leader(&db->remote);
    if (rc == 0)
        db->remote_gen = atomic_fetch_add(&dqdb.gen, 1) + 1;
    return rc;
}

/* Forgets the connection; the leader rolls back whatever transaction it had open. */
static void dqdb_drop(struct db *db)
{
    dqc_free(db->remote);
    db->remote = NULL;
    if (db->in_tx)
        db->remote_tx_lost = true;
}

void dqlite_db_close(struct db *db)
{
    dqc_free(db->remote);
    db->remote = NULL;
}

void dqlite_db_evict(struct db *db, struct db_stmt *e)
{
    if (db->remote != NULL && e->remote_gen == db->remote_gen &&
        dqc_finalize(db->remote, e->remote_id) != 0 && db->remote != NULL)
        dqdb_drop(db);
}

/*
 * Turns a client status into a LINTEL_E* with db's message. *retry: nothing ran on the leader
 * (no leader, not the leader, the write lock busy), so the same request may be sent again.
 * written: the request may have changed data, so a lost connection leaves its outcome unknown.
 */
static int dqdb_fail(struct db *db, int rc, const char *sql, bool written, bool *retry)
{
    int code;

    *retry = false;
    db->remote_busy = false;
    if (rc == DQW_ENOMEM) {
        db_seterr(db, NULL, "out of memory");
        return LINTEL_ENOMEM;
    }
    if (rc == DQW_EVALUE) {
        db_seterr(db, NULL, "a text value holds a NUL byte, which the cluster cannot store");
        return LINTEL_EPARAM;
    }
    if (rc != DQC_EFAIL || db->remote == NULL) {
        /* The leader went away: a read can go to the next one, a write's fate is unknown. */
        dqdb_drop(db);
        *retry = !written && !db->in_tx;
        db_seterr(db, NULL, "the cluster is unavailable (no leader answered)");
        return LINTEL_EUNAVAIL;
    }
    code = db->remote->fail_code;
    if (code == 12 || code == DQC_NOT_LEADER || code == DQC_LEADERSHIP_LOST)
        log_info("cluster: %s answered %d (%s) to '%.60s'", db->remote->addr, code,
                 db->remote->fail_msg, sql);
    if (code == 12 /* SQLITE_NOTFOUND */) {
        /*
         * "no database opened", "no statement with the given id": the node dropped this
         * connection's state (it lost leadership since, and may lead again). Nothing ran.
         */
        *retry = !db->in_tx;
        dqdb_drop(db);
        db_seterr(db, NULL, "the cluster is changing leader; try again");
        return LINTEL_EUNAVAIL;
    }
    if (code == DQC_NOT_LEADER || code == DQC_LEADERSHIP_LOST) {
        /* Not the leader: refused before running. Leadership lost: it may have committed. */
        *retry = code == DQC_NOT_LEADER && !db->in_tx;
        dqdb_drop(db);
        db_seterr(db, NULL, "the cluster is changing leader; try again");
        return LINTEL_EUNAVAIL;
    }
    if ((code & 0xff) == 5 /* SQLITE_BUSY */ && !db->in_tx)
        *retry = db->remote_busy = true;
    return db_map_error(db, code, db->remote->fail_msg, sql);
}

/* The cached statement's id on the leader, prepared there on first use of this connection. */
static int dqdb_remote_stmt(struct db *db, struct db_stmt *e, const char *sql, bool *retry)
{
    int rc;

    *retry = false;
    if (e->remote_gen == db->remote_gen)
        return 0;
    rc = dqc_prepare(db->remote, sql, &e->remote_id, NULL);
    if (rc != 0)
        return dqdb_fail(db, rc, sql, false, retry);
    e->remote_gen = db->remote_gen;
    return 0;
}

/*
 * The parameters of a prepared statement in the order of its slots (borrowed from j_params):
 * the protocol binds by position, so names are resolved here, as db_bind did.
 */
static int dqdb_params(sqlite3_stmt *stmt, const json_t *j_params, bool blob, json_t ***out,
                       size_t *n)
{
    int count = sqlite3_bind_parameter_count(stmt) - (blob ? 1 : 0); /* the blob is the last */
    json_t **vals;
    int i;

    *out = NULL;
    *n = 0;
    if (count == 0)
        return 0;
    vals = calloc((size_t)count, sizeof(*vals));
    if (vals == NULL)
        return LINTEL_ENOMEM;
    for (i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(stmt, i);
        json_t *j = NULL;

        if (json_is_array(j_params))
            j = json_array_get(j_params, (size_t)i - 1);
        else if (json_is_object(j_params) && name != NULL)
            j = json_object_get(j_params, name + 1);
        vals[i - 1] = j != NULL ? j : json_null();
    }
    *out = vals;
    *n = (size_t)count;
    return 0;
}

struct dqdb_rows {
    struct db *db;
    const char *sql;
    json_t *j_list; /* NULL: rows are not wanted */
    size_t max_rows;
    struct db_blob *blob; /* with blob->out: the first column is bytes, copied there */
};

static int dqdb_on_row(void *arg, size_t ncol, const char *const *names,
                       const struct dqw_value *values)
{
    static const int types[] = {[DQW_INTEGER] = SQLITE_INTEGER,
                                [DQW_FLOAT] = SQLITE_FLOAT,
                                [DQW_TEXT] = SQLITE_TEXT,
                                [DQW_BLOB] = SQLITE_BLOB,
                                [DQW_NULL] = SQLITE_NULL};
    struct dqdb_rows *r = arg;
    json_t *j_row = NULL, *j_value = NULL;
    size_t i;
    int rc = 0;

    if (r->j_list == NULL || (r->max_rows > 0 && json_array_size(r->j_list) >= r->max_rows))
        return 0;
    j_row = json_object();
    if (j_row == NULL)
        return LINTEL_ENOMEM;
    i = 0;
    if (r->blob != NULL && r->blob->out != NULL) {
        i = 1;
        rc = db_blob_take(
            r->db, r->blob, values[0].type == DQW_NULL, values[0].text,
            values[0].type == DQW_BLOB || values[0].type == DQW_TEXT ? values[0].len : 0, r->sql);
    }
    for (; i < ncol && rc == 0; i++) {
        int type =
            values[i].type < (int)(sizeof(types) / sizeof(types[0])) && types[values[i].type] != 0
                ? types[values[i].type]
                : SQLITE_BLOB;
        rc = db_value_json(r->db, names[i], type, (long long)values[i].i, values[i].d,
                           values[i].text, values[i].len, r->sql, &j_value);
        if (rc == 0 && json_object_setn_new(j_row, names[i], db_key_len(names[i]), j_value) != 0)
            rc = db_misuse(r->db, r->sql, "a column name is not valid UTF-8");
        j_value = NULL;
    }
    if (rc == 0 && json_array_append_new(r->j_list, j_row) != 0)
        rc = LINTEL_ENOMEM;
    else if (rc == 0)
        j_row = NULL;
    json_decref(j_row);
    return rc;
}

/* BEGIN IMMEDIATE, COMMIT or ROLLBACK on this thread's connection, once. */
static int dqdb_simple(struct db *db, const char *sql, bool *retry)
{
    int rc;

    *retry = false;
    rc = dqdb_connect(db);
    if (rc != 0)
        return dqdb_fail(db, rc, sql, false, retry);
    rc = dqc_exec_sql(db->remote, sql, NULL, 0);
    return rc != 0 ? dqdb_fail(db, rc, sql, sql[0] == 'C', retry) : 0;
}

/*
 * A statement once: checked and prepared locally, then EXEC (writes, and statements without
 * rows) or QUERY (reads). A write with RETURNING is refused here (dqdb_returning runs it).
 */
static int dqdb_once(struct db *db, const char *sql, const json_t *j_params,
                     const struct db_blob *blob_in, struct dqdb_rows *rows, long long *changes,
                     long long *last_id, bool *retry)
{
    struct dqw_blob bytes = {.p = blob_in != NULL ? blob_in->in : NULL,
                             .len = blob_in != NULL ? blob_in->in_len : 0};
    struct db_stmt *e = NULL;
    json_t **vals = NULL;
    size_t n = 0;
    int64_t chg = 0, id = 0;
    bool reads;
    int rc;

    *retry = false;
    rc = db_stmt_entry(db, sql, false, &e);
    if (rc != 0)
        return rc;
    rc = db_bind(db, e->stmt, sql, j_params, blob_in);
    sqlite3_clear_bindings(e->stmt); /* the check is all the local statement is for */
    if (rc != 0)
        return rc;
    reads = sqlite3_stmt_readonly(e->stmt) && sqlite3_column_count(e->stmt) > 0;
    if (!sqlite3_stmt_readonly(e->stmt) && sqlite3_column_count(e->stmt) > 0)
        return db_misuse(db, sql, "a write with RETURNING reached the cluster");
    rc = dqdb_params(e->stmt, j_params, blob_in != NULL, &vals, &n);
    if (rc != 0) {
        db_seterr(db, NULL, "out of memory");
        return rc;
    }
    rc = dqdb_connect(db);
    if (rc != 0) {
        rc = dqdb_fail(db, rc, sql, false, retry);
        goto cleanup;
    }
    rc = dqdb_remote_stmt(db, e, sql, retry);
    if (rc != 0)
        goto cleanup;
    if (reads) {
        rc = dqc_query(db->remote, e->remote_id, NULL, vals, n, dqdb_on_row, rows);
        if (rc == DQW_EIO || rc == DQW_EPROTO || rc == DQC_EFAIL || rc == DQW_ENOMEM ||
            rc == DQW_EVALUE)
            rc = dqdb_fail(db, rc, sql, false, retry);
        else if (rc == LINTEL_ENOMEM)
            db_seterr(db, NULL, "out of memory");
    } else {
        rc =
            dqc_exec(db->remote, e->remote_id, vals, n, blob_in != NULL ? &bytes : NULL, &id, &chg);
        if (rc != 0)
            rc = dqdb_fail(db, rc, sql, true, retry);
        if (changes != NULL)
            *changes = sqlite3_stmt_readonly(e->stmt) ? 0 : (long long)chg;
        if (last_id != NULL)
            *last_id = (long long)id;
    }
cleanup:
    free(vals);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* RETURNING as a write plus a read                                                           */

struct dqdb_split {
    enum { DQ_INSERT, DQ_UPDATE, DQ_DELETE } verb;
    size_t ret;      /* offset of the top-level RETURNING */
    size_t where;    /* offset after the top-level WHERE of the write, or 0 */
    char table[160]; /* the table as written (quotes kept) */
};

/* Length of the token at s (a word, a quoted name, or one character), comments skipped before. */
static const char *dqdb_skip_blank(const char *s)
{
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (s[0] == '-' && s[1] == '-') {
            while (*s != '\0' && *s != '\n')
                s++;
        } else if (s[0] == '/' && s[1] == '*') {
            const char *end = strstr(s + 2, "*/");
            s = end != NULL ? end + 2 : s + strlen(s);
        } else {
            return s;
        }
    }
}

static size_t dqdb_token(const char *s)
{
    char close = 0;
    size_t i = 1;

    if (*s == '\0')
        return 0;
    if (*s == '\'' || *s == '"' || *s == '`' || *s == '[') {
        close = *s == '[' ? ']' : *s;
        while (s[i] != '\0') {
            if (s[i] == close && s[i + 1] == close && close != ']') {
                i += 2;
                continue;
            }
            if (s[i++] == close)
                break;
        }
        return i;
    }
    if (isalnum((unsigned char)*s) || *s == '_') {
        i = 0;
        while (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$')
            i++;
        return i;
    }
    return 1;
}

static bool dqdb_is(const char *tok, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(tok, word, len) == 0;
}

/* Finds the verb, the table, the top-level WHERE and RETURNING of a write; -1 if unsupported. */
static int dqdb_split_sql(const char *sql, struct dqdb_split *sp)
{
    const char *p = dqdb_skip_blank(sql);
    const char *tok;
    size_t len, tlen;
    int depth = 0;

    memset(sp, 0, sizeof(*sp));
    len = dqdb_token(p);
    if (dqdb_is(p, len, "INSERT") || dqdb_is(p, len, "REPLACE"))
        sp->verb = DQ_INSERT;
    else if (dqdb_is(p, len, "UPDATE"))
        sp->verb = DQ_UPDATE;
    else if (dqdb_is(p, len, "DELETE"))
        sp->verb = DQ_DELETE;
    else
        return -1; /* WITH ... : not supported */
    /* The table: after INSERT [OR x] INTO, UPDATE [OR x], DELETE FROM. */
    for (;;) {
        p = dqdb_skip_blank(p + len);
        len = dqdb_token(p);
        if (len == 0)
            return -1;
        if (dqdb_is(p, len, "OR")) {
            p = dqdb_skip_blank(p + len);
            len = dqdb_token(p);
            continue;
        }
        if (dqdb_is(p, len, "INTO") || dqdb_is(p, len, "FROM"))
            continue;
        break;
    }
    tok = p;
    tlen = len;
    /* schema.table */
    if (p[len] == '.') {
        size_t more = dqdb_token(p + len + 1);
        tlen = len + 1 + more;
        len = tlen;
    }
    if (tlen >= sizeof(sp->table))
        return -1;
    memcpy(sp->table, tok, tlen);
    sp->table[tlen] = '\0';
    for (p = p + len; *p != '\0'; p += len) {
        p = dqdb_skip_blank(p);
        len = dqdb_token(p);
        if (len == 0)
            break;
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (depth == 0 && dqdb_is(p, len, "WHERE") && sp->ret == 0)
            sp->where = (size_t)(p + len - sql);
        else if (depth == 0 && dqdb_is(p, len, "RETURNING"))
            sp->ret = (size_t)(p - sql);
        else if (depth == 0 && sp->verb != DQ_INSERT && sp->ret == 0 &&
                 (dqdb_is(p, len, "FROM") || dqdb_is(p, len, "ORDER") || dqdb_is(p, len, "LIMIT")))
            return -1; /* UPDATE ... FROM, ORDER BY, LIMIT: not supported */
    }
    return sp->ret > 0 ? 0 : -1;
}

/* The parameters of j_params that sub (a statement made from part of the text) uses. */
static json_t *dqdb_sub_params(sqlite3_stmt *sub, const json_t *j_params)
{
    int count = sqlite3_bind_parameter_count(sub);
    json_t *j_out;
    int i;

    if (count == 0 || j_params == NULL)
        return NULL;
    if (json_is_array(j_params)) {
        j_out = json_array();
        for (i = 0; j_out != NULL && i < count; i++)
            if (json_array_append(j_out, json_array_get(j_params, (size_t)i)) != 0) {
                json_decref(j_out);
                j_out = NULL;
            }
        return j_out;
    }
    j_out = json_object();
    for (i = 1; j_out != NULL && i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(sub, i);
        json_t *j = name != NULL ? json_object_get(j_params, name + 1) : NULL;
        if (j != NULL && json_object_set(j_out, name + 1, j) != 0) {
            json_decref(j_out);
            j_out = NULL;
        }
    }
    return j_out;
}

/* Runs sub with the part of j_params it uses (rows into r). */
static int dqdb_sub(struct db *db, const char *sub, const json_t *j_params, struct dqdb_rows *r,
                    bool *retry)
{
    struct db_stmt *e = NULL;
    json_t *j_sub = NULL;
    int rc;

    rc = db_stmt_entry(db, sub, false, &e);
    if (rc != 0)
        return rc;
    j_sub = dqdb_sub_params(e->stmt, j_params);
    rc = dqdb_once(db, sub, j_sub, NULL, r, NULL, NULL, retry);
    json_decref(j_sub);
    return rc;
}

/*
 * "INSERT/UPDATE/DELETE ... RETURNING cols" as EXEC of the write and QUERY of cols, inside the
 * caller's transaction or one of its own, so that nothing changes the rows in between:
 * INSERT: the rows inserted are the rowids last_id - changes + 1 .. last_id (one statement
 * under the write lock takes consecutive rowids); UPDATE: the rowids its WHERE matches, read
 * before, the values after; DELETE: the values read before.
 */
static int dqdb_returning(struct db *db, const char *sql, const json_t *j_params,
                          const struct db_blob *blob_in, struct dqdb_rows *rows, bool *retry)
{
    struct dqdb_split sp;
    struct dqdb_rows ids = {.db = db, .sql = sql, .max_rows = 0};
    char *body = NULL, *pre = NULL, *post = NULL;
    const char *cols;
    json_t *j_ids = NULL, *j_p = NULL;
    long long changes = 0, last_id = 0;
    bool own_tx = false, r2;
    int rc;

    *retry = false;
    if (dqdb_split_sql(sql, &sp) != 0)
        return db_misuse(db, sql, "this form of RETURNING is not supported with storage dqlite");
    cols = sql + sp.ret + strlen("RETURNING");
    body = strndup(sql, sp.ret);
    if (body == NULL)
        goto nomem;
    if (sp.verb == DQ_INSERT) {
        if (asprintf(&post,
                     "SELECT %s FROM %s WHERE rowid > ?1 - ?2 AND rowid <= ?1 ORDER BY rowid", cols,
                     sp.table) < 0)
            post = NULL;
    } else if (sp.verb == DQ_UPDATE) {
        if (asprintf(&pre, "SELECT rowid AS rid FROM %s WHERE %.*s", sp.table,
                     sp.where > 0 ? (int)(sp.ret - sp.where) : 1,
                     sp.where > 0 ? sql + sp.where : "1") < 0)
            pre = NULL;
        if (asprintf(&post,
                     "SELECT %s FROM %s WHERE rowid IN (SELECT value FROM json_each(?1))"
                     " ORDER BY rowid",
                     cols, sp.table) < 0)
            post = NULL;
    } else {
        if (asprintf(&pre, "SELECT %s FROM %s WHERE %.*s", cols, sp.table,
                     sp.where > 0 ? (int)(sp.ret - sp.where) : 1,
                     sp.where > 0 ? sql + sp.where : "1") < 0)
            pre = NULL;
    }
    if ((sp.verb != DQ_DELETE && post == NULL) || (sp.verb != DQ_INSERT && pre == NULL))
        goto nomem;

    if (!db->in_tx) {
        rc = dqdb_simple(db, "BEGIN IMMEDIATE", retry);
        if (rc != 0)
            goto cleanup;
        own_tx = true;
    }
    if (sp.verb == DQ_UPDATE) {
        ids.j_list = j_ids = json_array();
        if (j_ids == NULL)
            goto nomem;
        rc = dqdb_sub(db, pre, j_params, &ids, &r2);
    } else if (sp.verb == DQ_DELETE) {
        rc = dqdb_sub(db, pre, j_params, rows, &r2);
    } else {
        rc = 0;
    }
    if (rc == 0)
        rc = dqdb_once(db, body, j_params, blob_in, NULL, &changes, &last_id, &r2);
    if (rc == 0 && sp.verb == DQ_INSERT) {
        j_p = json_pack("[II]", (json_int_t)last_id, (json_int_t)changes);
        rc = j_p != NULL ? dqdb_once(db, post, j_p, NULL, rows, NULL, NULL, &r2) : LINTEL_ENOMEM;
    } else if (rc == 0 && sp.verb == DQ_UPDATE) {
        json_t *j_rids = json_array();
        size_t i;
        for (i = 0; j_rids != NULL && i < json_array_size(j_ids); i++)
            json_array_append(j_rids, json_object_get(json_array_get(j_ids, i), "rid"));
        j_p = j_rids != NULL ? json_pack("[o]", j_rids) : NULL;
        rc = j_p != NULL ? dqdb_once(db, post, j_p, NULL, rows, NULL, NULL, &r2) : LINTEL_ENOMEM;
    }
    if (rc == 0 && own_tx) {
        own_tx = false;
        rc = dqdb_simple(db, "COMMIT", &r2);
    }
    goto cleanup;
nomem:
    db_seterr(db, NULL, "out of memory");
    rc = LINTEL_ENOMEM;
cleanup:
    if (own_tx && db->remote != NULL) {
        char keep[sizeof(db->errmsg)];

        memcpy(keep, db->errmsg, sizeof(keep));
        if (dqdb_simple(db, "ROLLBACK", &r2) != 0)
            dqdb_drop(db);
        memcpy(db->errmsg, keep, sizeof(keep));
    }
    json_decref(j_ids);
    json_decref(j_p);
    free(body);
    free(pre);
    free(post);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */

/* Whether sql writes, and whether it also returns rows (checked on the schema copy). */
static int dqdb_is_returning(struct db *db, const char *sql, bool *writes, bool *returning)
{
    struct db_stmt *e = NULL;
    int rc = db_stmt_entry(db, sql, false, &e);

    *writes = rc == 0 && !sqlite3_stmt_readonly(e->stmt);
    *returning = *writes && sqlite3_column_count(e->stmt) > 0;
    return rc;
}

int dqlite_db_run(struct db *db, const char *sql, const json_t *j_params, struct db_blob *blob,
                  size_t max_rows, json_t **j_rows, long long *changes, long long *last_id)
{
    const struct db_blob *blob_in = blob != NULL && blob->out == NULL ? blob : NULL;
    struct dqdb_rows rows = {.db = db, .sql = sql, .max_rows = max_rows, .blob = blob};
    long long deadline = dqdb_now_ms() + dqdb.wait_ms;
    long nap = 1;
    bool retry = false, returning = false, writes = false;
    int rc;

    if (db->in_tx && db->remote_tx_lost) {
        db_seterr(db, NULL, "the transaction was lost with the connection to the leader");
        return LINTEL_EUNAVAIL;
    }
    rc = dqdb_is_returning(db, sql, &writes, &returning);
    if (rc == LINTEL_EINTERNAL && dqlite_db_schema_sync() == 0) {
        /* Another node may have migrated the schema since this one copied it: once more. */
        rc = dqdb_is_returning(db, sql, &writes, &returning);
    }
    if (rc != 0)
        return rc;
    if (writes && !db->in_tx)
        dqdb_lock(db);
    for (;;) {
        if (j_rows != NULL) {
            rows.j_list = json_array();
            if (rows.j_list == NULL) {
                db_seterr(db, NULL, "out of memory");
                return LINTEL_ENOMEM;
            }
        }
        if (returning)
            rc = dqdb_returning(db, sql, j_params, blob_in, &rows, &retry);
        else
            rc = dqdb_once(db, sql, j_params, blob_in, &rows, changes, last_id, &retry);
        if (rc != 0 && blob != NULL && blob->out != NULL && *blob->out != NULL) {
            free(*blob->out); /* a copy taken before a later failure */
            *blob->out = NULL;
        }
        if (rc == 0 || !retry || dqdb_now_ms() >= deadline)
            break;
        json_decref(rows.j_list);
        rows.j_list = NULL;
        dqdb_sleep_ms(nap);
        nap = dqdb_next_nap(db, nap);
    }
    if (!db->in_tx)
        dqdb_unlock(db);
    if (rc == 0 && j_rows != NULL) {
        *j_rows = rows.j_list;
        rows.j_list = NULL;
    }
    json_decref(rows.j_list);
    return rc;
}

static int dqdb_tx(struct db *db, const char *sql)
{
    long long deadline = dqdb_now_ms() + dqdb.wait_ms;
    bool begin = sql[0] == 'B', retry = false;
    long nap = 1;
    int rc;

    if (!begin && db->remote_tx_lost) {
        db->remote_tx_lost = false;
        if (sql[0] == 'R')
            return 0; /* the leader rolled it back when the connection closed */
        db_seterr(db, NULL, "the transaction was lost with the connection to the leader");
        return LINTEL_EUNAVAIL;
    }
    if (sql[0] == 'R' && db->remote == NULL)
        return 0;
    db->remote_tx_lost = false;
    for (;;) {
        rc = dqdb_simple(db, sql, &retry);
        if (rc == 0 || !begin || !retry || dqdb_now_ms() >= deadline)
            break;
        dqdb_sleep_ms(nap);
        nap = dqdb_next_nap(db, nap);
    }
    if (rc != 0 && sql[0] == 'C' && db->remote != NULL) {
        /* A COMMIT refused (a deferred foreign key): the transaction must not stay open. */
        char keep[sizeof(db->errmsg)];
        memcpy(keep, db->errmsg, sizeof(keep));
        if (dqdb_simple(db, "ROLLBACK", &retry) != 0)
            dqdb_drop(db);
        memcpy(db->errmsg, keep, sizeof(keep));
    }
    if (rc != 0 && sql[0] == 'R') {
        dqdb_drop(db);
        rc = 0;
    }
    db->remote_tx_lost = false;
    return rc;
}

int dqlite_db_tx(struct db *db, const char *sql)
{
    int rc;

    if (sql[0] == 'B')
        dqdb_lock(db);
    rc = dqdb_tx(db, sql);
    /* held from BEGIN to COMMIT or ROLLBACK */
    if (sql[0] != 'B' || rc != 0)
        dqdb_unlock(db);
    return rc;
}

int dqlite_db_script(struct db *db, const char *sql)
{
    bool retry;
    int rc;

    if (db->remote == NULL || !db->in_tx)
        return db_misuse(db, sql, "a script runs inside db_begin .. db_commit");
    rc = dqc_exec_sql(db->remote, sql, NULL, 0);
    /* the log names the failure, not the whole script */
    return rc != 0 ? dqdb_fail(db, rc, "(a script)", true, &retry) : 0;
}

int dqlite_db_health(void)
{
    struct db *db = NULL;
    json_t *j_row = NULL;
    int rc;

    rc = db_thread(&db);
    if (rc == 0)
        /* a statement that reads the database: the leader answers it, not the schema copy */
        rc = db_row(db, "SELECT count(*) AS ok FROM sqlite_schema", NULL, &j_row);
    json_decref(j_row);
    return rc != 0 ? LINTEL_EUNAVAIL : 0;
}

int dqlite_db_copy(const char *file, char **err)
{
    char **addrs = NULL;
    char from[160];
    size_t n = 0;
    int rc;

    *err = NULL;
    if (cluster_node_addrs(&addrs, &n) != 0)
        return LINTEL_ENOMEM;
    rc = cluster_copy((const char *const *)addrs, n, file, from, sizeof(from), err);
    cluster_node_addrs_free(addrs, n);
    if (rc != 0)
        return *err != NULL ? LINTEL_EUNAVAIL : LINTEL_ENOMEM;
    log_info("cluster: a copy of the database in %s, from %s", file, from);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The schema copy                                                                            */

static int dqdb_schema_row(void *arg, size_t ncol, const char *const *names,
                           const struct dqw_value *values)
{
    (void)names;
    if (ncol != 2 || values[0].type != DQW_TEXT || values[1].type != DQW_TEXT)
        return 0;
    return json_array_append_new(arg, json_pack("[ss]", values[0].text, values[1].text)) == 0
               ? 0
               : LINTEL_ENOMEM;
}

/* Local objects (new reference: [name, sql] in creation order), as the cluster's are read. */
static json_t *dqdb_local_schema(sqlite3 *h)
{
    sqlite3_stmt *st = NULL;
    json_t *j_objs = json_array();

    if (j_objs == NULL ||
        sqlite3_prepare_v2(h,
                           "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name"
                           " NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(j_objs);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            j_objs, json_pack("[ss]", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    return j_objs;
}

/*
 * Makes the copy hold exactly the cluster's schema: when anything differs (a migration added,
 * altered or dropped something), every table and view is dropped and all is created again in
 * the cluster's order, in one transaction. The copy never holds rows, so this is cheap.
 */
int dqlite_db_schema_sync(void)
{
    struct dqc *c = NULL;
    sqlite3 *h = NULL;
    json_t *j_objs = json_array(), *j_local = NULL, *j_o;
    char *sql = NULL;
    size_t i;
    int rc;

    if (j_objs == NULL)
        return LINTEL_ENOMEM;
    rc = dqdb_leader(&c);
    if (rc == 0)
        rc = dqc_query(c, 0,
                       "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
                       " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
                       NULL, 0, dqdb_schema_row, j_objs);
    if (rc != 0) {
        log_error("cluster: cannot read the schema: %s", dqc_strerror(c, rc));
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    if (sqlite3_open_v2(dqdb.shadow, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        (j_local = dqdb_local_schema(h)) == NULL) {
        log_error("cluster: cannot open the schema copy %s: %s", dqdb.shadow,
                  h != NULL ? sqlite3_errmsg(h) : "out of memory");
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    if (json_equal(j_local, j_objs))
        goto cleanup;
    sqlite3_busy_timeout(h, 5000);
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    /* Tables and views; a table takes its indexes and triggers along. */
    json_array_foreach(j_local, i, j_o) {
        const char *text = json_string_value(json_array_get(j_o, 1));
        bool view = strncasecmp(text, "CREATE VIEW", 11) == 0;
        if (!view && strncasecmp(text, "CREATE TABLE", 12) != 0 &&
            strncasecmp(text, "CREATE VIRTUAL", 14) != 0)
            continue;
        sql = sqlite3_mprintf("DROP %s IF EXISTS \"%w\"", view ? "VIEW" : "TABLE",
                              json_string_value(json_array_get(j_o, 0)));
        if (sql == NULL || sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
        sqlite3_free(sql);
        sql = NULL;
    }
    /* In creation order; a virtual table's own tables exist once it does. */
    json_array_foreach(j_objs, i, j_o) {
        const char *name = json_string_value(json_array_get(j_o, 0));
        sqlite3_stmt *st = NULL;
        bool have;

        if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_schema WHERE name = ?1", -1, &st, NULL) !=
            SQLITE_OK)
            goto fail;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        have = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!have && sqlite3_exec(h, json_string_value(json_array_get(j_o, 1)), NULL, NULL, NULL) !=
                         SQLITE_OK)
            goto fail;
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        goto cleanup;
fail:
    log_error("cluster: the schema copy cannot follow the cluster's: %s", sqlite3_errmsg(h));
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    rc = LINTEL_EUNAVAIL;
cleanup:
    sqlite3_free(sql);
    sqlite3_close(h);
    dqc_free(c);
    json_decref(j_objs);
    json_decref(j_local);
    return rc;
}

/*
 * lintel_data_file() as the nodes have it: NULL, always. On one node that migration function
 * imports files of older releases (migrate_files.c); a cluster's database starts empty or from
 * a restored copy whose files were imported before (docs/cluster.md), so there is none.
 */
static void dqdb_no_file(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_null(ctx);
}

static int dqdb_no_files_init(sqlite3 *h, char **err, const struct sqlite3_api_routines *api)
{
    (void)err;
    (void)api;
    return sqlite3_create_function(h, "lintel_data_file", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                   dqdb_no_file, NULL, NULL);
}

int dqlite_db_global_init(const struct config *cfg, const char *shadow_path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[PATH_MAX + 16];
    char *err = NULL;
    size_t i;
    int rc;

    snprintf(dqdb.shadow, sizeof(dqdb.shadow), "%s", shadow_path);
    dqdb.wait_ms = cfg->busy_timeout > DQDB_FAILOVER_MS ? cfg->busy_timeout : DQDB_FAILOVER_MS;
    /* The copy is made anew from the cluster at each start. */
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", shadow_path, suffixes[i]);
        if (unlink(path) != 0 && errno != ENOENT) {
            log_error("cluster: cannot remove %s: %s", path, strerror(errno));
            return LINTEL_EUNAVAIL;
        }
    }
    if (sqlite3_auto_extension((void (*)(void))dqdb_no_files_init) != SQLITE_OK)
        return LINTEL_EINTERNAL;
    rc = cluster_node_start(cfg, &err);
    if (rc != 0) {
        log_error("%s", err != NULL ? err : "cluster: the node cannot start");
        free(err);
        return rc;
    }
    return dqlite_db_schema_sync();
}

void dqlite_db_global_release(void)
{
    cluster_node_stop();
}
