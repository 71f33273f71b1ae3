/*
 * Live events across a dqlite cluster. A node's sockets are its own, but a write may be served
 * by any node: so a published event is inserted into cluster_events (replicated like every
 * row, and inside the publishing request's transaction when one is open: an event of a write
 * that rolls back is never seen), and each node's poller reads the rows after the last one it
 * saw every CLUSTER_EVENTS_POLL_MS and delivers them to its sockets. Rows older than
 * CLUSTER_EVENTS_KEEP_S go; a node that was down does not replay what it missed (as a single
 * node does not replay events to a socket that was closed).
 *
 * An event published outside a transaction (its write has committed) is not a write of its own:
 * it joins a queue, one publisher inserts all that is queued as one statement while the others
 * wait for it (group commit), and each returns once its event is in. Every Raft commit costs a
 * round trip to a majority, so concurrent writers share one for their events instead of
 * queueing for one each; waiting keeps a client's sequential requests' events in their order.
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
/* Queued events beyond this are refused (the leader is away for long): memory stays bounded. */
#define CLUSTER_EVENTS_QUEUE_MAX 4096

static struct {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    long long last_id;
    /* the queue: [[user_id, text, scope, at_ms], ...], guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t done; /* a batch was inserted */
    json_t *j_queue;
    bool flushing;                   /* a publisher is inserting a batch */
    unsigned long long queued_batch; /* the batch that events queued now belong to (from 1) */
    unsigned long long done_batch;   /* the last batch inserted or given up on */
} cluster_events = {.lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static long long cluster_events_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline of ms from now for pthread_cond_timedwait (CLOCK_REALTIME, its default). */
static struct timespec cluster_events_deadline(long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Events ([[user_id, text, scope, at_ms], ...]) as rows, in one statement. */
static int cluster_events_insert(struct db *db, const json_t *j_events)
{
    char *text = json_dumps(j_events, JSON_COMPACT);
    int rc;

    rc = text != NULL ? db_execf(db, NULL,
                                 "INSERT INTO cluster_events (user_id, text, scope, at_ms)"
                                 " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3"
                                 " FROM json_each(?1)",
                                 "s", text)
                      : LINTEL_ENOMEM;
    if (rc != 0)
        log_warn("cluster: %zu event(s) were not published: %s", json_array_size(j_events),
                 rc == LINTEL_ENOMEM ? "out of memory" : db_errmsg(db));
    free(text);
    return rc;
}

/* The queued events as one INSERT; the lock is held on entry and on return, not during it. */
static void cluster_events_flush(struct db *db)
{
    json_t *j_batch = cluster_events.j_queue, *j_empty = json_array();
    unsigned long long batch;

    if (j_empty == NULL) {
        log_warn("cluster: %zu event(s) were not published: out of memory",
                 json_array_size(j_batch));
        json_array_clear(j_batch);
        cluster_events.done_batch = cluster_events.queued_batch++;
        pthread_cond_broadcast(&cluster_events.done);
        return;
    }
    cluster_events.j_queue = j_empty;
    batch = cluster_events.queued_batch++;
    cluster_events.flushing = true;
    pthread_mutex_unlock(&cluster_events.lock);
    cluster_events_insert(db, j_batch);
    json_decref(j_batch);
    pthread_mutex_lock(&cluster_events.lock);
    cluster_events.flushing = false;
    cluster_events.done_batch = batch;
    pthread_cond_broadcast(&cluster_events.done);
}

/*
 * Queues an event (stolen) and returns once it is inserted: the first publisher to find no insert
 * running inserts everything queued, the others wait for it (and the next one takes what
 * was queued meanwhile).
 */
static int cluster_events_enqueue(struct db *db, json_t *j_ev)
{
    struct timespec until = cluster_events_deadline(10000);
    unsigned long long batch;
    int rc = 0;

    pthread_mutex_lock(&cluster_events.lock);
    if (json_array_size(cluster_events.j_queue) >= CLUSTER_EVENTS_QUEUE_MAX) {
        json_decref(j_ev);
        rc = LINTEL_EUNAVAIL;
    } else if (json_array_append_new(cluster_events.j_queue, j_ev) != 0)
        rc = LINTEL_ENOMEM;
    j_ev = NULL;
    batch = cluster_events.queued_batch;
    while (rc == 0 && cluster_events.done_batch < batch) {
        if (!cluster_events.flushing)
            cluster_events_flush(db);
        else if (pthread_cond_timedwait(&cluster_events.done, &cluster_events.lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&cluster_events.lock);
    if (rc == LINTEL_EUNAVAIL)
        log_warn("cluster: an event was not published: %d events wait for the leader",
                 CLUSTER_EVENTS_QUEUE_MAX);
    return rc;
}

static int cluster_events_relay(long long user_id, const char *text, size_t len, const char *scope)
{
    struct db *db = NULL;
    json_t *j_ev = NULL, *j_one = NULL;
    int rc;

    rc = db_thread(&db);
    if (rc != 0)
        return rc;
    j_ev = json_pack("[Is%s*I]", (json_int_t)user_id, text, len, scope,
                     (json_int_t)cluster_events_now_ms());
    if (j_ev == NULL)
        return LINTEL_ENOMEM;
    if (!db_in_tx(db))
        return cluster_events_enqueue(db, j_ev);
    /* inside the request's transaction: the row shares its fate */
    j_one = json_pack("[o]", j_ev);
    rc = j_one != NULL ? cluster_events_insert(db, j_one) : LINTEL_ENOMEM;
    json_decref(j_one);
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
        db_execf(db, NULL, "DELETE FROM cluster_events WHERE at_ms < ?1", "I",
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
    cluster_events.j_queue = json_array();
    cluster_events.queued_batch = cluster_events.done_batch + 1;
    if (cluster_events.j_queue == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    atomic_store(&cluster_events.stop, false);
    if (pthread_create(&cluster_events.thread, NULL, cluster_events_main, NULL) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    cluster_events.running = true;
    events_set_relay(cluster_events_relay);
cleanup:
    if (rc != 0) {
        json_decref(cluster_events.j_queue);
        cluster_events.j_queue = NULL;
    }
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
    json_decref(cluster_events.j_queue);
    cluster_events.j_queue = NULL;
}
