/*
 * Small crypto helpers on top of gnutls (CSPRNG, SHA-256) and orcania (base64url): random
 * tokens, digests, and the strict base64url codec the JWT pre-screen relies on.
 */
#include "crypto.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <orcania.h>
#include <stdlib.h>
#include <string.h>

/* Largest random token we hand out: far more than any caller needs, bounds the stack buffer. */
#define CRYPTO_MAX_RANDOM 256

int crypto_b64url_encode(const void *data, size_t len, char **out)
{
    unsigned char *buf = NULL;
    size_t out_len = 0;
    int rc = LINTEL_ENOMEM;

    *out = NULL;
    /* orcania may write up to 2 bytes past the encoded length; plus the NUL */
    buf = malloc(len / 3 * 4 + 8);
    if (buf == NULL)
        goto cleanup;
    if (len == 0) {
        buf[0] = '\0';
    } else {
        if (!o_base64url_encode(data, len, buf, &out_len)) {
            rc = LINTEL_EINTERNAL;
            goto cleanup;
        }
        buf[out_len] = '\0';
    }
    *out = (char *)buf;
    buf = NULL;
    rc = 0;
cleanup:
    free(buf);
    return rc;
}

int crypto_b64url_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *buf = NULL;
    char *again = NULL;
    size_t n = 0, i;
    int rc = LINTEL_EPARAM;

    *out = NULL;
    *out_len = 0;
    /* The alphabet only, no padding: orcania alone would accept '=' and other oddities. */
    for (i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            goto cleanup;
    }
    if (len % 4 == 1)
        goto cleanup;
    buf = malloc(len / 4 * 3 + 8);
    if (buf == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (len > 0 && !o_base64url_decode((const unsigned char *)text, len, buf, &n))
        goto cleanup;
    /*
     * Canonical form only: re-encoding must give the input back, so unused trailing bits
     * cannot carry a second spelling of the same bytes (a "flipped" signature that still
     * verifies).
     */
    rc = crypto_b64url_encode(buf, n, &again);
    if (rc != 0)
        goto cleanup;
    if (strlen(again) != len || memcmp(again, text, len) != 0) {
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    *out = buf;
    *out_len = n;
    buf = NULL;
    rc = 0;
cleanup:
    free(again);
    free(buf);
    return rc;
}

int crypto_random_token(size_t nbytes, char **out)
{
    unsigned char raw[CRYPTO_MAX_RANDOM];
    int rc = LINTEL_EPARAM;

    *out = NULL;
    if (nbytes == 0 || nbytes > sizeof(raw))
        goto cleanup;
    if (gnutls_rnd(GNUTLS_RND_KEY, raw, nbytes) != 0) {
        rc = LINTEL_EINTERNAL;
        goto cleanup;
    }
    rc = crypto_b64url_encode(raw, nbytes, out);
cleanup:
    gnutls_memset(raw, 0, sizeof(raw));
    return rc;
}

int crypto_sha256(const void *data, size_t len, unsigned char out[32])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0 ? 0 : LINTEL_EINTERNAL;
}

int crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[32];
    gnutls_datum_t d = {digest, sizeof(digest)};
    size_t out_size = 65;

    out[0] = '\0';
    if (crypto_sha256(data, len, digest) != 0)
        return LINTEL_EINTERNAL;
    if (gnutls_hex_encode(&d, out, &out_size) != 0)
        return LINTEL_EINTERNAL;
    return 0;
}
