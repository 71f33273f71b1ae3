/*
 * printf into new memory (fmt.h): vasprintf with its undefined pointer on failure turned into
 * NULL, so callers need one check.
 */
#include "fmt.h"

#include <stdarg.h>
#include <stdio.h>

char *fmt_valloc(const char *fmt, va_list ap)
{
    char *s = NULL;

    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    return s;
}

char *fmt_alloc(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = fmt_valloc(fmt, ap);
    va_end(ap);
    return s;
}
