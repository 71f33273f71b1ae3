/*
 * The server host, black-box: the error model (404, 405, 400 with offset, 413, 415, 422),
 * headers of every reply, JSend mode, bad raw requests, the command line, graceful SIGTERM.
 */
#include "lt_test.h"
#include "lt_tls.h"

#include <check.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void lt_rmtree_dir(const char *dir)
{
    char cmd[2 * PATH_MAX];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A private server: notes routes public (file config), a 1 KiB body limit. */
static struct lt_server srv = {.pid = 0};
static char config_path[PATH_MAX];

static void assert_common_headers(const struct lt_resp *r)
{
    ck_assert_ptr_nonnull(lt_header(r, "X-Request-Id"));
    ck_assert_ptr_nonnull(lt_header(r, "X-Response-Time"));
    ck_assert_str_eq(lt_header(r, "X-Content-Type-Options"), "nosniff");
}

/* An RFC 9457 problem with status, instance and a detail containing needle. */
static void assert_problem(const struct lt_resp *r, long status, const char *instance,
                           const char *needle)
{
    const char *detail;

    ck_assert_int_eq(r->status, status);
    ck_assert_str_eq(lt_header(r, "Content-Type"), "application/problem+json");
    ck_assert_ptr_nonnull(r->j_body);
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "type")), "about:blank");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r->j_body, "title")));
    ck_assert_int_eq(json_integer_value(json_object_get(r->j_body, "status")), status);
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "instance")), instance);
    detail = json_string_value(json_object_get(r->j_body, "detail"));
    ck_assert_ptr_nonnull(detail);
    if (needle != NULL && strstr(detail, needle) == NULL)
        ck_abort_msg("detail '%s' lacks '%s'", detail, needle);
    assert_common_headers(r);
}

static void post_notes(const char *content_type, const char *body, size_t len, struct lt_resp *r)
{
    ck_assert_int_eq(
        lt_request(srv.url, "POST", "/api/example/notes", NULL, content_type, body, len, NULL, r),
        0);
}

START_TEST(health)
{
    struct lt_resp r = {0};
    const json_t *j_p;
    size_t i;
    int found = 0;

    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/json");
    assert_common_headers(&r);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "status")), "ok");
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "db")), "ok");
    ck_assert(json_is_string(json_object_get(r.j_body, "version")));
    ck_assert(json_is_integer(json_object_get(r.j_body, "uptime_s")));
    json_array_foreach(json_object_get(r.j_body, "plugins"), i, j_p)
        found |= strcmp(json_string_value(json_object_get(j_p, "name")), "example") == 0 &&
                 json_is_string(json_object_get(j_p, "version"));
    ck_assert(found);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(ping_from_sql)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(srv.url, "GET", "/api/example/ping", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_true(json_object_get(r.j_body, "pong")));
    ck_assert(json_is_string(json_object_get(r.j_body, "version")));
    lt_resp_clear(&r);
}
END_TEST

START_TEST(not_found_and_method)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(srv.url, "GET", "/api/nothing/here?x=1", NULL, NULL, &r), 0);
    assert_problem(&r, 404, "/api/nothing/here", NULL);
    ck_assert_ptr_null(json_object_get(r.j_body, "errors"));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_json(srv.url, "DELETE", "/api/example/ping", NULL, NULL, &r), 0);
    assert_problem(&r, 405, "/api/example/ping", "DELETE");
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Allow"), "GET"));
    lt_resp_clear(&r);

    ck_assert_int_eq(lt_json(srv.url, "PUT", "/api/example/notes/7", NULL, "{}", &r), 0);
    assert_problem(&r, 405, "/api/example/notes/7", NULL);
    ck_assert_str_eq(lt_header(&r, "Allow"), "GET, HEAD");
    lt_resp_clear(&r);
}
END_TEST

START_TEST(literal_beats_param)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(srv.url, "GET", "/api/example/notes/count", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_integer(json_object_get(r.j_body, "count")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(srv.url, "GET", "/api/example/notes/999999", NULL, NULL, &r), 0);
    assert_problem(&r, 404, "/api/example/notes/999999", "Note not found");
    lt_resp_clear(&r);
    /* An id that names no note is the same 404 (lintel_res_by_id's req_id branch). */
    ck_assert_int_eq(lt_json(srv.url, "GET", "/api/example/notes/abc", NULL, NULL, &r), 0);
    assert_problem(&r, 404, "/api/example/notes/abc", "Note not found");
    lt_resp_clear(&r);
}
END_TEST

START_TEST(create_and_read)
{
    struct lt_resp r = {0};
    char path[64];
    json_int_t id;

    /* A JSON body without Content-Type is accepted. */
    post_notes(NULL, "{\"text\":\"hello\",\"unknown\":1}", (size_t)-1, &r);
    ck_assert_int_eq(r.status, 201);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    ck_assert_int_gt(id, 0);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/example/notes/%lld", (long long)id);
    ck_assert_int_eq(lt_json(srv.url, "GET", path, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "text")), "hello");
    lt_resp_clear(&r);
    post_notes("application/json; charset=utf-8", "{\"text\":\"x\"}", (size_t)-1, &r);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(malformed_json)
{
    struct lt_resp r = {0};

    post_notes("application/json", "{\"text\": }", (size_t)-1, &r);
    assert_problem(&r, 400, "/api/example/notes", "byte 9");
    lt_resp_clear(&r);
    post_notes("application/json", "{\"text\": \"a\", \"text\": \"b\"}", (size_t)-1, &r);
    assert_problem(&r, 400, "/api/example/notes", "byte");
    lt_resp_clear(&r);
    post_notes("application/json", "", 0, &r);
    assert_problem(&r, 400, "/api/example/notes", "empty");
    lt_resp_clear(&r);
    post_notes("application/json", "{\"text\":\"a\"} x", (size_t)-1, &r);
    assert_problem(&r, 400, "/api/example/notes", "byte 13");
    lt_resp_clear(&r);
}
END_TEST

START_TEST(non_finite_numbers)
{
    static const char *const bodies[] = {"{\"text\": NaN}", "{\"text\": Infinity}",
                                         "{\"text\": -Infinity}", "{\"text\": 1e400}",
                                         "{\"text\": 99999999999999999999}"};
    struct lt_resp r = {0};
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        post_notes("application/json", bodies[i], (size_t)-1, &r);
        assert_problem(&r, 422, "/api/example/notes", "byte 9");
        /* the parser fails before any handler, yet errors[] still names the member */
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(r.j_body, "errors"), 0), "field")),
                         "text");
        lt_resp_clear(&r);
    }
    /* an array element is no member: the detail alone says where */
    post_notes("application/json", "[1, NaN]", (size_t)-1, &r);
    assert_problem(&r, 422, "/api/example/notes", "byte 4");
    ck_assert_ptr_null(json_object_get(r.j_body, "errors"));
    lt_resp_clear(&r);
}
END_TEST

START_TEST(unprocessable_with_errors)
{
    struct lt_resp r = {0};
    const json_t *j_err;

    post_notes("application/json", "{\"text\": 5}", (size_t)-1, &r);
    assert_problem(&r, 422, "/api/example/notes", NULL);
    j_err = json_array_get(json_object_get(r.j_body, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_err, "field")), "text");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j_err, "message")));
    lt_resp_clear(&r);
}
END_TEST

START_TEST(media_type)
{
    struct lt_resp r = {0};

    post_notes("text/plain", "{\"text\":\"a\"}", (size_t)-1, &r);
    assert_problem(&r, 415, "/api/example/notes", "application/json");
    lt_resp_clear(&r);
    post_notes("application/x-www-form-urlencoded", "text=a", (size_t)-1, &r);
    assert_problem(&r, 415, "/api/example/notes", NULL);
    lt_resp_clear(&r);
    /* the media type ends at a blank, a tab or ';' (one parser: include/lintel/media_type.h) */
    post_notes("Application/JSON\t; charset=utf-8", "{\"text\":\"a\"}", (size_t)-1, &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    lt_resp_clear(&r);
    post_notes("application/jsonx", "{\"text\":\"a\"}", (size_t)-1, &r);
    assert_problem(&r, 415, "/api/example/notes", NULL);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(too_large)
{
    struct lt_resp r = {0};
    char *big = malloc(4096);

    memset(big, ' ', 4096);
    memcpy(big, "{\"text\":\"a\"}", 12);
    post_notes("application/json", big, 1025, &r);
    assert_problem(&r, 413, "/api/example/notes", "1024");
    lt_resp_clear(&r);
    post_notes("application/json", big, 4096, &r);
    assert_problem(&r, 413, "/api/example/notes", NULL);
    lt_resp_clear(&r);
    /* Exactly the limit is fine. */
    post_notes("application/json", big, 1024, &r);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    free(big);
}
END_TEST

/* What the server may answer in X-Request-Id: 1-64 of A-Za-z0-9-_.: (openapi.c). */
static int request_id_sane(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    return n >= 1 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n;
}

START_TEST(request_id)
{
    static const char *const mine[] = {"X-Request-Id: trace-42.a_b", NULL};
    static const char *const bad[] = {"X-Request-Id: has space\tand\x7f", NULL};
    static const char *const long_id[] = {
        "X-Request-Id: 0123456789012345678901234567890123456789012345678901234567890123x", NULL};
    struct lt_resp r = {0};
    char *first;

    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, mine, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "X-Request-Id"), "trace-42.a_b");
    lt_resp_clear(&r);
    /* an id the server must not echo is replaced by one of its own, well-formed */
    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, bad, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(request_id_sane(lt_header(&r, "X-Request-Id")), "id %s",
                  lt_header(&r, "X-Request-Id"));
    ck_assert_ptr_null(strstr(lt_header(&r, "X-Request-Id"), "space"));
    first = strdup(lt_header(&r, "X-Request-Id"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, long_id, &r), 0);
    ck_assert_msg(request_id_sane(lt_header(&r, "X-Request-Id")), "id %s",
                  lt_header(&r, "X-Request-Id"));
    ck_assert_ptr_null(strstr(lt_header(&r, "X-Request-Id"), "0123456789012345678901234567"));
    lt_resp_clear(&r);
    /* none sent: a new one, not the previous request's */
    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_msg(request_id_sane(lt_header(&r, "X-Request-Id")), "id %s",
                  lt_header(&r, "X-Request-Id"));
    ck_assert_str_ne(lt_header(&r, "X-Request-Id"), first);
    lt_resp_clear(&r);
    free(first);
}
END_TEST

START_TEST(garbage_then_normal)
{
    static const char garbage[] = "\x16\x03\x01\x02\x00 NOT HTTP AT ALL\r\n\r\n";
    static const char truncated[] = "POST /api/example/notes HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/json\r\nContent-Length: 50\r\n"
                                    "\r\n{\"te";
    static const char huge_header[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-A: ";
    struct lt_resp r = {0};
    char *out, *req;

    /* garbage: a 400 or a closed connection, never a served request */
    out = lt_raw(srv.port, garbage, sizeof(garbage) - 1, 2000);
    ck_assert_msg(out == NULL || out[0] == '\0' || strncmp(out, "HTTP/1.1 400", 12) == 0, "%s",
                  out);
    free(out);
    /* a body shorter than its Content-Length: nothing is created while the server waits */
    out = lt_raw(srv.port, truncated, sizeof(truncated) - 1, 300);
    ck_assert_ptr_null(strstr(out != NULL ? out : "", "201"));
    free(out);
    req = malloc(200000);
    memset(req, 'a', 200000);
    memcpy(req, huge_header, sizeof(huge_header) - 1);
    memcpy(req + 199996, "\r\n\r\n", 4);
    out = lt_raw(srv.port, req, 200000, 1000);
    /* Over the per-connection memory: refused (431 or closed), never served. */
    ck_assert_ptr_null(strstr(out != NULL ? out : "", "200 OK"));
    free(out);
    free(req);
    ck_assert_int_eq(lt_request(srv.url, "GET", "/health", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(head_and_options)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_request(srv.url, "HEAD", "/health", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_request(srv.url, "OPTIONS", "/api/example/notes", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(lt_header(&r, "Allow"), "POST");
    ck_assert_ptr_null(lt_header(&r, "Access-Control-Allow-Origin")); /* CORS is off */
    lt_resp_clear(&r);
}
END_TEST

/* On the shared server the notes routes are protected: 401 with the Bearer challenge. */
START_TEST(auth_challenges)
{
    const char *url = lt_shared_url();
    struct lt_resp r = {0};

    ck_assert_ptr_nonnull(url);
    ck_assert_int_eq(lt_json(url, "GET", "/api/numbers/1", NULL, NULL, &r), 0);
    assert_problem(&r, 401, "/api/numbers/1", "Not authenticated");
    ck_assert_str_eq(lt_header(&r, "WWW-Authenticate"), "Bearer");
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "no-store");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(url, "GET", "/api/numbers/1", "not.a.jwt", NULL, &r), 0);
    assert_problem(&r, 401, "/api/numbers/1", "Invalid or expired token");
    ck_assert_str_eq(lt_header(&r, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    lt_resp_clear(&r);
    /* Public routes do not say no-store. */
    ck_assert_int_eq(lt_json(url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_ptr_null(lt_header(&r, "Cache-Control"));
    lt_resp_clear(&r);
}
END_TEST

START_TEST(jsend_and_cors)
{
    static const char *const env[] = {"LINTEL_ENVELOPE=jsend",
                                      "LINTEL_CORS_ORIGINS=https://app.example", NULL};
    static const char *const origin[] = {"Origin: https://app.example", NULL};
    static const char *const preflight[] = {"Origin: https://app.example",
                                            "Access-Control-Request-Method: POST", NULL};
    static const char *const other_origin[] = {"Origin: https://evil.example", NULL};
    struct lt_server s = {.pid = 0};
    struct lt_resp r = {0};
    const json_t *j_data;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_request(s.url, "GET", "/health", NULL, NULL, NULL, 0, origin, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "status")), "success");
    j_data = json_object_get(r.j_body, "data");
    ck_assert_str_eq(json_string_value(json_object_get(j_data, "status")), "ok");
    ck_assert_str_eq(lt_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(s.url, "GET", "/nope", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/json");
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "status")), "fail");
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(r.j_body, "data"), "status")), 404);
    lt_resp_clear(&r);
    /* Preflight is answered before auth, even on a protected route. */
    ck_assert_int_eq(
        lt_request(s.url, "OPTIONS", "/api/numbers", NULL, NULL, NULL, 0, preflight, &r), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(lt_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    ck_assert_ptr_nonnull(lt_header(&r, "Access-Control-Allow-Methods"));
    lt_resp_clear(&r);
    /* An origin that is not listed gets no CORS headers, but caches still learn to key on it. */
    ck_assert_int_eq(lt_request(s.url, "GET", "/health", NULL, NULL, NULL, 0, other_origin, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(lt_header(&r, "Access-Control-Allow-Origin"));
    ck_assert_str_eq(lt_header(&r, "Vary"), "Origin");
    lt_resp_clear(&r);
    /* A JWK Set is never wrapped in JSend: key-fetching clients parse it as RFC 7517 says. */
    ck_assert_int_eq(lt_request(s.url, "GET", "/api/auth/jwks", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_array(json_object_get(r.j_body, "keys")));
    ck_assert_ptr_null(json_object_get(r.j_body, "status"));
    lt_resp_clear(&r);
    /* The OpenAPI document is never wrapped; it describes the JSend errors instead. */
    ck_assert_int_eq(lt_request(s.url, "GET", "/openapi.json", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "openapi")), "3.1.0");
    ck_assert_ptr_nonnull(json_object_get(
        json_object_get(json_object_get(r.j_body, "components"), "schemas"), "JSend"));
    ck_assert_ptr_nonnull(json_object_get(
        json_object_get(
            json_object_get(json_object_get(json_object_get(r.j_body, "components"), "responses"),
                            "Unauthorized"),
            "content"),
        "application/json"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(command_line)
{
    static const char *const bad_port[] = {"LINTEL_PORT=eighty", NULL};
    static const char *const version[] = {"version", NULL};
    static const char *const help[] = {"--help", NULL};
    static const char *const bogus[] = {"--bogus", NULL};
    static const char *const missing[] = {"--config", "/nonexistent/lintel.json", NULL};
    char dir[] = "/tmp/lintel-cli-XXXXXX";
    char *out = NULL;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(lt_run(dir, bad_port, NULL, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "LINTEL_PORT"));
    free(out);
    ck_assert_int_eq(lt_run(dir, NULL, version, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "lintel "));
    free(out);
    ck_assert_int_eq(lt_run(dir, NULL, help, &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage"));
    free(out);
    ck_assert_int_eq(lt_run(dir, NULL, bogus, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--bogus"));
    free(out);
    ck_assert_int_eq(lt_run(dir, NULL, missing, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "/nonexistent/lintel.json"));
    free(out);
    /* Only this run's directory: other checkouts on the machine run this test at the same time. */
    {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

/*
 * Writers hammer POST /api/example/notes while the server gets SIGTERM: it exits 0, and every
 * note it acknowledged with 201 is there after a restart on the same data.
 */
START_TEST(sigterm_loses_nothing)
{
    enum { WRITERS = 3 };
    struct lt_server s = {.pid = 0};
    char cfg_env[PATH_MAX + 32], data_env[PATH_MAX + 32];
    const char *env[] = {cfg_env, NULL, NULL};
    const char *args[] = {"--config", config_path, NULL};
    int pipefd[2], acked = 0, i;
    pid_t kids[WRITERS];
    long long id, ids[4096];
    FILE *in;

    snprintf(cfg_env, sizeof(cfg_env), "LINTEL_LOG_LEVEL=warning");
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    ck_assert_int_eq(pipe(pipefd), 0);
    for (i = 0; i < WRITERS; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(pipefd[0]);
            for (;;) {
                struct lt_resp r = {0};
                char line[32];
                if (lt_json(s.url, "POST", "/api/example/notes", NULL, "{\"text\":\"sig\"}", &r) !=
                    0)
                    _exit(0);
                if (r.status == 201) {
                    int n =
                        snprintf(line, sizeof(line), "%lld\n",
                                 (long long)json_integer_value(json_object_get(r.j_body, "id")));
                    if (write(pipefd[1], line, (size_t)n) != n)
                        _exit(1);
                }
                lt_resp_clear(&r);
            }
        }
    }
    close(pipefd[1]);
    in = fdopen(pipefd[0], "r");
    while (acked < 30 && fscanf(in, "%lld", &id) == 1)
        ids[acked++] = id;
    ck_assert_int_eq(lt_server_stop_keep(&s), 0);
    while (acked < 4096 && fscanf(in, "%lld", &id) == 1)
        ids[acked++] = id;
    fclose(in);
    for (i = 0; i < WRITERS; i++)
        waitpid(kids[i], NULL, 0);

    snprintf(data_env, sizeof(data_env), "LINTEL_DATA_DIR=%s", s.data_dir);
    env[1] = data_env;
    {
        struct lt_server again = {.pid = 0};
        char old_dir[PATH_MAX];
        snprintf(old_dir, sizeof(old_dir), "%s", s.data_dir);
        ck_assert_int_eq(lt_server_start(&again, env, args), 0);
        for (i = 0; i < acked; i++) {
            struct lt_resp r = {0};
            char path[64];
            snprintf(path, sizeof(path), "/api/example/notes/%lld", ids[i]);
            ck_assert_int_eq(lt_json(again.url, "GET", path, NULL, NULL, &r), 0);
            ck_assert_int_eq(r.status, 200);
            lt_resp_clear(&r);
        }
        ck_assert_int_eq(lt_server_stop(&again), 0);
        lt_rmtree_dir(old_dir);
    }
}
END_TEST

/*
 * The access log is batched: every request still gets exactly one line, written by the time
 * the server has stopped, and neither the query string nor a header value appears in it.
 */
START_TEST(access_log_complete)
{
    enum { N = 120 };
    struct lt_server s = {.pid = 0};
    const char *args[] = {"--config", config_path, NULL};
    char id_header[96], needle[96], *log = NULL, cmd[PATH_MAX + 16];
    const char *headers[] = {id_header, NULL};
    FILE *f;
    long size;
    int i, seen = 0;

    ck_assert_int_eq(lt_server_start(&s, NULL, args), 0);
    for (i = 0; i < N; i++) {
        struct lt_resp r = {0};
        snprintf(id_header, sizeof(id_header), "X-Request-Id: acc-%d-%d", (int)getpid(), i);
        ck_assert_int_eq(lt_request(s.url, i % 2 ? "GET" : "POST",
                                    i % 3 ? "/health?access_token=sekret" : "/nowhere", NULL, NULL,
                                    NULL, 0, headers, &r),
                         0);
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(lt_server_stop_keep(&s), 0);
    f = fopen(s.log_path, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    log = calloc(1, (size_t)size + 1);
    ck_assert_uint_eq(fread(log, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    for (i = 0; i < N; i++) {
        const char *at, *next;
        snprintf(needle, sizeof(needle), " acc-%d-%d ", (int)getpid(), i);
        at = strstr(log, needle);
        ck_assert_msg(at != NULL, "no access line for request %d", i);
        next = strstr(at + 1, needle);
        ck_assert_msg(next == NULL, "two access lines for request %d", i);
        seen++;
    }
    ck_assert_int_eq(seen, N);
    ck_assert_ptr_null(strstr(log, "sekret"));
    ck_assert_ptr_null(strstr(log, "access_token"));
    ck_assert_ptr_nonnull(strstr(log, " GET /health 200 "));
    ck_assert_ptr_nonnull(strstr(log, " POST /nowhere 404 "));
    ck_assert_ptr_nonnull(strstr(log, "stopped cleanly"));
    /* The lines keep their order: the last request's line comes before "stopped cleanly". */
    snprintf(needle, sizeof(needle), " acc-%d-%d ", (int)getpid(), N - 1);
    ck_assert(strstr(log, needle) < strstr(log, "stopped cleanly"));
    free(log);
    snprintf(cmd, sizeof(cmd), "%s", s.data_dir);
    lt_rmtree_dir(cmd);
}
END_TEST

/* A self-signed certificate for 127.0.0.1 as dir/cert.pem and dir/key.pem. */
static void make_tls_files(const char *dir, char *cert_path, char *key_path, size_t size)
{
    snprintf(cert_path, size, "%s/cert.pem", dir);
    snprintf(key_path, size, "%s/key.pem", dir);
    lt_tls_pair(cert_path, key_path);
}

static size_t tls_collect(char *data, size_t size, size_t n, void *user)
{
    struct lt_resp *r = user;
    char *grown = realloc(r->body, r->len + size * n + 1);

    if (grown == NULL)
        return 0;
    memcpy(grown + r->len, data, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/*
 * GET url with libcurl, trusting only ca_path: the body in r->body, the header block in
 * h->body (both malloc'd); -1 when the request or TLS failed.
 */
static int tls_get(const char *url, const char *ca_path, struct lt_resp *r, struct lt_resp *h)
{
    CURL *curl = curl_easy_init();
    CURLcode res;

    ck_assert_ptr_nonnull(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_path);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, tls_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, tls_collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, h);
    res = curl_easy_perform(curl);
    if (res == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(curl);
    return res == CURLE_OK ? 0 : -1;
}

/*
 * LINTEL_TLS_CERT/LINTEL_TLS_KEY serve HTTPS (a certificate made here, verified by the client
 * against itself), plain HTTP to that port gets no answer, and an unusable pair stops the start.
 */
START_TEST(https_with_tls_files)
{
    char dir[] = "/tmp/lintel-tls-XXXXXX", cert[PATH_MAX], key[PATH_MAX], url[160];
    char cert_env[PATH_MAX + 32], key_env[PATH_MAX + 32], *out = NULL;
    const char *env[] = {cert_env, key_env, NULL};
    struct lt_server s = {.pid = 0};
    static const char plain_get[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    struct lt_resp r = {0}, h = {0};
    char *plain;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    make_tls_files(dir, cert, key, sizeof(cert));
    snprintf(cert_env, sizeof(cert_env), "LINTEL_TLS_CERT=%s", cert);
    snprintf(key_env, sizeof(key_env), "LINTEL_TLS_KEY=%s", key);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/health", s.port);
    ck_assert_int_eq(tls_get(url, cert, &r, &h), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"status\":\"ok\""));
    ck_assert_msg(strcasestr(h.body, "X-Content-Type-Options: nosniff") != NULL, "headers: %s",
                  h.body);
    ck_assert_ptr_nonnull(strcasestr(h.body, "X-Request-Id: "));
    free(r.body);
    free(h.body);
    /* Plain HTTP on the TLS port: no HTTP answer. */
    plain = lt_raw(s.port, plain_get, strlen(plain_get), 2000);
    ck_assert(plain == NULL || strstr(plain, "HTTP/1.1 200") == NULL);
    free(plain);
    ck_assert_int_eq(lt_server_stop(&s), 0);

    /* A key that does not parse: the start stops, naming the TLS files. */
    f = fopen(key, "w");
    ck_assert_ptr_nonnull(f);
    fputs("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    ck_assert_int_ne(lt_run(dir, env, NULL, &out), 0);
    ck_assert_msg(strstr(out, "not a usable PEM pair") != NULL, "no TLS message in: %s", out);
    free(out);
    lt_rmtree_dir(dir);
}
END_TEST

int main(void)
{
    static const char *const env[] = {"LINTEL_MAX_BODY=1024", NULL};
    const char *args[] = {"--config", config_path, NULL};
    Suite *s = suite_create("host");
    TCase *tc = tcase_create("host");
    SRunner *sr;
    FILE *f;
    int failed, fd;

    snprintf(config_path, sizeof(config_path), "/tmp/lintel-host-XXXXXX");
    fd = mkstemp(config_path);
    f = fdopen(fd, "w");
    /* The example plugin is loaded only when asked for: here by a file entry with its path. */
    fprintf(f,
            "{\"plugins\": [{\"name\": \"example\", \"path\": \"%s\","
            " \"config\": {\"public_notes\": true}}]}\n",
            getenv("LINTEL_TEST_EXAMPLE"));
    fclose(f);
    if (lt_server_start(&srv, env, args) != 0)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, health);
    tcase_add_test(tc, ping_from_sql);
    tcase_add_test(tc, not_found_and_method);
    tcase_add_test(tc, literal_beats_param);
    tcase_add_test(tc, create_and_read);
    tcase_add_test(tc, malformed_json);
    tcase_add_test(tc, non_finite_numbers);
    tcase_add_test(tc, unprocessable_with_errors);
    tcase_add_test(tc, media_type);
    tcase_add_test(tc, too_large);
    tcase_add_test(tc, request_id);
    tcase_add_test(tc, garbage_then_normal);
    tcase_add_test(tc, head_and_options);
    tcase_add_test(tc, auth_challenges);
    tcase_add_test(tc, jsend_and_cors);
    tcase_add_test(tc, command_line);
    tcase_add_test(tc, sigterm_loses_nothing);
    tcase_add_test(tc, access_log_complete);
    tcase_add_test(tc, https_with_tls_files);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (lt_server_stop(&srv) != 0)
        failed++;
    unlink(config_path);
    return failed == 0 ? 0 : 1;
}
