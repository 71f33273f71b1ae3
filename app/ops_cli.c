/*
 * Operator commands: `lintel shell` (the configured database in the sqlite3 shell, extension
 * loaded, trusted_schema off) and `lintel healthcheck` (GET /health of the configured server).
 */
#include "ops_cli.h"

#include "cluster_cli.h"
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LINTEL_PLUGIN_RELDIR
#define LINTEL_PLUGIN_RELDIR "../plugins"
#endif

#define OPS_HEALTH_MAX 65536 /* a /health reply is a few hundred bytes */

/*
 * liblintel.so next to the executable: installed, PREFIX/bin -> PREFIX/lib/.../lintel (the
 * plugin directory's parent); in the build tree, build/app -> build/ext. malloc'd, or NULL.
 */
static char *ops_extension_path(void)
{
    char exe[PATH_MAX], *dir, *path = NULL;
    const char *const rel[] = {LINTEL_PLUGIN_RELDIR "/../liblintel.so", "../ext/liblintel.so"};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    struct stat st;
    size_t i;

    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    dir = dirname(exe);
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        if (asprintf(&path, "%s/%s", dir, rel[i]) < 0)
            return NULL;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return path;
        free(path);
        path = NULL;
    }
    return NULL;
}

static void ops_shell_usage(FILE *out)
{
    fprintf(out, "usage: lintel [--config FILE] shell [SQL...]\n"
                 "Opens data_dir/lintel.db in sqlite3 with the lintel extension loaded\n"
                 "(storage dqlite: a read-only copy of the cluster's database),\n"
                 "PRAGMA trusted_schema=OFF, foreign_keys=ON and a 5 s busy timeout. Arguments\n"
                 "after `shell` go to sqlite3 after the database (SQL to run, then exit);\n"
                 "without any, an interactive shell (or SQL read from standard input).\n"
                 "See docs/sql-functions.md, \"Operator's SQL\".\n");
}

/*
 * storage dqlite: a node has no database file, so the shell opens a copy of the cluster's
 * (cluster_cli_copy, as `lintel cluster dump` takes it) read-only in a private directory,
 * removed when sqlite3 exits. *db is its path (malloc'd); *dir the directory.
 */
static int ops_shell_cluster_copy(const struct config *cfg, char *dir, char **db)
{
    char from[160] = "";
    char *err = NULL;

    *db = NULL;
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "lintel shell: cannot make a temporary directory: %s\n", strerror(errno));
        return -1;
    }
    if (asprintf(db, "%s/lintel.db", dir) < 0) {
        *db = NULL;
        return -1;
    }
    if (cluster_cli_copy(cfg, *db, from, sizeof(from), &err) != 0) {
        fprintf(stderr, "lintel shell: no copy of the cluster's database: %s\n",
                err != NULL ? err : "out of memory");
        free(err);
        return -1;
    }
    fprintf(stderr,
            "lintel shell: a read-only copy of the cluster's database, taken now from %s; "
            "writes go through the API or the lintel commands (docs/cluster.md)\n",
            from);
    return 0;
}

/* Runs sqlite3 with args and waits for it: the copy it reads is removed after. */
static int ops_shell_run_wait(char **args)
{
    int status = 0;
    pid_t pid = fork();

    if (pid == 0) {
        execvp("sqlite3", args);
        fprintf(stderr, "lintel shell: cannot run sqlite3 (%s): install the sqlite3 package\n",
                strerror(errno));
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int shell_cli_main(int argc, char **argv, const struct config *cfg)
{
    char *ext = NULL, *db = NULL, *load = NULL, **args = NULL;
    char dir[] = "/tmp/lintel-shell-XXXXXX";
    bool cluster = cfg->storage != NULL && strcmp(cfg->storage, "dqlite") == 0;
    struct stat st;
    int i, n = 0, rc = 1;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        ops_shell_usage(stdout);
        return 0;
    }
    if (cluster) {
        if (ops_shell_cluster_copy(cfg, dir, &db) != 0)
            goto cleanup;
    } else if (asprintf(&db, "%s/lintel.db", cfg->data_dir) < 0) {
        db = NULL;
        goto cleanup;
    }
    if (stat(db, &st) != 0) {
        fprintf(stderr,
                "lintel shell: no database at %s (%s): start lintel or run `lintel "
                "migrate` once, or set data_dir\n",
                db, strerror(errno));
        goto cleanup;
    }
    ext = ops_extension_path();
    if (ext == NULL) {
        fprintf(stderr, "lintel shell: liblintel.so is not installed next to lintel\n");
        goto cleanup;
    }
    /* .load takes the name without its suffix too; the path is quoted for spaces. */
    if (asprintf(&load, ".load \"%s\"", ext) < 0) {
        load = NULL;
        goto cleanup;
    }
    args = calloc((size_t)argc + 12, sizeof(*args));
    if (args == NULL)
        goto cleanup;
    args[n++] = "sqlite3";
    /* Schema code (views, triggers, CHECKs) runs only innocuous functions, as in the server. */
    args[n++] = "-cmd";
    args[n++] = "PRAGMA trusted_schema=OFF";
    args[n++] = "-cmd";
    args[n++] = "PRAGMA foreign_keys=ON";
    args[n++] = "-cmd";
    args[n++] = ".timeout 5000";
    args[n++] = "-cmd";
    args[n++] = load;
    if (cluster)
        args[n++] = "-readonly";
    args[n++] = db;
    for (i = 1; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    fflush(NULL);
    if (cluster) {
        rc = ops_shell_run_wait(args);
        goto cleanup;
    }
    execvp("sqlite3", args);
    fprintf(stderr, "lintel shell: cannot run sqlite3 (%s): install the sqlite3 package\n",
            strerror(errno));
cleanup:
    if (cluster) {
        if (db != NULL)
            unlink(db);
        rmdir(dir);
    }
    free(args);
    free(load);
    free(ext);
    free(db);
    return rc;
}

static size_t ops_health_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    char *buf = userdata;
    size_t have = strlen(buf), n = size * nmemb;

    if (have + n >= OPS_HEALTH_MAX)
        return 0; /* too large: curl fails the transfer */
    memcpy(buf + have, ptr, n);
    buf[have + n] = '\0';
    return n;
}

/*
 * The server's own address as a client reaches it from the same host: a wildcard bind means
 * loopback. IPv6 literals get brackets.
 */
static char *ops_health_url(const struct config *cfg)
{
    const char *host = cfg->bind;
    char *url = NULL;

    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    if (asprintf(&url, strchr(host, ':') != NULL ? "%s://[%s]:%d/health" : "%s://%s:%d/health",
                 cfg->tls_cert != NULL ? "https" : "http", host, cfg->port) < 0)
        url = NULL;
    return url;
}

int healthcheck_cli_main(int argc, char **argv, const struct config *cfg)
{
    char *url = NULL, *body = NULL;
    json_t *j_body = NULL;
    CURL *curl = NULL;
    CURLcode code;
    long status = 0;
    int rc = 1;

    if (argc > 1) {
        fprintf(stdout, "usage: lintel [--config FILE] healthcheck\n"
                        "GET /health of the server this configuration describes (bind, port,\n"
                        "TLS); exit 0 when it answers 200 with status \"ok\", else 1.\n");
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
    }
    url = ops_health_url(cfg);
    body = calloc(1, OPS_HEALTH_MAX);
    curl = curl_easy_init();
    if (url == NULL || body == NULL || curl == NULL) {
        fprintf(stderr, "lintel healthcheck: out of memory\n");
        goto cleanup;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ops_health_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "lintel-healthcheck");
    /* Its own server on loopback: the certificate names the public host, not 127.0.0.1. */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        fprintf(stderr, "lintel healthcheck: %s: %s\n", url, curl_easy_strerror(code));
        goto cleanup;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    j_body = json_loads(body, 0, NULL);
    if (status != 200 || strcmp(json_string_value(json_object_get(j_body, "status")) != NULL
                                    ? json_string_value(json_object_get(j_body, "status"))
                                    : "",
                                "ok") != 0) {
        fprintf(stderr, "lintel healthcheck: %s answered %ld: %.200s\n", url, status, body);
        goto cleanup;
    }
    printf("ok %s\n", url);
    rc = 0;
cleanup:
    json_decref(j_body);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    free(body);
    free(url);
    return rc;
}
