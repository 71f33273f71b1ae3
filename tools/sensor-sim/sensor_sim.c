/*
 * lintel-sensor-sim: answers every GET with one sensor point in the upstream format
 * {"time": unix, "value": [4 bytes of a float32, little-endian], "tags": [...]}, for make run
 * and for the tests, which can switch it into malformed or slow modes through /_sim/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SIM_MODE_MAX 64

static const char sim_usage[] =
    "Usage: lintel-sensor-sim [options]\n"
    "Serves one random sensor point per GET (any path) for lintel's populate.\n"
    "  --bind ADDR       listen address (LINTEL_SIM_BIND, default 127.0.0.1)\n"
    "  --port N          port, 0 picks a free one (LINTEL_SIM_PORT, default 8090)\n"
    "  --invalid F       fraction 0..1 of system/suspect/too-old points (LINTEL_SIM_INVALID,\n"
    "                    default 0.2)\n"
    "  --mode MODE       answer mode (LINTEL_SIM_MODE, default random), see below\n"
    "  --control         enable GET /_sim/mode/MODE (switch mode) and GET /_sim/hits\n"
    "                    (LINTEL_SIM_CONTROL=1); for tests\n"
    "  --seed N          seed of the random generator (default: time and pid)\n"
    "Modes: random, fixed (value [157,42,76,190] now), system, suspect, old, nan, inf,\n"
    "  status:CODE, not-json, empty, list, missing-time, missing-value, bad-bytes, short-value,\n"
    "  string-byte, float-time, string-time, bad-tags, huge (70000 bytes), redirect,\n"
    "  delay:MS (a fixed point after MS milliseconds), after:N:MODE (N fixed points, then MODE)\n";

/* Shared by the connection threads, under sim_lock. */
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static char sim_mode[SIM_MODE_MAX] = "random";
static unsigned long sim_hits;
static unsigned long sim_mode_hits; /* requests served since the last mode switch */
static uint64_t sim_rng;
static double sim_invalid = 0.2;
static bool sim_control;

/* xorshift64*: plenty for simulated sensor noise, and reproducible with --seed. */
static uint64_t sim_next(void)
{
    sim_rng ^= sim_rng >> 12;
    sim_rng ^= sim_rng << 25;
    sim_rng ^= sim_rng >> 27;
    return sim_rng * 2685821657736338717ULL;
}

static double sim_uniform(void)
{
    return (double)(sim_next() >> 11) / 9007199254740992.0;
}

/* The four little-endian bytes of f as a JSON array. */
static json_t *sim_bytes(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return json_pack("[iiii]", (int)(u & 0xff), (int)((u >> 8) & 0xff), (int)((u >> 16) & 0xff),
                     (int)(u >> 24));
}

static json_t *sim_point(json_int_t t, json_t *j_value, const char *tag)
{
    json_t *j_tags = tag != NULL ? json_pack("[s]", tag) : json_array();

    return json_pack("{sI so so}", "time", t, "value", j_value, "tags", j_tags);
}

/* A random point; called under sim_lock (it draws from the generator). */
static json_t *sim_random_point(json_int_t now)
{
    static const char *const bad[] = {"system", "suspect", NULL};
    float f = (float)(sim_uniform() * 100.0 - 50.0);
    json_int_t t = now - (json_int_t)(sim_next() % 5);
    const char *tag = NULL;

    if (sim_uniform() < sim_invalid) {
        tag = bad[sim_next() % 3];
        if (tag == NULL)
            t = now - 3600 - 1 - (json_int_t)(sim_next() % 86400); /* "too old" at ingestion */
    }
    return sim_point(t, sim_bytes(f), tag);
}

struct sim_answer {
    unsigned status;
    char *body;       /* malloc'd */
    const char *type; /* content type */
    const char *location;
    long delay_ms;
};

static void sim_set_json(struct sim_answer *a, json_t *j)
{
    a->body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    a->type = "application/json";
    json_decref(j);
}

/* Builds the answer of mode at time now. Called under sim_lock. */
static void sim_answer_mode(const char *mode, unsigned long nth, json_int_t now,
                            struct sim_answer *a)
{
    const unsigned char fixed[4] = {157, 42, 76, 190};
    json_t *j_fixed = json_pack("[iiii]", fixed[0], fixed[1], fixed[2], fixed[3]);
    unsigned long n;
    int off = 0;
    char *pad;

    a->status = 200;
    if (strncmp(mode, "after:", 6) == 0 && sscanf(mode + 6, "%lu:%n", &n, &off) == 1 && off > 0) {
        if (nth < n) {
            sim_set_json(a, sim_point(now, j_fixed, NULL));
            j_fixed = NULL;
        } else {
            sim_answer_mode(mode + 6 + off, nth, now, a);
        }
    } else if (strcmp(mode, "random") == 0) {
        sim_set_json(a, sim_random_point(now));
    } else if (strcmp(mode, "fixed") == 0) {
        sim_set_json(a, sim_point(now, j_fixed, NULL));
        j_fixed = NULL;
    } else if (strcmp(mode, "system") == 0 || strcmp(mode, "suspect") == 0) {
        sim_set_json(a, sim_point(now, j_fixed, mode));
        j_fixed = NULL;
    } else if (strcmp(mode, "old") == 0) {
        sim_set_json(a, sim_point(now - 7200, j_fixed, NULL));
        j_fixed = NULL;
    } else if (strcmp(mode, "nan") == 0) {
        sim_set_json(a, sim_point(now, json_pack("[iiii]", 0, 0, 192, 127), NULL));
    } else if (strcmp(mode, "inf") == 0) {
        sim_set_json(a, sim_point(now, json_pack("[iiii]", 0, 0, 128, 255), NULL));
    } else if (strncmp(mode, "status:", 7) == 0) {
        a->status = (unsigned)atoi(mode + 7);
        sim_set_json(a, json_pack("{ss}", "error", "simulated failure"));
    } else if (strcmp(mode, "not-json") == 0) {
        a->body = strdup("<html><body>sensor offline</body></html>");
        a->type = "text/html";
    } else if (strcmp(mode, "empty") == 0) {
        a->body = strdup("");
        a->type = "application/json";
    } else if (strcmp(mode, "list") == 0) {
        sim_set_json(a, json_pack("[o]", sim_point(now, j_fixed, NULL)));
        j_fixed = NULL;
    } else if (strcmp(mode, "missing-time") == 0) {
        sim_set_json(a, json_pack("{sOs[]}", "value", j_fixed, "tags"));
    } else if (strcmp(mode, "missing-value") == 0) {
        sim_set_json(a, json_pack("{sIs[]}", "time", now, "tags"));
    } else if (strcmp(mode, "bad-bytes") == 0) {
        sim_set_json(a, sim_point(now, json_pack("[iiii]", 157, 42, 256, 190), NULL));
    } else if (strcmp(mode, "short-value") == 0) {
        sim_set_json(a, sim_point(now, json_pack("[iii]", 157, 42, 76), NULL));
    } else if (strcmp(mode, "string-byte") == 0) {
        sim_set_json(a, sim_point(now, json_pack("[isii]", 157, "42", 76, 190), NULL));
    } else if (strcmp(mode, "float-time") == 0) {
        sim_set_json(a,
                     json_pack("{sfsOs[]}", "time", (double)now + 0.5, "value", j_fixed, "tags"));
    } else if (strcmp(mode, "string-time") == 0) {
        sim_set_json(a, json_pack("{sssOs[]}", "time", "1713798477", "value", j_fixed, "tags"));
    } else if (strcmp(mode, "bad-tags") == 0) {
        sim_set_json(a, json_pack("{sIsOs[i]}", "time", now, "value", j_fixed, "tags", 7));
    } else if (strcmp(mode, "huge") == 0) {
        pad = malloc(70001);
        if (pad != NULL) {
            memset(pad, 'x', 70000);
            pad[70000] = '\0';
            sim_set_json(
                a, json_pack("{sIsOs[]ss}", "time", now, "value", j_fixed, "tags", "padding", pad));
            free(pad);
        }
    } else if (strcmp(mode, "redirect") == 0) {
        a->status = 302;
        a->location = "/";
        a->body = strdup("");
        a->type = "text/plain";
    } else if (strncmp(mode, "delay:", 6) == 0) {
        a->delay_ms = atol(mode + 6);
        sim_set_json(a, sim_point(now, j_fixed, NULL));
        j_fixed = NULL;
    } else {
        a->status = 500;
        sim_set_json(a, json_pack("{ss}", "error", "unknown simulator mode"));
    }
    json_decref(j_fixed);
}

static bool sim_mode_known(const char *mode)
{
    static const char *const plain[] = {
        "random",    "fixed",       "system",      "suspect",    "old",          "nan",
        "inf",       "not-json",    "empty",       "list",       "missing-time", "missing-value",
        "bad-bytes", "short-value", "string-byte", "float-time", "string-time",  "bad-tags",
        "huge",      "redirect",    NULL};
    unsigned long n;
    int off = 0;

    for (int i = 0; plain[i] != NULL; i++)
        if (strcmp(mode, plain[i]) == 0)
            return true;
    if (strncmp(mode, "status:", 7) == 0)
        return atoi(mode + 7) >= 100 && atoi(mode + 7) <= 599;
    if (strncmp(mode, "delay:", 6) == 0)
        return atol(mode + 6) >= 0;
    if (strncmp(mode, "after:", 6) == 0 && sscanf(mode + 6, "%lu:%n", &n, &off) == 1 && off > 0)
        return sim_mode_known(mode + 6 + off);
    return false;
}

static enum MHD_Result sim_send(struct MHD_Connection *conn, struct sim_answer *a)
{
    struct MHD_Response *resp;
    enum MHD_Result ret = MHD_NO;
    const char *body = a->body != NULL ? a->body : "";

    resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        goto cleanup;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    if (a->location != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, a->location);
    ret = MHD_queue_response(conn, a->status, resp);
    MHD_destroy_response(resp);
cleanup:
    free(a->body);
    a->body = NULL;
    return ret;
}

/* /_sim/mode/MODE and /_sim/hits (only with --control). Called under sim_lock. */
static void sim_control_answer(const char *url, struct sim_answer *a)
{
    const char *mode = url + strlen("/_sim/mode/");

    a->status = 200;
    if (strcmp(url, "/_sim/hits") == 0) {
        sim_set_json(a, json_pack("{sI}", "hits", (json_int_t)sim_hits));
    } else if (strncmp(url, "/_sim/mode/", 11) == 0 && strlen(mode) < SIM_MODE_MAX &&
               sim_mode_known(mode)) {
        snprintf(sim_mode, sizeof(sim_mode), "%s", mode);
        sim_mode_hits = 0;
        sim_set_json(a, json_pack("{ss}", "mode", sim_mode));
    } else {
        a->status = 404;
        sim_set_json(a, json_pack("{ss}", "error", "unknown control path or mode"));
    }
}

static enum MHD_Result sim_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct sim_answer a = {0};
    static int first_call;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &first_call; /* headers only so far: wait for the (ignored) body */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    a.type = "application/json";
    pthread_mutex_lock(&sim_lock);
    if (sim_control && strncmp(url, "/_sim/", 6) == 0) {
        sim_control_answer(url, &a);
    } else if (strcmp(method, "GET") != 0) {
        a.status = 405;
        sim_set_json(&a, json_pack("{ss}", "error", "only GET"));
    } else {
        sim_hits++;
        sim_answer_mode(sim_mode, sim_mode_hits++, (json_int_t)time(NULL), &a);
    }
    pthread_mutex_unlock(&sim_lock);
    if (a.delay_ms > 0) {
        struct timespec ts = {a.delay_ms / 1000, (a.delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return sim_send(conn, &a);
}

static const char *sim_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : fallback;
}

static int sim_parse_args(int argc, char **argv, const char **bind, long *port, uint64_t *seed)
{
    char *end;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            fputs(sim_usage, stdout);
            exit(0);
        } else if (strcmp(opt, "--control") == 0) {
            sim_control = true;
            continue;
        }
        if (val == NULL) {
            fprintf(stderr, "lintel-sensor-sim: %s needs a value or is unknown\n%s", opt,
                    sim_usage);
            return -1;
        }
        i++;
        if (strcmp(opt, "--bind") == 0) {
            *bind = val;
        } else if (strcmp(opt, "--port") == 0) {
            *port = strtol(val, &end, 10);
            if (*end != '\0' || *port < 0 || *port > 65535) {
                fprintf(stderr, "lintel-sensor-sim: --port %s is not 0..65535\n", val);
                return -1;
            }
        } else if (strcmp(opt, "--invalid") == 0) {
            sim_invalid = strtod(val, &end);
            if (*end != '\0' || !(sim_invalid >= 0.0 && sim_invalid <= 1.0)) {
                fprintf(stderr, "lintel-sensor-sim: --invalid %s is not 0..1\n", val);
                return -1;
            }
        } else if (strcmp(opt, "--mode") == 0) {
            if (strlen(val) >= SIM_MODE_MAX || !sim_mode_known(val)) {
                fprintf(stderr, "lintel-sensor-sim: unknown --mode %s\n%s", val, sim_usage);
                return -1;
            }
            snprintf(sim_mode, sizeof(sim_mode), "%s", val);
        } else if (strcmp(opt, "--seed") == 0) {
            *seed = strtoull(val, &end, 10);
            if (*end != '\0') {
                fprintf(stderr, "lintel-sensor-sim: --seed %s is not a number\n", val);
                return -1;
            }
        } else {
            fprintf(stderr, "lintel-sensor-sim: unknown option %s\n%s", opt, sim_usage);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *bind = sim_env("LINTEL_SIM_BIND", "127.0.0.1");
    const char *env_mode = sim_env("LINTEL_SIM_MODE", "random");
    long port = strtol(sim_env("LINTEL_SIM_PORT", "8090"), NULL, 10);
    uint64_t seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    struct sockaddr_in sin = {0};
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    sigset_t set;
    int sig, rc = 1;

    sim_invalid = strtod(sim_env("LINTEL_SIM_INVALID", "0.2"), NULL);
    sim_control = strcmp(sim_env("LINTEL_SIM_CONTROL", "0"), "1") == 0;
    if (strlen(env_mode) < SIM_MODE_MAX && sim_mode_known(env_mode))
        snprintf(sim_mode, sizeof(sim_mode), "%s", env_mode);
    if (sim_parse_args(argc, argv, &bind, &port, &seed) != 0)
        return 2;
    sim_rng = seed != 0 ? seed : 88172645463325252ULL;
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &sin.sin_addr) != 1) {
        fprintf(stderr, "lintel-sensor-sim: --bind %s is not an IPv4 address\n", bind);
        return 2;
    }
    /* Signals go to sigwait below, not to the connection threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, sim_handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "lintel-sensor-sim: cannot listen on %s:%ld\n", bind, port);
        goto cleanup;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("lintel-sensor-sim listening on http://%s:%u (mode %s, invalid %.2f)\n", bind,
           info != NULL ? (unsigned)info->port : (unsigned)port, sim_mode, sim_invalid);
    fflush(stdout);
    sigwait(&set, &sig);
    rc = 0;
cleanup:
    if (d != NULL)
        MHD_stop_daemon(d);
    return rc;
}
