/*
 * The per-user request rate limit: fixed windows per key in a fixed-size table of groups of 8
 * slots, one lock per group, so memory is bounded and concurrent requests rarely wait.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RATELIMIT_GROUP 8

struct ratelimit_slot {
    char key[RATELIMIT_KEY_MAX + 1]; /* "" = free                              */
    long long start;                 /* when this key's window began (seconds) */
    unsigned count;                  /* requests in the window, saturating     */
};

struct ratelimit_group {
    pthread_mutex_t lock;
    struct ratelimit_slot slot[RATELIMIT_GROUP];
};

struct ratelimit {
    unsigned limit, window;
    size_t ngroups;
    uint64_t seed; /* random: a client cannot aim its keys at one group */
    pthread_mutex_t stats_lock;
    unsigned long long evictions;
    struct ratelimit_group *groups;
};

struct ratelimit *ratelimit_new(unsigned limit, unsigned window, size_t slots)
{
    struct ratelimit *rl = NULL;
    size_t i;

    if (limit == 0 || window == 0 || slots == 0)
        return NULL;
    rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->limit = limit;
    rl->window = window;
    rl->ngroups = (slots + RATELIMIT_GROUP - 1) / RATELIMIT_GROUP;
    rl->groups = calloc(rl->ngroups, sizeof(*rl->groups));
    if (rl->groups == NULL) {
        free(rl);
        return NULL;
    }
    if (getrandom(&rl->seed, sizeof(rl->seed), 0) != (ssize_t)sizeof(rl->seed))
        rl->seed = (uint64_t)(uintptr_t)rl ^ 0x9e3779b97f4a7c15ULL;
    pthread_mutex_init(&rl->stats_lock, NULL);
    for (i = 0; i < rl->ngroups; i++)
        pthread_mutex_init(&rl->groups[i].lock, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    size_t i;

    if (rl == NULL)
        return;
    for (i = 0; i < rl->ngroups; i++)
        pthread_mutex_destroy(&rl->groups[i].lock);
    pthread_mutex_destroy(&rl->stats_lock);
    free(rl->groups);
    free(rl);
}

/* FNV-1a over the key, started from the random seed. */
static uint64_t ratelimit_hash(const struct ratelimit *rl, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ rl->seed;

    for (; *key != '\0'; key++) {
        h ^= (unsigned char)*key;
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 32);
}

/* The key's slot in g: its own, else a free or expired one, else the oldest (*evicted). */
static struct ratelimit_slot *ratelimit_find(const struct ratelimit *rl, struct ratelimit_group *g,
                                             const char *key, long long now, bool *evicted)
{
    struct ratelimit_slot *s, *free_slot = NULL, *oldest = NULL;
    size_t i;

    *evicted = false;
    for (i = 0; i < RATELIMIT_GROUP; i++) {
        s = &g->slot[i];
        if (s->key[0] != '\0' && strcmp(s->key, key) == 0)
            return s;
        if (free_slot == NULL && (s->key[0] == '\0' || now - s->start >= (long long)rl->window))
            free_slot = s;
        if (oldest == NULL || s->start < oldest->start)
            oldest = s;
    }
    if (free_slot != NULL)
        s = free_slot;
    else {
        s = oldest;
        *evicted = true;
    }
    memcpy(s->key, key, strlen(key) + 1);
    s->start = now;
    s->count = 0;
    return s;
}

void ratelimit_take(struct ratelimit *rl, const char *key, long long now,
                    struct ratelimit_verdict *v)
{
    char cut[RATELIMIT_KEY_MAX + 1];
    struct ratelimit_group *g;
    struct ratelimit_slot *s;
    bool evicted;

    /* "" marks a free slot: an empty key gets a name of its own */
    snprintf(cut, sizeof(cut), "%s", key[0] != '\0' ? key : "-");
    g = &rl->groups[ratelimit_hash(rl, cut) % rl->ngroups];
    pthread_mutex_lock(&g->lock);
    s = ratelimit_find(rl, g, cut, now, &evicted);
    if (now - s->start >= (long long)rl->window) {
        s->start = now;
        s->count = 0;
    }
    if (s->count <= rl->limit)
        s->count++;
    v->limit = rl->limit;
    v->window = rl->window;
    v->limited = s->count > rl->limit;
    v->remaining = v->limited ? 0 : rl->limit - s->count;
    v->reset = s->start + (long long)rl->window - now;
    if (v->reset < 1)
        v->reset = 1;
    pthread_mutex_unlock(&g->lock);
    if (evicted) {
        pthread_mutex_lock(&rl->stats_lock);
        rl->evictions++;
        pthread_mutex_unlock(&rl->stats_lock);
    }
}

unsigned long long ratelimit_evictions(struct ratelimit *rl)
{
    unsigned long long n;

    pthread_mutex_lock(&rl->stats_lock);
    n = rl->evictions;
    pthread_mutex_unlock(&rl->stats_lock);
    return n;
}
