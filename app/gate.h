/*
 * A bounded gate for CPU-heavy work (password hashing): a few run at once, a few more wait
 * briefly, the rest are refused at once, so a burst cannot take every worker thread.
 */
#ifndef LINTEL_APP_GATE_H
#define LINTEL_APP_GATE_H

#include <pthread.h>

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* on CLOCK_MONOTONIC */
    unsigned slots;       /* how many may work at once */
    unsigned queue;       /* how many may wait for a slot */
    long wait_ms;         /* how long one waits before giving up */
    unsigned busy, waiting;
};

int gate_init(struct gate *g, unsigned slots, unsigned queue, long wait_ms);
void gate_release(struct gate *g);

/* Takes a slot: 0, or LINTEL_EUNAVAIL when the queue is full or the wait timed out. */
int gate_enter(struct gate *g);

/* Gives back a slot taken by gate_enter. */
void gate_leave(struct gate *g);

#endif /* LINTEL_APP_GATE_H */
