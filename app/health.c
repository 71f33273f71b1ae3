/*
 * The core's JSON routes GET /health (liveness and database) and GET /api/auth/jwks (public
 * verification keys); core_routes.c registers them with the others.
 */
#include "health.h"

#include "access_log.h"
#include "auth.h"
#include "cluster_cli.h"
#include "cluster_node.h"
#include "config.h"
#include "db.h"
#include "host_api.h"
#include "http_error.h"
#include "json_out.h"
#include "plugin_loader.h"
#include "server.h"

#include <lintel/version.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *health_plugins(void)
{
    json_t *j_list = json_array();
    size_t i;

    for (i = 0; j_list != NULL && i < plugin_loader_count(); i++) {
        const struct lintel_plugin *p = plugin_loader_get(i);
        json_array_append_new(j_list, json_pack("{ss ss}", "name", p->name, "version",
                                                p->version != NULL ? p->version : ""));
    }
    return j_list;
}

/*
 * Load balancers poll /health hard, and each database probe opens a read transaction (file
 * locks). A good answer is reused for HEALTH_CACHE_MS; a bad one never is, so a database that
 * breaks shows within that time and one that recovers shows at once.
 */
#define HEALTH_CACHE_MS 1000

static atomic_llong health_ok_until_ms;

static bool health_db_ok(void)
{
    struct timespec now;
    long long now_ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (now_ms < atomic_load(&health_ok_until_ms))
        return true;
    if (db_health() != 0) {
        atomic_store(&health_ok_until_ms, 0);
        return false;
    }
    atomic_store(&health_ok_until_ms, now_ms + HEALTH_CACHE_MS);
    return true;
}

/*
 * The reply's text without uptime_s: everything else in it is fixed once the plugins are
 * loaded, so it is serialized once and each reply only prints the number between the halves.
 */
static char *health_head, *health_tail;
static size_t health_head_len, health_tail_len;

static void health_text_init(void)
{
    json_t *j_version = json_string(LINTEL_VERSION), *j_plugins = health_plugins();
    char *version = NULL, *plugins = NULL;
    size_t vlen, plen;

    if (j_version == NULL || j_plugins == NULL || json_out_dump(j_version, &version, &vlen) != 0 ||
        json_out_dump(j_plugins, &plugins, &plen) != 0)
        goto cleanup;
    if (asprintf(&health_head, "{\"status\":\"ok\",\"version\":%s,\"uptime_s\":", version) < 0)
        health_head = NULL;
    if (asprintf(&health_tail, ",\"db\":\"ok\",\"plugins\":%s}", plugins) < 0)
        health_tail = NULL;
    health_head_len = health_head != NULL ? strlen(health_head) : 0;
    health_tail_len = health_tail != NULL ? strlen(health_tail) : 0;
cleanup:
    free(version);
    free(plugins);
    json_decref(j_version);
    json_decref(j_plugins);
}

/* The JSON reply of a healthy server, or LINTEL_ENOMEM. */
static int health_reply_fast(lintel_res *res)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    char num[24], *body = NULL;
    size_t nlen;
    int rc = LINTEL_ENOMEM;

    pthread_once(&once, health_text_init);
    if (health_head == NULL || health_tail == NULL)
        goto cleanup;
    nlen = access_log_utoa((unsigned long long)server_uptime(), num);
    body = malloc(health_head_len + nlen + health_tail_len);
    if (body == NULL)
        goto cleanup;
    memcpy(body, health_head, health_head_len);
    memcpy(body + health_head_len, num, nlen);
    memcpy(body + health_head_len + nlen, health_tail, health_tail_len);
    rc = host_api()->res_bytes(res, 200, "application/json", body,
                               health_head_len + nlen + health_tail_len);
cleanup:
    free(body);
    return rc;
}

int health_handler(lintel_req *req, lintel_res *res, void *state)
{
    const struct lintel_api *api = host_api();
    bool db_ok = health_db_ok();
    json_t *j_body = NULL, *j_cluster = NULL;
    int rc = LINTEL_ENOMEM;

    (void)state;
    if (!db_ok) {
        rc = api->res_error(res, LINTEL_EUNAVAIL, NULL, "The database is not usable.");
        goto cleanup;
    }
    if (strcmp(req->cfg->envelope, "jsend") != 0 && !db_remote()) {
        rc = health_reply_fast(res);
        goto cleanup;
    }
    j_body = json_pack("{ss ss sI ss so}", "status", "ok", "version", LINTEL_VERSION, "uptime_s",
                       (json_int_t)server_uptime(), "db", "ok", "plugins", health_plugins());
    /* storage dqlite: this node's role, the leader and the members (docs/cluster.md) */
    if (j_body != NULL && db_remote() && cluster_info(cluster_node_address(), &j_cluster) == 0)
        json_object_set_new(j_body, "cluster", j_cluster);
    if (j_body != NULL)
        rc = api->res_json(res, 200, j_body);
cleanup:
    json_decref(j_body);
    return rc;
}

int health_jwks_handler(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_jwks = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    (void)req;
    (void)state;
    rc = auth_jwks(&j_jwks);
    if (rc != 0)
        goto cleanup;
    /* A JWK Set as RFC 7517 defines it, never wrapped in JSend: key-fetching clients parse it. */
    if (json_out_dump(j_jwks, &text, &len) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = host_api()->res_bytes(res, 200, "application/json", text, len);
cleanup:
    free(text);
    json_decref(j_jwks);
    return rc;
}
