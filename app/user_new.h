/*
 * A new account with the extension's rules: the one way every path makes one (the API's
 * user_create, `lintel user add`, the first admin at the first start).
 */
#ifndef LINTEL_APP_USER_NEW_H
#define LINTEL_APP_USER_NEW_H

#include <jansson.h>
#include <lintel/plugin.h>

struct config;
struct db;

/* What is held around the hashing (a request's CPU-heavy gate); NULL: nothing. */
struct user_new_gate {
    int (*enter)(void *ctx); /* 0, or a status (the caller has recorded why) */
    void (*leave)(void *ctx);
    void *ctx;
};

/*
 * Creates the account in on db, outside any transaction: every rule of the extension checked
 * (username, password with cfg->password_min, email normalized, role "user" or "admin"), then
 * uniqueness, then the hash at cfg->password_cost (inside gate), then the row. 0 with *j_user
 * (new reference) {id, username, email, role, created_at, updated_at}. LINTEL_EPARAM: *j_problems
 * (new reference) [{field, message}], every bad field; LINTEL_ECONFLICT: [{field, message}] the
 * taken one (field null when another writer took it in between). Else the gate's status or
 * db's (its message in db_errmsg), *j_problems empty.
 */
int user_new(struct db *db, const struct config *cfg, const struct lintel_user_new *in,
             const struct user_new_gate *gate, json_t **j_user, json_t **j_problems);

#endif /* LINTEL_APP_USER_NEW_H */
