/*
 * `lintel import <profile> FILE`: brings a seed system's existing data into lintel, all or
 * nothing, through the same tables, rules (CHECKs) and extension functions as the API.
 */
#include "import_cli.h"

#include "cli_db.h"
#include "config.h"
#include "db.h"

#include <jansson.h>
#include <lintel/plugin.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A file larger than this is refused before it is read: the import holds it in memory. */
#define IMPORT_MAX_BYTES (256LL * 1024 * 1024)

struct import_report {
    long long rows;
    json_t *j_per_user; /* {username: count} */
};

/* One importer: reads path (size already checked), writes inside the caller's transaction. */
struct importer {
    const char *profile;
    const char *table; /* a table the import needs (migrated by the profile's plugin)  */
    const char *what;  /* the seed's store, for --help                                  */
    int (*run)(struct db *db, const char *path, struct import_report *rep);
};

/* The id of a live user named username, or 0 with the reason on stderr. */
static long long import_user(struct db *db, const char *username)
{
    json_t *j_row = NULL;
    long long id = 0;

    if (db_rowf(db, &j_row,
                "SELECT id FROM users WHERE username = ?1 COLLATE NOCASE AND deleted_at IS NULL",
                "s", username) == 0)
        id = (long long)json_integer_value(json_object_get(j_row, "id"));
    else
        fprintf(stderr,
                "lintel import: no user '%s' in lintel: create it first (lintel user add %s)\n",
                username, username);
    json_decref(j_row);
    return id;
}

static void import_count(struct import_report *rep, const char *username)
{
    json_t *j = json_object_get(rep->j_per_user, username);

    json_object_set_new(rep->j_per_user, username, json_integer(json_integer_value(j) + 1));
    rep->rows++;
}

/* Doc ids of a TinyDB table in numeric order, so lintel's ids keep the seed's order. */
static int import_doc_cmp(const void *a, const void *b)
{
    long long x = atoll(*(const char *const *)a), y = atoll(*(const char *const *)b);

    return x < y ? -1 : x > y;
}

/*
 * Seed 000's TinyDB file: {"numbers": {"<doc id>": {"username", "value", "created_at"}}}.
 * Every number goes to the lintel user of that name; the value passes lintel_rule_number (the
 * table's CHECK); created_at keeps its second.
 */
static int import_wec(struct db *db, const char *path, struct import_report *rep)
{
    json_error_t err;
    json_t *j_root = json_load_file(path, JSON_REJECT_DUPLICATES, &err), *j_docs, *j_doc;
    const char **keys = NULL, *key;
    size_t n = 0, i;
    int rc = -1;

    if (j_root == NULL) {
        fprintf(stderr, "lintel import: %s is not JSON: %s (line %d)\n", path, err.text, err.line);
        return -1;
    }
    j_docs = json_object_get(j_root, "numbers");
    if (!json_is_object(j_docs)) {
        fprintf(stderr, "lintel import: %s has no \"numbers\" table (a TinyDB file of seed 000)\n",
                path);
        goto cleanup;
    }
    keys = calloc(json_object_size(j_docs) + 1, sizeof(*keys));
    if (keys == NULL)
        goto cleanup;
    json_object_foreach(j_docs, key, j_doc)
        keys[n++] = key;
    qsort(keys, n, sizeof(*keys), import_doc_cmp);
    for (i = 0; i < n; i++) {
        const char *username, *created;
        long long uid;

        j_doc = json_object_get(j_docs, keys[i]);
        username = json_string_value(json_object_get(j_doc, "username"));
        created = json_string_value(json_object_get(j_doc, "created_at"));
        if (username == NULL || created == NULL || json_object_get(j_doc, "value") == NULL) {
            fprintf(stderr, "lintel import: numbers[%s]: needs username, value and created_at\n",
                    keys[i]);
            goto cleanup;
        }
        uid = import_user(db, username);
        if (uid == 0)
            goto cleanup;
        if (db_execf(db, NULL,
                     "INSERT INTO numbers (user_id, value, created_at, updated_at)"
                     " VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', ?3),"
                     " strftime('%Y-%m-%dT%H:%M:%SZ', ?3))",
                     "IOs", (json_int_t)uid, json_object_get(j_doc, "value"), created) != 0) {
            fprintf(stderr, "lintel import: numbers[%s] refused: %s\n", keys[i], db_errmsg(db));
            goto cleanup;
        }
        import_count(rep, username);
    }
    rc = 0;
cleanup:
    free(keys);
    json_decref(j_root);
    return rc;
}

/*
 * One line of a JSON-lines file, parsed (j_line: an object, borrowed), numbered from 1 for the
 * messages. 0, or -1 after saying on stderr which line was refused and why.
 */
typedef int (*import_line_fn)(struct db *db, long long lineno, const json_t *j_line,
                              struct import_report *rep, void *ctx);

/* The JSON object on line lineno (new reference), or NULL after saying why it is not one. */
static json_t *import_line_object(const char *line, long long lineno)
{
    json_error_t err;
    json_t *j_line = json_loads(line, JSON_REJECT_DUPLICATES, &err);

    if (j_line == NULL) {
        fprintf(stderr, "lintel import: line %lld: not JSON: %s (column %d)\n", lineno, err.text,
                err.column);
    } else if (!json_is_object(j_line)) {
        fprintf(stderr, "lintel import: line %lld: not a JSON object\n", lineno);
        json_decref(j_line);
        j_line = NULL;
    }
    return j_line;
}

/*
 * Reads path as JSON lines (blank lines skipped) and hands each object to fn. A line that is
 * not a JSON object (a truncated last line among them) stops the import, naming the line.
 */
static int import_jsonl(struct db *db, const char *path, struct import_report *rep,
                        import_line_fn fn, void *ctx)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 0;
    json_t *j_line;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "lintel import: cannot read %s\n", path);
        return -1;
    }
    /* each line's object lives for its own turn of the loop */
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        j_line = import_line_object(line, lineno);
        rc = j_line != NULL ? fn(db, lineno, j_line, rep, ctx) : -1;
        json_decref(j_line);
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "lintel import: reading %s failed after line %lld\n", path, lineno);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

/*
 * The row of a line {"<table>": {...}} whose table is one of tables (NULL-terminated): *table
 * is its name. NULL after saying which tables the line may name.
 */
static const json_t *import_table_row(long long lineno, const json_t *j_line,
                                      const char *const *tables, const char **table)
{
    const json_t *j_row;
    size_t i;

    for (i = 0; tables[i] != NULL; i++) {
        j_row = json_object_get(j_line, tables[i]);
        if (json_object_size(j_line) == 1 && json_is_object(j_row)) {
            *table = tables[i];
            return j_row;
        }
    }
    fprintf(stderr, "lintel import: line %lld: not {\"%s\"|\"%s\": {...}}\n", lineno, tables[0],
            tables[1]);
    return NULL;
}

/*
 * A seed's account: a new lintel user named by username_sql (SQL of ?1, the seed's name) with
 * the seed's bcrypt hash kept (it verifies as it is and is rehashed at the first login), role
 * and email (normalized; NULL: none). *uid is the new id. 0, or -1 with the line's reason.
 */
static int import_account(struct db *db, long long lineno, const char *username_sql,
                          const char *name, const json_t *j_hash, const char *role,
                          const char *email, long long *uid)
{
    const char *hash = json_string_value(j_hash);
    json_t *j_params = NULL;
    char sql[512];
    int rc = -1;

    *uid = 0;
    if (name == NULL || hash == NULL || strncmp(hash, "$2", 2) != 0) {
        fprintf(stderr,
                "lintel import: line %lld: an account needs its name and its bcrypt"
                " hash\n",
                lineno);
        return -1;
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (username, password_hash, role, email)"
             " VALUES (%s, ?2, ?3, lintel_email_normalize(?4))",
             username_sql);
    j_params = json_pack("[ssss?]", name, hash, role, email);
    if (j_params == NULL)
        return -1;
    rc = db_exec(db, sql, j_params, NULL, uid);
    if (rc == LINTEL_ECONFLICT)
        fprintf(stderr, "lintel import: line %lld: '%s' is already a lintel account\n", lineno,
                email != NULL ? email : name);
    else if (rc != 0)
        fprintf(stderr, "lintel import: line %lld: account '%s' refused: %s\n", lineno, name,
                db_errmsg(db));
    json_decref(j_params);
    return rc == 0 ? 0 : -1;
}

/* The seed's name as the lintel username when the rule allows it and it is free, else prefix
 * and random hex (SQL of ?1; the prefix is a constant of this file). */
#define IMPORT_USERNAME(prefix)                                                                    \
    "CASE WHEN lintel_rule_username(?1) IS NULL AND NOT EXISTS (SELECT 1 FROM users"               \
    " WHERE username = ?1 COLLATE NOCASE) THEN ?1 ELSE '" prefix "' || lower(hex(randomblob(6)))"  \
    " END"

/*
 * Seed 002's Postgres tables as JSON lines, one row a line under its table's name:
 *   psql -At -c "SELECT json_build_object('users', u) FROM users u
 *                UNION ALL SELECT json_build_object('data_points', d) FROM data_points d"
 * users {username, hashed_password (bcrypt: verifies as it is, rehashed at first login),
 * role}; data_points {time, value, valid, tags}. A user lintel has already is kept as it is.
 */
static int import_datapoints_line(struct db *db, long long lineno, const json_t *j_line,
                                  struct import_report *rep, void *ctx)
{
    static const char *const tables[] = {"users", "data_points", NULL};
    const char *table = NULL;
    const json_t *j_row = import_table_row(lineno, j_line, tables, &table);

    (void)ctx;
    if (j_row == NULL)
        return -1;
    if (strcmp(table, "users") == 0) {
        const char *role = json_string_value(json_object_get(j_row, "role"));
        if (db_execf(db, NULL,
                     "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT DO NOTHING",
                     "OOs", json_object_get(j_row, "username"),
                     json_object_get(j_row, "hashed_password"),
                     role != NULL && strcmp(role, "admin") == 0 ? "admin" : "user") != 0) {
            fprintf(stderr, "lintel import: line %lld (users) refused: %s\n", lineno,
                    db_errmsg(db));
            return -1;
        }
    } else {
        json_t *j_tags = json_object_get(j_row, "tags");
        long long changes = 0;
        /* valid is the extension's verdict on the tags; the seed's must agree with it */
        if (db_execf(db, &changes,
                     "INSERT INTO datapoints (ts, value, tags, valid)"
                     " SELECT unixepoch(?1), ?2, ?4, lintel_datapoint_valid(?4)"
                     " WHERE unixepoch(?1) IS NOT NULL AND lintel_datapoint_valid(?4) = ?3",
                     "OOOo", json_object_get(j_row, "time"), json_object_get(j_row, "value"),
                     json_object_get(j_row, "valid"),
                     json_is_array(j_tags) ? json_incref(j_tags) : json_array()) != 0 ||
            changes != 1) {
            fprintf(stderr,
                    "lintel import: line %lld (data_points) refused: a time lintel cannot "
                    "read, or a valid flag its tags do not give %s\n",
                    lineno, db_errmsg(db));
            return -1;
        }
    }
    import_count(rep, table);
    return 0;
}

static int import_datapoints(struct db *db, const char *path, struct import_report *rep)
{
    return import_jsonl(db, path, rep, import_datapoints_line, NULL);
}

/* A DynamoDB string attribute {"S": "..."} of an item, or NULL. */
static const char *import_ddb_str(const json_t *j_item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(j_item, name), "S"));
}

/*
 * Seed 003's DynamoDB table "fender" as JSON lines of DynamoDB JSON, one item a line: what
 *   aws dynamodb scan --table-name fender --output json | jq -c '.Items[]'
 * prints, or a table export's {"Item": {...}} lines. USER items {id, name, email,
 * password_hash} become lintel users (the email as username when it is a free one) with their
 * profile row, the seed's id kept so clients' ids stay; TOKEN items are skipped, counted: they
 * were signed with the seed's key, so their holders log in again.
 */
static int import_fender_line(struct db *db, long long lineno, const json_t *j_line,
                              struct import_report *rep, void *ctx)
{
    const json_t *j_item = json_object_get(j_line, "Item");
    const char *type, *id, *name, *email;
    long long uid = 0;
    int rc = -1;

    (void)ctx;
    if (j_item == NULL)
        j_item = j_line;
    type = import_ddb_str(j_item, "_TYPE");
    if (type != NULL && strcmp(type, "TOKEN") == 0) {
        import_count(rep, "tokens skipped");
        return 0;
    }
    if (type == NULL || strcmp(type, "USER") != 0) {
        fprintf(stderr,
                "lintel import: line %lld: not a USER or TOKEN item of DynamoDB JSON"
                " ({\"_TYPE\": {\"S\": ...}, ...})\n",
                lineno);
        return -1;
    }
    id = import_ddb_str(j_item, "id");
    name = import_ddb_str(j_item, "name");
    email = import_ddb_str(j_item, "email");
    if (id == NULL || strlen(id) != 36 || name == NULL || email == NULL) {
        fprintf(stderr,
                "lintel import: line %lld: a USER item needs id (a uuid), name and"
                " email as strings\n",
                lineno);
        return -1;
    }
    if (import_account(db, lineno, IMPORT_USERNAME("f_"), email,
                       json_object_get(json_object_get(j_item, "password_hash"), "S"), "user",
                       email, &uid) != 0)
        return -1;
    rc = db_execf(db, NULL,
                  "INSERT INTO compat_fender_users (user_id, uid, name) VALUES (?1, ?2, ?3)", "Iss",
                  (json_int_t)uid, id, name);
    if (rc != 0)
        fprintf(stderr, "lintel import: line %lld: user %s refused: %s\n", lineno, id,
                rc == LINTEL_ECONFLICT ? "its id is taken" : db_errmsg(db));
    else
        import_count(rep, "users");
    return rc == 0 ? 0 : -1;
}

static int import_fender(struct db *db, const char *path, struct import_report *rep)
{
    return import_jsonl(db, path, rep, import_fender_line, NULL);
}

/*
 * Seed 004's Postgres tables as JSON lines, one row a line under its table's name, users
 * before tasks:
 *   psql -At -c "SELECT json_build_object('users', u) FROM users u
 *                UNION ALL SELECT json_build_object('tasks', t) FROM tasks t"
 * users {id, username, hashed_password} become lintel users (a name lintel has already stops
 * the import: its tasks would land in someone else's account); tasks {title, description,
 * completed, owner_id} go to the user of owner_id. ctx: {seed id: lintel id}.
 */
static int import_tasks_line(struct db *db, long long lineno, const json_t *j_line,
                             struct import_report *rep, void *ctx)
{
    static const char *const tables[] = {"users", "tasks", NULL};
    json_t *j_ids = ctx;
    const char *table = NULL;
    const json_t *j_row = import_table_row(lineno, j_line, tables, &table), *j_owner;
    char key[32];
    long long uid = 0;
    int rc = -1;

    if (j_row == NULL)
        return -1;
    if (strcmp(table, "users") == 0) {
        const json_t *j_hash = json_object_get(j_row, "hashed_password");
        if (!json_is_integer(json_object_get(j_row, "id"))) {
            fprintf(stderr, "lintel import: line %lld: a user needs its integer id\n", lineno);
            return -1;
        }
        if (import_account(db, lineno, "?1", json_string_value(json_object_get(j_row, "username")),
                           j_hash != NULL ? j_hash : json_object_get(j_row, "password_hash"),
                           "user", NULL, &uid) != 0)
            return -1;
        snprintf(key, sizeof(key), "%lld",
                 (long long)json_integer_value(json_object_get(j_row, "id")));
        if (json_object_set_new(j_ids, key, json_integer((json_int_t)uid)) != 0)
            return -1;
        import_count(rep, table);
        return 0;
    }
    j_owner = json_object_get(j_row, "owner_id");
    snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(j_owner));
    if (!json_is_integer(j_owner) || json_object_get(j_ids, key) == NULL) {
        fprintf(stderr,
                "lintel import: line %lld: owner_id is not the id of a user on an earlier"
                " line\n",
                lineno);
        return -1;
    }
    /* the table's CHECKs are the extension's task rules: a title they refuse stops here */
    rc = db_execf(db, NULL,
                  "INSERT INTO tasks (user_id, title, description, done) VALUES (?1, ?2, ?3, ?4)",
                  "OO?O?O", json_object_get(j_ids, key), json_object_get(j_row, "title"),
                  json_object_get(j_row, "description"),
                  json_is_true(json_object_get(j_row, "completed")) ? json_true() : json_false());
    if (rc != 0)
        fprintf(stderr, "lintel import: line %lld (tasks) refused: %s %s\n", lineno,
                db_errfield(db) != NULL ? db_errfield(db) : "", db_errmsg(db));
    else
        import_count(rep, table);
    return rc == 0 ? 0 : -1;
}

static int import_tasks(struct db *db, const char *path, struct import_report *rep)
{
    json_t *j_ids = json_object();
    int rc = j_ids != NULL ? import_jsonl(db, path, rep, import_tasks_line, j_ids) : -1;

    json_decref(j_ids);
    return rc;
}

/*
 * Seed 001's SQLite app.db: users(id, identifier, password_hash, avatar_url, is_deleted). Each
 * row becomes a lintel user (the identifier as username when it passes lintel_rule_username and
 * is free, else a generated one) and its identifier row of the chililabs profile; the bcrypt
 * hash is kept (it verifies as it is and is rehashed at first login). A deleted row stays
 * deleted, its identifier reserved. Avatar files are not read: their names are user text.
 */
static int import_chililabs(struct db *db, const char *path, struct import_report *rep)
{
    sqlite3 *seed = NULL;
    sqlite3_stmt *st = NULL;
    json_t *j_params = NULL, *j_row = NULL;
    long long uid = 0;
    int rc = -1, step;

    if (sqlite3_open_v2(path, &seed, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            seed, "SELECT id, identifier, password_hash, is_deleted FROM users ORDER BY id", -1,
            &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "lintel import: %s is not seed 001's app.db: %s\n", path,
                seed != NULL ? sqlite3_errmsg(seed) : "cannot open");
        goto cleanup;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ident = (const char *)sqlite3_column_text(st, 1);
        const char *hash = (const char *)sqlite3_column_text(st, 2);
        int deleted = sqlite3_column_int(st, 3) != 0;
        long long seed_id = sqlite3_column_int64(st, 0);

        if (ident == NULL || hash == NULL || hash[0] == '\0') {
            fprintf(stderr, "lintel import: users[%lld]: needs identifier and password_hash\n",
                    seed_id);
            goto cleanup;
        }
        if (db_rowf(db, &j_row,
                    "SELECT 1 AS taken FROM compat_chililabs_identifiers WHERE identifier = ?1",
                    "s", ident) == 0) {
            fprintf(stderr, "lintel import: users[%lld]: identifier '%s' exists in lintel\n",
                    seed_id, ident);
            goto cleanup;
        }
        j_params = json_pack("[ssb]", ident, hash, deleted);
        if (j_params == NULL)
            goto cleanup;
        /* the same mapping as POST /register; a deleted account keeps no hash, as deletion does */
        if (db_exec(
                db,
                "INSERT INTO users (username, password_hash, deleted_at) VALUES (" IMPORT_USERNAME(
                    "cl_") ","
                           " CASE WHEN ?3 THEN '*' ELSE ?2 END,"
                           " CASE WHEN ?3 THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END)",
                j_params, NULL, &uid) != 0) {
            fprintf(stderr, "lintel import: users[%lld] refused: %s\n", seed_id, db_errmsg(db));
            goto cleanup;
        }
        json_decref(j_params);
        j_params = NULL;
        if (db_execf(
                db, NULL,
                "INSERT INTO compat_chililabs_identifiers (user_id, identifier) VALUES (?1, ?2)",
                "Is", (json_int_t)uid, ident) != 0) {
            fprintf(stderr, "lintel import: users[%lld] refused: %s\n", seed_id, db_errmsg(db));
            goto cleanup;
        }
        import_count(rep, deleted ? "deleted" : "active");
    }
    if (step != SQLITE_DONE) {
        fprintf(stderr, "lintel import: reading %s: %s\n", path, sqlite3_errmsg(seed));
        goto cleanup;
    }
    rc = 0;
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    sqlite3_finalize(st);
    sqlite3_close(seed);
    return rc;
}

static const struct importer importers[] = {
    {"wec", "numbers", "seed 000's TinyDB file (data/db.json)", import_wec},
    {"chililabs", "compat_chililabs_identifiers", "seed 001's SQLite app.db", import_chililabs},
    {"datapoints", "datapoints", "seed 002's users and data_points as JSON lines",
     import_datapoints},
    {"fender", "compat_fender_users", "seed 003's DynamoDB items as JSON lines", import_fender},
    {"tasks", "tasks", "seed 004's users and tasks as JSON lines", import_tasks},
};

static int import_usage(void)
{
    size_t i;

    fprintf(stderr, "usage: lintel import PROFILE FILE   (all or nothing)\n");
    for (i = 0; i < sizeof(importers) / sizeof(importers[0]); i++)
        fprintf(stderr, "  %-11s %s\n", importers[i].profile, importers[i].what);
    return 2;
}

int import_cli_main(int argc, char **argv, const struct config *cfg)
{
    const struct importer *imp = NULL;
    struct import_report rep = {0, NULL};
    struct db *db = NULL;
    struct stat st;
    const char *key;
    json_t *j_n;
    size_t i;
    int opened = 0, status = 1, in_tx = 0;

    if (argc != 3)
        return import_usage();
    for (i = 0; i < sizeof(importers) / sizeof(importers[0]); i++)
        if (strcmp(argv[1], importers[i].profile) == 0)
            imp = &importers[i];
    if (imp == NULL)
        return import_usage();
    if (stat(argv[2], &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "lintel import: %s is not a readable file\n", argv[2]);
        return 1;
    }
    if ((long long)st.st_size > IMPORT_MAX_BYTES) {
        fprintf(stderr, "lintel import: %s is larger than %lld bytes\n", argv[2], IMPORT_MAX_BYTES);
        return 1;
    }
    rep.j_per_user = json_object();
    if (rep.j_per_user == NULL)
        return 1;
    if (cli_db_open(cfg, "lintel import", imp->table, &db, &opened) != 0)
        goto cleanup;
    if (db_begin(db) != 0) {
        fprintf(stderr, "lintel import: %s\n", db_errmsg(db));
        goto cleanup;
    }
    in_tx = 1;
    if (imp->run(db, argv[2], &rep) != 0)
        goto cleanup;
    if (db_commit(db) != 0) {
        fprintf(stderr, "lintel import: %s\n", db_errmsg(db));
        goto cleanup;
    }
    in_tx = 0;
    printf("imported %lld rows from %s (%s):", rep.rows, argv[2], imp->profile);
    json_object_foreach(rep.j_per_user, key, j_n)
        printf(" %s %lld", key, (long long)json_integer_value(j_n));
    printf("\n");
    status = 0;
cleanup:
    if (in_tx) {
        db_rollback(db);
        fprintf(stderr, "lintel import: nothing was imported\n");
    }
    json_decref(rep.j_per_user);
    if (opened)
        db_global_release();
    return status;
}
