/*
 * Black-box tests of GET /api/ws with a minimal RFC 6455 client on a raw socket: token in the
 * header or the query, avatar events, 1008 at connect, 4401 on logout/deletion/expiry, SIGTERM.
 */
#include "lt_test.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PW "correct-horse-1"

/* Long enough for a loaded ASan run; a healthy server answers in milliseconds. */
#define WAIT_MS 15000

static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd,
    0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
    0xcf, 0xc0, 0x00, 0x44, 0x60, 0xe2, 0x3f, 0x03, 0x00, 0x1d, 0xf0, 0x03, 0xfd, 0xa0, 0x33,
    0x09, 0x89, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static const char *url;

static int ws_open_token(const char *base, const char *token)
{
    char h[4096];
    int status, fd;

    snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n", token);
    fd = lt_ws_open(base, "/api/ws", h, &status);
    ck_assert_int_eq(status, 101);
    return fd;
}

/* The next text frame as JSON (new reference); fails the test on anything else. */
static json_t *ws_event(int fd)
{
    json_t *j = lt_ws_json(fd, WAIT_MS);

    ck_assert_msg(j != NULL, "expected a JSON text frame within %d ms", WAIT_MS);
    return j;
}

/* A masked client frame header (mask key 0: the payload goes as is) into out; its length. */
static size_t frame_header(unsigned char *out, int fin, int opcode, uint64_t len)
{
    size_t o = 0;
    int i;

    out[o++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[o++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        out[o++] = 0x80 | 126;
        out[o++] = (unsigned char)(len >> 8);
        out[o++] = (unsigned char)len;
    } else {
        out[o++] = 0x80 | 127;
        for (i = 0; i < 8; i++)
            out[o++] = (unsigned char)(len >> (56 - 8 * i));
    }
    memset(out + o, 0, 4);
    return o + 4;
}

/*
 * Sends len bytes unless the server speaks first: returns 1 when fd became readable (the
 * server answered, e.g. its close frame), 0 when all was sent, -1 when the socket failed.
 */
static int send_or_readable(int fd, const unsigned char *buf, size_t len)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
    size_t off = 0;

    while (off < len) {
        ssize_t n;
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            return -1;
        if (pfd.revents & POLLIN)
            return 1;
        if (pfd.revents & (POLLERR | POLLHUP))
            return -1;
        n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (n > 0)
            off += (size_t)n;
    }
    return 0;
}

/* VmRSS of pid in KiB (-1 when it cannot be read). */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SIGTERM and wait at most grace_ms: the exit status, or -1 (then it is killed). */
static int stop_within(struct lt_server *s, long long grace_ms, long long *took)
{
    long long t0 = now_ms();
    int status = 0, rc = -1;

    kill(s->pid, SIGTERM);
    while (now_ms() - t0 < grace_ms) {
        pid_t w = waitpid(s->pid, &status, WNOHANG);
        if (w == s->pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        usleep(10000);
    }
    *took = now_ms() - t0;
    if (rc == -1 && waitpid(s->pid, &status, WNOHANG) == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    s->pid = 0;
    return rc;
}

static char *put_avatar(const char *base, const char *token)
{
    struct lt_resp r;
    char *out;

    ck_assert_int_eq(lt_request(base, "PUT", "/api/users/me/avatar", token, "image/png",
                                (const char *)png, sizeof(png), NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    out = strdup(json_string_value(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    return out;
}

START_TEST(header_token_gets_avatar_events)
{
    char *token = NULL, *avatar_url;
    long long id;
    struct lt_resp r;
    json_t *j;
    int fd;

    ck_assert_int_eq(lt_register(url, "ws", PW, &token, &id, NULL), 0);
    fd = ws_open_token(url, token);
    avatar_url = put_avatar(url, token);
    j = ws_event(fd);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.updated");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "user_id")), id);
    ck_assert_str_eq(json_string_value(json_object_get(j, "avatar_url")), avatar_url);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "at"))), 20);
    /* and a URL an <img> loads without a token (docs/live.md "Signed URLs") */
    ck_assert_int_eq(strncmp(json_string_value(json_object_get(j, "signed_url")), avatar_url,
                             strlen(avatar_url)),
                     0);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "signed_url")), "&sig="));
    json_decref(j);
    ck_assert_int_eq(
        lt_request(url, "DELETE", "/api/users/me/avatar", token, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    j = ws_event(fd);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.deleted");
    ck_assert(json_is_null(json_object_get(j, "avatar_url")));
    json_decref(j);
    close(fd);
    free(avatar_url);
    free(token);
}
END_TEST

START_TEST(query_token_and_only_own_events)
{
    char *a = NULL, *b = NULL, *path, *u1, *u2;
    long long ida, idb;
    json_t *j;
    int fd, status;

    ck_assert_int_eq(lt_register(url, "wsq", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(url, "wsq", PW, &b, &idb, NULL), 0);
    ck_assert_int_ge(asprintf(&path, "/api/ws?access_token=%s", a), 0);
    fd = lt_ws_open(url, path, "", &status);
    ck_assert_int_eq(status, 101);
    /* B's change is not A's business; A's own change comes first on A's socket. */
    u1 = put_avatar(url, b);
    u2 = put_avatar(url, a);
    j = ws_event(fd);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "user_id")), ida);
    ck_assert_str_eq(json_string_value(json_object_get(j, "avatar_url")), u2);
    json_decref(j);
    close(fd);
    free(u1);
    free(u2);
    free(path);
    free(a);
    free(b);
}
END_TEST

START_TEST(numbers_and_tasks_publish_events)
{
    char *token = NULL;
    long long id;
    struct lt_resp r;
    json_t *j;
    int fd;

    ck_assert_int_eq(lt_register(url, "wsn", PW, &token, &id, NULL), 0);
    fd = ws_open_token(url, token);
    ck_assert_int_eq(lt_json(url, "POST", "/api/numbers", token, "{\"value\":2.5}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    j = ws_event(fd);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "number.created");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "user_id")), id);
    ck_assert(json_real_value(json_object_get(json_object_get(j, "number"), "value")) == 2.5);
    json_decref(j);
    ck_assert_int_eq(lt_json(url, "POST", "/api/tasks", token, "{\"title\":\"t\"}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    j = ws_event(fd);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "task.created");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "task"), "title")), "t");
    json_decref(j);
    close(fd);
    free(token);
}
END_TEST

/*
 * An event reaches a socket only when its token holds the scope that guards the content over
 * HTTP: a token narrowed to profile gets 403 on /api/tasks and no task or number events, but
 * the avatar ones. Events print numbers as HTTP does (0.1, not 0.10000000000000001).
 */
START_TEST(events_follow_the_token_scope)
{
    char *full = NULL, *narrow = NULL, *name = NULL, *u, *p = NULL;
    struct lt_resp r;
    json_t *j;
    size_t n;
    int fd_full, fd_narrow;

    ck_assert_int_eq(lt_register(url, "wss", PW, &full, NULL, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, "profile", &narrow, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/tasks", narrow, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    lt_resp_clear(&r);
    fd_full = ws_open_token(url, full);
    fd_narrow = ws_open_token(url, narrow);
    ck_assert_int_eq(lt_json(url, "POST", "/api/numbers", full, "{\"value\":0.1}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/tasks", full, "{\"title\":\"secret\"}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    u = put_avatar(url, full);
    /* the full token sees all three, in order; the number exactly as HTTP prints it */
    ck_assert_int_eq(lt_ws_next(fd_full, WAIT_MS, &p, &n), 1);
    ck_assert_msg(strstr(p, "\"value\":0.1,") != NULL || strstr(p, "\"value\":0.1}") != NULL,
                  "event text: %s", p);
    free(p);
    j = ws_event(fd_full);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "task.created");
    json_decref(j);
    j = ws_event(fd_full);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.updated");
    json_decref(j);
    /* the profile token's first event is the avatar: the number and the task never came */
    j = ws_event(fd_narrow);
    ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.updated");
    ck_assert_ptr_null(json_object_get(j, "scope"));
    json_decref(j);
    close(fd_full);
    close(fd_narrow);
    free(u);
    free(full);
    free(narrow);
    free(name);
}
END_TEST

/*
 * Issue 11: 80 fragments of 1 MiB on one socket held 84 MB in ulfius. The server must close
 * with 1009 as soon as the message passes its limit, and its memory must not grow with what
 * the client keeps sending.
 */
START_TEST(fragment_flood_closes_1009_and_memory_stays_flat)
{
    const size_t mib = 1024 * 1024;
    struct lt_server s;
    unsigned char hdr[16], *chunk;
    char *token = NULL;
    long before, after;
    int fd, i, r = 0;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "wsf", PW, &token, NULL, NULL), 0);
    fd = ws_open_token(s.url, token);
    before = rss_kb(s.pid);
    chunk = malloc(mib);
    ck_assert_ptr_nonnull(chunk);
    memset(chunk, 'a', mib);
    for (i = 0; i < 80 && r == 0; i++) {
        size_t hl = frame_header(hdr, 0, i == 0 ? 1 : 0, mib);
        r = send_or_readable(fd, hdr, hl);
        if (r == 0)
            r = send_or_readable(fd, chunk, mib);
    }
    after = rss_kb(s.pid);
    fprintf(stderr,
            "ws: fragment flood: %d of 80 fragments sent; server RSS %ld kB before, %ld kB after\n",
            i, before, after);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1009);
    ck_assert_int_lt(after - before, 16 * 1024); /* ulfius 2.7.13: +84 MB */
    free(chunk);
    close(fd);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/* A frame that announces 2^62 bytes is refused from its header: 1009, nothing allocated. */
START_TEST(huge_declared_length_closes_1009)
{
    unsigned char buf[64];
    char *token = NULL;
    size_t hl;
    int fd;

    ck_assert_int_eq(lt_register(url, "wsh", PW, &token, NULL, NULL), 0);
    fd = ws_open_token(url, token);
    hl = frame_header(buf, 1, 2, UINT64_C(1) << 62);
    memcpy(buf + hl, "0123456789abcdef", 16);
    ck_assert_int_ge(send_or_readable(fd, buf, hl + 16), 0);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1009);
    close(fd);
    free(token);
}
END_TEST

/*
 * Issue 11: a client that resets before the 101 left a socket in ulfius' list that counted
 * against the caps and made SIGTERM wait forever. Now: the user still opens its 8 sockets,
 * each gets events, and SIGTERM exits 0 within the grace period with the WAL checkpointed.
 */
START_TEST(reset_before_101_neither_counts_nor_blocks_sigterm)
{
    struct sockaddr_in addr = {0};
    struct linger lg = {1, 0};
    struct lt_server s;
    char *token = NULL, *u, req[4096], wal[PATH_MAX + 16];
    struct stat st;
    long long took;
    int fds[8], i, fd;
    json_t *j;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "wsr", PW, &token, NULL, NULL), 0);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)s.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(req, sizeof(req),
             "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
             token);
    for (i = 0; i < 40; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        ck_assert_int_gt(send(fd, req, strlen(req), MSG_NOSIGNAL), 0);
        if (i % 2 == 1)
            usleep(2000); /* some reach the server's accept, some do not */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd); /* RST, before or while the 101 is sent */
    }
    /* none of them counts: all 8 of the user's sockets open and get events */
    for (i = 0; i < 8; i++)
        fds[i] = ws_open_token(s.url, token);
    u = put_avatar(s.url, token);
    for (i = 0; i < 8; i++) {
        j = ws_event(fds[i]);
        ck_assert_str_eq(json_string_value(json_object_get(j, "event")), "avatar.updated");
        json_decref(j);
    }
    /* SIGTERM: exit 0 within the grace period, sockets told 1001, the WAL checkpointed */
    ck_assert_int_eq(stop_within(&s, 10000, &took), 0);
    fprintf(stderr, "ws: SIGTERM with 8 open sockets after 40 resets: exited in %lld ms\n", took);
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(lt_ws_close(fds[i], WAIT_MS), 1001);
        close(fds[i]);
    }
    snprintf(wal, sizeof(wal), "%s/lintel.db-wal", s.data_dir);
    ck_assert(stat(wal, &st) != 0 || st.st_size == 0);
    free(u);
    free(token);
    lt_server_stop(&s); /* already stopped: removes the data dir */
}
END_TEST

/* A client that answers nothing (not even the ping) is closed with 4408 after the timeout. */
START_TEST(idle_socket_is_pinged_then_closed_4408)
{
    static const char *const env[] = {"LINTEL_WS_PING_INTERVAL=1", "LINTEL_WS_IDLE_TIMEOUT=2",
                                      NULL};
    struct lt_server s;
    char *token = NULL, *p = NULL;
    size_t n;
    int fd;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "wsi", PW, &token, NULL, NULL), 0);
    fd = ws_open_token(s.url, token);
    ck_assert_int_eq(lt_ws_next(fd, WAIT_MS, &p, &n), 9); /* the ping after a second of silence */
    free(p);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 4408);
    close(fd);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(bad_token_closes_1008)
{
    int fd, status;

    fd = lt_ws_open(url, "/api/ws", "Authorization: Bearer not.a.token\r\n", &status);
    ck_assert_int_eq(status, 101);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1008);
    close(fd);
    fd = lt_ws_open(url, "/api/ws", "", &status); /* no token at all */
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1008);
    close(fd);
    fd = lt_ws_open(url, "/api/ws?access_token=abc", "", &status);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1008);
    close(fd);
}
END_TEST

START_TEST(logout_and_deletion_close_4401)
{
    char *t1 = NULL, *t2 = NULL, *name = NULL;
    struct lt_resp r;
    int fd1, fd2;

    ck_assert_int_eq(lt_register(url, "wsl", PW, &t1, NULL, &name), 0);
    ck_assert_int_eq(lt_login(url, name, PW, NULL, &t2, NULL), 0);
    fd1 = ws_open_token(url, t1);
    fd2 = ws_open_token(url, t2);
    /* Logging out the first session closes its socket only. */
    ck_assert_int_eq(lt_request(url, "POST", "/api/auth/logout", t1, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_ws_close(fd1, WAIT_MS), 4401);
    /* Deleting the account closes every socket of it. */
    ck_assert_int_eq(lt_request(url, "DELETE", "/api/users/me", t2, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_ws_close(fd2, WAIT_MS), 4401);
    close(fd1);
    close(fd2);
    free(t1);
    free(t2);
    free(name);
}
END_TEST

START_TEST(plain_get_is_refused)
{
    char *token = NULL;
    struct lt_resp r;

    ck_assert_int_eq(lt_json(url, "GET", "/api/ws", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_register(url, "wsp", PW, &token, NULL, NULL), 0);
    ck_assert_int_eq(lt_json(url, "GET", "/api/ws", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(r.j_body, "detail")), "WebSocket"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "POST", "/api/ws", token, "{}", &r), 0);
    ck_assert_int_eq(r.status, 405);
    lt_resp_clear(&r);
    free(token);
}
END_TEST

START_TEST(token_expiry_closes_4401)
{
    static const char *const env[] = {"LINTEL_ACCESS_TTL=2", NULL};
    struct lt_server s;
    char *token = NULL;
    int fd_exp;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "wse", PW, &token, NULL, NULL), 0);
    fd_exp = ws_open_token(s.url, token);
    /* The token's exp passes about 2 s after issue: the watcher closes the socket. */
    ck_assert_int_eq(lt_ws_close(fd_exp, WAIT_MS), 4401);
    close(fd_exp);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(sigterm_with_open_socket_exits_0)
{
    struct lt_server s;
    char *token = NULL;
    int fd;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "wst", PW, &token, NULL, NULL), 0);
    fd = ws_open_token(s.url, token);
    /* The open socket is closed with 1001 (going away) and the server still exits 0. */
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(lt_ws_close(fd, WAIT_MS), 1001);
    close(fd);
    free(token);
}
END_TEST

/* One client of the churn test: upgrades and drops sockets back to back, count the 101s. */
struct churn {
    int port;
    const char *token;
    int upgraded;
};

static void *churn_run(void *arg)
{
    struct churn *c = arg;
    struct sockaddr_in addr;
    char req[4096], resp[1024];
    int i, fd;
    ssize_t n;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)c->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(req, sizeof(req),
             "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
             c->token);
    for (i = 0; i < 40; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            continue;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            send(fd, req, strlen(req), MSG_NOSIGNAL) > 0) {
            n = recv(fd, resp, sizeof(resp) - 1, 0);
            if (n > 0) {
                resp[n] = '\0';
                if (strstr(resp, " 101 ") != NULL)
                    c->upgraded++;
            }
        }
        close(fd); /* dropped at once: its close races the next client's upgrade */
    }
    return NULL;
}

/*
 * Upgrades and drops racing each other: ulfius 2.7.13 freed its socket list twice here; now
 * each socket is reserved, attached or cancelled in the engine concurrently. Four clients
 * churn sockets against a private server, which must keep serving and stop cleanly.
 */
START_TEST(upgrade_close_churn_is_safe)
{
    struct lt_server s;
    struct churn c[4];
    pthread_t th[4];
    struct lt_resp r;
    char *token[4] = {NULL};
    int i;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(lt_register(s.url, "wsc", PW, &token[i], NULL, NULL), 0);
        c[i].port = s.port;
        c[i].token = token[i];
        c[i].upgraded = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, churn_run, &c[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < 4; i++) {
        ck_assert_int_gt(c[i].upgraded, 0);
        free(token[i]);
    }
    ck_assert_int_eq(lt_json(s.url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    url = lt_shared_url();
    if (url == NULL) {
        fprintf(stderr, "no shared server\n");
        return 1;
    }
    s = suite_create("ws");
    tc = tcase_create("ws");
    tcase_add_test(tc, header_token_gets_avatar_events);
    tcase_add_test(tc, query_token_and_only_own_events);
    tcase_add_test(tc, numbers_and_tasks_publish_events);
    tcase_add_test(tc, events_follow_the_token_scope);
    tcase_add_test(tc, fragment_flood_closes_1009_and_memory_stays_flat);
    tcase_add_test(tc, huge_declared_length_closes_1009);
    tcase_add_test(tc, reset_before_101_neither_counts_nor_blocks_sigterm);
    tcase_add_test(tc, idle_socket_is_pinged_then_closed_4408);
    tcase_add_test(tc, bad_token_closes_1008);
    tcase_add_test(tc, logout_and_deletion_close_4401);
    tcase_add_test(tc, plain_get_is_refused);
    tcase_add_test(tc, token_expiry_closes_4401);
    tcase_add_test(tc, sigterm_with_open_socket_exits_0);
    tcase_add_test(tc, upgrade_close_churn_is_safe);
    suite_add_tcase(s, tc);
    return lt_run_suite(s);
}
