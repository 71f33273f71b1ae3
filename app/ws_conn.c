/*
 * The WebSocket socket engine: every upgraded connection is a non-blocking fd plus a wslay
 * event context, all served by one epoll thread; other threads only queue under one lock.
 */
#include "ws_conn.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

/*
 * Threading: one thread owns every wslay context and does all socket I/O (epoll, level-
 * triggered). Publishers, the session watcher and the HTTP threads that adopt sockets take
 * `eng.lock`, change the shared part of a connection (its pending texts, a close request)
 * and wake the thread through an eventfd. Nothing but that thread ever frees a connection,
 * so a pointer found on the list under the lock is valid until the lock is released.
 */

#define WS_TICK_MS     100         /* timers (ping, idle, close) are checked this often */
#define WS_READ_BUDGET (64 * 1024) /* bytes read from one socket per round: fairness     */
#define WS_MAX_EVENTS  64
#define WS_REASON_MAX  122   /* RFC 6455 5.5: control payload 125 bytes, 2 for the code */
#define WS_HOLD_FACTOR 2     /* closing sockets may add this many times the live cap      */
#define WS_ATTACH_MS   10000 /* from reserve (before the 101) to attach (after it)        */
#define WS_CTRL_SLACK  256   /* pongs and closes waiting beyond the events: a flood       */

struct ws_conn {
    /* shared: guarded by eng.lock */
    unsigned long long id;
    long long user_id;
    void *data;
    void (*data_free)(void *data);
    char **pending; /* ring of queue_max malloc'd texts waiting for the poll thread      */
    size_t *pending_len;
    size_t phead, plen;
    int close_code; /* requested close (first wins); 0: none                             */
    const char *close_reason;
    bool closing; /* a close was requested: no longer live, no longer counted             */
    bool added;   /* registered with epoll (poll thread)                                   */
    struct ws_conn *next;

    /* poll thread only */
    int fd;
    ws_conn_release_fn release;
    void *handle;
    wslay_event_context_ptr ctx;
    char *extra; /* bytes read by the HTTP layer past the request, served first */
    size_t extra_len, extra_off;
    size_t read_round;   /* bytes read in this round                                   */
    long long last_rx;   /* monotonic ms of the last byte from the client              */
    long long ping_at;   /* when the outstanding ping went out; 0: none                 */
    long long close_at;  /* when the close was queued; 0: not yet                       */
    uint32_t epoll_mask; /* events registered                                           */
    long long attach_by; /* a reserved socket not attached by then is dropped         */
    bool draining;       /* our close is out after a protocol failure: read and discard */
    bool dead;           /* the socket failed or both sides closed: drop it             */
};

static struct {
    pthread_mutex_t lock;
    struct ws_conn *list;
    size_t live, held;
    unsigned long long next_id;
    struct ws_conn_limits lim;
    int epfd, wakefd;
    bool running, stopping;
    long long stop_deadline;
    pthread_t thread;
} eng = {.lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .wakefd = -1};

static long long ws_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ws_wake(void)
{
    uint64_t one = 1;

    if (eng.wakefd >= 0 && write(eng.wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_debug("ws: cannot wake the poll thread: %s", strerror(errno));
}

/* ---- wslay callbacks (poll thread) ---- */

/* A failed recv or send, told to wslay: try later (EAGAIN), or the socket is done. -1. */
static ssize_t ws_io_error(wslay_event_context_ptr ctx)
{
    wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user_data)
{
    struct ws_conn *c = user_data;
    ssize_t r;

    (void)flags;
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off;
        if (n > len)
            n = len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        c->last_rx = ws_now_ms();
        return (ssize_t)n;
    }
    if (c->read_round >= WS_READ_BUDGET) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* the others get their turn */
        return -1;
    }
    if (len > WS_READ_BUDGET - c->read_round)
        len = WS_READ_BUDGET - c->read_round;
    do {
        r = recv(c->fd, buf, len, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return ws_io_error(ctx);
    if (r == 0) { /* the client went away without a close frame */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    c->read_round += (size_t)r;
    c->last_rx = ws_now_ms();
    c->ping_at = 0;
    return r;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user_data)
{
    struct ws_conn *c = user_data;
    ssize_t r;

    (void)flags;
    do {
        r = send(c->fd, data, len, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return ws_io_error(ctx);
    return r;
}

/* Client messages carry nothing the server uses: wslay answers pings and closes itself. */
static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user_data)
{
    (void)ctx;
    (void)arg;
    (void)user_data;
}

/* ---- connections ---- */

static void ws_pending_drop(struct ws_conn *c)
{
    while (c->plen > 0) {
        free(c->pending[c->phead]);
        c->pending[c->phead] = NULL;
        c->phead = (c->phead + 1) % eng.lim.queue_max;
        c->plen--;
    }
}

/* Marks c closing (under eng.lock); the poll thread queues the close frame. */
static void ws_request_close(struct ws_conn *c, int code, const char *reason)
{
    if (c->close_code != 0)
        return;
    c->close_code = code;
    c->close_reason = reason;
    if (!c->closing) {
        c->closing = true;
        eng.live--;
    }
}

static void ws_conn_free(struct ws_conn *c)
{
    if (c == NULL)
        return;
    ws_pending_drop(c);
    if (c->ctx != NULL)
        wslay_event_context_free(c->ctx);
    if (c->fd >= 0 && c->release != NULL)
        c->release(c->handle, c->fd);
    if (c->data_free != NULL)
        c->data_free(c->data);
    free(c->pending);
    free(c->pending_len);
    free(c->extra);
    free(c);
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

/* A socket record without its connection yet (fd -1: reserved before the 101). */
static struct ws_conn *ws_conn_new(void)
{
    struct ws_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->fd = -1;
    c->pending = calloc(eng.lim.queue_max, sizeof(*c->pending));
    c->pending_len = calloc(eng.lim.queue_max, sizeof(*c->pending_len));
    if (c->pending == NULL || c->pending_len == NULL ||
        wslay_event_context_server_init(&c->ctx, &ws_callbacks, c) != 0) {
        ws_conn_free(c);
        return NULL;
    }
    /* The limit holds for a whole message: wslay refuses a frame whose declared length would
     * pass it before it allocates or reads the payload, and queues the close with 1009. */
    wslay_event_config_set_max_recv_msg_length(c->ctx, eng.lim.max_msg);
    c->last_rx = ws_now_ms();
    return c;
}

int ws_conn_reserve(long long user_id, void *data, void (*data_free)(void *data), int close_code,
                    const char *close_reason, unsigned long long *id)
{
    struct ws_conn *c = NULL;
    int rc = LINTEL_EUNAVAIL;

    *id = 0;
    pthread_mutex_lock(&eng.lock);
    if (!eng.running || eng.stopping ||
        eng.held >= eng.lim.max_sockets * WS_HOLD_FACTOR + eng.lim.max_per_user)
        goto cleanup; /* no room even to say so: the socket is just closed */
    c = ws_conn_new();
    if (c == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    c->id = ++eng.next_id;
    c->user_id = user_id;
    c->data = data;
    c->data_free = data_free;
    data = NULL;
    c->attach_by = ws_now_ms() + WS_ATTACH_MS;
    eng.live++;
    eng.held++;
    if (close_code != 0) {
        ws_request_close(c, close_code, close_reason);
    } else if (eng.live > eng.lim.max_sockets) {
        ws_request_close(c, WS_CLOSE_TRY_LATER, "too many sockets");
    } else if (user_id > 0) {
        size_t mine = 0;
        struct ws_conn *o;
        for (o = eng.list; o != NULL; o = o->next)
            if (o->user_id == user_id && !o->closing)
                mine++;
        if (mine >= eng.lim.max_per_user)
            ws_request_close(c, WS_CLOSE_TRY_LATER, "too many sockets for this user");
    }
    c->next = eng.list;
    eng.list = c;
    *id = c->id;
    rc = 0;
cleanup:
    pthread_mutex_unlock(&eng.lock);
    if (data != NULL && data_free != NULL)
        data_free(data);
    return rc;
}

int ws_conn_attach(unsigned long long id, int fd, const char *extra, size_t extra_len,
                   ws_conn_release_fn release, void *handle)
{
    struct ws_conn *c;
    char *copy = NULL;
    int flags, rc = LINTEL_EUNAVAIL;

    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        ws_conn_cancel(id);
        goto cleanup;
    }
    if (extra_len > 0) {
        copy = malloc(extra_len);
        if (copy == NULL) {
            ws_conn_cancel(id);
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        memcpy(copy, extra, extra_len);
    }
    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL; c = c->next) {
        if (c->id != id || c->fd >= 0 || c->dead)
            continue;
        c->fd = fd;
        c->release = release;
        c->handle = handle;
        c->extra = copy;
        c->extra_len = extra_len;
        c->last_rx = ws_now_ms();
        copy = NULL;
        fd = -1;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&eng.lock);
    ws_wake();
cleanup:
    free(copy);
    if (fd >= 0 && release != NULL)
        release(handle, fd);
    return rc;
}

void ws_conn_cancel(unsigned long long id)
{
    struct ws_conn *c;

    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL; c = c->next) {
        if (c->id != id || c->fd >= 0)
            continue;
        if (!c->closing) { /* stops counting now; the poll thread frees it */
            c->closing = true;
            eng.live--;
        }
        c->dead = true;
    }
    pthread_mutex_unlock(&eng.lock);
    ws_wake();
}

int ws_conn_adopt(int fd, const char *extra, size_t extra_len, ws_conn_release_fn release,
                  void *handle, long long user_id, void *data, void (*data_free)(void *data),
                  int close_code, const char *close_reason, unsigned long long *id)
{
    int rc = ws_conn_reserve(user_id, data, data_free, close_code, close_reason, id);

    if (rc != 0) {
        if (release != NULL)
            release(handle, fd);
        return rc;
    }
    return ws_conn_attach(*id, fd, extra, extra_len, release, handle);
}

size_t ws_conn_send(long long user_id, const char *text, size_t len,
                    bool (*want)(const void *data, const void *arg), const void *arg)
{
    struct ws_conn *c;
    size_t sent = 0;
    bool any = false;

    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL; c = c->next) {
        char *copy;
        size_t slot;
        if (c->user_id != user_id || c->closing || (want != NULL && !want(c->data, arg)))
            continue;
        if (c->plen >= eng.lim.queue_max) {
            ws_request_close(c, WS_CLOSE_TRY_LATER, "the client reads too slowly");
            any = true;
            continue;
        }
        copy = malloc(len + 1);
        if (copy == NULL)
            continue; /* best effort: this socket misses the event */
        memcpy(copy, text, len);
        copy[len] = '\0';
        slot = (c->phead + c->plen) % eng.lim.queue_max;
        c->pending[slot] = copy;
        c->pending_len[slot] = len;
        c->plen++;
        sent++;
        any = true;
    }
    pthread_mutex_unlock(&eng.lock);
    if (any)
        ws_wake();
    return sent;
}

void ws_conn_close(unsigned long long id, int code, const char *reason)
{
    struct ws_conn *c;

    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL; c = c->next)
        if (c->id == id)
            ws_request_close(c, code, reason);
    pthread_mutex_unlock(&eng.lock);
    ws_wake();
}

void ws_conn_each(void (*fn)(unsigned long long id, long long user_id, void *data, void *arg),
                  void *arg)
{
    struct ws_conn *c;

    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL; c = c->next)
        if (!c->closing)
            fn(c->id, c->user_id, c->data, arg);
    pthread_mutex_unlock(&eng.lock);
}

bool ws_conn_with(unsigned long long id, void (*fn)(void *data, void *arg), void *arg)
{
    struct ws_conn *c;
    bool found = false;

    pthread_mutex_lock(&eng.lock);
    for (c = eng.list; c != NULL && !found; c = c->next) {
        if (c->id == id && !c->closing) {
            fn(c->data, arg);
            found = true;
        }
    }
    pthread_mutex_unlock(&eng.lock);
    return found;
}

size_t ws_conn_count(long long user_id)
{
    struct ws_conn *c;
    size_t n = 0;

    pthread_mutex_lock(&eng.lock);
    if (user_id == 0) {
        n = eng.live;
    } else {
        for (c = eng.list; c != NULL; c = c->next)
            if (c->user_id == user_id && !c->closing)
                n++;
    }
    pthread_mutex_unlock(&eng.lock);
    return n;
}

size_t ws_conn_held(void)
{
    size_t n;

    pthread_mutex_lock(&eng.lock);
    n = eng.held;
    pthread_mutex_unlock(&eng.lock);
    return n;
}

/* ---- the poll thread ---- */

/* Under eng.lock: moves pending texts into wslay and turns a close request into a frame. */
static void ws_prepare(struct ws_conn *c, long long now)
{
    while (c->plen > 0 && !c->closing) {
        struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)c->pending[c->phead],
                                      c->pending_len[c->phead]};
        if (wslay_event_get_queued_msg_length(c->ctx) + msg.msg_length > eng.lim.out_max) {
            /* the client does not read what it is sent: close rather than hold more */
            ws_request_close(c, WS_CLOSE_TRY_LATER, "the client reads too slowly");
            break;
        }
        if (wslay_event_queue_msg(c->ctx, &msg) != 0)
            break;
        free(c->pending[c->phead]);
        c->pending[c->phead] = NULL;
        c->phead = (c->phead + 1) % eng.lim.queue_max;
        c->plen--;
    }
    if (c->closing) {
        ws_pending_drop(c);
        if (c->close_at == 0) {
            const char *reason = c->close_reason != NULL ? c->close_reason : "";
            size_t rlen = strlen(reason);
            if (rlen > WS_REASON_MAX)
                rlen = WS_REASON_MAX;
            c->close_at = now;
            if (c->close_code == 0)
                c->close_code = WS_CLOSE_GOING_AWAY;
            /* fails only when a close is already queued (the client's came first) */
            wslay_event_queue_close(c->ctx, (uint16_t)c->close_code, (const uint8_t *)reason, rlen);
        }
    }
}

static void ws_update_epoll(struct ws_conn *c)
{
    struct epoll_event ev = {0};
    uint32_t mask = 0;

    if (c->draining || wslay_event_want_read(c->ctx))
        mask |= EPOLLIN;
    if (wslay_event_want_write(c->ctx))
        mask |= EPOLLOUT;
    if (!c->added) {
        ev.events = mask;
        ev.data.ptr = c;
        if (epoll_ctl(eng.epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            c->dead = true;
            return;
        }
        c->added = true;
        c->epoll_mask = mask;
        return;
    }
    if (mask == c->epoll_mask)
        return;
    ev.events = mask;
    ev.data.ptr = c;
    if (epoll_ctl(eng.epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        c->dead = true;
    c->epoll_mask = mask;
}

/*
 * After the server failed a connection (1009, 1002, 1007: wslay stops reading), the client
 * may still be sending; closing at once would answer its bytes with a reset that can destroy
 * the close frame in flight. So the write side is shut and what arrives is read and thrown
 * away (no memory held) until the client closes or close_ms passes.
 */
static void ws_drain(struct ws_conn *c)
{
    char scratch[4096];
    size_t budget = WS_READ_BUDGET;
    ssize_t r;

    while (budget > 0) {
        r = recv(c->fd, scratch, sizeof(scratch), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            c->dead = true;
            return;
        }
        budget -= (size_t)r < budget ? (size_t)r : budget;
    }
}

/* Reads and writes what the socket allows; marks it dead when it is finished or failed. */
static void ws_io(struct ws_conn *c, uint32_t events)
{
    c->read_round = 0;
    if (c->draining) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            ws_drain(c);
        return;
    }
    if (((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->extra_off < c->extra_len) &&
        wslay_event_want_read(c->ctx) && wslay_event_recv(c->ctx) != 0)
        c->dead = true;
    if (!c->dead && wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0)
        c->dead = true;
    /*
     * wslay queues a pong for every ping and a close for a close: a client that sends them
     * and does not read would grow that queue without end. It cannot be told (its socket is
     * full), so it is dropped.
     */
    if (wslay_event_get_queued_msg_length(c->ctx) > eng.lim.out_max ||
        wslay_event_get_queued_msg_count(c->ctx) > eng.lim.queue_max + WS_CTRL_SLACK)
        c->dead = true;
    if (c->dead || wslay_event_want_write(c->ctx))
        return;
    if (wslay_event_get_close_sent(c->ctx)) {
        if (wslay_event_get_close_received(c->ctx)) {
            c->dead = true; /* the close handshake is complete */
        } else if (!wslay_event_get_read_enabled(c->ctx)) {
            c->draining = true;
            shutdown(c->fd, SHUT_WR);
            ws_drain(c);
        }
    } else if (!wslay_event_want_read(c->ctx)) {
        c->dead = true; /* nothing more can happen on it */
    }
}

/*
 * Under eng.lock, after I/O: a close that wslay started (a too large or malformed frame, the
 * client's own close) makes the socket closing too: it stops counting and gets a deadline.
 */
static void ws_note_close(struct ws_conn *c, long long now)
{
    if (c->close_at != 0 || c->dead)
        return;
    if (wslay_event_get_read_enabled(c->ctx) && !wslay_event_get_close_sent(c->ctx) &&
        !wslay_event_get_close_received(c->ctx))
        return;
    if (!c->closing) {
        c->closing = true;
        eng.live--;
    }
    c->close_at = now;
}

/* Timers of one connection (poll thread, under eng.lock). */
static void ws_timers(struct ws_conn *c, long long now)
{
    if (c->fd < 0) {
        if (now >= c->attach_by)
            c->dead = true; /* the HTTP layer never handed the connection over */
        return;
    }
    if (c->closing) {
        if (c->close_at != 0 && now - c->close_at >= eng.lim.close_ms)
            c->dead = true; /* no answer to the close: drop it */
        return;
    }
    if (now - c->last_rx >= eng.lim.idle_ms) {
        ws_request_close(c, WS_CLOSE_IDLE, "idle timeout");
        return;
    }
    if (c->ping_at == 0 && now - c->last_rx >= eng.lim.ping_ms) {
        struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"", 0};
        if (wslay_event_queue_msg(c->ctx, &ping) == 0)
            c->ping_at = now;
    }
}

static void *ws_poll_thread(void *arg)
{
    struct epoll_event evs[WS_MAX_EVENTS];
    long long last_tick = 0;
    bool quit = false;

    (void)arg;
    while (!quit) {
        struct ws_conn *c, **pp, *gone = NULL;
        long long now;
        int n, i;

        n = epoll_wait(eng.epfd, evs, WS_MAX_EVENTS, WS_TICK_MS);
        if (n < 0)
            n = 0; /* EINTR */
        now = ws_now_ms();
        pthread_mutex_lock(&eng.lock);
        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) { /* the eventfd */
                uint64_t v;
                if (read(eng.wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    log_debug("ws: wake read: %s", strerror(errno));
                continue;
            }
            c = evs[i].data.ptr;
            if (!c->dead) {
                ws_io(c, evs[i].events);
                ws_note_close(c, now);
            }
        }
        if (now - last_tick >= WS_TICK_MS || n == 0) {
            last_tick = now;
            for (c = eng.list; c != NULL; c = c->next)
                if (!c->dead)
                    ws_timers(c, now);
        }
        for (c = eng.list; c != NULL; c = c->next) {
            if (c->dead)
                continue;
            ws_prepare(c, now);
            if (c->fd < 0)
                continue; /* reserved: events wait until the connection is attached */
            if (wslay_event_want_write(c->ctx) && c->added && !(c->epoll_mask & EPOLLOUT))
                ws_io(c, 0); /* try at once; epoll reports the rest */
            if (!c->dead && c->extra_off < c->extra_len)
                ws_io(c, EPOLLIN);
            ws_note_close(c, now);
            if (!c->dead)
                ws_update_epoll(c);
        }
        if (eng.stopping && (eng.list == NULL || now >= eng.stop_deadline)) {
            for (c = eng.list; c != NULL; c = c->next)
                c->dead = true; /* out of grace: drop what is left */
            quit = true;
        }
        /* Unlink the dead; they are freed after the lock (release may call into MHD). */
        for (pp = &eng.list; *pp != NULL;) {
            c = *pp;
            if (!c->dead) {
                pp = &c->next;
                continue;
            }
            *pp = c->next;
            if (!c->closing)
                eng.live--;
            c->closing = true;
            eng.held--;
            if (c->added)
                epoll_ctl(eng.epfd, EPOLL_CTL_DEL, c->fd, NULL);
            c->next = gone;
            gone = c;
        }
        pthread_mutex_unlock(&eng.lock);
        while (gone != NULL) {
            c = gone;
            gone = c->next;
            ws_conn_free(c);
        }
    }
    return NULL;
}

int ws_conn_start(const struct ws_conn_limits *lim)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int rc = LINTEL_EINTERNAL;

    pthread_mutex_lock(&eng.lock);
    if (eng.running) {
        pthread_mutex_unlock(&eng.lock);
        return LINTEL_EINTERNAL;
    }
    eng.lim = *lim;
    if (eng.lim.queue_max == 0)
        eng.lim.queue_max = 1;
    eng.epfd = epoll_create1(EPOLL_CLOEXEC);
    eng.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eng.epfd < 0 || eng.wakefd < 0 ||
        epoll_ctl(eng.epfd, EPOLL_CTL_ADD, eng.wakefd, &ev) != 0) {
        log_error("ws: cannot set up epoll: %s", strerror(errno));
        goto cleanup;
    }
    eng.stopping = false;
    if (pthread_create(&eng.thread, NULL, ws_poll_thread, NULL) != 0) {
        log_error("ws: cannot start the poll thread");
        goto cleanup;
    }
    eng.running = true;
    rc = 0;
cleanup:
    if (rc != 0) {
        if (eng.epfd >= 0)
            close(eng.epfd);
        if (eng.wakefd >= 0)
            close(eng.wakefd);
        eng.epfd = eng.wakefd = -1;
    }
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

void ws_conn_stop(int grace_ms)
{
    struct ws_conn *c;

    pthread_mutex_lock(&eng.lock);
    if (!eng.running) {
        pthread_mutex_unlock(&eng.lock);
        return;
    }
    eng.stopping = true;
    eng.stop_deadline = ws_now_ms() + grace_ms;
    for (c = eng.list; c != NULL; c = c->next)
        ws_request_close(c, WS_CLOSE_GOING_AWAY, "server shutting down");
    pthread_mutex_unlock(&eng.lock);
    ws_wake();
    pthread_join(eng.thread, NULL);
    pthread_mutex_lock(&eng.lock);
    eng.running = false;
    close(eng.epfd);
    close(eng.wakefd);
    eng.epfd = eng.wakefd = -1;
    pthread_mutex_unlock(&eng.lock);
}
