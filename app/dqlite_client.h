/*
 * A client of a dqlite cluster over its wire protocol: connecting to a node, finding the leader,
 * statements (PREPARE, EXEC, QUERY, EXEC_SQL) and the cluster's management requests.
 */
#ifndef LINTEL_APP_DQLITE_CLIENT_H
#define LINTEL_APP_DQLITE_CLIENT_H

#include "dqlite_wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Status: 0, a DQW_E* (the connection is unusable), or this: the node answered FAILURE. */
#define DQC_EFAIL (-1010)

/* SQLite's extended codes dqlite answers with when the node does not (or no longer) lead. */
#define DQC_NOT_LEADER         (10 | (40 << 8))
#define DQC_LEADERSHIP_LOST    (10 | (41 << 8))
#define DQC_DEFAULT_TIMEOUT_MS 5000

/* Roles in CLUSTER answers and ASSIGN requests. */
enum { DQC_VOTER = 0, DQC_STANDBY = 1, DQC_SPARE = 2 };

struct dqc {
    int fd;
    char addr[128];     /* the node this connection is to */
    bool db_open;       /* OPEN was answered: statements may follow */
    int fail_code;      /* FAILURE's code (SQLite's extended code, or dqlite's) */
    char fail_msg[256]; /* FAILURE's message */
    struct dqw_out out; /* the request being written */
    struct dqw_in in;   /* the last response */
};

/* Connects to addr ("host:port"), sends the protocol version; timeout_ms bounds each I/O. */
int dqc_connect(const char *addr, unsigned timeout_ms, struct dqc **out);
void dqc_free(struct dqc *c);

/* The leader as this node knows it: id 0 and "" when it knows none. addr is malloc'd. */
int dqc_leader(struct dqc *c, uint64_t *id, char **addr);

/*
 * A connection to the current leader with database name open, found through any of addrs (n of
 * them): each is asked who leads and the leader is asked again to confirm. DQW_EIO when none
 * knows a leader that answers.
 */
int dqc_connect_leader(const char *const *addrs, size_t n, const char *name, unsigned timeout_ms,
                       struct dqc **out);

int dqc_open(struct dqc *c, const char *name);
int dqc_prepare(struct dqc *c, const char *sql, uint32_t *stmt_id, uint64_t *nparams);
int dqc_finalize(struct dqc *c, uint32_t stmt_id);
/*
 * EXEC of a prepared statement with n parameters and, when blob is not NULL, those bytes as
 * one more; last_id and changes may be NULL.
 */
int dqc_exec(struct dqc *c, uint32_t stmt_id, json_t *const *params, size_t n,
             const struct dqw_blob *blob, int64_t *last_id, int64_t *changes);
/* EXEC_SQL: sql may hold several statements; parameters bind the first. */
int dqc_exec_sql(struct dqc *c, const char *sql, json_t *const *params, size_t n);

/*
 * Rows of a QUERY (stmt_id) or QUERY_SQL (sql): every batch is read; on_row gets each row's
 * column names and values (borrowed for the call) and returns 0 or stops with its own status.
 */
typedef int (*dqc_row_fn)(void *arg, size_t ncol, const char *const *names,
                          const struct dqw_value *values);
int dqc_query(struct dqc *c, uint32_t stmt_id, const char *sql, json_t *const *params, size_t n,
              dqc_row_fn on_row, void *arg);

/* The members: a new array of {"id", "address", "role"} with role "voter|standby|spare". */
int dqc_cluster(struct dqc *c, json_t **j_members);
int dqc_add(struct dqc *c, uint64_t id, const char *addr);
int dqc_assign(struct dqc *c, uint64_t id, int role);
int dqc_remove(struct dqc *c, uint64_t id);
int dqc_transfer(struct dqc *c, uint64_t id);
/*
 * DUMP of database name as this node holds it: each file (the database, its WAL) written to
 * dir/<its name>; at most max bytes in all.
 */
int dqc_dump(struct dqc *c, const char *name, const char *dir, size_t max);

/* A message for a status of these functions (the node's own on DQC_EFAIL). */
const char *dqc_strerror(const struct dqc *c, int rc);

#endif /* LINTEL_APP_DQLITE_CLIENT_H */
