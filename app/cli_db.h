/*
 * The database for the command-line tools (lintel user, lintel import): this thread's
 * connection, opened when the caller has not, and a clear word when a table is missing.
 */
#ifndef LINTEL_APP_CLI_DB_H
#define LINTEL_APP_CLI_DB_H

struct config;
struct db;

/*
 * *db: this thread's connection (db_global_init first when needed: *opened then 1, and the
 * caller ends with db_global_release). table: one the command needs, else it names `lintel
 * migrate` on stderr under who ("lintel user"). 0, or a negative status (message written).
 */
int cli_db_open(const struct config *cfg, const char *who, const char *table, struct db **db,
                int *opened);

#endif /* LINTEL_APP_CLI_DB_H */
