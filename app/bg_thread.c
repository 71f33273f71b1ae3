/*
 * A background thread of the server (the accounts worker, the job thread): started once, told to
 * stop through a flag under its lock, woken through its condition, joined.
 */
#include "bg_thread.h"

#include <lintel/plugin.h>

int bg_thread_start(struct bg_thread *t, void *(*fn)(void *))
{
    t->stop = false;
    if (pthread_create(&t->thread, NULL, fn, NULL) != 0)
        return LINTEL_EINTERNAL;
    t->running = true;
    return 0;
}

void bg_thread_stop(struct bg_thread *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->running = false;
}

bool bg_thread_stopping(struct bg_thread *t)
{
    bool stop;

    pthread_mutex_lock(&t->lock);
    stop = t->stop;
    pthread_mutex_unlock(&t->lock);
    return stop;
}
