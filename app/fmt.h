/*
 * printf into new memory: the one helper behind every error message and path the host builds,
 * so no file carries its own vasprintf wrapper.
 */
#ifndef LINTEL_APP_FMT_H
#define LINTEL_APP_FMT_H

#include <lintel/plugin.h>
#include <stdarg.h>

/* The formatted text in malloc'd memory, or NULL when out of memory. */
char *fmt_alloc(const char *fmt, ...) LINTEL_PRINTF(1, 2);

/* fmt_alloc for a va_list the caller started (and ends). */
char *fmt_valloc(const char *fmt, va_list ap) LINTEL_PRINTF(1, 0);

#endif /* LINTEL_APP_FMT_H */
