/*
 * Loads handler plugins with dlopen, runs their init with the host table, and refuses a plugin
 * cleanly (nothing of it stays registered) when its ABI, symbol, routes or init are wrong.
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
    bool in_init;           /* lifecycle calls are allowed only while init runs            */
    void *dl;               /* dlopen handle                                               */
    const json_t *j_config; /* what lintel_plugin_init gets: j_owned                        */
    json_t *j_owned;        /* host settings with its "config" subtree on top (owned)       */
    struct plugin_unload *unloads;
    size_t nunloads;
    char *error; /* first refusal reason recorded during init (malloc'd)        */
    bool profile;               /* declare_profile: may route outside /api/          */
    lintel_error_render render; /* error_render: renders its routes' errors, or NULL  */
    void *render_state;
};

/*
 * Loads every configured plugin (cfg->plugins, else every *.so of cfg->plugin_dir sorted by
 * name, plus file entries with a path). A refused plugin is logged; with plugin_failure
 * "stop" the first refusal returns LINTEL_EPARAM and *err (malloc'd) says why.
 */
int plugin_loader_load_all(const struct config *cfg, char **err);

/* Runs on_unload callbacks (last loaded first) and unloads every plugin. */
void plugin_loader_unload_all(void);

/* The loaded plugins, in load order (for /health and logs). */
size_t plugin_loader_count(void);
const struct lintel_plugin *plugin_loader_get(size_t i);

/* Records the first refusal reason of p (printf-style) and logs it. */
void plugin_loader_fail(struct lintel_plugin *p, const char *fmt, ...) LINTEL_PRINTF(2, 3);

#endif /* LINTEL_APP_PLUGIN_LOADER_H */
