/*
 * Logging through yder to stderr: one format for the host, plugins and the access log.
 * Never pass a token, password or secret to these.
 */
#ifndef LINTEL_APP_LOG_H
#define LINTEL_APP_LOG_H

#include <lintel/plugin.h>
#include <stddef.h>

int log_init(const char *level);

/*
 * The level from now on: "error", "warning", "info" (also NULL) or "debug", any case; other
 * threads see it at their next line (SIGHUP). LINTEL_EPARAM for another word, level unchanged.
 */
int log_set_level(const char *level);
void log_close(void);
void log_msg(int level, const char *fmt, ...) LINTEL_PRINTF(2, 3);

/* Lines supervisors and tests wait for ("listening on", "stopped cleanly"): always written. */
void log_always(const char *fmt, ...) LINTEL_PRINTF(1, 2);

/*
 * One access-log line (len bytes, no newline) at INFO level. Batched: written within 100 ms,
 * before any later non-access line, and by log_close(); never dropped on a clean stop.
 */
void log_access(const char *line, size_t len);

#define log_error(...) log_msg(LINTEL_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LINTEL_LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LINTEL_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LINTEL_LOG_DEBUG, __VA_ARGS__)

#endif /* LINTEL_APP_LOG_H */
