/*
 * The accounts worker thread: once a second it sends what mail_outbox holds (the token of a
 * reset or verification mail is made here, when the mail goes out, so no table ever holds a
 * usable token), and every cleanup_interval it deletes what has expired; every 10 s it
 * gives the heap's freed memory back to the system.
 */
#include "account_worker.h"

#include "bg_thread.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "mail.h"

#include <jansson.h>
#include <lintel/plugin.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A mail that failed this many times is dropped (the user can ask again). */
#define WORKER_MAX_ATTEMPTS 5

/* Seconds between two returns of freed heap memory to the system (malloc_trim). */
#define WORKER_TRIM_INTERVAL 10

static struct {
    const struct config *cfg;
    struct bg_thread t;
} worker = {.t = BG_THREAD_INIT};

/* Every statement of one cleanup pass, in order (refresh tokens before their sessions). */
static const char *const worker_cleanup_sql[] = {
    "DELETE FROM refresh_tokens WHERE expires_at < unixepoch()"
    " OR session_id IN (SELECT id FROM sessions WHERE ended_at < unixepoch() - ?1)",
    /* ended, or past its last refresh token (its access tokens expired before that) */
    "DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < unixepoch() - ?1)"
    " OR (created_at < unixepoch() - ?1 AND NOT EXISTS"
    " (SELECT 1 FROM refresh_tokens r WHERE r.session_id = sessions.id))",
    "DELETE FROM revoked_jtis WHERE expires_at < unixepoch() - ?1",
    "DELETE FROM account_tokens WHERE expires_at < unixepoch()",
    "DELETE FROM mail_requests WHERE at < unixepoch() - 3600",
    "DELETE FROM registrations WHERE at < unixepoch() - 3600",
    "DELETE FROM login_failures WHERE at < unixepoch() - 900",
    /* IDEMPOTENCY_TTL (app/idempotency.h) */
    "DELETE FROM idempotency_keys WHERE created_at < unixepoch() - 86400",
    /* JOBS_KEEP (app/jobs.h): a finished job is readable for 7 days */
    "DELETE FROM jobs WHERE finished_at < strftime('%Y-%m-%dT%H:%M:%SZ', unixepoch() - 604800,"
    " 'unixepoch')",
};

int account_cleanup(const struct config *cfg, long long *deleted)
{
    struct db *db = NULL;
    /* a margin past access_ttl and the clock leeway: nothing still usable is touched */
    json_int_t margin = (json_int_t)(cfg->access_ttl + 60);
    long long n, total = 0;
    size_t i;
    int rc;

    rc = db_thread(&db);
    if (rc == 0)
        rc = db_begin(db);
    for (i = 0; rc == 0 && i < sizeof(worker_cleanup_sql) / sizeof(worker_cleanup_sql[0]); i++) {
        n = 0;
        rc = strstr(worker_cleanup_sql[i], "?1") != NULL
                 ? db_execf(db, &n, worker_cleanup_sql[i], "I", margin)
                 : db_exec(db, worker_cleanup_sql[i], NULL, &n, NULL);
        total += n;
    }
    if (rc == 0)
        rc = db_commit(db);
    else if (db != NULL && db_in_tx(db))
        db_rollback(db);
    if (rc != 0)
        log_warn("cleanup: failed: %s", db != NULL ? db_errmsg(db) : "no database");
    else if (total > 0)
        log_info("cleanup: deleted %lld expired rows (sessions, tokens, counters)", total);
    if (deleted != NULL)
        *deleted = total;
    return rc;
}

/* The link of a mail: public_url + path + token, or "" without public_url. */
static char *worker_link(const struct config *cfg, const char *path, const char *token)
{
    char *out = NULL;
    size_t len;

    if (cfg->public_url == NULL)
        return strdup("");
    len = strlen(cfg->public_url);
    while (len > 0 && cfg->public_url[len - 1] == '/')
        len--;
    if (asprintf(&out, "%.*s%s?token=%s", (int)len, cfg->public_url, path, token) < 0)
        out = NULL;
    return out;
}

/* Sends one outbox row; the row is deleted, or rescheduled when the SMTP server failed. */
static void worker_send_one(struct db *db, const json_t *j_row)
{
    const struct config *cfg = worker.cfg;
    json_int_t id = json_integer_value(json_object_get(j_row, "id"));
    json_int_t uid = json_integer_value(json_object_get(j_row, "user_id"));
    json_int_t attempts = json_integer_value(json_object_get(j_row, "attempts"));
    const char *kind = json_string_value(json_object_get(j_row, "kind"));
    const char *email = json_string_value(json_object_get(j_row, "email"));
    const char *username = json_string_value(json_object_get(j_row, "username"));
    bool reset = kind != NULL && strcmp(kind, "reset") == 0;
    long long ttl = reset ? cfg->reset_ttl : cfg->verify_ttl;
    char *token = NULL, *link = NULL, *subject = NULL, *body = NULL, hash[65], minutes[32];
    json_t *j_vars = NULL;
    int rc = 0, sent = 0;

    /*
     * nothing to send: no SMTP, or the user or the address is gone, or user_id 0 (a reset
     * asked for an unknown address: the row exists so that both answers cost the same)
     */
    if (mail_configured(cfg) && username != NULL && email != NULL &&
        json_is_true(json_object_get(j_row, "current"))) {
        rc = crypto_random_token(32, &token);
        if (rc == 0)
            rc = crypto_sha256_hex(token, strlen(token), hash);
        link =
            rc == 0 ? worker_link(cfg, reset ? "/reset-password" : "/verify-email", token) : NULL;
        snprintf(minutes, sizeof(minutes), "%lld", ttl / 60);
        j_vars = link != NULL ? json_pack("{ssssssssss}", "username", username, "email", email,
                                          "token", token, "link", link, "minutes", minutes)
                              : NULL;
        rc = j_vars != NULL ? 0 : LINTEL_ENOMEM;
        if (rc == 0)
            rc = mail_render(cfg, reset ? "reset" : "verify", j_vars, &subject, &body);
        /* one live reset token per user: a new mail makes the older ones worthless */
        if (rc == 0 && reset)
            rc = db_execf(db, NULL,
                          "DELETE FROM account_tokens WHERE user_id = ?1"
                          " AND kind = 'reset' AND used_at IS NULL",
                          "I", uid);
        if (rc == 0)
            rc = db_execf(db, NULL,
                          "INSERT INTO account_tokens (hash, kind, user_id, email, expires_at)"
                          " VALUES (?1, ?2, ?3, ?4, unixepoch() + ?5)",
                          "ssIsI", hash, reset ? "reset" : "verify", uid, email, (json_int_t)ttl);
        if (rc == 0) {
            rc = mail_send(cfg, email, subject, body);
            sent = rc == 0;
            if (!sent)
                db_execf(db, NULL, "DELETE FROM account_tokens WHERE hash = ?1", "s", hash);
        }
    }
    if (sent || rc != LINTEL_EUPSTREAM || attempts + 1 >= WORKER_MAX_ATTEMPTS) {
        if (!sent && rc != 0)
            log_error("mail: %s mail for user %lld dropped after %lld attempt(s)",
                      kind != NULL ? kind : "?", (long long)uid, (long long)attempts + 1);
        db_execf(db, NULL, "DELETE FROM mail_outbox WHERE id = ?1", "I", id);
    } else {
        /* 30 s, 60 s, 120 s, ... */
        db_execf(db, NULL,
                 "UPDATE mail_outbox SET attempts = ?2,"
                 " next_at = unixepoch() + 30 * (1 << (?2 - 1)) WHERE id = ?1",
                 "II", id, attempts + 1);
    }
    if (token != NULL)
        memset(token, 0, strlen(token));
    free(token);
    free(link);
    free(subject);
    free(body);
    json_decref(j_vars);
}

static void worker_outbox(void)
{
    struct db *db = NULL;
    json_t *j_rows = NULL, *j_row;
    size_t i;

    if (db_thread(&db) != 0 ||
        db_query(db,
                 "SELECT o.id AS id, o.kind AS kind, o.user_id AS user_id, o.email AS email,"
                 " o.attempts AS attempts, u.username AS username,"
                 " u.email = o.email COLLATE NOCASE AS \"current:bool\""
                 " FROM mail_outbox o LEFT JOIN users u ON u.id = o.user_id"
                 " AND u.deleted_at IS NULL WHERE o.next_at <= unixepoch() ORDER BY o.id LIMIT 20",
                 NULL, &j_rows) != 0)
        return;
    json_array_foreach(j_rows, i, j_row) {
        pthread_mutex_lock(&worker.t.lock);
        bool stop = worker.t.stop;
        pthread_mutex_unlock(&worker.t.lock);
        if (stop)
            break;
        worker_send_one(db, j_row);
    }
    json_decref(j_rows);
}

static void *worker_main(void *unused)
{
    time_t next_cleanup = time(NULL) + 5, next_trim = time(NULL) + WORKER_TRIM_INTERVAL;
    struct timespec until;
    bool stop = false;

    (void)unused;
    while (!stop) {
        worker_outbox();
        if (time(NULL) >= next_cleanup) {
            account_cleanup(worker.cfg, NULL);
            next_cleanup = time(NULL) + (time_t)worker.cfg->cleanup_interval;
        }
        /*
         * glibc keeps what the worker threads freed in their arenas; given back, a burst's
         * memory does not stay in the RSS for the process's life (docs/hardening.md "Soak").
         */
        if (time(NULL) >= next_trim) {
            malloc_trim(0);
            next_trim = time(NULL) + WORKER_TRIM_INTERVAL;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&worker.t.lock);
        if (!worker.t.stop)
            pthread_cond_timedwait(&worker.t.cond, &worker.t.lock, &until);
        stop = worker.t.stop;
        pthread_mutex_unlock(&worker.t.lock);
    }
    return NULL;
}

int account_worker_start(const struct config *cfg)
{
    worker.cfg = cfg;
    if (bg_thread_start(&worker.t, worker_main) != 0)
        return LINTEL_EINTERNAL;
    if (!mail_configured(cfg))
        log_info("mail: smtp_url is not set: no mail is sent; password reset and email"
                 " verification answer 503");
    return 0;
}

void account_worker_stop(void)
{
    bg_thread_stop(&worker.t);
}
