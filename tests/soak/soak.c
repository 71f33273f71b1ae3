/*
 * lintel-soak: mixed traffic from many connections against a running lintel for a set time,
 * with the server's RSS, 5xx count and latency percentiles per minute and its descriptors
 * before and after; prints the pass criteria and exits 1 when one fails (tests/soak/run.sh).
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define SOAK_MAX_MINUTES 1440
#define SOAK_MAX_SAMPLES (SOAK_MAX_MINUTES * 12 + 64)

enum soak_op {
    OP_LIST_NUMBERS,
    OP_NUMBER_STATS,
    OP_CREATE_NUMBER,
    OP_DELETE_NUMBER,
    OP_CREATE_TASK,
    OP_PATCH_TASK,
    OP_LIST_TASKS,
    OP_ME,
    OP_HEALTH,
    OP_LOGIN,
    OP_SOCKET,
    OP_POPULATE,
    OP_COUNT
};

static const char *const soak_op_names[OP_COUNT] = {
    "GET numbers",         "GET numbers/stats",    "POST numbers",
    "DELETE numbers/{id}", "POST tasks",           "PATCH tasks/{id}",
    "GET tasks",           "GET users/me",         "GET health",
    "POST auth/login",     "WebSocket open/close", "POST datapoints/populate"};

/* Percent of the operations each kind gets; logins and populate are also rate-limited. */
static const int soak_op_weight[OP_COUNT] = {30, 8, 15, 5, 10, 6, 8, 5, 5, 3, 3, 2};

struct soak_minute {
    double *lat; /* milliseconds of each answered request */
    size_t n, cap;
    long long s5xx, s4xx, failed; /* failed: no answer (connection error, timeout) */
};

static struct {
    const char *url;
    int port;
    pid_t pid;
    int minutes, warmup, conns;
    const char *admin_password;
    char *admin_token;
    pthread_mutex_t lock;
    struct soak_minute *minutes_v; /* [minutes + 1]: index 0 is the warm-up */
    long long op_count[OP_COUNT], op_5xx[OP_COUNT];
    atomic_bool stop;
    atomic_int phase;   /* 0 warm-up, 1 measured */
    struct timespec t0; /* start of the measured phase */
    atomic_llong last_login_ms, last_populate_ms;
    atomic_llong ws_refused, ws_closed, ws_timeout, ws_error; /* sockets without a status */
    double rss_t[SOAK_MAX_SAMPLES], rss_mb[SOAK_MAX_SAMPLES];
    /* from GET /metrics at each RSS sample (NAN without --metrics-token): MiB */
    double heap_mb[SOAK_MAX_SAMPLES], free_mb[SOAK_MAX_SAMPLES], sqlite_mb[SOAK_MAX_SAMPLES];
    const char *metrics_token;
    size_t nrss;
} soak = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct soak_client {
    pthread_t thread;
    int index;
    CURL *curl;
    char username[64], password[64];
    char *token;
    unsigned seed;
    long long numbers[64];
    size_t nnumbers;
    long long task;
};

static long long soak_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double soak_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static double soak_rss_mb(void)
{
    char path[64], line[256];
    double kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)soak.pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %lf kB", &kb) == 1)
            break;
    fclose(f);
    return kb / 1024.0;
}

static int soak_fds(void)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)soak.pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Records one request: into the warm-up bucket or the current minute's. */
static void soak_record(enum soak_op op, long status, double ms)
{
    struct soak_minute *m;
    size_t idx = 0;

    pthread_mutex_lock(&soak.lock);
    if (atomic_load(&soak.phase) == 1) {
        idx = 1 + (size_t)(soak_since(&soak.t0) / 60.0);
        if (idx > (size_t)soak.minutes)
            idx = (size_t)soak.minutes;
        soak.op_count[op]++;
        if (status >= 500 || status == 0)
            soak.op_5xx[op]++;
    }
    m = &soak.minutes_v[idx];
    if (status == 0) {
        m->failed++;
    } else {
        if (m->n == m->cap) {
            size_t cap = m->cap > 0 ? m->cap * 2 : 4096;
            double *grown = realloc(m->lat, cap * sizeof(*grown));
            if (grown != NULL) {
                m->lat = grown;
                m->cap = cap;
            }
        }
        if (m->n < m->cap)
            m->lat[m->n++] = ms;
        if (status >= 500)
            m->s5xx++;
        else if (status >= 400)
            m->s4xx++;
    }
    pthread_mutex_unlock(&soak.lock);
}

struct soak_buf {
    char *data;
    size_t len;
};

static size_t soak_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct soak_buf *b = userdata;
    size_t n = size * nmemb;
    char *grown;

    if (b->len + n > 4 * 1024 * 1024)
        return 0; /* no answer of this API is that large */
    grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* One HTTP request on the client's kept-alive handle; the status (0: no answer), *j_out body. */
static long soak_http(CURL *curl, const char *method, const char *path, const char *token,
                      const char *body, json_t **j_out, double *ms)
{
    struct curl_slist *hdrs = NULL;
    struct soak_buf b = {NULL, 0};
    char url[512], auth[4096];
    long status = 0;
    struct timespec t;

    snprintf(url, sizeof(url), "%s%s", soak.url, path);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, soak_on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    *ms = soak_since(&t) * 1000.0;
    if (j_out != NULL)
        *j_out = b.data != NULL ? json_loads(b.data, JSON_DECODE_ANY, NULL) : NULL;
    curl_slist_free_all(hdrs);
    free(b.data);
    return status;
}

static char *soak_login(CURL *curl, const char *user, const char *pw, long *status, double *ms)
{
    json_t *j_req = json_pack("{ssss}", "username", user, "password", pw), *j_out = NULL;
    char *body = json_dumps(j_req, JSON_COMPACT), *token = NULL;

    *status = soak_http(curl, "POST", "/api/auth/login", NULL, body, &j_out, ms);
    if (*status == 200 && json_string_value(json_object_get(j_out, "access_token")) != NULL)
        token = strdup(json_string_value(json_object_get(j_out, "access_token")));
    json_decref(j_out);
    json_decref(j_req);
    free(body);
    return token;
}

/* ---- WebSocket: the handshake by hand, the close frame through wslay ---- */

struct soak_ws {
    int fd;
};

static ssize_t soak_ws_send(const uint8_t *data, size_t len, int flags, void *user)
{
    struct soak_ws *w = user;

    (void)flags;
    return send(w->fd, data, len, MSG_NOSIGNAL);
}

static ssize_t soak_ws_recv(uint8_t *buf, size_t len, int flags, void *user)
{
    struct soak_ws *w = user;

    (void)flags;
    return recv(w->fd, buf, len, 0);
}

static int soak_ws_genmask(uint8_t *buf, size_t len, void *user)
{
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rand();
    return 0;
}

/* Opens /api/ws with the token, reads the 101, sends a close frame, closes. The HTTP status. */
static long soak_socket(const char *token)
{
    struct wslay_frame_callbacks cb = {soak_ws_send, soak_ws_recv, soak_ws_genmask};
    struct soak_ws w = {-1};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)soak.port)};
    /* a masked close frame with status 1000 */
    struct wslay_frame_iocb frame = {.fin = 1,
                                     .opcode = WSLAY_CONNECTION_CLOSE,
                                     .payload_length = 2,
                                     .mask = 1,
                                     .data = (const uint8_t *)"\x03\xe8",
                                     .data_length = 2};
    struct timeval tv = {30, 0};
    wslay_frame_context_ptr ctx = NULL;
    char req[4096], reply[2048];
    size_t got = 0;
    long status = 0;
    ssize_t n;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    w.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (w.fd < 0)
        return 0;
    setsockopt(w.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(w.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        atomic_fetch_add(&soak.ws_refused, 1);
        goto cleanup;
    }
    n = snprintf(req, sizeof(req),
                 "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                 token);
    if (send(w.fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto cleanup;
    reply[0] = '\0';
    while (got < sizeof(reply) - 1 && strstr(reply, "\r\n\r\n") == NULL) {
        n = recv(w.fd, reply + got, sizeof(reply) - 1 - got, 0);
        if (n == 0)
            atomic_fetch_add(&soak.ws_closed, 1);
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            atomic_fetch_add(&soak.ws_timeout, 1);
        else if (n < 0)
            atomic_fetch_add(&soak.ws_error, 1);
        if (n <= 0)
            break;
        got += (size_t)n;
        reply[got] = '\0';
    }
    if (got < 12 || sscanf(reply, "HTTP/1.1 %ld", &status) != 1)
        goto cleanup;
    if (status == 101 && wslay_frame_context_init(&ctx, &cb, &w) == 0)
        wslay_frame_send(ctx, &frame);
cleanup:
    if (ctx != NULL)
        wslay_frame_context_free(ctx);
    close(w.fd);
    return status;
}

/* ---- the clients ---- */

static bool soak_rate_ok(atomic_llong *last, long long every_ms)
{
    long long now = soak_now_ms(), prev = atomic_load(last);

    return now - prev >= every_ms && atomic_compare_exchange_strong(last, &prev, now);
}

static enum soak_op soak_pick(struct soak_client *c)
{
    int r = (int)(rand_r(&c->seed) % 100), i;

    for (i = 0; i < OP_COUNT; i++) {
        if (r < soak_op_weight[i])
            break;
        r -= soak_op_weight[i];
    }
    if (i == OP_LOGIN && !soak_rate_ok(&soak.last_login_ms, 250)) /* at most 4 a second */
        i = OP_ME;
    if (i == OP_POPULATE && !soak_rate_ok(&soak.last_populate_ms, 1000))
        i = OP_HEALTH;
    return i < OP_COUNT ? (enum soak_op)i : OP_HEALTH;
}

static void soak_one(struct soak_client *c, enum soak_op op)
{
    json_t *j_out = NULL;
    char path[128], body[256];
    long status = 0;
    double ms = 0;
    char *fresh;
    struct timespec t;

    switch (op) {
    case OP_LIST_NUMBERS:
        status = soak_http(c->curl, "GET", "/api/numbers?limit=20", c->token, NULL, NULL, &ms);
        break;
    case OP_NUMBER_STATS:
        status = soak_http(c->curl, "GET", "/api/numbers/stats", c->token, NULL, NULL, &ms);
        break;
    case OP_CREATE_NUMBER:
        snprintf(body, sizeof(body), "{\"value\":%.3f}", 1 + rand_r(&c->seed) % 100000 / 7.0);
        status = soak_http(c->curl, "POST", "/api/numbers", c->token, body, &j_out, &ms);
        if (status == 201 && c->nnumbers < 64)
            c->numbers[c->nnumbers++] = json_integer_value(json_object_get(j_out, "id"));
        break;
    case OP_DELETE_NUMBER:
        if (c->nnumbers == 0) {
            soak_one(c, OP_CREATE_NUMBER);
            return;
        }
        snprintf(path, sizeof(path), "/api/numbers/%lld", c->numbers[--c->nnumbers]);
        status = soak_http(c->curl, "DELETE", path, c->token, NULL, NULL, &ms);
        break;
    case OP_CREATE_TASK:
        snprintf(body, sizeof(body), "{\"title\":\"soak task %u\",\"description\":\"d\"}",
                 rand_r(&c->seed));
        status = soak_http(c->curl, "POST", "/api/tasks", c->token, body, &j_out, &ms);
        if (status == 201)
            c->task = json_integer_value(json_object_get(j_out, "id"));
        break;
    case OP_PATCH_TASK:
        if (c->task == 0) {
            soak_one(c, OP_CREATE_TASK);
            return;
        }
        snprintf(path, sizeof(path), "/api/tasks/%lld", c->task);
        status =
            soak_http(c->curl, "PATCH", path, c->token,
                      rand_r(&c->seed) % 2 ? "{\"done\":true}" : "{\"done\":false}", NULL, &ms);
        break;
    case OP_LIST_TASKS:
        status = soak_http(c->curl, "GET", "/api/tasks", c->token, NULL, NULL, &ms);
        break;
    case OP_ME:
        status = soak_http(c->curl, "GET", "/api/users/me", c->token, NULL, NULL, &ms);
        break;
    case OP_HEALTH:
        status = soak_http(c->curl, "GET", "/health", NULL, NULL, NULL, &ms);
        break;
    case OP_LOGIN:
        fresh = soak_login(c->curl, c->username, c->password, &status, &ms);
        if (fresh != NULL) {
            free(c->token);
            c->token = fresh;
        }
        break;
    case OP_SOCKET:
        clock_gettime(CLOCK_MONOTONIC, &t);
        status = soak_socket(c->token);
        ms = soak_since(&t) * 1000.0;
        if (status == 101)
            status = 200; /* counted as a success */
        break;
    case OP_POPULATE:
        status = soak_http(c->curl, "POST", "/api/datapoints/populate?count=3", soak.admin_token,
                           NULL, NULL, &ms);
        break;
    case OP_COUNT:
        break;
    }
    json_decref(j_out);
    soak_record(op, status, ms);
}

static void *soak_client_run(void *arg)
{
    struct soak_client *c = arg;

    while (!atomic_load(&soak.stop))
        soak_one(c, soak_pick(c));
    return NULL;
}

/* The value of a gauge in a /metrics text in MiB, NAN when it is not there. */
static double soak_gauge_mb(const char *text, const char *name)
{
    char line[128];
    const char *p;

    snprintf(line, sizeof(line), "\n%s ", name);
    p = text != NULL ? strstr(text, line) : NULL;
    return p != NULL ? strtod(p + strlen(line), NULL) / (1024.0 * 1024.0) : NAN;
}

/*
 * What the server says its heap holds (in use, kept free by malloc, SQLite's share), so a
 * rising RSS can be told a leak (in use grows) from fragmentation (free grows).
 */
static void soak_heap(CURL *curl, double *heap, double *free_mb, double *sqlite)
{
    struct curl_slist *hdrs = NULL;
    struct soak_buf b = {NULL, 0};
    char url[512], auth[512];
    long status = 0;

    *heap = *free_mb = *sqlite = NAN;
    if (soak.metrics_token == NULL || curl == NULL)
        return;
    snprintf(url, sizeof(url), "%s/metrics", soak.url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", soak.metrics_token);
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, soak_on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
        *heap = soak_gauge_mb(b.data, "lintel_heap_in_use_bytes");
        *free_mb = soak_gauge_mb(b.data, "lintel_heap_free_bytes");
        *sqlite = soak_gauge_mb(b.data, "lintel_sqlite_memory_bytes");
    }
    curl_slist_free_all(hdrs);
    free(b.data);
}

static void *soak_monitor(void *arg)
{
    CURL *curl = curl_easy_init();
    size_t n;

    (void)arg;
    while (!atomic_load(&soak.stop)) {
        if (atomic_load(&soak.phase) == 1 && soak.nrss < SOAK_MAX_SAMPLES) {
            n = soak.nrss;
            soak.rss_t[n] = soak_since(&soak.t0);
            soak.rss_mb[n] = soak_rss_mb();
            soak_heap(curl, &soak.heap_mb[n], &soak.free_mb[n], &soak.sqlite_mb[n]);
            soak.nrss++;
        }
        sleep(5);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static int soak_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double soak_pct(const struct soak_minute *m, double p)
{
    size_t i;

    if (m->n == 0)
        return NAN;
    i = (size_t)ceil(p / 100.0 * (double)m->n);
    return m->lat[i > 0 ? i - 1 : 0];
}

/* Runs all clients for seconds, in the given phase. */
static void soak_phase(struct soak_client *c, int phase, int seconds)
{
    pthread_t mon;
    int i;

    atomic_store(&soak.stop, false);
    atomic_store(&soak.phase, phase);
    if (phase == 1)
        clock_gettime(CLOCK_MONOTONIC, &soak.t0);
    pthread_create(&mon, NULL, soak_monitor, NULL);
    for (i = 0; i < soak.conns; i++)
        pthread_create(&c[i].thread, NULL, soak_client_run, &c[i]);
    sleep((unsigned)seconds);
    atomic_store(&soak.stop, true);
    for (i = 0; i < soak.conns; i++)
        pthread_join(c[i].thread, NULL);
    pthread_join(mon, NULL);
}

static void soak_usage(FILE *f)
{
    fprintf(f, "Usage: lintel-soak --url URL --pid PID --admin-password PW [--minutes N (30)]\n"
               "       [--connections N (64)] [--warmup SECONDS (60)] [--metrics-token T]\n"
               "Mixed traffic against a running lintel; per-minute 5xx, p99 and RSS (and with the\n"
               "server's metrics token its heap: in use, kept free, SQLite's); pass/fail.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"pid", required_argument, NULL, 'p'},
                                         {"minutes", required_argument, NULL, 'm'},
                                         {"connections", required_argument, NULL, 'c'},
                                         {"warmup", required_argument, NULL, 'w'},
                                         {"admin-password", required_argument, NULL, 'a'},
                                         {"metrics-token", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct soak_client *c = NULL;
    double rss_warm, rss_end = 0, rss_max = 0, slope = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    long long total = 0, total5xx = 0, totalfail = 0;
    int opt, i, fds_before, fds_after, fail = 0;
    long status;
    double ms;
    size_t k;

    soak.minutes = 30;
    soak.conns = 64;
    soak.warmup = 60;
    while ((opt = getopt_long(argc, argv, "u:p:m:c:w:a:t:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            soak.url = optarg;
            break;
        case 'p':
            soak.pid = (pid_t)atoi(optarg);
            break;
        case 'm':
            soak.minutes = atoi(optarg);
            break;
        case 'c':
            soak.conns = atoi(optarg);
            break;
        case 'w':
            soak.warmup = atoi(optarg);
            break;
        case 'a':
            soak.admin_password = optarg;
            break;
        case 't':
            soak.metrics_token = optarg;
            break;
        case 'h':
            soak_usage(stdout);
            return 0;
        default:
            soak_usage(stderr);
            return 2;
        }
    }
    if (soak.url == NULL || soak.pid <= 0 || soak.admin_password == NULL || soak.minutes < 1 ||
        soak.minutes > SOAK_MAX_MINUTES || soak.conns < 1 || soak.conns > 1024 || soak.warmup < 1 ||
        strrchr(soak.url, ':') == NULL) {
        soak_usage(stderr);
        return 2;
    }
    soak.port = atoi(strrchr(soak.url, ':') + 1);
    curl_global_init(CURL_GLOBAL_ALL);
    srand((unsigned)time(NULL));
    soak.minutes_v = calloc((size_t)soak.minutes + 1, sizeof(*soak.minutes_v));
    c = calloc((size_t)soak.conns, sizeof(*c));
    if (soak.minutes_v == NULL || c == NULL)
        return 1;

    /* one user per connection, and the admin for populate */
    c[0].curl = curl_easy_init();
    soak.admin_token = soak_login(c[0].curl, "admin", soak.admin_password, &status, &ms);
    if (soak.admin_token == NULL) {
        fprintf(stderr, "lintel-soak: admin login failed (%ld)\n", status);
        return 1;
    }
    for (i = 0; i < soak.conns; i++) {
        char body[256];
        if (c[i].curl == NULL)
            c[i].curl = curl_easy_init();
        c[i].index = i;
        c[i].seed = (unsigned)(i * 7919 + time(NULL));
        snprintf(c[i].username, sizeof(c[i].username), "soak_%d_%ld", i, (long)time(NULL));
        snprintf(c[i].password, sizeof(c[i].password), "soak-password-%d", i);
        snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", c[i].username,
                 c[i].password);
        status = soak_http(c[i].curl, "POST", "/api/auth/register", NULL, body, NULL, &ms);
        c[i].token = soak_login(c[i].curl, c[i].username, c[i].password, &status, &ms);
        if (c[i].token == NULL) {
            fprintf(stderr, "lintel-soak: user %s cannot log in (%ld)\n", c[i].username, status);
            return 1;
        }
    }

    printf("lintel-soak: %d connections, %d s warm-up, %d minutes measured, server pid %d\n",
           soak.conns, soak.warmup, soak.minutes, (int)soak.pid);
    printf("warm-up: RSS %.1f MiB at start\n", soak_rss_mb());
    fflush(stdout);
    soak_phase(c, 0, soak.warmup);
    /* the clients' kept-alive connections close now, as they do at the end, so both counts
       see the server without them */
    for (i = 0; i < soak.conns; i++) {
        curl_easy_cleanup(c[i].curl);
        c[i].curl = curl_easy_init();
    }
    sleep(3); /* idle: connections closed, access log flushed */
    fds_before = soak_fds();
    rss_warm = soak_rss_mb();
    printf("warm-up done: %zu requests, %lld 5xx; RSS %.1f MiB, %d descriptors\n\n",
           soak.minutes_v[0].n, soak.minutes_v[0].s5xx, rss_warm, fds_before);
    printf("%6s %10s %7s %6s %7s %9s %9s %9s %8s %7s %7s %7s\n", "minute", "requests", "req/s",
           "5xx", "no-ans", "p50 ms", "p99 ms", "max ms", "RSS MiB", "heap", "free", "sqlite");
    fflush(stdout);

    soak_phase(c, 1, soak.minutes * 60);
    for (i = 0; i < soak.conns; i++) {
        curl_easy_cleanup(c[i].curl);
        free(c[i].token);
    }
    sleep(3);
    fds_after = soak_fds();
    rss_end = soak_rss_mb();

    for (k = 1; k <= (size_t)soak.minutes; k++) {
        struct soak_minute *m = &soak.minutes_v[k];
        double rss = NAN, heap = NAN, free_mb = NAN, sqlite = NAN;
        size_t s;
        qsort(m->lat, m->n, sizeof(double), soak_cmp);
        for (s = 0; s < soak.nrss; s++)
            if (soak.rss_t[s] < (double)k * 60.0) {
                rss = soak.rss_mb[s];
                heap = soak.heap_mb[s];
                free_mb = soak.free_mb[s];
                sqlite = soak.sqlite_mb[s];
            }
        printf("%6zu %10zu %7.0f %6lld %7lld %9.2f %9.2f %9.2f %8.1f %7.1f %7.1f %7.1f\n", k, m->n,
               (double)m->n / 60.0, m->s5xx, m->failed, soak_pct(m, 50), soak_pct(m, 99),
               m->n > 0 ? m->lat[m->n - 1] : NAN, rss, heap, free_mb, sqlite);
        total += (long long)m->n;
        total5xx += m->s5xx;
        totalfail += m->failed;
    }
    for (k = 0; k < soak.nrss; k++) {
        double x = soak.rss_t[k] / 60.0, y = soak.rss_mb[k];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        if (y > rss_max)
            rss_max = y;
    }
    if (soak.nrss > 1 && sxx * (double)soak.nrss - sx * sx > 0)
        slope = (sxy * (double)soak.nrss - sx * sy) / (sxx * (double)soak.nrss - sx * sx);

    printf("\nper operation (measured phase): requests / 5xx or no answer\n");
    for (i = 0; i < OP_COUNT; i++)
        printf("  %-26s %10lld %6lld\n", soak_op_names[i], soak.op_count[i], soak.op_5xx[i]);
    printf("\ntotal %lld requests, %lld 5xx, %lld without an answer\n", total, total5xx, totalfail);
    printf("RSS: %.1f MiB after warm-up, %.1f MiB at the end, %.1f MiB at most; trend %+.3f "
           "MiB/min over %zu samples\n",
           rss_warm, rss_end, rss_max, slope, soak.nrss);
    printf("descriptors: %d after warm-up, %d at the end\n", fds_before, fds_after);
    printf("sockets without a status: %lld refused, %lld closed by the server before the 101, "
           "%lld timed out (30 s), %lld reset\n\n",
           (long long)atomic_load(&soak.ws_refused), (long long)atomic_load(&soak.ws_closed),
           (long long)atomic_load(&soak.ws_timeout), (long long)atomic_load(&soak.ws_error));

    /* Pass criteria. RSS flat: the end within 10 % (+4 MiB for allocator noise) of the
       warm-up's, and no trend worth 10 % of it over the run. */
    printf("pass criteria:\n");
#define SOAK_CHECK(ok, ...)                                                                        \
    do {                                                                                           \
        printf("  [%s] ", (ok) ? "pass" : "FAIL");                                                 \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fail |= !(ok);                                                                             \
    } while (0)
    SOAK_CHECK(total5xx == 0, "zero 5xx (got %lld)", total5xx);
    SOAK_CHECK(totalfail == 0, "every request answered (%lld without an answer)", totalfail);
    SOAK_CHECK(rss_end <= rss_warm * 1.10 + 4.0 && slope * soak.minutes <= rss_warm * 0.10 + 4.0,
               "RSS flat after warm-up (%.1f -> %.1f MiB, trend %+.3f MiB/min)", rss_warm, rss_end,
               slope);
    SOAK_CHECK(fds_after >= 0 && fds_after <= fds_before + 2,
               "no leaked descriptors (%d -> %d, 2 allowed for a late lazy open)", fds_before,
               fds_after);
    printf("%s\n", fail ? "SOAK FAILED" : "SOAK PASSED");
    for (k = 0; k <= (size_t)soak.minutes; k++)
        free(soak.minutes_v[k].lat);
    free(soak.minutes_v);
    free(soak.admin_token);
    free(c);
    curl_global_cleanup();
    return fail ? 1 : 0;
}
