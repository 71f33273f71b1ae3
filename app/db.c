/*
 * PLACEHOLDER (owner: storage). One SQLite connection per worker thread.
 */
#include "db.h"

#include <lintel/plugin.h>

int db_global_init(const struct config *cfg)
{
    (void)cfg;
    return LINTEL_EUNAVAIL;
}

void db_global_release(void)
{
}

int db_thread(struct db **out)
{
    *out = NULL;
    return LINTEL_EUNAVAIL;
}

int db_query(struct db *db, const char *sql, const json_t *j_params, json_t **j_rows)
{
    (void)db;
    (void)sql;
    (void)j_params;
    *j_rows = NULL;
    return LINTEL_EUNAVAIL;
}

int db_row(struct db *db, const char *sql, const json_t *j_params, json_t **j_row)
{
    return db_query(db, sql, j_params, j_row);
}

int db_exec(struct db *db, const char *sql, const json_t *j_params, long long *changes,
            long long *last_id)
{
    (void)db;
    (void)sql;
    (void)j_params;
    (void)changes;
    (void)last_id;
    return LINTEL_EUNAVAIL;
}

int db_begin(struct db *db)
{
    (void)db;
    return LINTEL_EUNAVAIL;
}

int db_commit(struct db *db)
{
    (void)db;
    return LINTEL_EUNAVAIL;
}

int db_rollback(struct db *db)
{
    (void)db;
    return LINTEL_EUNAVAIL;
}

bool db_in_tx(const struct db *db)
{
    (void)db;
    return false;
}

const char *db_errmsg(const struct db *db)
{
    (void)db;
    return "database not implemented yet";
}

sqlite3 *db_handle(struct db *db)
{
    (void)db;
    return NULL;
}

int db_health(void)
{
    return LINTEL_EUNAVAIL;
}
