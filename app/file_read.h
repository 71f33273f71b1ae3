/*
 * A small file read whole into memory, its size limit checked before the buffer is filled: the
 * one reader behind key files and mail templates.
 */
#ifndef LINTEL_APP_FILE_READ_H
#define LINTEL_APP_FILE_READ_H

#include <stddef.h>

/*
 * The whole of path in *data (malloc'd, a NUL after its *len bytes). 0; LINTEL_ENOTFOUND when
 * it cannot be opened and LINTEL_EINTERNAL when a read fails (errno says why in both);
 * LINTEL_ETOOLARGE when it holds more than max bytes; LINTEL_ENOMEM. *data is NULL on error.
 */
int file_read_max(const char *path, size_t max, char **data, size_t *len);

#endif /* LINTEL_APP_FILE_READ_H */
