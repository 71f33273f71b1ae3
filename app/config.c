/*
 * Server configuration: a table of every key (type, range, default), filled from the defaults,
 * then the optional JSON file, then LINTEL_* variables. Any bad value stops the start.
 */
#include "config.h"

#include "fmt.h"

#include <lintel/plugin.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum config_type {
    CT_STR,    /* char *; NULL allowed                        */
    CT_UINT,   /* unsigned                                    */
    CT_INT,    /* int                                         */
    CT_LL,     /* long long                                   */
    CT_SIZE,   /* size_t                                      */
    CT_BOOL,   /* bool                                        */
    CT_ENUM,   /* char *, one of choices (case-insensitive)   */
    CT_CHOICE, /* bool: choices[0] false, choices[1] true     */
};

struct config_key {
    const char *key; /* file key; the variable is LINTEL_<KEY> */
    enum config_type type;
    size_t offset;
    long long min, max;  /* numbers: inclusive range; strings: length range (max 0 = none) */
    const char *dflt;    /* default as text, NULL for none */
    const char *choices; /* CT_ENUM/CT_CHOICE: '|'-separated, canonical spelling */
    bool secret;         /* never echo the value in a message */
};

#define KB   1024LL
#define MB   (1024LL * 1024LL)
#define O(f) offsetof(struct config, f)

/* Every key of struct config; docs/configuration.md documents the same table. */
static const struct config_key config_keys[] = {
    {"bind", CT_STR, O(bind), 1, 0, "127.0.0.1", NULL, false},
    {"port", CT_INT, O(port), 0, 65535, "8080", NULL, false},
    {"tls_cert", CT_STR, O(tls_cert), 1, 0, NULL, NULL, false},
    {"tls_key", CT_STR, O(tls_key), 1, 0, NULL, NULL, false},
    {"threads", CT_UINT, O(threads), 0, 1024, "0", NULL, false},
    {"hash_concurrency", CT_UINT, O(hash_concurrency), 0, 1024, "0", NULL, false},
    {"connection_limit", CT_UINT, O(connection_limit), 1, 1000000, "1024", NULL, false},
    {"connection_per_ip", CT_UINT, O(connection_per_ip), 1, 1000000, "128", NULL, false},
    {"connection_timeout", CT_UINT, O(connection_timeout), 0, 86400, "30", NULL, false},
    {"connection_memory", CT_SIZE, O(connection_memory), 8 * KB, 64 * MB, "32768", NULL, false},
    {"max_body", CT_SIZE, O(max_body), 1, 1024 * MB, "1048576", NULL, false},
    {"idempotency_max_reply", CT_SIZE, O(idempotency_max_reply), 0, 64 * MB, "262144", NULL, false},
    {"envelope", CT_ENUM, O(envelope), 0, 0, "problem", "problem|jsend", false},
    {"cors_origins", CT_STR, O(cors_origins), 1, 0, NULL, NULL, false},
    {"trust_proxy", CT_BOOL, O(trust_proxy), 0, 0, "false", NULL, false},
    {"log_level", CT_ENUM, O(log_level), 0, 0, "info", "error|warning|info|debug", false},
    {"data_dir", CT_STR, O(data_dir), 1, 0, "./data", NULL, false},
    {"synchronous", CT_ENUM, O(synchronous), 0, 0, "FULL", "FULL|NORMAL", false},
    {"busy_timeout", CT_UINT, O(busy_timeout), 0, 600000, "5000", NULL, false},
    {"wal_checkpoint", CT_CHOICE, O(wal_checkpoint_external), 0, 0, "auto", "auto|external", false},
    {"snapshot_keep", CT_UINT, O(snapshot_keep), 0, 1000, "3", NULL, false},
    {"migrate_accept_changed", CT_BOOL, O(migrate_accept_changed), 0, 0, "false", NULL, false},
    {"storage", CT_ENUM, O(storage), 0, 0, "sqlite", "sqlite|dqlite", false},
    {"cluster_id", CT_LL, O(cluster_id), 1, 1LL << 62, NULL, NULL, false},
    {"cluster_bind", CT_STR, O(cluster_bind), 3, 127, NULL, NULL, false},
    {"cluster_join", CT_STR, O(cluster_join), 3, 2048, NULL, NULL, false},
    {"cluster_latency_ms", CT_UINT, O(cluster_latency_ms), 1, 10000, "10", NULL, false},
    {"plugin_dir", CT_STR, O(plugin_dir), 1, 0, NULL, NULL, false},
    {"plugins", CT_STR, O(plugins), 0, 0, NULL, NULL, false},
    {"plugin_extra", CT_STR, O(plugin_extra), 1, 0, NULL, NULL, false},
    {"compat", CT_STR, O(compat), 1, 0, NULL, NULL, false},
    {"plugin_failure", CT_CHOICE, O(plugin_failure_skip), 0, 0, "stop", "stop|skip", false},
    {"jwt_alg", CT_ENUM, O(jwt_alg), 0, 0, "EdDSA", "EdDSA|ES256|RS256|HS256", false},
    {"jwt_key_file", CT_STR, O(jwt_key_file), 1, 0, NULL, NULL, false},
    {"jwt_secret", CT_STR, O(jwt_secret), 32, 0, NULL, NULL, true},
    {"jwt_issuer", CT_STR, O(jwt_issuer), 1, 256, "lintel", NULL, false},
    {"jwt_audience", CT_STR, O(jwt_audience), 1, 256, "lintel-api", NULL, false},
    {"access_ttl", CT_LL, O(access_ttl), 1, 86400, "900", NULL, false},
    {"refresh_ttl", CT_LL, O(refresh_ttl), 60, 366 * 86400LL, "1209600", NULL, false},
    {"password_min", CT_UINT, O(password_min), 1, 8, "8", NULL, false},
    {"password_cost", CT_UINT, O(password_cost), 1, 11, "5", NULL, false},
    {"login_max_user", CT_UINT, O(login_max_user), 1, 100000000, "5", NULL, false},
    {"login_max_ip", CT_UINT, O(login_max_ip), 1, 100000000, "20", NULL, false},
    {"admin_username", CT_STR, O(admin_username), 3, 64, "admin", NULL, false},
    {"admin_password", CT_STR, O(admin_password), 1, 128, NULL, NULL, true},
    {"upstream_url", CT_STR, O(upstream_url), 1, 2048, NULL, NULL, false},
    {"upstream_timeout", CT_UINT, O(upstream_timeout), 1, 600, "10", NULL, false},
    {"upstream_max_bytes", CT_SIZE, O(upstream_max_bytes), 64, 64 * MB, "65536", NULL, false},
    {"upstream_redirects", CT_BOOL, O(upstream_redirects), 0, 0, "false", NULL, false},
    {"avatar_max", CT_SIZE, O(avatar_max), 1, 64 * MB, "2097152", NULL, false},
    {"signed_url_ttl", CT_LL, O(signed_url_ttl), 10, 86400, "600", NULL, false},
    {"ws_ping_interval", CT_UINT, O(ws_ping_interval), 1, 3600, "30", NULL, false},
    {"ws_idle_timeout", CT_UINT, O(ws_idle_timeout), 2, 7200, "75", NULL, false},
    {"web_dir", CT_STR, O(web_dir), 1, 0, NULL, NULL, false},
    {"docs_cdn", CT_BOOL, O(docs_cdn), 0, 0, "false", NULL, false},
    {"metrics_token", CT_STR, O(metrics_token), 32, 256, NULL, NULL, true},
    /* self-service accounts and mail */
    {"smtp_url", CT_STR, O(smtp_url), 8, 2048, NULL, NULL, false},
    {"smtp_from", CT_STR, O(smtp_from), 3, 256, NULL, NULL, false},
    {"smtp_user", CT_STR, O(smtp_user), 1, 256, NULL, NULL, false},
    {"smtp_password", CT_STR, O(smtp_password), 1, 256, NULL, NULL, true},
    {"smtp_timeout", CT_UINT, O(smtp_timeout), 1, 600, "10", NULL, false},
    {"mail_templates", CT_STR, O(mail_templates), 1, 0, NULL, NULL, false},
    {"public_url", CT_STR, O(public_url), 8, 2048, NULL, NULL, false},
    {"reset_ttl", CT_LL, O(reset_ttl), 60, 86400, "1800", NULL, false},
    {"verify_ttl", CT_LL, O(verify_ttl), 60, 30 * 86400LL, "172800", NULL, false},
    {"require_verified_email", CT_BOOL, O(require_verified_email), 0, 0, "false", NULL, false},
    {"registration", CT_ENUM, O(registration), 0, 0, "open", "open|closed|invite", false},
    {"register_max_ip", CT_UINT, O(register_max_ip), 0, 100000000, "0", NULL, false},
    {"forgot_max_email", CT_UINT, O(forgot_max_email), 0, 100000000, "3", NULL, false},
    {"forgot_max_ip", CT_UINT, O(forgot_max_ip), 0, 100000000, "10", NULL, false},
    {"cleanup_interval", CT_UINT, O(cleanup_interval), 1, 86400, "3600", NULL, false},
    /* the per-user request rate limit (docs/auth.md "Request rate limit") */
    {"rate_limit", CT_UINT, O(rate_limit), 0, 1000000000, "0", NULL, false},
    {"rate_limit_window", CT_UINT, O(rate_limit_window), 1, 86400, "60", NULL, false},
    {"rate_limit_table", CT_UINT, O(rate_limit_table), 8, 16777216, "8192", NULL, false},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config *config_global;

/*
 * storage dqlite needs the node's id and Raft address; only node 1 bootstraps a cluster (it is
 * dqlite's rule), so node 1 never joins one and every other node does.
 */
static int config_check_cluster(const struct config *cfg, char **err)
{
    if (strcmp(cfg->storage, "dqlite") != 0)
        return 0;
    if (cfg->cluster_id == 0 || cfg->cluster_bind == NULL ||
        strchr(cfg->cluster_bind, ':') == NULL) {
        *err = fmt_alloc("config: storage dqlite needs cluster_id (1 or more) and cluster_bind "
                         "(host:port)");
        return LINTEL_EPARAM;
    }
    if ((cfg->cluster_id == 1) != (cfg->cluster_join == NULL)) {
        *err = fmt_alloc("config: cluster_join: %s",
                         cfg->cluster_id == 1 ? "node 1 bootstraps the cluster and joins none"
                                              : "required on every node but node 1 (the one "
                                                "that bootstraps)");
        return LINTEL_EPARAM;
    }
    return 0;
}

/* The name of a key as the operator wrote it: LINTEL_PORT, or "port" (in FILE). */
static char *config_where(const struct config_key *k, const char *file)
{
    char env[64];
    size_t i;

    if (file != NULL)
        return fmt_alloc("\"%s\" (in %s)", k->key, file);
    snprintf(env, sizeof(env), "LINTEL_%s", k->key);
    for (i = 0; env[i] != '\0'; i++)
        env[i] = (char)toupper((unsigned char)env[i]);
    return fmt_alloc("%s", env);
}

/*
 * Matches text against the '|'-separated choices (case-insensitive): *index is its position in
 * the list, *start and *len locate the canonical spelling.
 */
static bool config_choice(const char *choices, const char *text, size_t *index, size_t *start,
                          size_t *len)
{
    const char *c = choices;
    size_t i = 0;

    while (*c != '\0') {
        size_t n = strcspn(c, "|");
        if (strlen(text) == n && strncasecmp(c, text, n) == 0) {
            *index = i;
            *start = (size_t)(c - choices);
            *len = n;
            return true;
        }
        c += n + (c[n] == '|');
        i++;
    }
    return false;
}

static bool config_parse_integer(const char *text, long long *out)
{
    char *end = NULL;

    if (text[0] == '\0' || isspace((unsigned char)text[0]))
        return false;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0';
}

static bool config_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/*
 * Stores one value given as text (environment, or a file value converted to text). On error
 * *err names the key and the problem.
 */
static int config_set(struct config *cfg, const struct config_key *k, const char *text,
                      const char *file, char **err)
{
    char *base = (char *)cfg + k->offset;
    char *where = config_where(k, file);
    long long n = 0;
    size_t idx = 0, start = 0, len = 0;
    bool b = false;
    int rc = LINTEL_EPARAM;

    switch (k->type) {
    case CT_STR: {
        size_t l = strlen(text);
        char *copy;
        if (l == 0 && k->min == 0) {
            free(*(char **)base);
            *(char **)base = NULL;
            break;
        }
        if ((long long)l < k->min) {
            *err = fmt_alloc("config: %s: must be at least %lld characters long", where, k->min);
            goto cleanup;
        }
        if (k->max > 0 && (long long)l > k->max) {
            *err = fmt_alloc("config: %s: must be at most %lld characters long", where, k->max);
            goto cleanup;
        }
        if (memchr(text, '\n', l) != NULL || memchr(text, '\r', l) != NULL) {
            *err = fmt_alloc("config: %s: must not contain a line break", where);
            goto cleanup;
        }
        copy = strdup(text);
        if (copy == NULL)
            goto nomem;
        free(*(char **)base);
        *(char **)base = copy;
        break;
    }
    case CT_ENUM:
    case CT_CHOICE:
        if (!config_choice(k->choices, text, &idx, &start, &len)) {
            if (k->secret)
                *err = fmt_alloc("config: %s: must be one of %s", where, k->choices);
            else
                *err = fmt_alloc("config: %s: \"%s\" is not one of %s", where, text, k->choices);
            goto cleanup;
        }
        if (k->type == CT_CHOICE) {
            *(bool *)base = idx == 1;
        } else {
            char *copy = strndup(k->choices + start, len);
            if (copy == NULL)
                goto nomem;
            free(*(char **)base);
            *(char **)base = copy;
        }
        break;
    case CT_BOOL:
        if (!config_parse_bool(text, &b)) {
            *err = fmt_alloc("config: %s: \"%s\" is not a boolean (true or false)", where, text);
            goto cleanup;
        }
        *(bool *)base = b;
        break;
    case CT_UINT:
    case CT_INT:
    case CT_LL:
    case CT_SIZE:
        if (!config_parse_integer(text, &n)) {
            *err = fmt_alloc("config: %s: \"%s\" is not an integer", where, text);
            goto cleanup;
        }
        if (n < k->min || n > k->max) {
            *err = fmt_alloc("config: %s: %lld is out of range (%lld to %lld)", where, n, k->min,
                             k->max);
            goto cleanup;
        }
        if (k->type == CT_UINT)
            *(unsigned *)base = (unsigned)n;
        else if (k->type == CT_INT)
            *(int *)base = (int)n;
        else if (k->type == CT_LL)
            *(long long *)base = n;
        else
            *(size_t *)base = (size_t)n;
        break;
    }
    rc = 0;
    goto cleanup;
nomem:
    *err = fmt_alloc("config: %s: out of memory", where);
    rc = LINTEL_ENOMEM;
cleanup:
    free(where);
    return rc;
}

/* The "plugins" file key as an array: [{name, path?, config?}], kept for the loader. */
static int config_plugin_entries(struct config *cfg, const json_t *j_list, const char *file,
                                 char **err)
{
    const json_t *j_item;
    size_t i;

    json_array_foreach(j_list, i, j_item) {
        const char *key;
        const json_t *j_v;
        if (!json_is_object(j_item)) {
            *err = fmt_alloc("config: \"plugins\"[%zu] (in %s): must be an object "
                             "{name, path, config}",
                             i, file);
            return LINTEL_EPARAM;
        }
        json_object_foreach((json_t *)j_item, key, j_v) {
            bool ok =
                (strcmp(key, "name") == 0 && json_is_string(j_v) && json_string_length(j_v) > 0) ||
                (strcmp(key, "path") == 0 && json_is_string(j_v) && json_string_length(j_v) > 0) ||
                (strcmp(key, "config") == 0 && json_is_object(j_v));
            if (!ok) {
                *err = fmt_alloc("config: \"plugins\"[%zu].%s (in %s): %s", i, key, file,
                                 strcmp(key, "config") == 0 ? "must be an object"
                                 : strcmp(key, "name") == 0 || strcmp(key, "path") == 0
                                     ? "must be a non-empty string"
                                     : "unknown key (expected name, path, config)");
                return LINTEL_EPARAM;
            }
        }
        if (json_object_get(j_item, "name") == NULL) {
            *err = fmt_alloc("config: \"plugins\"[%zu] (in %s): \"name\" is missing", i, file);
            return LINTEL_EPARAM;
        }
    }
    json_decref(cfg->j_plugin_configs);
    cfg->j_plugin_configs = json_deep_copy(j_list);
    return cfg->j_plugin_configs != NULL ? 0 : LINTEL_ENOMEM;
}

static const struct config_key *config_find(const char *key)
{
    size_t i;

    for (i = 0; i < CONFIG_NKEYS; i++)
        if (strcmp(config_keys[i].key, key) == 0)
            return &config_keys[i];
    return NULL;
}

static int config_load_file(struct config *cfg, const char *path, char **err)
{
    json_t *j_root = NULL, *j_v;
    json_error_t jerr;
    const char *key;
    char num[32];
    int rc = LINTEL_EPARAM;

    j_root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (j_root == NULL) {
        if (access(path, R_OK) != 0)
            *err = fmt_alloc("config: cannot read %s: %s", path, strerror(errno));
        else
            *err = fmt_alloc("config: %s: invalid JSON at line %d, column %d: %s", path, jerr.line,
                             jerr.column, jerr.text);
        goto cleanup;
    }
    if (!json_is_object(j_root)) {
        *err = fmt_alloc("config: %s: must hold a JSON object", path);
        goto cleanup;
    }
    json_object_foreach(j_root, key, j_v) {
        const struct config_key *k = config_find(key);
        const char *text = NULL;
        if (strcmp(key, "plugins") == 0 && json_is_array(j_v)) {
            rc = config_plugin_entries(cfg, j_v, path, err);
            if (rc != 0)
                goto cleanup;
            rc = LINTEL_EPARAM;
            continue;
        }
        if (k == NULL) {
            *err = fmt_alloc("config: \"%s\" (in %s): unknown key", key, path);
            goto cleanup;
        }
        if (json_is_string(j_v) && k->type != CT_BOOL &&
            (k->type == CT_STR || k->type == CT_ENUM || k->type == CT_CHOICE)) {
            text = json_string_value(j_v);
        } else if (json_is_integer(j_v) && k->type != CT_STR && k->type != CT_ENUM &&
                   k->type != CT_CHOICE && k->type != CT_BOOL) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j_v));
            text = num;
        } else if (json_is_boolean(j_v) && k->type == CT_BOOL) {
            text = json_is_true(j_v) ? "true" : "false";
        } else if (json_is_null(j_v) && k->type == CT_STR && k->dflt == NULL) {
            text = "";
        } else {
            *err = fmt_alloc("config: \"%s\" (in %s): must be %s", key, path,
                             k->type == CT_BOOL ? "true or false"
                             : k->type == CT_STR || k->type == CT_ENUM || k->type == CT_CHOICE
                                 ? "a string"
                                 : "an integer");
            goto cleanup;
        }
        if (k->type == CT_STR && text[0] == '\0' && k->dflt != NULL) {
            *err = fmt_alloc("config: \"%s\" (in %s): must not be empty", key, path);
            goto cleanup;
        }
        rc = config_set(cfg, k, text, path, err);
        if (rc != 0)
            goto cleanup;
        rc = LINTEL_EPARAM;
    }
    rc = 0;
cleanup:
    json_decref(j_root);
    return rc;
}

/* A LINTEL_ variable that names no key is a typo that would otherwise be ignored silently. */
static int config_check_env_names(char **err)
{
    extern char **environ;
    char **e;

    for (e = environ; e != NULL && *e != NULL; e++) {
        const char *name = *e, *eq = strchr(name, '=');
        size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name), i;
        bool known = false;
        if (strncmp(name, "LINTEL_", 7) != 0)
            continue;
        /* LINTEL_TEST_* belongs to the test suite (its harness and hooks), never a setting. */
        if (strncmp(name, "LINTEL_TEST_", 12) == 0)
            continue;
        for (i = 0; i < CONFIG_NKEYS && !known; i++) {
            const char *k = config_keys[i].key;
            size_t j, kn = strlen(k);
            known = kn == n - 7;
            for (j = 0; known && j < kn; j++)
                known = toupper((unsigned char)k[j]) == name[7 + j];
        }
        if (!known) {
            *err = fmt_alloc("config: %.*s: no such setting (see docs/configuration.md)", (int)n,
                             name);
            return LINTEL_EPARAM;
        }
    }
    return 0;
}

static int config_load_env(struct config *cfg, char **err)
{
    char env[64];
    size_t i, j;

    if (config_check_env_names(err) != 0)
        return LINTEL_EPARAM;

    for (i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        const char *v;
        snprintf(env, sizeof(env), "LINTEL_%s", k->key);
        for (j = 0; env[j] != '\0'; j++)
            env[j] = (char)toupper((unsigned char)env[j]);
        v = getenv(env);
        if (v == NULL)
            continue;
        if (v[0] == '\0' && (k->type != CT_STR || k->dflt != NULL)) {
            *err = fmt_alloc("config: %s: must not be empty", env);
            return LINTEL_EPARAM;
        }
        if (config_set(cfg, k, v, NULL, err) != 0)
            return LINTEL_EPARAM;
    }
    return 0;
}

static bool config_readable(const char *path)
{
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return false;
    fclose(f);
    return true;
}

static bool config_name_list_ok(const char *list)
{
    const char *p;

    for (p = list; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != ',' && *p != ' ')
            return false;
    return true;
}

/* A URL taken apart by libcurl's URL API; each part is NULL when absent (curl_free'd). */
struct config_url {
    CURLU *h;
    char *scheme, *host, *port, *path, *user, *query, *fragment;
};

static void config_url_clear(struct config_url *u)
{
    curl_free(u->scheme);
    curl_free(u->host);
    curl_free(u->port);
    curl_free(u->path);
    curl_free(u->user);
    curl_free(u->query);
    curl_free(u->fragment);
    curl_url_cleanup(u->h);
    memset(u, 0, sizeof(*u));
}

/* Parses text with curl_url: an http or https URL with a host, else false. */
static bool config_url_parse(const char *text, struct config_url *u)
{
    memset(u, 0, sizeof(*u));
    u->h = curl_url();
    if (u->h == NULL || curl_url_set(u->h, CURLUPART_URL, text, 0) != CURLUE_OK ||
        curl_url_get(u->h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
        curl_url_get(u->h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK || u->host[0] == '\0')
        return false;
    if (strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "https") != 0)
        return false;
    curl_url_get(u->h, CURLUPART_PORT, &u->port, 0);
    curl_url_get(u->h, CURLUPART_PATH, &u->path, 0);
    curl_url_get(u->h, CURLUPART_USER, &u->user, 0);
    curl_url_get(u->h, CURLUPART_QUERY, &u->query, 0);
    curl_url_get(u->h, CURLUPART_FRAGMENT, &u->fragment, 0);
    return true;
}

/* upstream_url: an http(s) URL with a host ("http://" alone is refused). */
static int config_check_upstream(struct config *cfg, char **err)
{
    struct config_url u;
    bool ok;

    if (cfg->upstream_url == NULL)
        return 0;
    ok = config_url_parse(cfg->upstream_url, &u) && u.user == NULL && u.fragment == NULL;
    config_url_clear(&u);
    if (!ok) {
        *err = fmt_alloc("config: upstream_url: \"%s\" is not an http:// or https:// URL with a "
                         "host (and no user or #fragment)",
                         cfg->upstream_url);
        return LINTEL_EPARAM;
    }
    return 0;
}

/*
 * One origin of cors_origins as browsers send it in Origin: "scheme://host[:port]", the port
 * only when it is not the scheme's default. NULL (and *why) when it is not an origin.
 */
static char *config_origin(const char *text, const char **why)
{
    struct config_url u;
    char *out = NULL;

    *why = "is not an http:// or https:// origin";
    if (!config_url_parse(text, &u))
        goto cleanup;
    *why = "is not an origin: an origin has no path, query, fragment or user";
    if ((u.path != NULL && strcmp(u.path, "/") != 0) || u.query != NULL || u.fragment != NULL ||
        u.user != NULL)
        goto cleanup;
    /* A path of "/" is allowed only when the text has none ("https://a.example" parses so). */
    if (text[strlen(text) - 1] == '/')
        goto cleanup;
    if (u.port != NULL && ((strcmp(u.scheme, "http") == 0 && strcmp(u.port, "80") == 0) ||
                           (strcmp(u.scheme, "https") == 0 && strcmp(u.port, "443") == 0))) {
        curl_free(u.port);
        u.port = NULL;
    }
    out = fmt_alloc("%s://%s%s%s", u.scheme, u.host, u.port != NULL ? ":" : "",
                    u.port != NULL ? u.port : "");
cleanup:
    config_url_clear(&u);
    return out;
}

/* Splits list at commas and spaces into *out (NULL-terminated, malloc'd); returns the count. */
static size_t config_words(const char *list, char ***out)
{
    char *copy = strdup(list), *tok, *save = NULL;
    char **words = calloc(strlen(list) / 2 + 2, sizeof(char *));
    size_t n = 0;

    if (copy == NULL || words == NULL) {
        free(copy);
        free(words);
        *out = NULL;
        return 0;
    }
    for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        words[n] = strdup(tok);
        if (words[n] != NULL)
            n++;
    }
    free(copy);
    *out = words;
    return n;
}

static void config_list_free(char **list)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != NULL; i++)
        free(list[i]);
    free(list);
}

/* cors_origins, parsed once: "*" alone (every origin), or a list of origins. */
static int config_cors(struct config *cfg, char **err)
{
    char **words = NULL;
    size_t n, i;
    int rc = LINTEL_EPARAM;

    if (cfg->cors_origins == NULL)
        return 0;
    n = config_words(cfg->cors_origins, &words);
    if (words == NULL)
        return LINTEL_ENOMEM;
    if (n == 0) {
        *err = fmt_alloc("config: cors_origins: lists no origin");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const char *why = NULL;
        char *origin;
        if (strcmp(words[i], "*") == 0) {
            if (n > 1) {
                *err = fmt_alloc("config: cors_origins: \"*\" allows every origin; give it "
                                 "alone or list origins without it");
                goto cleanup;
            }
            cfg->cors_any = true;
            continue;
        }
        origin = config_origin(words[i], &why);
        if (origin == NULL) {
            *err =
                fmt_alloc("config: cors_origins: \"%s\" %s (https://app.example)", words[i], why);
            goto cleanup;
        }
        free(words[i]);
        words[i] = origin;
    }
    if (!cfg->cors_any) {
        cfg->cors_list = words;
        words = NULL;
    }
    rc = 0;
cleanup:
    config_list_free(words);
    return rc;
}

bool config_origin_allowed(const struct config *cfg, const char *origin)
{
    size_t i;

    if (cfg->cors_any)
        return true;
    for (i = 0; origin != NULL && cfg->cors_list != NULL && cfg->cors_list[i] != NULL; i++)
        if (strcasecmp(cfg->cors_list[i], origin) == 0)
            return true;
    return false;
}

/* Checks that span keys: pairs, files that must be readable, formats. */
static int config_check(struct config *cfg, char **err)
{
    unsigned char addr[sizeof(struct in6_addr)];
    const char *p;
    int rc;

    if (inet_pton(AF_INET, cfg->bind, addr) != 1 && inet_pton(AF_INET6, cfg->bind, addr) != 1) {
        *err = fmt_alloc("config: bind: \"%s\" is not an IPv4 or IPv6 address", cfg->bind);
        return LINTEL_EPARAM;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        *err = fmt_alloc("config: %s: is set but %s is not (HTTPS needs both)",
                         cfg->tls_cert != NULL ? "tls_cert" : "tls_key",
                         cfg->tls_cert != NULL ? "tls_key" : "tls_cert");
        return LINTEL_EPARAM;
    }
    if (cfg->tls_cert != NULL && !config_readable(cfg->tls_cert)) {
        *err = fmt_alloc("config: tls_cert: cannot read %s: %s", cfg->tls_cert, strerror(errno));
        return LINTEL_EPARAM;
    }
    if (cfg->tls_key != NULL && !config_readable(cfg->tls_key)) {
        *err = fmt_alloc("config: tls_key: cannot read %s: %s", cfg->tls_key, strerror(errno));
        return LINTEL_EPARAM;
    }
    if (cfg->jwt_key_file != NULL && !config_readable(cfg->jwt_key_file)) {
        *err = fmt_alloc("config: jwt_key_file: cannot read %s: %s", cfg->jwt_key_file,
                         strerror(errno));
        return LINTEL_EPARAM;
    }
    if (strcmp(cfg->jwt_alg, "HS256") == 0 && cfg->jwt_secret == NULL) {
        *err = fmt_alloc("config: jwt_secret: required when jwt_alg is HS256");
        return LINTEL_EPARAM;
    }
    if (strcmp(cfg->jwt_alg, "HS256") != 0 && cfg->jwt_secret != NULL) {
        *err = fmt_alloc("config: jwt_secret: only used with jwt_alg HS256 (jwt_alg is %s)",
                         cfg->jwt_alg);
        return LINTEL_EPARAM;
    }
    rc = config_check_upstream(cfg, err);
    if (rc == 0)
        rc = config_check_cluster(cfg, err);
    if (rc != 0)
        return rc;
    /* mail: an SMTP URL of the two schemes libcurl sends with, and a sender to send as */
    if (cfg->smtp_url != NULL && strncasecmp(cfg->smtp_url, "smtp://", 7) != 0 &&
        strncasecmp(cfg->smtp_url, "smtps://", 8) != 0) {
        *err =
            fmt_alloc("config: smtp_url: \"%s\" is not an smtp:// or smtps:// URL", cfg->smtp_url);
        return LINTEL_EPARAM;
    }
    if (cfg->smtp_url != NULL && (cfg->smtp_from == NULL || strchr(cfg->smtp_from, '@') == NULL)) {
        *err = fmt_alloc("config: smtp_from: an address (name@domain) is required with smtp_url");
        return LINTEL_EPARAM;
    }
    if (cfg->admin_password != NULL && strlen(cfg->admin_password) < cfg->password_min) {
        *err =
            fmt_alloc("config: admin_password: shorter than password_min (%u)", cfg->password_min);
        return LINTEL_EPARAM;
    }
    for (p = cfg->admin_username; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr("._@+-", *p) == NULL) {
            *err = fmt_alloc("config: admin_username: may hold only letters, digits and ._@+-");
            return LINTEL_EPARAM;
        }
    }
    if (cfg->plugins != NULL && !config_name_list_ok(cfg->plugins)) {
        *err = fmt_alloc("config: plugins: \"%s\" is not a comma-separated list of names",
                         cfg->plugins);
        return LINTEL_EPARAM;
    }
    if (cfg->compat != NULL && !config_name_list_ok(cfg->compat)) {
        *err = fmt_alloc("config: compat: \"%s\" is not a comma-separated list of profile names"
                         " (wec, chililabs, datapoints, fender, tasks)",
                         cfg->compat);
        return LINTEL_EPARAM;
    }
    return config_cors(cfg, err);
}

/*
 * The installed plugin directory (PREFIX/bin/lintel -> PREFIX/lib/.../lintel/plugins, as
 * lintel.pc's plugindir says), else the build tree's (build/app/lintel -> build/plugins).
 */
static int config_default_plugin_dir(struct config *cfg)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    struct stat st;

    if (n <= 0)
        return 0;
    exe[n] = '\0';
    cfg->plugin_dir = fmt_alloc("%s/%s", dirname(exe), LINTEL_PLUGIN_RELDIR);
    if (cfg->plugin_dir == NULL)
        return LINTEL_ENOMEM;
    if (stat(cfg->plugin_dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    free(cfg->plugin_dir);
    cfg->plugin_dir = fmt_alloc("%s/../plugins", exe);
    return cfg->plugin_dir != NULL ? 0 : LINTEL_ENOMEM;
}

int config_load(struct config *cfg, const char *path, char **err)
{
    size_t i;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    *err = NULL;
    for (i = 0; i < CONFIG_NKEYS; i++) {
        if (config_keys[i].dflt == NULL)
            continue;
        rc = config_set(cfg, &config_keys[i], config_keys[i].dflt, NULL, err);
        if (rc != 0)
            goto cleanup;
    }
    if (path != NULL) {
        rc = config_load_file(cfg, path, err);
        if (rc != 0)
            goto cleanup;
    }
    rc = config_load_env(cfg, err);
    if (rc != 0)
        goto cleanup;
    rc = config_check(cfg, err);
    if (rc != 0)
        goto cleanup;
    if (cfg->plugin_dir == NULL) {
        rc = config_default_plugin_dir(cfg);
        if (rc != 0)
            goto cleanup;
    }
cleanup:
    if (rc != 0 && *err == NULL)
        *err = fmt_alloc("config: out of memory");
    if (rc != 0)
        config_release(cfg);
    return rc;
}

void config_release(struct config *cfg)
{
    size_t i;

    for (i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->type == CT_STR || k->type == CT_ENUM) {
            char **p = (char **)((char *)cfg + k->offset);
            free(*p);
            *p = NULL;
        }
    }
    json_decref(cfg->j_plugin_configs);
    cfg->j_plugin_configs = NULL;
    config_list_free(cfg->cors_list);
    cfg->cors_list = NULL;
    cfg->cors_any = false;
}

/* Four per core and at least eight: handlers block on SQLite, hashing and upstream calls. */
unsigned config_pool_size(const struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (cfg->threads > 0)
        return cfg->threads;
    if (cores < 1)
        cores = 1;
    return cores * 4 < 8 ? 8 : (unsigned)(cores * 4);
}

/* Half the cores hash at most, so a burst of logins always leaves CPU to other requests. */
unsigned config_hash_slots(const struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (cfg->hash_concurrency > 0)
        return cfg->hash_concurrency;
    return cores >= 4 ? (unsigned)(cores / 2) : 1;
}

const struct config *config_get(void)
{
    return config_global;
}

void config_set_global(const struct config *cfg)
{
    config_global = cfg;
}
