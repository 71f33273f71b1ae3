/*
 * The host's background worker for accounts: sends the mails queued in mail_outbox (making
 * their single-use tokens) and runs the periodic cleanup of expired sessions and tokens.
 */
#ifndef LINTEL_APP_ACCOUNT_WORKER_H
#define LINTEL_APP_ACCOUNT_WORKER_H

struct config;

/* Starts the worker thread (cfg must outlive it). 0 or LINTEL_EINTERNAL. */
int account_worker_start(const struct config *cfg);

/* Stops it and waits for it (a mail being sent finishes first, bounded by smtp_timeout). */
void account_worker_stop(void);

/* One cleanup pass on this thread's connection; *deleted (may be NULL) gets the row count. */
int account_cleanup(const struct config *cfg, long long *deleted);

#endif /* LINTEL_APP_ACCOUNT_WORKER_H */
