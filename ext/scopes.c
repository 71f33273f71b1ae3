/*
 * The scopes each role grants (api.md "Roles"), as SQL functions: the host's per-request check
 * and the auth plugin's logins and refreshes read this one table, and so does the shell.
 *
 * Requirements (cited below as S1..S5):
 * S1 user grants "numbers:read numbers:write numbers:delete tasks:read tasks:write
 *    datapoints:read profile"; admin grants all of those and "datapoints:write users:admin".
 *    Any other role grants nothing.
 * S2 a scope is text of words separated by spaces; words are compared exactly.
 * S3 lintel_scope_within(scope, role) keeps the words of scope that role grants, each once, in
 *    the order given, joined by one space ('' when none); NULL scope or role gives NULL.
 * S4 lintel_rule_scope(scope [, role]) is a rule (rules.c R1, R2): NULL when every word names a
 *    scope (and, with a role, one that role grants), else "unknown scope 'w'" or "role r is not
 *    granted 'w'" for the first word that fails. NULL or blank asks for nothing: NULL.
 * S5 a non-TEXT scope or role is an error naming the function and the argument.
 */
#include "lintel_ext_int.h"

#include <string.h>

#define SCOPES_USER                                                                                \
    "numbers:read numbers:write numbers:delete tasks:read tasks:write datapoints:read profile"
#define SCOPES_ADMIN SCOPES_USER " datapoints:write users:admin"

/* S1: what role (n bytes) grants, or NULL. */
static const char *scopes_of(const unsigned char *role, int n)
{
    if (n == 4 && memcmp(role, "user", 4) == 0)
        return SCOPES_USER;
    if (n == 5 && memcmp(role, "admin", 5) == 0)
        return SCOPES_ADMIN;
    return NULL;
}

/* S2: whether the space-separated list has the word w[0..n). */
static int scopes_has(const char *list, const unsigned char *w, int n)
{
    const char *p = list;

    while (list != NULL && *p != '\0') {
        const char *end = strchr(p, ' ');
        int len = end != NULL ? (int)(end - p) : (int)strlen(p);

        if (len == n && memcmp(p, w, (size_t)n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* S5: argument i as text; 0, or -1 after reporting the error. NULL gives *s NULL. */
static int scopes_text(sqlite3_context *ctx, const char *fn, sqlite3_value **argv, int i,
                       const unsigned char **s, int *n)
{
    int type = sqlite3_value_type(argv[i]);

    *s = NULL;
    *n = 0;
    if (type == SQLITE_NULL)
        return 0;
    if (type != SQLITE_TEXT) {
        ext_error(ctx, "%s(): %s argument is %s, not TEXT", fn, ext_ordinal(i + 1),
                  ext_type_name(type));
        return -1;
    }
    *s = sqlite3_value_text(argv[i]);
    *n = sqlite3_value_bytes(argv[i]);
    if (*s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return -1;
    }
    return 0;
}

/* The next word of s[*at..n) (S2): its start and length, or 0 when none is left. */
static int scopes_next(const unsigned char *s, int n, int *at, const unsigned char **w, int *wl)
{
    int i = *at;

    while (i < n && s[i] == ' ')
        i++;
    if (i == n)
        return 0;
    *w = s + i;
    while (i < n && s[i] != ' ')
        i++;
    *wl = (int)(s + i - *w);
    *at = i;
    return 1;
}

void ext_role_scopes(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *role;
    const char *granted;
    int n;

    (void)argc;
    if (scopes_text(ctx, "lintel_role_scopes", argv, 0, &role, &n) != 0 || role == NULL)
        return;
    granted = scopes_of(role, n);
    if (granted != NULL)
        sqlite3_result_text(ctx, granted, -1, SQLITE_STATIC);
}

void ext_scope_within(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *scope, *role, *w;
    const char *granted;
    sqlite3_str *out = NULL;
    int n, rn, at = 0, wl, words = 0;
    char *text;

    (void)argc;
    if (scopes_text(ctx, "lintel_scope_within", argv, 0, &scope, &n) != 0 ||
        scopes_text(ctx, "lintel_scope_within", argv, 1, &role, &rn) != 0)
        return;
    if (scope == NULL || role == NULL)
        return; /* S3 */
    granted = scopes_of(role, rn);
    out = sqlite3_str_new(sqlite3_context_db_handle(ctx));
    while (scopes_next(scope, n, &at, &w, &wl)) {
        /* S3: granted, and not already written (the words so far are a prefix of out) */
        if (!scopes_has(granted, w, wl) || scopes_has(sqlite3_str_value(out), w, wl))
            continue;
        if (words++ > 0)
            sqlite3_str_appendchar(out, 1, ' ');
        sqlite3_str_append(out, (const char *)w, wl);
    }
    if (sqlite3_str_errcode(out) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(out));
        sqlite3_result_error_nomem(ctx);
        return;
    }
    text = sqlite3_str_finish(out);
    sqlite3_result_text(ctx, text != NULL ? text : "", -1, text != NULL ? sqlite3_free : NULL);
}

void ext_rule_scope(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *scope, *role = NULL, *w;
    const char *granted = NULL;
    int n, rn = 0, at = 0, wl;
    char *msg = NULL;

    if (scopes_text(ctx, "lintel_rule_scope", argv, 0, &scope, &n) != 0 ||
        (argc > 1 && scopes_text(ctx, "lintel_rule_scope", argv, 1, &role, &rn) != 0))
        return;
    if (scope == NULL)
        return; /* S4 */
    if (role != NULL)
        granted = scopes_of(role, rn);
    while (msg == NULL && scopes_next(scope, n, &at, &w, &wl)) {
        if (!scopes_has(SCOPES_ADMIN, w, wl))
            msg = sqlite3_mprintf("unknown scope '%.*s'", wl, w);
        else if (role != NULL && !scopes_has(granted, w, wl))
            msg = sqlite3_mprintf("role %.*s is not granted '%.*s'", rn, role, wl, w);
        else
            continue;
        if (msg == NULL) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    if (msg != NULL)
        sqlite3_result_text(ctx, msg, -1, sqlite3_free);
}
