/*
 * PLACEHOLDER (owner: auth). Random tokens and SHA-256 through gnutls.
 */
#include "crypto.h"

#include <lintel/plugin.h>

int crypto_random_token(size_t nbytes, char **out)
{
    (void)nbytes;
    *out = NULL;
    return LINTEL_EINTERNAL;
}

int crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    (void)data;
    (void)len;
    out[0] = '\0';
    return LINTEL_EINTERNAL;
}
