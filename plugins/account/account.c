/*
 * The account plugin: password reset, email verification, invitations, a user's own sessions
 * and, for admins, the audit trail. Its tables are core (sql/core 0021-0023); the host's worker
 * sends the mails these routes queue.
 */
#include "account.h"

#include <jansson.h>

LINTEL_KIT_INIT;

#define ACCOUNT_SESSION_SCHEMA                                                                     \
    "{\"title\":\"Session\",\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"     \
    "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                               \
    "\"last_used_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                             \
    "\"client_addr\":{\"type\":[\"string\",\"null\"]},"                                            \
    "\"user_agent\":{\"type\":[\"string\",\"null\"]},\"current\":{\"type\":\"boolean\"},"          \
    "\"scope\":{\"type\":\"string\"}}}"

#define ACCOUNT_AUDIT_SCHEMA                                                                       \
    "{\"title\":\"AuditEvent\",\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}," \
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},\"action\":{\"type\":\"string\"},"      \
    "\"user_id\":{\"type\":[\"integer\",\"null\"]},\"actor_id\":{\"type\":[\"integer\",\"null\"]}" \
    ","                                                                                            \
    "\"addr\":{\"type\":[\"string\",\"null\"]},\"subject\":{\"type\":[\"string\",\"null\"]},"      \
    "\"old_value\":{\"type\":[\"string\",\"null\"]},\"new_value\":{\"type\":[\"string\",\"null\"]" \
    "}}}"

#define ACCOUNT_OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define ACCOUNT_STR(name)  "\"" name "\":{\"type\":\"string\"}"

static const struct lintel_route account_routes[] = {
    {.method = "POST",
     .path = "/api/auth/password/forgot",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = account_forgot,
     .summary = "Ask for a password-reset mail (always 202, whether the address is known or not)",
     .body_schema = LINTEL_SCHEMA_MEMBER("email", LINTEL_SCHEMA_STRING),
     .example = "{\"email\": \"alice@example.com\"}",
     .replies = LINTEL_REPLIES({202, "Accepted", ACCOUNT_OBJ(ACCOUNT_STR("detail")), NULL})},
    {.method = "POST",
     .path = "/api/auth/password/reset",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = account_reset,
     .summary = "Set a new password with the code of a reset mail; ends every session",
     .body_schema = "{\"type\":\"object\",\"required\":[\"token\",\"password\"],"
                    "\"properties\":{" ACCOUNT_STR("token") "," ACCOUNT_STR("password") "}}",
     .example = "{\"token\": \"code from the mail\", \"password\": \"new-password-1\"}",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "POST",
     .path = "/api/auth/email/verify",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = account_verify,
     .summary = "Confirm an email address with the code of a verification mail",
     .body_schema = LINTEL_SCHEMA_MEMBER("token", LINTEL_SCHEMA_STRING),
     .replies = LINTEL_REPLIES(
         {200, "Verified", ACCOUNT_OBJ(ACCOUNT_STR("email") "," ACCOUNT_STR("email_verified_at")),
          NULL})},
    {.method = "POST",
     .path = "/api/auth/email/verify/send",
     .handler = account_verify_send,
     .summary = "Send the caller a new verification mail",
     .replies = LINTEL_REPLIES({202, "Queued", ACCOUNT_OBJ(ACCOUNT_STR("detail")), NULL})},
    {.method = "POST",
     .path = "/api/auth/invites",
     .flags = LINTEL_ROUTE_ADMIN | LINTEL_ROUTE_NO_REPLAY, /* the code is never kept */
     .scope = "users:admin",
     .handler = account_invite_create,
     .summary = "A single-use invitation code for registration=invite (valid 7 days)",
     .replies =
         LINTEL_REPLIES({201, "The code (shown once)",
                         ACCOUNT_OBJ(ACCOUNT_STR("code") "," ACCOUNT_STR("expires_at")), NULL})},
    {.method = "GET",
     .path = "/api/auth/sessions",
     .handler = account_sessions_list,
     .summary = "The caller's live sessions, the current one first",
     .query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS, {0}},
     .replies = LINTEL_REPLIES(
         {200, "Sessions", LINTEL_SCHEMA_LIST(ACCOUNT_SESSION_SCHEMA),
          "{\"items\":[{\"id\":\"R5kR5yuBnucgAEgM9WmPww\",\"created_at\":\"2026-12-01T19:58:42Z\","
          "\"last_used_at\":\"2026-12-01T20:14:03Z\",\"client_addr\":\"192.0.2.10\",\"user_agent\":"
          "\"Mozilla/5.0\",\"current\":true,\"scope\":\"numbers:read tasks:read "
          "profile\"}],\"total\":1,\"limit\":100,\"offset\":0}"})},
    {.method = "DELETE",
     .path = "/api/auth/sessions",
     .handler = account_sessions_delete_others,
     .summary = "End every session of the caller but the current one",
     .replies =
         (const struct lintel_reply[]){
             {200, "How many ended",
              "{\"type\":\"object\",\"properties\":{\"ended\":{\"type\":\"integer\"}}}", NULL},
             {0}}},
    {.method = "DELETE",
     .path = "/api/auth/sessions/{id}",
     .handler = account_session_delete,
     .summary = "End one of the caller's sessions (its tokens stop working at once)",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
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
     .replies = LINTEL_REPLIES(
         {200, "Audit events", LINTEL_SCHEMA_LIST(ACCOUNT_AUDIT_SCHEMA),
          "{\"items\":[{\"id\":3,\"at\":\"2026-12-01T19:58:42Z\",\"action\":\"login.failed\","
          "\"user_id\":2,\"actor_id\":null,\"addr\":\"192.0.2.10\",\"subject\":\"alice\",\"old_"
          "value\":null,\"new_value\":null}],\"total\":1,\"limit\":100,\"offset\":0}"})},
};

static struct account account_state;

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct account *a = &account_state;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "account", "1.0.0");
    (void)config;
    rc = lintel_setting_str(p, "smtp_url", &a->smtp_url);
    if (rc == 0)
        rc = lintel_setting_int(p, "password_min", &a->password_min);
    if (rc == 0)
        rc = lintel_setting_int(p, "password_cost", &a->password_cost);
    if (rc == 0)
        rc = lintel_setting_int(p, "forgot_max_email", &a->forgot_max_email);
    if (rc == 0)
        rc = lintel_setting_int(p, "forgot_max_ip", &a->forgot_max_ip);
    if (rc == 0)
        rc = lintel_routes_add(p, account_routes, LINTEL_COUNT(account_routes), a);
    return rc;
}
