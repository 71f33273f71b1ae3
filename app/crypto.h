/*
 * Small crypto helpers on top of gnutls: random tokens and SHA-256, for the host and, through
 * the ABI table, for plugins.
 */
#ifndef LINTEL_APP_CRYPTO_H
#define LINTEL_APP_CRYPTO_H

#include <stddef.h>

/* nbytes from the CSPRNG as base64url without padding; *out malloc'd. */
int crypto_random_token(size_t nbytes, char **out);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. */
int crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* Raw SHA-256 digest of data into out. */
int crypto_sha256(const void *data, size_t len, unsigned char out[32]);

/* base64url without padding; *out malloc'd, NUL-terminated. */
int crypto_b64url_encode(const void *data, size_t len, char **out);

/*
 * Strict base64url decode: alphabet only, no padding, canonical (re-encoding gives text back),
 * else LINTEL_EPARAM. *out malloc'd (*out_len bytes).
 */
int crypto_b64url_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);

#endif /* LINTEL_APP_CRYPTO_H */
