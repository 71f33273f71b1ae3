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
 * S7 lintel_scope_has(list, word): 1 when the space-separated list has word (S2), else 0; NULL
 *    list or word gives NULL. The host's per-request check is the same test
 *    (lintel_ext_scope_has), so there is one.
 * S6 the server adds scopes its plugins declare (lintel_ext_scope_add) to the roles they name;
 *    from then on S1..S4 treat them as built in. A scope is lower-case letters, digits and
 *    "_-:", 1..63 bytes; roles are "user" and/or "admin"; declaring a known scope again is
 *    allowed when the roles agree.
 */
#include "lintel_ext.h"
#include "lintel_ext_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOPES_USER                                                                                \
    "numbers:read numbers:write numbers:delete tasks:read tasks:write datapoints:read profile"
#define SCOPES_ADMIN SCOPES_USER " datapoints:write users:admin"

/*
 * S6: the declared scopes, and what each role grants with them. Written only while plugins
 * load (before the server serves), read by every connection: a read-write lock.
 */
struct scopes_declared {
    char owner[64], scope[64];
    int user, admin;
};
static pthread_rwlock_t scopes_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct scopes_declared *scopes_list;
static size_t scopes_n;
static char *scopes_user_now, *scopes_admin_now, *scopes_all_now; /* NULL: the built-in ones */

/* S1, S6: what role (n bytes) grants, or NULL. Call with scopes_lock held for reading. */
static const char *scopes_of(const unsigned char *role, int n)
{
    if (n == 4 && memcmp(role, "user", 4) == 0)
        return scopes_user_now != NULL ? scopes_user_now : SCOPES_USER;
    if (n == 5 && memcmp(role, "admin", 5) == 0)
        return scopes_admin_now != NULL ? scopes_admin_now : SCOPES_ADMIN;
    return NULL;
}

/* Every scope any role grants. */
static const char *scopes_all(void)
{
    return scopes_all_now != NULL ? scopes_all_now : SCOPES_ADMIN;
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
    pthread_rwlock_rdlock(&scopes_lock);
    granted = scopes_of(role, n);
    if (granted != NULL)
        sqlite3_result_text(ctx, granted, -1, SQLITE_TRANSIENT);
    pthread_rwlock_unlock(&scopes_lock);
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
    pthread_rwlock_rdlock(&scopes_lock);
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
    pthread_rwlock_unlock(&scopes_lock);
    if (sqlite3_str_errcode(out) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(out));
        sqlite3_result_error_nomem(ctx);
        return;
    }
    text = sqlite3_str_finish(out);
    sqlite3_result_text(ctx, text != NULL ? text : "", -1, text != NULL ? sqlite3_free : NULL);
}

int lintel_ext_scope_has(const char *list, const char *word)
{
    return word != NULL && word[0] != '\0' &&
           scopes_has(list, (const unsigned char *)word, (int)strlen(word));
}

/* S7 */
void ext_scope_has(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *list, *word;
    int n, wn;

    (void)argc;
    if (scopes_text(ctx, "lintel_scope_has", argv, 0, &list, &n) != 0 ||
        scopes_text(ctx, "lintel_scope_has", argv, 1, &word, &wn) != 0)
        return;
    if (list == NULL || word == NULL)
        return;
    sqlite3_result_int(ctx, wn > 0 && scopes_has((const char *)list, word, wn));
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
    pthread_rwlock_rdlock(&scopes_lock);
    if (role != NULL)
        granted = scopes_of(role, rn);
    while (msg == NULL && scopes_next(scope, n, &at, &w, &wl)) {
        if (!scopes_has(scopes_all(), w, wl))
            msg = sqlite3_mprintf("unknown scope '%.*s'", wl, w);
        else if (role != NULL && !scopes_has(granted, w, wl))
            msg = sqlite3_mprintf("role %.*s is not granted '%.*s'", rn, role, wl, w);
        else
            continue;
        if (msg == NULL) {
            pthread_rwlock_unlock(&scopes_lock);
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    pthread_rwlock_unlock(&scopes_lock);
    if (msg != NULL)
        sqlite3_result_text(ctx, msg, -1, sqlite3_free);
}

/* S6: base, then every declared scope role `which` (0 user, 1 admin, 2 any) gets that base lacks
 * (malloc'd or NULL). */
static char *scopes_join(const char *base, int which)
{
    size_t len = strlen(base) + 1, i;
    char *out;

    for (i = 0; i < scopes_n; i++)
        len += strlen(scopes_list[i].scope) + 1;
    out = malloc(len);
    if (out == NULL)
        return NULL;
    strcpy(out, base);
    for (i = 0; i < scopes_n; i++) {
        const struct scopes_declared *d = &scopes_list[i];
        int take = which == 0 ? d->user : which == 1 ? d->admin : 1;
        if (!take || scopes_has(out, (const unsigned char *)d->scope, (int)strlen(d->scope)))
            continue;
        strcat(out, " ");
        strcat(out, d->scope);
    }
    return out;
}

/* Rebuilds the per-role lists from the built-in ones and the declared list; lock held. */
static int scopes_rebuild(void)
{
    char *u = scopes_join(SCOPES_USER, 0), *a = scopes_join(SCOPES_ADMIN, 1);
    char *all = scopes_join(SCOPES_ADMIN, 2);

    if (u == NULL || a == NULL || all == NULL) {
        free(u);
        free(a);
        free(all);
        return -1;
    }
    free(scopes_user_now);
    free(scopes_admin_now);
    free(scopes_all_now);
    scopes_user_now = u;
    scopes_admin_now = a;
    scopes_all_now = all;
    return 0;
}

static int scopes_name_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 63)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              strchr("_-:", s[i]) != NULL))
            return 0;
    return 1;
}

int lintel_ext_scope_add(const char *owner, const char *scope, const char *roles, char *why,
                         size_t size)
{
    const unsigned char *r = (const unsigned char *)(roles != NULL ? roles : "");
    int at = 0, wl, user = 0, admin = 0, rc = -1, builtin_u, builtin_a;
    const unsigned char *w;
    struct scopes_declared *grown;
    size_t i;

    if (owner == NULL || scope == NULL || !scopes_name_ok(scope) || strlen(owner) > 63) {
        snprintf(why, size, "a scope is 1 to 63 of a-z, 0-9, '_', '-', ':'");
        return -1;
    }
    while (scopes_next(r, (int)strlen((const char *)r), &at, &w, &wl)) {
        if (wl == 4 && memcmp(w, "user", 4) == 0)
            user = 1;
        else if (wl == 5 && memcmp(w, "admin", 5) == 0)
            admin = 1;
        else {
            snprintf(why, size, "unknown role '%.*s' (roles are user and admin)", wl, w);
            return -1;
        }
    }
    if (!user && !admin) {
        snprintf(why, size, "no role gets it (give \"user admin\", \"admin\", ...)");
        return -1;
    }
    pthread_rwlock_wrlock(&scopes_lock);
    builtin_u = scopes_has(SCOPES_USER, (const unsigned char *)scope, (int)strlen(scope));
    builtin_a = scopes_has(SCOPES_ADMIN, (const unsigned char *)scope, (int)strlen(scope));
    if (builtin_a || builtin_u) {
        rc = builtin_u == user && builtin_a == admin ? 0 : -1;
        if (rc != 0)
            snprintf(why, size, "the server grants it to other roles");
        goto done;
    }
    for (i = 0; i < scopes_n; i++) {
        if (strcmp(scopes_list[i].scope, scope) != 0)
            continue;
        if (scopes_list[i].user != user || scopes_list[i].admin != admin) {
            snprintf(why, size, "plugin %s declared it for other roles", scopes_list[i].owner);
            goto done;
        }
    }
    grown = realloc(scopes_list, (scopes_n + 1) * sizeof(*grown));
    if (grown == NULL) {
        snprintf(why, size, "out of memory");
        goto done;
    }
    scopes_list = grown;
    snprintf(grown[scopes_n].owner, sizeof(grown[scopes_n].owner), "%s", owner);
    snprintf(grown[scopes_n].scope, sizeof(grown[scopes_n].scope), "%s", scope);
    grown[scopes_n].user = user;
    grown[scopes_n].admin = admin;
    scopes_n++;
    rc = scopes_rebuild();
    if (rc != 0) {
        scopes_n--;
        snprintf(why, size, "out of memory");
    }
done:
    pthread_rwlock_unlock(&scopes_lock);
    return rc;
}

int lintel_ext_scope_known(const char *scope)
{
    int known;

    pthread_rwlock_rdlock(&scopes_lock);
    known =
        scope != NULL && scopes_has(scopes_all(), (const unsigned char *)scope, (int)strlen(scope));
    pthread_rwlock_unlock(&scopes_lock);
    return known;
}

void lintel_ext_scopes_remove(const char *owner)
{
    size_t i, kept = 0;

    pthread_rwlock_wrlock(&scopes_lock);
    for (i = 0; i < scopes_n; i++)
        if (owner != NULL && strcmp(scopes_list[i].owner, owner) != 0)
            scopes_list[kept++] = scopes_list[i];
    scopes_n = kept;
    if (scopes_rebuild() != 0 || scopes_n == 0) {
        free(scopes_user_now);
        free(scopes_admin_now);
        free(scopes_all_now);
        scopes_user_now = scopes_admin_now = scopes_all_now = NULL;
        if (scopes_n == 0) {
            free(scopes_list);
            scopes_list = NULL;
        }
    }
    pthread_rwlock_unlock(&scopes_lock);
}
