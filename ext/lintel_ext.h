/*
 * The extension's entry point, for the server, which links the extension in (lintel_ext_core)
 * and registers it in every connection with sqlite3_auto_extension().
 */
#ifndef LINTEL_EXT_LINTEL_EXT_H
#define LINTEL_EXT_LINTEL_EXT_H

#include <sqlite3.h>
#include <stddef.h>

int sqlite3_lintel_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

/*
 * Scopes the server's plugins declare (scopes.c S6): added to the roles named ("user admin"),
 * then granted, asked for and checked like the built-in ones. 0, or -1 with why (size bytes)
 * saying what is wrong. Only while plugins load, before the server serves.
 */
int lintel_ext_scope_add(const char *owner, const char *scope, const char *roles, char *why,
                         size_t size);

/* Whether the space-separated list has word (scopes.c S7): the one word test of scopes. */
int lintel_ext_scope_has(const char *list, const char *word);

/* Whether a role grants scope (built in or declared). */
int lintel_ext_scope_known(const char *scope);

/* Forgets the scopes owner declared (a refused plugin); NULL forgets every declared one. */
void lintel_ext_scopes_remove(const char *owner);

#endif /* LINTEL_EXT_LINTEL_EXT_H */
