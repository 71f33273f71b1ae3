/*
 * The access-log line of one request and the X-Response-Time text, formatted without printf
 * (one of each per request); log.c batches and writes the lines.
 */
#ifndef LINTEL_APP_ACCESS_LOG_H
#define LINTEL_APP_ACCESS_LOG_H

#include <stddef.h>

/* "0.451ms" (out: at least 32 bytes) from nanoseconds, rounded as %.3f would. */
void access_log_ms(long long ns, char *out);

/* Decimal text of n into out (at least 21 bytes); returns its length. */
size_t access_log_utoa(unsigned long long n, char *out);

/*
 * Formats "<id> <METHOD> <path> <status> <took> <client>" and hands it to log_access. The path
 * is the raw one without the query (which may hold a token); unprintable bytes and spaces
 * become '?', and it is cut at 255 bytes. Headers are never logged.
 */
void access_log_request(const char *request_id, const char *method, const char *path,
                        unsigned status, const char *took, const char *client);

#endif /* LINTEL_APP_ACCESS_LOG_H */
