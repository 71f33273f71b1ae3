/*
 * Accounts as host services (ABI 1.1): the password login shared by the auth plugin and the
 * compatibility profiles.
 */
#ifndef LINTEL_APP_HOST_ACCOUNT_H
#define LINTEL_APP_HOST_ACCOUNT_H

#include <jansson.h>
#include <lintel/plugin.h>

/* api->login (see include/lintel/plugin.h). */
int host_account_login(lintel_req *req, const struct lintel_login *in, json_t **j_out);

/* Frees the cached dummy hash (at stop). */
void host_account_release(void);

#endif /* LINTEL_APP_HOST_ACCOUNT_H */
