/*
 * A consistent copy of a dqlite cluster's database: DUMP (the database file and its WAL as a
 * node holds them, always a committed state) from a follower that has the leader's schema,
 * folded into one SQLite file with VACUUM INTO.
 */
#include "cluster_copy.h"

#include "cluster_node.h"
#include "dqlite_client.h"
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <lintel_ext.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A dump holds the whole database in one message: it is as large as the database may be. */
#define CLUSTER_DUMP_MAX ((size_t)8 << 30)

/* What a copy must agree on with the leader: the schema (names in creation order). */
#define CLUSTER_FINGERPRINT                                                                        \
    "SELECT coalesce((SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema"         \
    " ORDER BY rowid)), '') AS f"

/* The fingerprint's room (the in-tree schema's is about 1.7 KB). */
#define CLUSTER_FP_SIZE 4096

/* The leader's fingerprint into arg (CLUSTER_FP_SIZE bytes); one cut short is refused. */
static int cluster_copy_fp_row(void *arg, size_t ncol, const char *const *names,
                               const struct dqw_value *values)
{
    int n;

    (void)names;
    if (ncol != 1 || values[0].type != DQW_TEXT)
        return 0;
    /* a cut fingerprint would match no copy: "more than allowed" rather than a silent cut */
    n = snprintf(arg, CLUSTER_FP_SIZE, "%s", values[0].text);
    return n >= 0 && n < CLUSTER_FP_SIZE ? 0 : DQW_EPROTO;
}

/* Whether the copy in dir has the leader's schema: a node that restarted and has not yet
 * applied the log would give an older state. */
static bool cluster_copy_fresh(const char *dir, const char *want)
{
    char path[PATH_MAX];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    bool same = false;

    snprintf(path, sizeof(path), "%s/%s", dir, CLUSTER_DB_NAME);
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, CLUSTER_FINGERPRINT, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *have = (const char *)sqlite3_column_text(st, 0); /* NULL: out of memory */

        same = have != NULL && strcmp(have, want) == 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    /* the next copy written here must not meet this one's WAL index */
    snprintf(path, sizeof(path), "%s/%s-shm", dir, CLUSTER_DB_NAME);
    unlink(path);
    return same;
}

/* DUMP from a follower (the leader only when no follower gives a current copy) into dir. */
static int cluster_copy_files(const char *const *addrs, size_t naddrs, const char *dir, char *from,
                              size_t fsize)
{
    struct dqc *c = NULL, *n = NULL;
    json_t *j_members = NULL, *j_m;
    char *want = NULL;
    const char *leader;
    size_t i;
    int pass, rc;

    want = calloc(1, CLUSTER_FP_SIZE);
    rc = want != NULL ? dqc_connect_leader(addrs, naddrs, NULL, 2000, &c) : DQW_ENOMEM;
    if (rc == 0)
        rc = dqc_open(c, CLUSTER_DB_NAME);
    if (rc == 0)
        rc = dqc_query(c, 0, CLUSTER_FINGERPRINT, NULL, 0, cluster_copy_fp_row, want);
    if (rc == 0)
        rc = dqc_cluster(c, &j_members);
    if (rc != 0)
        goto cleanup;
    leader = c->addr;
    rc = DQW_EIO;
    for (pass = 0; pass < 2 && rc != 0; pass++) {
        json_array_foreach(j_members, i, j_m) {
            const char *addr = json_string_value(json_object_get(j_m, "address"));
            bool is_leader = strcmp(addr, leader) == 0;
            if (rc == 0 || is_leader != (pass == 1) ||
                strcmp(json_string_value(json_object_get(j_m, "role")), "voter") != 0)
                continue;
            if (dqc_connect(addr, 10000, &n) != 0)
                continue;
            rc = dqc_dump(n, CLUSTER_DB_NAME, dir, CLUSTER_DUMP_MAX);
            if (rc == 0 && !cluster_copy_fresh(dir, want)) {
                fprintf(stderr, "lintel cluster: %s has not caught up; trying another\n", addr);
                rc = DQW_EIO;
            }
            if (rc == 0)
                snprintf(from, fsize, "%s%s", addr,
                         is_leader ? " (the leader: no follower gave a current copy)" : "");
            dqc_free(n);
            n = NULL;
        }
    }
cleanup:
    json_decref(j_members);
    free(want);
    dqc_free(c);
    return rc;
}

int cluster_copy(const char *const *addrs, size_t n, const char *file, char *from, size_t fsize,
                 char **err)
{
    char dir[] = "/tmp/lintel-dump-XXXXXX";
    char path[PATH_MAX];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *err = NULL;
    if (access(file, F_OK) == 0) {
        *err = fmt_alloc("%s exists; name a new file", file);
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        *err = fmt_alloc("cannot make a temporary directory: %s", strerror(errno));
        return -1;
    }
    if (cluster_copy_files(addrs, n, dir, from, fsize) != 0) {
        *err = fmt_alloc("no member gave a copy");
        goto cleanup;
    }
    /* The copy is the database and its WAL: SQLite folds them into one file with VACUUM INTO. */
    snprintf(path, sizeof(path), "%s/%s", dir, CLUSTER_DB_NAME);
    /* the schema's CHECKs and views name the extension's functions */
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_lintel_init(h, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE) {
        *err = fmt_alloc("the copy does not open: %s",
                         h != NULL ? sqlite3_errmsg(h) : "out of memory");
        goto cleanup;
    }
    chmod(file, 0600);
    rc = 0;
cleanup:
    sqlite3_finalize(st);
    sqlite3_close(h);
    snprintf(path, sizeof(path), "%s/%s", dir, CLUSTER_DB_NAME);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s-wal", dir, CLUSTER_DB_NAME);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s-shm", dir, CLUSTER_DB_NAME);
    unlink(path);
    rmdir(dir);
    return rc;
}
