/*
 * Replies of cacheable routes kept per worker thread (no lock) and replayed without running the
 * handler while nothing was committed to the database since they were made (db_stamp).
 */
#include "reply_cache.h"

#include "counters.h"
#include "host_api.h"
#include "router.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per thread: a direct-mapped table of REPLY_CACHE_SLOTS entries holding at most
 * REPLY_CACHE_BYTES bytes, a reply over REPLY_CACHE_ENTRY_MAX never kept. Both are checked
 * before an entry is filled, so what requests ask for never decides how much is held.
 */
#define REPLY_CACHE_SLOTS     32
#define REPLY_CACHE_BYTES     (256u * 1024u)
#define REPLY_CACHE_ENTRY_MAX (64u * 1024u)
#define REPLY_CACHE_HEADERS   16

struct reply_cache_entry {
    char *blob; /* NULL: empty; key, body, content type, then name NUL value NUL per header */
    size_t bytes;
    struct db_stamp stamp;
    unsigned long generation;
    size_t key_len, body_len;
    unsigned status;
    bool has_type;
    size_t nheaders;
};

struct reply_cache {
    struct reply_cache_entry slot[REPLY_CACHE_SLOTS];
    size_t bytes;
};

static pthread_once_t reply_cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t reply_cache_key;
static bool reply_cache_key_ok;
static _Thread_local struct reply_cache *reply_cache_mine;
static atomic_ulong reply_cache_generation;
static atomic_ullong reply_cache_held_entries, reply_cache_held_bytes;

static void reply_cache_drop(struct reply_cache *c, struct reply_cache_entry *e)
{
    if (e->blob == NULL)
        return;
    atomic_fetch_sub_explicit(&reply_cache_held_entries, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&reply_cache_held_bytes, e->bytes, memory_order_relaxed);
    c->bytes -= e->bytes;
    free(e->blob);
    memset(e, 0, sizeof(*e));
}

/* At a worker thread's exit: its replies go with it. */
static void reply_cache_free(void *p)
{
    struct reply_cache *c = p;
    size_t i;

    for (i = 0; i < REPLY_CACHE_SLOTS; i++)
        reply_cache_drop(c, &c->slot[i]);
    free(c);
}

static void reply_cache_key_init(void)
{
    reply_cache_key_ok = pthread_key_create(&reply_cache_key, reply_cache_free) == 0;
}

/* This thread's table, made at its first store; NULL when it cannot be. */
static struct reply_cache *reply_cache_thread(void)
{
    struct reply_cache *c;

    if (reply_cache_mine != NULL)
        return reply_cache_mine;
    pthread_once(&reply_cache_once, reply_cache_key_init);
    if (!reply_cache_key_ok)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (pthread_setspecific(reply_cache_key, c) != 0) {
        free(c);
        return NULL;
    }
    reply_cache_mine = c;
    return c;
}

/* Appends len bytes of p, length first, so that no two requests give the same key. */
static bool reply_cache_put(struct reply_cache_probe *probe, const void *p, size_t len)
{
    if (len > REPLY_CACHE_KEY_MAX - sizeof(len) - probe->key_len)
        return false;
    memcpy(probe->key + probe->key_len, &len, sizeof(len));
    memcpy(probe->key + probe->key_len + sizeof(len), p, len);
    probe->key_len += sizeof(len) + len;
    return true;
}

static const char *reply_cache_str(const char *s)
{
    return s != NULL ? s : "";
}

/* The key of (route, user, session, path, query arguments as given); false when too long. */
static bool reply_cache_make_key(const lintel_req *req, struct reply_cache_probe *probe)
{
    const char *sid = json_string_value(json_object_get(req->j_claims, "sid"));
    const struct route *route = req->route;
    bool ok;
    size_t i;

    probe->key_len = 0;
    ok = reply_cache_put(probe, &route, sizeof(route)) &&
         reply_cache_put(probe, &req->user_id, sizeof(req->user_id)) &&
         reply_cache_put(probe, reply_cache_str(sid), strlen(reply_cache_str(sid))) &&
         reply_cache_put(probe, req->path, strlen(req->path));
    for (i = 0; ok && i < req->nargs; i++)
        ok = reply_cache_put(probe, req->args[i].key, strlen(req->args[i].key)) &&
             reply_cache_put(probe, reply_cache_str(req->args[i].value),
                             strlen(reply_cache_str(req->args[i].value)));
    probe->hash = 14695981039346656037ULL; /* FNV-1a */
    for (i = 0; ok && i < probe->key_len; i++)
        probe->hash = (probe->hash ^ (unsigned char)probe->key[i]) * 1099511628211ULL;
    return ok;
}

/* Puts the kept reply of e into req->res, as if its handler had written it. */
static bool reply_cache_replay(lintel_req *req, const struct reply_cache_entry *e)
{
    struct lintel_res *res = &req->res;
    const char *at = e->blob + e->key_len + e->body_len, *name;
    char *body = malloc(e->body_len + 1), *type = NULL;
    size_t i;

    if (body == NULL)
        return false;
    memcpy(body, e->blob + e->key_len, e->body_len);
    body[e->body_len] = '\0';
    if (e->has_type) {
        type = strdup(at);
        if (type == NULL) {
            free(body);
            return false;
        }
        at += strlen(at) + 1;
    }
    free(res->body);
    free(res->content_type_buf);
    res->body = body;
    res->len = e->body_len;
    res->content_type_buf = type;
    res->content_type = type;
    res->status = e->status;
    res->written = true;
    for (i = 0; i < e->nheaders; i++) {
        name = at;
        at += strlen(at) + 1;
        if (host_res_put_header(res, name, at) != 0)
            return false;
        at += strlen(at) + 1;
    }
    return true;
}

bool reply_cache_lookup(lintel_req *req, struct reply_cache_probe *probe)
{
    struct reply_cache *c = reply_cache_mine;
    struct reply_cache_entry *e;
    struct db *db = NULL;

    probe->armed = false;
    if (req->route == NULL || !(req->route->flags & LINTEL_ROUTE_CACHEABLE) ||
        strcmp(req->method, "GET") != 0 || req->tx_held)
        return false;
    /* the stamp before the handler reads: a commit after it makes the next lookup miss */
    if (host_req_db(req, &db) != 0 || db_stamp(db, &probe->stamp) != 0)
        return false;
    if (!reply_cache_make_key(req, probe))
        return false;
    probe->generation = atomic_load_explicit(&reply_cache_generation, memory_order_acquire);
    probe->nheaders = req->res.nheaders;
    probe->armed = true;
    if (c == NULL)
        return false;
    e = &c->slot[probe->hash % REPLY_CACHE_SLOTS];
    if (e->blob == NULL || e->generation != probe->generation ||
        memcmp(&e->stamp, &probe->stamp, sizeof(e->stamp)) != 0 || e->key_len != probe->key_len ||
        memcmp(e->blob, probe->key, probe->key_len) != 0)
        return false;
    if (!reply_cache_replay(req, e)) {
        /* out of memory half-way: the handler makes the reply afresh */
        probe->armed = false;
        return false;
    }
    counters_inc(COUNTER_REPLY_CACHE_HIT);
    return true;
}

void reply_cache_store(const lintel_req *req, const struct reply_cache_probe *probe, int rc)
{
    const struct lintel_res *res = &req->res;
    const char *type = res->content_type;
    struct reply_cache_entry *e;
    struct reply_cache *c;
    size_t bytes, i, n;
    char *at;

    if (!probe->armed || rc != 0 || !res->written || res->status != 200 || res->err_rc != 0 ||
        req->tx_held || res->nheaders < probe->nheaders ||
        res->nheaders - probe->nheaders > REPLY_CACHE_HEADERS)
        return;
    /* the size, counted before anything is allocated or dropped */
    bytes = probe->key_len + res->len + (type != NULL ? strlen(type) + 1 : 0);
    for (i = probe->nheaders; i < res->nheaders; i++)
        bytes += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 2;
    if (bytes > REPLY_CACHE_ENTRY_MAX)
        return;
    c = reply_cache_thread();
    if (c == NULL)
        return;
    e = &c->slot[probe->hash % REPLY_CACHE_SLOTS];
    reply_cache_drop(c, e);
    /* over the thread's budget: make room from the first slot on */
    for (i = 0; i < REPLY_CACHE_SLOTS && c->bytes + bytes > REPLY_CACHE_BYTES; i++)
        reply_cache_drop(c, &c->slot[i]);
    e->blob = malloc(bytes);
    if (e->blob == NULL)
        return;
    at = e->blob;
    memcpy(at, probe->key, probe->key_len);
    at += probe->key_len;
    if (res->len > 0)
        memcpy(at, res->body, res->len);
    at += res->len;
    if (type != NULL) {
        n = strlen(type) + 1;
        memcpy(at, type, n);
        at += n;
    }
    for (i = probe->nheaders; i < res->nheaders; i++) {
        n = strlen(res->headers[i].name) + 1;
        memcpy(at, res->headers[i].name, n);
        at += n;
        n = strlen(res->headers[i].value) + 1;
        memcpy(at, res->headers[i].value, n);
        at += n;
    }
    e->bytes = bytes;
    e->stamp = probe->stamp;
    e->generation = probe->generation;
    e->key_len = probe->key_len;
    e->body_len = res->len;
    e->status = res->status;
    e->has_type = type != NULL;
    e->nheaders = res->nheaders - probe->nheaders;
    c->bytes += bytes;
    atomic_fetch_add_explicit(&reply_cache_held_entries, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&reply_cache_held_bytes, bytes, memory_order_relaxed);
    counters_inc(COUNTER_REPLY_CACHE_STORED);
}

void reply_cache_forget_routes(void)
{
    atomic_fetch_add_explicit(&reply_cache_generation, 1, memory_order_release);
}

unsigned long long reply_cache_entries(void)
{
    return atomic_load_explicit(&reply_cache_held_entries, memory_order_relaxed);
}

unsigned long long reply_cache_bytes(void)
{
    return atomic_load_explicit(&reply_cache_held_bytes, memory_order_relaxed);
}
