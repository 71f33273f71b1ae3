/*
 * lintel_sha256_hex(x): the SHA-256 of a value's bytes as 64 lowercase hex digits, the form the
 * server keeps single-use codes in (account_tokens.hash), so a statement can look a code up.
 *
 * Requirements (cited below as D1..D3):
 * D1 TEXT is hashed as its UTF-8 bytes and BLOB as its bytes, through gnutls; the result is
 *    TEXT, the very digits the host's sha256_hex (app/crypto.c) writes for the same bytes.
 * D2 NULL in gives NULL out.
 * D3 INTEGER and REAL are errors naming the function and what was found (no implicit text).
 */
#include "lintel_ext_int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

void ext_sha256_hex(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int type = sqlite3_value_type(argv[0]);
    unsigned char digest[32];
    gnutls_datum_t d = {digest, sizeof(digest)};
    char hex[2 * sizeof(digest) + 1];
    size_t hex_size = sizeof(hex);
    const void *data;
    int n;

    (void)argc;
    if (type == SQLITE_NULL) /* D2 */
        return;
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) { /* D3 */
        ext_error(ctx, "lintel_sha256_hex(): 1st argument is %s, not TEXT or BLOB",
                  ext_type_name(type));
        return;
    }
    /* D1: the pointer first, then its length (sqlite3_value_bytes after the conversion) */
    data = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(argv[0])
                               : sqlite3_value_blob(argv[0]);
    n = sqlite3_value_bytes(argv[0]);
    if (data == NULL && n > 0) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, n > 0 ? data : "", (size_t)n, digest) != 0 ||
        gnutls_hex_encode(&d, hex, &hex_size) != 0) {
        ext_error(ctx, "lintel_sha256_hex(): SHA-256 failed");
        return;
    }
    sqlite3_result_text(ctx, hex, (int)(2 * sizeof(digest)), SQLITE_TRANSIENT);
}
