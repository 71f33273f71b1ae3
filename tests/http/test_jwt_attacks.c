/*
 * RFC 8725 attacks against the running server: a private HS256 server whose secret the test
 * knows (so it can forge well-signed tokens with one thing wrong), and the shared EdDSA one.
 */
#include "lt_test.h"

#include <arpa/inet.h>
#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PW     "correct-horse-1"
#define SECRET "Qm9z-7YtR2wLx8Vn1Kp5Jd3Hs6Fg0Ze4Tb"
#define HS256H "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"hs256\"}"

static struct lt_server hs;
static int hs_started;

/* base64url without padding, through gnutls' base64 and the RFC 4648 §5 alphabet swap. */
static char *b64url(const void *data, size_t len)
{
    gnutls_datum_t in = {(unsigned char *)data, (unsigned)len}, out = {NULL, 0};
    char *s;
    size_t i, n = 0;

    ck_assert_int_eq(gnutls_base64_encode2(&in, &out), 0);
    s = malloc(out.size + 1);
    for (i = 0; i < out.size; i++) {
        char c = (char)out.data[i];
        if (c == '=' || c == '\n' || c == '\r')
            continue;
        s[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    s[n] = '\0';
    gnutls_free(out.data);
    return s;
}

static json_t *b64url_json(const char *seg, size_t len)
{
    char *std = malloc(len + 4);
    gnutls_datum_t in, out = {NULL, 0};
    json_t *j;
    size_t i;

    for (i = 0; i < len; i++)
        std[i] = seg[i] == '-' ? '+' : seg[i] == '_' ? '/' : seg[i];
    while (i % 4 != 0)
        std[i++] = '=';
    in.data = (unsigned char *)std;
    in.size = (unsigned)i;
    ck_assert_int_eq(gnutls_base64_decode2(&in, &out), 0);
    j = json_loadb((const char *)out.data, out.size, 0, NULL);
    gnutls_free(out.data);
    free(std);
    return j;
}

/* The claims of a real token (new reference). */
static json_t *claims_of(const char *token)
{
    const char *d1 = strchr(token, '.'), *d2 = strchr(d1 + 1, '.');

    return b64url_json(d1 + 1, (size_t)(d2 - d1 - 1));
}

/* header.payload.signature: HMAC with mac/key, or sig_text verbatim when not NULL. */
static char *forge(const char *header, const char *payload, gnutls_mac_algorithm_t mac,
                   const void *key, size_t key_len, const char *sig_text)
{
    char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
    char *signing = NULL, *sig, *out = NULL;
    unsigned char digest[64];

    ck_assert_int_ge(asprintf(&signing, "%s.%s", h, p), 0);
    if (sig_text != NULL) {
        sig = strdup(sig_text);
    } else {
        ck_assert_int_eq(gnutls_hmac_fast(mac, key, key_len, signing, strlen(signing), digest), 0);
        sig = b64url(digest, gnutls_hmac_get_len(mac));
    }
    ck_assert_int_ge(asprintf(&out, "%s.%s", signing, sig), 0);
    free(h);
    free(p);
    free(signing);
    free(sig);
    return out;
}

static char *forge_claims(const char *header, const json_t *j_claims)
{
    char *payload = json_dumps(j_claims, JSON_COMPACT);
    char *t = forge(header, payload, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);

    free(payload);
    return t;
}

static long me_status(const char *base, const char *token)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_json(base, "GET", "/api/users/me", token, NULL, &r), 0);
    status = r.status;
    if (status == 401)
        ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")),
                         "Invalid or expired token");
    lt_resp_clear(&r);
    return status;
}

/* A user on the HS256 server: its real token and those claims, to forge from. */
static void hs_user(char **token, json_t **j_claims)
{
    long long id;

    ck_assert_int_eq(lt_register(hs.url, "atk", PW, token, &id, NULL), 0);
    *j_claims = claims_of(*token);
    ck_assert_ptr_nonnull(*j_claims);
}

static void hs_setup(void)
{
    static const char *const env[] = {"LINTEL_JWT_ALG=HS256", "LINTEL_JWT_SECRET=" SECRET,
                                      "LINTEL_LOGIN_MAX_IP=1000000", "LINTEL_PASSWORD_COST=3",
                                      NULL};

    ck_assert_int_eq(lt_server_start(&hs, env, NULL), 0);
    hs_started = 1;
}

static void hs_teardown(void)
{
    if (hs_started)
        lt_server_stop(&hs);
    hs_started = 0;
}

START_TEST(forged_control_is_accepted)
{
    char *token = NULL, *t;
    json_t *j;

    /* the forging is sound: a correct forged token passes, so every refusal below is real */
    hs_user(&token, &j);
    json_object_set_new(j, "jti", json_string("forged-ok"));
    t = forge_claims(HS256H, j);
    ck_assert_int_eq(me_status(hs.url, t), 200);
    free(t);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(alg_none_and_other_algs)
{
    static const char *const nones[] = {"none", "None", "NONE", "nOnE"};
    char *token = NULL, *t, *payload, hdr[256];
    json_t *j;
    size_t i;

    hs_user(&token, &j);
    payload = json_dumps(j, JSON_COMPACT);
    for (i = 0; i < 4; i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"at+jwt\"}", nones[i]);
        t = forge(hdr, payload, GNUTLS_MAC_SHA256, NULL, 0, "");
        ck_assert_int_eq(me_status(hs.url, t), 401);
        free(t);
        t = forge(hdr, payload, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);
        ck_assert_int_eq(me_status(hs.url, t), 401);
        free(t);
    }
    /* HS512 and HS384 with the very same secret */
    t = forge("{\"alg\":\"HS512\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA512, SECRET,
              strlen(SECRET), NULL);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    t = forge("{\"alg\":\"HS384\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA384, SECRET,
              strlen(SECRET), NULL);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    free(payload);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(signature_tampering)
{
    char *token = NULL, *t, *dot;
    json_t *j;
    size_t len;

    hs_user(&token, &j);
    ck_assert_int_eq(me_status(hs.url, token), 200);
    len = strlen(token);
    dot = strrchr(token, '.');
    t = strdup(token);
    t[(size_t)(dot - token) + 5] = t[(size_t)(dot - token) + 5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    t = strndup(token, len - 3);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    t = strndup(token, (size_t)(dot - token) + 1);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    t = strndup(token, (size_t)(dot - token));
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    /* the payload changed under a valid signature */
    {
        json_t *j2 = json_deep_copy(j);
        char *p2, *bad;
        json_object_set_new(j2, "scope", json_string("users:admin"));
        p2 = json_dumps(j2, JSON_COMPACT);
        bad = forge(HS256H, p2, GNUTLS_MAC_SHA256, NULL, 0, dot + 1);
        ck_assert_int_eq(me_status(hs.url, bad), 401);
        free(bad);
        free(p2);
        json_decref(j2);
    }
    /* over 8 KiB */
    t = calloc(1, 9000);
    memset(t, 'A', 8999);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(time_and_audience_claims)
{
    char *token = NULL, *t;
    json_t *j, *j2;
    long long now = (long long)time(NULL);

    hs_user(&token, &j);
#define TRY(key, value, expect)                                                                    \
    do {                                                                                           \
        j2 = json_deep_copy(j);                                                                    \
        json_object_set_new(j2, key, value);                                                       \
        t = forge_claims(HS256H, j2);                                                              \
        ck_assert_int_eq(me_status(hs.url, t), expect);                                            \
        free(t);                                                                                   \
        json_decref(j2);                                                                           \
    } while (0)
    TRY("exp", json_integer(now - 300), 401);   /* expired beyond the 30 s leeway */
    TRY("exp", json_integer(now - 5), 200);     /* inside the leeway */
    TRY("nbf", json_integer(now + 300), 401);   /* not yet valid */
    TRY("iat", json_integer(now + 300), 401);   /* issued in the future */
    TRY("exp", json_string("9999999999"), 401); /* wrong type */
    TRY("iss", json_string("evil"), 401);
    TRY("aud", json_string("other-api"), 401);
    TRY("aud", json_pack("[s]", "lintel-api"), 401); /* arrays refused */
    TRY("sid", json_string("made-up-session"), 401);
    TRY("sub", json_integer(1), 401);
#undef TRY
    {
        /* sub names another user (the admin, id 1): the session still decides whose token it
         * is, so it opens this user's account, never the admin's */
        struct lt_resp r;

        j2 = json_deep_copy(j);
        json_object_set_new(j2, "sub", json_string("1"));
        t = forge_claims(HS256H, j2);
        ck_assert_int_eq(lt_json(hs.url, "GET", "/api/users/me", t, NULL, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")),
                         atoll(json_string_value(json_object_get(j, "sub"))));
        ck_assert_str_ne(json_string_value(json_object_get(r.j_body, "role")), "admin");
        lt_resp_clear(&r);
        free(t);
        json_decref(j2);
    }
    json_object_del(j, "exp");
    t = forge_claims(HS256H, j);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(header_attacks)
{
    static const char *const headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"../../../../etc/passwd\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"/dev/null\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"zip\":\"DEF\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x5c\":[\"MIIB\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x5u\":\"http://127.0.0.1:1/c.pem\"}",
        /* duplicate keys: last-wins parsers would see a valid HS256 header */
        "{\"alg\":\"none\",\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"typ\":\"at+jwt\"}",
    };
    char *token = NULL, *t;
    json_t *j;
    size_t i;

    hs_user(&token, &j);
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        t = forge_claims(headers[i], j);
        ck_assert_msg(me_status(hs.url, t) == 401, "header accepted: %s", headers[i]);
        free(t);
    }
    /* duplicate claims in the payload */
    {
        char *payload = NULL, *body = json_dumps(j, JSON_COMPACT);
        body[strlen(body) - 1] = '\0';
        ck_assert_int_ge(asprintf(&payload, "%s,\"sub\":\"1\"}", body), 0);
        t = forge(HS256H, payload, GNUTLS_MAC_SHA256, SECRET, strlen(SECRET), NULL);
        ck_assert_int_eq(me_status(hs.url, t), 401);
        free(t);
        free(payload);
        free(body);
    }
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(jku_is_never_fetched)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof(addr);
    struct pollfd pfd;
    char *token = NULL, *t, hdr[256];
    json_t *j;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    hs_user(&token, &j);
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"jku\":\"http://127.0.0.1:%d/jwks.json\"}",
             ntohs(addr.sin_port));
    t = forge_claims(hdr, j);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x5u\":\"http://127.0.0.1:%d/cert.pem\"}",
             ntohs(addr.sin_port));
    t = forge_claims(hdr, j);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    /* the reply came after verification: nobody knocked on the listener */
    pfd.fd = fd;
    pfd.events = POLLIN;
    ck_assert_int_eq(poll(&pfd, 1, 200), 0);
    close(fd);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(revoked_tokens)
{
    char *a = NULL, *old = NULL, *name = NULL;
    long long id;
    json_t *j;
    char *t;
    struct lt_resp r;

    /* a token from before a password change */
    ck_assert_int_eq(lt_register(hs.url, "rev", PW, &a, &id, &name), 0);
    ck_assert_int_eq(lt_login(hs.url, name, PW, NULL, &old, NULL), 0);
    ck_assert_int_eq(me_status(hs.url, old), 200);
    ck_assert_int_eq(lt_json(hs.url, "PATCH", "/api/users/me", a,
                             "{\"password\":\"another-pass-9\",\"current_password\":\"" PW "\"}",
                             &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(me_status(hs.url, old), 401);
    /* a deleted user's token, even re-forged with a fresh jti and exp */
    j = claims_of(a);
    ck_assert_int_eq(lt_json(hs.url, "DELETE", "/api/users/me", a, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(me_status(hs.url, a), 401);
    json_object_set_new(j, "jti", json_string("fresh-jti"));
    json_object_set_new(j, "exp", json_integer((long long)time(NULL) + 600));
    t = forge_claims(HS256H, j);
    ck_assert_int_eq(me_status(hs.url, t), 401);
    free(t);
    json_decref(j);
    free(a);
    free(old);
    free(name);
}
END_TEST

START_TEST(eddsa_server_key_confusion)
{
    const char *url = lt_shared_url();
    char *token = NULL, *t, *payload, *pub;
    json_t *j, *j_key;
    struct lt_resp r;
    long long id;

    ck_assert_ptr_nonnull(url);
    ck_assert_int_eq(lt_register(url, "conf", PW, &token, &id, NULL), 0);
    j = claims_of(token);
    payload = json_dumps(j, JSON_COMPACT);
    ck_assert_int_eq(lt_json(url, "GET", "/api/auth/jwks", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    j_key = json_array_get(json_object_get(r.j_body, "keys"), 0);
    ck_assert_ptr_nonnull(j_key);
    /* HS256 keyed with the public key: as JWK text, and as the raw x */
    pub = json_dumps(j_key, JSON_COMPACT);
    t = forge("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA256, pub,
              strlen(pub), NULL);
    ck_assert_int_eq(me_status(url, t), 401);
    free(t);
    free(pub);
    pub = (char *)json_string_value(json_object_get(j_key, "x"));
    t = forge("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA256, pub,
              strlen(pub), NULL);
    ck_assert_int_eq(me_status(url, t), 401);
    free(t);
    lt_resp_clear(&r);
    /* alg none and an EdDSA header with an empty signature */
    t = forge("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA256, NULL, 0, "");
    ck_assert_int_eq(me_status(url, t), 401);
    free(t);
    t = forge("{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}", payload, GNUTLS_MAC_SHA256, NULL, 0, "");
    ck_assert_int_eq(me_status(url, t), 401);
    free(t);
    ck_assert_int_eq(me_status(url, token), 200);
    free(payload);
    free(token);
    json_decref(j);
}
END_TEST

START_TEST(hs256_jwks_is_empty)
{
    struct lt_resp r;

    ck_assert_int_eq(lt_json(hs.url, "GET", "/api/auth/jwks", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "keys")), 0);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(weak_secret_refused_at_start)
{
    static const char *const env[] = {"LINTEL_JWT_ALG=HS256",
                                      "LINTEL_JWT_SECRET=changemechangemechangemechangeme", NULL};
    char dir[] = "/tmp/lt_weak_XXXXXX", *out = NULL;
    int status;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    status = lt_run(dir, env, NULL, &out);
    ck_assert_int_ne(status, 0);
    ck_assert_ptr_nonnull(strcasestr(out, "jwt_secret"));
    free(out);
    out = NULL;
    {
        static const char *const short_env[] = {"LINTEL_JWT_ALG=HS256", "LINTEL_JWT_SECRET=secret",
                                                NULL};
        status = lt_run(dir, short_env, NULL, &out);
        ck_assert_int_ne(status, 0);
        ck_assert_ptr_nonnull(strcasestr(out, "jwt_secret"));
    }
    free(out);
    {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

static Suite *attacks_suite(void)
{
    Suite *s = suite_create("jwt_attacks");
    TCase *tc = tcase_create("hs256");
    TCase *ed = tcase_create("eddsa");

    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, hs_setup, hs_teardown);
    tcase_add_test(tc, forged_control_is_accepted);
    tcase_add_test(tc, alg_none_and_other_algs);
    tcase_add_test(tc, signature_tampering);
    tcase_add_test(tc, time_and_audience_claims);
    tcase_add_test(tc, header_attacks);
    tcase_add_test(tc, jku_is_never_fetched);
    tcase_add_test(tc, revoked_tokens);
    tcase_add_test(tc, hs256_jwks_is_empty);
    suite_add_tcase(s, tc);
    tcase_set_timeout(ed, 120);
    tcase_add_test(ed, eddsa_server_key_confusion);
    tcase_add_test(ed, weak_secret_refused_at_start);
    suite_add_tcase(s, ed);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    gnutls_global_init();
    sr = srunner_create(attacks_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    gnutls_global_deinit();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
