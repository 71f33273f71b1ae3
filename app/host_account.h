/*
 * Accounts as host services (ABI 2.1): the password login shared by the auth plugin and the
 * compatibility profiles.
 */
#ifndef LINTEL_APP_HOST_ACCOUNT_H
#define LINTEL_APP_HOST_ACCOUNT_H

#include <jansson.h>
#include <lintel/plugin.h>

/* api->login (see include/lintel/plugin.h). */
int host_account_login(lintel_req *req, const struct lintel_login *in, json_t **j_out);

/* api->session_start and api->user_create (see include/lintel/plugin.h). */
int host_account_session_start(lintel_req *req, long long user_id, const struct lintel_login *in,
                               json_t **j_out);
int host_account_user_create(lintel_req *req, const struct lintel_user_new *in, json_t **j_user);

/* api->user_delete (see include/lintel/plugin.h). */
int host_account_user_delete(lintel_req *req, long long user_id);

/* Frees the cached dummy hash (at stop). */
void host_account_release(void);

#endif /* LINTEL_APP_HOST_ACCOUNT_H */
