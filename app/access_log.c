/*
 * Formats the access-log line and the response time of a request. A printf per request cost
 * as much as the rest of a /health reply, hence the hand-made decimal text.
 */
#include "access_log.h"

#include "log.h"

#include <ctype.h>
#include <string.h>

/* Appends n bytes of s to the line (silently cut at its end). */
static void access_log_put(char *line, size_t size, size_t *len, const char *s, size_t n)
{
    if (n > size - 1 - *len)
        n = size - 1 - *len;
    memcpy(line + *len, s, n);
    *len += n;
    line[*len] = '\0';
}

size_t access_log_utoa(unsigned long long n, char *out)
{
    char digits[20];
    size_t nd = 0, i;

    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    for (i = 0; i < nd; i++)
        out[i] = digits[nd - 1 - i];
    out[nd] = '\0';
    return nd;
}

void access_log_ms(long long ns, char *out)
{
    unsigned long long us = ns > 0 ? (unsigned long long)(ns + 500) / 1000 : 0;
    size_t n = access_log_utoa(us / 1000, out);

    out[n++] = '.';
    out[n++] = (char)('0' + us % 1000 / 100);
    out[n++] = (char)('0' + us % 100 / 10);
    out[n++] = (char)('0' + us % 10);
    memcpy(out + n, "ms", 3);
}

void access_log_request(const char *request_id, const char *method, const char *path,
                        unsigned status, const char *took, const char *client)
{
    char line[512], num[24];
    size_t len = 0, start, i;

    if (path == NULL || path[0] == '\0')
        path = "/";
    line[0] = '\0';
    access_log_put(line, sizeof(line), &len, request_id, strlen(request_id));
    access_log_put(line, sizeof(line), &len, " ", 1);
    access_log_put(line, sizeof(line), &len, method, strnlen(method, 32));
    access_log_put(line, sizeof(line), &len, " ", 1);
    start = len;
    access_log_put(line, sizeof(line), &len, path, strnlen(path, 255));
    for (i = start; i < len; i++)
        if (!isprint((unsigned char)line[i]) || line[i] == ' ')
            line[i] = '?';
    num[0] = ' ';
    i = access_log_utoa(status, num + 1) + 1;
    num[i++] = ' ';
    access_log_put(line, sizeof(line), &len, num, i);
    access_log_put(line, sizeof(line), &len, took, strlen(took));
    access_log_put(line, sizeof(line), &len, " ", 1);
    access_log_put(line, sizeof(line), &len, client, strlen(client));
    log_access(line, len);
}
