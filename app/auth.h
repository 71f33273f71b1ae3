/*
 * Token machinery held by the host: signing keys, access-token issue and verification,
 * sessions, and the per-request authentication check that runs before protected handlers.
 */
#ifndef LINTEL_APP_AUTH_H
#define LINTEL_APP_AUTH_H

#include <jansson.h>

struct config;

/* Loads or creates the signing key (refusing weak HS256 secrets); *err names the problem. */
int auth_global_init(const struct config *cfg, char **err);
void auth_global_release(void);

/* Verified tokens in the cache now (at most AUTH_CACHE_SLOTS, whatever the traffic). */
size_t auth_cache_entries(void);

/*
 * Why the last auth_request of this thread refused, as one word: "missing" (no token),
 * "invalid" (malformed, bad signature, expired), "revoked" (its session ended or its jti was
 * revoked), "scope", "role", "unavailable"; NULL after a success. Static text.
 */
const char *auth_reason(void);

/*
 * Authenticates a request for a protected route. authorization: the Authorization header or
 * NULL; query_token: ?access_token= or NULL (WebSocket only). scope: needed scope or NULL;
 * admin: nonzero when the route needs role admin. On success *j_claims is a new reference to
 * the verified claims (role from the database) and *user_id is set. Errors:
 * LINTEL_EAUTH ("Not authenticated"), LINTEL_ETOKEN ("Invalid or expired token"),
 * LINTEL_EFORBIDDEN (*detail names the missing scope or role), LINTEL_EUNAVAIL (database);
 * *detail is static text.
 */
int auth_request(const char *authorization, const char *query_token, const char *scope, int admin,
                 json_t **j_claims, long long *user_id, const char **detail);

/*
 * The one rule of a live token (AUTH_STATE_SQL): session sid not ended, its user not deleted,
 * jti not revoked. 0 with *user_id and *role (malloc'd) as they are now; LINTEL_ENOTFOUND when
 * the token no longer counts; another code when the database could not say.
 */
struct db;
int auth_session_state(struct db *db, const char *sid, const char *jti, long long *user_id,
                       char **role);

/* Whether the space-separated scope holds word (1) or not (0; also for NULL). */
int auth_scope_has(const char *scope, const char *word);

/*
 * Signs an access token (see lintel_api.token_issue). j_claims needs sub, sid, role and scope;
 * its other members are signed too, except the registered ones the host sets (iss, aud, iat,
 * nbf, exp, jti). ttl: lifetime in seconds, 0 for the server's access_ttl. *token: malloc'd.
 */
int auth_token_issue(const json_t *j_claims, long long ttl, char **token, long long *expires_in);

/* Ends sessions (see lintel_api.session_end) through the given connection's thread. */
int auth_session_end(long long user_id, const char *sid, const char *keep_sid);

/* The JWK Set of the public verification keys (new reference; empty keys[] for HS256). */
int auth_jwks(json_t **j_jwks);

/* Creates the first admin when no user exists yet (api.md "First start"). */
int auth_bootstrap_admin(const struct config *cfg);

#endif /* LINTEL_APP_AUTH_H */
