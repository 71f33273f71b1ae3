/*
 * Forward-only migrations: the core's (compiled in from sql/core) and each plugin's, recorded
 * in schema_migrations, each applied in one transaction, table rebuilds by SQLite's 12 steps.
 */
#ifndef LINTEL_APP_MIGRATE_H
#define LINTEL_APP_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

/* What the operator chose; the defaults (all zero) take no snapshot and refuse changed files. */
struct migrate_options {
    const char *data_dir;   /* snapshots go to <data_dir>/snapshots; NULL: no snapshot      */
    unsigned snapshot_keep; /* snapshots kept; 0: none taken                                */
    bool accept_changed;    /* a shipped file that changed since it was applied: warn, go on */
};

/* Sets the options of later migrate_apply() calls (copied; data_dir is borrowed). */
void migrate_set_options(const struct migrate_options *opts);

/*
 * Registers a migration of component ("core", or a plugin's name). Strings are copied. A
 * leading comment line "-- lintel: rebuild <table> [<table> ...]" marks a table rebuild
 * (docs/storage.md); a malformed one is LINTEL_EPARAM.
 */
int migrate_add(const char *component, const char *id, const char *sql);

/* Removes every migration registered for component (a plugin whose init failed). */
void migrate_remove(const char *component);

/*
 * Applies every pending migration: core first, then components in registration order, ids in
 * order, after a snapshot of the database when something is pending and the database is not
 * new. Stops at the first failure, which leaves the database as that migration found it;
 * *err (malloc'd) then names the component, the id and the cause. A shipped migration whose
 * text changed since it was applied is LINTEL_ECONFLICT unless accept_changed is set.
 */
int migrate_apply(char **err);

/*
 * Prints every migration (applied, pending, changed) with its checksums to out. Returns 0, or
 * LINTEL_ECONFLICT when a shipped file changed since it was applied (the start would stop).
 */
int migrate_status(FILE *out, char **err);

/*
 * Applies the pending migrations to a copy of the database (VACUUM INTO a temporary file under
 * the data directory, deleted afterwards) and prints what each did; the database is untouched.
 */
int migrate_dry_run(FILE *out, char **err);

/* Frees the registry. */
void migrate_release(void);

#endif /* LINTEL_APP_MIGRATE_H */
