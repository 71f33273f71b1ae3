/*
 * The certificate and key the HTTPS server presents: loaded and checked at start, replaced on
 * SIGHUP for new connections while open ones keep theirs (libmicrohttpd's certificate callback).
 */
#ifndef LINTEL_APP_SERVER_TLS_H
#define LINTEL_APP_SERVER_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/*
 * Reads cert_path (PEM, the server's certificate first, then its chain) and key_path (PEM),
 * checks that they are a usable pair, and makes them what new TLS connections get. On failure
 * the pair served so far stays (none at start) and *err (malloc'd) names the files and gnutls'
 * reason. Thread-safe; connections handshaking meanwhile get the old or the new pair, whole.
 */
int server_tls_load(const char *cert_path, const char *key_path, char **err);

/* Whether a pair is loaded (the server was started with TLS). */
int server_tls_loaded(void);

/*
 * The SHA-256 of the served certificate (DER) as 64 lowercase hex digits into out[65]; "" when
 * none is loaded (the log line of a reload names it).
 */
void server_tls_fingerprint(char out[65]);

/*
 * gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK: the current pair.
 * gnutls keeps pointers to it for the session, so replaced pairs are kept until
 * server_tls_release (each a few KiB).
 */
int server_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                        gnutls_pcert_st **pcert, unsigned int *pcert_length,
                        gnutls_privkey_t *pkey);

/* Frees every pair, served and replaced; only after the server stopped. */
void server_tls_release(void);

#endif /* LINTEL_APP_SERVER_TLS_H */
