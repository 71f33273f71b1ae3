/*
 * The serializer of every JSON reply: compact, with each real printed as the shortest text
 * that reads back as the same double (jansson's own dump prints 0.1 as 0.10000000000000001),
 * by ext_double_text (ext/double_text.h), the printer lintel_stats uses too.
 */
#ifndef LINTEL_APP_JSON_OUT_H
#define LINTEL_APP_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <string.h>

/*
 * A growing text buffer that JSON is written into piece by piece (db.c writes rows straight into
 * one, without a jansson tree). Zero-initialise it; free(data) when done. After a failed write
 * (out of memory, a value JSON cannot hold) failed stays set and every later write fails too.
 */
struct json_out_buf {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
    int failed;
};

/*
 * Grows the heap block *data of capacity *cap so that it holds need bytes: the capacity doubles
 * from first (or from *cap) until need fits, but never past max (the caller has checked that
 * need <= max before growing). 0, or -1 when out of memory (*data and *cap unchanged).
 */
int json_out_reserve(char **data, size_t *cap, size_t need, size_t first, size_t max);

/* json_out_put when the buffer must grow first (or has failed). */
int json_out_put_grow(struct json_out_buf *b, const char *s, size_t n);

/* Appends n raw bytes (JSON punctuation, text already encoded). 0 or -1. */
static inline int json_out_put(struct json_out_buf *b, const char *s, size_t n)
{
    if (b->len + n >= b->cap || b->failed)
        return json_out_put_grow(b, s, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Appends v in decimal. 0 or -1. */
int json_out_integer(struct json_out_buf *b, long long v);

/* Appends s (n bytes of valid UTF-8) as a JSON string, escaped. 0 or -1. */
int json_out_string(struct json_out_buf *b, const char *s, size_t n);

/* Appends j (borrowed; any JSON value) as compact JSON text, reals as json_out_dump prints them. */
int json_out_value(struct json_out_buf *b, const json_t *j);

/*
 * Serializes j (borrowed; any JSON value) into *out (malloc'd, NUL-terminated) of *len bytes.
 * Returns 0 or LINTEL_ENOMEM (also for a value that cannot be encoded, such as a NaN real).
 */
int json_out_dump(const json_t *j, char **out, size_t *len);

#endif /* LINTEL_APP_JSON_OUT_H */
