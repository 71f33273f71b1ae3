/*
 * A small file read whole into memory (file_read.h): one buffer of max + 1 bytes, so a larger
 * file is told from one of exactly max bytes without trusting its size from stat().
 */
#include "file_read.h"

#include <errno.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>

int file_read_max(const char *path, size_t max, char **data, size_t *len)
{
    FILE *f;
    char *buf;
    size_t n = 0;
    int rc = 0, read_errno = 0;

    *data = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return LINTEL_ENOTFOUND; /* errno is fopen's */
    buf = malloc(max + 1);
    if (buf == NULL) {
        rc = LINTEL_ENOMEM;
    } else {
        n = fread(buf, 1, max + 1, f);
        if (ferror(f)) {
            read_errno = errno;
            rc = LINTEL_EINTERNAL;
        } else if (n > max) {
            rc = LINTEL_ETOOLARGE;
        }
    }
    fclose(f);
    if (rc == LINTEL_EINTERNAL)
        errno = read_errno; /* fclose may have set its own */
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
