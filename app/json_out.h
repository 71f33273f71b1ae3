/*
 * The serializer of every JSON reply: compact, with each real printed as the shortest text
 * that reads back as the same double (jansson's own dump prints 0.1 as 0.10000000000000001),
 * by ext_double_text (ext/double_text.h), the printer lintel_stats uses too.
 */
#ifndef LINTEL_APP_JSON_OUT_H
#define LINTEL_APP_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/*
 * Serializes j (borrowed; any JSON value) into *out (malloc'd, NUL-terminated) of *len bytes.
 * Returns 0 or LINTEL_ENOMEM (also for a value that cannot be encoded, such as a NaN real).
 */
int json_out_dump(const json_t *j, char **out, size_t *len);

#endif /* LINTEL_APP_JSON_OUT_H */
