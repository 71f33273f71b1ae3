/*
 * The shortest round-trip text of a double, for the extension's JSON and the host's replies
 * (the one printer: see double_text.h). Needs only the C library, so both can link it.
 */
#include "double_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether d printed with prec significant digits (into buf) reads back as d. */
static int double_text_reads_back(double d, int prec, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*e", prec - 1, d);
    return strtod(buf, NULL) == d;
}

void ext_double_text(double d, char buf[EXT_DOUBLE_TEXT_SIZE])
{
    int prec, exp10;
    char *e;

    if (!isfinite(d)) {
        strcpy(buf, "null");
        return;
    }
    /*
     * The fewest significant digits that read back as d. Values are mostly short decimal input
     * (4.5) or computed results that need 16 or 17 digits (an average), so 15 is tried first:
     * the long ones are settled in two or three tries instead of seventeen, the short ones by
     * counting up from one. (If p digits read back, so do p + 1.)
     */
    if (double_text_reads_back(d, 15, buf)) {
        for (prec = 1; prec < 15 && !double_text_reads_back(d, prec, buf); prec++)
            ;
    } else {
        prec = double_text_reads_back(d, 16, buf) ? 16 : 17;
    }
    snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*e", prec - 1, d);
    /*
     * %g would switch to an exponent as soon as the precision is below it (100.0 -> "1e+02");
     * print positional text for exponents -4..15 instead, as Python's repr and JavaScript do,
     * and keep the exponent form ("1e+16", "1e-05") outside that range.
     */
    e = strchr(buf, 'e');
    exp10 = e != NULL ? atoi(e + 1) : 0;
    if (e != NULL && exp10 >= -4 && exp10 < 16)
        snprintf(buf, EXT_DOUBLE_TEXT_SIZE, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, d);
    /* 5.0 stays a real for the reader: a bare "5" would read back as an integer. */
    if (strpbrk(buf, ".eEn") == NULL)
        strcat(buf, ".0");
}
