/*
 * Operator commands of the lintel binary: `lintel shell` (sqlite3 on the configured database
 * with the extension) and `lintel healthcheck` (for container HEALTHCHECKs; no curl needed).
 */
#ifndef LINTEL_APP_OPS_CLI_H
#define LINTEL_APP_OPS_CLI_H

struct config;

/* argv[0] is "shell"; replaces the process with sqlite3, returns (1) only when that fails. */
int shell_cli_main(int argc, char **argv, const struct config *cfg);

/* argv[0] is "healthcheck": 0 when GET /health answers 200 {"status":"ok"}, else 1. */
int healthcheck_cli_main(int argc, char **argv, const struct config *cfg);

#endif /* LINTEL_APP_OPS_CLI_H */
