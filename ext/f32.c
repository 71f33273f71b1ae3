/*
 * lintel_f32_decode(x [, order]): the IEEE-754 binary32 whose four bytes are x (a BLOB, or the
 * JSON array text the sensor service sends), widened to a double.
 *
 * Requirements (cited below as R1..R6):
 * R1 x is a 4-byte BLOB or JSON array text of exactly four integers 0..255; NULL gives NULL.
 * R2 order is 'le' (default) or 'be'; anything else is an error naming the argument.
 * R3 bytes are assembled into a uint32_t and memcpy'd into a float: never a pointer cast,
 *    which would be unaligned and alias-breaking, and would follow the host's byte order.
 * R4 NaN (any payload) gives NULL, as SQLite itself stores NaN as NULL; +-Inf are returned.
 * R5 errors say what was found: the byte count, the offending element and its index (0-based,
 *    as in a JSON path $[i]), or the storage class of a wrong argument.
 * R6 the JSON reader is strict (RFC 8259 integers, JSON whitespace, nothing after the ']').
 */
#include "lintel_ext_int.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define F32_FN "lintel_f32_decode()"

static int f32_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int f32_skip_ws(const unsigned char *s, int n, int i)
{
    while (i < n && f32_is_ws(s[i]))
        i++;
    return i;
}

/*
 * Reads one element at s[*pi] (R6). Returns 0 with *value set (-1 when it is out of 0..255),
 * or -1 when the element is not an integer.
 */
static int f32_parse_int(const unsigned char *s, int n, int *pi, int *value)
{
    int i = *pi;
    int negative = 0;
    int first;
    int v = 0;

    if (i < n && s[i] == '-') {
        negative = 1;
        i++;
    }
    first = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (v <= 255)
            v = v * 10 + (s[i] - '0');
        i++;
    }
    if (i == first || (i - first > 1 && s[first] == '0'))
        return -1;
    if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
        return -1;
    *value = negative || v > 255 ? -1 : v;
    *pi = i;
    return 0;
}

/*
 * Reads "[a, b, c, d]" into bytes. Returns 0, or sets an error on ctx and returns -1. Every
 * element is read, so that "[1,2,3,4,5]" reports "got 5" (R5).
 */
static int f32_parse_json(sqlite3_context *ctx, const unsigned char *s, int n,
                          unsigned char bytes[4])
{
    int i = f32_skip_ws(s, n, 0);
    int count = 0;

    if (i >= n || s[i] != '[') {
        ext_error(ctx, F32_FN ": 1st argument is not a BLOB or JSON array text");
        return -1;
    }
    i = f32_skip_ws(s, n, i + 1);
    if (i < n && s[i] == ']') {
        i++;
    } else {
        for (;;) {
            int start = i;
            int value;

            if (f32_parse_int(s, n, &i, &value) != 0) {
                ext_error(ctx, F32_FN ": element %d is not an integer", count);
                return -1;
            }
            if (value < 0 && count < 4) {
                int len = i - start;
                ext_error(ctx, F32_FN ": byte %d is %.*s%s, not 0..255", count, len > 24 ? 24 : len,
                          (const char *)s + start, len > 24 ? "..." : "");
                return -1;
            }
            if (count < 4)
                bytes[count] = (unsigned char)value;
            count++;
            i = f32_skip_ws(s, n, i);
            if (i < n && s[i] == ',') {
                i = f32_skip_ws(s, n, i + 1);
                continue;
            }
            if (i < n && s[i] == ']') {
                i++;
                break;
            }
            ext_error(ctx, F32_FN ": malformed JSON array at offset %d", i);
            return -1;
        }
    }
    i = f32_skip_ws(s, n, i);
    if (i < n) {
        ext_error(ctx, F32_FN ": malformed JSON array at offset %d", i);
        return -1;
    }
    if (count != 4) {
        ext_error(ctx, F32_FN ": expected 4 bytes, got %d", count);
        return -1;
    }
    return 0;
}

void ext_f32_decode(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    unsigned char bytes[4];
    int big_endian = 0;
    int type = sqlite3_value_type(argv[0]);
    uint32_t bits;
    float f;

    if (argc > 1) {
        const char *order = (const char *)sqlite3_value_text(argv[1]);
        int otype = sqlite3_value_type(argv[1]);

        if (otype == SQLITE_NULL)
            return; /* NULL in, NULL out */
        if (otype != SQLITE_TEXT || order == NULL ||
            (strcmp(order, "le") != 0 && strcmp(order, "be") != 0)) {
            ext_error(ctx, F32_FN ": 2nd argument must be 'le' or 'be', got %s%.20s%s",
                      otype == SQLITE_TEXT ? "'" : "",
                      otype == SQLITE_TEXT && order != NULL ? order : ext_type_name(otype),
                      otype == SQLITE_TEXT ? "'" : "");
            return;
        }
        big_endian = order[0] == 'b';
    }
    switch (type) {
    case SQLITE_NULL:
        return; /* R1 */
    case SQLITE_BLOB: {
        int n = sqlite3_value_bytes(argv[0]);
        const unsigned char *b = sqlite3_value_blob(argv[0]);

        if (n != 4) {
            ext_error(ctx, F32_FN ": expected 4 bytes, got %d", n);
            return;
        }
        memcpy(bytes, b, 4);
        break;
    }
    case SQLITE_TEXT: {
        const unsigned char *s = sqlite3_value_text(argv[0]);
        int n = sqlite3_value_bytes(argv[0]);

        if (s == NULL) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        if (f32_parse_json(ctx, s, n, bytes) != 0)
            return;
        break;
    }
    default:
        ext_error(ctx, F32_FN ": 1st argument is %s, not a BLOB or JSON array text",
                  ext_type_name(type));
        return;
    }
    /* R3 */
    if (big_endian)
        bits = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
               (uint32_t)bytes[3];
    else
        bits = (uint32_t)bytes[3] << 24 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[1] << 8 |
               (uint32_t)bytes[0];
    memcpy(&f, &bits, sizeof f);
    if (isnan(f))
        return; /* R4 */
    sqlite3_result_double(ctx, (double)f);
}
