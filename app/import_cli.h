/*
 * `lintel import <profile> FILE`: a seed system's existing data brought into lintel, all or
 * nothing, with a report of what was imported.
 */
#ifndef LINTEL_APP_IMPORT_CLI_H
#define LINTEL_APP_IMPORT_CLI_H

struct config;

/* argv[0] is "import". Returns the process exit status; messages go to stderr. */
int import_cli_main(int argc, char **argv, const struct config *cfg);

#endif /* LINTEL_APP_IMPORT_CLI_H */
