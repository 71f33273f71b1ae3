/*
 * PLACEHOLDER (owner: auth). `lintel user add|passwd`.
 */
#include "users_cli.h"

#include <stdio.h>

int users_cli_main(int argc, char **argv, const struct config *cfg)
{
    (void)argc;
    (void)argv;
    (void)cfg;
    fprintf(stderr, "lintel user: not implemented yet\n");
    return 2;
}
