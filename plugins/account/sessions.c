/*
 * The caller's own sessions: list them (where and when each logged in, when it was last used,
 * which one is this request's) and end one or all the others. Ending a session kills its
 * access tokens and refresh family at the next request (app/auth.c looks sessions up).
 */
#include "account.h"

#include <jansson.h>
#include <string.h>

/*
 * A live session: not ended and still able to refresh (an unused refresh token that has not
 * expired). A session whose refresh tokens all expired is dead even before the cleanup ends it.
 */
#define ACCOUNT_LIVE                                                                               \
    "s.user_id = ?1 AND s.ended_at IS NULL AND EXISTS (SELECT 1 FROM refresh_tokens r"             \
    " WHERE r.session_id = s.id AND r.used_at IS NULL AND r.expires_at > unixepoch())"

#define ACCOUNT_ISO(col) "strftime('%Y-%m-%dT%H:%M:%SZ', " col ", 'unixepoch')"

static const char *account_sid(lintel_req *req)
{
    return json_string_value(json_object_get(lintel_req_claims(req), "sid"));
}

int account_sessions_list(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_params = NULL, *j_rows = NULL, *j_total = NULL;
    long long limit, offset;
    int rc;

    (void)state;
    rc = lintel_req_page(req, &limit, &offset);
    if (rc != 0)
        return rc;
    j_params = json_pack("[IsII]", (json_int_t)lintel_req_user_id(req), account_sid(req),
                         (json_int_t)limit, (json_int_t)offset);
    if (j_params == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_sql_query(
        req,
        "SELECT s.id AS id, " ACCOUNT_ISO("s.created_at") " AS created_at, " ACCOUNT_ISO(
            "coalesce(s.last_used_at, s.created_at)") " AS last_used_at,"
                                                      " s.client_addr AS client_addr, s.user_agent "
                                                      "AS user_agent,"
                                                      " s.id = ?2 AS \"current:bool\", s.scope AS "
                                                      "scope"
                                                      " FROM sessions s WHERE " ACCOUNT_LIVE
                                                      " ORDER BY s.id = ?2 DESC, "
                                                      "coalesce(s.last_used_at, s.created_at) DESC"
                                                      " LIMIT ?3 OFFSET ?4",
        j_params, &j_rows);
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_total,
                             "SELECT count(*) AS n FROM sessions s WHERE " ACCOUNT_LIVE, "I",
                             (json_int_t)lintel_req_user_id(req));
    if (rc == 0)
        rc = lintel_res_list(res, j_rows, json_integer_value(json_object_get(j_total, "n")), limit,
                             offset);
    json_decref(j_params);
    json_decref(j_rows);
    json_decref(j_total);
    return rc;
}

int account_session_delete(lintel_req *req, lintel_res *res, void *state)
{
    const char *id = lintel_req_param(req, "id");
    long long changes = 0;
    int rc;

    (void)state;
    if (id == NULL || strlen(id) > 128)
        return lintel_not_found(res, LINTEL_ENOTFOUND, "Session");
    rc = lintel_sql_execf(req, &changes,
                          "UPDATE sessions SET ended_at = unixepoch(), end_reason = 'revoked'"
                          " WHERE id = ?2 AND user_id = ?1 AND ended_at IS NULL",
                          "Is", (json_int_t)lintel_req_user_id(req), id);
    if (rc == 0)
        rc = lintel_changed(res, changes, "Session");
    if (rc == 0)
        rc = lintel_res_empty(res, 204);
    return rc;
}

int account_sessions_delete_others(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_out = NULL;
    long long changes = 0;
    int rc;

    (void)state;
    rc = lintel_sql_execf(req, &changes,
                          "UPDATE sessions SET ended_at = unixepoch(), end_reason = 'revoked'"
                          " WHERE user_id = ?1 AND id <> ?2 AND ended_at IS NULL",
                          "Is", (json_int_t)lintel_req_user_id(req), account_sid(req));
    if (rc != 0)
        return rc;
    j_out = json_pack("{sI}", "ended", (json_int_t)changes);
    if (j_out == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_res_json(res, 200, j_out);
    json_decref(j_out);
    return rc;
}
