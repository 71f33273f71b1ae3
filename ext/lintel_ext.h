/*
 * The extension's entry point, for the server, which links the extension in (lintel_ext_core)
 * and registers it in every connection with sqlite3_auto_extension().
 */
#ifndef LINTEL_EXT_LINTEL_EXT_H
#define LINTEL_EXT_LINTEL_EXT_H

#include <sqlite3.h>

int sqlite3_lintel_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

#endif /* LINTEL_EXT_LINTEL_EXT_H */
