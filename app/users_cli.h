/*
 * `lintel user add NAME [--role admin]` and `lintel user passwd NAME`: account administration
 * from the command line, the password read from standard input.
 */
#ifndef LINTEL_APP_USERS_CLI_H
#define LINTEL_APP_USERS_CLI_H

struct config;

/* argv[0] is "user". Returns the process exit status; messages go to stderr. */
int users_cli_main(int argc, char **argv, const struct config *cfg);

#endif /* LINTEL_APP_USERS_CLI_H */
