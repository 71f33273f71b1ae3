/*
 * The real sqlite3 shell on a test server's database, with lintel's extension loaded, as an
 * operator would run it: for changes made behind the API's back (triggers, key ring, audit).
 */
#ifndef LINTEL_TESTS_LT_SHELL_H
#define LINTEL_TESTS_LT_SHELL_H

/*
 * Runs sql (one or more statements) on data_dir/lintel.db in `sqlite3 -batch` with the built
 * extension (LINTEL_TEST_EXT) loaded. Returns the shell's stdout and stderr (malloc'd, at most
 * 64 KiB), or NULL when the shell could not be run; *status (when not NULL) its exit status.
 */
char *lt_shell_sql(const char *data_dir, const char *sql, int *status);

#endif /* LINTEL_TESTS_LT_SHELL_H */
