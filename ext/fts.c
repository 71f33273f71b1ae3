/*
 * lintel_fts_query(text): a user's search words as an FTS5 query that cannot be a syntax error:
 * every word quoted (so AND, OR, NEAR, "-", ":" and '*' are plain text) and a prefix.
 */
#include "lintel_ext_int.h"

#include <string.h>

static int fts_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * lintel_fts_query('buy "mil') -> '"buy"* """mil"*': words split on ASCII white space, each a
 * quoted prefix phrase (a quote inside doubled), all of them required (FTS5's implicit AND).
 * NULL stays NULL; a text without a word gives '""', an empty phrase that matches nothing.
 */
void ext_fts_query(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *in;
    char *out;
    int len, i, n = 0, word = 0;

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    in = sqlite3_value_text(argv[0]);
    len = sqlite3_value_bytes(argv[0]);
    if (in == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    /* at worst every byte a one-byte word ("x"* plus a space), or "" for no word at all */
    out = sqlite3_malloc64((sqlite3_uint64)len * 5 + 2);
    if (out == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (i = 0; i <= len; i++) {
        int end = i == len || fts_space(in[i]);
        if (end && word) {
            out[n++] = '"';
            out[n++] = '*';
            word = 0;
        } else if (!end) {
            if (!word) {
                if (n > 0)
                    out[n++] = ' ';
                out[n++] = '"';
                word = 1;
            }
            if (in[i] == '"')
                out[n++] = '"';
            out[n++] = (char)in[i];
        }
    }
    if (n == 0) {
        out[n++] = '"';
        out[n++] = '"';
    }
    sqlite3_result_text(ctx, out, n, sqlite3_free);
}
