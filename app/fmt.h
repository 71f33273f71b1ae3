/*
 * printf into new memory: the one helper behind every error message and path the host builds,
 * so no file carries its own vasprintf wrapper.
 */
#ifndef LINTEL_APP_FMT_H
#define LINTEL_APP_FMT_H

#include <lintel/plugin.h>

/* The formatted text in malloc'd memory, or NULL when out of memory. */
char *fmt_alloc(const char *fmt, ...) LINTEL_PRINTF(1, 2);

#endif /* LINTEL_APP_FMT_H */
