/*
 * libFuzzer harness for WebSocket frames from a client: the input is what a client sends after
 * the 101, run through the real engine (app/ws_conn.c: wslay, limits, drain, close) on a socket.
 */
#include "ws_conn.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Input: byte 0 picks what the server does meanwhile (bit 0: queue an event, bit 1: ask a
 * close); the rest are the client's bytes. They reach the engine as the bytes the HTTP
 * layer read past the request (the path every socket's first bytes take), then the client
 * end closes: the engine must release the socket whatever the frames said.
 */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned long released;

static void on_release(void *handle, int fd)
{
    (void)handle;
    close(fd);
    pthread_mutex_lock(&lock);
    released++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* the server's limits, with short timers so that a stuck socket shows as a timeout */
    const struct ws_conn_limits lim = {.max_sockets = 16,
                                       .max_per_user = 8,
                                       .max_msg = 4096,
                                       .queue_max = 8,
                                       .out_max = 64 * 1024,
                                       .ping_ms = 200,
                                       .idle_ms = 400,
                                       .close_ms = 400};

    (void)argc;
    (void)argv;
    if (ws_conn_start(&lim) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long want;
    unsigned long long id;
    struct timespec until;
    int sv[2];

    if (size < 1)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    pthread_mutex_lock(&lock);
    want = released + 1;
    pthread_mutex_unlock(&lock);
    if (ws_conn_adopt(sv[0], (const char *)data + 1, size - 1, on_release, NULL, 1, NULL, NULL, 0,
                      NULL, &id) != 0)
        abort();
    if (data[0] & 1)
        ws_conn_send(1, "{\"event\":\"fuzz\"}", 16, NULL, NULL);
    if (data[0] & 2)
        ws_conn_close(id, WS_CLOSE_AUTH_ENDED, "fuzz");
    close(sv[1]);
    /* the engine must give the socket back within its timers, never hold it */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&lock);
    while (released < want)
        if (pthread_cond_timedwait(&cond, &lock, &until) != 0)
            abort();
    pthread_mutex_unlock(&lock);
    return 0;
}
