/*
 * The baselines of tests/bench/bench_host.sh, in the mode lintel uses (internal epoll thread
 * pool, same connection memory): libmicrohttpd alone, or ulfius on it, answering a JSON "hello".
 * Usage: bench_hello PORT [THREADS [mhd|ulfius]]; stops on SIGTERM/SIGINT.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>
#include <unistd.h>

static const char bench_body[] = "{\"hello\":\"world\"}";

#define BENCH_CONNECTION_MEMORY 32768u /* lintel's default, and libmicrohttpd's */

static enum MHD_Result bench_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = conn; /* first call: headers only */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    resp = MHD_create_response_from_buffer(sizeof(bench_body) - 1, (void *)bench_body,
                                           MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ulfius' fixed cost per request: one endpoint that only sets the body and its type. */
static int bench_ulfius_hello(const struct _u_request *req, struct _u_response *resp, void *data)
{
    (void)req;
    (void)data;
    ulfius_set_binary_body_response(resp, 200, bench_body, sizeof(bench_body) - 1);
    u_map_put(resp->map_header, "Content-Type", "application/json");
    return U_CALLBACK_COMPLETE;
}

static int bench_ulfius_start(struct _u_instance *inst, unsigned port, unsigned threads)
{
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 1024, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, BENCH_CONNECTION_MEMORY, NULL},
        {MHD_OPTION_END, 0, NULL},
    };

    if (ulfius_init_instance(inst, port, NULL, NULL) != U_OK ||
        ulfius_add_endpoint_by_val(inst, "*", NULL, "*", 10, bench_ulfius_hello, NULL) != U_OK)
        return -1;
    return ulfius_start_framework_with_mhd_options(
               inst, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, ops) ==
                   U_OK
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8081;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
    int ulfius = argc > 3 && strcmp(argv[3], "ulfius") == 0;
    struct _u_instance inst;
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (ulfius) {
        if (bench_ulfius_start(&inst, port, threads) != 0) {
            fprintf(stderr, "bench_hello: ulfius cannot listen on %u\n", port);
            return 1;
        }
    } else {
        d = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port,
            NULL, NULL, bench_answer, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)BENCH_CONNECTION_MEMORY, MHD_OPTION_END);
        if (d == NULL) {
            fprintf(stderr, "bench_hello: cannot listen on %u\n", port);
            return 1;
        }
    }
    fprintf(stderr, "bench_hello (%s) listening on http://127.0.0.1:%u (%u threads)\n",
            ulfius ? "ulfius" : "libmicrohttpd", port, threads);
    sigwait(&set, &sig);
    if (ulfius) {
        ulfius_stop_framework(&inst);
        ulfius_clean_instance(&inst);
    } else {
        MHD_stop_daemon(d);
    }
    return 0;
}
