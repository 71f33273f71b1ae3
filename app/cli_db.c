/*
 * The database for the command-line tools: this thread's connection, opened when the caller
 * has not, and a clear word when the schema is not there yet.
 */
#include "cli_db.h"

#include "config.h"
#include "db.h"

#include <jansson.h>
#include <stdio.h>

int cli_db_open(const struct config *cfg, const char *who, const char *table, struct db **db,
                int *opened)
{
    json_t *j_row = NULL, *j_params = NULL;
    int rc;

    *opened = 0;
    rc = db_thread(db);
    if (rc != 0) {
        rc = db_global_init(cfg);
        *opened = rc == 0;
        if (rc == 0)
            rc = db_thread(db);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: cannot open the database under %s\n", who,
                cfg->data_dir != NULL ? cfg->data_dir : "./data");
        return rc;
    }
    j_params = json_pack("[s]", table);
    rc = j_params == NULL ? -1
                          : db_row(*db,
                                   "SELECT 1 AS ok FROM sqlite_schema WHERE type = 'table'"
                                   " AND name = ?1",
                                   j_params, &j_row);
    json_decref(j_row);
    json_decref(j_params);
    if (rc != 0)
        fprintf(stderr, "%s: the database has no %s table yet: run `lintel migrate`\n", who, table);
    return rc;
}
