/*
 * PLACEHOLDER (owner: datapoints). Outbound HTTP with libcurl.
 */
#include "http_client.h"

#include <lintel/plugin.h>
#include <stdlib.h>
#include <string.h>

int http_client_global_init(const struct config *cfg)
{
    (void)cfg;
    return 0;
}

void http_client_global_release(void)
{
}

int http_client_get(const char *url, long timeout_ms, size_t max_bytes, long *status, char **body,
                    size_t *len, char **detail)
{
    (void)url;
    (void)timeout_ms;
    (void)max_bytes;
    *status = 0;
    *body = NULL;
    *len = 0;
    *detail = strdup("outbound HTTP is not implemented yet");
    return LINTEL_EUPSTREAM;
}
