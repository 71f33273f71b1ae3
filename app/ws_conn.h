/*
 * The WebSocket socket engine: upgraded connections run by libwslay on one epoll thread, each
 * with bounded memory (message limit, bounded send queue), ping/idle timeout and caps.
 */
#ifndef LINTEL_APP_WS_CONN_H
#define LINTEL_APP_WS_CONN_H

#include <stdbool.h>
#include <stddef.h>

/* Close codes sent by the server (RFC 6455 section 7.4, plus private 4xxx codes). */
#define WS_CLOSE_GOING_AWAY 1001 /* the server stops                                     */
#define WS_CLOSE_POLICY     1008 /* bad or missing token, or Origin not allowed at connect */
#define WS_CLOSE_TOO_BIG    1009 /* a message or frame larger than the receive limit       */
#define WS_CLOSE_INTERNAL   1011 /* the database could not be asked at connect             */
#define WS_CLOSE_TRY_LATER  1013 /* too many sockets, or the client reads too slowly        */
#define WS_CLOSE_AUTH_ENDED 4401 /* logged out, deleted, session ended or token expired     */
#define WS_CLOSE_IDLE       4408 /* nothing (not even a pong) came back within the timeout  */

struct ws_conn_limits {
    size_t max_sockets;  /* live sockets in the process                                   */
    size_t max_per_user; /* live sockets of one user                                      */
    size_t max_msg;      /* largest message (and frame) accepted from a client; else 1009  */
    size_t queue_max;    /* events waiting on one socket; one more closes it (1013)         */
    size_t out_max;      /* bytes waiting in the socket's send queue; more closes it (1013) */
    int ping_ms;         /* a ping goes out after this much silence from the client         */
    int idle_ms;         /* a socket that sent nothing for this long is closed (4408)       */
    int close_ms;        /* a closing socket is dropped after this long, answered or not    */
};

/* What the engine calls to give a connection back (e.g. MHD_upgrade_action CLOSE). */
typedef void (*ws_conn_release_fn)(void *handle, int fd);

/* Starts the poll thread. Limits are copied. */
int ws_conn_start(const struct ws_conn_limits *lim);

/*
 * Closes every socket with 1001, waits up to grace_ms for the close handshakes, drops what
 * is left, and stops the thread. Afterwards ws_conn_adopt refuses. Safe to call twice.
 */
void ws_conn_stop(int grace_ms);

/*
 * Registers a socket before its 101 goes out, so that it counts and receives events from
 * then on: data (freed with data_free when the socket ends) is the caller's per-socket
 * record, read under the engine lock by ws_conn_send's filter and ws_conn_with; close_code
 * != 0 opens a socket only to close it (a refused token). A socket over the caps gets 1013
 * and never counts. Then exactly one of ws_conn_attach (the 101 went out) or ws_conn_cancel
 * (it did not); a reservation not attached within 10 s is dropped. Returns 0 and *id, or
 * LINTEL_EUNAVAIL (stopped or out of room; data freed), LINTEL_ENOMEM.
 */
int ws_conn_reserve(long long user_id, void *data, void (*data_free)(void *data), int close_code,
                    const char *close_reason, unsigned long long *id);

/*
 * Hands reserved socket id its connection: fd (made non-blocking), extra (copied; bytes the
 * HTTP layer read past the request), release (called once, instead of close(fd)). When id is
 * gone (cancelled, dropped, the engine stopped) the connection is released at once and
 * LINTEL_EUNAVAIL returned.
 */
int ws_conn_attach(unsigned long long id, int fd, const char *extra, size_t extra_len,
                   ws_conn_release_fn release, void *handle);

/* The 101 never went out: forget reserved socket id. */
void ws_conn_cancel(unsigned long long id);

/* ws_conn_reserve then ws_conn_attach (tests, fuzzing); on failure fd is released. */
int ws_conn_adopt(int fd, const char *extra, size_t extra_len, ws_conn_release_fn release,
                  void *handle, long long user_id, void *data, void (*data_free)(void *data),
                  int close_code, const char *close_reason, unsigned long long *id);

/*
 * Queues text (copied) on every live socket of user_id for which want(data, arg) is true
 * (want NULL: every one). Never blocks on the network; a socket whose queue is full is
 * closed with 1013. Returns how many sockets got it.
 */
size_t ws_conn_send(long long user_id, const char *text, size_t len,
                    bool (*want)(const void *data, const void *arg), const void *arg);

/* Asks socket id to close with code and reason (static text); the first request wins. */
void ws_conn_close(unsigned long long id, int code, const char *reason);

/* Runs fn(id, user_id, data, arg) for every live socket, under the engine lock: no I/O there. */
void ws_conn_each(void (*fn)(unsigned long long id, long long user_id, void *data, void *arg),
                  void *arg);

/* Runs fn(data, arg) on socket id under the engine lock; false when it is gone. */
bool ws_conn_with(unsigned long long id, void (*fn)(void *data, void *arg), void *arg);

/* Live sockets (not closing) of user_id, or of everyone with user_id 0. */
size_t ws_conn_count(long long user_id);

/* Every socket the engine holds, closing ones included (tests, shutdown checks). */
size_t ws_conn_held(void);

#endif /* LINTEL_APP_WS_CONN_H */
