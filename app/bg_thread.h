/*
 * A background thread of the server (the accounts worker, the job thread): started once, told to
 * stop through a flag under its lock, woken through its condition, joined.
 */
#ifndef LINTEL_APP_BG_THREAD_H
#define LINTEL_APP_BG_THREAD_H

#include <pthread.h>
#include <stdbool.h>

struct bg_thread {
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop and the owner's own shared state */
    pthread_cond_t cond;  /* signalled by bg_thread_stop (and by the owner for its own events) */
    bool running, stop;
};

#define BG_THREAD_INIT                                                                             \
    {                                                                                              \
        .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER                        \
    }

/* Starts fn(NULL) on a new thread with stop cleared; 0 or LINTEL_EINTERNAL. */
int bg_thread_start(struct bg_thread *t, void *(*fn)(void *));

/* Sets stop, wakes the thread and joins it. Safe when it never started. */
void bg_thread_stop(struct bg_thread *t);

/* Whether stop is set (takes the lock). */
bool bg_thread_stopping(struct bg_thread *t);

#endif /* LINTEL_APP_BG_THREAD_H */
