/*
 * Compact JSON with shortest round-trip reals. Strings go through jansson's own escaping
 * unless they hold only bytes that never need it; everything else is written here.
 */
#include "json_out.h"

#include "double_text.h"

#include <lintel/plugin.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_out_reserve(char **data, size_t *cap, size_t need, size_t first, size_t max)
{
    size_t c = *cap == 0 ? first : *cap;
    char *grown;

    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if (c > max)
        c = max;
    grown = realloc(*data, c);
    if (grown == NULL)
        return -1;
    *data = grown;
    *cap = c;
    return 0;
}

int json_out_put_grow(struct json_out_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return -1;
    if (json_out_reserve(&b->data, &b->cap, b->len + n + 1, 256, SIZE_MAX) != 0) {
        b->failed = 1;
        return -1;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int json_out_integer(struct json_out_buf *b, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char text[24];
    size_t i = sizeof(text);

    /* digits from the end: snprintf's parsing of "%lld" costs more than the number itself */
    do {
        text[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        text[--i] = '-';
    return json_out_put(b, text + i, sizeof(text) - i);
}

static int json_out_cb(const char *s, size_t n, void *data)
{
    return json_out_put(data, s, n);
}

/* Strings of plain bytes are copied; anything jansson would escape goes through jansson. */
int json_out_string(struct json_out_buf *b, const char *s, size_t n)
{
    json_t *j_tmp;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
    }
    if (i == n)
        return json_out_put(b, "\"", 1) || json_out_put(b, s, n) || json_out_put(b, "\"", 1);
    j_tmp = json_stringn_nocheck(s, n);
    if (j_tmp == NULL) {
        b->failed = 1;
        return -1;
    }
    rc = json_dump_callback(j_tmp, json_out_cb, b, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j_tmp);
    return rc;
}

int json_out_value(struct json_out_buf *b, const json_t *j)
{
    char num[EXT_DOUBLE_TEXT_SIZE + 8];
    const char *key;
    const json_t *j_v;
    size_t i;
    int first = 1;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        if (json_out_put(b, "{", 1) != 0)
            return -1;
        json_object_foreach((json_t *)j, key, j_v) {
            if ((!first && json_out_put(b, ",", 1) != 0) ||
                json_out_string(b, key, strlen(key)) != 0 || json_out_put(b, ":", 1) != 0 ||
                json_out_value(b, j_v) != 0)
                return -1;
            first = 0;
        }
        return json_out_put(b, "}", 1);
    case JSON_ARRAY:
        if (json_out_put(b, "[", 1) != 0)
            return -1;
        json_array_foreach(j, i, j_v) {
            if ((i > 0 && json_out_put(b, ",", 1) != 0) || json_out_value(b, j_v) != 0)
                return -1;
        }
        return json_out_put(b, "]", 1);
    case JSON_STRING:
        return json_out_string(b, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return json_out_integer(b, (long long)json_integer_value(j));
    case JSON_REAL:
        if (!isfinite(json_real_value(j))) {
            b->failed = 1;
            return -1;
        }
        ext_double_text(json_real_value(j), num);
        return json_out_put(b, num, strlen(num));
    case JSON_TRUE:
        return json_out_put(b, "true", 4);
    case JSON_FALSE:
        return json_out_put(b, "false", 5);
    case JSON_NULL:
        return json_out_put(b, "null", 4);
    }
    return -1;
}

int json_out_dump(const json_t *j, char **out, size_t *len)
{
    struct json_out_buf b = {0};

    *out = NULL;
    *len = 0;
    if (j == NULL || json_out_value(&b, j) != 0 || b.failed) {
        free(b.data);
        return LINTEL_ENOMEM;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}
