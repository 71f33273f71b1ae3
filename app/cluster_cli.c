/*
 * `lintel cluster ...`: status and members as a member sees them, leadership transfer, member
 * removal, a consistent copy from a follower (DUMP) and a new cluster started from such a copy.
 */
#include "cluster_cli.h"

#include "cluster_copy.h"
#include "cluster_node.h"
#include "config.h"
#include "dqlite_client.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <lintel/plugin.h>
#include <lintel_ext.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Restore sends rows as SQL text in batches of about this size, one transaction each. */
#define CLUSTER_RESTORE_BATCH (1u << 20)

static int cluster_cli_usage(void)
{
    fprintf(stderr,
            "usage: lintel cluster status           this node's role, the leader, the members\n"
            "       lintel cluster members          id, address and role of each member\n"
            "       lintel cluster transfer ID      hand leadership to member ID\n"
            "       lintel cluster remove ID        take member ID out of the cluster\n"
            "       lintel cluster dump FILE        a consistent copy, read from a follower,\n"
            "                                       that opens in sqlite3\n"
            "       lintel cluster restore FILE     start a new cluster (node 1, empty data_dir)\n"
            "                                       holding FILE's data\n"
            "The members are found at cluster_bind and cluster_join (docs/cluster.md).\n");
    return 2;
}

/* The configured addresses: cluster_bind first, then cluster_join's. */
static size_t cluster_cli_addrs(const struct config *cfg, char *buf, size_t size,
                                const char **addrs, size_t max)
{
    size_t n = 0;
    char *save = NULL, *tok;

    if (cfg->cluster_bind != NULL && n < max)
        addrs[n++] = cfg->cluster_bind;
    snprintf(buf, size, "%s", cfg->cluster_join != NULL ? cfg->cluster_join : "");
    for (tok = strtok_r(buf, ", ", &save); tok != NULL && n < max;
         tok = strtok_r(NULL, ", ", &save))
        addrs[n++] = tok;
    return n;
}

int cluster_info(const char *addr, json_t **j_info)
{
    struct dqc *c = NULL;
    json_t *j_members = NULL, *j_m;
    char *leader = NULL;
    const char *role = "spare";
    uint64_t leader_id = 0;
    size_t i;
    int rc;

    *j_info = NULL;
    rc = dqc_connect(addr, 2000, &c);
    if (rc == 0)
        rc = dqc_leader(c, &leader_id, &leader);
    if (rc == 0)
        rc = dqc_cluster(c, &j_members);
    if (rc != 0)
        goto cleanup;
    json_array_foreach(j_members, i, j_m) {
        if (strcmp(json_string_value(json_object_get(j_m, "address")), addr) != 0)
            continue;
        role = json_string_value(json_object_get(j_m, "role"));
        if (strcmp(role, "voter") == 0)
            role = (uint64_t)json_integer_value(json_object_get(j_m, "id")) == leader_id
                       ? "leader"
                       : "follower";
    }
    *j_info =
        json_pack("{ss so* so}", "role", role, "leader",
                  leader[0] != '\0' ? json_string(leader) : json_null(), "members", j_members);
    j_members = NULL;
    rc = *j_info != NULL ? 0 : DQW_ENOMEM;
cleanup:
    json_decref(j_members);
    free(leader);
    dqc_free(c);
    return rc;
}

/* The first configured member that answers, and its address. */
static int cluster_cli_any(const struct config *cfg, struct dqc **c)
{
    char buf[2048];
    const char *addrs[16];
    size_t n = cluster_cli_addrs(cfg, buf, sizeof(buf), addrs, 16), i;
    int rc = DQW_EIO;

    *c = NULL;
    for (i = 0; i < n && *c == NULL; i++)
        rc = dqc_connect(addrs[i], 2000, c);
    return *c != NULL ? 0 : rc;
}

static int cluster_cli_leader(const struct config *cfg, struct dqc **c)
{
    char buf[2048];
    const char *addrs[16];
    size_t n = cluster_cli_addrs(cfg, buf, sizeof(buf), addrs, 16);

    return dqc_connect_leader(addrs, n, NULL, 2000, c);
}

static int cluster_cli_status(const struct config *cfg, bool table)
{
    struct dqc *c = NULL;
    json_t *j_info = NULL, *j_m;
    char *text;
    size_t i;
    int rc;

    rc = cluster_cli_any(cfg, &c);
    if (rc == 0)
        rc = cluster_info(c->addr, &j_info);
    if (rc != 0) {
        fprintf(stderr, "lintel cluster: no member answers at cluster_bind or cluster_join\n");
        dqc_free(c);
        return 1;
    }
    if (!table) {
        json_object_set_new(j_info, "node", json_string(c->addr));
        text = json_dumps(j_info, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
    } else {
        const char *leader = json_string_value(json_object_get(j_info, "leader"));
        printf("%-20s %-24s %s\n", "id", "address", "role");
        json_array_foreach(json_object_get(j_info, "members"), i, j_m) {
            const char *addr = json_string_value(json_object_get(j_m, "address"));
            printf("%-20lld %-24s %s%s\n",
                   (long long)json_integer_value(json_object_get(j_m, "id")), addr,
                   json_string_value(json_object_get(j_m, "role")),
                   leader != NULL && strcmp(leader, addr) == 0 ? " (leader)" : "");
        }
    }
    json_decref(j_info);
    dqc_free(c);
    return 0;
}

static int cluster_cli_change(const struct config *cfg, const char *what, const char *arg)
{
    struct dqc *c = NULL;
    char *end = NULL;
    unsigned long long id;
    int rc;

    errno = 0;
    id = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || id == 0) {
        fprintf(stderr, "lintel cluster %s: '%s' is not a member id\n", what, arg);
        return 2;
    }
    rc = cluster_cli_leader(cfg, &c);
    if (rc != 0) {
        fprintf(stderr, "lintel cluster %s: no leader answers (%s)\n", what, dqc_strerror(c, rc));
        return 1;
    }
    rc = what[0] == 't' ? dqc_transfer(c, id) : dqc_remove(c, id);
    if (rc != 0)
        fprintf(stderr, "lintel cluster %s %llu: %s\n", what, id, dqc_strerror(c, rc));
    else
        printf("%s %llu: done\n", what[0] == 't' ? "leadership handed to" : "removed member", id);
    dqc_free(c);
    return rc == 0 ? 0 : 1;
}

int cluster_cli_copy(const struct config *cfg, const char *file, char *from, size_t fsize,
                     char **err)
{
    char buf[2048];
    const char *addrs[16];
    size_t n = cluster_cli_addrs(cfg, buf, sizeof(buf), addrs, 16);

    return cluster_copy(addrs, n, file, from, fsize, err);
}

static int cluster_cli_dump(const struct config *cfg, const char *file)
{
    char from[160] = "";
    char *err = NULL;

    if (access(file, F_OK) == 0) {
        fprintf(stderr, "lintel cluster dump: %s exists; name a new file\n", file);
        return 2;
    }
    if (cluster_cli_copy(cfg, file, from, sizeof(from), &err) != 0) {
        fprintf(stderr, "lintel cluster dump: %s\n", err != NULL ? err : "out of memory");
        free(err);
        return 1;
    }
    printf("dump: %s written from %s\n", file, from);
    return 0;
}

/* Appends text to the batch; sends the batch in its own transaction once it is large. */
static int cluster_cli_send(struct dqc *c, char **batch, size_t *len, const char *text, bool flush)
{
    size_t tl = text != NULL ? strlen(text) : 0;
    char *p;
    int rc = 0;

    if (tl > 0) {
        p = realloc(*batch, *len + tl + 1);
        if (p == NULL)
            return DQW_ENOMEM;
        memcpy(p + *len, text, tl + 1);
        *batch = p;
        *len += tl;
    }
    if (*len > 0 && (flush || *len >= CLUSTER_RESTORE_BATCH)) {
        rc = dqc_exec_sql(c, "BEGIN IMMEDIATE", NULL, 0);
        if (rc == 0)
            rc = dqc_exec_sql(c, *batch, NULL, 0);
        if (rc == 0)
            rc = dqc_exec_sql(c, "COMMIT", NULL, 0);
        *len = 0;
    }
    return rc;
}

/*
 * The rows of table t of h as INSERT statements (quote() keeps every value exact, BLOBs as
 * X'..'), sent in batches.
 */
static int cluster_cli_copy_table(sqlite3 *h, struct dqc *c, const char *t, char **batch,
                                  size_t *len)
{
    sqlite3_stmt *st = NULL;
    char *cols = NULL, *vals = NULL, *sql = NULL;
    int rc = 0;

    /* "col1","col2" and quote("col1") || ',' || quote("col2") */
    sql = sqlite3_mprintf("WITH c(q) AS (SELECT '\"' || replace(name, '\"', '\"\"') || '\"' FROM"
                          " pragma_table_info(%Q)) SELECT group_concat(q, ','),"
                          " group_concat('quote(' || q || ')', ' || '','' || ') FROM c",
                          t);
    if (sql == NULL || sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL)
        goto fail;
    cols = sqlite3_mprintf("%s", sqlite3_column_text(st, 0));
    vals = sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    st = NULL;
    sqlite3_free(sql);
    sql = sqlite3_mprintf("SELECT 'INSERT OR REPLACE INTO ' || %Q || '(' || %Q || ') VALUES(' ||"
                          " %s || ');' FROM \"%w\"",
                          t, cols, vals, t);
    if (sql == NULL || sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        rc = cluster_cli_send(c, batch, len, (const char *)sqlite3_column_text(st, 0), false);
    goto done;
fail:
    fprintf(stderr, "lintel cluster restore: table %s: %s\n", t, sqlite3_errmsg(h));
    rc = DQW_EPROTO;
done:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_free(cols);
    sqlite3_free(vals);
    return rc;
}

/* Sends the first column of every row of sql (statements with their ';'), then flushes. */
static int cluster_cli_send_rows(sqlite3 *h, struct dqc *c, const char *sql, char **batch,
                                 size_t *len, bool tables)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "lintel cluster restore: %s\n", sqlite3_errmsg(h));
        return DQW_EPROTO;
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        rc = tables ? cluster_cli_copy_table(h, c, text, batch, len)
                    : cluster_cli_send(c, batch, len, text, false);
    }
    sqlite3_finalize(st);
    return rc == 0 ? cluster_cli_send(c, batch, len, NULL, true) : rc;
}

/* A virtual table's own tables (FTS5's _data, _idx, ...): it makes them, rows are copied. */
#define CLUSTER_SHADOW                                                                             \
    "(SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow')"

/*
 * The schema and rows in the order restore sends them: tables, then their rows, then indexes,
 * views and triggers (so no trigger fires on a copied row).
 */
static const struct {
    const char *sql;
    bool tables; /* each row names a table whose rows are copied, not a statement */
} cluster_restore_steps[] = {
    {"SELECT sql || ';' FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL AND name NOT"
     " LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN " CLUSTER_SHADOW " ORDER BY rowid",
     false},
    {"SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND"
     " name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
     true},
    {"SELECT sql || ';' FROM sqlite_schema WHERE type IN ('index', 'view', 'trigger') AND sql IS"
     " NOT NULL AND tbl_name NOT IN " CLUSTER_SHADOW " ORDER BY rowid",
     false},
};

/*
 * The copy in h into the new cluster: cluster_restore_steps, then the AUTOINCREMENT counters
 * as they were (ids are never handed out twice) and user_version.
 */
static int cluster_cli_restore_into(sqlite3 *h, struct dqc *c)
{
    sqlite3_stmt *st = NULL;
    char *batch = NULL, *text = NULL;
    size_t len = 0, i;
    int rc;

    rc = dqc_exec_sql(c, "PRAGMA foreign_keys=OFF", NULL, 0);
    for (i = 0; rc == 0 && i < sizeof(cluster_restore_steps) / sizeof(cluster_restore_steps[0]);
         i++)
        rc = cluster_cli_send_rows(h, c, cluster_restore_steps[i].sql, &batch, &len,
                                   cluster_restore_steps[i].tables);
    if (rc == 0 &&
        sqlite3_exec(h, "SELECT 1 FROM sqlite_sequence", NULL, NULL, NULL) == SQLITE_OK) {
        rc = cluster_cli_send(c, &batch, &len, "DELETE FROM sqlite_sequence;", false);
        if (rc == 0)
            rc = cluster_cli_copy_table(h, c, "sqlite_sequence", &batch, &len);
    }
    if (rc == 0 && sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        text = sqlite3_mprintf("PRAGMA user_version=%d;", sqlite3_column_int(st, 0));
        rc = text != NULL ? cluster_cli_send(c, &batch, &len, text, false) : DQW_ENOMEM;
    }
    if (rc == 0)
        rc = cluster_cli_send(c, &batch, &len, NULL, true);
    sqlite3_finalize(st);
    sqlite3_free(text);
    free(batch);
    return rc;
}

static int cluster_cli_restore(const struct config *cfg, const char *file)
{
    char path[PATH_MAX];
    struct dqc *c = NULL;
    struct stat sb;
    sqlite3 *h = NULL;
    char *err = NULL;
    const char *addr = cfg->cluster_bind;
    int rc;

    if (cfg->cluster_id != 1 || cfg->cluster_join != NULL) {
        fprintf(stderr, "lintel cluster restore: run it as node 1 (cluster_id 1, no "
                        "cluster_join): a new cluster starts there\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/cluster", cfg->data_dir);
    if (stat(path, &sb) == 0) {
        fprintf(stderr,
                "lintel cluster restore: %s exists: a new cluster starts from an "
                "empty data_dir\n",
                path);
        return 2;
    }
    if (sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "lintel cluster restore: %s is not a database: %s\n", file,
                h != NULL ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return 1;
    }
    rc = cluster_node_start(cfg, &err);
    if (rc == 0)
        rc = dqc_connect_leader(&addr, 1, CLUSTER_DB_NAME, 10000, &c);
    if (rc == 0)
        rc = cluster_cli_restore_into(h, c);
    if (rc != 0)
        fprintf(stderr, "lintel cluster restore: %s\n", err != NULL ? err : dqc_strerror(c, rc));
    else
        printf("restore: %s loaded into the new cluster's node 1 (%s); start it with lintel "
               "serve\n",
               file, cfg->data_dir);
    free(err);
    dqc_free(c);
    sqlite3_close(h);
    cluster_node_stop();
    return rc == 0 ? 0 : 1;
}

int cluster_cli_main(int argc, char **argv, const struct config *cfg)
{
    const char *cmd = argc >= 2 ? argv[1] : "";

    if (strcmp(cfg->storage, "dqlite") != 0 || cfg->cluster_bind == NULL) {
        fprintf(stderr, "lintel cluster: storage is not dqlite (set LINTEL_STORAGE=dqlite and "
                        "the cluster_* settings: docs/cluster.md)\n");
        return 2;
    }
    /* The functions of the extension for every copy this opens (dump, restore). */
    sqlite3_auto_extension((void (*)(void))sqlite3_lintel_init);
    if (argc == 2 && strcmp(cmd, "status") == 0)
        return cluster_cli_status(cfg, false);
    if (argc == 2 && strcmp(cmd, "members") == 0)
        return cluster_cli_status(cfg, true);
    if (argc == 3 && (strcmp(cmd, "transfer") == 0 || strcmp(cmd, "remove") == 0))
        return cluster_cli_change(cfg, cmd, argv[2]);
    if (argc == 3 && strcmp(cmd, "dump") == 0)
        return cluster_cli_dump(cfg, argv[2]);
    if (argc == 3 && strcmp(cmd, "restore") == 0)
        return cluster_cli_restore(cfg, argv[2]);
    return cluster_cli_usage();
}
