/*
 * GET /api/audit: the audit_events table (sql/core/0021) for admins, newest first, with the
 * host's list conventions (limit/offset, {items,total,limit,offset}).
 */
#include "account.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

int account_audit_list(lintel_req *req, lintel_res *res, void *state)
{
    const char *user_text = lintel_req_query(req, "user_id");
    const char *action = lintel_req_query(req, "action");
    json_t *j_params = NULL, *j_filter = NULL, *j_rows = NULL, *j_total = NULL, *j_user = NULL;
    long long limit, offset, user_id = 0;
    char *end = NULL;
    int rc;

    (void)state;
    rc = lintel_req_page(req, &limit, &offset);
    if (rc != 0)
        goto cleanup;
    if (user_text != NULL) {
        /* the host checked the declared type and minimum; this only converts */
        errno = 0;
        user_id = strtoll(user_text, &end, 10);
        if (errno != 0 || end == user_text || *end != '\0' || user_id < 1) {
            rc = lintel_res_invalid(res, "user_id", "must be a positive integer");
            goto cleanup;
        }
        j_user = json_integer((json_int_t)user_id);
    }
    j_params = json_pack("[O?s?II]", j_user, action, (json_int_t)limit, (json_int_t)offset);
    j_filter = json_pack("[O?s?]", j_user, action);
    if (j_params == NULL || j_filter == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = lintel_sql_query(req,
                          "SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at,"
                          " action, user_id, actor_id, addr, subject, old_value, new_value"
                          " FROM audit_events"
                          " WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR action = ?2)"
                          " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
                          j_params, &j_rows);
    if (rc == 0)
        rc = lintel_sql_row(req,
                            "SELECT count(*) AS n FROM audit_events"
                            " WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR action = ?2)",
                            j_filter, &j_total);
    if (rc == 0)
        rc = lintel_res_list(res, j_rows, json_integer_value(json_object_get(j_total, "n")), limit,
                             offset);
cleanup:
    json_decref(j_user);
    json_decref(j_params);
    json_decref(j_filter);
    json_decref(j_rows);
    json_decref(j_total);
    return rc;
}
