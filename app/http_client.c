/*
 * Outbound HTTP GET for plugins, with libcurl directly: only http/https, connect and total
 * timeouts, a hard cap on the response size, and redirects only when the operator allows them.
 */
#include "http_client.h"

#include "config.h"
#include "fmt.h"

#include <curl/curl.h>
#include <lintel/plugin.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Defaults when the server has no configuration (unit tests), overwritten from config once by
 * http_client_global_init before any thread starts, read-only afterwards.
 */
static long http_client_timeout_ms = 10000;
static size_t http_client_max_bytes = 64 * 1024;
static bool http_client_redirects = false;

/* The response being received: grows up to cap bytes, then aborts the transfer. */
struct http_client_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
    bool too_large;
    bool nomem;
};

int http_client_global_init(const struct config *cfg)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return LINTEL_EINTERNAL;
    if (cfg != NULL) {
        if (cfg->upstream_timeout > 0)
            http_client_timeout_ms = (long)cfg->upstream_timeout * 1000L;
        if (cfg->upstream_max_bytes > 0)
            http_client_max_bytes = cfg->upstream_max_bytes;
        http_client_redirects = cfg->upstream_redirects;
    }
    return 0;
}

void http_client_global_release(void)
{
    curl_global_cleanup();
}

static size_t http_client_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_client_buf *b = userdata;
    size_t n = size * nmemb;
    size_t want;
    char *grown;

    if (n > b->cap - b->len) {
        /* Returning less than n makes curl stop with CURLE_WRITE_ERROR. */
        b->too_large = true;
        return 0;
    }
    if (b->len + n + 1 > b->alloc) {
        want = b->alloc == 0 ? 4096 : b->alloc * 2;
        while (want < b->len + n + 1)
            want *= 2;
        if (want > b->cap + 1)
            want = b->cap + 1;
        grown = realloc(b->data, want);
        if (grown == NULL) {
            b->nomem = true;
            return 0;
        }
        b->data = grown;
        b->alloc = want;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/*
 * One sentence naming what went wrong, never the URL itself (it may carry credentials).
 * Returns the status code for it.
 */
static int http_client_error(CURLcode code, const struct http_client_buf *b, long timeout_ms,
                             const char *errbuf, char **detail)
{
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);

    if (b->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        *detail = fmt_alloc("upstream response exceeds %zu bytes", b->cap);
        return LINTEL_EUPSTREAM;
    }
    if (b->nomem) {
        *detail = fmt_alloc("out of memory reading the upstream response");
        return LINTEL_ENOMEM;
    }
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        *detail = fmt_alloc("upstream did not answer within %ld ms", timeout_ms);
        return LINTEL_ETIMEOUT;
    case CURLE_COULDNT_CONNECT:
        *detail = fmt_alloc("upstream refused the connection");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        *detail = fmt_alloc("upstream host name cannot be resolved");
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        *detail = fmt_alloc("upstream URL scheme is not http or https");
        break;
    case CURLE_URL_MALFORMAT:
        *detail = fmt_alloc("upstream URL is malformed");
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        *detail = fmt_alloc("upstream redirected too many times");
        break;
    case CURLE_GOT_NOTHING:
        *detail = fmt_alloc("upstream closed the connection without answering");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        *detail = fmt_alloc("upstream TLS failed (%s)", why);
        break;
    default:
        *detail = fmt_alloc("upstream request failed (%s)", why);
        break;
    }
    return LINTEL_EUPSTREAM;
}

int http_client_get(const char *url, long timeout_ms, size_t max_bytes, long *status, char **body,
                    size_t *len, char **detail)
{
    struct http_client_buf b = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *curl = NULL;
    CURLcode code;
    int rc = LINTEL_EUPSTREAM;

    *status = 0;
    *body = NULL;
    *len = 0;
    *detail = NULL;
    /* The operator's upstream_timeout is a ceiling: a caller may only ask for less. */
    if (timeout_ms <= 0 || timeout_ms > http_client_timeout_ms)
        timeout_ms = http_client_timeout_ms;
    b.cap = max_bytes > 0 ? max_bytes : http_client_max_bytes;
    if (url == NULL || url[0] == '\0') {
        *detail = fmt_alloc("no upstream URL given");
        goto cleanup;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        rc = LINTEL_ENOMEM;
        *detail = fmt_alloc("cannot create an HTTP client handle");
        goto cleanup;
    }
    /* Every option can only fail for out of memory or an old libcurl; check them together. */
    code = curl_easy_setopt(curl, CURLOPT_URL, url);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, http_client_redirects ? 1L : 0L);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.cap);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_client_write);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (code == CURLE_OK)
        code = curl_easy_setopt(curl, CURLOPT_USERAGENT, "lintel");
    if (code != CURLE_OK) {
        rc = LINTEL_EINTERNAL;
        *detail = fmt_alloc("cannot configure the HTTP client: %s", curl_easy_strerror(code));
        goto cleanup;
    }
    code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        rc = http_client_error(code, &b, timeout_ms, errbuf, detail);
        goto cleanup;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    if (b.data == NULL) {
        b.data = calloc(1, 1); /* an empty body is still a NUL-terminated string */
        if (b.data == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    }
    *body = b.data;
    *len = b.len;
    b.data = NULL;
    rc = 0;
cleanup:
    curl_easy_cleanup(curl);
    free(b.data);
    return rc;
}
