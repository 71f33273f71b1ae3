/*
 * Support for black-box tests: start the real lintel binary on a free loopback port with a
 * temporary data directory, send it requests with libcurl, read JSON replies.
 */
#ifndef LINTEL_TESTS_LINTEL_TEST_H
#define LINTEL_TESTS_LINTEL_TEST_H

#include <check.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct lt_server {
    pid_t pid;
    int port;
    char url[128];                /* "http://127.0.0.1:PORT" */
    char data_dir[PATH_MAX];      /* temporary, removed by lt_server_stop */
    char log_path[PATH_MAX + 32]; /* the server's stderr */
};

/*
 * Starts build/app/lintel (LINTEL_TEST_BIN) with LINTEL_PORT=0, a new temporary data dir, the
 * built plugins, a known admin password (LT_ADMIN_PASSWORD), and then env: extra "KEY=value"
 * strings (NULL-terminated list, may be NULL) that override those. args: extra command-line
 * arguments (NULL-terminated, may be NULL). Waits until the server logs "listening on".
 * Returns 0, or -1 when it exited or did not listen within 30 s (its log is printed).
 */
int lt_server_start(struct lt_server *s, const char *const *env, const char *const *args);

/* Sends SIGTERM, waits, removes the data dir. Returns the exit status, or -1 for a signal. */
int lt_server_stop(struct lt_server *s);

/* Same as lt_server_stop but keeps the data dir (to inspect it or start again on it). */
int lt_server_stop_keep(struct lt_server *s);

/* Runs the binary to completion with env/args as above (data dir given); returns exit status
 * and, when out is not NULL, its stdout+stderr (malloc'd). */
int lt_run(const char *data_dir, const char *const *env, const char *const *args, char **out);

/*
 * Writes text to a file in data_dir and runs `lintel import profile FILE` on it with env as
 * lt_run does: the exit status, and when out is not NULL the output (malloc'd); -1 when the
 * file could not be written.
 */
int lt_import(const char *data_dir, const char *const *env, const char *profile, const char *text,
              char **out);

/* lt_import that must exit with status and print needle (both asserted). */
void lt_import_expect(const char *data_dir, const char *const *env, const char *profile,
                      const char *text, int status, const char *needle);

/*
 * A data dir for a CLI test: starts the binary once with env (it migrates a new data dir) and
 * stops it, keeping s->data_dir; env_var (which env may hold) gets "LINTEL_DATA_DIR=<it>" to
 * start again on it and rm_cmd the shell command that removes it at the end. 0 or -1.
 */
int lt_server_prepare(struct lt_server *s, const char *const *env, char *env_var, size_t size,
                      char *rm_cmd, size_t rm_size);

/* The whole file, NUL-terminated (malloc'd), or NULL when it cannot be read (a server's log). */
char *lt_slurp(const char *path);

/* The shared fixture server's URL (tests/http fixture), or NULL when there is none. */
const char *lt_shared_url(void);

#define LT_ADMIN_PASSWORD "admin-password-for-tests"

struct lt_resp {
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
    json_t *j_body;    /* parsed body when it is JSON, else NULL (owned) */
    json_t *j_headers; /* object of lower-cased header names to values (owned) */
};

/*
 * Sends one request to base_url + path. token: bearer token or NULL. content_type: NULL for
 * none. body: len bytes (len (size_t)-1: strlen). Extra headers: "Name: value" strings,
 * NULL-terminated, may be NULL. Returns 0 when an answer came (any status), -1 otherwise.
 */
int lt_request(const char *base_url, const char *method, const char *path, const char *token,
               const char *content_type, const char *body, size_t len, const char *const *headers,
               struct lt_resp *r);

/* JSON shorthand: body is JSON text (NULL: no body), sent as application/json. */
int lt_json(const char *base_url, const char *method, const char *path, const char *token,
            const char *json_text, struct lt_resp *r);

/* A header of the reply (case-insensitive name) or NULL. */
const char *lt_header(const struct lt_resp *r, const char *name);

void lt_resp_clear(struct lt_resp *r);

/* The status of GET /api/users/me with token (whether the token counts), -1 without an answer. */
long lt_me_status(const char *base_url, const char *token);

/* The value of metric name in GET /metrics (scraped with metrics_token), or -1 when absent. */
long long lt_metric(const char *base_url, const char *metrics_token, const char *name);

/*
 * A compatibility profile test's private server: lt_compat_start starts it with env (asserted),
 * lt_compat_stop stops it (asserted; usable as a Check fixture) and lt_compat_send talks to it.
 */
extern struct lt_server lt_compat;
void lt_compat_start(const char *const *env);
void lt_compat_stop(void);
long lt_compat_send(struct lt_resp *r, const char *method, const char *path, const char *token,
                    const char *json_text);

/*
 * Logs in at base_url's path with body sent as content_type, which must answer 200: its
 * access_token (asserted present), malloc'd.
 */
char *lt_compat_token(const char *base_url, const char *path, const char *content_type,
                      const char *body);

/*
 * Sends raw bytes on a new TCP connection to 127.0.0.1:port and reads until the server closes
 * or timeout_ms passes; returns what was read (malloc'd, NUL-terminated), or NULL.
 */
char *lt_raw(int port, const void *data, size_t len, int timeout_ms);

/* lt_raw from the local address source ("127.0.0.2": another client of the server), or NULL. */
char *lt_raw_from(const char *source, int port, const void *data, size_t len, int timeout_ms);

/* A unique name for this process and call ("prefix_<pid>_<n>_<random>"), malloc'd. */
char *lt_unique(const char *prefix);

/*
 * Registers a new user (unique name from prefix) with password and logs in. On success
 * *token is the access token (malloc'd), *user_id set (when not NULL); username written to
 * *username when not NULL (malloc'd). Returns 0 or -1.
 */
int lt_register(const char *base_url, const char *prefix, const char *password, char **token,
                long long *user_id, char **username);

/* Logs in; *token malloc'd (and *refresh when not NULL). scope may be NULL. 0 or -1. */
int lt_login(const char *base_url, const char *username, const char *password, const char *scope,
             char **token, char **refresh);

/*
 * Shorthands for Check test cases against the shared server: each fails the running test (with
 * ck_assert) instead of returning an error, so call them only inside START_TEST.
 */
struct lt_user {
    char *token;
    char *username;
    long long id;
};

/* The shared fixture server's URL. */
const char *lt_base(void);

/* Registers a new user named from prefix on lt_base() and logs it in; lt_user_clear frees. */
void lt_user_new(struct lt_user *u, const char *prefix, const char *password);
void lt_user_clear(struct lt_user *u);

/* Sends a JSON request (json_text NULL: no body) to lt_base(); the status, *r the reply. */
long lt_send(struct lt_resp *r, const char *method, const char *path, const char *token,
             const char *json_text);

/* The status of such a request whose reply is not needed. */
long lt_status(const char *method, const char *path, const char *token, const char *json_text);

/*
 * The value at a dotted path ("errors.0.field": object keys, array indexes) in j, borrowed,
 * or NULL when any step is missing. lt_path_str: the same as a string, NULL if not one.
 */
const json_t *lt_path(const json_t *j, const char *path);
const char *lt_path_str(const json_t *j, const char *path);

/*
 * The one 422 assertion: status 422, a JSON problem body whose errors[] has an entry for
 * field with a non-empty message (equal to message when that is not NULL).
 */
void lt_assert_422(const struct lt_resp *r, const char *field, const char *message);

/* A FastAPI error reply: status and the body {"detail": detail}, nothing else. */
void lt_assert_detail(const struct lt_resp *r, long status, const char *detail);

/* The claims of a compact JWT, decoded without checking the signature (new reference). */
json_t *lt_jwt_payload(const char *token);

/*
 * A WebSocket client for tests: lt_ws_open sends the handshake for path to base_url with extra
 * headers ("Name: value\r\n" lines, may be "") and returns the socket after a 101 with the
 * right Sec-WebSocket-Accept, else -1 with *status the HTTP status (0 for a wrong accept).
 * lt_ws_next waits up to timeout_ms for a frame: its opcode (1 text, 8 close, -1 none) and payload
 * (malloc'd, NUL-terminated). lt_ws_json: the next text frame as JSON (new reference), NULL when
 * none or another frame came; lt_ws_close: the code of the close frame that follows (text frames
 * before it skipped), -1 when none comes.
 */
int lt_ws_open(const char *base_url, const char *path, const char *headers, int *status);
int lt_ws_next(int fd, int timeout_ms, char **payload, size_t *len);
json_t *lt_ws_json(int fd, int timeout_ms);
int lt_ws_close(int fd, int timeout_ms);

/*
 * Runs every test of s (and frees it); the exit status for main(). The cases run with TMPDIR
 * set to a new directory below the outer one, removed with all it holds at the end, so a
 * case that fails partway leaves no data dir behind.
 */
int lt_run_suite(Suite *s);

/*
 * A compatibility profile's suite: case profile runs live on one private server (start and stop
 * its fixture), case other runs own (each test starts its servers); every case has 120 s. live
 * and own end with NULL; name, profile and other must outlive the suite.
 */
Suite *lt_compat_suite(const char *name, const char *profile, void (*start)(void),
                       void (*stop)(void), const TTest *const *live, const char *other,
                       const TTest *const *own);

/* The main() of a Check file whose suite needs no other setup: LT_CHECK_MAIN(numbers_suite) */
#define LT_CHECK_MAIN(suite_fn)                                                                    \
    int main(void)                                                                                 \
    {                                                                                              \
        return lt_run_suite(suite_fn());                                                           \
    }

#endif /* LINTEL_TESTS_LINTEL_TEST_H */
