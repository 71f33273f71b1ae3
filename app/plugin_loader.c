/*
 * The plugin lifecycle: dlopen each plugin, run its init with the host table, the lifecycle
 * members it calls (declare, routes, migrations, unload), clean refusal, unload at stop.
 */
#include "plugin_loader.h"

#include "config.h"
#include "fmt.h"
#include "lintel_ext.h"
#include "log.h"
#include "migrate.h"
#include "router.h"
#include "server.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file name prefix of a compatibility profile (compat_wec.so is the profile "wec"). */
#define PLUGIN_COMPAT_PREFIX "compat_"

typedef int (*plugin_init_fn)(lintel_plugin *p, const struct lintel_api *api, const json_t *config);

static struct lintel_plugin **plugin_list;
static const struct lintel_api *plugin_api; /* the table handed to every init */
static size_t plugin_count;

void plugin_loader_fail(struct lintel_plugin *p, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = fmt_valloc(fmt, ap);
    va_end(ap);
    if (msg == NULL)
        return;
    /* Logged once, by whoever decides what the refusal means (stop or skip). */
    log_debug("%s", msg);
    if (p->error == NULL)
        p->error = msg;
    else
        free(msg);
}

/* ---- the lifecycle members of the ABI table (host_api.c lists them) ---- */

int plugin_loader_declare(lintel_plugin *p, unsigned major, unsigned minor, const char *name,
                          const char *version)
{
    if (!p->in_init || p->declared) {
        plugin_loader_fail(p, "plugin %s: declare() must be called once, first, from init",
                           p->name);
        return LINTEL_EPARAM;
    }
    if (major != LINTEL_ABI_MAJOR || minor > LINTEL_ABI_MINOR) {
        plugin_loader_fail(p,
                           "plugin %s: built for plugin ABI %u.%u, but this server has ABI "
                           "%u.%u (%s)",
                           p->name, major, minor, LINTEL_ABI_MAJOR, LINTEL_ABI_MINOR,
                           major != LINTEL_ABI_MAJOR ? "another major version"
                                                     : "a newer minor version than the host");
        return LINTEL_EVERSION;
    }
    p->declared_name = strdup(name != NULL ? name : p->name);
    p->version = strdup(version != NULL ? version : "0");
    if (p->declared_name == NULL || p->version == NULL)
        return LINTEL_ENOMEM;
    if (strcmp(p->declared_name, p->name) != 0)
        log_warn("plugin %s: declares itself as \"%s\"; it is registered as \"%s\"", p->name,
                 p->declared_name, p->name);
    p->declared = true;
    p->minor = minor;
    return 0;
}

bool plugin_loader_lifecycle_ok(lintel_plugin *p, const char *what)
{
    if (p == NULL)
        return false;
    if (!p->in_init) {
        log_error("plugin %s: %s is only allowed during lintel_plugin_init", p->name, what);
        return false;
    }
    if (!p->declared) {
        plugin_loader_fail(p, "plugin %s: called %s before declare() (LINTEL_PLUGIN_DECLARE)",
                           p->name, what);
        return false;
    }
    return true;
}

int plugin_loader_declare_profile(lintel_plugin *p)
{
    if (!plugin_loader_lifecycle_ok(p, "declare_profile"))
        return LINTEL_EPARAM;
    p->profile = true;
    log_info("plugin %s: declared as a compatibility profile (routes outside /api/ allowed)",
             p->name);
    return 0;
}

int plugin_loader_scope_add(lintel_plugin *p, const char *scope, const char *roles)
{
    char why[160];

    if (!plugin_loader_lifecycle_ok(p, "scope_add"))
        return LINTEL_EPARAM;
    if (lintel_ext_scope_add(p->name, scope, roles, why, sizeof(why)) != 0) {
        plugin_loader_fail(p, "plugin %s: scope %s refused: %s", p->name,
                           scope != NULL ? scope : "(null)", why);
        return LINTEL_EPARAM;
    }
    return 0;
}

int plugin_loader_error_render(lintel_plugin *p, lintel_error_render fn, void *state)
{
    if (!plugin_loader_lifecycle_ok(p, "error_render"))
        return LINTEL_EPARAM;
    p->render = fn;
    p->render_state = state;
    return 0;
}

int plugin_loader_migration_add(lintel_plugin *p, const char *id, const char *sql)
{
    int rc;

    if (!plugin_loader_lifecycle_ok(p, "migration_add"))
        return LINTEL_EPARAM;
    if (id == NULL || sql == NULL) {
        plugin_loader_fail(p, "plugin %s: migration_add needs an id and SQL", p->name);
        return LINTEL_EPARAM;
    }
    rc = migrate_add(p->name, id, sql);
    if (rc != 0)
        plugin_loader_fail(p, "plugin %s: cannot add migration %s", p->name, id);
    return rc;
}

int plugin_loader_on_unload(lintel_plugin *p, void (*fn)(void *state), void *state)
{
    struct plugin_unload *u;

    if (!plugin_loader_lifecycle_ok(p, "on_unload"))
        return LINTEL_EPARAM;
    if (fn == NULL)
        return LINTEL_EPARAM;
    u = realloc(p->unloads, (p->nunloads + 1) * sizeof(*u));
    if (u == NULL)
        return LINTEL_ENOMEM;
    p->unloads = u;
    p->unloads[p->nunloads].fn = fn;
    p->unloads[p->nunloads].state = state;
    p->nunloads++;
    return 0;
}

void plugin_loader_log(lintel_plugin *p, int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_msg(level, "[%s] %s", p != NULL ? p->name : "?", buf);
}

int plugin_loader_route_add(lintel_plugin *p, const char *method, const char *path, unsigned flags,
                            const char *scope, lintel_handler handler, void *state, void *meta,
                            void (*meta_free)(void *meta))
{
    struct route_def def = {.method = method,
                            .path = path,
                            .flags = flags,
                            .scope = scope,
                            .handler = handler,
                            .state = state,
                            .owner = p,
                            .owner_name = p->name,
                            .meta = meta,
                            .meta_free = meta_free};
    char *err = NULL;
    int rc;

    if (path != NULL && !p->profile && strncmp(path, "/api/", 5) != 0) {
        plugin_loader_fail(p,
                           "plugin %s: route %s %s: plugin routes must be under /api/ (only a "
                           "compatibility profile may leave it)",
                           p->name, method != NULL ? method : "(null)", path);
        if (meta_free != NULL)
            meta_free(meta);
        return LINTEL_EPARAM;
    }
    if (p->profile && method != NULL && path != NULL) {
        /* A profile's clients expect its exact answer on a path lintel serves too (/health,
         * /api/users/me): while the profile is enabled the route is its own. Two profiles on
         * one route still conflict (router_add names both). */
        const struct route *held = server_route_find(method, path);
        if (held != NULL && (held->owner == NULL || !held->owner->profile)) {
            log_info("compat: profile %s shadows %s %s of %s while it is enabled", p->name, method,
                     path, held->owner_name);
            server_route_remove(held);
        }
    }
    rc = server_route_add(&def, &err);
    if (rc != 0)
        plugin_loader_fail(p, "%s", err != NULL ? err : "route_add failed");
    free(err);
    return rc;
}

static void plugin_free(struct lintel_plugin *p, bool run_unload)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = p->nunloads; run_unload && i > 0; i--)
        p->unloads[i - 1].fn(p->unloads[i - 1].state);
#ifndef LINTEL_SANITIZE
    /* Under the sanitizers the code stays mapped, so leak and error stacks stay readable. */
    if (p->dl != NULL)
        dlclose(p->dl);
#endif
    free(p->unloads);
    json_decref(p->j_owned);
    free(p->name);
    free(p->path);
    free(p->declared_name);
    free(p->version);
    free(p->error);
    free(p);
}

/* The "config" of the file entry named name (borrowed), or NULL. */
static const json_t *plugin_config_of(const struct config *cfg, const char *name)
{
    const json_t *j_entry;
    size_t i;

    json_array_foreach(cfg->j_plugin_configs, i, j_entry) {
        if (strcmp(json_string_value(json_object_get(j_entry, "name")), name) == 0)
            return json_object_get(j_entry, "config");
    }
    return NULL;
}

static struct lintel_plugin *plugin_find(const char *name)
{
    size_t i;

    for (i = 0; i < plugin_count; i++)
        if (strcmp(plugin_list[i]->name, name) == 0)
            return plugin_list[i];
    return NULL;
}

/*
 * The config a plugin receives: the host's effective settings that plugins act on (file and
 * environment already merged, so "login_max_user" in lintel.json reaches the auth plugin), then
 * the plugin's own "config" subtree on top. Secrets (jwt_secret, admin_password) stay out.
 */
static json_t *plugin_settings_new(const struct config *cfg, const json_t *j_own)
{
    json_t *j =
        json_pack("{sIsIsIsIsIsIsIsIsbsssIsIsIsbsI}", "password_min", (json_int_t)cfg->password_min,
                  "password_cost", (json_int_t)cfg->password_cost, "login_max_user",
                  (json_int_t)cfg->login_max_user, "login_max_ip", (json_int_t)cfg->login_max_ip,
                  "access_ttl", (json_int_t)cfg->access_ttl, "refresh_ttl",
                  (json_int_t)cfg->refresh_ttl, "threads", (json_int_t)config_pool_size(cfg),
                  "max_body", (json_int_t)cfg->max_body, "trust_proxy", cfg->trust_proxy,
                  "data_dir", cfg->data_dir, "upstream_timeout", (json_int_t)cfg->upstream_timeout,
                  "upstream_max_bytes", (json_int_t)cfg->upstream_max_bytes, "avatar_max",
                  (json_int_t)cfg->avatar_max, "upstream_redirects", cfg->upstream_redirects,
                  "busy_timeout", (json_int_t)cfg->busy_timeout);

    if (j == NULL)
        return NULL;
    if (cfg->upstream_url != NULL &&
        json_object_set_new(j, "upstream_url", json_string(cfg->upstream_url)) != 0)
        goto fail;
    if (json_is_object(j_own) && json_object_update(j, (json_t *)j_own) != 0)
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

/* Loads one plugin. On refusal *err (malloc'd) says why and nothing of it stays registered. */
static int plugin_load(const struct config *cfg, const char *name, const char *path, char **err)
{
    struct lintel_plugin *p = NULL, **grown;
    plugin_init_fn init;
    int rc = LINTEL_EPARAM;
    bool inited = false;

    *err = NULL;
    if (plugin_find(name) != NULL) {
        *err = fmt_alloc("plugin %s: already loaded (listed twice?)", name);
        goto cleanup;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->name = strdup(name)) == NULL || (p->path = strdup(path)) == NULL) {
        rc = LINTEL_ENOMEM;
        *err = fmt_alloc("plugin %s: out of memory", name);
        goto cleanup;
    }
    p->j_owned = plugin_settings_new(cfg, plugin_config_of(cfg, name));
    if (p->j_owned == NULL) {
        rc = LINTEL_ENOMEM;
        *err = fmt_alloc("plugin %s: out of memory", name);
        goto cleanup;
    }
    p->j_config = p->j_owned;
    dlerror();
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        *err = fmt_alloc("plugin %s: cannot load %s: %s", name, path, dlerror());
        goto cleanup;
    }
    *(void **)&init = dlsym(p->dl, "lintel_plugin_init");
    if (init == NULL) {
        *err = fmt_alloc("plugin %s: %s does not export lintel_plugin_init (missing symbol)", name,
                         path);
        goto cleanup;
    }
    p->in_init = true;
    inited = true;
    rc = init(p, plugin_api, p->j_config);
    p->in_init = false;
    if (rc == 0 && !p->declared) {
        rc = LINTEL_EVERSION;
        plugin_loader_fail(p, "plugin %s: init did not declare its ABI (LINTEL_PLUGIN_DECLARE)",
                           name);
    }
    if (rc == 0 && p->error != NULL) {
        /* init ignored a refused registration: half a plugin is worse than none. */
        rc = LINTEL_EPARAM;
    }
    if (rc == 0 && !p->profile &&
        strncmp(name, PLUGIN_COMPAT_PREFIX, strlen(PLUGIN_COMPAT_PREFIX)) == 0) {
        rc = LINTEL_EPARAM;
        plugin_loader_fail(p,
                           "plugin %s: a compat_ plugin must declare itself a compatibility "
                           "profile (api->declare_profile)",
                           name);
    }
    if (rc != 0) {
        *err = p->error != NULL ? fmt_alloc("%s", p->error)
                                : fmt_alloc("plugin %s: init failed with %d (%s)", name, rc,
                                            plugin_api->strerror(rc));
        goto cleanup;
    }
    grown = realloc(plugin_list, (plugin_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        rc = LINTEL_ENOMEM;
        *err = fmt_alloc("plugin %s: out of memory", name);
        goto cleanup;
    }
    plugin_list = grown;
    plugin_list[plugin_count++] = p;
    log_info("plugin %s %s loaded from %s", name, p->version, path);
    p = NULL;
    rc = 0;
cleanup:
    if (p != NULL) {
        server_routes_remove(p);
        migrate_remove(p->name);
        lintel_ext_scopes_remove(p->name);
        plugin_free(p, inited);
    }
    if (rc != 0 && *err == NULL)
        *err = fmt_alloc("plugin %s: refused", name);
    return rc;
}

static int plugin_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends name (taken: NULL when copying it failed) to *list; false, name freed, on no memory. */
static bool plugin_names_push(char ***list, size_t *count, char *name)
{
    char **grown = name != NULL ? realloc(*list, (*count + 1) * sizeof(*grown)) : NULL;

    if (grown == NULL) {
        free(name);
        return false;
    }
    grown[(*count)++] = name;
    *list = grown;
    return true;
}

/* Names to load: the configured list, else every *.so of the plugin directory, sorted. */
static int plugin_names(const struct config *cfg, char ***names, size_t *n, char **err)
{
    char **list = NULL;
    size_t count = 0;
    int rc = LINTEL_ENOMEM;

    *names = NULL;
    *n = 0;
    if (cfg->plugins != NULL) {
        char *copy = strdup(cfg->plugins), *tok, *save = NULL;
        if (copy == NULL)
            goto cleanup;
        for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
            if (!plugin_names_push(&list, &count, strdup(tok))) {
                free(copy);
                goto cleanup;
            }
        }
        free(copy);
    } else if (cfg->plugin_dir != NULL) {
        DIR *d = opendir(cfg->plugin_dir);
        struct dirent *e;
        if (d == NULL) {
            /* No plugin directory is no plugins, unless names were asked for. */
            log_warn("plugins: cannot open %s; loading none", cfg->plugin_dir);
            rc = 0;
            goto cleanup;
        }
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.')
                continue;
            /* compatibility profiles load only when `compat` names them */
            if (strncmp(e->d_name, PLUGIN_COMPAT_PREFIX, strlen(PLUGIN_COMPAT_PREFIX)) == 0)
                continue;
            if (!plugin_names_push(&list, &count, strndup(e->d_name, len - 3))) {
                closedir(d);
                goto cleanup;
            }
        }
        closedir(d);
        if (count > 1)
            qsort(list, count, sizeof(*list), plugin_name_cmp);
    }
    *names = list;
    *n = count;
    list = NULL;
    rc = 0;
cleanup:
    if (list != NULL) {
        size_t i;
        for (i = 0; i < count; i++)
            free(list[i]);
        free(list);
    }
    if (rc != 0)
        *err = fmt_alloc("plugins: out of memory");
    return rc;
}

/* Refusal handling: "stop" returns the error, "skip" logs and goes on. */
static int plugin_refused(const struct config *cfg, char **err, char *msg)
{
    if (!cfg->plugin_failure_skip) {
        *err = msg;
        return LINTEL_EPARAM;
    }
    log_warn("%s; skipped (plugin_failure is skip)", msg != NULL ? msg : "plugin refused");
    free(msg);
    return 0;
}

/*
 * Loads each item of list (split at any of seps) with one(); a refused item stops the walk
 * or is skipped as plugin_failure says.
 */
static int plugin_load_list(const struct config *cfg, const char *list, const char *seps,
                            int (*one)(const struct config *cfg, const char *item, char **msg),
                            char **err)
{
    char *copy, *tok, *save = NULL, *msg = NULL;
    int rc = 0;

    if (list == NULL)
        return 0;
    copy = strdup(list);
    if (copy == NULL) {
        *err = fmt_alloc("plugins: out of memory");
        return LINTEL_ENOMEM;
    }
    for (tok = strtok_r(copy, seps, &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, seps, &save)) {
        if (one(cfg, tok, &msg) != 0)
            rc = plugin_refused(cfg, err, msg);
        msg = NULL;
    }
    free(copy);
    return rc;
}

/*
 * plugin_extra: .so files loaded beside the plugin directory's (an author's own plugin next to
 * the installed ones), each named after its file ("/x/bookmarks.so" is "bookmarks").
 */
static int plugin_load_extra_one(const struct config *cfg, const char *path, char **msg)
{
    const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    size_t len = strlen(base);
    char name[256];

    if (len <= 3 || strcmp(base + len - 3, ".so") != 0 || len - 3 >= sizeof(name)) {
        *msg = fmt_alloc("plugin_extra: %s is not a path to a <name>.so file", path);
        return LINTEL_EPARAM;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(len - 3), base);
    return plugin_load(cfg, name, path, msg);
}

/*
 * compat: the profiles compat_<name>.so of the plugin directory, loaded after every other
 * plugin so that a route they share with lintel's own API is theirs (server_route_add). Each
 * must declare itself a profile.
 */
static int plugin_load_compat_one(const struct config *cfg, const char *profile, char **msg)
{
    char name[128], path[4096];

    snprintf(name, sizeof(name), "%s%.100s", PLUGIN_COMPAT_PREFIX, profile);
    snprintf(path, sizeof(path), "%s/%s.so", cfg->plugin_dir, name);
    if (access(path, F_OK) != 0) {
        *msg = fmt_alloc("compat: no profile \"%s\" (%s does not exist; the profiles are wec, "
                         "chililabs, datapoints, fender, tasks)",
                         profile, path);
        return LINTEL_EPARAM;
    }
    return plugin_load(cfg, name, path, msg);
}

int plugin_loader_load_all(const struct config *cfg, const struct lintel_api *api, char **err)
{
    plugin_api = api;
    char **names = NULL, *msg = NULL, path[4096];
    const json_t *j_entry;
    size_t n = 0, i;
    int rc;

    *err = NULL;
    rc = plugin_names(cfg, &names, &n, err);
    if (rc != 0)
        goto cleanup;
    for (i = 0; i < n; i++) {
        /* A file entry with a path names where this plugin lives. */
        const char *file = NULL;
        size_t k;
        json_array_foreach(cfg->j_plugin_configs, k, j_entry) {
            if (strcmp(json_string_value(json_object_get(j_entry, "name")), names[i]) == 0)
                file = json_string_value(json_object_get(j_entry, "path"));
        }
        if (file == NULL) {
            snprintf(path, sizeof(path), "%s/%s.so", cfg->plugin_dir, names[i]);
            file = path;
        }
        if (plugin_load(cfg, names[i], file, &msg) != 0) {
            rc = plugin_refused(cfg, err, msg);
            msg = NULL;
            if (rc != 0)
                goto cleanup;
        }
    }
    /* File entries with a path load even when the list or directory does not name them. */
    json_array_foreach(cfg->j_plugin_configs, i, j_entry) {
        const char *name = json_string_value(json_object_get(j_entry, "name"));
        const char *file = json_string_value(json_object_get(j_entry, "path"));
        size_t k;
        bool listed = false;
        for (k = 0; k < n; k++)
            listed = listed || strcmp(names[k], name) == 0;
        /* Listed names were tried above (a refused one is not tried twice). */
        if (file == NULL || listed || plugin_find(name) != NULL)
            continue;
        if (plugin_load(cfg, name, file, &msg) != 0) {
            rc = plugin_refused(cfg, err, msg);
            msg = NULL;
            if (rc != 0)
                goto cleanup;
        }
    }
    rc = plugin_load_list(cfg, cfg->plugin_extra, ",", plugin_load_extra_one, err);
    if (rc == 0)
        rc = plugin_load_list(cfg, cfg->compat, ", ", plugin_load_compat_one, err);
cleanup:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

void plugin_loader_unload_all(void)
{
    size_t i;

    for (i = plugin_count; i > 0; i--) {
        server_routes_remove(plugin_list[i - 1]);
        plugin_free(plugin_list[i - 1], true);
    }
    free(plugin_list);
    plugin_list = NULL;
    plugin_count = 0;
}

size_t plugin_loader_count(void)
{
    return plugin_count;
}

const struct lintel_plugin *plugin_loader_get(size_t i)
{
    return i < plugin_count ? plugin_list[i] : NULL;
}
