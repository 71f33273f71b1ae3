/*
 * GET /metrics in the Prometheus text format (0.0.4), and the counters behind it: one slot of
 * per-status counters per route, found by the route's address, and a latency histogram.
 */
#include "metrics.h"

#include "auth.h"
#include "config.h"
#include "counters.h"
#include "heap.h"
#include "host_api.h"
#include "log.h"
#include "reply_cache.h"
#include "router.h"
#include "server.h"
#include "ws.h"

#include <gnutls/gnutls.h>
#include <lintel/version.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define METRICS_MIN_STATUS 100
#define METRICS_NSTATUS    500 /* 100..599 */

/* Upper bounds of the latency buckets, in nanoseconds (and as the le label says them). */
static const long long metrics_bucket_ns[] = {
    250000LL,    500000LL,     1000000LL,    2500000LL,    5000000LL,
    10000000LL,  25000000LL,   50000000LL,   100000000LL,  250000000LL,
    500000000LL, 1000000000LL, 2500000000LL, 5000000000LL, 10000000000LL};
static const char *const metrics_bucket_le[] = {"0.00025", "0.0005", "0.001", "0.0025", "0.005",
                                                "0.01",    "0.025",  "0.05",  "0.1",    "0.25",
                                                "0.5",     "1",      "2.5",   "5",      "10"};
#define METRICS_NBUCKETS (sizeof(metrics_bucket_ns) / sizeof(metrics_bucket_ns[0]))

struct metrics_slot {
    const struct route *route; /* NULL: requests no route matched */
    atomic_ullong by_status[METRICS_NSTATUS];
};

/* Open addressing on the route's address; built once when the registry is fixed. */
static struct metrics_slot *metrics_slots;
static size_t metrics_mask; /* capacity - 1; slot metrics_mask + 1 is the unmatched one */
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static atomic_ullong metrics_latency[METRICS_NBUCKETS + 1]; /* the last: above every bound */
static atomic_ullong metrics_latency_sum_ns;

static size_t metrics_hash(const struct route *r)
{
    uintptr_t p = (uintptr_t)r;

    return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ULL >> 32);
}

static void metrics_build(void)
{
    size_t n = server_route_count(), cap = 16, i, h;

    while (cap < 2 * n)
        cap *= 2;
    metrics_slots = calloc(cap + 1, sizeof(*metrics_slots));
    if (metrics_slots == NULL) {
        log_error("metrics: out of memory; requests are not counted");
        return;
    }
    metrics_mask = cap - 1;
    for (i = 0; i < n; i++) {
        const struct route *r = server_route_get(i);
        for (h = metrics_hash(r) & metrics_mask; metrics_slots[h].route != NULL;
             h = (h + 1) & metrics_mask)
            ;
        metrics_slots[h].route = r;
    }
}

static struct metrics_slot *metrics_slot(const struct route *r)
{
    size_t h, tries;

    if (r == NULL)
        return &metrics_slots[metrics_mask + 1];
    for (h = metrics_hash(r) & metrics_mask, tries = 0; tries <= metrics_mask;
         h = (h + 1) & metrics_mask, tries++) {
        if (metrics_slots[h].route == r)
            return &metrics_slots[h];
        if (metrics_slots[h].route == NULL)
            break;
    }
    return &metrics_slots[metrics_mask + 1];
}

void metrics_request(const struct route *r, unsigned status, long long ns)
{
    size_t b = 0;

    pthread_once(&metrics_once, metrics_build);
    if (metrics_slots != NULL && status >= METRICS_MIN_STATUS &&
        status < METRICS_MIN_STATUS + METRICS_NSTATUS)
        atomic_fetch_add_explicit(&metrics_slot(r)->by_status[status - METRICS_MIN_STATUS], 1,
                                  memory_order_relaxed);
    if (ns < 0)
        ns = 0;
    while (b < METRICS_NBUCKETS && ns > metrics_bucket_ns[b])
        b++;
    atomic_fetch_add_explicit(&metrics_latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics_latency_sum_ns, (unsigned long long)ns,
                              memory_order_relaxed);
}

/* ---- the scrape ---- */

static unsigned long long metrics_get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* A label value with \, " and newline escaped as the format wants. */
static void metrics_label(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Requests of one route (method, path) with the given status, 0 when it is not loaded. */
static unsigned long long metrics_route_status(const char *method, const char *path,
                                               unsigned status)
{
    size_t i;

    for (i = 0; i <= metrics_mask; i++) {
        const struct route *r = metrics_slots[i].route;
        if (r != NULL && strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
            return metrics_get(&metrics_slots[i].by_status[status - METRICS_MIN_STATUS]);
    }
    return 0;
}

static void metrics_requests(FILE *f)
{
    size_t i, s;

    metrics_head(f, "lintel_http_requests_total", "counter",
                 "HTTP requests answered, by route template and status (route \"\": none "
                 "matched).");
    for (i = 0; i <= metrics_mask + 1; i++) {
        const struct metrics_slot *slot = &metrics_slots[i];
        if (slot->route == NULL && i != metrics_mask + 1)
            continue;
        for (s = 0; s < METRICS_NSTATUS; s++) {
            unsigned long long n = metrics_get((atomic_ullong *)&slot->by_status[s]);
            if (n == 0)
                continue;
            fputs("lintel_http_requests_total{method=\"", f);
            metrics_label(f, slot->route != NULL ? slot->route->method : "");
            fputs("\",route=\"", f);
            metrics_label(f, slot->route != NULL ? slot->route->path : "");
            fprintf(f, "\",status=\"%zu\"} %llu\n", s + METRICS_MIN_STATUS, n);
        }
    }
}

static void metrics_histogram(FILE *f)
{
    unsigned long long cum = 0;
    size_t b;

    metrics_head(f, "lintel_http_request_duration_seconds", "histogram",
                 "Time from the request's arrival in the dispatcher to its reply.");
    for (b = 0; b < METRICS_NBUCKETS; b++) {
        cum += metrics_get(&metrics_latency[b]);
        fprintf(f, "lintel_http_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
                metrics_bucket_le[b], cum);
    }
    cum += metrics_get(&metrics_latency[METRICS_NBUCKETS]);
    fprintf(f, "lintel_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    fprintf(f, "lintel_http_request_duration_seconds_sum %.9f\n",
            (double)metrics_get(&metrics_latency_sum_ns) / 1e9);
    fprintf(f, "lintel_http_request_duration_seconds_count %llu\n", cum);
}

/* The database file and its write-ahead log, in bytes. */
static long long metrics_db_size(const struct config *cfg)
{
    static const char *const suffix[] = {"", "-wal"};
    char path[4096];
    struct stat st;
    long long total = 0;
    size_t i;

    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/lintel.db%s", cfg->data_dir, suffix[i]);
        if (stat(path, &st) == 0)
            total += (long long)st.st_size;
    }
    return total;
}

/* One sample without labels, with its HELP and TYPE lines. */
static void metrics_value(FILE *f, const char *name, const char *type, const char *help,
                          unsigned long long v)
{
    metrics_head(f, name, type, help);
    fprintf(f, "%s %llu\n", name, v);
}

/* The process-wide counters of counters.h, by their index. */
static const struct {
    const char *name, *help;
} metrics_counters[COUNTER_N] = {
    [COUNTER_STMT_CACHE_HIT] = {"lintel_sqlite_statement_cache_hits_total",
                                "SQL statements found prepared in a connection's cache."},
    [COUNTER_STMT_CACHE_MISS] = {"lintel_sqlite_statement_cache_misses_total",
                                 "SQL statements that had to be prepared."},
    [COUNTER_AUTH_STATE_CACHED] = {"lintel_auth_state_cache_hits_total",
                                   "Authenticated requests whose session state was known without "
                                   "a query (nothing committed since it was read)."},
    [COUNTER_REPLY_CACHE_HIT] = {"lintel_reply_cache_hits_total",
                                 "GET replies of cacheable routes replayed without running the "
                                 "handler (nothing committed since they were made)."},
    [COUNTER_REPLY_CACHE_STORED] = {"lintel_reply_cache_stores_total",
                                    "GET replies of cacheable routes kept for a repeat."},
};

static void metrics_process(FILE *f, const struct config *cfg)
{
    const char *populate = "/api/datapoints/populate";
    size_t heap_used, heap_free;
    unsigned i;

    metrics_value(f, "lintel_websockets_active", "gauge", "Open WebSockets on /api/ws.",
                  ws_conn_count(0));
    metrics_value(f, "lintel_login_failures_total", "counter",
                  "Logins refused for a wrong username or password (POST /api/auth/login 401).",
                  metrics_route_status("POST", "/api/auth/login", 401));
    metrics_value(f, "lintel_login_lockouts_total", "counter",
                  "Logins refused because the username or address is locked out (429).",
                  metrics_route_status("POST", "/api/auth/login", 429));
    metrics_value(f, "lintel_populate_runs_total", "counter",
                  "POST /api/datapoints/populate calls that stored points (201).",
                  metrics_route_status("POST", populate, 201));
    metrics_value(f, "lintel_upstream_errors_total", "counter",
                  "Populate calls failed by the upstream: down, bad answer (502) or timeout (504).",
                  metrics_route_status("POST", populate, 502) +
                      metrics_route_status("POST", populate, 504));
    for (i = 0; i < COUNTER_N; i++)
        metrics_value(f, metrics_counters[i].name, "counter", metrics_counters[i].help,
                      metrics_get(&counters[i]));
    metrics_value(f, "lintel_reply_cache_entries", "gauge",
                  "Replies kept in the worker threads' reply caches (32 slots a thread).",
                  reply_cache_entries());
    metrics_value(f, "lintel_reply_cache_bytes", "gauge",
                  "Bytes of the kept replies (at most 256 KiB a thread).", reply_cache_bytes());
    metrics_value(f, "lintel_auth_token_cache_entries", "gauge",
                  "Verified access tokens kept in the token cache (a fixed number of slots).",
                  (unsigned long long)auth_cache_entries());
    heap_usage(&heap_used, &heap_free);
    metrics_value(f, "lintel_heap_in_use_bytes", "gauge",
                  "Memory malloc has handed out and not got back (mmapped blocks included).",
                  (unsigned long long)heap_used);
    metrics_value(f, "lintel_heap_free_bytes", "gauge",
                  "Freed memory malloc keeps in its arena for reuse (part of the RSS).",
                  (unsigned long long)heap_free);
    metrics_value(f, "lintel_sqlite_memory_bytes", "gauge",
                  "Heap memory SQLite holds now (page caches, schemas, prepared statements).",
                  (unsigned long long)sqlite3_memory_used());
    metrics_value(f, "lintel_database_size_bytes", "gauge",
                  "Size of lintel.db and its write-ahead log.",
                  (unsigned long long)metrics_db_size(cfg));
    metrics_value(f, "lintel_uptime_seconds", "gauge", "Seconds since the server started.",
                  (unsigned long long)server_uptime());
    metrics_head(f, "lintel_build_info", "gauge", "The running version.");
    fprintf(f, "lintel_build_info{version=\"%s\"} 1\n", LINTEL_VERSION);
}

/* The configured scraper token, compared in constant time (only its length may leak). */
static bool metrics_token_ok(const struct config *cfg, const char *authz)
{
    size_t n;

    if (cfg->metrics_token == NULL || authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
        return false;
    authz += 7;
    n = strlen(cfg->metrics_token);
    return strlen(authz) == n && gnutls_memcmp(authz, cfg->metrics_token, n) == 0;
}

int metrics_handler(lintel_req *req, lintel_res *res, void *state)
{
    const struct lintel_api *api = host_api();
    const char *authz = api->req_header(req, "Authorization"), *detail = NULL;
    json_t *j_claims = NULL;
    long long user_id = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int rc;

    (void)state;
    rc = api->res_header(res, "Cache-Control", "no-store");
    if (rc != 0)
        goto cleanup;
    if (!metrics_token_ok(req->cfg, authz)) {
        rc = auth_request(authz, NULL, NULL, 1, &j_claims, &user_id, &detail);
        if (rc == LINTEL_EAUTH || rc == LINTEL_ETOKEN)
            api->res_header(res, "WWW-Authenticate",
                            rc == LINTEL_EAUTH ? "Bearer" : "Bearer error=\"invalid_token\"");
        if (rc != 0) {
            rc = api->res_error(res, rc, NULL, "%s", detail != NULL ? detail : "Not allowed");
            goto cleanup;
        }
    }
    pthread_once(&metrics_once, metrics_build);
    rc = LINTEL_ENOMEM;
    f = open_memstream(&text, &len);
    if (f == NULL || metrics_slots == NULL)
        goto cleanup;
    metrics_requests(f);
    metrics_histogram(f);
    metrics_process(f, req->cfg);
    if (fclose(f) != 0) {
        f = NULL;
        goto cleanup;
    }
    f = NULL;
    rc = api->res_bytes(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
cleanup:
    if (f != NULL)
        fclose(f);
    free(text);
    json_decref(j_claims);
    return rc;
}
