/*
 * Files beside the database that a migration imports into it (the avatars of 0.1.0):
 * the SQL function lintel_data_file() for the migration, and the removal of imported files.
 */
#ifndef LINTEL_APP_MIGRATE_FILES_H
#define LINTEL_APP_MIGRATE_FILES_H

#include <sqlite3.h>

/* The largest file lintel_data_file() reads: the largest avatar_max there ever was. */
#define MIGRATE_FILES_MAX (64 * 1024 * 1024)

/*
 * Registers lintel_data_file(name) on h for the migrations about to run: the bytes of the
 * regular file <data_dir>/<name> as a BLOB, NULL when there is no such file. name is relative
 * ([A-Za-z0-9_.-] segments, no "." or ".." segment), symbolic links are not followed, and a
 * file that cannot be read or is larger than MIGRATE_FILES_MAX is an error that fails the
 * migration (so nothing is lost silently). data_dir is borrowed until migrate_files_unregister.
 */
int migrate_files_register(sqlite3 *h, const char *data_dir);
void migrate_files_unregister(sqlite3 *h);

/*
 * After the migrations committed: removes the avatar files whose bytes are in the database
 * now, or whose account is gone (the ids in avatar_orphans, each row deleted once its file
 * is), the temporary files an older release's crash left in <data_dir>/avatars, and that
 * directory once it is empty. Idempotent: an interrupted run finishes at the next start.
 */
void migrate_files_purge(sqlite3 *h, const char *data_dir);

#endif /* LINTEL_APP_MIGRATE_FILES_H */
