/*
 * The signing-key ring: asymmetric keys live in the signing_keys table, one signs and the
 * retired ones verify until the tokens they signed have expired. A running server rereads the
 * table every few seconds, so a rotation made by another process (or node) reaches it.
 */
#include "keyring.h"

#include "config.h"
#include "db.h"
#include "jwt.h"
#include "log.h"

#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Keys loaded at most: the current one plus the retired ones still in their window. */
#define KEYRING_MAX 16
/* Retired keys are deleted from the table this long after their window closed. */
#define KEYRING_KEEP (24 * 3600)

#define KEYRING_LOAD_SQL                                                                           \
    "SELECT kid, private_pem, retired_at FROM signing_keys WHERE alg = ?1"                         \
    " AND (retired_at IS NULL OR retired_at >= ?2)"                                                \
    " ORDER BY retired_at IS NOT NULL, retired_at DESC LIMIT 16"

/* One snapshot of the ring: immutable once published, freed when its last user lets go. */
struct keyring_set {
    unsigned refs;
    size_t n;
    struct jwt_keys *keys[KEYRING_MAX]; /* keys[0] signs: the current key */
    long long retired[KEYRING_MAX];     /* 0: the current key */
    char *fingerprint;                  /* "kid:retired_at;" of every key, to notice a change */
};

static struct {
    char *alg, *issuer, *audience;
    long long window;    /* how long a retired key verifies */
    struct jwt_keys *hs; /* HS256: the secret's key, no ring */
    pthread_mutex_t lock;
    struct keyring_set *set;
    long long checked_at, forced_at;
    unsigned long generation; /* bumped whenever a new set is published */
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void keyring_set_free(struct keyring_set *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++)
        jwt_keys_free(s->keys[i]);
    free(s->fingerprint);
    free(s);
}

static struct keyring_set *keyring_acquire(void)
{
    struct keyring_set *s;

    pthread_mutex_lock(&ring.lock);
    s = ring.set;
    if (s != NULL)
        s->refs++;
    pthread_mutex_unlock(&ring.lock);
    return s;
}

static void keyring_put(struct keyring_set *s)
{
    int last;

    if (s == NULL)
        return;
    pthread_mutex_lock(&ring.lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&ring.lock);
    if (last)
        keyring_set_free(s);
}

static void keyring_conf(struct jwt_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->alg = ring.alg;
    conf->issuer = ring.issuer;
    conf->audience = ring.audience;
}

/* The key of one row of KEYRING_LOAD_SQL: its PEM read, its kid checked against the key. */
static int keyring_key_from_row(const struct jwt_conf *conf, const json_t *j_row,
                                struct jwt_keys **k, char **err)
{
    const char *pem = json_string_value(json_object_get(j_row, "private_pem"));
    const char *kid = json_string_value(json_object_get(j_row, "kid"));
    int rc;

    *k = NULL;
    if (pem == NULL)
        return LINTEL_EPARAM;
    rc = jwt_keys_from_pem(conf, pem, strlen(pem), k, err);
    if (rc == 0 && kid != NULL && strcmp(kid, jwt_kid(*k)) != 0) {
        jwt_keys_free(*k);
        *k = NULL;
        rc = LINTEL_EPARAM; /* *err stays NULL: the caller says the kid is not the thumbprint */
    }
    return rc;
}

/*
 * A new set of the keys of j_rows, the current one first as KEYRING_LOAD_SQL orders them;
 * takes fp. A retired key that cannot be used is left out, logged; the current one cannot be.
 */
static int keyring_set_new(const json_t *j_rows, char *fp, struct keyring_set **out)
{
    struct keyring_set *s = calloc(1, sizeof(*s));
    struct jwt_conf conf;
    json_t *j_row;
    char *err = NULL;
    size_t i;
    int rc = 0;

    *out = NULL;
    if (s == NULL) {
        free(fp);
        return LINTEL_ENOMEM;
    }
    s->refs = 1;
    s->fingerprint = fp;
    keyring_conf(&conf);
    json_array_foreach(j_rows, i, j_row) {
        const char *kid = json_string_value(json_object_get(j_row, "kid"));
        rc = keyring_key_from_row(&conf, j_row, &s->keys[s->n], &err);
        if (rc != 0) {
            /* One unreadable retired key must not stop the others from working. */
            log_error("keyring: key '%s' cannot be used: %s", kid != NULL ? kid : "?",
                      err != NULL ? err : "its kid is not its thumbprint");
            free(err);
            err = NULL;
            if (i == 0)
                goto cleanup;
            rc = 0;
            continue;
        }
        s->retired[s->n] = json_integer_value(json_object_get(j_row, "retired_at"));
        s->n++;
    }
    *out = s;
    s = NULL;
cleanup:
    keyring_set_free(s);
    return rc;
}

/* Reads the table into a new set (*out), or leaves *out NULL when fingerprint is unchanged. */
static int keyring_load(const char *fingerprint, struct keyring_set **out)
{
    struct db *db = NULL;
    json_t *j_rows = NULL, *j_row;
    char *fp = NULL, *grown;
    size_t i;
    long long now = (long long)time(NULL);
    int rc;

    *out = NULL;
    rc = db_thread(&db);
    if (rc == 0)
        rc = db_queryf(db, &j_rows, KEYRING_LOAD_SQL, "sI", ring.alg,
                       (json_int_t)(now - ring.window));
    if (rc != 0) {
        log_warn("keyring: cannot read signing_keys: %s", db != NULL ? db_errmsg(db) : "");
        goto cleanup;
    }
    fp = strdup("");
    if (fp == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    json_array_foreach(j_rows, i, j_row) {
        const char *kid = json_string_value(json_object_get(j_row, "kid"));
        long long retired = json_integer_value(json_object_get(j_row, "retired_at"));
        if (asprintf(&grown, "%s%s:%lld;", fp, kid != NULL ? kid : "", retired) < 0) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        free(fp);
        fp = grown;
    }
    if (fingerprint != NULL && strcmp(fingerprint, fp) == 0)
        goto cleanup; /* nothing changed */
    if (json_array_size(j_rows) == 0 ||
        !json_is_null(json_object_get(json_array_get(j_rows, 0), "retired_at"))) {
        log_error("keyring: signing_keys holds no current %s key (run lintel keys rotate)",
                  ring.alg);
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
    rc = keyring_set_new(j_rows, fp, out);
    fp = NULL; /* the set's, or freed with it */
cleanup:
    free(fp);
    json_decref(j_rows);
    return rc;
}

/*
 * Rereads the table when KEYRING_RECHECK seconds have passed, or (force: a token named a kid
 * we do not hold) at most once a second, so that forged kids cannot make every request a query.
 */
static void keyring_refresh(int force)
{
    struct keyring_set *fresh = NULL, *old = NULL;
    char *fp = NULL;
    long long now = (long long)time(NULL);
    int due;

    pthread_mutex_lock(&ring.lock);
    due = now - ring.checked_at >= KEYRING_RECHECK || (force && now != ring.forced_at);
    if (due) {
        ring.checked_at = now;
        if (force)
            ring.forced_at = now;
        fp = ring.set != NULL && ring.set->fingerprint != NULL ? strdup(ring.set->fingerprint)
                                                               : NULL;
    }
    pthread_mutex_unlock(&ring.lock);
    if (!due)
        return;
    if (keyring_load(fp, &fresh) == 0 && fresh != NULL) {
        pthread_mutex_lock(&ring.lock);
        old = ring.set;
        ring.set = fresh;
        ring.generation++;
        pthread_mutex_unlock(&ring.lock);
        log_info("keyring: %zu %s key(s), signing with %s", fresh->n, ring.alg,
                 jwt_kid(fresh->keys[0]));
        keyring_put(old);
    }
    free(fp);
}

static int keyring_insert(struct db *db, const char *kid, const char *pem)
{
    return db_execf(db, NULL,
                    "INSERT INTO signing_keys (kid, alg, private_pem) VALUES (?1, ?2, ?3)", "sss",
                    kid, ring.alg, pem);
}

static int keyring_retire_current(struct db *db)
{
    return db_execf(db, NULL,
                    "UPDATE signing_keys SET retired_at = unixepoch()"
                    " WHERE alg = ?1 AND retired_at IS NULL",
                    "s", ring.alg);
}

/* How many keys of our alg the table holds (current only: 1 or 0 with current set). */
static int keyring_count(struct db *db, const char *where_kid, int current, long long *n)
{
    json_t *j_row = NULL;
    int rc;

    rc = db_rowf(db, &j_row,
                 "SELECT count(*) AS n FROM signing_keys WHERE alg = ?1"
                 " AND (?2 IS NULL OR kid = ?2) AND (?3 = 0 OR retired_at IS NULL)",
                 "ss?i", ring.alg, where_kid, current);
    *n = rc == 0 ? (long long)json_integer_value(json_object_get(j_row, "n")) : 0;
    json_decref(j_row);
    return rc;
}

/* A new key pair: its PEM and kid (both malloc'd). */
static int keyring_new_key(char **pem, char **kid, char **err)
{
    struct jwt_conf conf;
    struct jwt_keys *k = NULL;
    size_t len = 0;
    int rc;

    *kid = NULL;
    keyring_conf(&conf);
    rc = jwt_pem_generate(ring.alg, pem, &len, err);
    if (rc == 0)
        rc = jwt_keys_from_pem(&conf, *pem, len, &k, err);
    if (rc == 0) {
        *kid = strdup(jwt_kid(k));
        rc = *kid != NULL ? 0 : LINTEL_ENOMEM;
    }
    jwt_keys_free(k);
    return rc;
}

static void keyring_wipe(char *pem)
{
    if (pem != NULL)
        gnutls_memset(pem, 0, strlen(pem));
    free(pem);
}

/* The import of a key file and the first key, in one write transaction. */
/* This thread's connection with a transaction open (*in_tx 1): 0, or its failure. */
static int keyring_begin(struct db **db, int *in_tx)
{
    int rc = db_thread(db);

    if (rc == 0)
        rc = db_begin(*db);
    *in_tx = rc == 0;
    return rc;
}

/*
 * Ends a key ring transaction (in_tx): committed when rc is 0, else rolled back; a failure
 * without a word yet gets the connection's in *err. Returns rc or the commit's failure.
 */
static int keyring_finish(struct db *db, int in_tx, int rc, char **err)
{
    if (in_tx && rc == 0)
        rc = db_commit(db);
    else if (in_tx)
        db_rollback(db);
    if (rc != 0 && *err == NULL &&
        asprintf(err, "key ring: %s", db != NULL ? db_errmsg(db) : "no database") < 0)
        *err = NULL;
    return rc;
}

static int keyring_seed(const struct config *cfg, char **err)
{
    struct jwt_conf conf;
    struct jwt_keys *k = NULL;
    struct db *db = NULL;
    char *pem = NULL, *kid = NULL;
    size_t len = 0;
    long long n = 0;
    int rc, in_tx = 0;

    keyring_conf(&conf);
    conf.key_file = cfg->jwt_key_file;
    conf.data_dir = cfg->data_dir != NULL ? cfg->data_dir : "./data";
    rc = jwt_key_file_read(&conf, &pem, &len, err);
    if (rc == 0 && pem != NULL)
        rc = jwt_keys_from_pem(&conf, pem, len, &k, err);
    if (rc != 0)
        goto cleanup;
    rc = keyring_begin(&db, &in_tx);
    if (rc != 0)
        goto cleanup;
    if (k != NULL) {
        rc = keyring_count(db, jwt_kid(k), 0, &n);
        if (rc != 0)
            goto cleanup;
        if (n == 0 && cfg->jwt_key_file == NULL) {
            /* The file of a release before the ring: import it only into an empty ring. */
            rc = keyring_count(db, NULL, 0, &n);
            if (rc != 0)
                goto cleanup;
            if (n == 0) {
                rc = keyring_insert(db, jwt_kid(k), pem);
                if (rc != 0)
                    goto cleanup;
                log_info("keyring: imported %s/jwt-%s.pem as key %s (the file is no longer read;"
                         " the database holds it)",
                         conf.data_dir, ring.alg, jwt_kid(k));
            }
        } else if (n == 0) {
            /* A jwt_key_file the ring has not seen: the operator means it to sign now. */
            rc = keyring_retire_current(db);
            if (rc == 0)
                rc = keyring_insert(db, jwt_kid(k), pem);
            if (rc != 0)
                goto cleanup;
            log_info("keyring: jwt_key_file key %s is now current", jwt_kid(k));
        }
    }
    rc = keyring_count(db, NULL, 1, &n);
    if (rc != 0)
        goto cleanup;
    if (n == 0) {
        keyring_wipe(pem);
        pem = NULL;
        rc = keyring_new_key(&pem, &kid, err);
        if (rc == 0)
            rc = keyring_insert(db, kid, pem);
        if (rc != 0)
            goto cleanup;
        log_info("keyring: generated %s key %s", ring.alg, kid);
    }
cleanup:
    rc = keyring_finish(db, in_tx, rc, err);
    jwt_keys_free(k);
    keyring_wipe(pem);
    free(kid);
    return rc;
}

static int keyring_conf_from(const struct config *cfg, char **err)
{
    free(ring.alg);
    free(ring.issuer);
    free(ring.audience);
    ring.alg = strdup(cfg->jwt_alg != NULL ? cfg->jwt_alg : "EdDSA");
    ring.issuer = strdup(cfg->jwt_issuer != NULL ? cfg->jwt_issuer : "lintel");
    ring.audience = strdup(cfg->jwt_audience != NULL ? cfg->jwt_audience : "lintel-api");
    if (ring.alg == NULL || ring.issuer == NULL || ring.audience == NULL)
        return LINTEL_ENOMEM;
    if (cfg->access_ttl <= 0) {
        *err = strdup("access_ttl: must be a positive number of seconds");
        return LINTEL_EPARAM;
    }
    ring.window = cfg->access_ttl + JWT_LEEWAY + KEYRING_RECHECK;
    return 0;
}

int keyring_init(const struct config *cfg, char **err)
{
    struct jwt_conf conf;
    int rc;

    *err = NULL;
    rc = keyring_conf_from(cfg, err);
    if (rc != 0)
        return rc;
    keyring_conf(&conf);
    if (strcmp(ring.alg, "HS256") == 0) {
        conf.secret = cfg->jwt_secret;
        return jwt_keys_new(&conf, &ring.hs, err);
    }
    if (strcmp(ring.alg, "EdDSA") != 0 && strcmp(ring.alg, "ES256") != 0 &&
        strcmp(ring.alg, "RS256") != 0) {
        /* jwt_keys_new words the refusal of an unknown algorithm */
        return jwt_keys_new(&conf, &ring.hs, err) == 0 ? LINTEL_EINTERNAL : LINTEL_EPARAM;
    }
    rc = keyring_seed(cfg, err);
    if (rc != 0)
        return rc;
    ring.checked_at = 0;
    keyring_refresh(0);
    if (ring.set == NULL) {
        *err = strdup("key ring: cannot load the signing keys");
        return LINTEL_EUNAVAIL;
    }
    return 0;
}

void keyring_release(void)
{
    struct keyring_set *s;

    pthread_mutex_lock(&ring.lock);
    s = ring.set;
    ring.set = NULL;
    pthread_mutex_unlock(&ring.lock);
    keyring_put(s);
    jwt_keys_free(ring.hs);
    ring.hs = NULL;
    free(ring.alg);
    free(ring.issuer);
    free(ring.audience);
    ring.alg = ring.issuer = ring.audience = NULL;
    ring.checked_at = ring.forced_at = 0;
}

const char *keyring_issuer(void)
{
    return ring.issuer;
}

const char *keyring_audience(void)
{
    return ring.audience;
}

const char *keyring_alg(void)
{
    return ring.alg;
}

unsigned long keyring_generation(void)
{
    unsigned long g;

    if (ring.hs != NULL)
        return 0;
    keyring_refresh(0);
    pthread_mutex_lock(&ring.lock);
    g = ring.generation;
    pthread_mutex_unlock(&ring.lock);
    return g;
}

int keyring_sign(const json_t *j_claims, char **token)
{
    struct keyring_set *s;
    int rc;

    *token = NULL;
    if (ring.hs != NULL)
        return jwt_sign(ring.hs, j_claims, token);
    keyring_refresh(0);
    s = keyring_acquire();
    if (s == NULL)
        return LINTEL_EUNAVAIL;
    rc = jwt_sign(s->keys[0], j_claims, token);
    keyring_put(s);
    return rc;
}

/* The key of the set named kid ("" names the current key), or -1. */
static int keyring_find(const struct keyring_set *s, const char *kid)
{
    size_t i;

    if (kid[0] == '\0')
        return 0;
    for (i = 0; i < s->n; i++)
        if (strcmp(jwt_kid(s->keys[i]), kid) == 0)
            return (int)i;
    return -1;
}

int keyring_verify(const char *token, long long now, json_t **j_claims, const char **why)
{
    struct keyring_set *s = NULL;
    char kid[160];
    int idx, rc = LINTEL_ETOKEN;

    *j_claims = NULL;
    if (ring.hs != NULL)
        return jwt_verify(ring.hs, token, now, j_claims, why);
    *why = "header is not canonical base64url JSON or its kid is too long";
    if (jwt_token_kid(token, kid, sizeof(kid)) != 0)
        return LINTEL_ETOKEN;
    keyring_refresh(0);
    s = keyring_acquire();
    idx = s != NULL ? keyring_find(s, kid) : -1;
    if (idx < 0) {
        /* Maybe a key rotated in by another process since our last look. */
        keyring_put(s);
        keyring_refresh(1);
        s = keyring_acquire();
        idx = s != NULL ? keyring_find(s, kid) : -1;
    }
    if (idx < 0) {
        *why = "kid is not a key of the ring";
        goto cleanup;
    }
    if (s->retired[idx] != 0 && now > s->retired[idx] + ring.window) {
        *why = "signed by a key retired longer ago than access_ttl";
        goto cleanup;
    }
    rc = jwt_verify(s->keys[idx], token, now, j_claims, why);
cleanup:
    keyring_put(s);
    return rc;
}

int keyring_jwks(json_t **j_jwks)
{
    struct keyring_set *s;
    json_t *j_one = NULL;
    long long now = (long long)time(NULL);
    size_t i;
    int rc = 0;

    *j_jwks = NULL;
    if (ring.hs != NULL)
        return jwt_jwks(ring.hs, j_jwks);
    keyring_refresh(0);
    s = keyring_acquire();
    if (s == NULL)
        return LINTEL_EUNAVAIL;
    *j_jwks = json_pack("{s[]}", "keys");
    if (*j_jwks == NULL)
        rc = LINTEL_ENOMEM;
    for (i = 0; rc == 0 && i < s->n; i++) {
        if (s->retired[i] != 0 && now > s->retired[i] + ring.window)
            continue;
        rc = jwt_jwks(s->keys[i], &j_one);
        if (rc == 0 && json_array_extend(json_object_get(*j_jwks, "keys"),
                                         json_object_get(j_one, "keys")) != 0)
            rc = LINTEL_ENOMEM;
        json_decref(j_one);
        j_one = NULL;
    }
    keyring_put(s);
    if (rc != 0) {
        json_decref(*j_jwks);
        *j_jwks = NULL;
    }
    return rc;
}

int keyring_rotate(const struct config *cfg, char **kid, char **err)
{
    struct db *db = NULL;
    char *pem = NULL;
    int rc, in_tx = 0;

    *kid = NULL;
    *err = NULL;
    rc = keyring_conf_from(cfg, err);
    if (rc != 0)
        return rc;
    if (strcmp(ring.alg, "HS256") == 0) {
        *err = strdup("jwt_alg is HS256: its key is jwt_secret, rotated by changing the setting"
                      " (tokens signed with the old secret then stop verifying); the key ring"
                      " holds EdDSA, ES256 and RS256 keys");
        return LINTEL_EPARAM;
    }
    rc = keyring_new_key(&pem, kid, err);
    if (rc != 0)
        goto cleanup;
    rc = keyring_begin(&db, &in_tx);
    if (rc != 0)
        goto cleanup;
    /* the audit row names the key that retires: read it before it does */
    rc = db_execf(db, NULL,
                  "INSERT INTO audit_events (action, subject, old_value, new_value)"
                  " SELECT 'key.rotated', ?2, (SELECT kid FROM signing_keys"
                  " WHERE alg = ?1 AND retired_at IS NULL), ?1",
                  "ss", ring.alg, *kid);
    if (rc == 0)
        rc = keyring_retire_current(db);
    if (rc == 0)
        rc = keyring_insert(db, *kid, pem);
    if (rc != 0)
        goto cleanup;
    rc = db_execf(db, NULL,
                  "DELETE FROM signing_keys WHERE alg = ?1 AND retired_at < unixepoch() - ?2", "sI",
                  ring.alg, (json_int_t)(ring.window + KEYRING_KEEP));
cleanup:
    rc = keyring_finish(db, in_tx, rc, err);
    if (rc != 0) {
        free(*kid);
        *kid = NULL;
    }
    keyring_wipe(pem);
    return rc;
}
