/*
 * Entry point of the lintel SQLite extension: registers every lintel_* SQL function.
 * PLACEHOLDER until ext/ lands: only lintel_version().
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <lintel/version.h>
#include <stddef.h>

static void ext_version(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, LINTEL_VERSION, -1, SQLITE_STATIC);
}

__attribute__((visibility("default"))) int sqlite3_lintel_init(sqlite3 *db, char **pzErrMsg,
                                                               const sqlite3_api_routines *pApi)
{
    (void)pzErrMsg;
    SQLITE_EXTENSION_INIT2(pApi);
    return sqlite3_create_function(db, "lintel_version", 0,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   ext_version, NULL, NULL);
}
