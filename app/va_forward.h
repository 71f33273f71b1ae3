/*
 * A variadic function that only starts a va_list and hands it to its va_list twin: one
 * definition of that shape for each such family (db.c's db_*f, host_kit.c's sql_*f).
 */
#ifndef LINTEL_APP_VA_FORWARD_H
#define LINTEL_APP_VA_FORWARD_H

#include <stdarg.h>

/*
 * Defines signature (returning int, ending in "last, ..."): runs reset, then returns call,
 * which sees the started va_list as ap.
 */
#define VA_FORWARD(signature, last, reset, call)                                                   \
    signature                                                                                      \
    {                                                                                              \
        va_list ap;                                                                                \
        int rc;                                                                                    \
                                                                                                   \
        reset;                                                                                     \
        va_start(ap, last);                                                                        \
        rc = call;                                                                                 \
        va_end(ap);                                                                                \
        return rc;                                                                                 \
    }

#endif /* LINTEL_APP_VA_FORWARD_H */
