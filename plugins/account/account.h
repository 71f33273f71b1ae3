/*
 * The account plugin's handlers, one file per concept (audit.c, sessions.c); account.c holds
 * the route table and init.
 */
#ifndef LINTEL_PLUGINS_ACCOUNT_H
#define LINTEL_PLUGINS_ACCOUNT_H

#include <lintel/kit.h>

/* GET /api/audit (admins): the audit trail, newest first, paged, filtered by user or action. */
int account_audit_list(lintel_req *req, lintel_res *res, void *state);

/* GET /api/auth/sessions: the caller's live sessions. */
int account_sessions_list(lintel_req *req, lintel_res *res, void *state);

/* DELETE /api/auth/sessions/{id}: ends one of the caller's sessions. */
int account_session_delete(lintel_req *req, lintel_res *res, void *state);

/* DELETE /api/auth/sessions: ends every session of the caller but the current one. */
int account_sessions_delete_others(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_PLUGINS_ACCOUNT_H */
