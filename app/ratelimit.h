/*
 * The per-user request rate limit: a fixed window per key (a user, or a client address) in a
 * table of fixed size that evicts; thread-safe. Only the counting; app/server.c sets headers.
 */
#ifndef LINTEL_APP_RATELIMIT_H
#define LINTEL_APP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

struct ratelimit;

/* Longest key ratelimit_take distinguishes; longer keys are cut (an IPv6 text is 45). */
#define RATELIMIT_KEY_MAX 63

/*
 * A limiter allowing limit requests per window seconds and key, holding at most slots keys
 * (rounded up to a multiple of 8, at least 8). The table is allocated here, once: memory never
 * grows with the number of clients. NULL when out of memory or an argument is 0.
 */
struct ratelimit *ratelimit_new(unsigned limit, unsigned window, size_t slots);

void ratelimit_free(struct ratelimit *rl);

struct ratelimit_verdict {
    unsigned limit;     /* requests per window (the policy's q)                     */
    unsigned window;    /* seconds (the policy's w)                                 */
    unsigned remaining; /* requests left in this key's window after this one (r)    */
    long long reset;    /* seconds until this key's window ends, at least 1 (t)     */
    bool limited;       /* this request is over the limit: answer 429               */
};

/*
 * Counts one request of key at now (seconds of a monotonic clock) and says what is left.
 * A key not in the table takes a free or expired slot of its group of 8, else the group's
 * entry whose window began first (evicted: that key starts a new window when it comes back).
 */
void ratelimit_take(struct ratelimit *rl, const char *key, long long now,
                    struct ratelimit_verdict *v);

/* How many keys were evicted while their window still ran (for tests and metrics). */
unsigned long long ratelimit_evictions(struct ratelimit *rl);

#endif /* LINTEL_APP_RATELIMIT_H */
