/*
 * Access-token signing keys and JWT sign/verify on top of rhonabwy 1.1.11, with the pre-screen
 * and claim checks that version lacks (see docs/auth.md "rhonabwy workarounds").
 */
#ifndef LINTEL_APP_JWT_H
#define LINTEL_APP_JWT_H

#include <jansson.h>

/* Tokens longer than this are refused before any parsing. */
#define JWT_MAX_LEN 8192
/* Clock skew tolerated on exp, nbf and iat, in seconds. */
#define JWT_LEEWAY 30
/* The JOSE typ of our access tokens (RFC 9068). */
#define JWT_TYP "at+jwt"

struct jwt_conf {
    const char *alg;      /* "EdDSA", "ES256", "RS256" or "HS256" */
    const char *key_file; /* PEM private key, or NULL for data_dir/jwt-<alg>.pem (created) */
    const char *secret;   /* HS256 only */
    const char *data_dir; /* where a generated key is kept */
    const char *issuer;   /* iss to sign and to require */
    const char *audience; /* aud to sign and to require (a string, never an array) */
};

struct jwt_keys; /* immutable once made: shared by every thread */

/*
 * Loads (or, without key_file, creates on first use with mode 0600) the signing key for
 * conf->alg; HS256 refuses short or well-known secrets. On error returns LINTEL_EPARAM (or
 * another code) and *err (malloc'd) says what is wrong.
 */
int jwt_keys_new(const struct jwt_conf *conf, struct jwt_keys **out, char **err);
void jwt_keys_free(struct jwt_keys *keys);

/* The same from a PEM private key held in memory (the key ring); no file is touched. */
int jwt_keys_from_pem(const struct jwt_conf *conf, const char *pem, size_t len,
                      struct jwt_keys **out, char **err);

/*
 * The PEM of the key file for an asymmetric conf->alg (malloc'd, *len bytes): conf->key_file,
 * else data_dir/jwt-<alg>.pem. *pem is NULL without error when there is no such default file,
 * or for HS256. The same mode checks as jwt_keys_new.
 */
int jwt_key_file_read(const struct jwt_conf *conf, char **pem, size_t *len, char **err);

/* A new private key for an asymmetric alg as PKCS#8 PEM (malloc'd, NUL-terminated). */
int jwt_pem_generate(const char *alg, char **pem, size_t *len, char **err);

/*
 * The kid of an untrusted token's header, copied into buf ("" when the header has none).
 * -1 when the header cannot be decoded or the kid does not fit; nothing is verified.
 */
int jwt_token_kid(const char *token, char *buf, size_t size);

/* The key id put into every header and the JWK Set (borrowed). */
const char *jwt_kid(const struct jwt_keys *keys);

/* The configured algorithm name ("EdDSA", ...), issuer and audience; borrowed. */
const char *jwt_alg(const struct jwt_keys *keys);
const char *jwt_issuer(const struct jwt_keys *keys);
const char *jwt_audience(const struct jwt_keys *keys);

/*
 * Signs j_claims (borrowed, complete: the caller sets iss, aud, iat, nbf, exp, jti, ...) with
 * header {alg, typ: at+jwt, kid}. *token: malloc'd.
 */
int jwt_sign(struct jwt_keys *keys, const json_t *j_claims, char **token);

/*
 * Verifies an untrusted token at time now: length cap, strict base64url, header pre-screen
 * (only alg = the configured one, typ = at+jwt, kid = ours; jwk/jku/x5u/x5c/zip/crit and any
 * other header refused; duplicate keys refused), rhonabwy parse without remote keys, pinned
 * alg, signature with our key (HS256: HMAC compared in constant time here), then claims: exp,
 * nbf, iat with JWT_LEEWAY, iss, aud (string), sub (positive integer as a string), sid, jti,
 * scope. On success *j_claims is a new reference to the payload. LINTEL_ETOKEN otherwise,
 * with *why (static text, may be NULL) naming the check that failed.
 */
int jwt_verify(struct jwt_keys *keys, const char *token, long long now, json_t **j_claims,
               const char **why);

/* {"keys":[public JWK]} (new reference); keys is empty for HS256. */
int jwt_jwks(const struct jwt_keys *keys, json_t **j_jwks);

/* NULL when secret is acceptable for HS256, else why not (static text). */
const char *jwt_secret_weakness(const char *secret);

#endif /* LINTEL_APP_JWT_H */
