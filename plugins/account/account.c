/*
 * The account plugin: a user's own sessions (list, end one, end the others) and, for admins,
 * the audit trail. Its tables are core (sql/core 0021, 0022): triggers write the audit rows.
 */
#include "account.h"

#include <jansson.h>

LINTEL_KIT_INIT;

#define ACCOUNT_SESSION_SCHEMA                                                                     \
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"                           \
    "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                               \
    "\"last_used_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                             \
    "\"client_addr\":{\"type\":[\"string\",\"null\"]},"                                            \
    "\"user_agent\":{\"type\":[\"string\",\"null\"]},\"current\":{\"type\":\"boolean\"},"          \
    "\"scope\":{\"type\":\"string\"}}}"

#define ACCOUNT_AUDIT_SCHEMA                                                                       \
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"                          \
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},\"action\":{\"type\":\"string\"},"      \
    "\"user_id\":{\"type\":[\"integer\",\"null\"]},\"actor_id\":{\"type\":[\"integer\",\"null\"]}" \
    ","                                                                                            \
    "\"addr\":{\"type\":[\"string\",\"null\"]},\"subject\":{\"type\":[\"string\",\"null\"]},"      \
    "\"old_value\":{\"type\":[\"string\",\"null\"]},\"new_value\":{\"type\":[\"string\",\"null\"]" \
    "}}}"

#define ACCOUNT_LIST(item)                                                                         \
    "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"items\":" item "},"      \
    "\"total\":{\"type\":\"integer\"},\"limit\":{\"type\":\"integer\"},"                           \
    "\"offset\":{\"type\":\"integer\"}}}"

static const struct lintel_route account_routes[] = {
    {.method = "GET",
     .path = "/api/auth/sessions",
     .handler = account_sessions_list,
     .summary = "The caller's live sessions, the current one first",
     .query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS, {0}},
     .replies =
         (const struct lintel_reply[]){{200, "Sessions", ACCOUNT_LIST(ACCOUNT_SESSION_SCHEMA)},
                                       {0}}},
    {.method = "DELETE",
     .path = "/api/auth/sessions",
     .handler = account_sessions_delete_others,
     .summary = "End every session of the caller but the current one",
     .replies =
         (const struct lintel_reply[]){
             {200, "How many ended",
              "{\"type\":\"object\",\"properties\":{\"ended\":{\"type\":\"integer\"}}}"},
             {0}}},
    {.method = "DELETE",
     .path = "/api/auth/sessions/{id}",
     .handler = account_session_delete,
     .summary = "End one of the caller's sessions (its tokens stop working at once)"},
    {.method = "GET",
     .path = "/api/audit",
     .flags = LINTEL_ROUTE_ADMIN,
     .scope = "users:admin",
     .handler = account_audit_list,
     .summary = "The audit trail, newest first: role changes, deletions, password changes and"
                " resets, ended sessions, key rotations, failed and locked-out logins",
     .query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS,
                                            {"user_id", LINTEL_PARAM_INTEGER, LINTEL_PARAM_MIN, 1,
                                             0, NULL, "Only events about this user"},
                                            {"action", LINTEL_PARAM_STRING,
                                             LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 1, 64, NULL,
                                             "Only this action (user.role, login.failed, ...)"},
                                            {0}},
     .replies =
         (const struct lintel_reply[]){{200, "Audit events", ACCOUNT_LIST(ACCOUNT_AUDIT_SCHEMA)},
                                       {0}}},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    LINTEL_KIT_DECLARE(p, api, "account", "1.0.0");
    (void)config;
    return lintel_routes_add(p, account_routes, LINTEL_COUNT(account_routes), NULL);
}
