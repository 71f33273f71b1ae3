/*
 * Invitations for registration=invite: an admin makes a single-use code (only its SHA-256 is
 * kept, lintel_sha256_hex, for 7 days); POST /api/auth/register then needs {"invite": code}.
 */
#include "account.h"

#include <jansson.h>

/* How long an invitation code stays usable. */
#define ACCOUNT_INVITE_TTL (7 * 86400)

int account_invite_create(lintel_req *req, lintel_res *res, void *state)
{
    char *code = NULL;
    json_t *j_row = NULL;
    int rc;

    (void)state;
    rc = lintel_random_token(24, &code);
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_row,
                             "INSERT INTO account_tokens (hash, kind, created_by, expires_at)"
                             " VALUES (lintel_sha256_hex(?1), 'invite', ?2, unixepoch() + ?3)"
                             " RETURNING strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch')"
                             " AS e",
                             "sII", code, (json_int_t)lintel_req_user_id(req),
                             (json_int_t)ACCOUNT_INVITE_TTL);
    if (rc != 0)
        goto cleanup;
    rc = lintel_res_json_new(
        res, 201, json_pack("{sssO}", "code", code, "expires_at", json_object_get(j_row, "e")));
cleanup:
    lintel_free(code);
    json_decref(j_row);
    return rc;
}
