/*
 * Requests decided on their headers (issue 11 item 4, 11): unknown route, missing token and an
 * oversized Content-Length answered before the body is sent; the per-client connection limit;
 * a %00 or non-UTF-8 path segment never names another resource; ?access_token= only on /api/ws.
 */
#include "lt_test.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PW "correct-horse-1"

/* A healthy server answers in milliseconds; one that waits for 50 MB never does. */
#define ANSWER_MS 10000

static const char *url;

static int port_of(const char *base)
{
    const char *colon = strrchr(base, ':');

    ck_assert_ptr_nonnull(colon);
    return atoi(colon + 1);
}

static int connect_local(int port)
{
    struct sockaddr_in addr = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

/*
 * Sends only the request head (announcing a body of 50 MB that never comes) and returns the
 * status of the reply that arrives without it, or -1 when none came within ANSWER_MS.
 */
static int head_only_status(const char *method, const char *path, const char *token)
{
    char req[4096], resp[2048];
    struct pollfd pfd;
    size_t len = 0;
    int fd = connect_local(port_of(url)), status = -1;

    snprintf(req, sizeof(req),
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: 52428800\r\n%s%s%s\r\n",
             method, path, token != NULL ? "Authorization: Bearer " : "",
             token != NULL ? token : "", token != NULL ? "\r\n" : "");
    ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    pfd.fd = fd;
    pfd.events = POLLIN;
    while (len + 1 < sizeof(resp) && poll(&pfd, 1, ANSWER_MS) > 0) {
        ssize_t n = recv(fd, resp + len, sizeof(resp) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        resp[len] = '\0';
        if (strstr(resp, "\r\n\r\n") != NULL)
            break;
    }
    resp[len] = '\0';
    if (len > 12 && strncmp(resp, "HTTP/1.1 ", 9) == 0)
        status = atoi(resp + 9);
    close(fd);
    return status;
}

START_TEST(decided_before_the_body)
{
    struct lt_user u;

    lt_user_new(&u, "early", PW);
    ck_assert_int_eq(head_only_status("POST", "/no/such/path", NULL), 404);
    ck_assert_int_eq(head_only_status("PUT", "/health", NULL), 405);
    ck_assert_int_eq(head_only_status("POST", "/api/numbers", NULL), 401);
    ck_assert_int_eq(head_only_status("POST", "/api/numbers", "not.a.token"), 401);
    /* The route's own limit: 50 MB is over max_body and over the avatar limit alike. */
    ck_assert_int_eq(head_only_status("POST", "/api/numbers", u.token), 413);
    ck_assert_int_eq(head_only_status("PUT", "/api/users/me/avatar", u.token), 413);
    lt_user_clear(&u);
}
END_TEST

/* The avatar route takes up to avatar_max; a JSON route only max_body: each its own limit. */
START_TEST(limit_is_the_routes_own)
{
    static const char *const env[] = {"LINTEL_MAX_BODY=1000", "LINTEL_AVATAR_MAX=5000", NULL};
    struct lt_server s;
    struct lt_resp r;
    char *token = NULL, *big = calloc(1, 3001);

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "lim", PW, &token, NULL, NULL), 0);
    memset(big, ' ', 3000);
    big[0] = '{';
    big[2999] = '}';
    ck_assert_int_eq(
        lt_request(s.url, "POST", "/api/numbers", token, "application/json", big, 3000, NULL, &r),
        0);
    ck_assert_int_eq(r.status, 413);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r.j_body, "detail")), "1000"));
    lt_resp_clear(&r);
    /* 3000 bytes pass the avatar route's limit: the content check answers, not the size. */
    ck_assert_int_eq(
        lt_request(s.url, "PUT", "/api/users/me/avatar", token, "image/png", big, 3000, NULL, &r),
        0);
    ck_assert_int_ne(r.status, 413);
    lt_resp_clear(&r);
    free(big);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(per_client_connection_limit)
{
    static const char *const env[] = {"LINTEL_CONNECTION_PER_IP=3", NULL};
    struct lt_server s;
    struct lt_resp r;
    struct pollfd pfd;
    char c;
    int idle[3], extra, i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    for (i = 0; i < 3; i++)
        idle[i] = connect_local(s.port);
    usleep(200 * 1000); /* let the server accept them */
    /* A fourth connection from the same client is closed at once, unanswered. */
    extra = connect_local(s.port);
    send(extra, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 33, MSG_NOSIGNAL);
    pfd.fd = extra;
    pfd.events = POLLIN;
    ck_assert_int_eq(poll(&pfd, 1, ANSWER_MS), 1);
    ck_assert_int_le(recv(extra, &c, 1, 0), 0);
    close(extra);
    /* Once one of them goes, the client is served again. */
    close(idle[0]);
    usleep(200 * 1000);
    ck_assert_int_eq(lt_json(s.url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    close(idle[1]);
    close(idle[2]);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/* Replaces each {param} of an OpenAPI path with value; malloc'd. */
static char *fill_params(const char *path, const char *value)
{
    size_t n = strlen(path), o = 0, i;
    char *out = malloc(n * (strlen(value) + 1) + 1);

    ck_assert_ptr_nonnull(out);
    for (i = 0; i < n; i++) {
        if (path[i] == '{') {
            while (i < n && path[i] != '}')
                i++;
            memcpy(out + o, value, strlen(value));
            o += strlen(value);
        } else {
            out[o++] = path[i];
        }
    }
    out[o] = '\0';
    return out;
}

/*
 * Every route with a path parameter, every method it has: a segment that decodes to a NUL or
 * to bytes that are not UTF-8 is 404 (or 400), never the resource its prefix names.
 */
START_TEST(bad_segments_on_every_id_route)
{
    static const char *const bad[] = {"%s%%00junk", "%s%%00", "%s%%C0%%80", "%s%%FF"};
    struct lt_user u;
    struct lt_resp r, doc;
    const char *path, *method;
    json_t *j_item, *j_op;
    char id[32], seg[64], *target;
    size_t k, checked = 0;

    lt_user_new(&u, "seg", PW);
    /* A number of this user whose id is the prefix of each bad segment. */
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":7}"), 201);
    snprintf(id, sizeof(id), "%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    snprintf(seg, sizeof(seg), "/api/numbers/%s", id);
    ck_assert_int_eq(lt_status("GET", seg, u.token, NULL), 200);
    ck_assert_int_eq(lt_send(&doc, "GET", "/openapi.json", NULL, NULL), 200);
    json_object_foreach(json_object_get(doc.j_body, "paths"), path, j_item) {
        if (strchr(path, '{') == NULL)
            continue;
        json_object_foreach(j_item, method, j_op) {
            char upper[16];
            for (k = 0; method[k] != '\0' && k + 1 < sizeof(upper); k++)
                upper[k] = (char)(method[k] - 'a' + 'A');
            upper[k] = '\0';
            for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
                long st;
                snprintf(seg, sizeof(seg), bad[k], id);
                target = fill_params(path, seg);
                st = lt_status(upper, target, u.token,
                               strcmp(upper, "GET") == 0 || strcmp(upper, "DELETE") == 0
                                   ? NULL
                                   : "{\"value\":1}");
                ck_assert_msg(st == 404 || st == 400, "%s %s: %ld", upper, target, st);
                free(target);
                checked++;
            }
        }
    }
    ck_assert_uint_ge(checked, 8);
    /* The number is still there, unchanged. */
    snprintf(seg, sizeof(seg), "/api/numbers/%s", id);
    ck_assert_int_eq(lt_send(&r, "GET", seg, u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "value")), 7);
    lt_resp_clear(&r);
    lt_resp_clear(&doc);
    lt_user_clear(&u);
}
END_TEST

/* A token in the URL is honoured on the WebSocket only, whatever Upgrade says elsewhere. */
START_TEST(query_token_only_on_the_websocket)
{
    static const char *const upgrade[] = {
        "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", NULL};
    struct lt_user u;
    struct lt_resp r;
    char path[4096];

    lt_user_new(&u, "qt", PW);
    snprintf(path, sizeof(path), "/api/users/me?access_token=%s", u.token);
    ck_assert_int_eq(lt_request(url, "GET", path, NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(url, "GET", path, NULL, NULL, NULL, 0, upgrade, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    /* The same token in the header works: the refusal is about where it came from. */
    ck_assert_int_eq(lt_status("GET", "/api/users/me", u.token, NULL), 200);
    lt_user_clear(&u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("early");
    TCase *tc = tcase_create("early");
    SRunner *sr;
    int failed;

    url = lt_shared_url();
    if (url == NULL) {
        fprintf(stderr, "no shared server\n");
        return 1;
    }
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, decided_before_the_body);
    tcase_add_test(tc, limit_is_the_routes_own);
    tcase_add_test(tc, per_client_connection_limit);
    tcase_add_test(tc, bad_segments_on_every_id_route);
    tcase_add_test(tc, query_token_only_on_the_websocket);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
