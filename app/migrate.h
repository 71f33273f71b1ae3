/*
 * Forward-only migrations: the core's (compiled in from sql/core) and each plugin's, recorded
 * in schema_migrations and each applied in one transaction.
 */
#ifndef LINTEL_APP_MIGRATE_H
#define LINTEL_APP_MIGRATE_H

/* Registers a migration of component ("core", or a plugin's name). Strings are copied. */
int migrate_add(const char *component, const char *id, const char *sql);

/* Removes every migration registered for component (a plugin whose init failed). */
void migrate_remove(const char *component);

/*
 * Applies every pending migration: core first, then components in registration order, ids in
 * order. Stops at the first failure, which leaves the database as that migration found it;
 * *err (malloc'd) then names the component, the id and SQLite's message.
 */
int migrate_apply(char **err);

/* Frees the registry. */
void migrate_release(void);

#endif /* LINTEL_APP_MIGRATE_H */
