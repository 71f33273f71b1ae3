/*
 * A new account with the extension's rules, the one way every path makes one: rules,
 * uniqueness, the hash (outside the write), the row.
 */
#include "user_new.h"

#include "config.h"
#include "db.h"

#include <stdio.h>

/* Appends {field, message} (field NULL: null) to j_problems; returns rc for the caller. */
static int user_new_problem(json_t *j_problems, int rc, const char *field, const char *message)
{
    if (json_array_append_new(j_problems,
                              json_pack("{s:s?, s:s}", "field", field, "message", message)) != 0)
        return LINTEL_ENOMEM;
    return rc;
}

int user_new(struct db *db, const struct config *cfg, const struct lintel_user_new *in,
             const struct user_new_gate *gate, json_t **j_user, json_t **j_problems)
{
    static const char *const fields[] = {"username", "password", "email", "role"};
    const char *role = in->role != NULL ? in->role : "user", *email, *msg;
    json_t *j_rules = NULL, *j_taken = NULL, *j_hash = NULL;
    char taken[160];
    size_t i;
    int rc;

    *j_user = NULL;
    *j_problems = json_array();
    if (*j_problems == NULL)
        return LINTEL_ENOMEM;
    rc = db_rowf(db, &j_rules,
                 "SELECT lintel_rule_username(?1) AS username,"
                 " lintel_rule_password(?2, ?3) AS password,"
                 " CASE WHEN ?4 IS NOT NULL THEN lintel_rule_email(?4) END"
                 " AS email, lintel_email_normalize(?4) AS normalized,"
                 " CASE WHEN ?5 NOT IN ('user', 'admin')"
                 " THEN 'must be user or admin' END AS role",
                 "ssIs?s", in->username, in->password, (json_int_t)cfg->password_min, in->email,
                 role);
    for (i = 0; rc == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
        if ((msg = json_string_value(json_object_get(j_rules, fields[i]))) != NULL)
            rc = user_new_problem(*j_problems, 0, fields[i], msg);
    if (rc == 0 && json_array_size(*j_problems) > 0)
        rc = LINTEL_EPARAM;
    if (rc != 0)
        goto cleanup;
    email = json_string_value(json_object_get(j_rules, "normalized"));
    rc = db_rowf(db, &j_taken,
                 "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1"
                 " COLLATE NOCASE) AS u, (?2 IS NOT NULL AND EXISTS (SELECT 1"
                 " FROM users WHERE email = ?2 COLLATE NOCASE)) AS e",
                 "ss?", in->username, email);
    if (rc != 0)
        goto cleanup;
    if (json_integer_value(json_object_get(j_taken, "u")) != 0) {
        snprintf(taken, sizeof(taken), "Username '%s' is taken", in->username);
        rc = user_new_problem(*j_problems, LINTEL_ECONFLICT, "username", taken);
        goto cleanup;
    }
    if (json_integer_value(json_object_get(j_taken, "e")) != 0) {
        rc =
            user_new_problem(*j_problems, LINTEL_ECONFLICT, "email", "Email is already registered");
        goto cleanup;
    }
    /* Hash first, then write: the gate is never waited on with the write lock held. */
    rc = gate != NULL ? gate->enter(gate->ctx) : 0;
    if (rc != 0)
        goto cleanup;
    rc = db_rowf(db, &j_hash, "SELECT lintel_password_hash(?1, ?2) AS h", "sI", in->password,
                 (json_int_t)cfg->password_cost);
    if (gate != NULL)
        gate->leave(gate->ctx);
    if (rc != 0)
        goto cleanup;
    rc = db_rowf(db, j_user,
                 "INSERT INTO users (username, email, password_hash, role)"
                 " VALUES (?1, ?2, ?3, ?4)"
                 " RETURNING id, username, email, role, created_at, updated_at",
                 "ss?Os", in->username, email, json_object_get(j_hash, "h"), role);
    if (rc == LINTEL_ECONFLICT) /* registered by someone else a moment ago */
        rc = user_new_problem(*j_problems, LINTEL_ECONFLICT, NULL, "Username or email is taken");
cleanup:
    json_decref(j_hash);
    json_decref(j_taken);
    json_decref(j_rules);
    return rc;
}
