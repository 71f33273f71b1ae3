/*
 * The served TLS certificate and key, behind gnutls' certificate callback, so that SIGHUP can
 * replace them for new connections without touching the ones already open.
 */
#include "server_tls.h"

#include "crypto.h"
#include "fmt.h"

#include <lintel/plugin.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Longest chain served: the certificate and its intermediates. */
#define SERVER_TLS_CHAIN_MAX 16

struct server_tls_pair {
    gnutls_pcert_st pcert[SERVER_TLS_CHAIN_MAX];
    unsigned npcert;
    gnutls_privkey_t key;
    char fingerprint[65];
    struct server_tls_pair *older; /* replaced pairs, newest first */
};

/*
 * The pair new handshakes get. Replaced pairs are never freed while the server runs: gnutls
 * holds the pointers the callback returned for as long as the session lives, with no hook
 * saying when it lets go, and a connection may outlive many reloads.
 */
static _Atomic(struct server_tls_pair *) server_tls_current;
static pthread_mutex_t server_tls_lock = PTHREAD_MUTEX_INITIALIZER; /* one load at a time */

static void server_tls_pair_free(struct server_tls_pair *p)
{
    unsigned i;

    if (p == NULL)
        return;
    for (i = 0; i < p->npcert; i++)
        gnutls_pcert_deinit(&p->pcert[i]);
    if (p->key != NULL)
        gnutls_privkey_deinit(p->key);
    free(p);
}

/* GNUTLS_E_CERTIFICATE_KEY_MISMATCH unless key is the private half of the certificate's key. */
static int server_tls_match(const struct server_tls_pair *p)
{
    gnutls_pubkey_t pub = NULL;
    unsigned char id_key[64], id_cert[64];
    size_t n_key = sizeof(id_key), n_cert = sizeof(id_cert);
    int rc;

    rc = gnutls_pubkey_init(&pub);
    if (rc >= 0)
        rc = gnutls_pubkey_import_privkey(pub, p->key, 0, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id_key, &n_key);
    if (rc >= 0)
        rc =
            gnutls_pubkey_get_key_id(p->pcert[0].pubkey, GNUTLS_KEYID_USE_SHA256, id_cert, &n_cert);
    if (rc >= 0 && (n_key != n_cert || memcmp(id_key, id_cert, n_key) != 0))
        rc = GNUTLS_E_CERTIFICATE_KEY_MISMATCH;
    if (pub != NULL)
        gnutls_pubkey_deinit(pub);
    return rc;
}

/*
 * Imports the chain and the key in the form the callback hands out and checks that they
 * belong together, so that a bad pair is refused here with gnutls' reason and the file names,
 * not at the first handshake. (Not gnutls_certificate_set_x509_key_mem: in gnutls 3.7.9 it
 * leaks a certificate object when the certificate does not parse.) NULL when usable, else the
 * reason (malloc'd).
 */
static char *server_tls_import(const char *cert_path, const char *key_path, const gnutls_datum_t *c,
                               const gnutls_datum_t *k, struct server_tls_pair *p)
{
    unsigned n = SERVER_TLS_CHAIN_MAX;
    int rc;

    rc = gnutls_pcert_list_import_x509_raw(p->pcert, &n, c, GNUTLS_X509_FMT_PEM, 0);
    if (rc >= 0)
        p->npcert = n;
    if (rc >= 0 && n == 0)
        rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
    if (rc >= 0)
        rc = gnutls_privkey_init(&p->key);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(p->key, k, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc >= 0)
        rc = server_tls_match(p);
    if (rc < 0)
        return fmt_alloc("server: tls_cert %s and tls_key %s are not a usable PEM pair: %s",
                         cert_path, key_path, gnutls_strerror(rc));
    if (crypto_sha256_hex(p->pcert[0].cert.data, p->pcert[0].cert.size, p->fingerprint) != 0)
        return fmt_alloc("server: tls: out of memory");
    return NULL;
}

int server_tls_load(const char *cert_path, const char *key_path, char **err)
{
    struct server_tls_pair *p = NULL;
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    int rc = LINTEL_EPARAM;

    *err = NULL;
    pthread_mutex_lock(&server_tls_lock);
    if (gnutls_load_file(cert_path, &cert) < 0 || gnutls_load_file(key_path, &key) < 0) {
        *err = fmt_alloc("server: cannot read tls_cert %s or tls_key %s", cert_path, key_path);
        goto cleanup;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        rc = LINTEL_ENOMEM;
        *err = fmt_alloc("server: tls: out of memory");
        goto cleanup;
    }
    *err = server_tls_import(cert_path, key_path, &cert, &key, p);
    if (*err != NULL)
        goto cleanup;
    p->older = atomic_load(&server_tls_current);
    atomic_store(&server_tls_current, p);
    p = NULL;
    rc = 0;
cleanup:
    pthread_mutex_unlock(&server_tls_lock);
    server_tls_pair_free(p);
    if (key.data != NULL)
        gnutls_memset(key.data, 0, key.size); /* the private key leaves no copy behind */
    gnutls_free(key.data);
    gnutls_free(cert.data);
    return rc;
}

int server_tls_loaded(void)
{
    return atomic_load(&server_tls_current) != NULL;
}

void server_tls_fingerprint(char out[65])
{
    struct server_tls_pair *p = atomic_load(&server_tls_current);

    memcpy(out, p != NULL ? p->fingerprint : "", p != NULL ? 65 : 1);
}

int server_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                        gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    struct server_tls_pair *p = atomic_load(&server_tls_current);

    (void)session;
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (p == NULL)
        return -1; /* the handshake fails: nothing to present */
    *pcert = p->pcert;
    *pcert_length = p->npcert;
    *pkey = p->key;
    return 0;
}

void server_tls_release(void)
{
    struct server_tls_pair *p = atomic_exchange(&server_tls_current, NULL), *older;

    while (p != NULL) {
        older = p->older;
        server_tls_pair_free(p);
        p = older;
    }
}
