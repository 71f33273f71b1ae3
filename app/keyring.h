/*
 * The signing-key ring kept in the database (signing_keys): which key signs new access tokens,
 * which keys still verify, rotation, and the published JWK Set.
 */
#ifndef LINTEL_APP_KEYRING_H
#define LINTEL_APP_KEYRING_H

#include <jansson.h>

struct config;

/* Seconds between two looks at the table by a running server (a rotation shows within this). */
#define KEYRING_RECHECK 5

/*
 * Loads the ring for cfg->jwt_alg through this thread's database connection. On first start
 * after an upgrade the key file of the previous releases (data_dir/jwt-<alg>.pem) is imported
 * so its tokens keep verifying; a jwt_key_file whose key the ring does not hold yet becomes the
 * current key; without any key one is generated. HS256 uses jwt_secret and no ring.
 * *err (malloc'd) says what is wrong.
 */
int keyring_init(const struct config *cfg, char **err);
void keyring_release(void);

/* Signs complete claims (borrowed) with the current key; *token malloc'd. */
int keyring_sign(const json_t *j_claims, char **token);

/* jwt_verify with the ring's key named by the token's kid (see jwt.h); *why static text. */
int keyring_verify(const char *token, long long now, json_t **j_claims, const char **why);

/*
 * A number that changes whenever the ring changes (rotation, a key's window closing): a cache
 * of verified tokens keyed on it never outlives the key that verified them.
 */
unsigned long keyring_generation(void);

/* {"keys":[...]}: the public half of every key that signs or still verifies (new reference). */
int keyring_jwks(json_t **j_jwks);

/* The configured issuer and audience (borrowed; set by keyring_init). */
const char *keyring_issuer(void);
const char *keyring_audience(void);
const char *keyring_alg(void);

/*
 * Makes a new current key for cfg->jwt_alg and retires the current one (it verifies for
 * access_ttl more); drops keys retired more than a day before that. Works on the database
 * only: running servers see the new key within KEYRING_RECHECK seconds. *kid malloc'd.
 */
int keyring_rotate(const struct config *cfg, char **kid, char **err);

#endif /* LINTEL_APP_KEYRING_H */
