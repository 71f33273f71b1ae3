/*
 * This process's dqlite node: started with the node's id, Raft address and data directory,
 * joined to the cluster when it is new, and stopped handing leadership over first.
 */
#ifndef LINTEL_APP_CLUSTER_NODE_H
#define LINTEL_APP_CLUSTER_NODE_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* The database's name inside dqlite. */
#define CLUSTER_DB_NAME "lintel.db"

/*
 * Starts the node (data under <data_dir>/cluster) and, on a node that is not yet a member,
 * asks the leader through cluster_join to add it as a voter. Waits until a leader is known.
 */
int cluster_node_start(const struct config *cfg, char **err);

/*
 * For the command-line tools (user, keys, migrate, ...): cluster_node_start starts no node, it
 * only finds the cluster through cluster_bind and cluster_join (the server's node runs there).
 */
void cluster_node_client_only(void);

/* Hands leadership to another voter if this node leads, then stops the node. */
void cluster_node_stop(void);

/*
 * The addresses to look for the leader at: this node's, the join list's and the members last
 * seen; each a malloc'd string in a malloc'd array (free with cluster_node_addrs_free).
 */
int cluster_node_addrs(char ***addrs, size_t *n);
void cluster_node_addrs_free(char **addrs, size_t n);
/* Remembers the members' addresses (a CLUSTER answer) for later leader searches. */
void cluster_node_learn(const char *const *addrs, size_t n);

uint64_t cluster_node_id(void);
const char *cluster_node_address(void);

#endif /* LINTEL_APP_CLUSTER_NODE_H */
