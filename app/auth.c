/*
 * PLACEHOLDER (owner: auth). Until the token machinery lands every protected route answers
 * 401 and no token can be issued.
 */
#include "auth.h"

#include <lintel/plugin.h>

int auth_global_init(const struct config *cfg, char **err)
{
    (void)cfg;
    *err = NULL;
    return 0;
}

void auth_global_release(void)
{
}

int auth_request(const char *authorization, const char *query_token, const char *scope,
                 int admin, json_t **j_claims, long long *user_id, const char **detail)
{
    (void)authorization;
    (void)query_token;
    (void)scope;
    (void)admin;
    *j_claims = NULL;
    *user_id = 0;
    *detail = "Not authenticated";
    return LINTEL_EAUTH;
}

int auth_token_issue(const json_t *j_claims, char **token, long long *expires_in)
{
    (void)j_claims;
    *token = NULL;
    *expires_in = 0;
    return LINTEL_EINTERNAL;
}

int auth_session_end(long long user_id, const char *sid, const char *keep_sid)
{
    (void)user_id;
    (void)sid;
    (void)keep_sid;
    return LINTEL_EINTERNAL;
}

int auth_jwks(json_t **j_jwks)
{
    *j_jwks = json_pack("{s[]}", "keys");
    return *j_jwks != NULL ? 0 : LINTEL_ENOMEM;
}

int auth_bootstrap_admin(const struct config *cfg)
{
    (void)cfg;
    return 0;
}
