/*
 * Token machinery held by the host: access-token issue with the key ring, the per-request
 * check (signature through a bounded cache, session/user/jti state always from the database),
 * and the first-start admin.
 */
#include "auth.h"

#include "config.h"
#include "counters.h"
#include "crypto.h"
#include "db.h"
#include "jwt.h"
#include "keyring.h"
#include "lintel_ext.h"
#include "log.h"
#include "user_new.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Verified-token cache: direct-mapped, so its size is fixed whatever the traffic. A slot holds
 * about 2 KiB (the claims object and the token): 512 slots are 1 MiB when full, which the soak
 * fills within minutes (2048 took its 30 minutes to fill, a rising RSS: docs/hardening.md).
 */
#define AUTH_CACHE_SLOTS 512

/*
 * One query tells whether a verified token still counts: its session not ended, its user not
 * deleted, its jti not revoked; and gives the user and the role as they are now. The user comes
 * from the session (sid), never from sub: a compatibility profile shapes sub for its clients
 * (a username, an opaque id). Indexed lookups only.
 */
#define AUTH_STATE_SQL                                                                             \
    "SELECT u.id AS user_id, u.role AS role,"                                                      \
    " s.last_used_at IS NULL OR s.last_used_at < unixepoch() - 60 AS stale,"                       \
    " s.last_used_at + 60 AS fresh_until"                                                          \
    " FROM sessions s JOIN users u ON u.id = s.user_id"                                            \
    " WHERE s.id = ?1 AND s.ended_at IS NULL AND u.deleted_at IS NULL"                             \
    " AND NOT EXISTS (SELECT 1 FROM revoked_jtis r WHERE r.jti = ?2)"

/*
 * Session state per thread: what AUTH_STATE_SQL said for a (sid, jti), kept with the stamp of
 * the thread's connection it was read under (db_stamp). Any commit since, by any connection or
 * process, changes the stamp and the next request queries again, so a logout, a revocation or
 * a role change made from the CLI or the sqlite3 shell counts on the next request as before;
 * while nothing was written the query's answer cannot have changed. Direct-mapped and fixed in
 * size per thread, like the token cache.
 */
#define AUTH_STATE_SLOTS 64
#define AUTH_STATE_KEY   64 /* sid and jti are 22 characters; longer ones are not kept */
#define AUTH_ROLE_MAX    64

struct auth_state_entry {
    struct db_stamp stamp; /* source 0: empty */
    char sid[AUTH_STATE_KEY];
    char jti[AUTH_STATE_KEY];
    char role[AUTH_ROLE_MAX];
    long long user_id;
    long long fresh_until; /* the session's last use + 60 s: then it is recorded again */
};

static _Thread_local struct auth_state_entry auth_states[AUTH_STATE_SLOTS];

struct auth_cache_entry {
    char *token; /* the verified token itself (malloc'd) */
    size_t len;
    long long exp;
    unsigned long generation; /* the key ring's when verified */
    json_t *j_claims;         /* NULL: empty slot; never modified, handed out as shallow copies */
};

static struct {
    int ready;
    long long access_ttl;
    pthread_mutex_t cache_lock;
    struct auth_cache_entry cache[AUTH_CACHE_SLOTS];
} auth = {.cache_lock = PTHREAD_MUTEX_INITIALIZER};

/* The 403 detail names the scope; it lives until the next auth_request on this thread. */
static _Thread_local char auth_detail[192];

/* Why the last auth_request of this thread refused (auth_reason), or NULL. */
static _Thread_local const char *auth_why;

const char *auth_reason(void)
{
    return auth_why;
}

int auth_global_init(const struct config *cfg, char **err)
{
    int rc;

    *err = NULL;
    rc = keyring_init(cfg, err);
    if (rc != 0)
        return rc;
    auth.access_ttl = cfg->access_ttl;
    auth.ready = 1;
    log_info("auth: signing %s access tokens", keyring_alg());
    return 0;
}

void auth_global_release(void)
{
    size_t i;

    pthread_mutex_lock(&auth.cache_lock);
    for (i = 0; i < AUTH_CACHE_SLOTS; i++) {
        json_decref(auth.cache[i].j_claims);
        auth.cache[i].j_claims = NULL;
        free(auth.cache[i].token);
        auth.cache[i].token = NULL;
    }
    pthread_mutex_unlock(&auth.cache_lock);
    auth.ready = 0;
    keyring_release();
}

size_t auth_cache_entries(void)
{
    size_t i, n = 0;

    pthread_mutex_lock(&auth.cache_lock);
    for (i = 0; i < AUTH_CACHE_SLOTS; i++)
        n += auth.cache[i].j_claims != NULL;
    pthread_mutex_unlock(&auth.cache_lock);
    return n;
}

/*
 * The cache slot of a token: FNV-1a of its last AUTH_SLOT_TAIL bytes, not a cryptographic hash.
 * It only spreads tokens over the slots; what decides a hit is the comparison of the whole
 * token, in constant time, so timing tells nothing about a cached token's signature (the class
 * of CVE-2024-25714). The tail is the signature, which nobody but the key holder chooses, and
 * only verified tokens are kept: hashing all of a 300-400 byte token, one multiply after
 * another, was the most of auth_request's own time in a perf profile.
 */
#define AUTH_SLOT_TAIL 32

static struct auth_cache_entry *auth_cache_slot(const char *token, size_t len)
{
    unsigned long long h = 14695981039346656037ULL;
    size_t i = len > AUTH_SLOT_TAIL ? len - AUTH_SLOT_TAIL : 0;

    for (; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
    return &auth.cache[h % AUTH_CACHE_SLOTS];
}

/*
 * Verified claims of token (new reference), from the cache or by full verification. The object
 * is the cache's own, shared read-only by every request with that token (jansson's reference
 * counts are atomic): nobody modifies it, and auth_request changes claims on a copy.
 */
static int auth_verify_cached(const char *token, long long now, json_t **j_claims)
{
    struct auth_cache_entry *e;
    json_t *j_new = NULL, *j_old = NULL;
    char *copy = NULL, *old_token = NULL;
    const char *why = NULL;
    size_t len = strnlen(token, JWT_MAX_LEN + 1);
    unsigned long generation;
    int rc;

    *j_claims = NULL;
    if (len > JWT_MAX_LEN)
        return LINTEL_ETOKEN;
    e = auth_cache_slot(token, len);
    generation = keyring_generation();
    pthread_mutex_lock(&auth.cache_lock);
    if (e->j_claims != NULL && e->len == len && e->generation == generation &&
        gnutls_memcmp(e->token, token, len) == 0 && now <= e->exp + JWT_LEEWAY)
        *j_claims = json_incref(e->j_claims);
    pthread_mutex_unlock(&auth.cache_lock);
    if (*j_claims != NULL)
        return 0;

    rc = keyring_verify(token, now, &j_new, &why);
    if (rc != 0) {
        log_debug("auth: token refused: %s", why != NULL ? why : "?");
        return rc;
    }
    *j_claims = json_incref(j_new);
    copy = strndup(token, len);
    if (*j_claims == NULL || copy == NULL) {
        json_decref(*j_claims);
        *j_claims = NULL;
        json_decref(j_new);
        free(copy);
        return LINTEL_ENOMEM;
    }
    pthread_mutex_lock(&auth.cache_lock);
    j_old = e->j_claims;
    old_token = e->token;
    e->token = copy;
    e->len = len;
    e->exp = (long long)json_integer_value(json_object_get(j_new, "exp"));
    e->generation = generation;
    e->j_claims = j_new;
    pthread_mutex_unlock(&auth.cache_lock);
    json_decref(j_old);
    free(old_token);
    return 0;
}

int auth_scope_has(const char *scope, const char *word)
{
    return lintel_ext_scope_has(scope, word);
}

int auth_session_state(struct db *db, const char *sid, const char *jti, long long *user_id,
                       char **role)
{
    json_t *j_row = NULL;
    const char *r;
    int rc =
        db_rowf(db, &j_row, AUTH_STATE_SQL, "ss", sid != NULL ? sid : "", jti != NULL ? jti : "");

    *user_id = 0;
    *role = NULL;
    if (rc == 0) {
        r = json_string_value(json_object_get(j_row, "role"));
        *user_id = (long long)json_integer_value(json_object_get(j_row, "user_id"));
        *role = r != NULL ? strdup(r) : NULL;
        rc = *role != NULL ? 0 : LINTEL_ENOMEM;
    }
    json_decref(j_row);
    return rc;
}

/*
 * The token's scope as the user's role allows it now (*j_scope new reference). The auth plugin
 * narrowed it to the role the token names when it was issued, so while that role holds, it is
 * the answer; after a role change (an operator's UPDATE in the shell ends no session) the
 * extension's table keeps only what the new role grants.
 */
static int auth_scope_now(struct db *db, const json_t *j_tok, const char *role, json_t **j_scope)
{
    const char *token_role = json_string_value(json_object_get(j_tok, "role"));
    const char *scope = json_string_value(json_object_get(j_tok, "scope"));
    json_t *j_row = NULL;
    int rc = 0;

    *j_scope = NULL;
    if (scope != NULL && token_role != NULL && strcmp(token_role, role) == 0)
        return 0; /* the token's own claims hold: nothing to change */
    if (scope == NULL)
        scope = "";
    if (token_role != NULL && strcmp(token_role, role) == 0) {
        *j_scope = json_string(scope);
    } else {
        rc = db_rowf(db, &j_row, "SELECT lintel_scope_within(?1, ?2) AS scope", "ss", scope, role);
        *j_scope = rc == 0 ? json_copy(json_object_get(j_row, "scope")) : NULL;
    }
    json_decref(j_row);
    if (rc != 0)
        return rc == LINTEL_ENOMEM ? rc : LINTEL_EUNAVAIL;
    if (!json_is_string(*j_scope)) {
        json_decref(*j_scope);
        *j_scope = NULL;
        return LINTEL_ENOMEM;
    }
    return 0;
}

/*
 * Records that the session was used now (GET /api/auth/sessions shows it). Only called when the
 * last record is a minute old: a write per request would serialize every reader. A busy
 * database only loses this refinement, never the request.
 */
static void auth_touch_session(struct db *db, const char *sid)
{
    if (db_execf(db, NULL, "UPDATE sessions SET last_used_at = unixepoch() WHERE id = ?1", "s",
                 sid) != 0)
        log_debug("auth: last use of a session not recorded: %s", db_errmsg(db));
}

/* The thread's slot for (sid, jti): FNV-1a over both (they come from a verified token). */
static struct auth_state_entry *auth_state_slot(const char *sid, const char *jti)
{
    unsigned long long h = 14695981039346656037ULL;
    const char *p;

    for (p = sid; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (p = jti; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return &auth_states[h % AUTH_STATE_SLOTS];
}

/*
 * AUTH_STATE_SQL for a verified token's sid and jti: *user_id and role (AUTH_ROLE_MAX bytes)
 * as they are now, LINTEL_ENOTFOUND when the token no longer counts. Answered from the thread's
 * entry while the connection's stamp is the one the entry was read under and the session's
 * last use needs no new record; otherwise queried, and the session's use recorded when the
 * last record is a minute old.
 */
static int auth_state(struct db *db, const char *sid, const char *jti, long long now,
                      long long *user_id, char *role)
{
    struct auth_state_entry *e = NULL;
    struct db_stamp stamp;
    json_t *j_row = NULL;
    const char *r;
    int rc;

    *user_id = 0;
    role[0] = '\0';
    if (sid != NULL && jti != NULL && strlen(sid) < AUTH_STATE_KEY &&
        strlen(jti) < AUTH_STATE_KEY && db_stamp(db, &stamp) == 0) {
        e = auth_state_slot(sid, jti);
        if (memcmp(&e->stamp, &stamp, sizeof(stamp)) == 0 && now <= e->fresh_until &&
            strcmp(e->sid, sid) == 0 && strcmp(e->jti, jti) == 0) {
            *user_id = e->user_id;
            memcpy(role, e->role, AUTH_ROLE_MAX);
            counters_inc(COUNTER_AUTH_STATE_CACHED);
            return 0;
        }
    }
    rc = db_rowf(db, &j_row, AUTH_STATE_SQL, "ss", sid != NULL ? sid : "", jti != NULL ? jti : "");
    if (rc != 0)
        goto cleanup;
    r = json_string_value(json_object_get(j_row, "role"));
    *user_id = (long long)json_integer_value(json_object_get(j_row, "user_id"));
    if (r == NULL || strlen(r) >= AUTH_ROLE_MAX || *user_id <= 0) {
        log_error("auth: session %s: no usable user id or role", sid);
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    strcpy(role, r);
    if (json_integer_value(json_object_get(j_row, "stale")) == 1) {
        /* a write on this connection: the stamp moves, the next request queries again */
        auth_touch_session(db, sid != NULL ? sid : "");
        e = NULL;
    }
    if (e != NULL) {
        /* the stamp from before the query: a commit since then makes the next one miss */
        e->stamp = stamp;
        memcpy(e->sid, sid, strlen(sid) + 1);
        memcpy(e->jti, jti, strlen(jti) + 1);
        memcpy(e->role, role, AUTH_ROLE_MAX);
        e->user_id = *user_id;
        e->fresh_until = (long long)json_integer_value(json_object_get(j_row, "fresh_until"));
    }
cleanup:
    if (rc != 0) {
        *user_id = 0;
        role[0] = '\0';
    }
    json_decref(j_row);
    return rc;
}

/* The token of "Bearer <token>" (scheme case-insensitive), or of ?access_token=. */
static int auth_extract(const char *authorization, const char *query_token, char **token)
{
    const char *p, *end;

    *token = NULL;
    if (authorization == NULL) {
        if (query_token == NULL || query_token[0] == '\0')
            return LINTEL_EAUTH;
        *token = strdup(query_token);
        return *token != NULL ? 0 : LINTEL_ENOMEM;
    }
    p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t' && p[6] != '\0'))
        return LINTEL_EAUTH; /* another scheme: no bearer credentials at all */
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end == p)
        return LINTEL_ETOKEN;
    *token = strndup(p, (size_t)(end - p));
    return *token != NULL ? 0 : LINTEL_ENOMEM;
}

int auth_request(const char *authorization, const char *query_token, const char *scope, int admin,
                 json_t **j_claims, long long *user_id, const char **detail)
{
    char *token = NULL, role[AUTH_ROLE_MAX];
    json_t *j_tok = NULL, *j_scope = NULL, *j_copy = NULL;
    struct db *db = NULL;
    long long uid = 0, now = (long long)time(NULL);
    int rc;

    *j_claims = NULL;
    *user_id = 0;
    *detail = "Invalid or expired token";
    auth_why = "unavailable";
    if (!auth.ready) {
        rc = LINTEL_EUNAVAIL;
        *detail = "Authentication is not ready";
        goto cleanup;
    }
    rc = auth_extract(authorization, query_token, &token);
    auth_why = rc == LINTEL_EAUTH ? "missing" : "invalid";
    if (rc == LINTEL_EAUTH)
        *detail = "Not authenticated";
    if (rc != 0)
        goto cleanup;
    rc = auth_verify_cached(token, now, &j_tok);
    if (rc != 0) {
        if (rc != LINTEL_ENOMEM)
            rc = LINTEL_ETOKEN;
        goto cleanup;
    }
    rc = db_thread(&db);
    if (rc == 0)
        rc = auth_state(db, json_string_value(json_object_get(j_tok, "sid")),
                        json_string_value(json_object_get(j_tok, "jti")), now, &uid, role);
    if (rc == LINTEL_ENOTFOUND) {
        rc = LINTEL_ETOKEN; /* logged out, password changed, deleted, or revoked */
        auth_why = "revoked";
        goto cleanup;
    }
    if (rc != 0) {
        auth_why = "unavailable";
        rc = rc == LINTEL_ENOMEM ? rc : LINTEL_EUNAVAIL;
        *detail = "The database is busy; try again";
        goto cleanup;
    }
    rc = auth_scope_now(db, j_tok, role, &j_scope);
    if (rc != 0)
        goto cleanup;
    /* the cached claims are shared read-only: a change is made on a copy */
    if (j_scope != NULL) {
        j_copy = json_copy(j_tok);
        if (j_copy == NULL || json_object_set_new(j_copy, "role", json_string(role)) != 0 ||
            json_object_set(j_copy, "scope", j_scope) != 0) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        json_decref(j_tok);
        j_tok = j_copy;
        j_copy = NULL;
    }
    if (scope != NULL &&
        !auth_scope_has(json_string_value(json_object_get(j_tok, "scope")), scope)) {
        snprintf(auth_detail, sizeof(auth_detail), "Missing scope %s", scope);
        *detail = auth_detail;
        auth_why = "scope";
        rc = LINTEL_EFORBIDDEN;
        goto cleanup;
    }
    if (admin && strcmp(role, "admin") != 0) {
        snprintf(auth_detail, sizeof(auth_detail), "Requires role admin (this user has role %s)",
                 role);
        *detail = auth_detail;
        auth_why = "role";
        rc = LINTEL_EFORBIDDEN;
        goto cleanup;
    }
    *j_claims = j_tok;
    j_tok = NULL;
    *user_id = uid;
    *detail = NULL;
    auth_why = NULL;
    rc = 0;
cleanup:
    json_decref(j_copy);
    json_decref(j_scope);
    json_decref(j_tok);
    free(token);
    return rc;
}

/* Claims the host sets itself; a caller's value for one of them is ignored. */
static int auth_claim_reserved(const char *key)
{
    static const char *const reserved[] = {"iss", "aud", "iat", "nbf", "exp", "jti"};
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(key, reserved[i]) == 0)
            return 1;
    return 0;
}

int auth_token_issue(const json_t *j_claims, long long ttl, char **token, long long *expires_in)
{
    json_t *j = NULL, *j_value;
    char *jti = NULL;
    const char *sub, *sid, *role, *scope, *key;
    long long now = (long long)time(NULL);
    int rc = LINTEL_EPARAM;

    *token = NULL;
    *expires_in = 0;
    if (!auth.ready)
        return LINTEL_EUNAVAIL;
    if (ttl <= 0)
        ttl = auth.access_ttl;
    sub = json_string_value(json_object_get(j_claims, "sub"));
    sid = json_string_value(json_object_get(j_claims, "sid"));
    role = json_string_value(json_object_get(j_claims, "role"));
    scope = json_string_value(json_object_get(j_claims, "scope"));
    if (sub == NULL || sid == NULL || role == NULL || scope == NULL)
        goto cleanup;
    rc = crypto_random_token(16, &jti);
    if (rc != 0)
        goto cleanup;
    j = json_pack("{ss ss sI sI sI ss}", "iss", keyring_issuer(), "aud", keyring_audience(), "iat",
                  (json_int_t)now, "nbf", (json_int_t)now, "exp", (json_int_t)(now + ttl), "jti",
                  jti);
    if (j == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    json_object_foreach((json_t *)j_claims, key, j_value) {
        if (!auth_claim_reserved(key) && json_object_set(j, key, j_value) != 0) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    }
    rc = keyring_sign(j, token);
    if (rc == 0)
        *expires_in = ttl;
cleanup:
    free(jti);
    json_decref(j);
    return rc;
}

int auth_session_end(long long user_id, const char *sid, const char *keep_sid)
{
    struct db *db = NULL;
    int rc;

    rc = db_thread(&db);
    if (rc != 0)
        return rc;
    /* A named session is ended alone: keep_sid only narrows the "end all" case. */
    return db_execf(db, NULL,
                    "UPDATE sessions SET ended_at = unixepoch(), end_reason = 'ended'"
                    " WHERE user_id = ?1 AND ended_at IS NULL AND (?2 IS NULL OR id = ?2)"
                    " AND (?3 IS NULL OR id <> ?3)",
                    "Is?s?", (json_int_t)user_id, sid, sid != NULL ? NULL : keep_sid);
}

int auth_jwks(json_t **j_jwks)
{
    *j_jwks = NULL;
    if (!auth.ready)
        return LINTEL_EUNAVAIL;
    return keyring_jwks(j_jwks);
}

/*
 * Writes a generated admin password to <data_dir>/admin-password, mode 0600 whatever the umask,
 * replacing any older file. Never to stderr: that is where the log goes, and under systemd or a
 * container the log is kept and shipped with its secrets. path gets the file's name.
 */
static int auth_write_admin_password(const struct config *cfg, const char *username,
                                     const char *password, char *path, size_t size)
{
    const char *dir = cfg->data_dir != NULL ? cfg->data_dir : "./data";
    char *text = NULL;
    int fd = -1, n, rc = LINTEL_EUNAVAIL;

    if (snprintf(path, size, "%s/admin-password", dir) >= (int)size) {
        log_error("auth: data directory path too long for the admin password file");
        goto cleanup;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("auth: cannot replace %s: %s", path, strerror(errno));
        goto cleanup;
    }
    /* O_EXCL|O_NOFOLLOW: never write a secret through a file or link someone else put there. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        log_error("auth: cannot create %s: %s", path, strerror(errno));
        goto cleanup;
    }
    n = asprintf(&text,
                 "# lintel: the first admin account, created with a generated password.\n"
                 "# Store it, then delete this file; it is not written again.\n"
                 "username=%s\npassword=%s\n",
                 username, password);
    if (n < 0) {
        text = NULL;
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
        log_error("auth: cannot write %s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        log_error("auth: cannot write %s: %s", path, strerror(errno));
        rc = LINTEL_EUNAVAIL;
    }
    if (rc != 0 && fd >= 0)
        unlink(path);
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    return rc;
}

int auth_bootstrap_admin(const struct config *cfg)
{
    struct lintel_user_new in = {.role = "admin"};
    struct db *db = NULL;
    json_t *j_row = NULL, *j_problems = NULL;
    const json_t *j_p;
    char *generated = NULL;
    char pw_path[4096];
    size_t i;
    int rc;

    in.username = cfg->admin_username != NULL ? cfg->admin_username : "admin";
    in.password = cfg->admin_password;
    rc = db_thread(&db);
    if (rc == 0)
        rc = db_row(db, "SELECT EXISTS (SELECT 1 FROM users) AS any", NULL, &j_row);
    if (rc != 0) {
        log_error("auth: cannot read the users table: %s", db != NULL ? db_errmsg(db) : "");
        goto cleanup;
    }
    if (json_integer_value(json_object_get(j_row, "any")) != 0)
        goto cleanup; /* not the first start */
    if (in.password == NULL || in.password[0] == '\0') {
        rc = crypto_random_token(18, &generated);
        if (rc != 0)
            goto cleanup;
        in.password = generated;
        /* The file first: an account whose password nobody can read would lock the operator
         * out. */
        rc = auth_write_admin_password(cfg, in.username, generated, pw_path, sizeof(pw_path));
        if (rc != 0)
            goto cleanup;
    }
    /* the host's account creation: the same rules, hashing and row as every other account */
    json_decref(j_row);
    rc = user_new(db, cfg, &in, NULL, &j_row, &j_problems);
    json_array_foreach(j_problems, i, j_p) {
        const char *field = json_string_value(json_object_get(j_p, "field"));
        const char *msg = json_string_value(json_object_get(j_p, "message"));
        if (field != NULL && strcmp(field, "username") == 0)
            log_error("admin_username: '%s' %s", in.username, msg);
        else
            log_error("admin_%s: %s", field != NULL ? field : "account", msg);
    }
    if (rc != 0) {
        if (json_array_size(j_problems) == 0)
            log_error("auth: cannot create the admin: %s", db_errmsg(db));
        if (generated != NULL)
            unlink(pw_path);
        goto cleanup;
    }
    log_info("auth: created the admin account '%s'", in.username);
    if (generated != NULL)
        log_always("auth: first start: the admin password was generated and written to %s "
                   "(mode 0600, readable by this user only); store it, then delete the file",
                   pw_path);
cleanup:
    if (generated != NULL)
        explicit_bzero(generated, strlen(generated));
    free(generated);
    json_decref(j_problems);
    json_decref(j_row);
    return rc;
}
