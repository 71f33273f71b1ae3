/*
 * The one printer of doubles as JSON number text, shared by the extension (lintel_stats) and
 * the host's JSON replies (app/json_out.c), so that the shell and HTTP print the same digits.
 */
#ifndef LINTEL_EXT_DOUBLE_TEXT_H
#define LINTEL_EXT_DOUBLE_TEXT_H

/* Enough for "-1.7976931348623157e+308" and the ".0" suffix. */
#define EXT_DOUBLE_TEXT_SIZE 32

/*
 * Writes into buf the shortest decimal text that reads back as d: positional for decimal
 * exponents -4..15 ("100.0", "0.00025", "1000000000000000.0"), exponent form outside
 * ("1e+16", "1e-05"), ".0" kept on integral values, "-0.0" for negative zero. A non-finite d
 * has no JSON text: buf gets "null".
 */
void ext_double_text(double d, char buf[EXT_DOUBLE_TEXT_SIZE]);

#endif /* LINTEL_EXT_DOUBLE_TEXT_H */
