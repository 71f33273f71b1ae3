/*
 * Forward-only migrations: a registry of (component, id, sql), applied core first, each in its
 * own BEGIN IMMEDIATE transaction together with its schema_migrations row; table rebuilds run
 * SQLite's 12-step procedure; a snapshot is taken before anything is applied.
 */
#include "migrate.h"

#include "crypto.h"
#include "db.h"
#include "fmt.h"
#include "log.h"
#include "migrate_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <lintel/plugin.h>
#include <lintel/version.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_MAX_REBUILD 8  /* tables one migration may rebuild */
#define MIGRATE_NAME_MAX    64 /* length of a table name in a rebuild line */

/* The release as one integer for PRAGMA user_version: 0.2.0 is 2000, 1.4.12 is 1004012. */
#define MIGRATE_VERSION_NUM                                                                        \
    (LINTEL_VERSION_MAJOR * 1000000 + LINTEL_VERSION_MINOR * 1000 + LINTEL_VERSION_PATCH)

/* The record of what was applied, on one node and in a cluster alike. */
#define MIGRATE_TABLE_SQL                                                                          \
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, id TEXT NOT NULL,"     \
    " checksum TEXT, applied_at TEXT NOT NULL, PRIMARY KEY (component, id))"

/* A migration applied: ?1 component, ?2 id, ?3 checksum. */
#define MIGRATE_RECORD_SQL                                                                         \
    "INSERT INTO schema_migrations (component, id, checksum, applied_at)"                          \
    " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"

struct migration {
    char *component;
    char *id;
    char *sql;
    char *rebuild; /* tables rebuilt, ' '-separated; NULL: an ordinary migration */
    char checksum[65];
    unsigned seq; /* registration order */
};

static pthread_mutex_t migrate_lock = PTHREAD_MUTEX_INITIALIZER;
static struct migration *migrate_list;
static size_t migrate_count;
static size_t migrate_cap;
static unsigned migrate_seq;
static struct migrate_options migrate_opts;

void migrate_set_options(const struct migrate_options *opts)
{
    pthread_mutex_lock(&migrate_lock);
    migrate_opts = *opts;
    pthread_mutex_unlock(&migrate_lock);
}

static void migration_clear(struct migration *m)
{
    free(m->component);
    free(m->id);
    free(m->sql);
    free(m->rebuild);
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

static bool migrate_ident_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/*
 * Reads the "-- lintel: rebuild t1 t2" line from the comment block that opens sql. *tables
 * gets the names, ' '-separated (malloc'd), or NULL when there is no such line. Any other
 * "-- lintel:" directive, or a bad name, is an error: a typo must not silently turn a rebuild
 * into an ordinary migration that runs with foreign keys on.
 */
static int migrate_parse_header(const char *sql, char **tables)
{
    const char *p = sql;
    char *out = NULL;
    size_t len = 0;
    int n = 0;

    *tables = NULL;
    for (;;) {
        const char *line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (p[0] != '-' || p[1] != '-')
            break;
        line = p + 2;
        p = line + strcspn(line, "\n");
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "lintel:", 7) != 0)
            continue;
        line += 7;
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "rebuild", 7) != 0 || (line[7] != ' ' && line[7] != '\t') || out != NULL)
            goto bad;
        line += 7;
        out = calloc(1, MIGRATE_MAX_REBUILD * (MIGRATE_NAME_MAX + 1) + 1);
        if (out == NULL)
            return LINTEL_ENOMEM;
        for (;;) {
            size_t k = 0;
            while (line < p && (*line == ' ' || *line == '\t' || *line == '\r'))
                line++;
            if (line >= p)
                break;
            if (n == MIGRATE_MAX_REBUILD || !migrate_ident_char(*line, true))
                goto bad;
            if (n > 0)
                out[len++] = ' ';
            while (line < p && migrate_ident_char(*line, false) && k < MIGRATE_NAME_MAX)
                out[len + k++] = *line++;
            if (line < p && *line != ' ' && *line != '\t' && *line != '\r')
                goto bad;
            len += k;
            n++;
        }
        if (n == 0)
            goto bad;
    }
    *tables = out;
    return 0;
bad:
    free(out);
    return LINTEL_EPARAM;
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
    rc = migrate_parse_header(sql, &m.rebuild);
    if (rc != 0) {
        if (rc == LINTEL_EPARAM)
            log_error("migrate: %s/%s: a '-- lintel:' line must read '-- lintel: rebuild "
                      "<table> [<table> ...]' (at most %d tables)",
                      component, id, MIGRATE_MAX_REBUILD);
        return rc;
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
    if (m.component == NULL || m.id == NULL || m.sql == NULL ||
        crypto_sha256_hex(sql, strlen(sql), m.checksum) != 0) {
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

/* The registry in the order of application (caller frees; NULL with *n 0 when empty). */
static int migrate_sorted(struct migration ***out)
{
    struct migration **order;
    size_t i;

    *out = NULL;
    if (migrate_count == 0)
        return 0;
    order = calloc(migrate_count, sizeof(*order));
    if (order == NULL)
        return LINTEL_ENOMEM;
    for (i = 0; i < migrate_count; i++)
        order[i] = &migrate_list[i];
    qsort(order, migrate_count, sizeof(*order), migrate_cmp);
    *out = order;
    return 0;
}

static int migrate_rc(sqlite3 *h)
{
    int src = sqlite3_extended_errcode(h) & 0xff;

    if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
        return LINTEL_EUNAVAIL;
    return src == SQLITE_NOMEM ? LINTEL_ENOMEM : LINTEL_EDB;
}

/* *err = "migrations: <SQLite's message>" (malloc'd); returns migrate_rc of that failure. */
static int migrate_fail(sqlite3 *h, char **err)
{
    *err = fmt_alloc("migrations: %s", sqlite3_errmsg(h));
    return migrate_rc(h);
}

/*
 * Runs a one-row query with up to two text parameters; *out gets the first column as malloc'd
 * text, or NULL when there is no row or it is NULL. SQLite's rc.
 */
static int migrate_text(sqlite3 *h, const char *sql, const char *p1, const char *p2, char **out)
{
    sqlite3_stmt *st = NULL;
    int src;

    *out = NULL;
    src = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (src == SQLITE_OK && p1 != NULL)
        src = sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
    if (src == SQLITE_OK && p2 != NULL)
        src = sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            src = SQLITE_OK;
            if (t != NULL && (*out = strdup((const char *)t)) == NULL)
                src = SQLITE_NOMEM;
        } else if (src == SQLITE_DONE) {
            src = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return src;
}

struct migrate_authz {
    bool tx_control;   /* the script tried BEGIN, COMMIT or ROLLBACK */
    json_t *j_parents; /* ordinary migration: tables other tables reference (borrowed) */
    char dropped[MIGRATE_NAME_MAX + 1];
};

/*
 * Refuses BEGIN/COMMIT/ROLLBACK in a script (they would end the migration's transaction) and,
 * in an ordinary migration, DROP TABLE of a table others reference: with foreign keys on,
 * that drop deletes (or cascades into) the referencing rows; it belongs in a rebuild.
 */
static int migrate_authorize(void *arg, int action, const char *a, const char *b, const char *c,
                             const char *d)
{
    struct migrate_authz *az = arg;
    size_t i;

    (void)b;
    (void)c;
    (void)d;
    if (action == SQLITE_TRANSACTION) {
        az->tx_control = true;
        return SQLITE_DENY;
    }
    if (action == SQLITE_DROP_TABLE && az->j_parents != NULL && a != NULL) {
        for (i = 0; i < json_array_size(az->j_parents); i++) {
            if (strcasecmp(json_string_value(json_array_get(az->j_parents, i)), a) == 0) {
                snprintf(az->dropped, sizeof(az->dropped), "%s", a);
                return SQLITE_DENY;
            }
        }
    }
    return SQLITE_OK;
}

/*
 * Appends each row of sql to j, with ?1 bound to arg when arg is not NULL: a one-column row as
 * its text, a two-column one as [first, second].
 */
static int migrate_rows(sqlite3 *h, const char *sql, const char *arg, json_t *j)
{
    sqlite3_stmt *st = NULL;
    json_t *j_row;
    int src;

    src = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (src == SQLITE_OK && arg != NULL)
        src = sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        j_row = sqlite3_column_count(st) == 1
                    ? json_string((const char *)sqlite3_column_text(st, 0))
                    : json_pack("[ss]", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
        src = json_array_append_new(j, j_row) ? SQLITE_NOMEM : SQLITE_OK;
    }
    if (src == SQLITE_DONE)
        src = SQLITE_OK;
    sqlite3_finalize(st);
    return src;
}

/* The tables some foreign key references (a JSON array of names). */
static int migrate_parents(sqlite3 *h, json_t **out)
{
    *out = json_array();
    if (*out == NULL)
        return SQLITE_NOMEM;
    return migrate_rows(h,
                        "SELECT DISTINCT f.\"table\" FROM main.sqlite_schema s,"
                        " pragma_foreign_key_list(s.name) f WHERE s.type = 'table'",
                        NULL, *out);
}

/* The indexes and triggers of table ?1: a rebuild's DROP takes them along (step 8 of 12). */
#define MIGRATE_OBJECTS_SQL                                                                        \
    "SELECT name, sql FROM main.sqlite_schema WHERE tbl_name = ?1 COLLATE NOCASE AND type IN"      \
    " ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"

/* They are appended to j as [[name, sql], ...]. */
static int migrate_objects(sqlite3 *h, const char *table, json_t *j)
{
    return migrate_rows(h, MIGRATE_OBJECTS_SQL, table, j);
}

/*
 * The first dangling reference that is new since the rows of BEFORE (t, r, p, f: a SELECT of
 * pragma_foreign_key_check's table, rowid, parent and fkid as they were): its table, row,
 * parent and how many are new in all. New: a (table, parent, key) that has more violations
 * than before; the rows that were not there before come first.
 */
#define MIGRATE_FK_NEW_SQL(BEFORE)                                                                 \
    "WITH now AS (SELECT \"table\" AS t, rowid AS r, parent AS p, fkid AS f"                       \
    "  FROM pragma_foreign_key_check),"                                                            \
    " was AS (" BEFORE "),"                                                                        \
    " grown AS (SELECT t, p, f FROM now GROUP BY t, p, f HAVING count(*) > "                       \
    "  (SELECT count(*) FROM was b WHERE b.t = now.t AND b.p = now.p AND b.f = now.f))"            \
    " SELECT n.t AS t, n.r AS r, n.p AS p, (SELECT count(*) FROM now) -"                           \
    "  (SELECT count(*) FROM was) AS n"                                                            \
    " FROM now n JOIN grown g ON g.t = n.t AND g.p = n.p AND g.f = n.f"                            \
    " ORDER BY EXISTS (SELECT 1 FROM was b WHERE b.t = n.t AND"                                    \
    "  b.r IS n.r AND b.p = n.p AND b.f = n.f), n.t, n.r LIMIT 1"

static char *migrate_fk_message(const char *mid, const char *table, long long row,
                                const char *parent, long long n)
{
    return fmt_alloc("migration %s would leave a dangling reference: table %s row %lld "
                     "references %s, which has no such row (%lld new in all); rolled back",
                     mid, table, row, parent, n);
}

/*
 * Step 10 of the 12: a dangling reference the migration added. Violations that were there
 * before (an operator's delete with foreign keys off) are only reported in the log: they are
 * no reason to refuse an upgrade. *err names the table, its row and the missing parent.
 */
static int migrate_fk_new(sqlite3 *h, const char *mid, char **err)
{
    sqlite3_stmt *st = NULL;
    int src;
    int rc = 0;

    src = sqlite3_prepare_v2(h, MIGRATE_FK_NEW_SQL("SELECT t, r, p, f FROM temp.lintel_fk_before"),
                             -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *err = migrate_fk_message(
            mid, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
            (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
        rc = LINTEL_EDB;
    } else if (src != SQLITE_DONE) {
        *err = fmt_alloc("migration %s: foreign_key_check: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
    }
    sqlite3_finalize(st);
    return rc;
}

#ifdef LINTEL_TEST_HOOKS
/*
 * Test builds only: LINTEL_TEST_MIGRATE_PAUSE=<component>/<id> holds that migration's
 * transaction open for a minute after its work is done, so a test can kill -9 the process
 * in the middle of a migration.
 */
static void migrate_test_pause(const char *mid)
{
    const char *want = getenv("LINTEL_TEST_MIGRATE_PAUSE");

    if (want != NULL && strcmp(want, mid) == 0) {
        log_always("migrate: test hook: %s holds its transaction for 60 s", mid);
        sleep(60);
    }
}
#endif

/*
 * Applies m unless schema_migrations already has it; the check, the script and the record all
 * happen inside one BEGIN IMMEDIATE, so two processes never apply a migration twice. A rebuild
 * runs with foreign keys off (set outside the transaction, where the pragma has effect),
 * recreates the indexes and triggers the drop took with it, and checks foreign keys before
 * its commit.
 */
/* Runs sql (a schema_migrations write) with ?1 ?2 ?3 = m's component, id and checksum. */
static int migrate_record(sqlite3 *h, const struct migration *m, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(h, sql, -1, &st, NULL);

    if (src == SQLITE_OK)
        src = sqlite3_bind_text(st, 1, m->component, -1, SQLITE_STATIC);
    if (src == SQLITE_OK)
        src = sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
    if (src == SQLITE_OK)
        src = sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
    if (src == SQLITE_OK && sqlite3_step(st) != SQLITE_DONE)
        src = sqlite3_errcode(h) != SQLITE_OK ? sqlite3_errcode(h) : SQLITE_ERROR;
    sqlite3_finalize(st);
    return src;
}

/*
 * Every table a rebuild names (space-separated) must exist: before the rebuild, j_objects
 * collects each one's indexes, triggers and views (migrate_objects); after it (j_objects NULL),
 * a table the migration left out is its failure. 0, or the failure with *err.
 */
static int migrate_rebuilt_tables(sqlite3 *h, const char *mid, const char *rebuild,
                                  json_t *j_objects, char **err)
{
    char *tables = strdup(rebuild), *found = NULL, *save = NULL;
    const char *t;
    int rc = tables != NULL ? 0 : LINTEL_ENOMEM, src;

    for (t = tables != NULL ? strtok_r(tables, " ", &save) : NULL; t != NULL && rc == 0;
         t = strtok_r(NULL, " ", &save)) {
        free(found);
        found = NULL;
        src = migrate_text(h,
                           "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND"
                           " name = ?1 COLLATE NOCASE",
                           t, NULL, &found);
        if (src == SQLITE_OK && found == NULL) {
            *err = j_objects != NULL
                       ? fmt_alloc("migration %s rebuilds table %s, which does not exist", mid, t)
                       : fmt_alloc("migration %s rebuilds table %s but leaves no table of that "
                                   "name",
                                   mid, t);
            rc = LINTEL_EDB;
            break;
        }
        if (src == SQLITE_OK && j_objects != NULL)
            src = migrate_objects(h, t, j_objects);
        if (src != SQLITE_OK) {
            *err = fmt_alloc("migration %s: %s", mid, sqlite3_errmsg(h));
            rc = migrate_rc(h);
        }
    }
    free(found);
    free(tables);
    return rc;
}

static int migrate_one(sqlite3 *h, const struct migration *m, bool *applied, char **err)
{
    struct migrate_authz az = {0};
    json_t *j_objects = NULL;
    json_t *j_parents = NULL;
    char mid[200];
    char *found = NULL;
    char *zerr = NULL;
    size_t i;
    int src;
    int rc = 0;

    *applied = false;
    snprintf(mid, sizeof(mid), "%s/%s", m->component, m->id);
    if (m->rebuild != NULL &&
        sqlite3_exec(h, "PRAGMA foreign_keys=OFF; PRAGMA legacy_alter_table=ON", NULL, NULL,
                     NULL) != SQLITE_OK) {
        *err = fmt_alloc("migration %s: cannot turn foreign keys off: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
        goto cleanup;
    }
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        *err = fmt_alloc("migration %s: cannot start a transaction: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
        goto cleanup;
    }
    src = migrate_text(h,
                       "SELECT checksum FROM schema_migrations WHERE component = ?1 AND id = ?2"
                       " UNION ALL SELECT 'x' LIMIT 1",
                       m->component, m->id, &found);
    if (src != SQLITE_OK) {
        *err = fmt_alloc("migration %s: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
        goto cleanup;
    }
    if (found != NULL && strcmp(found, "x") != 0)
        goto cleanup; /* another process applied it meanwhile */

    if (m->rebuild != NULL) {
        j_objects = json_array();
        rc = j_objects != NULL ? migrate_rebuilt_tables(h, mid, m->rebuild, j_objects, err)
                               : LINTEL_ENOMEM;
        if (rc != 0)
            goto cleanup;
        if (sqlite3_exec(h,
                         "DROP TABLE IF EXISTS temp.lintel_fk_before;"
                         "CREATE TEMP TABLE lintel_fk_before AS SELECT \"table\" AS t, rowid AS r,"
                         " parent AS p, fkid AS f FROM pragma_foreign_key_check",
                         NULL, NULL, NULL) != SQLITE_OK) {
            *err = fmt_alloc("migration %s: foreign_key_check: %s", mid, sqlite3_errmsg(h));
            rc = migrate_rc(h);
            goto cleanup;
        }
    } else {
        src = migrate_parents(h, &j_parents);
        if (src != SQLITE_OK) {
            *err = fmt_alloc("migration %s: %s", mid, sqlite3_errmsg(h));
            rc = src == SQLITE_NOMEM ? LINTEL_ENOMEM : migrate_rc(h);
            goto cleanup;
        }
        az.j_parents = j_parents;
    }

    sqlite3_set_authorizer(h, migrate_authorize, &az);
    src = sqlite3_exec(h, m->sql, NULL, NULL, &zerr);
    db_authorizer_install(h); /* db.c's again */
    if (src != SQLITE_OK) {
        if (az.tx_control)
            *err = fmt_alloc("migration %s failed: it must not contain BEGIN, COMMIT or "
                             "ROLLBACK",
                             mid);
        else if (az.dropped[0] != '\0')
            *err = fmt_alloc("migration %s failed: it drops table %s, which other tables "
                             "reference: declare '-- lintel: rebuild %s' (docs/storage.md)",
                             mid, az.dropped, az.dropped);
        else
            *err =
                fmt_alloc("migration %s failed: %s", mid, zerr != NULL ? zerr : sqlite3_errmsg(h));
        rc = (src & 0xff) == SQLITE_BUSY ? LINTEL_EUNAVAIL : LINTEL_EDB;
        goto cleanup;
    }
    if (sqlite3_get_autocommit(h)) {
        /* The script ended the transaction itself: what ran before that is committed. */
        *err = fmt_alloc("migration %s failed: it must not contain BEGIN, COMMIT or ROLLBACK", mid);
        rc = LINTEL_EDB;
        goto cleanup;
    }

    if (m->rebuild != NULL) {
        /* Steps 8 and 10: what the drop took along comes back, then no new dangling row. */
        for (i = 0; i < json_array_size(j_objects); i++) {
            const char *name = json_string_value(json_array_get(json_array_get(j_objects, i), 0));
            const char *sql = json_string_value(json_array_get(json_array_get(j_objects, i), 1));
            free(found);
            src = migrate_text(h, "SELECT name FROM main.sqlite_schema WHERE name = ?1", name, NULL,
                               &found);
            if (src == SQLITE_OK && found == NULL)
                src = sqlite3_exec(h, sql, NULL, NULL, NULL);
            if (src != SQLITE_OK) {
                *err =
                    fmt_alloc("migration %s: cannot recreate %s: %s", mid, name, sqlite3_errmsg(h));
                rc = migrate_rc(h);
                goto cleanup;
            }
        }
        rc = migrate_rebuilt_tables(h, mid, m->rebuild, NULL, err);
        if (rc != 0)
            goto cleanup;
        rc = migrate_fk_new(h, mid, err);
        if (rc != 0)
            goto cleanup;
        if (sqlite3_exec(h, "DROP TABLE temp.lintel_fk_before", NULL, NULL, NULL) != SQLITE_OK) {
            *err = fmt_alloc("migration %s: %s", mid, sqlite3_errmsg(h));
            rc = migrate_rc(h);
            goto cleanup;
        }
    }
#ifdef LINTEL_TEST_HOOKS
    migrate_test_pause(mid);
#endif
    src = migrate_record(h, m, MIGRATE_RECORD_SQL);
    if (src == SQLITE_OK)
        src = sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        *err = fmt_alloc("migration %s failed: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
        goto cleanup;
    }
    *applied = true;
cleanup:
    if (!sqlite3_get_autocommit(h))
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    if (m->rebuild != NULL &&
        sqlite3_exec(h, "PRAGMA legacy_alter_table=OFF; PRAGMA foreign_keys=ON", NULL, NULL,
                     NULL) != SQLITE_OK &&
        rc == 0) {
        *err =
            fmt_alloc("migration %s: cannot turn foreign keys back on: %s", mid, sqlite3_errmsg(h));
        rc = migrate_rc(h);
    }
    if (rc == LINTEL_ENOMEM && *err == NULL)
        *err = fmt_alloc("migration %s: out of memory", mid);
    sqlite3_free(zerr);
    free(found);
    json_decref(j_objects);
    json_decref(j_parents);
    return rc;
}

static int migrate_ensure_table(sqlite3 *h, char **err)
{
    char *zerr = NULL;
    int rc = 0;

    if (sqlite3_exec(h, MIGRATE_TABLE_SQL, NULL, NULL, &zerr) != SQLITE_OK) {
        *err =
            fmt_alloc("migrations: cannot create schema_migrations: %s", zerr != NULL ? zerr : "?");
        rc = migrate_rc(h);
    }
    sqlite3_free(zerr);
    return rc;
}

/* What the database says of m: the stored checksum (malloc'd) and when, or NULLs if pending. */
static int migrate_recorded(sqlite3 *h, const struct migration *m, char **checksum, char **at)
{
    int src = migrate_text(h,
                           "SELECT coalesce(checksum, '') FROM schema_migrations"
                           " WHERE component = ?1 AND id = ?2",
                           m->component, m->id, checksum);

    *at = NULL;
    if (src == SQLITE_OK && *checksum != NULL)
        src = migrate_text(h,
                           "SELECT applied_at FROM schema_migrations WHERE component = ?1 AND"
                           " id = ?2",
                           m->component, m->id, at);
    return src;
}

static void migrate_version_text(long long num, char *out, size_t size)
{
    if (num <= 0)
        snprintf(out, size, "0.1.0"); /* the one release before versions were recorded */
    else
        snprintf(out, size, "%lld.%lld.%lld", num / 1000000, num / 1000 % 1000, num % 1000);
}

static long long migrate_user_version(sqlite3 *h)
{
    char *v = NULL;
    long long num = 0;

    if (migrate_text(h, "PRAGMA user_version", NULL, NULL, &v) == SQLITE_OK && v != NULL)
        num = atoll(v);
    free(v);
    return num;
}

static int migrate_snapshot_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int migrate_snapshot_filter(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return strncmp(e->d_name, "lintel-", 7) == 0 && n > 10 && strcmp(e->d_name + n - 3, ".db") == 0;
}

/* Keeps the newest keep snapshots (names sort by time: lintel-<UTC time>-<version>.db). */
static void migrate_snapshot_prune(const char *dir, unsigned keep)
{
    struct dirent **list = NULL;
    char path[4096];
    int n, i;

    n = scandir(dir, &list, migrate_snapshot_filter, migrate_snapshot_cmp);
    for (i = 0; i < n; i++) {
        if ((unsigned)(n - i) > keep) {
            int len = snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);

            /* a path that does not fit is never cut short: a cut one could name another file */
            if (len < 0 || (size_t)len >= sizeof(path))
                log_warn("migrate: the old snapshot %s/%s: path too long, kept", dir,
                         list[i]->d_name);
            else if (unlink(path) == 0)
                log_info("migrate: removed the old snapshot %s", path);
            else
                log_warn("migrate: cannot remove the old snapshot %s: %s", path, strerror(errno));
        }
        free(list[i]);
    }
    free(list);
}

/*
 * VACUUM INTO a temporary name, fsync, rename: a snapshot file either is complete or does not
 * exist, even if the process dies while writing it. Mode 0600 like the database.
 */
static int migrate_vacuum_into(sqlite3 *h, const char *tmp, const char *final, char **err)
{
    sqlite3_stmt *st = NULL;
    int fd = -1;
    int src;
    int rc = 0;

    unlink(tmp);
    src = sqlite3_prepare_v2(h, "VACUUM INTO ?1", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        *err = fmt_alloc("migrations: cannot copy the database to %s: %s", tmp, sqlite3_errmsg(h));
        rc = migrate_rc(h);
        goto cleanup;
    }
    fd = open(tmp, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0600) != 0 || fsync(fd) != 0 || rename(tmp, final) != 0) {
        *err = fmt_alloc("migrations: cannot write %s: %s", final, strerror(errno));
        rc = LINTEL_EUNAVAIL;
        goto cleanup;
    }
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    sqlite3_finalize(st);
    return rc;
}

/* A consistent copy of the database before anything changes it, and the old ones pruned. */
static int migrate_snapshot(sqlite3 *h, char **err)
{
    char dir[4096], tmp[4200], final[4200], stamp[32], from[32];
    struct tm tm;
    time_t now = time(NULL);
    int dfd;
    int rc;

    if (snprintf(dir, sizeof(dir), "%s/snapshots", migrate_opts.data_dir) >= (int)sizeof(dir)) {
        *err = fmt_alloc("migrations: the data directory path is too long");
        return LINTEL_EPARAM;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *err = fmt_alloc("migrations: cannot create %s: %s", dir, strerror(errno));
        return LINTEL_EUNAVAIL;
    }
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    migrate_version_text(migrate_user_version(h), from, sizeof(from));
    snprintf(final, sizeof(final), "%s/lintel-%s-%s.db", dir, stamp, from);
    snprintf(tmp, sizeof(tmp), "%s/.lintel-%s-%s.db.tmp", dir, stamp, from);
    rc = migrate_vacuum_into(h, tmp, final, err);
    if (rc != 0)
        return rc;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    log_info("migrate: snapshot of the database as release %s: %s", from, final);
    migrate_snapshot_prune(dir, migrate_opts.snapshot_keep);
    return 0;
}

/* What the database records for one shipped migration: --status, --dry-run and the start use it. */
enum migrate_state { MIGRATE_PENDING, MIGRATE_APPLIED, MIGRATE_CHANGED };

struct migrate_row {
    char *stored; /* the checksum recorded ("" before checksums were kept), NULL: not applied */
    char *at;     /* when it was applied, or NULL */
    enum migrate_state state;
};

/*
 * Fills *row for m (freeing what it held for the previous one); with recorded false the table
 * does not exist yet and m is pending. 0, or the failure in *err. The caller frees row's texts.
 */
static int migrate_row_read(sqlite3 *h, const struct migration *m, bool recorded,
                            struct migrate_row *row, char **err)
{
    free(row->stored);
    free(row->at);
    row->stored = NULL;
    row->at = NULL;
    if (recorded && migrate_recorded(h, m, &row->stored, &row->at) != SQLITE_OK)
        return migrate_fail(h, err);
    if (row->stored == NULL)
        row->state = MIGRATE_PENDING;
    else if (row->stored[0] != '\0' && strcmp(row->stored, m->checksum) != 0)
        row->state = MIGRATE_CHANGED;
    else
        row->state = MIGRATE_APPLIED;
    return 0;
}

/*
 * Checks what the database holds against the registry: a changed file is LINTEL_ECONFLICT
 * (or, when accepted, a warning and the new checksum recorded); *pending counts the rest.
 */
static int migrate_check(sqlite3 *h, struct migration **order, size_t *pending, char **err)
{
    struct migrate_row row = {0};
    size_t i;
    int src;
    int rc = 0;

    *pending = 0;
    for (i = 0; i < migrate_count && rc == 0; i++) {
        const struct migration *m = order[i];
        rc = migrate_row_read(h, m, true, &row, err);
        if (rc != 0 || row.state == MIGRATE_APPLIED) {
            continue;
        } else if (row.state == MIGRATE_PENDING) {
            (*pending)++;
        } else if (!migrate_opts.accept_changed) {
            *err = fmt_alloc("migration %s/%s (sql/%s/%s.sql) changed after it was applied on %s "
                             "(checksum %.12s in the database, %.12s shipped): migrations are "
                             "forward-only; ship the original file and a new migration, or set "
                             "migrate_accept_changed (docs/storage.md)",
                             m->component, m->id, m->component, m->id,
                             row.at != NULL ? row.at : "?", row.stored, m->checksum);
            rc = LINTEL_ECONFLICT;
        } else {
            log_warn("migrate: %s/%s changed after it was applied; accepted "
                     "(migrate_accept_changed), its new checksum is recorded",
                     m->component, m->id);
            src = migrate_record(h, m,
                                 "UPDATE schema_migrations SET checksum = ?3"
                                 " WHERE component = ?1 AND id = ?2");
            if (src != SQLITE_OK)
                rc = migrate_fail(h, err);
        }
    }
    free(row.stored);
    free(row.at);
    return rc;
}

/* A database written by a newer release is not migrated backwards: roll back from a snapshot. */
static int migrate_check_version(sqlite3 *h, char **err)
{
    long long num = migrate_user_version(h);
    char have[32];

    if (num <= MIGRATE_VERSION_NUM)
        return 0;
    migrate_version_text(num, have, sizeof(have));
    *err = fmt_alloc("migrations: the database was last used by lintel %s, newer than this %s; "
                     "run that release, or restore a snapshot taken before it "
                     "(docs/storage.md)",
                     have, LINTEL_VERSION);
    return LINTEL_ECONFLICT;
}

/*
 * This thread's connection and its handle (the caller holds migrate_lock): 0, or the failure
 * in *err.
 */
static int migrate_db(struct db **db, sqlite3 **h, char **err)
{
    int rc = db_thread(db);

    *err = NULL;
    *h = NULL;
    if (rc != 0) {
        *err = strdup("migrations: the database is not available");
        return rc;
    }
    *h = db_handle(*db);
    return 0;
}

/*
 * storage dqlite: there is no handle on the cluster's database, so the migrations go through
 * the storage layer, each in its own transaction on the leader with its schema_migrations row:
 * whichever node starts first applies it, the others find it recorded (BEGIN IMMEDIATE orders
 * them). What needs the handle is not done here: the pre-migration snapshot (take a
 * `lintel cluster dump` instead) and the checks of rebuilds and of BEGIN/COMMIT in a script
 * (the single-node path makes them; run a release there first). docs/cluster.md.
 */
/*
 * A rebuild through the storage layer, steps 8 as migrate_one takes them: before (save) the
 * indexes and triggers of the rebuilt tables are kept in *j_objects; after, those the DROP took
 * along are created again.
 */
static int migrate_remote_rebuild(struct db *db, const struct migration *m, json_t **j_objects,
                                  bool save)
{
    json_t *j_rows = NULL, *j_row = NULL, *j_o;
    char *tables = NULL, *sp = NULL;
    const char *t;
    size_t i;
    int rc = 0;

    if (m->rebuild == NULL)
        return 0;
    if (save) {
        json_decref(*j_objects);
        *j_objects = json_array();
        tables = strdup(m->rebuild);
        if (*j_objects == NULL || tables == NULL)
            rc = LINTEL_ENOMEM;
        for (t = strtok_r(tables, " ", &sp); rc == 0 && t != NULL; t = strtok_r(NULL, " ", &sp)) {
            json_decref(j_rows);
            rc = db_queryf(db, &j_rows, MIGRATE_OBJECTS_SQL, "s", t);
            if (rc == 0)
                json_array_extend(*j_objects, j_rows);
        }
    } else {
        json_array_foreach(*j_objects, i, j_o) {
            json_decref(j_row);
            rc = db_rowf(db, &j_row, "SELECT 1 AS x FROM sqlite_schema WHERE name = ?1", "O",
                         json_object_get(j_o, "name"));
            if (rc == LINTEL_ENOTFOUND)
                rc = db_script(db, json_string_value(json_object_get(j_o, "sql")));
            if (rc != 0)
                break;
        }
    }
    free(tables);
    json_decref(j_rows);
    json_decref(j_row);
    return rc;
}

/*
 * Step 10 through the storage layer: save keeps the violations before the script as JSON text
 * in *j_was; after it, a new dangling reference fails the migration (as migrate_fk_new).
 */
static int migrate_remote_fk(struct db *db, const struct migration *m, json_t **j_was, bool save,
                             char **err)
{
    json_t *j_row = NULL;
    char mid[192];
    int rc;

    if (m->rebuild == NULL)
        return 0;
    if (save) {
        json_decref(*j_was);
        *j_was = NULL;
        rc = db_row(db,
                    "SELECT json_group_array(json_array(\"table\", rowid, parent, fkid)) AS was"
                    " FROM pragma_foreign_key_check",
                    NULL, &j_row);
        if (rc == 0)
            *j_was = json_incref(json_object_get(j_row, "was"));
        json_decref(j_row);
        return rc;
    }
    rc = db_rowf(db, &j_row,
                 MIGRATE_FK_NEW_SQL("SELECT value ->> 0 AS t, value ->> 1 AS r,"
                                    " value ->> 2 AS p, value ->> 3 AS f"
                                    " FROM json_each(?1)"),
                 "o", *j_was != NULL ? json_incref(*j_was) : json_string("[]"));
    if (rc == 0) {
        snprintf(mid, sizeof(mid), "%s/%s", m->component, m->id);
        *err = migrate_fk_message(mid, json_string_value(json_object_get(j_row, "t")),
                                  json_integer_value(json_object_get(j_row, "r")),
                                  json_string_value(json_object_get(j_row, "p")),
                                  json_integer_value(json_object_get(j_row, "n")));
        rc = LINTEL_EDB;
    } else if (rc == LINTEL_ENOTFOUND) {
        rc = 0;
    }
    json_decref(j_row);
    return rc;
}

static int migrate_apply_remote(struct migration **order, char **err)
{
    struct db *db = NULL;
    json_t *j_row = NULL, *j_params = NULL, *j_objects = NULL, *j_was = NULL;
    char sql[64];
    size_t i;
    int rc;

    rc = db_thread(&db);
    if (rc == 0)
        rc = db_exec(db, MIGRATE_TABLE_SQL, NULL, NULL, NULL);
    if (rc == 0)
        rc = db_schema_refresh();
    if (rc == 0)
        rc = db_row(db, "PRAGMA user_version", NULL, &j_row);
    if (rc == 0 &&
        json_integer_value(json_object_get(j_row, "user_version")) > MIGRATE_VERSION_NUM) {
        *err = fmt_alloc("migrations: the cluster's database was last used by a newer lintel "
                         "than this %s",
                         LINTEL_VERSION);
        rc = LINTEL_ECONFLICT;
        goto cleanup;
    }
    for (i = 0; i < migrate_count && rc == 0; i++) {
        const struct migration *m = order[i];
        const char *stored;

        json_decref(j_row);
        j_row = NULL;
        json_decref(j_params);
        j_params = json_pack("[sss]", m->component, m->id, m->checksum);
        if (j_params == NULL) {
            rc = LINTEL_ENOMEM;
            break;
        }
        /* A rebuild as migrate_one runs it: no cascades from the DROP, RENAME as SQLite's 12 steps
         * say. */
        if (m->rebuild != NULL)
            rc = db_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
        if (rc == 0 && m->rebuild != NULL)
            rc = db_exec(db, "PRAGMA legacy_alter_table=ON", NULL, NULL, NULL);
        if (rc == 0)
            rc = db_begin(db);
        if (rc == 0) {
            rc = db_row(db,
                        "SELECT coalesce(checksum, ?3) AS checksum FROM schema_migrations"
                        " WHERE component = ?1 AND id = ?2",
                        j_params, &j_row);
            stored = json_string_value(json_object_get(j_row, "checksum"));
            if (rc == 0 && strcmp(stored, m->checksum) != 0 && !migrate_opts.accept_changed) {
                *err = fmt_alloc("migration %s/%s changed after it was applied (checksum %.12s in "
                                 "the database, %.12s shipped): migrations are forward-only",
                                 m->component, m->id, stored, m->checksum);
                rc = LINTEL_ECONFLICT;
            } else if (rc == LINTEL_ENOTFOUND) {
                rc = migrate_remote_rebuild(db, m, &j_objects, true);
                if (rc == 0)
                    rc = migrate_remote_fk(db, m, &j_was, true, err);
                if (rc == 0)
                    rc = db_script(db, m->sql);
                if (rc == 0)
                    rc = migrate_remote_rebuild(db, m, &j_objects, false);
                if (rc == 0)
                    rc = migrate_remote_fk(db, m, &j_was, false, err);
                if (rc == 0)
                    rc = db_exec(db, MIGRATE_RECORD_SQL, j_params, NULL, NULL);
                if (rc == 0)
                    rc = db_commit(db);
                if (rc == 0) {
                    log_info("migrate: applied %s/%s through the cluster's leader", m->component,
                             m->id);
                    rc = db_schema_refresh();
                } else if (*err == NULL) {
                    *err =
                        fmt_alloc("migration %s/%s failed: %s", m->component, m->id, db_errmsg(db));
                }
            }
            db_rollback(db);
        }
        if (m->rebuild != NULL &&
            (db_exec(db, "PRAGMA legacy_alter_table=OFF", NULL, NULL, NULL) != 0 ||
             db_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != 0) &&
            rc == 0)
            rc = LINTEL_EDB;
    }
    json_decref(j_row);
    j_row = NULL;
    if (rc == 0)
        rc = db_row(db, "PRAGMA user_version", NULL, &j_row);
    if (rc == 0 &&
        json_integer_value(json_object_get(j_row, "user_version")) < MIGRATE_VERSION_NUM) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", MIGRATE_VERSION_NUM);
        rc = db_exec(db, sql, NULL, NULL, NULL);
    }
cleanup:
    if (rc != 0 && *err == NULL)
        *err = fmt_alloc("migrations: %s", db != NULL ? db_errmsg(db) : "no database");
    json_decref(j_row);
    json_decref(j_params);
    json_decref(j_objects);
    json_decref(j_was);
    return rc;
}

/* A connection to a copy (a dry run's, a cluster's), configured as db.c configures the real one. */
static int migrate_open_copy(const char *path, sqlite3 **out, char **err)
{
    sqlite3 *h = NULL;

    *out = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
        sqlite3_db_config(h, SQLITE_DBCONFIG_DQS_DDL, 0, NULL) != SQLITE_OK ||
        sqlite3_db_config(h, SQLITE_DBCONFIG_DQS_DML, 0, NULL) != SQLITE_OK ||
        sqlite3_exec(h, "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF", NULL, NULL, NULL) !=
            SQLITE_OK) {
        *err = fmt_alloc("migrations: cannot open the copy %s: %s", path,
                         h != NULL ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return LINTEL_EUNAVAIL;
    }
    sqlite3_extended_result_codes(h, 1);
    *out = h;
    return 0;
}

/*
 * storage dqlite: there is no handle on the cluster's database, so what reads it through one
 * (--status, --dry-run, the snapshot before migrating) reads a copy of it (db_remote_copy, as
 * `lintel cluster dump` takes it) at <data_dir>/.cluster-copy-<pid>.db; migrate_copy_drop
 * closes and removes it.
 */
static int migrate_cluster_copy(char *path, size_t size, sqlite3 **h, char **err)
{
    char *cerr = NULL;
    int rc;

    *h = NULL;
    if (migrate_opts.data_dir == NULL) {
        *err = strdup("migrations: a copy of the cluster's database needs the data directory");
        return LINTEL_EPARAM;
    }
    snprintf(path, size, "%s/.cluster-copy-%ld.db", migrate_opts.data_dir, (long)getpid());
    unlink(path);
    rc = db_remote_copy(path, &cerr);
    if (rc != 0) {
        *err = fmt_alloc("migrations: no copy of the cluster's database: %s",
                         cerr != NULL ? cerr : "out of memory");
        free(cerr);
        unlink(path);
        return rc;
    }
    rc = migrate_open_copy(path, h, err);
    if (rc != 0)
        unlink(path);
    return rc;
}

static void migrate_copy_drop(sqlite3 *h, const char *path)
{
    char journal[4300];

    sqlite3_close(h);
    unlink(path);
    snprintf(journal, sizeof(journal), "%s-journal", path);
    unlink(journal);
}

/*
 * Whether a shipped migration is not recorded in the cluster's database (without a record of
 * migrations: whether it holds anything).
 */
static bool migrate_remote_pending(struct migration **order)
{
    struct db *db = NULL;
    json_t *j_ids = NULL, *j_row = NULL;
    bool pending = true;
    size_t i;

    if (db_thread(&db) != 0 ||
        db_row(db,
               "SELECT (SELECT count(*) FROM sqlite_schema WHERE name = 'schema_migrations') AS"
               " have, (SELECT count(*) FROM sqlite_schema) AS n",
               NULL, &j_row) != 0)
        goto cleanup;
    if (json_integer_value(json_object_get(j_row, "have")) == 0) {
        pending = json_integer_value(json_object_get(j_row, "n")) > 0;
        goto cleanup;
    }
    j_ids = json_array();
    for (i = 0; j_ids != NULL && i < migrate_count; i++)
        json_array_append_new(j_ids, json_pack("[ss]", order[i]->component, order[i]->id));
    json_decref(j_row);
    j_row = NULL;
    /* an array parameter is bound as its JSON text (db.c) */
    if (j_ids != NULL &&
        db_rowf(db, &j_row,
                "SELECT count(*) AS n FROM json_each(?1) j WHERE NOT EXISTS (SELECT 1 FROM"
                " schema_migrations m WHERE m.component = j.value ->> 0 AND m.id = j.value ->> 1)",
                "O", j_ids) == 0)
        pending = json_integer_value(json_object_get(j_row, "n")) > 0;
cleanup:
    json_decref(j_row);
    json_decref(j_ids);
    return pending;
}

/*
 * storage dqlite: the snapshot before migrating (as migrate_apply takes it on one node), taken
 * of a copy of the cluster's database when a migration is pending there and it holds a schema.
 */
static int migrate_cluster_snapshot(struct migration **order, char **err)
{
    char path[4200];
    sqlite3 *h = NULL;
    char *n_done = NULL;
    size_t pending = 0;
    int rc;

    if (migrate_opts.data_dir == NULL || migrate_opts.snapshot_keep == 0 ||
        !migrate_remote_pending(order))
        return 0;
    rc = migrate_cluster_copy(path, sizeof(path), &h, err);
    if (rc == 0 &&
        migrate_text(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &n_done) != SQLITE_OK)
        rc = migrate_fail(h, err);
    if (rc == 0 && atoll(n_done) > 0) {
        rc = migrate_ensure_table(h, err);
        if (rc == 0)
            rc = migrate_check(h, order, &pending, err);
        if (rc == 0 && pending > 0)
            rc = migrate_snapshot(h, err);
    }
    if (h != NULL)
        migrate_copy_drop(h, path);
    free(n_done);
    return rc;
}

int migrate_apply(char **err)
{
    struct migration **order = NULL;
    struct db *db = NULL;
    sqlite3 *h;
    char *n_done = NULL;
    char sql[64];
    size_t i, pending = 0, n_applied = 0;
    bool applied;
    int rc;

    *err = NULL;
    pthread_mutex_lock(&migrate_lock);
    if (db_remote()) {
        rc = migrate_sorted(&order);
        if (rc == 0)
            rc = migrate_cluster_snapshot(order, err);
        /* A leader change (a node that restarts can cause one) leaves nothing half-applied:
         * each migration is checked again inside its transaction, so the run is repeated. */
        for (i = 0; rc == 0 || (rc == LINTEL_EUNAVAIL && i < 20); i++) {
            if (rc != 0) {
                free(*err);
                *err = NULL;
                nanosleep(&(struct timespec){.tv_nsec = 250000000L}, NULL);
            }
            rc = migrate_apply_remote(order, err);
            if (rc == 0)
                break;
        }
        goto cleanup;
    }
    rc = migrate_db(&db, &h, err);
    if (rc != 0)
        goto cleanup;
    rc = migrate_check_version(h, err);
    if (rc == 0)
        rc = migrate_text(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &n_done) == SQLITE_OK
                 ? 0
                 : migrate_rc(h);
    if (rc == 0)
        rc = migrate_ensure_table(h, err);
    if (rc == 0)
        rc = migrate_sorted(&order);
    if (rc == 0)
        rc = migrate_check(h, order, &pending, err);
    if (rc == 0 && migrate_files_register(h, migrate_opts.data_dir) != SQLITE_OK)
        rc = LINTEL_ENOMEM;
    if (rc != 0)
        goto cleanup;
    /* A new database has nothing to lose; an existing one is copied before it changes. */
    if (pending > 0 && n_done != NULL && atoll(n_done) > 0 && migrate_opts.data_dir != NULL &&
        migrate_opts.snapshot_keep > 0) {
        rc = migrate_snapshot(h, err);
        if (rc != 0)
            goto cleanup;
    }
    for (i = 0; i < migrate_count && pending > 0; i++) {
        rc = migrate_one(h, order[i], &applied, err);
        if (rc != 0)
            goto cleanup;
        if (applied) {
            log_info("migrate: applied %s/%s%s%s", order[i]->component, order[i]->id,
                     order[i]->rebuild != NULL ? ", rebuilt " : "",
                     order[i]->rebuild != NULL ? order[i]->rebuild : "");
            n_applied++;
        }
    }
    if (migrate_user_version(h) < MIGRATE_VERSION_NUM) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", MIGRATE_VERSION_NUM);
        if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK) {
            *err = fmt_alloc("migrations: cannot record the release: %s", sqlite3_errmsg(h));
            rc = migrate_rc(h);
            goto cleanup;
        }
    }
    if (n_applied > 0)
        log_info("migrate: %zu migration(s) applied", n_applied);
    /* Committed: the files whose bytes a migration moved into the database can go. */
    migrate_files_purge(h, migrate_opts.data_dir);
cleanup:
    if (db != NULL)
        migrate_files_unregister(db_handle(db));
    if (rc != 0 && *err != NULL)
        log_error("%s", *err);
    pthread_mutex_unlock(&migrate_lock);
    if (rc == LINTEL_ENOMEM && *err == NULL)
        *err = strdup("migrations: out of memory");
    free(n_done);
    free(order);
    return rc;
}

/* What a --status or --dry-run report keeps while it walks the migrations in order. */
struct migrate_report {
    struct migration **order;
    struct migrate_row row;
    size_t pending;
};

/* Runs body under migrate_lock with the migrations in order; frees the report's state after. */
static int migrate_report_run(int (*body)(struct migrate_report *, FILE *, char **), FILE *out,
                              char **err)
{
    struct migrate_report r = {0};
    int rc;

    *err = NULL;
    pthread_mutex_lock(&migrate_lock);
    rc = migrate_sorted(&r.order);
    if (rc == 0)
        rc = body(&r, out, err);
    pthread_mutex_unlock(&migrate_lock);
    free(r.row.stored);
    free(r.row.at);
    free(r.order);
    return rc;
}

/* --status: each shipped migration's state, and the recorded ones this build does not ship. */
static int migrate_status_body(struct migrate_report *r, FILE *out, char **err)
{
    struct db *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *h = NULL;
    char copy_path[4200];
    char *have = NULL;
    char ver[32];
    size_t i;
    int changed = 0;
    int src;
    int rc;

    if (db_remote())
        rc = migrate_cluster_copy(copy_path, sizeof(copy_path), &h, err);
    else
        rc = migrate_db(&db, &h, err);
    if (rc != 0)
        goto cleanup;
    src = migrate_text(h, "SELECT name FROM sqlite_schema WHERE name = 'schema_migrations'", NULL,
                       NULL, &have);
    if (src != SQLITE_OK) {
        rc = migrate_fail(h, err);
        goto cleanup;
    }
    migrate_version_text(migrate_user_version(h), ver, sizeof(ver));
    fprintf(out, "lintel %s; the database was last migrated by %s\n", LINTEL_VERSION,
            have == NULL ? "nothing (new database)" : ver);
    fprintf(out, "%-10s %-32s %-8s %-20s %s\n", "component", "id", "state", "applied_at",
            "checksum");
    for (i = 0; i < migrate_count; i++) {
        const struct migration *m = r->order[i];
        static const char *const names[] = {"pending", "applied", "CHANGED"};
        rc = migrate_row_read(h, m, have != NULL, &r->row, err);
        if (rc != 0)
            goto cleanup;
        r->pending += r->row.state == MIGRATE_PENDING;
        changed += r->row.state == MIGRATE_CHANGED;
        fprintf(out, "%-10s %-32s %-8s %-20s %.12s", m->component, m->id, names[r->row.state],
                r->row.at != NULL ? r->row.at : "-", m->checksum);
        if (r->row.state == MIGRATE_CHANGED)
            fprintf(out, " (database: %.12s)", r->row.stored);
        if (m->rebuild != NULL)
            fprintf(out, " rebuild: %s", m->rebuild);
        fputc('\n', out);
    }
    if (have != NULL) {
        /* Rows no component of this build ships: a plugin not loaded, or a newer release. */
        src = sqlite3_prepare_v2(h,
                                 "SELECT component, id, applied_at, coalesce(checksum, '')"
                                 " FROM schema_migrations ORDER BY component, id",
                                 -1, &st, NULL);
        while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
            const char *c = (const char *)sqlite3_column_text(st, 0);
            const char *id = (const char *)sqlite3_column_text(st, 1);
            bool known = false;
            for (i = 0; i < migrate_count && !known; i++)
                known = strcmp(migrate_list[i].component, c) == 0 &&
                        strcmp(migrate_list[i].id, id) == 0;
            if (!known)
                fprintf(out, "%-10s %-32s %-8s %-20s %.12s (not shipped by this build)\n", c, id,
                        "unknown", sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
            src = SQLITE_OK;
        }
        if (src != SQLITE_DONE) {
            rc = migrate_fail(h, err);
            goto cleanup;
        }
    }
    fprintf(out, "%zu pending, %d changed\n", r->pending, changed);
    if (changed > 0) {
        *err = fmt_alloc("migrations: %d shipped file(s) changed after they were applied; "
                         "the start stops (see docs/storage.md)",
                         changed);
        rc = LINTEL_ECONFLICT;
    }
cleanup:
    sqlite3_finalize(st);
    if (db_remote() && h != NULL)
        migrate_copy_drop(h, copy_path);
    free(have);
    return rc;
}

int migrate_status(FILE *out, char **err)
{
    return migrate_report_run(migrate_status_body, out, err);
}

/* --dry-run: the pending migrations applied to a throwaway copy, timed, then its integrity check.
 */
static int migrate_dry_run_body(struct migrate_report *r, FILE *out, char **err)
{
    struct db *db = NULL;
    sqlite3 *copy = NULL;
    char path[4200], tmp[4300];
    char *one_err = NULL;
    struct timespec t0, t1;
    size_t i;
    int failed = 0;
    bool applied;
    int rc;

    if (migrate_opts.data_dir == NULL) {
        *err = strdup("migrations: a dry run needs the data directory");
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    if (db_remote()) {
        /* the cluster's copy is the throwaway copy */
        rc = migrate_cluster_copy(path, sizeof(path), &copy, err);
        if (rc == 0)
            rc = migrate_check_version(copy, err);
        if (rc == 0)
            rc = migrate_ensure_table(copy, err);
    } else {
        rc = db_thread(&db);
        if (rc != 0) {
            *err = strdup("migrations: the database is not available");
            goto cleanup;
        }
        rc = migrate_check_version(db_handle(db), err);
        if (rc == 0)
            rc = migrate_ensure_table(db_handle(db), err);
        if (rc != 0)
            goto cleanup;
        snprintf(path, sizeof(path), "%s/.dry-run-%ld.db", migrate_opts.data_dir, (long)getpid());
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        rc = migrate_vacuum_into(db_handle(db), tmp, path, err);
        if (rc == 0)
            rc = migrate_open_copy(path, &copy, err);
    }
    /* (on a cluster, lintel_data_file() is NULL as on its nodes) */
    if (rc == 0 && !db_remote() && migrate_files_register(copy, migrate_opts.data_dir) != SQLITE_OK)
        rc = LINTEL_ENOMEM;
    if (rc != 0)
        goto cleanup;
    fprintf(out, "dry run on a copy of the database (%s); the database is not changed\n", path);
    for (i = 0; i < migrate_count; i++) {
        const struct migration *m = r->order[i];
        rc = migrate_row_read(copy, m, true, &r->row, err);
        if (rc != 0)
            goto cleanup;
        if (r->row.state == MIGRATE_CHANGED) {
            fprintf(out,
                    "CHANGED  %s/%s: applied on %s with checksum %.12s, shipped %.12s"
                    " (the start stops)\n",
                    m->component, m->id, r->row.at != NULL ? r->row.at : "?", r->row.stored,
                    m->checksum);
            failed++;
        } else if (r->row.state == MIGRATE_APPLIED) {
            continue;
        } else if (failed == 0) {
            r->pending++;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rc = migrate_one(copy, m, &applied, &one_err);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (rc == 0)
                fprintf(out, "ok       %s/%s%s%s (%.0f ms)\n", m->component, m->id,
                        m->rebuild != NULL ? ", rebuilds " : "",
                        m->rebuild != NULL ? m->rebuild : "",
                        (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                            (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
            else
                fprintf(out, "FAILS    %s\n", one_err != NULL ? one_err : "?");
            failed += rc != 0;
            free(one_err);
            one_err = NULL;
            rc = 0;
        } else {
            fprintf(out, "blocked  %s/%s (after a failure)\n", m->component, m->id);
        }
    }
    if (failed == 0) {
        char *ic = NULL;
        if (migrate_text(copy, "PRAGMA integrity_check", NULL, NULL, &ic) != SQLITE_OK ||
            ic == NULL || strcmp(ic, "ok") != 0) {
            fprintf(out, "FAILS    integrity_check after the migrations: %s\n",
                    ic != NULL ? ic : sqlite3_errmsg(copy));
            failed++;
        }
        free(ic);
    }
    fprintf(out, "%zu pending; %s\n", r->pending,
            failed == 0 ? "all would apply" : "the start would stop");
    if (failed > 0) {
        *err = strdup("migrations: the dry run failed (see above)");
        rc = LINTEL_EDB;
    }
cleanup:
    if (copy != NULL)
        migrate_copy_drop(copy, path);
    free(one_err);
    return rc;
}

int migrate_dry_run(FILE *out, char **err)
{
    return migrate_report_run(migrate_dry_run_body, out, err);
}
