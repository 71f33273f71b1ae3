/*
 * Logging through yder in callback mode: one line per message on stderr (unbuffered, so a
 * supervisor or the test harness sees "listening on" at once), with an ISO 8601 UTC time.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yder.h>

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

static const char *log_level_name(unsigned long level)
{
    switch (level) {
    case Y_LOG_LEVEL_ERROR:
        return "ERROR";
    case Y_LOG_LEVEL_WARNING:
        return "WARN";
    case Y_LOG_LEVEL_DEBUG:
        return "DEBUG";
    default:
        return "INFO";
    }
}

static void log_write(void *cls, const char *app, const time_t date, const unsigned long level,
                      const char *message)
{
    struct tm tm;
    char when[32];

    (void)cls;
    (void)app;
    gmtime_r(&date, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* One call, so lines of concurrent threads do not interleave (stdio locks the stream). */
    fprintf(stderr, "%s %-5s %s\n", when, log_level_name(level), message);
}

int log_init(const char *level)
{
    unsigned long y = Y_LOG_LEVEL_INFO;

    if (level != NULL && strcasecmp(level, "error") == 0)
        y = Y_LOG_LEVEL_ERROR;
    else if (level != NULL && strcasecmp(level, "warning") == 0)
        y = Y_LOG_LEVEL_WARNING;
    else if (level != NULL && strcasecmp(level, "debug") == 0)
        y = Y_LOG_LEVEL_DEBUG;
    if (!y_init_logs("lintel", Y_LOG_MODE_CALLBACK, y, NULL, NULL))
        return LINTEL_EINTERNAL;
    if (!y_set_logs_callback(log_write, NULL, NULL))
        return LINTEL_EINTERNAL;
    return 0;
}

void log_close(void)
{
    y_close_logs();
}

void log_msg(int level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

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
    log_write(NULL, "lintel", time(NULL), Y_LOG_LEVEL_INFO, buf);
}
