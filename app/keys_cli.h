/*
 * `lintel keys list` and `lintel keys rotate`: the signing-key ring from the command line,
 * working on the database (running servers pick a rotation up within seconds).
 */
#ifndef LINTEL_APP_KEYS_CLI_H
#define LINTEL_APP_KEYS_CLI_H

struct config;

/* argv[0] is "keys". Returns the process exit status; messages go to stderr. */
int keys_cli_main(int argc, char **argv, const struct config *cfg);

#endif /* LINTEL_APP_KEYS_CLI_H */
