/*
 * Replies of cacheable routes (LINTEL_ROUTE_CACHEABLE) kept per worker thread and replayed
 * without running the handler while the database stamp they were made under is the current one.
 */
#ifndef LINTEL_APP_REPLY_CACHE_H
#define LINTEL_APP_REPLY_CACHE_H

#include "db.h"

#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest key kept: route, user, session, path and query; a longer request is not cached. */
#define REPLY_CACHE_KEY_MAX 1024

/* What reply_cache_lookup learned for reply_cache_store: the key and the stamp before the run. */
struct reply_cache_probe {
    bool armed; /* the request may be stored after its handler ran */
    struct db_stamp stamp;
    unsigned long generation;
    uint64_t hash;
    size_t key_len;
    size_t nheaders; /* headers the host had set before the handler ran (not kept) */
    char key[REPLY_CACHE_KEY_MAX];
};

/*
 * Before the handler of a GET on a LINTEL_ROUTE_CACHEABLE route: true when req->res now holds
 * the kept reply (status, body, content type, the handler's headers); false otherwise, with
 * probe armed when the reply the handler makes may be kept.
 */
bool reply_cache_lookup(lintel_req *req, struct reply_cache_probe *probe);

/* After the handler (rc its result): keeps a 200 reply of an armed probe, within the bounds. */
void reply_cache_store(const lintel_req *req, const struct reply_cache_probe *probe, int rc);

/* Routes were removed (a plugin unloaded): no kept reply of an earlier route is used again. */
void reply_cache_forget_routes(void);

/* Replies kept and their bytes, over every thread (the /metrics gauges). */
unsigned long long reply_cache_entries(void);
unsigned long long reply_cache_bytes(void);

#endif /* LINTEL_APP_REPLY_CACHE_H */
