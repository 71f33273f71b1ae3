/*
 * Live events across a dqlite cluster. A node's sockets are its own, but a write may be served
 * by any node: so a published event is inserted into cluster_events (replicated like every
 * row, and inside the publishing request's transaction when one is open: an event of a write
 * that rolls back is never seen), and each node's poller reads the rows after the last one it
 * saw every CLUSTER_EVENTS_POLL_MS and delivers them to its sockets. Rows older than
 * CLUSTER_EVENTS_KEEP_S go; a node that was down does not replay what it missed (as a single
 * node does not replay events to a socket that was closed).
 */
#include "cluster_events.h"

#include "db.h"
#include "events.h"
#include "log.h"

#include <jansson.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define CLUSTER_EVENTS_POLL_MS 100
#define CLUSTER_EVENTS_KEEP_S  60
#define CLUSTER_EVENTS_BATCH   "500"

static struct {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    long long last_id;
} cluster_events;

static long long cluster_events_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cluster_events_relay(long long user_id, const char *text, size_t len, const char *scope)
{
    struct db *db = NULL;
    int rc;

    rc = db_thread(&db);
    if (rc != 0)
        return rc;
    rc = db_execf(
        db, "INSERT INTO cluster_events (user_id, text, scope, at_ms) VALUES (?1, ?2, ?3, ?4)",
        NULL, "[Is%s*I]", (json_int_t)user_id, text, len, scope,
        (json_int_t)cluster_events_now_ms());
    if (rc != 0)
        log_warn("cluster: an event was not published: %s",
                 rc == LINTEL_ENOMEM ? "out of memory" : db_errmsg(db));
    return rc;
}

/* One poll: the new rows to this node's sockets; now and then, old rows out. */
static void cluster_events_poll(struct db *db, unsigned tick)
{
    json_t *j_rows = NULL, *j_params = NULL, *j_row;
    size_t i;

    j_params = json_pack("[I]", (json_int_t)cluster_events.last_id);
    if (j_params != NULL &&
        db_query(db,
                 "SELECT id, user_id, text, scope FROM cluster_events WHERE id > ?1"
                 " ORDER BY id LIMIT " CLUSTER_EVENTS_BATCH,
                 j_params, &j_rows) == 0) {
        json_array_foreach(j_rows, i, j_row) {
            const json_t *j_text = json_object_get(j_row, "text");
            events_deliver(json_integer_value(json_object_get(j_row, "user_id")),
                           json_string_value(j_text), json_string_length(j_text),
                           json_string_value(json_object_get(j_row, "scope")));
            cluster_events.last_id = json_integer_value(json_object_get(j_row, "id"));
        }
    }
    json_decref(j_rows);
    json_decref(j_params);
    if (tick % (10000 / CLUSTER_EVENTS_POLL_MS) == 0)
        db_execf(db, "DELETE FROM cluster_events WHERE at_ms < ?1", NULL, "[I]",
                 (json_int_t)(cluster_events_now_ms() - CLUSTER_EVENTS_KEEP_S * 1000));
}

static void *cluster_events_main(void *arg)
{
    struct timespec nap = {.tv_nsec = CLUSTER_EVENTS_POLL_MS * 1000000L};
    struct db *db = NULL;
    unsigned tick = 0;

    (void)arg;
    while (!atomic_load(&cluster_events.stop)) {
        if (db != NULL || db_thread(&db) == 0)
            cluster_events_poll(db, ++tick);
        nanosleep(&nap, NULL);
    }
    return NULL;
}

int cluster_events_start(void)
{
    struct db *db = NULL;
    json_t *j_row = NULL;
    int rc;

    rc = db_thread(&db);
    if (rc == 0)
        rc = db_exec(db,
                     "CREATE TABLE IF NOT EXISTS cluster_events (id INTEGER PRIMARY KEY, user_id"
                     " INTEGER NOT NULL, text TEXT NOT NULL, scope TEXT, at_ms INTEGER NOT NULL)",
                     NULL, NULL, NULL);
    if (rc == 0)
        rc = db_schema_refresh();
    /* From now on: events published before this node started were for sockets elsewhere. */
    if (rc == 0)
        rc = db_row(db, "SELECT coalesce(max(id), 0) AS id FROM cluster_events", NULL, &j_row);
    if (rc != 0) {
        log_error("cluster: live events cannot start: %s", db != NULL ? db_errmsg(db) : "");
        goto cleanup;
    }
    cluster_events.last_id = json_integer_value(json_object_get(j_row, "id"));
    atomic_store(&cluster_events.stop, false);
    if (pthread_create(&cluster_events.thread, NULL, cluster_events_main, NULL) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    cluster_events.running = true;
    events_set_relay(cluster_events_relay);
cleanup:
    json_decref(j_row);
    return rc;
}

void cluster_events_stop(void)
{
    events_set_relay(NULL);
    if (!cluster_events.running)
        return;
    atomic_store(&cluster_events.stop, true);
    pthread_join(cluster_events.thread, NULL);
    cluster_events.running = false;
}
