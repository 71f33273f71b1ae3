/*
 * Logging through yder in callback mode: one line per message on stderr with an ISO 8601 UTC
 * time. Access-log lines are batched (one write per batch); every other line is written at once.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <yder.h>

/*
 * A write(2) per request cost about as much as the rest of a /health reply, so access lines
 * go into one buffer that a flusher thread writes out every LOG_FLUSH_MS, or sooner once it
 * holds LOG_FLUSH_AT bytes; a full buffer is written by the request that fills it. Any other
 * line first writes out the buffer, so the output keeps its order, and log_close() writes what
 * is left: a clean stop loses no line; a crash loses at most LOG_FLUSH_MS of access lines.
 */
#define LOG_BUF_SIZE (64 * 1024)
#define LOG_FLUSH_AT (16 * 1024)
#define LOG_FLUSH_MS 100
#define LOG_LINE_MAX 2048

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_wake = PTHREAD_COND_INITIALIZER;
static char log_buf[LOG_BUF_SIZE];
static size_t log_len;
static bool log_stopping;
static bool log_flusher_running;
static pthread_t log_flusher;
/* Set at start and by log_set_level (SIGHUP) while other threads log: atomic. */
static _Atomic unsigned long log_threshold = Y_LOG_LEVEL_INFO;

static unsigned long log_level_yder(int level)
{
    switch (level) {
    case LINTEL_LOG_ERROR:
        return Y_LOG_LEVEL_ERROR;
    case LINTEL_LOG_WARNING:
        return Y_LOG_LEVEL_WARNING;
    case LINTEL_LOG_DEBUG:
        return Y_LOG_LEVEL_DEBUG;
    default:
        return Y_LOG_LEVEL_INFO;
    }
}

/* The level's name padded to five characters, as the line format has it. */
static const char *log_level_name(unsigned long level)
{
    switch (level) {
    case Y_LOG_LEVEL_ERROR:
        return "ERROR";
    case Y_LOG_LEVEL_WARNING:
        return "WARN ";
    case Y_LOG_LEVEL_DEBUG:
        return "DEBUG";
    default:
        return "INFO ";
    }
}

/* Writes all of data to stderr, whatever the signals and partial writes. */
static void log_write_all(const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to report it */
        data += n;
        len -= (size_t)n;
    }
}

/* Caller holds log_lock. */
static void log_flush_locked(void)
{
    log_write_all(log_buf, log_len);
    log_len = 0;
}

/* "2024-04-22T15:07:57Z" for t, formatted once per second and thread; *len gets its length. */
static const char *log_time(time_t t, size_t *len)
{
    static _Thread_local time_t cached = (time_t)-1;
    static _Thread_local char text[32];
    static _Thread_local size_t text_len;
    struct tm tm;

    if (t != cached) {
        gmtime_r(&t, &tm);
        text_len = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
        cached = t;
    }
    *len = text_len;
    return text;
}

/* Appends "<time> <LEVEL> <message>\n" to the buffer; writes it out now when flush is set. */
static void log_emit(time_t date, unsigned long level, const char *message, size_t mlen, bool flush)
{
    char head[48];
    size_t hlen;
    const char *when = log_time(date, &hlen);

    /* "<time> <LEVEL> ", the level padded to five characters. */
    memcpy(head, when, hlen);
    head[hlen++] = ' ';
    memcpy(head + hlen, log_level_name(level), 5);
    hlen += 5;
    head[hlen++] = ' ';
    if (mlen > LOG_LINE_MAX)
        mlen = LOG_LINE_MAX;
    pthread_mutex_lock(&log_lock);
    if (log_len + hlen + mlen + 1 > sizeof(log_buf))
        log_flush_locked();
    memcpy(log_buf + log_len, head, hlen);
    log_len += hlen;
    memcpy(log_buf + log_len, message, mlen);
    log_len += mlen;
    log_buf[log_len++] = '\n';
    if (flush || !log_flusher_running)
        log_flush_locked();
    else if (log_len >= LOG_FLUSH_AT)
        pthread_cond_signal(&log_wake);
    pthread_mutex_unlock(&log_lock);
}

static void *log_flusher_main(void *arg)
{
    struct timespec until;

    (void)arg;
    pthread_mutex_lock(&log_lock);
    while (!log_stopping) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += LOG_FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&log_wake, &log_lock, &until);
        if (log_len > 0)
            log_flush_locked();
    }
    pthread_mutex_unlock(&log_lock);
    return NULL;
}

/*
 * Starts the flusher once. It blocks every signal (created with all of them blocked), so
 * SIGTERM still reaches the main thread's sigwait. Without it, lines are written at once.
 */
static void log_flusher_start(void)
{
    sigset_t all, old;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_mutex_lock(&log_lock);
    if (!log_flusher_running && !log_stopping &&
        pthread_create(&log_flusher, NULL, log_flusher_main, NULL) == 0)
        log_flusher_running = true;
    pthread_mutex_unlock(&log_lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void log_write(void *cls, const char *app, const time_t date, const unsigned long level,
                      const char *message)
{
    (void)cls;
    (void)app;
    log_emit(date, level, message, strlen(message), true);
}

int log_set_level(const char *level)
{
    unsigned long y;

    if (level == NULL || strcasecmp(level, "info") == 0)
        y = Y_LOG_LEVEL_INFO;
    else if (strcasecmp(level, "error") == 0)
        y = Y_LOG_LEVEL_ERROR;
    else if (strcasecmp(level, "warning") == 0)
        y = Y_LOG_LEVEL_WARNING;
    else if (strcasecmp(level, "debug") == 0)
        y = Y_LOG_LEVEL_DEBUG;
    else
        return LINTEL_EPARAM;
    atomic_store(&log_threshold, y);
    return 0;
}

int log_init(const char *level)
{
    if (log_set_level(level) != 0)
        return LINTEL_EPARAM;
    pthread_mutex_lock(&log_lock);
    log_stopping = false;
    pthread_mutex_unlock(&log_lock);
    /*
     * yder passes everything on and log_msg filters, because yder's level is fixed once its
     * logs are open and the level changes on SIGHUP.
     */
    if (!y_init_logs("lintel", Y_LOG_MODE_CALLBACK, Y_LOG_LEVEL_DEBUG, NULL, NULL))
        return LINTEL_EINTERNAL;
    if (!y_set_logs_callback(log_write, NULL, NULL))
        return LINTEL_EINTERNAL;
    return 0;
}

void log_close(void)
{
    bool joined;

    pthread_mutex_lock(&log_lock);
    log_stopping = true;
    joined = log_flusher_running;
    pthread_cond_signal(&log_wake);
    pthread_mutex_unlock(&log_lock);
    if (joined)
        pthread_join(log_flusher, NULL);
    pthread_mutex_lock(&log_lock);
    log_flusher_running = false;
    log_flush_locked();
    pthread_mutex_unlock(&log_lock);
    y_close_logs();
}

void log_msg(int level, const char *fmt, ...)
{
    char buf[LOG_LINE_MAX];
    va_list ap;

    if (log_level_yder(level) > atomic_load(&log_threshold))
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    y_log_message(log_level_yder(level), "%s", buf);
}

void log_always(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_emit(time(NULL), Y_LOG_LEVEL_INFO, buf, strlen(buf), true);
}

void log_access(const char *line, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    if (atomic_load(&log_threshold) < Y_LOG_LEVEL_INFO)
        return;
    pthread_once(&once, log_flusher_start);
    log_emit(time(NULL), Y_LOG_LEVEL_INFO, line, len, false);
}
