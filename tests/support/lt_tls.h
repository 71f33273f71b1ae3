/*
 * TLS material for tests that serve HTTPS: a fresh self-signed certificate for 127.0.0.1 and
 * the SHA-256 fingerprint of a certificate, both with gnutls.
 */
#ifndef LINTEL_TESTS_LT_TLS_H
#define LINTEL_TESTS_LT_TLS_H

#include <stddef.h>

/*
 * Writes a new self-signed ECDSA P-256 certificate for 127.0.0.1 (SAN IP, valid an hour) to
 * cert_path and its key (PKCS#8) to key_path, both PEM. Fails the running Check test on error.
 */
void lt_tls_pair(const char *cert_path, const char *key_path);

/*
 * The SHA-256 of the DER of the first certificate in PEM text (pem_len bytes) as 64 lowercase
 * hex digits into out[65]; 0, or -1 when it does not parse.
 */
int lt_tls_fingerprint(const char *pem, size_t pem_len, char out[65]);

#endif /* LINTEL_TESTS_LT_TLS_H */
