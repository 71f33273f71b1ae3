/*
 * Process counters that low layers bump (db.c's statement cache) and GET /metrics reads: a
 * relaxed atomic add, with no dependency on the metrics endpoint.
 */
#ifndef LINTEL_APP_COUNTERS_H
#define LINTEL_APP_COUNTERS_H

#include <stdatomic.h>

/* Each counter is named and described for /metrics in metrics.c's metrics_counters table. */
enum counter {
    COUNTER_STMT_CACHE_HIT,     /* db.c: a prepared statement found in the cache */
    COUNTER_STMT_CACHE_MISS,    /* db.c: a statement prepared                    */
    COUNTER_AUTH_STATE_CACHED,  /* auth.c: a session's state known, no query    */
    COUNTER_REPLY_CACHE_HIT,    /* reply_cache.c: a reply replayed, no handler run */
    COUNTER_REPLY_CACHE_STORED, /* reply_cache.c: a reply kept                     */
    COUNTER_N
};

extern atomic_ullong counters[COUNTER_N];

static inline void counters_inc(enum counter c)
{
    atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

#endif /* LINTEL_APP_COUNTERS_H */
