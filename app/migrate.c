/*
 * PLACEHOLDER (owner: storage). Forward-only migrations.
 */
#include "migrate.h"

#include <stddef.h>

int migrate_add(const char *component, const char *id, const char *sql)
{
    (void)component;
    (void)id;
    (void)sql;
    return 0;
}

void migrate_remove(const char *component)
{
    (void)component;
}

int migrate_apply(char **err)
{
    *err = NULL;
    return 0;
}

void migrate_release(void)
{
}
