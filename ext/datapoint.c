/*
 * The data-point validity rule of ../shared/api.md as SQL functions: lintel_datapoint_tags
 * adds the "too old" tag at ingestion, lintel_datapoint_valid says whether a point is valid.
 *
 * Requirements (cited below as R1..R6):
 * R1 tags are JSON text of an array of strings (RFC 8259: escapes checked, \u escapes of
 *    surrogates paired); anything else is an error naming the function and what was found.
 * R2 deterministic: the clock comes in as an argument (now), never from the function.
 * R3 "too old" is appended when now - time > max_age (default 3600 s), and only once: a
 *    point that already carries it is returned as it was (compacted).
 * R4 the output is the compact array of the input's string tokens, copied as written, so its
 *    escaping is the input's (already checked valid) and nothing is decoded and re-encoded.
 * R5 a point is invalid when any tag, decoded, is exactly "system", "suspect", "too old" or
 *    "not finite" (case-sensitive).
 * R6 NULL in any argument gives NULL.
 *
 * Why a JSON reader of its own rather than SQLite's json_each/json_insert in the statements:
 * lintel_datapoint_valid runs in the datapoints table's CHECK, where subqueries (and so
 * json_each) are not allowed, and the whole rule must hold whoever writes; and measured on
 * 1 000 000 rows in one run (tests/bench/bench_ext.c, `make bench`), the SQL form of the same
 * rules, checked to give identical results, took 5x (valid) and 2.5x (tags) the time of this
 * code (147 vs 735 ms, 589 vs 1475 ms on the 2-core reference machine).
 */
#include "lintel_ext_int.h"

#include <math.h>
#include <string.h>

#define DP_MAX_AGE_DEFAULT 3600.0
#define DP_TOO_OLD         "too old"

static const char *const dp_invalid_tags[] = {"system", "suspect", DP_TOO_OLD, "not finite"};

struct dp_reader {
    const unsigned char *s;
    int n;
    int i;
};

static void dp_skip_ws(struct dp_reader *r)
{
    while (r->i < r->n &&
           (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r'))
        r->i++;
}

static int dp_hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    int k;

    for (k = 0; k < 4; k++) {
        unsigned char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int dp_put_utf8(unsigned char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Reads one JSON string starting at the '"' at r->i (R1). On success returns 0, leaves r->i
 * after the closing quote and, when dec is not NULL, writes the decoded bytes (at most
 * decmax, *decn set to -1 when longer: no tag we compare with is long) to dec.
 */
static int dp_string(struct dp_reader *r, unsigned char *dec, int decmax, int *decn)
{
    unsigned char buf[4];
    int out = 0;

    r->i++; /* the opening quote */
    while (r->i < r->n) {
        unsigned char c = r->s[r->i];
        int len = 1;

        if (c == '"') {
            r->i++;
            if (decn != NULL)
                *decn = out;
            return 0;
        }
        if (c < 0x20)
            return -1;
        buf[0] = c;
        if (c == '\\') {
            unsigned cp;
            if (r->i + 1 >= r->n)
                return -1;
            c = r->s[r->i + 1];
            r->i += 2;
            switch (c) {
            case '"':
            case '\\':
            case '/':
                buf[0] = c;
                break;
            case 'b':
                buf[0] = '\b';
                break;
            case 'f':
                buf[0] = '\f';
                break;
            case 'n':
                buf[0] = '\n';
                break;
            case 'r':
                buf[0] = '\r';
                break;
            case 't':
                buf[0] = '\t';
                break;
            case 'u':
                if (r->i + 4 > r->n || dp_hex4(r->s + r->i, &cp) != 0)
                    return -1;
                r->i += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return -1; /* a lone low surrogate */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (r->i + 6 > r->n || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u' ||
                        dp_hex4(r->s + r->i + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    r->i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                len = dp_put_utf8(buf, cp);
                break;
            default:
                return -1;
            }
        } else {
            r->i++;
        }
        if (dec != NULL && out >= 0) {
            if (out + len > decmax)
                out = -1;
            else {
                memcpy(dec + out, buf, (size_t)len);
                out += len;
            }
        }
    }
    return -1; /* unterminated */
}

static int dp_is_invalid_tag(const unsigned char *dec, int decn)
{
    size_t k;

    for (k = 0; k < sizeof dp_invalid_tags / sizeof dp_invalid_tags[0]; k++)
        if ((size_t)decn == strlen(dp_invalid_tags[k]) &&
            memcmp(dec, dp_invalid_tags[k], (size_t)decn) == 0)
            return 1;
    return 0;
}

/*
 * Walks the tags array (R1). For each tag, calls back with its raw token and its decoded
 * text (decn -1 when too long to matter). Returns 0, or sets an error on ctx and returns -1.
 */
static int dp_walk(sqlite3_context *ctx, const char *fn, sqlite3_value *v,
                   int (*cb)(void *arg, const unsigned char *raw, int rawn,
                             const unsigned char *dec, int decn),
                   void *arg)
{
    struct dp_reader r;
    int type = sqlite3_value_type(v);
    int index = 0;

    if (type != SQLITE_TEXT) {
        ext_error(ctx, "%s: 1st argument is %s, not JSON array text", fn, ext_type_name(type));
        return -1;
    }
    r.s = sqlite3_value_text(v);
    r.n = sqlite3_value_bytes(v);
    r.i = 0;
    if (r.s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return -1;
    }
    dp_skip_ws(&r);
    if (r.i >= r.n || r.s[r.i] != '[') {
        ext_error(ctx, "%s: 1st argument is not a JSON array", fn);
        return -1;
    }
    r.i++;
    dp_skip_ws(&r);
    if (r.i < r.n && r.s[r.i] == ']') {
        r.i++;
    } else {
        for (;;) {
            unsigned char dec[16];
            int decn = -1;
            int start = r.i;

            if (r.i >= r.n || r.s[r.i] != '"') {
                ext_error(ctx, "%s: tag %d is not a string", fn, index);
                return -1;
            }
            if (dp_string(&r, dec, (int)sizeof dec, &decn) != 0) {
                ext_error(ctx, "%s: tag %d is not a valid JSON string", fn, index);
                return -1;
            }
            if (cb(arg, r.s + start, r.i - start, dec, decn) != 0) {
                sqlite3_result_error_nomem(ctx);
                return -1;
            }
            index++;
            dp_skip_ws(&r);
            if (r.i < r.n && r.s[r.i] == ',') {
                r.i++;
                dp_skip_ws(&r);
                continue;
            }
            if (r.i < r.n && r.s[r.i] == ']') {
                r.i++;
                break;
            }
            ext_error(ctx, "%s: malformed JSON array at offset %d", fn, r.i);
            return -1;
        }
    }
    dp_skip_ws(&r);
    if (r.i < r.n) {
        ext_error(ctx, "%s: malformed JSON array at offset %d", fn, r.i);
        return -1;
    }
    return 0;
}

struct dp_tags_state {
    sqlite3_str *out;
    int count;
    int too_old;
};

static int dp_tags_cb(void *arg, const unsigned char *raw, int rawn, const unsigned char *dec,
                      int decn)
{
    struct dp_tags_state *st = arg;

    if (st->count > 0)
        sqlite3_str_appendchar(st->out, 1, ',');
    sqlite3_str_append(st->out, (const char *)raw, rawn);
    st->count++;
    if (decn == (int)strlen(DP_TOO_OLD) && memcmp(dec, DP_TOO_OLD, (size_t)decn) == 0)
        st->too_old = 1;
    return sqlite3_str_errcode(st->out) == SQLITE_OK ? 0 : -1;
}

/* A finite number argument into *d: 0, 1 for NULL (result NULL), -1 after an error. */
static int dp_number(sqlite3_context *ctx, sqlite3_value **argv, int k, double *d)
{
    int type = sqlite3_value_type(argv[k]);

    if (type == SQLITE_NULL)
        return 1;
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) {
        ext_error(ctx, "lintel_datapoint_tags(): %s argument is %s, not a number",
                  ext_ordinal(k + 1), ext_type_name(type));
        return -1;
    }
    *d = sqlite3_value_double(argv[k]);
    if (!isfinite(*d)) {
        ext_error(ctx, "lintel_datapoint_tags(): %s argument is not finite", ext_ordinal(k + 1));
        return -1;
    }
    return 0;
}

void ext_datapoint_tags(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct dp_tags_state st = {NULL, 0, 0};
    double t = 0;
    double now = 0;
    double max_age = DP_MAX_AGE_DEFAULT;
    char *text;
    int k;

    for (k = 0; k < argc; k++)
        if (sqlite3_value_type(argv[k]) == SQLITE_NULL)
            return; /* R6 */
    if (dp_number(ctx, argv, 1, &t) != 0 || dp_number(ctx, argv, 2, &now) != 0)
        return;
    if (argc > 3) {
        if (dp_number(ctx, argv, 3, &max_age) != 0)
            return;
        if (max_age < 0) {
            ext_error(ctx, "lintel_datapoint_tags(): 4th argument must not be negative");
            return;
        }
    }
    st.out = sqlite3_str_new(sqlite3_context_db_handle(ctx));
    sqlite3_str_appendchar(st.out, 1, '[');
    if (dp_walk(ctx, "lintel_datapoint_tags()", argv[0], dp_tags_cb, &st) != 0) {
        sqlite3_free(sqlite3_str_finish(st.out));
        return;
    }
    if (!st.too_old && now - t > max_age) /* R3 */
        sqlite3_str_appendf(st.out, "%s\"" DP_TOO_OLD "\"", st.count > 0 ? "," : "");
    sqlite3_str_appendchar(st.out, 1, ']');
    if (sqlite3_str_errcode(st.out) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(st.out));
        sqlite3_result_error_nomem(ctx);
        return;
    }
    text = sqlite3_str_finish(st.out);
    sqlite3_result_text(ctx, text, -1, sqlite3_free);
}

static int dp_valid_cb(void *arg, const unsigned char *raw, int rawn, const unsigned char *dec,
                       int decn)
{
    int *valid = arg;

    (void)raw;
    (void)rawn;
    if (decn >= 0 && dp_is_invalid_tag(dec, decn))
        *valid = 0;
    return 0;
}

void ext_datapoint_valid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int valid = 1;

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    if (dp_walk(ctx, "lintel_datapoint_valid()", argv[0], dp_valid_cb, &valid) != 0)
        return;
    sqlite3_result_int(ctx, valid);
}
