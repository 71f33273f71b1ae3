/*
 * Support for black-box tests: runs the real server in a child process and talks HTTP to it.
 * libcurl is used directly (not the ulfius client) so a test can send exactly the bytes it means.
 */
#include "lt_test.h"

#include "lt_record.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <orcania.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *lt_getenv(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : fallback;
}

static int lt_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void lt_rmtree(const char *path)
{
    if (path[0] != '\0')
        nftw(path, lt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *lt_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL) {
            size_t got = fread(buf, 1, (size_t)n, f);
            buf[got] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* The child's side of lt_server_start/lt_run: environment, output, exec. Never returns. */
static void lt_exec_child(const char *data_dir, const char *log_path, const char *const *env,
                          const char *const *args, int detached)
{
    const char *bin = lt_getenv("LINTEL_TEST_BIN", "build/app/lintel");
    const char *argv[64];
    int fd, n = 0;

    if (!detached)
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    setenv("LINTEL_PORT", "0", 1);
    setenv("LINTEL_BIND", "127.0.0.1", 1);
    setenv("LINTEL_DATA_DIR", data_dir, 1);
    setenv("LINTEL_PLUGIN_DIR", lt_getenv("LINTEL_TEST_PLUGIN_DIR", "build/plugins"), 1);
    setenv("LINTEL_ADMIN_PASSWORD", LT_ADMIN_PASSWORD, 1);
    setenv("LINTEL_LOG_LEVEL", "info", 1);
    for (; env != NULL && *env != NULL; env++)
        putenv((char *)*env);
    argv[n++] = "lintel";
    for (; args != NULL && *args != NULL && n < 62; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    execv(bin, (char *const *)argv);
    fprintf(stderr, "lt_test: cannot exec %s: %s\n", bin, strerror(errno));
    _exit(127);
}

static int lt_make_data_dir(char *out, size_t size)
{
    const char *tmp = lt_getenv("TMPDIR", "/tmp");

    snprintf(out, size, "%s/lintel-test-XXXXXX", tmp);
    return mkdtemp(out) != NULL ? 0 : -1;
}

int lt_server_start(struct lt_server *s, const char *const *env, const char *const *args)
{
    int detached = s->pid == -1; /* lt_fixture asks for a server that outlives it */
    char *log = NULL, *at;
    int rc = -1, i, status;

    memset(s, 0, sizeof(*s));
    if (lt_make_data_dir(s->data_dir, sizeof(s->data_dir)) != 0)
        goto cleanup;
    snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->data_dir);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        goto cleanup;
    if (s->pid == 0)
        lt_exec_child(s->data_dir, s->log_path, env, args, detached);
    for (i = 0; i < 600; i++) {
        free(log);
        log = lt_slurp(s->log_path);
        at = log != NULL ? strstr(log, "listening on http") : NULL;
        if (at != NULL) {
            at = strchr(at + strlen("listening on https://"), ':');
            if (at != NULL && (s->port = atoi(at + 1)) > 0) {
                snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
                lt_record_server(s->url, s->port);
                rc = 0;
                goto cleanup;
            }
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        usleep(50 * 1000);
    }
    fprintf(stderr, "lt_test: server did not start; its log:\n%s\n", log != NULL ? log : "");
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        s->pid = 0;
    }
    lt_rmtree(s->data_dir);
cleanup:
    free(log);
    return rc;
}

static int lt_stop(struct lt_server *s, int keep)
{
    int status = 0, rc = -1;

    lt_record_forget(s->url);
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        if (waitpid(s->pid, &status, 0) == s->pid && WIFEXITED(status))
            rc = WEXITSTATUS(status);
        s->pid = 0;
    }
    if (rc != 0) {
        char *log = lt_slurp(s->log_path);
        fprintf(stderr, "lt_test: server stopped with %d; its log:\n%s\n", rc,
                log != NULL ? log : "");
        free(log);
    }
    if (!keep)
        lt_rmtree(s->data_dir);
    return rc;
}

int lt_server_stop(struct lt_server *s)
{
    return lt_stop(s, 0);
}

int lt_server_stop_keep(struct lt_server *s)
{
    return lt_stop(s, 1);
}

int lt_run(const char *data_dir, const char *const *env, const char *const *args, char **out)
{
    char log_path[PATH_MAX + 32];
    pid_t pid;
    int status, rc = -1;

    snprintf(log_path, sizeof(log_path), "%s/run-%d.log", data_dir, (int)getpid());
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        lt_exec_child(data_dir, log_path, env, args, 0);
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        rc = WEXITSTATUS(status);
    if (out != NULL)
        *out = lt_slurp(log_path);
    unlink(log_path);
    return rc;
}

int lt_import(const char *data_dir, const char *const *env, const char *profile, const char *text,
              char **out)
{
    char path[PATH_MAX + 32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/import-%s.txt", data_dir, profile);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    if (fputs(text, f) < 0) {
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0)
        return -1;
    return lt_run(data_dir, env, (const char *const[]){"import", profile, path, NULL}, out);
}

void lt_import_expect(const char *data_dir, const char *const *env, const char *profile,
                      const char *text, int status, const char *needle)
{
    char *out = NULL;
    int rc = lt_import(data_dir, env, profile, text, &out);

    ck_assert_msg(rc == status && out != NULL && strstr(out, needle) != NULL,
                  "import %s: exit %d (expected %d), output without \"%s\":\n%s", profile, rc,
                  status, needle, out != NULL ? out : "");
    free(out);
}

struct lt_server lt_compat;

void lt_compat_start(const char *const *env)
{
    ck_assert_int_eq(lt_server_start(&lt_compat, env, NULL), 0);
}

void lt_compat_stop(void)
{
    ck_assert_int_eq(lt_server_stop(&lt_compat), 0);
}

long lt_compat_send(struct lt_resp *r, const char *method, const char *path, const char *token,
                    const char *json_text)
{
    ck_assert_int_eq(lt_json(lt_compat.url, method, path, token, json_text, r), 0);
    return r->status;
}

char *lt_compat_token(const char *base_url, const char *path, const char *content_type,
                      const char *body)
{
    struct lt_resp r;
    const char *token;
    char *copy;

    ck_assert_int_eq(
        lt_request(base_url, "POST", path, NULL, content_type, body, (size_t)-1, NULL, &r), 0);
    ck_assert_msg(r.status == 200, "POST %s: expected 200, got %ld: %s", path, r.status, r.body);
    token = json_string_value(json_object_get(r.j_body, "access_token"));
    ck_assert_ptr_nonnull(token);
    copy = strdup(token);
    lt_resp_clear(&r);
    return copy;
}

int lt_server_prepare(struct lt_server *s, const char *const *env, char *env_var, size_t size,
                      char *rm_cmd, size_t rm_size)
{
    /* env may hold env_var itself, not yet set: a harmless placeholder for this first start */
    snprintf(env_var, size, "LT_PREPARE=1");
    if (lt_server_start(s, env, NULL) != 0 || lt_server_stop_keep(s) != 0)
        return -1;
    snprintf(env_var, size, "LINTEL_DATA_DIR=%s", s->data_dir);
    snprintf(rm_cmd, rm_size, "rm -rf '%s'", s->data_dir);
    return 0;
}

const char *lt_shared_url(void)
{
    static char url[256];
    char path[PATH_MAX];
    FILE *f;

    if (url[0] != '\0')
        return url;
    snprintf(path, sizeof(path), "%s/url", lt_getenv("LINTEL_TEST_SHARED", "."));
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    if (fgets(url, sizeof(url), f) == NULL)
        url[0] = '\0';
    fclose(f);
    url[strcspn(url, "\r\n")] = '\0';
    return url[0] != '\0' ? url : NULL;
}

struct lt_buf {
    char *data;
    size_t len;
};

static size_t lt_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct lt_buf *b = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);

    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static size_t lt_on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    json_t *j_headers = userdata;
    size_t n = size * nmemb, i;
    char *line = strndup(ptr, n), *colon, *value, *end;

    if (line == NULL)
        return 0;
    colon = strchr(line, ':');
    if (colon != NULL) {
        *colon = '\0';
        for (i = 0; line[i] != '\0'; i++)
            line[i] = (char)tolower((unsigned char)line[i]);
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        end = value + strlen(value);
        while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            *--end = '\0';
        json_object_set_new(j_headers, line, json_string(value));
    } else if (strncmp(line, "HTTP/", 5) == 0) {
        json_object_clear(j_headers); /* a new response (after 100 Continue) */
    }
    free(line);
    return n;
}

int lt_request(const char *base_url, const char *method, const char *path, const char *token,
               const char *content_type, const char *body, size_t len, const char *const *headers,
               struct lt_resp *r)
{
    CURL *curl = NULL;
    struct curl_slist *hdrs = NULL;
    struct lt_buf buf = {NULL, 0};
    char line[8192];
    char *url = NULL;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    r->j_headers = json_object();
    curl = curl_easy_init();
    if (curl == NULL || base_url == NULL)
        goto cleanup;
    if (asprintf(&url, "%s%s", base_url, path) < 0) {
        url = NULL;
        goto cleanup;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, lt_on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, lt_on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r->j_headers);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, line);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type:"); /* curl would add a form type */
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (; headers != NULL && *headers != NULL; headers++)
        hdrs = curl_slist_append(hdrs, *headers);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    if (body != NULL) {
        if (len == (size_t)-1)
            len = strlen(body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(curl) != CURLE_OK)
        goto cleanup;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = buf.data != NULL ? buf.data : strdup("");
    buf.data = NULL;
    r->len = buf.len;
    r->j_body = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    lt_record_reply(base_url, method, path, r);
    rc = 0;
cleanup:
    free(buf.data);
    free(url);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    return rc;
}

int lt_json(const char *base_url, const char *method, const char *path, const char *token,
            const char *json_text, struct lt_resp *r)
{
    return lt_request(base_url, method, path, token, json_text != NULL ? "application/json" : NULL,
                      json_text, (size_t)-1, NULL, r);
}

const char *lt_header(const struct lt_resp *r, const char *name)
{
    char lower[256];
    size_t i;

    for (i = 0; name[i] != '\0' && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return json_string_value(json_object_get(r->j_headers, lower));
}

void lt_resp_clear(struct lt_resp *r)
{
    free(r->body);
    json_decref(r->j_body);
    json_decref(r->j_headers);
    memset(r, 0, sizeof(*r));
}

long lt_me_status(const char *base_url, const char *token)
{
    struct lt_resp r;
    long status;

    if (lt_json(base_url, "GET", "/api/users/me", token, NULL, &r) != 0)
        return -1;
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

long long lt_metric(const char *base_url, const char *metrics_token, const char *name)
{
    char auth[512], line[256];
    const char *const hdr[] = {auth, NULL};
    const char *p;
    struct lt_resp r;
    long long n = -1;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", metrics_token);
    snprintf(line, sizeof(line), "\n%s ", name);
    if (lt_request(base_url, "GET", "/metrics", NULL, NULL, NULL, 0, hdr, &r) != 0)
        return -1;
    p = r.status == 200 ? strstr(r.body, line) : NULL;
    if (p != NULL)
        n = atoll(p + strlen(line));
    lt_resp_clear(&r);
    return n;
}

char *lt_raw(int port, const void *data, size_t len, int timeout_ms)
{
    return lt_raw_from(NULL, port, data, len, timeout_ms);
}

char *lt_raw_from(const char *source, int port, const void *data, size_t len, int timeout_ms)
{
    struct sockaddr_in addr;
    struct lt_buf buf = {NULL, 0};
    struct pollfd pfd;
    char chunk[4096];
    ssize_t n;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    if (source != NULL && (inet_pton(AF_INET, source, &addr.sin_addr) != 1 ||
                           bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0))
        goto cleanup;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        goto cleanup;
    if (len > 0 && send(fd, data, len, MSG_NOSIGNAL) < 0)
        goto cleanup;
    pfd.fd = fd;
    pfd.events = POLLIN;
    while (poll(&pfd, 1, timeout_ms) > 0) {
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0)
            break;
        lt_on_body(chunk, 1, (size_t)n, &buf);
    }
cleanup:
    close(fd);
    return buf.data != NULL ? buf.data : strdup("");
}

char *lt_unique(const char *prefix)
{
    static unsigned counter;
    char *out = NULL;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (asprintf(&out, "%s_%d_%u_%ld", prefix, (int)getpid(), ++counter,
                 (long)(ts.tv_nsec % 100000)) < 0)
        return NULL;
    return out;
}

int lt_login(const char *base_url, const char *username, const char *password, const char *scope,
             char **token, char **refresh)
{
    struct lt_resp r;
    json_t *j_req = NULL;
    char *text = NULL;
    int rc = -1;

    j_req = json_pack("{ssss}", "username", username, "password", password);
    if (j_req == NULL)
        goto cleanup;
    if (scope != NULL)
        json_object_set_new(j_req, "scope", json_string(scope));
    text = json_dumps(j_req, JSON_COMPACT);
    if (text == NULL || lt_json(base_url, "POST", "/api/auth/login", NULL, text, &r) != 0)
        goto cleanup;
    if (r.status == 200 && json_is_string(json_object_get(r.j_body, "access_token"))) {
        *token = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
        if (refresh != NULL)
            *refresh = strdup(json_string_value(json_object_get(r.j_body, "refresh_token")));
        rc = 0;
    } else {
        fprintf(stderr, "lt_login(%s): %ld %s\n", username, r.status, r.body);
    }
    lt_resp_clear(&r);
cleanup:
    free(text);
    json_decref(j_req);
    return rc;
}

int lt_register(const char *base_url, const char *prefix, const char *password, char **token,
                long long *user_id, char **username)
{
    struct lt_resp r;
    json_t *j_req = NULL;
    char *name = lt_unique(prefix), *text = NULL;
    int rc = -1;

    j_req = json_pack("{ssss}", "username", name, "password", password);
    text = j_req != NULL ? json_dumps(j_req, JSON_COMPACT) : NULL;
    if (text == NULL || lt_json(base_url, "POST", "/api/auth/register", NULL, text, &r) != 0)
        goto cleanup;
    if (r.status == 201) {
        json_t *j_user = json_object_get(r.j_body, "user");
        if (user_id != NULL)
            *user_id = json_integer_value(json_object_get(j_user, "id"));
        *token = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
        if (username != NULL) {
            *username = name;
            name = NULL;
        }
        rc = 0;
    } else {
        fprintf(stderr, "lt_register(%s): %ld %s\n", name, r.status, r.body);
    }
    lt_resp_clear(&r);
cleanup:
    free(text);
    free(name);
    json_decref(j_req);
    return rc;
}

const char *lt_base(void)
{
    const char *url = lt_shared_url();

    ck_assert_msg(url != NULL, "no shared server (LINTEL_TEST_SHARED)");
    return url;
}

void lt_user_new(struct lt_user *u, const char *prefix, const char *password)
{
    ck_assert_int_eq(lt_register(lt_base(), prefix, password, &u->token, &u->id, &u->username), 0);
}

void lt_user_clear(struct lt_user *u)
{
    free(u->token);
    free(u->username);
    memset(u, 0, sizeof(*u));
}

long lt_send(struct lt_resp *r, const char *method, const char *path, const char *token,
             const char *json_text)
{
    ck_assert_int_eq(lt_json(lt_base(), method, path, token, json_text, r), 0);
    return r->status;
}

long lt_status(const char *method, const char *path, const char *token, const char *json_text)
{
    struct lt_resp r;
    long status = lt_send(&r, method, path, token, json_text);

    lt_resp_clear(&r);
    return status;
}

const json_t *lt_path(const json_t *j, const char *path)
{
    char key[128];
    const char *p = path;

    while (j != NULL && *p != '\0') {
        size_t n = strcspn(p, ".");
        char *end = NULL;
        unsigned long idx;

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        p += n + (p[n] == '.');
        if (json_is_array(j)) {
            idx = strtoul(key, &end, 10);
            j = (end != key && *end == '\0') ? json_array_get(j, idx) : NULL;
        } else {
            j = json_object_get(j, key);
        }
    }
    return j;
}

const char *lt_path_str(const json_t *j, const char *path)
{
    return json_string_value(lt_path(j, path));
}

void lt_assert_422(const struct lt_resp *r, const char *field, const char *message)
{
    const json_t *j_error;
    size_t i;
    int found = 0;

    ck_assert_msg(r->status == 422, "expected 422, got %ld: %s", r->status, r->body);
    ck_assert_ptr_nonnull(lt_header(r, "content-type"));
    ck_assert_msg(strstr(lt_header(r, "content-type"), "json") != NULL, "%s",
                  lt_header(r, "content-type"));
    ck_assert_msg(json_is_array(lt_path(r->j_body, "errors")), "no errors[] in %s", r->body);
    json_array_foreach(lt_path(r->j_body, "errors"), i, j_error) {
        const char *f = lt_path_str(j_error, "field");
        const char *m = lt_path_str(j_error, "message");

        if (f != NULL && strcmp(f, field) == 0 && m != NULL && m[0] != '\0' &&
            (message == NULL || strcmp(m, message) == 0))
            found = 1;
    }
    ck_assert_msg(found, "no error for %s (%s) in %s", field, message ? message : "*", r->body);
}

void lt_assert_detail(const struct lt_resp *r, long status, const char *detail)
{
    ck_assert_msg(r->status == status, "expected %ld, got %ld: %s", status, r->status, r->body);
    ck_assert_msg(json_object_size(r->j_body) == 1, "not a lone detail: %s", r->body);
    ck_assert_str_eq(lt_path_str(r->j_body, "detail"), detail);
}

json_t *lt_jwt_payload(const char *token)
{
    const char *p = strchr(token, '.'), *end = p != NULL ? strchr(p + 1, '.') : NULL;
    unsigned char *raw = NULL;
    size_t n = 0;
    json_t *j = NULL;

    ck_assert_msg(end != NULL, "not a compact JWT: %s", token);
    raw = malloc((size_t)(end - p));
    ck_assert_ptr_nonnull(raw);
    if (o_base64url_decode((const unsigned char *)p + 1, (size_t)(end - p - 1), raw, &n))
        j = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    ck_assert_msg(j != NULL, "the JWT's payload is not base64url JSON: %s", token);
    return j;
}

/* Reads n bytes, each wait at most timeout_ms; 0 or -1. */
static int lt_ws_read(int fd, void *buf, size_t n, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    unsigned char *p = buf;

    while (n > 0) {
        ssize_t r;
        if (poll(&pfd, 1, timeout_ms) <= 0 || (r = recv(fd, p, n, 0)) <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int lt_ws_open(const char *base_url, const char *path, const char *headers, int *status)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    const char *colon = strrchr(base_url, ':');
    char buf[8192];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

    *status = 0;
    sa.sin_port = htons((unsigned short)(colon != NULL ? atoi(colon + 1) : 0));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    n = snprintf(buf, sizeof(buf),
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
                 "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s\r\n",
                 path, headers != NULL ? headers : "");
    if (fd < 0 || n <= 0 || (size_t)n >= sizeof(buf) ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
        goto fail;
    /* byte by byte up to the blank line: what follows is the first frame */
    while (got + 1 < sizeof(buf) && lt_ws_read(fd, buf + got, 1, 5000) == 0) {
        buf[++got] = '\0';
        if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    buf[got] = '\0';
    if (strncmp(buf, "HTTP/1.1 ", 9) == 0)
        *status = atoi(buf + 9);
    /* RFC 6455 §1.3: the accept value of the sample nonce; a 101 without it is no WebSocket */
    if (*status == 101 && strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == NULL)
        *status = 0;
    if (*status == 101)
        return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

int lt_ws_next(int fd, int timeout_ms, char **payload, size_t *len)
{
    unsigned char h[2], ext[2];
    size_t n;

    *payload = NULL;
    *len = 0;
    if (lt_ws_read(fd, h, 2, timeout_ms) != 0 || (h[1] & 0x80) != 0 || (h[1] & 0x7f) == 127)
        return -1; /* the server neither masks nor sends frames over 64 KiB to tests */
    n = h[1] & 0x7f;
    if (n == 126) {
        if (lt_ws_read(fd, ext, 2, timeout_ms) != 0)
            return -1;
        n = (size_t)ext[0] << 8 | ext[1];
    }
    *payload = calloc(1, n + 1);
    if (*payload == NULL || lt_ws_read(fd, *payload, n, timeout_ms) != 0) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    *len = n;
    return h[0] & 0x0f;
}

json_t *lt_ws_json(int fd, int timeout_ms)
{
    char *p = NULL;
    size_t n = 0;
    json_t *j = NULL;

    if (lt_ws_next(fd, timeout_ms, &p, &n) == 1)
        j = json_loadb(p, n, 0, NULL);
    free(p);
    return j;
}

int lt_ws_close(int fd, int timeout_ms)
{
    char *p = NULL;
    size_t n = 0;
    int op, code = -1;

    while ((op = lt_ws_next(fd, timeout_ms, &p, &n)) == 1) {
        free(p);
        p = NULL;
    }
    if (op == 8 && n >= 2)
        code = (unsigned char)p[0] << 8 | (unsigned char)p[1];
    free(p);
    return code;
}

Suite *lt_compat_suite(const char *name, const char *profile, void (*start)(void),
                       void (*stop)(void), const TTest *const *live, const char *other,
                       const TTest *const *own)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(profile);

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_timeout(tc, 120);
    for (; *live != NULL; live++)
        tcase_add_test(tc, *live);
    suite_add_tcase(s, tc);
    tc = tcase_create(other);
    tcase_set_timeout(tc, 120);
    for (; *own != NULL; own++)
        tcase_add_test(tc, *own);
    suite_add_tcase(s, tc);
    return s;
}

int lt_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    char *outer = getenv("TMPDIR") != NULL ? strdup(getenv("TMPDIR")) : NULL;
    char own[PATH_MAX];
    bool made;
    int failed;

    /*
     * Every temporary directory of the cases (server data dirs, mail sinks: all under TMPDIR)
     * goes into one of the suite's own, which this process removes at the end: a case that
     * fails partway (its process ends at the failed assertion) cannot leave its own behind.
     */
    made = lt_make_data_dir(own, sizeof(own)) == 0 && setenv("TMPDIR", own, 1) == 0;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (made) {
        lt_rmtree(own);
        if (outer != NULL)
            setenv("TMPDIR", outer, 1);
        else
            unsetenv("TMPDIR");
    }
    free(outer);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
