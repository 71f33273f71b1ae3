/*
 * This process's dqlite node: dqlite_node_* to start it (node 1 bootstraps, the others join
 * through the leader as voters), the addresses to find the leader at, and a stop that hands
 * leadership over first so that the survivors need no election timeout.
 */
#include "cluster_node.h"

#include "config.h"
#include "dqlite_client.h"
#include "fmt.h"
#include "log.h"

#include <dqlite.h>
#include <errno.h>
#include <limits.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLUSTER_START_S   30 /* how long a start waits for a leader, or to be added */
#define CLUSTER_ADDRS_MAX 16

static struct {
    pthread_mutex_t lock;
    dqlite_node *node;
    uint64_t id;
    char bind[128];
    char *addrs[CLUSTER_ADDRS_MAX]; /* bind first, then the join list, then learnt members */
    size_t naddrs;
    bool client_only;
} cluster_node = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void cluster_node_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long long cluster_node_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds addr to the list unless it is there (the lock is held). */
static void cluster_node_add_addr(const char *addr)
{
    size_t i;
    char *copy;

    if (addr == NULL || addr[0] == '\0' || cluster_node.naddrs >= CLUSTER_ADDRS_MAX)
        return;
    for (i = 0; i < cluster_node.naddrs; i++)
        if (strcmp(cluster_node.addrs[i], addr) == 0)
            return;
    copy = strdup(addr);
    if (copy != NULL)
        cluster_node.addrs[cluster_node.naddrs++] = copy;
}

void cluster_node_learn(const char *const *addrs, size_t n)
{
    size_t i;

    pthread_mutex_lock(&cluster_node.lock);
    for (i = 0; i < n; i++)
        cluster_node_add_addr(addrs[i]);
    pthread_mutex_unlock(&cluster_node.lock);
}

int cluster_node_addrs(char ***addrs, size_t *n)
{
    char **list;
    size_t i;
    int rc = 0;

    *addrs = NULL;
    *n = 0;
    pthread_mutex_lock(&cluster_node.lock);
    list = calloc(cluster_node.naddrs + 1, sizeof(*list));
    for (i = 0; list != NULL && i < cluster_node.naddrs; i++) {
        list[i] = strdup(cluster_node.addrs[i]);
        if (list[i] == NULL) {
            cluster_node_addrs_free(list, i);
            list = NULL;
        }
    }
    if (list != NULL) {
        *addrs = list;
        *n = cluster_node.naddrs;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&cluster_node.lock);
    return rc;
}

void cluster_node_addrs_free(char **addrs, size_t n)
{
    size_t i;

    for (i = 0; addrs != NULL && i < n; i++)
        free(addrs[i]);
    free(addrs);
}

void cluster_node_client_only(void)
{
    cluster_node.client_only = true;
}

uint64_t cluster_node_id(void)
{
    return cluster_node.id;
}

const char *cluster_node_address(void)
{
    return cluster_node.bind;
}

/* A connection to the leader (no database open), found through the known addresses. */
static int cluster_node_leader(struct dqc **out)
{
    char **addrs = NULL;
    size_t n = 0;
    int rc;

    rc = cluster_node_addrs(&addrs, &n);
    if (rc == 0)
        rc = dqc_connect_leader((const char *const *)addrs, n, NULL, 1000, out);
    cluster_node_addrs_free(addrs, n);
    return rc;
}

/*
 * One attempt to make this node a voter: the leader lists the members; a node not among them
 * is added (as a spare, dqlite's way), and a member that is not a voter is promoted. 1 when
 * this node is a voter now, 0 to try again, or a status.
 */
static int cluster_node_join_once(void)
{
    struct dqc *c = NULL;
    json_t *j_members = NULL, *j_m;
    const char *role = NULL;
    size_t i;
    int rc;

    rc = cluster_node_leader(&c);
    if (rc == 0)
        rc = dqc_cluster(c, &j_members);
    if (rc != 0)
        goto cleanup;
    json_array_foreach(j_members, i, j_m) {
        if ((uint64_t)json_integer_value(json_object_get(j_m, "id")) == cluster_node.id)
            role = json_string_value(json_object_get(j_m, "role"));
        cluster_node_learn(
            (const char *const[]){json_string_value(json_object_get(j_m, "address"))}, 1);
    }
    if (role != NULL && strcmp(role, "voter") == 0) {
        rc = 1;
        goto cleanup;
    }
    if (role == NULL) {
        rc = dqc_add(c, cluster_node.id, cluster_node.bind);
        if (rc != 0) {
            log_info("cluster: the leader did not add node %llu yet: %s",
                     (unsigned long long)cluster_node.id, dqc_strerror(c, rc));
            goto cleanup;
        }
    }
    rc = dqc_assign(c, cluster_node.id, DQC_VOTER);
    if (rc != 0)
        log_info("cluster: the leader did not make node %llu a voter yet: %s",
                 (unsigned long long)cluster_node.id, dqc_strerror(c, rc));
    rc = rc == 0 ? 1 : 0;
cleanup:
    json_decref(j_members);
    dqc_free(c);
    return rc < 0 ? 0 : rc;
}

/* Until this node is a voter of a cluster with a leader, or CLUSTER_START_S pass. */
static int cluster_node_wait(char **err)
{
    long long deadline = cluster_node_now_ms() + CLUSTER_START_S * 1000LL;

    while (cluster_node_now_ms() < deadline) {
        if (cluster_node.client_only) {
            struct dqc *c = NULL;
            if (cluster_node_leader(&c) == 0) {
                dqc_free(c);
                return 0;
            }
        } else if (cluster_node_join_once() == 1) {
            return 0;
        }
        cluster_node_sleep_ms(100);
    }
    *err = fmt_alloc("cluster: node %llu found no leader to join within %d s (cluster_join: "
                     "the members' Raft addresses)",
                     (unsigned long long)cluster_node.id, CLUSTER_START_S);
    return LINTEL_EUNAVAIL;
}

/* <data_dir>/cluster, owner only: the Raft log and snapshots. */
static int cluster_node_dir(const struct config *cfg, char *dir, size_t size)
{
    if (snprintf(dir, size, "%s/cluster", cfg->data_dir) >= (int)size)
        return -1;
    /* data_dir itself exists when the server runs (db.c made it); restore may come first */
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int cluster_node_start(const struct config *cfg, char **err)
{
    char dir[PATH_MAX];
    char *list = NULL, *save = NULL, *tok;
    int rv;
    int rc = LINTEL_EUNAVAIL;

    *err = NULL;
    cluster_node.id = (uint64_t)cfg->cluster_id;
    snprintf(cluster_node.bind, sizeof(cluster_node.bind), "%s", cfg->cluster_bind);
    cluster_node_add_addr(cluster_node.bind);
    if (cfg->cluster_join != NULL) {
        list = strdup(cfg->cluster_join);
        if (list == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
            cluster_node_add_addr(tok);
    }
    if (cluster_node.client_only) {
        rc = cluster_node_wait(err);
        goto cleanup;
    }
    if (cluster_node_dir(cfg, dir, sizeof(dir)) != 0) {
        *err = fmt_alloc("cluster: cannot create %s/cluster: %s", cfg->data_dir, strerror(errno));
        goto cleanup;
    }
    rv = dqlite_node_create(cluster_node.id, cluster_node.bind, dir, &cluster_node.node);
    if (rv == 0)
        rv = dqlite_node_set_bind_address(cluster_node.node, cluster_node.bind);
    /*
     * Raft's timing follows from the latency dqlite is told: heartbeats every 1.5x, an election
     * after 15x to 30x of silence (docs/cluster.md "Failover": what bounds the failover gap).
     */
    if (rv == 0)
        rv = dqlite_node_set_network_latency_ms(cluster_node.node, cfg->cluster_latency_ms);
    if (rv == 0)
        rv = dqlite_node_start(cluster_node.node);
    if (rv != 0) {
        *err = fmt_alloc("cluster: node %llu cannot start on %s: %s",
                         (unsigned long long)cluster_node.id, cluster_node.bind,
                         cluster_node.node != NULL ? dqlite_node_errmsg(cluster_node.node)
                                                   : "out of memory");
        if (cluster_node.node != NULL)
            dqlite_node_destroy(cluster_node.node);
        cluster_node.node = NULL;
        goto cleanup;
    }
    log_info("cluster: node %llu started on %s (data %s)", (unsigned long long)cluster_node.id,
             cluster_node.bind, dir);
    rc = cluster_node_wait(err);
cleanup:
    free(list);
    return rc;
}

/* When this node leads, asks it to hand leadership to the most up-to-date voter. */
static void cluster_node_hand_over(void)
{
    struct dqc *c = NULL;
    json_t *j_members = NULL, *j_m;
    size_t i, voters = 0;
    char *leader = NULL;
    uint64_t id = 0;
    int rc;

    rc = dqc_connect(cluster_node.bind, 2000, &c);
    if (rc == 0)
        rc = dqc_leader(c, &id, &leader);
    if (rc == 0 && id == cluster_node.id && dqc_cluster(c, &j_members) == 0) {
        json_array_foreach(j_members, i, j_m)
            voters += strcmp(json_string_value(json_object_get(j_m, "role")), "voter") == 0;
    }
    if (voters > 1) {
        rc = dqc_transfer(c, 0); /* 0: Raft picks the voter */
        if (rc == 0)
            log_info("cluster: leadership handed over before stopping");
        else
            log_warn("cluster: leadership not handed over: %s", dqc_strerror(c, rc));
    }
    json_decref(j_members);
    free(leader);
    dqc_free(c);
}

void cluster_node_stop(void)
{
    size_t i;

    if (cluster_node.node != NULL) {
        cluster_node_hand_over();
        dqlite_node_stop(cluster_node.node);
        dqlite_node_destroy(cluster_node.node);
        cluster_node.node = NULL;
        log_info("cluster: node %llu stopped", (unsigned long long)cluster_node.id);
    }
    pthread_mutex_lock(&cluster_node.lock);
    for (i = 0; i < cluster_node.naddrs; i++)
        free(cluster_node.addrs[i]);
    cluster_node.naddrs = 0;
    pthread_mutex_unlock(&cluster_node.lock);
}
