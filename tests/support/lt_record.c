/*
 * The reply recorder of the http tests: one JSON line per reply (server's spec, method, path,
 * status, content type, JSON body), and each started server's /openapi.json beside them.
 */
#include "lt_record.h"

#include "lt_test.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Servers this process started, by URL; a port reused later gets a new entry. */
#define LT_RECORD_SERVERS 16

static pthread_mutex_t lt_record_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char url[128];
    char spec[64];
} lt_record_servers[LT_RECORD_SERVERS];
static unsigned lt_record_count;

static const char *lt_record_dir(void)
{
    const char *dir = getenv("LINTEL_TEST_REPLIES");

    return dir != NULL && dir[0] != '\0' ? dir : NULL;
}

int lt_record_on(void)
{
    return lt_record_dir() != NULL;
}

void lt_record_reset(void)
{
    const char *dir = lt_record_dir();
    struct dirent *e;
    char path[PATH_MAX];
    DIR *d;

    if (dir == NULL || (d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "replies-", 8) != 0 && strncmp(e->d_name, "spec-", 5) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

void lt_record_server(const char *url, int port)
{
    /*
     * From another loopback address, so that no per-client count of the tests' own address
     * (connections, rate limit) sees it, over a connection the server closes itself
     * (Connection: close) and read until it did: the server has let it go when this returns.
     */
    static const char get[] = "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
    const char *dir = lt_record_dir(), *body;
    char name[64], path[PATH_MAX], *reply;
    json_t *j_doc = NULL;
    unsigned slot;
    FILE *f;

    if (dir == NULL)
        return;
    reply = lt_raw_from("127.0.0.2", port, get, strlen(get), 30000);
    body = reply != NULL ? strstr(reply, "\r\n\r\n") : NULL;
    /* an HTTPS server answers nothing here: its replies then name no document */
    if (body != NULL && strncmp(reply, "HTTP/1.1 200 ", 13) == 0)
        j_doc = json_loads(body + 4, 0, NULL);
    pthread_mutex_lock(&lt_record_lock);
    slot = lt_record_count++ % LT_RECORD_SERVERS;
    snprintf(name, sizeof(name), "spec-%d-%u.json", (int)getpid(), lt_record_count);
    snprintf(lt_record_servers[slot].url, sizeof(lt_record_servers[slot].url), "%s", url);
    lt_record_servers[slot].spec[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (json_is_object(j_doc) && (f = fopen(path, "w")) != NULL) {
        bool ok = fputs(body + 4, f) >= 0;
        if (fclose(f) == 0 && ok)
            snprintf(lt_record_servers[slot].spec, sizeof(lt_record_servers[slot].spec), "%s",
                     name);
        else
            unlink(path);
    }
    pthread_mutex_unlock(&lt_record_lock);
    json_decref(j_doc);
    free(reply);
}

void lt_record_forget(const char *url)
{
    size_t i;

    pthread_mutex_lock(&lt_record_lock);
    for (i = 0; i < LT_RECORD_SERVERS; i++)
        if (strcmp(lt_record_servers[i].url, url) == 0)
            lt_record_servers[i].url[0] = '\0';
    pthread_mutex_unlock(&lt_record_lock);
}

/*
 * url's spec from the table (the caller holds the lock), else the shared fixture's; *known
 * false for a server that is no lintel of the tests (an upstream simulator).
 */
static const char *lt_record_lookup(const char *url, char *buf, size_t size, bool *known)
{
    const char *shared = lt_shared_url();
    char path[PATH_MAX];
    size_t i;
    FILE *f;

    *known = true;
    for (i = 0; i < LT_RECORD_SERVERS; i++)
        if (strcmp(lt_record_servers[i].url, url) == 0)
            return lt_record_servers[i].spec[0] != '\0' ? lt_record_servers[i].spec : NULL;
    *known = shared != NULL && strcmp(shared, url) == 0;
    if (!*known)
        return NULL;
    snprintf(path, sizeof(path), "%s/spec", getenv("LINTEL_TEST_SHARED"));
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    if (fgets(buf, (int)size, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] != '\0' ? buf : NULL;
}

const char *lt_record_spec(const char *url)
{
    static char buf[64];
    const char *spec;
    bool known;

    pthread_mutex_lock(&lt_record_lock);
    spec = lt_record_lookup(url, buf, sizeof(buf), &known);
    pthread_mutex_unlock(&lt_record_lock);
    return spec;
}

void lt_record_reply(const char *base_url, const char *method, const char *path,
                     const struct lt_resp *r)
{
    const char *dir = lt_record_dir(), *type, *spec;
    char file[PATH_MAX], buf[64];
    json_t *j_line = NULL;
    char *line = NULL;
    bool known;
    FILE *f;

    if (dir == NULL)
        return;
    type = lt_header(r, "content-type");
    pthread_mutex_lock(&lt_record_lock);
    spec = lt_record_lookup(base_url, buf, sizeof(buf), &known);
    if (!known)
        goto cleanup;
    j_line = json_pack("{ss* ss ss ss si ss* sI sO*}", "spec", spec, "server", base_url, "method",
                       method, "path", path, "status", (int)r->status, "type", type, "len",
                       (json_int_t)r->len, "body",
                       type != NULL && strstr(type, "json") != NULL ? r->j_body : NULL);
    line = j_line != NULL ? json_dumps(j_line, JSON_COMPACT) : NULL;
    snprintf(file, sizeof(file), "%s/replies-%d.jsonl", dir, (int)getpid());
    f = line != NULL ? fopen(file, "a") : NULL;
    if (f != NULL) {
        fprintf(f, "%s\n", line);
        fclose(f);
    } else {
        fprintf(stderr, "lt_record: cannot record %s %s in %s\n", method, path, file);
    }
cleanup:
    pthread_mutex_unlock(&lt_record_lock);
    free(line);
    json_decref(j_line);
}
