/*
 * Migrations compiled into a plugin (or the host) from its sql/ folder by lintel_embed_sql(),
 * and the loop that hands them to the host. Optional: api->migration_add works without it.
 */
#ifndef LINTEL_MIGRATIONS_H
#define LINTEL_MIGRATIONS_H

#include <lintel/plugin.h>

/* One embedded migration; arrays of these end with {NULL, NULL}. */
struct lintel_embedded_sql {
    const char *id;  /* "0001_numbers", from the file name without .sql */
    const char *sql; /* the file's text */
};

/* Registers every migration of list with the host, in order; 0 or the first failure. */
static inline int lintel_migrations_add(lintel_plugin *p, const struct lintel_api *api,
                                        const struct lintel_embedded_sql *list)
{
    int rc = 0;

    for (; list->id != NULL && rc == 0; list++)
        rc = api->migration_add(p, list->id, list->sql);
    return rc;
}

#endif /* LINTEL_MIGRATIONS_H */
