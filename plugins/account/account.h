/*
 * The account plugin's handlers, one file per concept (audit.c, sessions.c); account.c holds
 * the route table and init.
 */
#ifndef LINTEL_PLUGINS_ACCOUNT_H
#define LINTEL_PLUGINS_ACCOUNT_H

#include <lintel/kit.h>

/* The settings the handlers act on, read once at init (the host validated them). */
struct account {
    const char *smtp_url; /* NULL: no mail, the mail routes answer 503 */
    long long password_min, password_cost;
    long long forgot_max_email, forgot_max_ip;
};

/* GET /api/audit (admins): the audit trail, newest first, paged, filtered by user or action. */
int account_audit_list(lintel_req *req, lintel_res *res, void *state);

/* GET /api/auth/sessions: the caller's live sessions. */
int account_sessions_list(lintel_req *req, lintel_res *res, void *state);

/* DELETE /api/auth/sessions/{id}: ends one of the caller's sessions. */
int account_session_delete(lintel_req *req, lintel_res *res, void *state);

/* DELETE /api/auth/sessions: ends every session of the caller but the current one. */
int account_sessions_delete_others(lintel_req *req, lintel_res *res, void *state);

/* POST /api/auth/password/forgot {email}: always 202; a reset mail when the address is known. */
int account_forgot(lintel_req *req, lintel_res *res, void *state);

/* POST /api/auth/password/reset {token, password}: new password, every session ended. */
int account_reset(lintel_req *req, lintel_res *res, void *state);

/* POST /api/auth/email/verify {token}: marks the address the mail went to as verified. */
int account_verify(lintel_req *req, lintel_res *res, void *state);

/* POST /api/auth/email/verify/send: a new verification mail for the caller's address. */
int account_verify_send(lintel_req *req, lintel_res *res, void *state);

/* POST /api/auth/invites (admins): a single-use invitation code for registration=invite. */
int account_invite_create(lintel_req *req, lintel_res *res, void *state);

/*
 * The 503 of the mail routes without smtp_url, saying how to configure it; 0 when mail works.
 */
int account_need_mail(const struct account *a, lintel_res *res);

/* A string member of the body of 1..max characters, else the 422 recorded for it. */
int account_body_str(lintel_res *res, const json_t *j_body, const char *name, size_t max,
                     const char **out);

#endif /* LINTEL_PLUGINS_ACCOUNT_H */
