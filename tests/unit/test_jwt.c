/*
 * Unit tests of app/jwt.c and app/crypto.c: keys (generation, mode 0600, reload), signing and
 * every check of the verification pre-screen and claims, without a server.
 */
#include "crypto.h"
#include "jwt.h"

#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <rhonabwy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET "k3Jd9-2mXq7Lw0pZ8rT5vB1nC6yH4aSe"

static char tmpdir[] = "/tmp/lt_jwt_XXXXXX";

static void rm_tree(void)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static struct jwt_keys *keys_for(const char *alg, const char *secret)
{
    struct jwt_conf conf = {alg, NULL, secret, tmpdir, "lintel", "lintel-api"};
    struct jwt_keys *k = NULL;
    char *err = NULL;
    int rc = jwt_keys_new(&conf, &k, &err);

    ck_assert_msg(rc == 0, "%s: %s", alg, err != NULL ? err : "?");
    free(err);
    return k;
}

static json_t *claims_at(long long now)
{
    return json_pack("{ss ss ss sI sI sI ss ss ss ss}", "iss", "lintel", "aud", "lintel-api", "sub",
                     "42", "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                     (json_int_t)(now + 900), "jti", "jti-1", "sid", "sid-1", "role", "user",
                     "scope", "profile");
}

static char *b64(const char *text)
{
    char *out = NULL;

    ck_assert_int_eq(crypto_b64url_encode(text, strlen(text), &out), 0);
    return out;
}

/* header.payload.signature with an HMAC-SHA256/512 over the first two, or a given signature. */
static char *craft(const char *header, const json_t *j_payload, gnutls_mac_algorithm_t mac,
                   const void *key, size_t key_len, const char *sig_text)
{
    char *h = b64(header), *p_json = json_dumps(j_payload, JSON_COMPACT), *p = b64(p_json);
    char *signing = NULL, *sig = NULL, *out = NULL;
    unsigned char digest[64];

    ck_assert_int_ge(asprintf(&signing, "%s.%s", h, p), 0);
    if (sig_text != NULL) {
        sig = strdup(sig_text);
    } else {
        ck_assert_int_eq(gnutls_hmac_fast(mac, key, key_len, signing, strlen(signing), digest), 0);
        ck_assert_int_eq(crypto_b64url_encode(digest, gnutls_hmac_get_len(mac), &sig), 0);
    }
    ck_assert_int_ge(asprintf(&out, "%s.%s", signing, sig), 0);
    free(h);
    free(p_json);
    free(p);
    free(signing);
    free(sig);
    return out;
}

static const char *verify_why(struct jwt_keys *k, const char *token, long long now)
{
    json_t *j = NULL;
    const char *why = NULL;
    int rc = jwt_verify(k, token, now, &j, &why);

    if (rc == 0) {
        json_decref(j);
        return NULL;
    }
    ck_assert_int_eq(rc, LINTEL_ETOKEN);
    return why != NULL ? why : "?";
}

START_TEST(crypto_helpers)
{
    char hex[65], *tok = NULL;
    unsigned char *raw = NULL;
    size_t n = 0;

    ck_assert_int_eq(crypto_sha256_hex("abc", 3, hex), 0);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(crypto_random_token(32, &tok), 0);
    ck_assert_uint_eq(strlen(tok), 43);
    ck_assert_ptr_null(strchr(tok, '='));
    ck_assert_int_eq(crypto_b64url_decode(tok, strlen(tok), &raw, &n), 0);
    ck_assert_uint_eq(n, 32);
    free(raw);
    free(tok);
    /* strictness: padding, foreign characters, non-canonical trailing bits */
    ck_assert_int_ne(crypto_b64url_decode("YQ==", 4, &raw, &n), 0);
    ck_assert_int_ne(crypto_b64url_decode("Y+Q", 3, &raw, &n), 0);
    ck_assert_int_ne(crypto_b64url_decode("YR", 2, &raw, &n), 0); /* "YQ" is canonical */
    ck_assert_int_eq(crypto_b64url_decode("YQ", 2, &raw, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(raw[0], 'a');
    free(raw);
}
END_TEST

START_TEST(weak_secrets)
{
    ck_assert_ptr_nonnull(jwt_secret_weakness(NULL));
    ck_assert_ptr_nonnull(jwt_secret_weakness("secret"));
    ck_assert_ptr_nonnull(jwt_secret_weakness("changemechangemechangemechangeme"));
    ck_assert_ptr_nonnull(jwt_secret_weakness("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    ck_assert_ptr_nonnull(jwt_secret_weakness("0123456789abcdef0123456789abcdef"));
    ck_assert_ptr_nonnull(jwt_secret_weakness("my-super-secret-jwt-key-change-me"));
    ck_assert_ptr_nonnull(jwt_secret_weakness("your-256-bit-secret"));
    ck_assert_ptr_null(jwt_secret_weakness(SECRET));
}
END_TEST

START_TEST(alg_and_key_refusals)
{
    struct jwt_conf conf = {"none", NULL, NULL, tmpdir, "lintel", "lintel-api"};
    struct jwt_keys *k = NULL;
    char *err = NULL;

    ck_assert_int_eq(jwt_keys_new(&conf, &k, &err), LINTEL_EPARAM);
    ck_assert_ptr_nonnull(strstr(err, "jwt_alg"));
    free(err);
    conf.alg = "HS256";
    conf.secret = "short";
    ck_assert_int_eq(jwt_keys_new(&conf, &k, &err), LINTEL_EPARAM);
    ck_assert_ptr_nonnull(strstr(err, "jwt_secret"));
    free(err);
    conf.alg = "ES256";
    conf.key_file = "/nonexistent/key.pem";
    ck_assert_int_eq(jwt_keys_new(&conf, &k, &err), LINTEL_EPARAM);
    ck_assert_ptr_nonnull(strstr(err, "jwt_key_file"));
    free(err);
    ck_assert_ptr_null(k);
}
END_TEST

/* A key file is read whole up to 64 KiB: an empty one and a larger one are refused by name. */
START_TEST(key_file_size_refusals)
{
    static const size_t sizes[] = {0, 64 * 1024 + 1};
    struct jwt_conf conf = {"ES256", NULL, NULL, tmpdir, "lintel", "lintel-api"};
    struct jwt_keys *k = NULL;
    char path[512], *err = NULL;
    size_t i, j;
    FILE *f;

    snprintf(path, sizeof(path), "%s/sized.pem", tmpdir);
    conf.key_file = path;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        for (j = 0; j < sizes[i]; j++)
            ck_assert_int_eq(fputc('-', f), '-');
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(path, 0600), 0);
        ck_assert_int_eq(jwt_keys_new(&conf, &k, &err), LINTEL_EPARAM);
        ck_assert_msg(strstr(err, "is empty or larger than 64 KiB") != NULL, "%s", err);
        ck_assert_ptr_null(k);
        free(err);
        err = NULL;
    }
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

START_TEST(sign_verify_each_alg)
{
    static const char *const algs[] = {"EdDSA", "ES256", "RS256", "HS256"};
    const char *alg = algs[_i];
    struct jwt_keys *k = keys_for(alg, SECRET), *again = NULL;
    long long now = (long long)time(NULL);
    json_t *j = claims_at(now), *j_out = NULL, *j_jwks = NULL;
    char *token = NULL, path[512];
    struct stat st;

    ck_assert_int_eq(jwt_sign(k, j, &token), 0);
    ck_assert_int_eq(jwt_verify(k, token, now, &j_out, NULL), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_out, "sub")), "42");
    json_decref(j_out);
    ck_assert_int_eq(jwt_jwks(k, &j_jwks), 0);
    if (strcmp(alg, "HS256") == 0) {
        ck_assert_uint_eq(json_array_size(json_object_get(j_jwks, "keys")), 0);
    } else {
        json_t *j_key = json_array_get(json_object_get(j_jwks, "keys"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(j_key, "kid")), jwt_kid(k));
        ck_assert_str_eq(json_string_value(json_object_get(j_key, "alg")), alg);
        ck_assert_ptr_null(json_object_get(j_key, "d")); /* never the private part */
        snprintf(path, sizeof(path), "%s/jwt-%s.pem", tmpdir, alg);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        /* a restart loads the same key */
        again = keys_for(alg, SECRET);
        ck_assert_str_eq(jwt_kid(again), jwt_kid(k));
        ck_assert_int_eq(jwt_verify(again, token, now, &j_out, NULL), 0);
        json_decref(j_out);
        jwt_keys_free(again);
        /* a key anyone may read is refused */
        chmod(path, 0644);
        {
            struct jwt_conf conf = {alg, NULL, NULL, tmpdir, "lintel", "lintel-api"};
            char *err = NULL;
            ck_assert_int_eq(jwt_keys_new(&conf, &again, &err), LINTEL_EPARAM);
            free(err);
        }
        chmod(path, 0600);
    }
    json_decref(j_jwks);
    free(token);
    json_decref(j);
    jwt_keys_free(k);
}
END_TEST

START_TEST(tampering)
{
    struct jwt_keys *k = keys_for("EdDSA", NULL);
    long long now = (long long)time(NULL);
    json_t *j = claims_at(now);
    char *token = NULL, *copy, *dot;
    size_t len;

    ck_assert_int_eq(jwt_sign(k, j, &token), 0);
    len = strlen(token);
    dot = strrchr(token, '.');
    /* flipped signature character (middle of the segment) */
    copy = strdup(token);
    copy[(size_t)(dot - token) + 10] = copy[(size_t)(dot - token) + 10] == 'A' ? 'B' : 'A';
    ck_assert_ptr_nonnull(verify_why(k, copy, now));
    free(copy);
    /* truncated, empty signature */
    copy = strndup(token, len - 4);
    ck_assert_ptr_nonnull(verify_why(k, copy, now));
    free(copy);
    copy = strndup(token, (size_t)(dot - token) + 1);
    ck_assert_ptr_nonnull(verify_why(k, copy, now));
    free(copy);
    /* trailing garbage, too long, empty */
    ck_assert_int_ge(asprintf(&copy, "%s.", token), 0);
    ck_assert_ptr_nonnull(verify_why(k, copy, now));
    free(copy);
    copy = malloc(JWT_MAX_LEN + 2);
    memset(copy, 'A', JWT_MAX_LEN + 1);
    copy[JWT_MAX_LEN + 1] = '\0';
    ck_assert_ptr_nonnull(verify_why(k, copy, now));
    free(copy);
    ck_assert_ptr_nonnull(verify_why(k, "", now));
    ck_assert_ptr_nonnull(verify_why(k, "a.b.c", now));
    free(token);
    json_decref(j);
    jwt_keys_free(k);
}
END_TEST

START_TEST(header_prescreen)
{
    struct jwt_keys *k = keys_for("HS256", SECRET), *ed = keys_for("EdDSA", NULL);
    long long now = (long long)time(NULL);
    json_t *j = claims_at(now);
    char *t, hdr[512];
    static const char *const nones[] = {"none", "None", "NONE", "nOnE"};
    size_t i;

    /* a hand-made token with the right header verifies: the crafting is sound */
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"hs256\"}", j, GNUTLS_MAC_SHA256,
              SECRET, strlen(SECRET), NULL);
    ck_assert_ptr_null(verify_why(k, t, now));
    free(t);
    for (i = 0; i < 4; i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"at+jwt\"}", nones[i]);
        t = craft(hdr, j, GNUTLS_MAC_SHA256, NULL, 0, "");
        ck_assert_ptr_nonnull(verify_why(k, t, now));
        free(t);
        t = craft(hdr, j, GNUTLS_MAC_SHA256, NULL, 0, "c2ln");
        ck_assert_ptr_nonnull(verify_why(k, t, now));
        free(t);
    }
    t = craft("{\"alg\":\"HS512\",\"typ\":\"at+jwt\"}", j, GNUTLS_MAC_SHA512, SECRET,
              strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "alg is not the configured algorithm");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", j, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET),
              NULL);
    ck_assert_str_eq(verify_why(k, t, now), "typ is not at+jwt");
    free(t);
    t = craft("{\"alg\":\"HS256\"}", j, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "typ missing");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"../../etc/passwd\"}", j,
              GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "kid is not our key");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"jku\":\"http://127.0.0.1:1/k\"}", j,
              GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "header names a key or a key URL");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"zip\":\"DEF\"}", j, GNUTLS_MAC_SHA256,
              SECRET, strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "compressed payload");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}", j, GNUTLS_MAC_SHA256,
              SECRET, strlen(SECRET), NULL);
    ck_assert_str_eq(verify_why(k, t, now), "crit header");
    free(t);
    t = craft("{\"alg\":\"HS256\",\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", j, GNUTLS_MAC_SHA256,
              SECRET, strlen(SECRET), NULL);
    ck_assert_ptr_nonnull(verify_why(k, t, now));
    free(t);
    /* wrong secret */
    t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", j, GNUTLS_MAC_SHA256,
              "another-secret-of-32-bytes-xyz!!", 32, NULL);
    ck_assert_str_eq(verify_why(k, t, now), "bad signature");
    free(t);
    /* HS256 signed with the EdDSA public key (as its JWKS JSON text) against an EdDSA server */
    {
        json_t *j_jwks = NULL;
        char *pub = NULL;
        ck_assert_int_eq(jwt_jwks(ed, &j_jwks), 0);
        pub = json_dumps(json_array_get(json_object_get(j_jwks, "keys"), 0), JSON_COMPACT);
        t = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", j, GNUTLS_MAC_SHA256, pub, strlen(pub),
                  NULL);
        ck_assert_str_eq(verify_why(ed, t, now), "alg is not the configured algorithm");
        free(t);
        free(pub);
        json_decref(j_jwks);
    }
    json_decref(j);
    jwt_keys_free(k);
    jwt_keys_free(ed);
}
END_TEST

START_TEST(claims)
{
    struct jwt_keys *k = keys_for("HS256", SECRET);
    long long now = (long long)time(NULL);
    json_t *j = claims_at(now);
    char *t;
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}";

#define CHECK_CLAIMS(expect_ok)                                                                    \
    do {                                                                                           \
        t = craft(h, j, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);                          \
        if (expect_ok)                                                                             \
            ck_assert_ptr_null(verify_why(k, t, now));                                             \
        else                                                                                       \
            ck_assert_ptr_nonnull(verify_why(k, t, now));                                          \
        free(t);                                                                                   \
    } while (0)

    /* exp within the leeway passes, beyond it fails */
    json_object_set_new(j, "exp", json_integer(now - JWT_LEEWAY + 1));
    CHECK_CLAIMS(1);
    json_object_set_new(j, "exp", json_integer(now - JWT_LEEWAY - 1));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "exp", json_string("9999999999"));
    CHECK_CLAIMS(0);
    json_object_del(j, "exp");
    CHECK_CLAIMS(0);
    json_object_set_new(j, "exp", json_integer(now + 900));
    json_object_set_new(j, "nbf", json_integer(now + JWT_LEEWAY + 5));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "nbf", json_integer(now + JWT_LEEWAY - 5));
    CHECK_CLAIMS(1);
    json_object_set_new(j, "nbf", json_integer(now));
    json_object_set_new(j, "iat", json_integer(now + 3600));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "iat", json_integer(now));
    json_object_set_new(j, "iss", json_string("someone-else"));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "iss", json_string("lintel"));
    json_object_set_new(j, "aud", json_pack("[s]", "lintel-api"));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "aud", json_string("other-api"));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "aud", json_string("lintel-api"));
    json_object_set_new(j, "sub", json_integer(42));
    CHECK_CLAIMS(0);
    json_object_set_new(j, "sub", json_string(""));
    CHECK_CLAIMS(0);
    /* sub is what a client reads (a profile puts the username there); the session decides
     * the user, so any sane string passes */
    json_object_set_new(j, "sub", json_string("admin"));
    CHECK_CLAIMS(1);
    json_object_set_new(j, "sub", json_string("42"));
    json_object_del(j, "sid");
    CHECK_CLAIMS(0);
    json_object_set_new(j, "sid", json_string("s"));
    CHECK_CLAIMS(1);
#undef CHECK_CLAIMS
    json_decref(j);
    jwt_keys_free(k);
}
END_TEST

static Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crypto_helpers);
    tcase_add_test(tc, weak_secrets);
    tcase_add_test(tc, alg_and_key_refusals);
    tcase_add_test(tc, key_file_size_refusals);
    tcase_add_loop_test(tc, sign_verify_each_alg, 0, 4);
    tcase_add_test(tc, tampering);
    tcase_add_test(tc, header_prescreen);
    tcase_add_test(tc, claims);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (mkdtemp(tmpdir) == NULL)
        return 1;
    gnutls_global_init();
    r_global_init();
    sr = srunner_create(jwt_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    r_global_close();
    gnutls_global_deinit();
    rm_tree();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
