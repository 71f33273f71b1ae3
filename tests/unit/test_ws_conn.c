/*
 * The WebSocket engine (app/ws_conn.c) over socketpair(): delivery, the receive limit, idle
 * timeout, slow readers, caps that count only live sockets, and a shutdown that never waits.
 */
#include "ws_conn.h"

#include "lt_test.h"

#include <check.h>
#include <lintel/plugin.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Long enough for a loaded sanitizer run; the engine answers in milliseconds. */
#define WAIT_MS 10000

static int released;
static pthread_mutex_t released_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_release(void *handle, int fd)
{
    (void)handle;
    close(fd);
    pthread_mutex_lock(&released_lock);
    released++;
    pthread_mutex_unlock(&released_lock);
}

static int released_now(void)
{
    int n;

    pthread_mutex_lock(&released_lock);
    n = released;
    pthread_mutex_unlock(&released_lock);
    return n;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(size_t max_sockets, size_t max_per_user, int ping_ms, int idle_ms)
{
    struct ws_conn_limits lim = {.max_sockets = max_sockets,
                                 .max_per_user = max_per_user,
                                 .max_msg = 4096,
                                 .queue_max = 8,
                                 .out_max = 64 * 1024,
                                 .ping_ms = ping_ms,
                                 .idle_ms = idle_ms,
                                 .close_ms = 300};

    released = 0;
    ck_assert_int_eq(ws_conn_start(&lim), 0);
}

/* A socketpair: the server end goes to the engine, the client end is returned. */
static int open_conn(long long user_id, const char *extra, size_t extra_len, int close_code,
                     unsigned long long *id)
{
    int sv[2];
    unsigned long long tmp;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ws_conn_adopt(sv[0], extra, extra_len, on_release, NULL, user_id, NULL, NULL,
                                   close_code, close_code != 0 ? "refused" : NULL,
                                   id != NULL ? id : &tmp),
                     0);
    return sv[1];
}

static int read_full(int fd, unsigned char *buf, size_t n)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    size_t got = 0;

    while (got < n) {
        ssize_t r;
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            return -1;
        r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The next server frame: opcode, payload (malloc'd, NUL-terminated); -1 at EOF. */
static int frame(int fd, char **payload, size_t *plen)
{
    unsigned char h[2], ext[8];
    size_t n;

    *payload = NULL;
    if (read_full(fd, h, 2) != 0)
        return -1;
    ck_assert_int_eq(h[1] & 0x80, 0);
    n = h[1] & 0x7f;
    if (n == 126) {
        ck_assert_int_eq(read_full(fd, ext, 2), 0);
        n = ((size_t)ext[0] << 8) | ext[1];
    }
    ck_assert_uint_lt(n, 126 * 1024);
    *payload = calloc(1, n + 1);
    if (n > 0)
        ck_assert_int_eq(read_full(fd, (unsigned char *)*payload, n), 0);
    *plen = n;
    return h[0] & 0x0f;
}

/* Skips text and ping frames up to the close frame; returns its code (-1: EOF first). */
static int close_code_of(int fd)
{
    char *p;
    size_t n;
    int op, code = -1;

    while ((op = frame(fd, &p, &n)) == 1 || op == 9)
        free(p);
    if (op == 8 && n >= 2)
        code = ((unsigned char)p[0] << 8) | (unsigned char)p[1];
    free(p);
    return code;
}

/* A masked client frame header + payload into out; returns its length. */
static size_t client_frame(unsigned char *out, int fin, int opcode, const void *data, size_t len,
                           uint64_t declared)
{
    static const unsigned char mask[4] = {1, 2, 3, 4};
    size_t o = 0, i;

    out[o++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (declared < 126) {
        out[o++] = (unsigned char)(0x80 | declared);
    } else if (declared <= 0xffff) {
        out[o++] = 0x80 | 126;
        out[o++] = (unsigned char)(declared >> 8);
        out[o++] = (unsigned char)declared;
    } else {
        out[o++] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            out[o++] = (unsigned char)(declared >> (56 - 8 * i));
    }
    memcpy(out + o, mask, 4);
    o += 4;
    for (i = 0; i < len; i++)
        out[o + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    return o + len;
}

static void wait_released(int n)
{
    long long until = now_ms() + WAIT_MS;

    while (released_now() < n && now_ms() < until)
        usleep(5000);
    ck_assert_int_ge(released_now(), n);
}

START_TEST(events_reach_only_the_users_sockets)
{
    int a, b;
    char *p;
    size_t n;

    start(16, 4, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    b = open_conn(8, NULL, 0, 0, NULL);
    ck_assert_uint_eq(ws_conn_send(7, "{\"event\":\"x\"}", 13, NULL, NULL), 1);
    ck_assert_int_eq(frame(a, &p, &n), 1);
    ck_assert_str_eq(p, "{\"event\":\"x\"}");
    free(p);
    ck_assert_uint_eq(ws_conn_count(7), 1);
    ck_assert_uint_eq(ws_conn_count(0), 2);
    ws_conn_stop(2000);
    ck_assert_int_eq(close_code_of(a), WS_CLOSE_GOING_AWAY);
    ck_assert_int_eq(close_code_of(b), WS_CLOSE_GOING_AWAY);
    ck_assert_int_eq(released_now(), 2);
    close(a);
    close(b);
}
END_TEST

START_TEST(extra_bytes_are_read_first)
{
    unsigned char ping[64];
    size_t len = client_frame(ping, 1, 9, "hi", 2, 2);
    char *p;
    size_t n;
    int a;

    start(16, 4, 60000, 120000);
    /* the HTTP layer had read a ping past the request: it is answered like any other */
    a = open_conn(7, (const char *)ping, len, 0, NULL);
    ck_assert_int_eq(frame(a, &p, &n), 10);
    ck_assert_str_eq(p, "hi");
    free(p);
    ws_conn_stop(2000);
    close(a);
}
END_TEST

START_TEST(huge_declared_length_closes_1009)
{
    unsigned char buf[64];
    size_t len = client_frame(buf, 1, 2, "0123456789abcdef", 16, UINT64_C(1) << 62);
    int a;

    start(16, 4, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    /* the header and the first bytes: refused on the declared length, nothing allocated */
    ck_assert_int_eq(send(a, buf, len, MSG_NOSIGNAL), (ssize_t)len);
    ck_assert_int_eq(close_code_of(a), WS_CLOSE_TOO_BIG);
    ck_assert_uint_eq(ws_conn_count(7), 0); /* a closing socket no longer counts */
    close(a);
    wait_released(1);
    ws_conn_stop(2000);
}
END_TEST

START_TEST(fragments_over_the_limit_close_1009)
{
    unsigned char chunk[1024], buf[1100];
    size_t len;
    int a, i, code;

    memset(chunk, 'a', sizeof(chunk));
    start(16, 4, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    /* 1 KiB fragments of one message: the fifth passes 4096 bytes */
    for (i = 0; i < 8; i++) {
        len = client_frame(buf, 0, i == 0 ? 1 : 0, chunk, sizeof(chunk), sizeof(chunk));
        if (send(a, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
            break;
    }
    code = close_code_of(a);
    ck_assert_int_eq(code, WS_CLOSE_TOO_BIG);
    close(a);
    wait_released(1);
    ws_conn_stop(2000);
}
END_TEST

START_TEST(silent_client_gets_ping_then_idle_close)
{
    char *p;
    size_t n;
    int a;

    start(16, 4, 100, 400);
    a = open_conn(7, NULL, 0, 0, NULL);
    ck_assert_int_eq(frame(a, &p, &n), 9); /* the ping */
    free(p);
    ck_assert_int_eq(close_code_of(a), WS_CLOSE_IDLE);
    close(a);
    wait_released(1);
    ws_conn_stop(2000);
}
END_TEST

START_TEST(pong_keeps_the_socket_open)
{
    unsigned char buf[64];
    size_t len = client_frame(buf, 1, 10, NULL, 0, 0);
    long long until;
    char *p;
    size_t n;
    int a;

    start(16, 4, 100, 400);
    a = open_conn(7, NULL, 0, 0, NULL);
    until = now_ms() + 1200; /* three idle timeouts */
    while (now_ms() < until) {
        ck_assert_int_eq(frame(a, &p, &n), 9);
        free(p);
        ck_assert_int_eq(send(a, buf, len, MSG_NOSIGNAL), (ssize_t)len);
    }
    ck_assert_uint_eq(ws_conn_count(7), 1);
    ws_conn_stop(2000);
    close(a);
}
END_TEST

START_TEST(slow_reader_is_closed_not_buffered)
{
    char text[16 * 1024];
    int a, sz = 4096, i;

    memset(text, 'x', sizeof(text));
    text[0] = '"';
    text[sizeof(text) - 1] = '"';
    start(16, 4, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    ck_assert_int_eq(setsockopt(a, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
    /* the client reads nothing: the engine closes it instead of holding more and more */
    for (i = 0; i < 10000 && ws_conn_count(7) == 1; i++) {
        ws_conn_send(7, text, sizeof(text), NULL, NULL);
        usleep(1000);
    }
    ck_assert_uint_eq(ws_conn_count(7), 0);
    ck_assert_int_lt(i, 10000);
    wait_released(1); /* dropped after close_ms even though the close frame cannot go out */
    close(a);
    ws_conn_stop(2000);
}
END_TEST

START_TEST(ping_flood_without_reading_is_dropped)
{
    unsigned char ping[64];
    size_t len = client_frame(ping, 1, 9, "0123456789", 10, 10);
    int a, sz = 4096, i;

    start(16, 4, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    ck_assert_int_eq(setsockopt(a, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
    /* every ping wants a pong the client never reads: the engine drops it, not queues on */
    for (i = 0; i < 200000 && released_now() == 0; i++)
        if (send(a, ping, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            usleep(1000);
    wait_released(1);
    ck_assert_uint_eq(ws_conn_count(7), 0);
    close(a);
    ws_conn_stop(2000);
}
END_TEST

START_TEST(caps_count_live_sockets_only)
{
    int a, b, c, d;

    start(16, 2, 60000, 120000);
    a = open_conn(7, NULL, 0, 0, NULL);
    b = open_conn(7, NULL, 0, 0, NULL);
    c = open_conn(7, NULL, 0, 0, NULL);
    ck_assert_int_eq(close_code_of(c), WS_CLOSE_TRY_LATER);
    ck_assert_uint_eq(ws_conn_count(7), 2);
    /* a refused socket (bad token) never counts */
    d = open_conn(7, NULL, 0, WS_CLOSE_POLICY, NULL);
    ck_assert_int_eq(close_code_of(d), WS_CLOSE_POLICY);
    ck_assert_uint_eq(ws_conn_count(7), 2);
    /* a client that vanishes frees its slot */
    close(a);
    close(c);
    close(d);
    wait_released(3);
    ck_assert_uint_eq(ws_conn_count(7), 1);
    a = open_conn(7, NULL, 0, 0, NULL);
    ck_assert_uint_eq(ws_conn_count(7), 2);
    ws_conn_stop(2000);
    close(a);
    close(b);
}
END_TEST

START_TEST(stop_never_waits_on_clients)
{
    int fds[6], i;
    long long t0;

    start(16, 8, 60000, 120000);
    for (i = 0; i < 6; i++)
        fds[i] = open_conn(7, NULL, 0, 0, NULL);
    /* nobody reads or answers the close: the engine gives up after the grace period */
    t0 = now_ms();
    ws_conn_stop(500);
    ck_assert_int_lt(now_ms() - t0, 3000);
    ck_assert_int_eq(released_now(), 6);
    ck_assert_uint_eq(ws_conn_held(), 0);
    for (i = 0; i < 6; i++)
        close(fds[i]);
    /* after the stop, adopt refuses and still releases the connection */
    {
        int sv[2];
        unsigned long long id;
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        ck_assert_int_eq(
            ws_conn_adopt(sv[0], NULL, 0, on_release, NULL, 7, NULL, NULL, 0, NULL, &id),
            LINTEL_EUNAVAIL);
        ck_assert_int_eq(released_now(), 7);
        close(sv[1]);
    }
}
END_TEST

/* A socket is registered before its 101: what is published meanwhile waits for it. */
START_TEST(reserved_socket_gets_events_sent_before_attach)
{
    unsigned long long id, gone;
    int sv[2];
    char *p;
    size_t n;

    start(16, 4, 60000, 120000);
    ck_assert_int_eq(ws_conn_reserve(7, NULL, NULL, 0, NULL, &id), 0);
    ck_assert_uint_eq(ws_conn_count(7), 1);
    ck_assert_uint_eq(ws_conn_send(7, "early", 5, NULL, NULL), 1);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ws_conn_attach(id, sv[0], NULL, 0, on_release, NULL), 0);
    ck_assert_int_eq(frame(sv[1], &p, &n), 1);
    ck_assert_str_eq(p, "early");
    free(p);
    /* a reservation whose 101 never went out stops counting at once */
    ck_assert_int_eq(ws_conn_reserve(7, NULL, NULL, 0, NULL, &gone), 0);
    ck_assert_uint_eq(ws_conn_count(7), 2);
    ws_conn_cancel(gone);
    ck_assert_uint_eq(ws_conn_count(7), 1);
    ws_conn_stop(2000);
    close(sv[1]);
}
END_TEST

struct late_attach {
    unsigned long long id;
    int fd, rc;
};

static void *attach_late(void *arg)
{
    struct late_attach *l = arg;

    usleep(200000); /* the stop has begun */
    l->rc = ws_conn_attach(l->id, l->fd, NULL, 0, on_release, NULL);
    return NULL;
}

/* SIGTERM between the 101 and the hand-over: the socket still gets its 1001. */
START_TEST(stop_waits_for_a_reserved_socket_within_grace)
{
    struct late_attach l;
    pthread_t th;
    int sv[2];

    start(16, 4, 60000, 120000);
    ck_assert_int_eq(ws_conn_reserve(7, NULL, NULL, 0, NULL, &l.id), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    l.fd = sv[0];
    l.rc = -99;
    ck_assert_int_eq(pthread_create(&th, NULL, attach_late, &l), 0);
    ws_conn_stop(3000);
    pthread_join(th, NULL);
    ck_assert_int_eq(l.rc, 0);
    ck_assert_int_eq(close_code_of(sv[1]), WS_CLOSE_GOING_AWAY);
    ck_assert_int_eq(released_now(), 1);
    close(sv[1]);
}
END_TEST

static bool want_even(const void *data, const void *arg)
{
    (void)arg;
    return ((uintptr_t)data & 1) == 0;
}

START_TEST(filter_decides_per_socket)
{
    int sv[2], a, b;
    unsigned long long id;
    char *p;
    size_t n;

    start(16, 4, 60000, 120000);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ws_conn_adopt(sv[0], NULL, 0, on_release, NULL, 7, (void *)(uintptr_t)2, NULL,
                                   0, NULL, &id),
                     0);
    a = sv[1];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ws_conn_adopt(sv[0], NULL, 0, on_release, NULL, 7, (void *)(uintptr_t)3, NULL,
                                   0, NULL, &id),
                     0);
    b = sv[1];
    ck_assert_uint_eq(ws_conn_send(7, "1", 1, want_even, NULL), 1);
    ck_assert_int_eq(frame(a, &p, &n), 1);
    free(p);
    ws_conn_stop(2000);
    ck_assert_int_eq(close_code_of(b), WS_CLOSE_GOING_AWAY); /* b got no event before it */
    close(a);
    close(b);
}
END_TEST

static Suite *ws_conn_suite(void)
{
    Suite *s = suite_create("ws_conn");
    TCase *tc = tcase_create("ws_conn");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, events_reach_only_the_users_sockets);
    tcase_add_test(tc, extra_bytes_are_read_first);
    tcase_add_test(tc, huge_declared_length_closes_1009);
    tcase_add_test(tc, fragments_over_the_limit_close_1009);
    tcase_add_test(tc, silent_client_gets_ping_then_idle_close);
    tcase_add_test(tc, pong_keeps_the_socket_open);
    tcase_add_test(tc, slow_reader_is_closed_not_buffered);
    tcase_add_test(tc, ping_flood_without_reading_is_dropped);
    tcase_add_test(tc, caps_count_live_sockets_only);
    tcase_add_test(tc, stop_never_waits_on_clients);
    tcase_add_test(tc, filter_decides_per_socket);
    tcase_add_test(tc, reserved_socket_gets_events_sent_before_attach);
    tcase_add_test(tc, stop_waits_for_a_reserved_socket_within_grace);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(ws_conn_suite)
