/*
 * Test helper: runs the built lintel-sensor-sim (tools/sensor-sim) on a free loopback port with
 * its /_sim/ control paths, so a test can switch its answers and count the requests it got.
 */
#ifndef LINTEL_TESTS_DATAPOINTS_SIM_H
#define LINTEL_TESTS_DATAPOINTS_SIM_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_test.h"

struct dp_sim {
    pid_t pid;
    int port;
    char url[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts the simulator in mode; 0 when it listens, -1 otherwise. */
static inline int dp_sim_start(struct dp_sim *s, const char *mode)
{
    const char *dir = getenv("LINTEL_TEST_TOOLS_DIR");
    char bin[4096], line[256];
    int fds[2];
    FILE *f;

    memset(s, 0, sizeof(*s));
    snprintf(bin, sizeof(bin), "%s/sensor-sim/lintel-sensor-sim",
             dir != NULL && dir[0] != '\0' ? dir : "build/tools");
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(bin, "lintel-sensor-sim", "--port", "0", "--bind", "127.0.0.1", "--control", "--mode",
              mode, (char *)NULL);
        fprintf(stderr, "dp_sim: cannot exec %s\n", bin);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (f == NULL) {
        close(fds[0]);
        return -1;
    }
    if (fgets(line, sizeof(line), f) != NULL && strstr(line, "127.0.0.1:") != NULL)
        s->port = atoi(strstr(line, "127.0.0.1:") + strlen("127.0.0.1:"));
    fclose(f);
    if (s->port <= 0)
        return -1;
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    return 0;
}

/*
 * Stops it (harmless when it already stopped) and returns once its port refuses connections.
 * A Check test runs in a fork of the process that started the simulator, where waitpid cannot
 * wait for it (not our child), so the port is what says it is gone.
 */
static inline void dp_sim_stop(struct dp_sim *s)
{
    struct lt_resp r;

    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    if (waitpid(s->pid, NULL, 0) != s->pid) {
        for (int i = 0; i < 200; i++) {
            int gone;

            memset(&r, 0, sizeof(r));
            gone = lt_request(s->url, "GET", "/_sim/hits", NULL, NULL, NULL, 0, NULL, &r) != 0;
            lt_resp_clear(&r);
            if (gone)
                break;
            usleep(25 * 1000);
        }
    }
    s->pid = 0;
}

/* Switches the simulator's answers to mode (see lintel-sensor-sim --help); 0 or -1. */
static inline int dp_sim_mode(const struct dp_sim *s, const char *mode)
{
    struct lt_resp r = {0};
    char path[128];
    int rc;

    snprintf(path, sizeof(path), "/_sim/mode/%s", mode);
    rc = lt_request(s->url, "GET", path, NULL, NULL, NULL, 0, NULL, &r) == 0 && r.status == 200
             ? 0
             : -1;
    lt_resp_clear(&r);
    return rc;
}

/* How many point requests the simulator has answered, or -1. */
static inline long long dp_sim_hits(const struct dp_sim *s)
{
    struct lt_resp r = {0};
    long long hits = -1;

    if (lt_request(s->url, "GET", "/_sim/hits", NULL, NULL, NULL, 0, NULL, &r) == 0 &&
        r.j_body != NULL)
        hits = (long long)json_integer_value(json_object_get(r.j_body, "hits"));
    lt_resp_clear(&r);
    return hits;
}

/*
 * A private lintel whose upstream is a simulator in mode, with upstream_timeout seconds, an
 * admin's token and a new user's (named from user): what a data-points suite shares. Stopped by
 * dp_world_stop, which fails the test on an unclean stop or a sanitizer report.
 */
struct dp_world {
    struct lt_server srv;
    struct dp_sim sim;
    char *admin_token, *user_token;
};

static inline void dp_world_start(struct dp_world *w, const char *mode, int upstream_timeout,
                                  const char *user)
{
    char upstream[128], timeout[64];
    const char *env[] = {upstream, timeout, NULL};

    ck_assert_int_eq(dp_sim_start(&w->sim, mode), 0);
    snprintf(upstream, sizeof(upstream), "LINTEL_UPSTREAM_URL=%s/sensor", w->sim.url);
    snprintf(timeout, sizeof(timeout), "LINTEL_UPSTREAM_TIMEOUT=%d", upstream_timeout);
    ck_assert_int_eq(lt_server_start(&w->srv, env, NULL), 0);
    ck_assert_int_eq(lt_login(w->srv.url, "admin", LT_ADMIN_PASSWORD, NULL, &w->admin_token, NULL),
                     0);
    ck_assert_int_eq(lt_register(w->srv.url, user, "user-password-1", &w->user_token, NULL, NULL),
                     0);
}

static inline void dp_world_stop(struct dp_world *w)
{
    int rc = lt_server_stop(&w->srv); /* non-zero: sanitizer report or unclean stop (logged) */

    dp_sim_stop(&w->sim);
    free(w->admin_token);
    free(w->user_token);
    w->admin_token = w->user_token = NULL;
    ck_assert_int_eq(rc, 0);
}

#endif /* LINTEL_TESTS_DATAPOINTS_SIM_H */
