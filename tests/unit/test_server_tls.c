/*
 * app/server_tls.c on its own: a pair loads and is what the certificate callback hands out, a
 * replacement takes over, and every kind of bad pair is refused with the old one kept.
 */
#include "lt_test.h"
#include "lt_tls.h"
#include "server_tls.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
    char p[128];
    FILE *f;

    path(p, sizeof(p), name);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* The fingerprint of the certificate the callback hands out now ("" for none). */
static void served(char fp[65])
{
    gnutls_pcert_st *pcert = NULL;
    gnutls_privkey_t key = NULL;
    unsigned n = 0;
    char *pem;
    gnutls_datum_t out = {NULL, 0};

    fp[0] = '\0';
    if (server_tls_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &n, &key) != 0)
        return;
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(gnutls_pem_base64_encode2("CERTIFICATE", &pcert[0].cert, &out), 0);
    pem = (char *)out.data;
    ck_assert_int_eq(lt_tls_fingerprint(pem, out.size, fp), 0);
    gnutls_free(out.data);
}

static void fingerprint_of(const char *name, char fp[65])
{
    char p[128], *pem;

    path(p, sizeof(p), name);
    pem = lt_slurp(p);
    ck_assert_ptr_nonnull(pem);
    ck_assert_int_eq(lt_tls_fingerprint(pem, strlen(pem), fp), 0);
    free(pem);
}

/* Loading name's pair fails, naming why; the served certificate is still want. */
static void refused(const char *cert, const char *key, const char *why, const char *want)
{
    char c[128], k[128], fp[65], *err = NULL;

    path(c, sizeof(c), cert);
    path(k, sizeof(k), key);
    ck_assert_int_ne(server_tls_load(c, k, &err), 0);
    ck_assert_msg(err != NULL && strstr(err, why) != NULL, "%s/%s: %s", cert, key,
                  err != NULL ? err : "(no message)");
    free(err);
    served(fp);
    ck_assert_str_eq(fp, want);
}

START_TEST(load_replace_refuse)
{
    char c1[128], k1[128], c2[128], k2[128], fp1[65], fp2[65], fp[65], *err = NULL;

    snprintf(dir, sizeof(dir), "/tmp/lintel-tls-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    path(c1, sizeof(c1), "c1.pem");
    path(k1, sizeof(k1), "k1.pem");
    path(c2, sizeof(c2), "c2.pem");
    path(k2, sizeof(k2), "k2.pem");
    lt_tls_pair(c1, k1);
    lt_tls_pair(c2, k2);
    fingerprint_of("c1.pem", fp1);
    fingerprint_of("c2.pem", fp2);

    /* nothing loaded: the handshake gets nothing */
    ck_assert(!server_tls_loaded());
    served(fp);
    ck_assert_str_eq(fp, "");
    refused("c1.pem", "missing.pem", "cannot read", "");

    ck_assert_int_eq(server_tls_load(c1, k1, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert(server_tls_loaded());
    served(fp);
    ck_assert_str_eq(fp, fp1);
    server_tls_fingerprint(fp);
    ck_assert_str_eq(fp, fp1);

    ck_assert_int_eq(server_tls_load(c2, k2, &err), 0);
    served(fp);
    ck_assert_str_eq(fp, fp2);

    /* bad pairs: each refused, the second pair stays */
    refused("c1.pem", "k2.pem", "do not match", fp2);
    refused("missing.pem", "k2.pem", "cannot read", fp2);
    write_text("garbage.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                              "-----END CERTIFICATE-----\n");
    refused("garbage.pem", "k2.pem", "not a usable PEM pair", fp2);
    refused("c2.pem", "garbage.pem", "not a usable PEM pair", fp2);
    write_text("empty.pem", "");
    refused("empty.pem", "k2.pem", "not a usable PEM pair", fp2);
    refused("c2.pem", "empty.pem", "not a usable PEM pair", fp2);
    /* the key where the certificate belongs */
    refused("k2.pem", "k2.pem", "not a usable PEM pair", fp2);

    server_tls_release();
    ck_assert(!server_tls_loaded());
    ck_assert_int_eq(system("rm -rf /tmp/lintel-tls-unit-*") == -1, 0);
}
END_TEST

static Suite *server_tls_suite(void)
{
    Suite *s = suite_create("server_tls");
    TCase *tc = tcase_create("server_tls");

    tcase_add_test(tc, load_replace_refuse);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(server_tls_suite)
