/*
 * Registration modes (open, closed, invite) and the per-address throttle. The tables
 * (account_tokens, registrations) are core (sql/core/0023); a code is found by its SHA-256.
 */
#include "gate.h"

#include <stdio.h>
#include <string.h>

int authp_gate_init(struct authp_gate *g, lintel_plugin *p)
{
    int rc;

    rc = lintel_setting_str(p, "registration", &g->registration);
    if (rc == 0)
        rc = lintel_setting_int(p, "register_max_ip", &g->register_max_ip);
    return rc;
}

int authp_gate_register(struct authp_gate *g, lintel_req *req, lintel_res *res,
                        const json_t *j_body, const char **invite)
{
    const char *addr = lintel_req_client_addr(req), *code;
    json_t *j_row = NULL, *j_code = json_object_get(j_body, "invite");
    char retry[32];
    long long wait, changes = 0;
    int rc = 0;

    *invite = NULL;
    if (g->registration != NULL && strcmp(g->registration, "closed") == 0)
        return lintel_res_error(res, LINTEL_EFORBIDDEN, NULL,
                                "Registration is closed on this server");
    if (g->register_max_ip > 0) {
        rc = lintel_sql_rowf(req, &j_row,
                             "SELECT count(*) AS n, min(at) + 3600 - unixepoch() AS wait"
                             " FROM registrations WHERE addr = ?1 AND at > unixepoch() - 3600",
                             "s", addr != NULL ? addr : "");
        if (rc == 0 && json_integer_value(json_object_get(j_row, "n")) >= g->register_max_ip) {
            wait = (long long)json_integer_value(json_object_get(j_row, "wait"));
            snprintf(retry, sizeof(retry), "%lld", wait < 1 ? 1 : wait);
            rc = lintel_res_header(res, "Retry-After", retry);
            if (rc == 0)
                rc = lintel_res_error(res, LINTEL_ERATELIMIT, NULL,
                                      "Too many registrations from this address; try again in"
                                      " %s seconds",
                                      retry);
        }
        json_decref(j_row);
        j_row = NULL;
        if (rc != 0)
            return rc;
    }
    if (g->registration == NULL || strcmp(g->registration, "invite") != 0)
        return 0;
    code = json_string_value(j_code);
    if (code == NULL || code[0] == '\0' || strlen(code) > 128)
        return lintel_res_error(res, LINTEL_EFORBIDDEN, "invite",
                                "Registration needs an invitation code (invite)");
    rc = lintel_sql_execf(req, &changes,
                          "UPDATE account_tokens SET used_at = unixepoch()"
                          " WHERE hash = lintel_sha256_hex(?1) AND kind = 'invite'"
                          " AND used_at IS NULL AND expires_at > unixepoch()",
                          "s", code);
    if (rc == 0 && changes == 0)
        rc = lintel_res_error(res, LINTEL_EFORBIDDEN, "invite",
                              "The invitation code is unknown, used or expired");
    if (rc == 0)
        *invite = code;
    return rc;
}

void authp_gate_registered(struct authp_gate *g, lintel_req *req, const char *invite,
                           long long user_id)
{
    const char *addr = lintel_req_client_addr(req);

    if (invite != NULL && user_id > 0)
        lintel_sql_execf(
            req, NULL, "UPDATE account_tokens SET user_id = ?2 WHERE hash = lintel_sha256_hex(?1)",
            "sI", invite, (json_int_t)user_id);
    else if (invite != NULL)
        lintel_sql_execf(
            req, NULL,
            "UPDATE account_tokens SET used_at = NULL WHERE hash = lintel_sha256_hex(?1)", "s",
            invite);
    if (user_id > 0 && g->register_max_ip > 0)
        lintel_sql_execf(req, NULL, "INSERT INTO registrations (addr) VALUES (?1)", "s",
                         addr != NULL ? addr : "");
}
