/*
 * The CTest fixture of the http tests: `lt_fixture start DIR` runs one lintel for every http
 * test and writes its URL to DIR/url; `lt_fixture stop DIR` stops it and checks it exited 0.
 */
#include "lt_test.h"

#include "lt_record.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fixture_write(const char *dir, const char *name, const char *value)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%s\n", value);
    return fclose(f);
}

static int fixture_read(const char *dir, const char *name, char *out, size_t size)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (f == NULL || fgets(out, (int)size, f) == NULL) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* The fixture's files: what start writes and stop removes (with the directory). */
static const char *const fixture_files[] = {"url", "pid", "data_dir", "spec"};

/*
 * Removes the files and the directory, so that a later start that fails leaves no stale pid
 * for a stop to signal, and no stale url for a test to reach.
 */
static int fixture_clear(const char *dir)
{
    char path[PATH_MAX];
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(fixture_files) / sizeof(fixture_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, fixture_files[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = -1;
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "cannot remove %s: %s\n", dir, strerror(errno));
    return rc;
}

static int fixture_start(const char *dir)
{
    /* Many tests share this server: failed logins from 127.0.0.1 must not lock the others out. */
    static const char *const env[] = {"LINTEL_LOGIN_MAX_IP=1000000", "LINTEL_PASSWORD_COST=3",
                                      NULL};
    struct lt_server s = {.pid = -1};
    char pid[32];

    if (fixture_clear(dir) != 0 || mkdir(dir, 0700) != 0)
        return 1;
    /* a new run of the suite: the replies recorded from now on are this run's */
    lt_record_reset();
    if (lt_server_start(&s, env, NULL) != 0)
        return 1;
    snprintf(pid, sizeof(pid), "%d", (int)s.pid);
    if (fixture_write(dir, "url", s.url) != 0 || fixture_write(dir, "pid", pid) != 0 ||
        fixture_write(dir, "data_dir", s.data_dir) != 0 ||
        (lt_record_spec(s.url) != NULL && fixture_write(dir, "spec", lt_record_spec(s.url)) != 0)) {
        kill(s.pid, SIGKILL);
        fixture_clear(dir);
        return 1;
    }
    printf("shared server %s (pid %s, data %s)\n", s.url, pid, s.data_dir);
    return 0;
}

static int fixture_stop(const char *dir)
{
    char pid_text[32], data_dir[PATH_MAX], log_path[PATH_MAX + 16], cmd[3 * PATH_MAX];
    pid_t pid;
    int i, rc = 1;

    if (fixture_read(dir, "pid", pid_text, sizeof(pid_text)) != 0 ||
        fixture_read(dir, "data_dir", data_dir, sizeof(data_dir)) != 0)
        return 1;
    pid = (pid_t)atoi(pid_text);
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return 1;
    for (i = 0; i < 600 && (kill(pid, 0) == 0 || errno != ESRCH); i++)
        usleep(50 * 1000);
    snprintf(log_path, sizeof(log_path), "%s/server.log", data_dir);
    /* Not our child, so no exit status: the server logs a clean stop, sanitizers their errors. */
    snprintf(cmd, sizeof(cmd),
             "grep -q 'stopped cleanly' '%s' && ! grep -qE 'Sanitizer|runtime error:' '%s'",
             log_path, log_path);
    if (kill(pid, 0) != 0 && system(cmd) == 0) {
        rc = 0;
    } else {
        fprintf(stderr, "shared server did not stop cleanly; see %s\n", log_path);
        kill(pid, SIGKILL); /* the pid file goes below: nothing could stop it later */
    }
    if (rc == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", data_dir);
    }
    if (fixture_clear(dir) != 0)
        rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "start") == 0)
        return fixture_start(argv[2]);
    if (argc == 3 && strcmp(argv[1], "stop") == 0)
        return fixture_stop(argv[2]);
    fprintf(stderr, "usage: lt_fixture start|stop DIR\n");
    return 2;
}
