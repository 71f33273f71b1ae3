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

#endif /* LINTEL_APP_CRYPTO_H */
