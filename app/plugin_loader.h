/*
 * The plugin lifecycle in one place: dlopen, init with the host table, the lifecycle members of
 * that table (declare, routes, migrations, unload callbacks), clean refusal, unload.
 */
#ifndef LINTEL_APP_PLUGIN_LOADER_H
#define LINTEL_APP_PLUGIN_LOADER_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

struct plugin_unload {
    void (*fn)(void *state);
    void *state;
};

/* One plugin, loaded or being loaded. The ABI sees it as the opaque lintel_plugin. */
struct lintel_plugin {
    char *name;             /* load name: file stem or config entry name; owns its records */
    char *path;             /* the .so file                                                */
    char *declared_name;    /* from declare()                                              */
    char *version;          /* from declare()                                              */
    bool declared;          /* declare() succeeded                                         */
    unsigned minor;         /* the ABI minor it declared (the layout of its tables)        */
    bool in_init;           /* lifecycle calls are allowed only while init runs            */
    void *dl;               /* dlopen handle                                               */
    const json_t *j_config; /* what lintel_plugin_init gets: j_owned                        */
    json_t *j_owned;        /* host settings with its "config" subtree on top (owned)       */
    struct plugin_unload *unloads;
    size_t nunloads;
    char *error;                /* first refusal reason recorded during init (malloc'd)        */
    bool profile;               /* declare_profile: may route outside /api/          */
    lintel_error_render render; /* error_render: renders its routes' errors, or NULL  */
    void *render_state;
};

/*
 * Loads every configured plugin (cfg->plugins, else every *.so of cfg->plugin_dir sorted by
 * name, plus file entries with a path), handing each init the table api. A refused plugin is
 * logged; with plugin_failure "stop" the first refusal returns LINTEL_EPARAM and *err
 * (malloc'd) says why.
 */
int plugin_loader_load_all(const struct config *cfg, const struct lintel_api *api, char **err);

/* Runs on_unload callbacks (last loaded first) and unloads every plugin. */
void plugin_loader_unload_all(void);

/* The loaded plugins, in load order (for /health and logs). */
size_t plugin_loader_count(void);
const struct lintel_plugin *plugin_loader_get(size_t i);

/* Records the first refusal reason of p (printf-style) and logs it. */
void plugin_loader_fail(struct lintel_plugin *p, const char *fmt, ...) LINTEL_PRINTF(2, 3);

/*
 * The one check of every lifecycle member (everything but declare itself): true while p's
 * lintel_plugin_init runs, after declare; else logs or records why (plugin_loader_fail).
 */
bool plugin_loader_lifecycle_ok(lintel_plugin *p, const char *what);

/*
 * The lifecycle members of the ABI table: declare, declare_profile, scope_add, error_render,
 * migration_add, on_unload, log. (routes_add and ws_add, which need the kit's route metadata
 * and the WebSocket endpoints, are host_kit.c's and check with plugin_loader_lifecycle_ok.)
 */
int plugin_loader_declare(lintel_plugin *p, unsigned major, unsigned minor, const char *name,
                          const char *version);
int plugin_loader_declare_profile(lintel_plugin *p);
int plugin_loader_scope_add(lintel_plugin *p, const char *scope, const char *roles);
int plugin_loader_error_render(lintel_plugin *p, lintel_error_render fn, void *state);
int plugin_loader_migration_add(lintel_plugin *p, const char *id, const char *sql);
int plugin_loader_on_unload(lintel_plugin *p, void (*fn)(void *state), void *state);
void plugin_loader_log(lintel_plugin *p, int level, const char *fmt, ...) LINTEL_PRINTF(3, 4);

/*
 * Registers a route on behalf of p: under /api/ unless p declared a profile, not held by
 * anyone else. meta (freed with meta_free, also on failure) describes it for OpenAPI. A
 * refusal is recorded on p (plugin_loader_fail).
 */
int plugin_loader_route_add(lintel_plugin *p, const char *method, const char *path, unsigned flags,
                            const char *scope, lintel_handler handler, void *state, void *meta,
                            void (*meta_free)(void *meta));

#endif /* LINTEL_APP_PLUGIN_LOADER_H */
