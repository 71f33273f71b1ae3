/*
 * A bounded gate for CPU-heavy work (password hashing): at most `slots` at once, at most
 * `queue` waiting, each for at most wait_ms; anything beyond is refused at once (503).
 */
#include "gate.h"

#include <lintel/plugin.h>
#include <time.h>

int gate_init(struct gate *g, unsigned slots, unsigned queue, long wait_ms)
{
    pthread_condattr_t ca;
    int rc = LINTEL_EINTERNAL;

    g->slots = slots > 0 ? slots : 1;
    g->queue = queue;
    g->wait_ms = wait_ms;
    g->busy = g->waiting = 0;
    if (pthread_condattr_init(&ca) != 0)
        return rc;
    /* A wall-clock step must not lengthen or cut a wait. */
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
        pthread_cond_init(&g->freed, &ca) == 0) {
        if (pthread_mutex_init(&g->lock, NULL) == 0)
            rc = 0;
        else
            pthread_cond_destroy(&g->freed);
    }
    pthread_condattr_destroy(&ca);
    return rc;
}

void gate_release(struct gate *g)
{
    pthread_cond_destroy(&g->freed);
    pthread_mutex_destroy(&g->lock);
}

int gate_enter(struct gate *g)
{
    struct timespec until;
    int rc = 0;

    pthread_mutex_lock(&g->lock);
    if (g->busy < g->slots)
        goto take;
    if (g->waiting >= g->queue) {
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += g->wait_ms / 1000;
    until.tv_nsec += (g->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    g->waiting++;
    while (g->busy >= g->slots && rc == 0)
        rc = pthread_cond_timedwait(&g->freed, &g->lock, &until) == 0 ? 0 : LINTEL_EUNAVAIL;
    g->waiting--;
    if (g->busy >= g->slots)
        goto cleanup; /* timed out; a slot freed at the last moment is taken below */
    rc = 0;
take:
    g->busy++;
cleanup:
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void gate_leave(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    if (g->busy > 0)
        g->busy--;
    pthread_cond_signal(&g->freed);
    pthread_mutex_unlock(&g->lock);
}
