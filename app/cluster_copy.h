/*
 * A consistent copy of a dqlite cluster's database as one SQLite file: what `lintel cluster
 * dump`, the migrations' snapshot and reports, and `lintel shell` read on a cluster.
 */
#ifndef LINTEL_APP_CLUSTER_COPY_H
#define LINTEL_APP_CLUSTER_COPY_H

#include <stddef.h>

/*
 * Writes the copy to file (which must not exist; mode 0600), found through the members at
 * addrs: DUMP from a follower that has the leader's schema (the leader itself only when no
 * follower does). from (fsize bytes) names the member it came from. 0, or -1 with *err set
 * (malloc'd).
 */
int cluster_copy(const char *const *addrs, size_t n, const char *file, char *from, size_t fsize,
                 char **err);

#endif /* LINTEL_APP_CLUSTER_COPY_H */
