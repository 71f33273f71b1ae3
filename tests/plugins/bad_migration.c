/*
 * Loads fine but carries a migration whose second statement fails: the start must stop and
 * the database must stay as it was (bad_migration_t never exists, nothing is recorded).
 */
#include <lintel/plugin.h>

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    (void)config;
    LINTEL_PLUGIN_DECLARE(p, api, "bad_migration", "0.0.1");
    return api->migration_add(p, "0001_bad",
                              "CREATE TABLE bad_migration_t (x INTEGER);\n"
                              "INSERT INTO no_such_table VALUES (1);\n");
}
