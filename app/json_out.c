/*
 * Compact JSON with shortest round-trip reals. Strings go through jansson's own escaping
 * unless they hold only bytes that never need it; everything else is written here.
 */
#include "json_out.h"

#include <lintel/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_out_buf {
    char *data;
    size_t len, cap;
    int failed;
};

static int json_out_put(struct json_out_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        char *data;
        while (b->len + n + 1 > cap)
            cap *= 2;
        data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return -1;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int json_out_cb(const char *s, size_t n, void *data)
{
    return json_out_put(data, s, n);
}

/* Strings of plain bytes are copied; anything jansson would escape goes through jansson. */
static int json_out_string(struct json_out_buf *b, const char *s, size_t n)
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

/* Whether d printed with prec significant digits (into buf) reads back as d. */
static int json_out_reads_back(double d, int prec, char buf[32])
{
    snprintf(buf, 32, "%.*e", prec - 1, d);
    return strtod(buf, NULL) == d;
}

void json_out_real(double d, char buf[32])
{
    int prec, exp10;
    char *e;

    /*
     * The fewest significant digits that read back as d. Values are mostly short decimal input
     * (4.5) or computed results that need 16 or 17 digits (an average), so 15 is tried first:
     * the long ones are settled in two or three tries instead of seventeen, the short ones by
     * counting up from one. (If p digits read back, so do p + 1.)
     */
    if (json_out_reads_back(d, 15, buf)) {
        for (prec = 1; prec < 15 && !json_out_reads_back(d, prec, buf); prec++)
            ;
    } else {
        prec = json_out_reads_back(d, 16, buf) ? 16 : 17;
    }
    snprintf(buf, 32, "%.*e", prec - 1, d);
    /*
     * %g would switch to an exponent as soon as the precision is below it (100.0 -> "1e+02");
     * print positional text for exponents -4..15 instead, as Python's repr and JavaScript do,
     * and keep the exponent form ("1e+16", "1e-05") outside that range.
     */
    e = strchr(buf, 'e');
    exp10 = e != NULL ? atoi(e + 1) : 0;
    if (e != NULL && exp10 >= -4 && exp10 < 16)
        snprintf(buf, 32, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, d);
    /* 5.0 stays a real for the reader: a bare "5" would read back as an integer. */
    if (strpbrk(buf, ".eEn") == NULL)
        strcat(buf, ".0");
}

static int json_out_value(struct json_out_buf *b, const json_t *j)
{
    char num[40];
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
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return json_out_put(b, num, strlen(num));
    case JSON_REAL:
        if (!isfinite(json_real_value(j))) {
            b->failed = 1;
            return -1;
        }
        json_out_real(json_real_value(j), num);
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
