/*
 * The shortest round-trip text of a double, for the extension's JSON and the host's replies
 * (the one printer: see double_text.h). Needs only the C library, so both can link it.
 */
#include "double_text.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether d printed with prec significant digits (into buf) reads back as d. */
static int double_text_reads_back(double d, int prec, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*e", prec - 1, d);
    return strtod(buf, NULL) == d;
}

/*
 * The significant digits of buf ("-d.ddde+XX" as %.*e prints it) without trailing zeros, into
 * digits (NUL-terminated); returns how many, and *exp10 gets the decimal exponent.
 */
static int double_text_digits(const char *buf, char digits[24], int *exp10)
{
    const char *p = buf, *e = strchr(buf, 'e');
    int n = 0;

    *exp10 = e != NULL ? atoi(e + 1) : 0;
    for (; *p != '\0' && p != e; p++)
        if (*p >= '0' && *p <= '9' && n < 23)
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

/* The text of integral d (|d| < 1e16) with ".0", and "-0.0" for negative zero. */
static void double_text_integral(double d, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    unsigned long long v = (unsigned long long)(d < 0 ? -d : d);
    char rev[20];
    size_t len = 0, n = 0;

    if (signbit(d))
        buf[len++] = '-';
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        buf[len++] = rev[--n];
    memcpy(buf + len, ".0", 3);
}

/*
 * The last non-integral values printed on this thread, by their bits: a reply printed again
 * (the cached statistics of GET /api/numbers/stats, a list of the same values) costs a lookup
 * instead of two or three printf/strtod rounds each. Direct-mapped, fixed size per thread.
 */
#define DOUBLE_TEXT_MEMO 32

static _Thread_local struct double_text_memo {
    uint64_t bits; /* 0 (the bits of +0.0, printed before the memo is asked): empty */
    char text[EXT_DOUBLE_TEXT_SIZE];
} double_text_memo[DOUBLE_TEXT_MEMO];

static void double_text_shortest(double d, char buf[EXT_DOUBLE_TEXT_SIZE]);

void ext_double_text(double d, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    struct double_text_memo *m;
    uint64_t bits;

    if (!isfinite(d)) {
        strcpy(buf, "null");
        return;
    }
    /*
     * An integral value below 1e16 is its integer's digits (exactly representable, and any
     * shorter text would be another integer, so another double) and ".0": no printf needed.
     */
    if (fabs(d) < 1e16 && d == (double)(long long)d) {
        double_text_integral(d, buf);
        return;
    }
    memcpy(&bits, &d, sizeof(bits));
    m = &double_text_memo[(bits * 0x9E3779B97F4A7C15ULL) >> 59];
    if (m->bits != bits) {
        double_text_shortest(d, m->text);
        m->bits = bits;
    }
    memcpy(buf, m->text, EXT_DOUBLE_TEXT_SIZE);
}

/* The shortest round-trip text of finite, non-integral d (ext_double_text's layout). */
static void double_text_shortest(double d, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    char digits[24];
    int prec, exp10, n, i;
    size_t len = 0;

    /*
     * The fewest significant digits that read back as d. 15 digits always identify a decimal of
     * at most 15 digits (DBL_DIG), so when the 15-digit text reads back, the shortest text is it
     * without its trailing zeros: one try settles the short decimals users type (4.5). Computed
     * values (an average) need 16 or 17: two or three tries. Subnormals have fewer significant
     * bits than DBL_DIG assumes, so for them the count goes up from one. (If p digits read back,
     * so do p + 1.)
     */
    if (double_text_reads_back(d, 15, buf)) {
        if (d != 0.0 && fabs(d) < DBL_MIN) {
            for (prec = 1; prec < 15 && !double_text_reads_back(d, prec, buf); prec++)
                ;
            snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*e", prec - 1, d);
        }
    } else if (!double_text_reads_back(d, 16, buf)) {
        snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*e", 16, d);
    }
    n = double_text_digits(buf, digits, &exp10);
    /*
     * %g would switch to an exponent as soon as the precision is below it (100.0 -> "1e+02");
     * positional text for exponents -4..15 instead, as Python's repr and JavaScript print it,
     * and the exponent form ("1e+16", "1.5e-05") outside that range. ".0" keeps an integral value
     * a real for the reader: a bare "5" would read back as an integer.
     */
    if (signbit(d))
        buf[len++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        buf[len++] = digits[0];
        if (n > 1) {
            buf[len++] = '.';
            memcpy(buf + len, digits + 1, (size_t)n - 1);
            len += (size_t)n - 1;
        }
        snprintf(buf + len, EXT_DOUBLE_TEXT_SIZE - len, "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (exp10 < 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (i = -1; i > exp10; i--)
            buf[len++] = '0';
        memcpy(buf + len, digits, (size_t)n);
        len += (size_t)n;
    } else {
        for (i = 0; i <= exp10; i++)
            buf[len++] = i < n ? digits[i] : '0';
        buf[len++] = '.';
        if (n > exp10 + 1) {
            memcpy(buf + len, digits + exp10 + 1, (size_t)(n - exp10 - 1));
            len += (size_t)(n - exp10 - 1);
        } else {
            buf[len++] = '0';
        }
    }
    buf[len] = '\0';
}
