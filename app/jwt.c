/*
 * Access-token keys, signing and verification. rhonabwy 1.1.11 signs and checks asymmetric
 * signatures; everything an attacker controls is screened here first (docs/auth.md).
 */
#include "jwt.h"

#include "crypto.h"
#include "file_read.h"
#include "fmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <rhonabwy.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JWT_KEY_FILE_MAX (64 * 1024)
#define JWT_SECRET_MIN   32

struct jwt_keys {
    jwa_alg jwa;
    char alg[8];
    char *issuer;
    char *audience;
    char *kid;
    jwk_t *privkey;        /* signing: used under sign_lock only */
    jwk_t *pubkey;         /* verification: copied per use, never handed out */
    unsigned char *secret; /* HS256 */
    size_t secret_len;
    pthread_mutex_t sign_lock; /* rhonabwy may touch the key's JSON while signing */
};

static const struct {
    const char *name;
    jwa_alg jwa;
    int key_type; /* R_KEY_TYPE_* a private key must have */
    const char *crv;
    unsigned min_bits;
    unsigned gen_bits;
} jwt_algs[] = {
    {"EdDSA", R_JWA_ALG_EDDSA, R_KEY_TYPE_EDDSA, "Ed25519", 0, 256},
    {"ES256", R_JWA_ALG_ES256, R_KEY_TYPE_EC, "P-256", 0, 256},
    {"RS256", R_JWA_ALG_RS256, R_KEY_TYPE_RSA, NULL, 2048, 2048},
    {"HS256", R_JWA_ALG_HS256, R_KEY_TYPE_HMAC, NULL, 0, 0},
};

static int jwt_err(char **err, int rc, const char *fmt, ...) LINTEL_PRINTF(3, 4);

static int jwt_err(char **err, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    *err = fmt_valloc(fmt, ap);
    va_end(ap);
    return rc;
}

const char *jwt_secret_weakness(const char *secret)
{
    /* Words that make up the secrets of tutorials and sample configs. */
    static const char *const words[] = {"secret",  "changeme", "change", "password", "passwd",
                                        "example", "default",  "token",  "lintel",   "jwt",
                                        "key",     "test",     "your",   "my",       "super",
                                        "sample",  "please",   "admin",  "256",      "bit"};
    char lower[512];
    size_t len, i, p, w, kept = 0, distinct = 0;
    int seen[256] = {0};

    if (secret == NULL)
        return "is not set";
    len = strlen(secret);
    if (len < JWT_SECRET_MIN)
        return "is shorter than 32 bytes";
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (!seen[c]++)
            distinct++;
    }
    if (distinct < 8)
        return "uses fewer than 8 distinct characters";
    /* One short unit repeated ("changemechangeme...", "0123456789abcdef0123...") */
    for (p = 1; p <= len / 2; p++) {
        for (i = p; i < len && secret[i] == secret[i - p]; i++)
            ;
        if (i == len)
            return "is a short pattern repeated";
    }
    /* What is left once the well-known words and separators are dropped must still be long. */
    if (len < sizeof(lower)) {
        for (i = 0; i < len; i++)
            lower[i] = (char)tolower((unsigned char)secret[i]);
        lower[len] = '\0';
        i = 0;
        while (i < len) {
            for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
                size_t wl = strlen(words[w]);
                if (strncmp(lower + i, words[w], wl) == 0) {
                    i += wl;
                    break;
                }
            }
            if (w < sizeof(words) / sizeof(words[0]))
                continue;
            if (isalnum((unsigned char)lower[i]))
                kept++;
            i++;
        }
        if (kept < 16)
            return "is made of well-known words";
    }
    return NULL;
}

static int jwt_read_file(const char *path, unsigned char **data, size_t *len, char **err)
{
    char *buf = NULL;
    int rc = file_read_max(path, JWT_KEY_FILE_MAX, &buf, len);

    *data = NULL;
    if (rc == LINTEL_ENOTFOUND || rc == LINTEL_EINTERNAL)
        return jwt_err(err, LINTEL_EPARAM, "jwt_key_file: cannot %s '%s': %s",
                       rc == LINTEL_ENOTFOUND ? "open" : "read", path, strerror(errno));
    if (rc == LINTEL_ETOOLARGE || (rc == 0 && *len == 0)) {
        free(buf);
        return jwt_err(err, LINTEL_EPARAM, "jwt_key_file: '%s' is empty or larger than 64 KiB",
                       path);
    }
    *data = (unsigned char *)buf;
    return rc;
}

/* Writes a new key file that nobody else may read; never replaces an existing one. */
static int jwt_write_key(const char *path, const unsigned char *pem, size_t len, char **err)
{
    int fd, rc = LINTEL_EPARAM;
    ssize_t w;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return jwt_err(err, LINTEL_EPARAM, "jwt key: cannot create '%s': %s", path,
                       strerror(errno));
    /* 0600 exactly, whatever the umask took away (a 0400 key could not be rewritten). */
    if (fchmod(fd, 0600) != 0) {
        rc = jwt_err(err, LINTEL_EPARAM, "jwt key: cannot chmod '%s': %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return rc;
    }
    w = write(fd, pem, len);
    if (w < 0 || (size_t)w != len || fsync(fd) != 0) {
        rc = jwt_err(err, LINTEL_EPARAM, "jwt key: cannot write '%s': %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return rc;
    }
    if (close(fd) != 0)
        return jwt_err(err, LINTEL_EPARAM, "jwt key: cannot write '%s'", path);
    return 0;
}

/*
 * Makes a new key with gnutls as PKCS#8 PEM: rhonabwy 1.1.11 exports Ed25519 keys as
 * "BEGIN UNKNOWN" PEM that nothing (itself included) can read back. *pem: malloc'd, NUL-ended.
 */
static int jwt_generate_pem(unsigned idx, unsigned char **pem, size_t *pem_len, char **err)
{
    gnutls_x509_privkey_t xkey = NULL;
    gnutls_datum_t out = {NULL, 0};
    gnutls_pk_algorithm_t pk;
    unsigned bits;
    int rc = LINTEL_EINTERNAL;

    *pem = NULL;
    if (jwt_algs[idx].jwa == R_JWA_ALG_EDDSA) {
        pk = GNUTLS_PK_EDDSA_ED25519;
        bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
    } else if (jwt_algs[idx].jwa == R_JWA_ALG_ES256) {
        pk = GNUTLS_PK_ECDSA;
        bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
    } else {
        pk = GNUTLS_PK_RSA;
        bits = jwt_algs[idx].gen_bits;
    }
    if (gnutls_x509_privkey_init(&xkey) != 0 ||
        gnutls_x509_privkey_generate(xkey, pk, bits, 0) != 0 ||
        gnutls_x509_privkey_export2_pkcs8(xkey, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                          &out) != 0) {
        rc =
            jwt_err(err, LINTEL_EINTERNAL, "jwt key: cannot generate a %s key", jwt_algs[idx].name);
        goto cleanup;
    }
    *pem = malloc(out.size + 1);
    if (*pem == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    memcpy(*pem, out.data, out.size);
    (*pem)[out.size] = '\0';
    *pem_len = out.size;
    rc = 0;
cleanup:
    if (out.data != NULL) {
        gnutls_memset(out.data, 0, out.size);
        gnutls_free(out.data);
    }
    if (xkey != NULL)
        gnutls_x509_privkey_deinit(xkey);
    return rc;
}

/* Makes a new key and keeps it in a new file at path. */
static int jwt_generate(unsigned idx, const char *path, unsigned char **pem, size_t *pem_len,
                        char **err)
{
    int rc = jwt_generate_pem(idx, pem, pem_len, err);

    if (rc == 0)
        rc = jwt_write_key(path, *pem, *pem_len, err);
    if (rc != 0 && *pem != NULL) {
        gnutls_memset(*pem, 0, *pem_len);
        free(*pem);
        *pem = NULL;
    }
    return rc;
}

static int jwt_alg_index(const char *alg, unsigned *idx)
{
    for (*idx = 0; *idx < sizeof(jwt_algs) / sizeof(jwt_algs[0]); (*idx)++)
        if (alg != NULL && strcmp(alg, jwt_algs[*idx].name) == 0)
            return 0;
    return -1;
}

/* The key file in force: conf->key_file, else data_dir/jwt-<alg>.pem. *path: malloc'd. */
static int jwt_key_path(const struct jwt_conf *conf, unsigned idx, char **path)
{
    if (conf->key_file != NULL && conf->key_file[0] != '\0') {
        *path = strdup(conf->key_file);
    } else {
        const char *d = conf->data_dir != NULL ? conf->data_dir : ".";
        if (asprintf(path, "%s/jwt-%s.pem", d, jwt_algs[idx].name) < 0)
            *path = NULL;
    }
    return *path != NULL ? 0 : LINTEL_ENOMEM;
}

/* Refuses a key file others may read: a private key must stay private. */
static int jwt_check_mode(const struct jwt_conf *conf, const char *path, const struct stat *st,
                          char **err)
{
    if ((st->st_mode & 0077) != 0 && conf->key_file == NULL)
        return jwt_err(err, LINTEL_EPARAM,
                       "jwt key: '%s' may be read by others (mode %04o): chmod 600 it", path,
                       (unsigned)(st->st_mode & 07777));
    if ((st->st_mode & 0007) != 0)
        return jwt_err(err, LINTEL_EPARAM,
                       "jwt_key_file: '%s' is readable by every user (mode %04o)", path,
                       (unsigned)(st->st_mode & 07777));
    return 0;
}

/* Imports a PEM private key of algorithm idx into k (private and public halves). */
static int jwt_import(struct jwt_keys *k, unsigned idx, const unsigned char *pem, size_t pem_len,
                      const char *label, char **err)
{
    unsigned int bits = 0;
    int type;
    const char *crv;

    if (r_jwk_import_from_pem_der(k->privkey, R_X509_TYPE_PRIVKEY, R_FORMAT_PEM, pem, pem_len) !=
        RHN_OK)
        return jwt_err(err, LINTEL_EPARAM, "%s is not a PEM private key", label);
    type = r_jwk_key_type(k->privkey, &bits, R_FLAG_IGNORE_REMOTE);
    crv = r_jwk_get_property_str(k->privkey, "crv");
    if (!(type & R_KEY_TYPE_PRIVATE) || !(type & jwt_algs[idx].key_type) ||
        (jwt_algs[idx].crv != NULL && (crv == NULL || strcmp(crv, jwt_algs[idx].crv) != 0)) ||
        bits < jwt_algs[idx].min_bits)
        return jwt_err(err, LINTEL_EPARAM, "%s is not a %s%s%s private key%s", label,
                       jwt_algs[idx].crv != NULL ? jwt_algs[idx].crv : "",
                       jwt_algs[idx].crv != NULL ? " " : "", jwt_algs[idx].name,
                       jwt_algs[idx].min_bits > 0 ? " of 2048 bits or more" : "");
    if (r_jwk_extract_pubkey(k->privkey, k->pubkey, R_FLAG_IGNORE_REMOTE) != RHN_OK)
        return jwt_err(err, LINTEL_EINTERNAL, "jwt key: cannot derive the public key of %s", label);
    return 0;
}

static int jwt_load_private(struct jwt_keys *k, unsigned idx, const struct jwt_conf *conf,
                            char **err)
{
    char *path = NULL, *label = NULL;
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    struct stat st;
    int rc = LINTEL_EPARAM;

    rc = jwt_key_path(conf, idx, &path);
    if (rc != 0)
        goto cleanup;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || conf->key_file != NULL) {
            rc = jwt_err(err, LINTEL_EPARAM, "jwt_key_file: cannot read '%s': %s", path,
                         strerror(errno));
            goto cleanup;
        }
        if (conf->data_dir != NULL)
            mkdir(conf->data_dir, 0700); /* normally made by the storage layer already */
        rc = jwt_generate(idx, path, &pem, &pem_len, err);
        if (rc != 0)
            goto cleanup;
    } else {
        rc = jwt_check_mode(conf, path, &st, err);
        if (rc == 0)
            rc = jwt_read_file(path, &pem, &pem_len, err);
        if (rc != 0)
            goto cleanup;
    }
    if (asprintf(&label, "jwt_key_file: '%s'", path) < 0) {
        label = NULL;
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = jwt_import(k, idx, pem, pem_len, label, err);
cleanup:
    if (pem != NULL)
        gnutls_memset(pem, 0, pem_len);
    free(pem);
    free(path);
    free(label);
    return rc;
}

int jwt_key_file_read(const struct jwt_conf *conf, char **pem, size_t *len, char **err)
{
    char *path = NULL;
    unsigned char *data = NULL;
    struct stat st;
    unsigned idx;
    int rc;

    *pem = NULL;
    *len = 0;
    *err = NULL;
    if (jwt_alg_index(conf->alg, &idx) != 0 || jwt_algs[idx].jwa == R_JWA_ALG_HS256)
        return 0;
    rc = jwt_key_path(conf, idx, &path);
    if (rc != 0)
        goto cleanup;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || conf->key_file != NULL)
            rc = jwt_err(err, LINTEL_EPARAM, "jwt_key_file: cannot read '%s': %s", path,
                         strerror(errno));
        goto cleanup; /* no legacy key file: nothing to import */
    }
    rc = jwt_check_mode(conf, path, &st, err);
    if (rc == 0)
        rc = jwt_read_file(path, &data, len, err);
    if (rc == 0) {
        *pem = (char *)data;
        data = NULL;
    }
cleanup:
    free(data);
    free(path);
    return rc;
}

int jwt_pem_generate(const char *alg, char **pem, size_t *len, char **err)
{
    unsigned idx;
    unsigned char *data = NULL;
    int rc;

    *pem = NULL;
    *err = NULL;
    if (jwt_alg_index(alg, &idx) != 0 || jwt_algs[idx].jwa == R_JWA_ALG_HS256)
        return jwt_err(err, LINTEL_EPARAM, "jwt_alg: '%s' has no key pair to generate",
                       alg != NULL ? alg : "");
    rc = jwt_generate_pem(idx, &data, len, err);
    *pem = (char *)data;
    return rc;
}

/*
 * The keys of conf->alg: HS256 from conf->secret; the others from pem (the key ring) when it is
 * not NULL, else from the key file (created when missing).
 */
static int jwt_keys_make(const struct jwt_conf *conf, const char *pem, size_t pem_len,
                         struct jwt_keys **out, char **err)
{
    struct jwt_keys *k = NULL;
    char *thumb = NULL;
    const char *weak;
    unsigned idx;
    int rc = LINTEL_EPARAM;

    *out = NULL;
    *err = NULL;
    if (jwt_alg_index(conf->alg, &idx) != 0)
        return jwt_err(err, LINTEL_EPARAM,
                       "jwt_alg: '%s' is not supported (EdDSA, ES256, RS256 or HS256)",
                       conf->alg != NULL ? conf->alg : "");
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return LINTEL_ENOMEM;
    pthread_mutex_init(&k->sign_lock, NULL);
    k->jwa = jwt_algs[idx].jwa;
    snprintf(k->alg, sizeof(k->alg), "%s", jwt_algs[idx].name);
    k->issuer = strdup(conf->issuer != NULL ? conf->issuer : "lintel");
    k->audience = strdup(conf->audience != NULL ? conf->audience : "lintel-api");
    if (k->issuer == NULL || k->audience == NULL || r_jwk_init(&k->privkey) != RHN_OK ||
        r_jwk_init(&k->pubkey) != RHN_OK) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (k->jwa == R_JWA_ALG_HS256) {
        weak = jwt_secret_weakness(conf->secret);
        if (weak != NULL) {
            rc = jwt_err(err, LINTEL_EPARAM, "jwt_secret: refused for HS256: it %s", weak);
            goto cleanup;
        }
        k->secret_len = strlen(conf->secret);
        k->secret = malloc(k->secret_len);
        if (k->secret == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        memcpy(k->secret, conf->secret, k->secret_len);
        if (r_jwk_import_from_symmetric_key(k->privkey, k->secret, k->secret_len) != RHN_OK) {
            rc = jwt_err(err, LINTEL_EINTERNAL, "jwt_secret: cannot make an HMAC key");
            goto cleanup;
        }
        /* A thumbprint would publish a hash of the secret: a fixed id says enough. */
        k->kid = strdup("hs256");
    } else {
        if (pem != NULL)
            rc = jwt_import(k, idx, (const unsigned char *)pem, pem_len, "key ring: a key", err);
        else
            rc = jwt_load_private(k, idx, conf, err);
        if (rc != 0)
            goto cleanup;
        thumb = r_jwk_thumbprint(k->pubkey, R_JWK_THUMB_SHA256, R_FLAG_IGNORE_REMOTE);
        k->kid = thumb != NULL ? strdup(thumb) : NULL;
        if (k->kid == NULL || r_jwk_set_property_str(k->pubkey, "kid", k->kid) != RHN_OK ||
            r_jwk_set_property_str(k->pubkey, "alg", k->alg) != RHN_OK ||
            r_jwk_set_property_str(k->pubkey, "use", "sig") != RHN_OK) {
            rc = jwt_err(err, LINTEL_EINTERNAL, "jwt key: cannot compute the key id");
            goto cleanup;
        }
    }
    if (k->kid == NULL || r_jwk_set_property_str(k->privkey, "kid", k->kid) != RHN_OK) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    *out = k;
    k = NULL;
    rc = 0;
cleanup:
    r_free(thumb);
    jwt_keys_free(k);
    return rc;
}

int jwt_keys_new(const struct jwt_conf *conf, struct jwt_keys **out, char **err)
{
    return jwt_keys_make(conf, NULL, 0, out, err);
}

int jwt_keys_from_pem(const struct jwt_conf *conf, const char *pem, size_t len,
                      struct jwt_keys **out, char **err)
{
    return jwt_keys_make(conf, pem, len, out, err);
}

void jwt_keys_free(struct jwt_keys *k)
{
    if (k == NULL)
        return;
    r_jwk_free(k->privkey);
    r_jwk_free(k->pubkey);
    if (k->secret != NULL)
        gnutls_memset(k->secret, 0, k->secret_len);
    free(k->secret);
    free(k->issuer);
    free(k->audience);
    free(k->kid);
    pthread_mutex_destroy(&k->sign_lock);
    free(k);
}

const char *jwt_kid(const struct jwt_keys *k)
{
    return k->kid;
}

const char *jwt_alg(const struct jwt_keys *k)
{
    return k->alg;
}

const char *jwt_issuer(const struct jwt_keys *k)
{
    return k->issuer;
}

const char *jwt_audience(const struct jwt_keys *k)
{
    return k->audience;
}

int jwt_sign(struct jwt_keys *k, const json_t *j_claims, char **token)
{
    jwt_t *jwt = NULL;
    char *signed_token = NULL;
    int rc = LINTEL_EINTERNAL;

    *token = NULL;
    if (r_jwt_init(&jwt) != RHN_OK) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    /* rhonabwy keeps a deep copy of the claims: the cast only drops its missing const */
    if (r_jwt_set_header_str_value(jwt, "typ", JWT_TYP) != RHN_OK ||
        r_jwt_set_header_str_value(jwt, "kid", k->kid) != RHN_OK ||
        r_jwt_set_sign_alg(jwt, k->jwa) != RHN_OK ||
        r_jwt_set_full_claims_json_t(jwt, (json_t *)j_claims) != RHN_OK)
        goto cleanup;
    pthread_mutex_lock(&k->sign_lock);
    signed_token = r_jwt_serialize_signed(jwt, k->privkey, 0);
    pthread_mutex_unlock(&k->sign_lock);
    if (signed_token == NULL)
        goto cleanup;
    *token = strdup(signed_token);
    rc = *token != NULL ? 0 : LINTEL_ENOMEM;
cleanup:
    r_free(signed_token);
    r_jwt_free(jwt);
    return rc;
}

/* Decodes one base64url segment of the token into a JSON object, refusing duplicate keys. */
static json_t *jwt_segment_json(const char *text, size_t len)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    json_t *j = NULL;

    if (len == 0 || crypto_b64url_decode(text, len, &raw, &raw_len) != 0)
        return NULL;
    j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static const char *jwt_check_header(const struct jwt_keys *k, const json_t *j_header)
{
    const char *key;
    json_t *j_value;

    json_object_foreach((json_t *)j_header, key, j_value) {
        if (strcmp(key, "alg") == 0) {
            if (!json_is_string(j_value) || strcmp(json_string_value(j_value), k->alg) != 0)
                return "alg is not the configured algorithm";
        } else if (strcmp(key, "typ") == 0) {
            if (!json_is_string(j_value) || strcmp(json_string_value(j_value), JWT_TYP) != 0)
                return "typ is not at+jwt";
        } else if (strcmp(key, "kid") == 0) {
            if (!json_is_string(j_value) || strcmp(json_string_value(j_value), k->kid) != 0)
                return "kid is not our key";
        } else if (strcmp(key, "jwk") == 0 || strcmp(key, "jku") == 0 || strcmp(key, "x5u") == 0 ||
                   strcmp(key, "x5c") == 0) {
            return "header names a key or a key URL";
        } else if (strcmp(key, "zip") == 0) {
            return "compressed payload";
        } else if (strcmp(key, "crit") == 0) {
            return "crit header";
        } else {
            return "unexpected header parameter";
        }
    }
    if (json_object_get(j_header, "alg") == NULL)
        return "alg missing";
    if (json_object_get(j_header, "typ") == NULL)
        return "typ missing";
    return NULL;
}

static int jwt_time_claim(const json_t *j_claims, const char *name, long long *out)
{
    json_t *j = json_object_get(j_claims, name);

    if (!json_is_integer(j))
        return -1;
    *out = (long long)json_integer_value(j);
    return 0;
}

static int jwt_id_claim(const json_t *j_claims, const char *name, size_t max)
{
    const char *s = json_string_value(json_object_get(j_claims, name));
    size_t len;

    if (s == NULL)
        return -1;
    len = strlen(s);
    return len >= 1 && len <= max ? 0 : -1;
}

static const char *jwt_check_claims(const struct jwt_keys *k, const json_t *j_claims, long long now)
{
    long long exp, nbf, iat;
    const char *sub, *aud, *iss;

    if (jwt_time_claim(j_claims, "exp", &exp) != 0 || jwt_time_claim(j_claims, "nbf", &nbf) != 0 ||
        jwt_time_claim(j_claims, "iat", &iat) != 0)
        return "exp, nbf or iat missing or not an integer";
    if (now > exp + JWT_LEEWAY)
        return "expired";
    if (nbf > now + JWT_LEEWAY)
        return "not yet valid";
    if (iat > now + JWT_LEEWAY)
        return "issued in the future";
    iss = json_string_value(json_object_get(j_claims, "iss"));
    if (iss == NULL || strcmp(iss, k->issuer) != 0)
        return "wrong issuer";
    aud = json_string_value(json_object_get(j_claims, "aud"));
    if (aud == NULL || strcmp(aud, k->audience) != 0)
        return "wrong audience";
    /* sub is what the client reads (a user id, or a profile's username); the host finds the
     * user through sid, so sub only has to be a sane string. */
    sub = json_string_value(json_object_get(j_claims, "sub"));
    if (sub == NULL || sub[0] == '\0' || strlen(sub) > 256)
        return "sub missing";
    if (jwt_id_claim(j_claims, "sid", 128) != 0 || jwt_id_claim(j_claims, "jti", 128) != 0)
        return "sid or jti missing";
    if (!json_is_string(json_object_get(j_claims, "scope")))
        return "scope missing";
    return NULL;
}

static int jwt_hmac_ok(const struct jwt_keys *k, const char *token, size_t signed_len,
                       const unsigned char *sig, size_t sig_len)
{
    unsigned char mac[32];

    if (sig_len != sizeof(mac))
        return 0;
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->secret, k->secret_len, token, signed_len, mac) != 0)
        return 0;
    /* constant time, unlike rhonabwy 1.1.11 (CVE-2024-25714) */
    return gnutls_memcmp(mac, sig, sizeof(mac)) == 0;
}

int jwt_verify(struct jwt_keys *k, const char *token, long long now, json_t **j_claims,
               const char **why)
{
    const char *dot1, *dot2, *reason = "malformed";
    size_t len;
    json_t *j_header = NULL, *j_payload = NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    jwt_t *jwt = NULL;
    jwk_t *pub = NULL;
    int rc = LINTEL_ETOKEN;

    *j_claims = NULL;
    if (token == NULL)
        goto cleanup;
    len = strnlen(token, JWT_MAX_LEN + 1);
    if (len == 0 || len > JWT_MAX_LEN) {
        reason = "empty or longer than 8 KiB";
        goto cleanup;
    }
    dot1 = strchr(token, '.');
    dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL) {
        reason = "not three segments";
        goto cleanup;
    }
    j_header = jwt_segment_json(token, (size_t)(dot1 - token));
    if (j_header == NULL) {
        reason = "header is not canonical base64url JSON without duplicate keys";
        goto cleanup;
    }
    reason = jwt_check_header(k, j_header);
    if (reason != NULL)
        goto cleanup;
    j_payload = jwt_segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (j_payload == NULL) {
        reason = "payload is not canonical base64url JSON without duplicate keys";
        goto cleanup;
    }
    if (dot2[1] == '\0' || crypto_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &sig_len) != 0 ||
        sig_len == 0) {
        reason = "signature empty or not canonical base64url";
        goto cleanup;
    }
    /* Only now does rhonabwy see it: no embedded keys, no remote fetches, no unsigned. */
    if (r_jwt_init(&jwt) != RHN_OK) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (r_jwt_advanced_parsen(jwt, token, len, R_PARSE_NONE, R_FLAG_IGNORE_REMOTE) != RHN_OK) {
        reason = "rhonabwy refused to parse it";
        goto cleanup;
    }
    if (r_jwt_get_sign_alg(jwt) != k->jwa) {
        reason = "alg is not the configured algorithm";
        goto cleanup;
    }
    if (k->jwa == R_JWA_ALG_HS256) {
        if (!jwt_hmac_ok(k, token, (size_t)(dot2 - token), sig, sig_len)) {
            reason = "bad signature";
            goto cleanup;
        }
    } else {
        pub = r_jwk_copy(k->pubkey);
        if (pub == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        if (r_jwt_verify_signature(jwt, pub, R_FLAG_IGNORE_REMOTE) != RHN_OK) {
            reason = "bad signature";
            goto cleanup;
        }
    }
    reason = jwt_check_claims(k, j_payload, now);
    if (reason != NULL)
        goto cleanup;
    *j_claims = j_payload;
    j_payload = NULL;
    rc = 0;
cleanup:
    if (why != NULL)
        *why = reason;
    r_jwk_free(pub);
    r_jwt_free(jwt);
    free(sig);
    json_decref(j_header);
    json_decref(j_payload);
    return rc;
}

int jwt_token_kid(const char *token, char *buf, size_t size)
{
    const char *dot;
    json_t *j_header = NULL;
    const char *kid;
    size_t len;
    int rc = -1;

    buf[0] = '\0';
    len = token != NULL ? strnlen(token, JWT_MAX_LEN + 1) : 0;
    dot = len > 0 && len <= JWT_MAX_LEN ? memchr(token, '.', len) : NULL;
    if (dot == NULL)
        return -1;
    j_header = jwt_segment_json(token, (size_t)(dot - token));
    if (j_header == NULL)
        goto cleanup;
    kid = json_string_value(json_object_get(j_header, "kid"));
    if (kid != NULL && strlen(kid) >= size)
        goto cleanup;
    if (kid != NULL)
        memcpy(buf, kid, strlen(kid) + 1);
    rc = 0;
cleanup:
    json_decref(j_header);
    return rc;
}

int jwt_jwks(const struct jwt_keys *k, json_t **j_jwks)
{
    json_t *j_key = NULL;

    *j_jwks = json_pack("{s[]}", "keys");
    if (*j_jwks == NULL)
        return LINTEL_ENOMEM;
    if (k->jwa == R_JWA_ALG_HS256)
        return 0;
    j_key = r_jwk_export_to_json_t(k->pubkey);
    if (j_key == NULL || json_array_append_new(json_object_get(*j_jwks, "keys"), j_key) != 0) {
        json_decref(*j_jwks);
        *j_jwks = NULL;
        return LINTEL_ENOMEM;
    }
    return 0;
}
