/*
 * TLS material for tests that serve HTTPS: self-signed certificates made with gnutls, and
 * certificate fingerprints to tell which one a server presented.
 */
#include "lt_tls.h"

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void lt_tls_write(const char *path, const gnutls_datum_t *d)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(d->data, 1, d->size, f), d->size);
    ck_assert_int_eq(fclose(f), 0);
}

void lt_tls_pair(const char *cert_path, const char *key_path)
{
    static const unsigned char loopback[4] = {127, 0, 0, 1};
    unsigned char serial[8];
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
    time_t now = time(NULL);

    /* a positive random serial: two pairs made in one test differ in it too */
    ck_assert_int_eq(getrandom(serial, sizeof(serial), 0), (ssize_t)sizeof(serial));
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
    ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
    ck_assert_int_eq(gnutls_x509_privkey_generate(
                         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + 3600), 0);
    ck_assert_int_eq(
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "127.0.0.1", 9), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, loopback,
                                                          sizeof(loopback), GNUTLS_FSAN_SET),
                     0);
    ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
    ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), 0);
    ck_assert_int_eq(
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN),
        0);
    ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
    ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem), 0);
    ck_assert_int_eq(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
                                                       GNUTLS_PKCS_PLAIN, &key_pem),
                     0);
    lt_tls_write(cert_path, &cert_pem);
    lt_tls_write(key_path, &key_pem);
    gnutls_free(cert_pem.data);
    gnutls_free(key_pem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
}

int lt_tls_fingerprint(const char *pem, size_t pem_len, char out[65])
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)pem_len};
    unsigned char fp[32];
    size_t fp_len = sizeof(fp), i;
    int rc = -1;

    if (gnutls_x509_crt_init(&crt) != 0)
        return -1;
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0 &&
        gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fp_len) == 0 &&
        fp_len == sizeof(fp)) {
        for (i = 0; i < fp_len; i++)
            snprintf(out + 2 * i, 3, "%02x", fp[i]);
        rc = 0;
    }
    gnutls_x509_crt_deinit(crt);
    return rc;
}
