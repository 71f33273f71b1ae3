/*
 * Forward-only migrations: a registry of (component, id, sql), applied core first, each in its
 * own BEGIN IMMEDIATE transaction together with its schema_migrations row.
 */
#include "migrate.h"

#include "crypto.h"
#include "db.h"
#include "log.h"

#include <lintel/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct migration {
    char *component;
    char *id;
    char *sql;
    unsigned seq; /* registration order */
};

static pthread_mutex_t migrate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct migration *migrate_list;
static size_t migrate_count;
static size_t migrate_cap;
static unsigned migrate_seq;

static void migration_clear(struct migration *m)
{
    free(m->component);
    free(m->id);
    free(m->sql);
}

/* "NNNN_slug": four digits, an underscore, then letters, digits, '_' or '-'. */
static bool migrate_id_valid(const char *id)
{
    size_t i;

    for (i = 0; i < 4; i++)
        if (id[i] < '0' || id[i] > '9')
            return false;
    if (id[4] != '_' || id[5] == '\0')
        return false;
    for (i = 5; id[i] != '\0'; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return i <= 128;
}

int migrate_add(const char *component, const char *id, const char *sql)
{
    struct migration m = {0};
    size_t i;
    int rc = 0;

    if (component == NULL || component[0] == '\0' || strlen(component) > 64 || id == NULL ||
        !migrate_id_valid(id) || sql == NULL) {
        log_error("migrate: %s/%s: the id must look like NNNN_slug and the SQL be given",
                  component != NULL ? component : "(null)", id != NULL ? id : "(null)");
        return LINTEL_EPARAM;
    }
    pthread_mutex_lock(&migrate_lock);
    for (i = 0; i < migrate_count; i++) {
        if (strcmp(migrate_list[i].component, component) == 0 &&
            strcmp(migrate_list[i].id, id) == 0) {
            log_error("migrate: %s/%s is registered twice", component, id);
            rc = LINTEL_ECONFLICT;
            goto cleanup;
        }
    }
    if (migrate_count == migrate_cap) {
        size_t cap = migrate_cap > 0 ? migrate_cap * 2 : 16;
        struct migration *list = realloc(migrate_list, cap * sizeof(*list));
        if (list == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
        migrate_list = list;
        migrate_cap = cap;
    }
    m.component = strdup(component);
    m.id = strdup(id);
    m.sql = strdup(sql);
    if (m.component == NULL || m.id == NULL || m.sql == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    m.seq = migrate_seq++;
    migrate_list[migrate_count++] = m;
    memset(&m, 0, sizeof(m));
cleanup:
    pthread_mutex_unlock(&migrate_lock);
    migration_clear(&m);
    return rc;
}

void migrate_remove(const char *component)
{
    size_t i;
    size_t kept = 0;

    pthread_mutex_lock(&migrate_lock);
    for (i = 0; i < migrate_count; i++) {
        if (strcmp(migrate_list[i].component, component) == 0)
            migration_clear(&migrate_list[i]);
        else
            migrate_list[kept++] = migrate_list[i];
    }
    migrate_count = kept;
    pthread_mutex_unlock(&migrate_lock);
}

void migrate_release(void)
{
    size_t i;

    pthread_mutex_lock(&migrate_lock);
    for (i = 0; i < migrate_count; i++)
        migration_clear(&migrate_list[i]);
    free(migrate_list);
    migrate_list = NULL;
    migrate_count = 0;
    migrate_cap = 0;
    migrate_seq = 0;
    pthread_mutex_unlock(&migrate_lock);
}

/* The order of a component: core first, then by its first registration. */
static unsigned migrate_rank(const char *component)
{
    size_t i;
    unsigned first = ~0u;

    if (strcmp(component, "core") == 0)
        return 0;
    for (i = 0; i < migrate_count; i++)
        if (strcmp(migrate_list[i].component, component) == 0 && migrate_list[i].seq < first)
            first = migrate_list[i].seq;
    return first + 1;
}

static int migrate_cmp(const void *a, const void *b)
{
    const struct migration *ma = *(struct migration *const *)a;
    const struct migration *mb = *(struct migration *const *)b;
    unsigned ra = migrate_rank(ma->component);
    unsigned rb = migrate_rank(mb->component);

    if (ra != rb)
        return ra < rb ? -1 : 1;
    return strcmp(ma->id, mb->id);
}

/* Refuses BEGIN/COMMIT/ROLLBACK in a script: they would end the migration's transaction. */
static int migrate_authorize(void *arg, int action, const char *a, const char *b, const char *c,
                             const char *d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    if (action == SQLITE_TRANSACTION) {
        *(bool *)arg = true;
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

static char *migrate_errf(const char *fmt, const char *component, const char *id, const char *msg)
{
    char *out = NULL;

    if (asprintf(&out, fmt, component, id, msg) < 0)
        out = NULL;
    return out;
}

/*
 * Applies m unless schema_migrations already has it; the check, the script and the record all
 * happen inside one BEGIN IMMEDIATE, so two processes never apply a migration twice.
 */
static int migrate_one(struct db *db, const struct migration *m, bool *applied, char **err)
{
    sqlite3 *h = db_handle(db);
    json_t *j_params = NULL;
    json_t *j_row = NULL;
    char hex[65];
    const char *checksum = NULL;
    const json_t *j_old;
    char *zerr = NULL;
    bool tx_control = false;
    int src;
    int rc;

    *applied = false;
    if (crypto_sha256_hex(m->sql, strlen(m->sql), hex) == 0)
        checksum = hex;
    j_params = json_pack("{s:s, s:s}", "component", m->component, "id", m->id);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = db_begin(db);
    if (rc != 0) {
        *err = migrate_errf("migration %s/%s: cannot start a transaction: %s", m->component, m->id,
                            db_errmsg(db));
        goto cleanup;
    }
    rc = db_row(db,
                "SELECT checksum FROM schema_migrations WHERE component = :component AND id = :id",
                j_params, &j_row);
    if (rc == 0) {
        j_old = json_object_get(j_row, "checksum");
        if (checksum != NULL && json_is_string(j_old) &&
            strcmp(json_string_value(j_old), checksum) != 0)
            log_warn("migrate: %s/%s changed after it was applied; migrations are forward-only, "
                     "add a new one instead",
                     m->component, m->id);
        rc = db_rollback(db);
        goto cleanup;
    }
    if (rc != LINTEL_ENOTFOUND) {
        *err = migrate_errf("migration %s/%s: %s", m->component, m->id, db_errmsg(db));
        goto cleanup;
    }

    sqlite3_set_authorizer(h, migrate_authorize, &tx_control);
    src = sqlite3_exec(h, m->sql, NULL, NULL, &zerr);
    sqlite3_set_authorizer(h, NULL, NULL);
    if (src != SQLITE_OK) {
        *err = migrate_errf("migration %s/%s failed: %s", m->component, m->id,
                            tx_control     ? "it must not contain BEGIN, COMMIT or ROLLBACK"
                            : zerr != NULL ? zerr
                                           : sqlite3_errmsg(h));
        rc = (src & 0xff) == SQLITE_BUSY ? LINTEL_EUNAVAIL : LINTEL_EDB;
        goto cleanup;
    }
    if (sqlite3_get_autocommit(h)) {
        /* The script ended the transaction itself: what ran before that is committed. */
        *err = migrate_errf("migration %s/%s failed: %s", m->component, m->id,
                            "it must not contain BEGIN, COMMIT or ROLLBACK");
        rc = LINTEL_EDB;
        goto cleanup;
    }
    json_decref(j_params);
    j_params =
        json_pack("{s:s, s:s, s:s?}", "component", m->component, "id", m->id, "checksum", checksum);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = db_exec(db,
                 "INSERT INTO schema_migrations (component, id, checksum, applied_at) VALUES "
                 "(:component, :id, :checksum, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                 j_params, NULL, NULL);
    if (rc == 0)
        rc = db_commit(db);
    if (rc != 0) {
        *err = migrate_errf("migration %s/%s failed: %s", m->component, m->id, db_errmsg(db));
        goto cleanup;
    }
    *applied = true;
cleanup:
    if (db_in_tx(db))
        db_rollback(db);
    if (rc == LINTEL_ENOMEM && *err == NULL)
        *err = migrate_errf("migration %s/%s: %s", m->component, m->id, "out of memory");
    sqlite3_free(zerr);
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

int migrate_apply(char **err)
{
    struct migration **order = NULL;
    struct db *db = NULL;
    char *zerr = NULL;
    size_t i;
    size_t n_applied = 0;
    bool applied;
    int rc;

    *err = NULL;
    pthread_mutex_lock(&migrate_lock);
    rc = db_thread(&db);
    if (rc != 0) {
        *err = strdup("migrations: the database is not available");
        goto cleanup;
    }
    if (sqlite3_exec(db_handle(db),
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "component TEXT NOT NULL, id TEXT NOT NULL, checksum TEXT, "
                     "applied_at TEXT NOT NULL, PRIMARY KEY (component, id))",
                     NULL, NULL, &zerr) != SQLITE_OK) {
        if (asprintf(err, "migrations: cannot create schema_migrations: %s",
                     zerr != NULL ? zerr : "?") < 0)
            *err = NULL;
        rc = (sqlite3_extended_errcode(db_handle(db)) & 0xff) == SQLITE_BUSY ? LINTEL_EUNAVAIL
                                                                             : LINTEL_EDB;
        goto cleanup;
    }
    if (migrate_count > 0) {
        order = calloc(migrate_count, sizeof(*order));
        if (order == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    }
    for (i = 0; i < migrate_count; i++)
        order[i] = &migrate_list[i];
    if (migrate_count > 1)
        qsort(order, migrate_count, sizeof(*order), migrate_cmp);

    for (i = 0; i < migrate_count; i++) {
        rc = migrate_one(db, order[i], &applied, err);
        if (rc != 0) {
            log_error("%s", *err != NULL ? *err : "migrate: failed");
            goto cleanup;
        }
        if (applied) {
            log_info("migrate: applied %s/%s", order[i]->component, order[i]->id);
            n_applied++;
        }
    }
    if (n_applied > 0)
        log_info("migrate: %zu migration(s) applied", n_applied);
cleanup:
    pthread_mutex_unlock(&migrate_lock);
    if (rc == LINTEL_ENOMEM && *err == NULL)
        *err = strdup("migrations: out of memory");
    sqlite3_free(zerr);
    free(order);
    return rc;
}
