/*
 * Outbound HTTP for plugins (the upstream sensor service), with libcurl directly: http/https
 * only, connect and total timeouts, a response-size cap, redirects only when configured.
 */
#ifndef LINTEL_APP_HTTP_CLIENT_H
#define LINTEL_APP_HTTP_CLIENT_H

#include <stddef.h>

struct config;

int http_client_global_init(const struct config *cfg);
void http_client_global_release(void);

/*
 * GETs url (see lintel_api.http_get). On error *detail (malloc'd) names the defect:
 * LINTEL_ETIMEOUT, or LINTEL_EUPSTREAM for refused, unreachable, too large, bad scheme.
 */
int http_client_get(const char *url, long timeout_ms, size_t max_bytes, long *status, char **body,
                    size_t *len, char **detail);

#endif /* LINTEL_APP_HTTP_CLIENT_H */
