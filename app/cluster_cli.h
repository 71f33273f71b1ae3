/*
 * `lintel cluster status|members|transfer ID|remove ID|dump FILE|restore FILE`: a dqlite
 * cluster's state and management from the command line, through any member.
 */
#ifndef LINTEL_APP_CLUSTER_CLI_H
#define LINTEL_APP_CLUSTER_CLI_H

#include <jansson.h>
#include <stddef.h>

struct config;

/* argv[0] is "cluster". Returns the process exit status; messages go to stderr. */
int cluster_cli_main(int argc, char **argv, const struct config *cfg);

/*
 * What /health shows of the cluster, asked of the node at addr: {"id", "role", "leader",
 * "members": [{id, address, role}]}; role is "leader", "follower", "standby" or "spare".
 */
int cluster_info(const char *addr, json_t **j_info);

/*
 * A consistent copy of the cluster's database into file (cluster_copy.h), the members found at
 * cfg's cluster_bind and cluster_join; from names the member it came from. 0, or -1 with *err
 * (malloc'd).
 */
int cluster_cli_copy(const struct config *cfg, const char *file, char *from, size_t fsize,
                     char **err);

#endif /* LINTEL_APP_CLUSTER_CLI_H */
