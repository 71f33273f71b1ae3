/*
 * Server configuration: defaults, then the optional JSON file (--config), then LINTEL_*
 * environment variables. Read-only once the server starts; every thread may read it.
 */
#ifndef LINTEL_APP_CONFIG_H
#define LINTEL_APP_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config {
    /* listening */
    char *bind;                  /* bind: "127.0.0.1"                                      */
    int port;                    /* port: 8080; 0 picks a free one (logged at start)       */
    char *tls_cert;              /* tls_cert: PEM file, with tls_key enables HTTPS         */
    char *tls_key;               /* tls_key                                                */
    unsigned threads;            /* threads: worker pool size; 0 = from the core count     */
    unsigned hash_concurrency;   /* hash_concurrency: passwords hashed at once; 0 = auto   */
    unsigned connection_limit;   /* connection_limit: 1024                                 */
    unsigned connection_per_ip;  /* connection_per_ip: open connections per client, 128    */
    unsigned connection_timeout; /* connection_timeout: seconds idle, 30                   */
    size_t connection_memory;    /* connection_memory: bytes per connection, 32 KiB        */
    size_t max_body; /* max_body: bytes of a request body, 1 MiB (avatars: avatar_max) */
    size_t idempotency_max_reply; /* idempotency_max_reply: reply bytes kept per key, 256 KiB */
    char *envelope;               /* envelope: "problem" (RFC 9457) or "jsend"              */
    char *cors_origins;           /* cors_origins: comma-separated, NULL = CORS off         */
    bool cors_any;                /* cors_origins is "*": every origin                      */
    char **cors_list;             /* else its origins, "scheme://host[:port]", NULL-ended   */
    bool trust_proxy;             /* trust_proxy: honour X-Forwarded-For                    */
    char *log_level;              /* log_level: error, warning, info (default), debug       */

    /* storage */
    char *data_dir;               /* data_dir: "./data"                                     */
    char *synchronous;            /* synchronous: "FULL" (default) or "NORMAL"              */
    unsigned busy_timeout;        /* busy_timeout: milliseconds, 5000                       */
    unsigned snapshot_keep;       /* snapshot_keep: snapshots before migrating kept, 3   */
    bool migrate_accept_changed;  /* migrate_accept_changed: start despite changed files */
    char *storage;                /* storage: "sqlite" (default) or "dqlite" (docs/cluster.md) */
    long long cluster_id;         /* cluster_id: this node's id; 1 bootstraps a cluster      */
    char *cluster_bind;           /* cluster_bind: "host:port" of this node's Raft endpoint  */
    char *cluster_join;           /* cluster_join: comma-separated addresses of members      */
    unsigned cluster_latency_ms;  /* cluster_latency_ms: Raft's timing (docs/cluster.md), 10 */
    bool wal_checkpoint_external; /* wal_checkpoint: "external" (Litestream checkpoints)   */
    long long signed_url_ttl;     /* signed_url_ttl: seconds a signed URL is valid, 600     */

    /* plugins */
    char *plugin_dir;         /* plugin_dir: default the executable's ../plugins        */
    char *plugins;            /* plugins: "auth,users,..."; NULL = every .so found      */
    char *plugin_extra;       /* plugin_extra: comma-separated .so paths loaded beside  */
    char *compat;             /* compat: "wec,fender": profiles compat_<name>.so, last  */
    bool plugin_failure_skip; /* plugin_failure: "stop" (default) or "skip"             */
    json_t *j_plugin_configs; /* file key "plugins": [{name, path?, config}] (owned)    */

    /* tokens */
    char *jwt_alg;         /* jwt_alg: "EdDSA" (default), "ES256", "RS256", "HS256"  */
    char *jwt_key_file;    /* jwt_key_file: PEM private key; default data_dir key    */
    char *jwt_secret;      /* jwt_secret: HS256 only, at least 32 bytes              */
    char *jwt_issuer;      /* jwt_issuer: "lintel"                                   */
    char *jwt_audience;    /* jwt_audience: "lintel-api"                             */
    long long access_ttl;  /* access_ttl: seconds, 900                               */
    long long refresh_ttl; /* refresh_ttl: seconds, 14 days                          */

    /* accounts */
    unsigned password_min;   /* password_min: 8 (may only be lowered, down to 1)      */
    unsigned password_cost;  /* password_cost: yescrypt cost, 5                        */
    unsigned login_max_user; /* login_max_user: 5 failures per username / 15 min       */
    unsigned login_max_ip;   /* login_max_ip: 20 failures per address / 15 min         */
    char *admin_username;    /* admin_username: "admin"                                */
    char *admin_password;    /* admin_password: NULL = random, printed once            */

    /* upstream sensor service, avatars */
    char *upstream_url;        /* upstream_url: NULL = populate answers 503              */
    unsigned upstream_timeout; /* upstream_timeout: seconds, 10                          */
    size_t upstream_max_bytes; /* upstream_max_bytes: 64 KiB                             */
    bool upstream_redirects;   /* upstream_redirects: false                              */
    size_t avatar_max;         /* avatar_max: 2 MiB                                      */

    /* WebSockets (docs/live.md) */
    unsigned ws_ping_interval; /* ws_ping_interval: seconds of client silence, then a ping, 30 */
    unsigned ws_idle_timeout;  /* ws_idle_timeout: seconds of client silence, then 4408, 75 */

    /* operator pages (docs/operations.md) */
    char *web_dir;       /* web_dir: assets of /docs and /admin; NULL = next to the binary */
    bool docs_cdn;       /* docs_cdn: /docs loads Swagger UI from jsDelivr instead         */
    char *metrics_token; /* metrics_token: bearer for /metrics scrapers; NULL = admins only */

    /* self-service accounts and mail (docs/auth.md "Mail", "Password reset") */
    char *smtp_url;              /* smtp_url: smtp:// or smtps://host[:port]; NULL = no mail */
    char *smtp_from;             /* smtp_from: envelope and From: address                    */
    char *smtp_user;             /* smtp_user: SMTP AUTH user, NULL = none                   */
    char *smtp_password;         /* smtp_password (secret)                                   */
    unsigned smtp_timeout;       /* smtp_timeout: seconds per mail, 10                       */
    char *mail_templates;        /* mail_templates: operator templates, NULL = built-in     */
    char *public_url;            /* public_url: base of links in mails, NULL = code only     */
    long long reset_ttl;         /* reset_ttl: seconds a reset code works, 1800              */
    long long verify_ttl;        /* verify_ttl: seconds a verification code works, 2 days    */
    bool require_verified_email; /* require_verified_email: login needs it, false            */
    char *registration;          /* registration: open (default), closed, invite             */
    unsigned register_max_ip;    /* register_max_ip: registrations/address/hour, 0 = off     */
    unsigned forgot_max_email;   /* forgot_max_email: reset requests/address/hour, 3         */
    unsigned forgot_max_ip;      /* forgot_max_ip: reset requests/client/hour, 10            */
    unsigned cleanup_interval;   /* cleanup_interval: seconds between cleanups, 3600         */
    /* the per-user request rate limit (docs/auth.md "Request rate limit") */
    unsigned rate_limit;        /* rate_limit: requests per window and user/client, 0 = off */
    unsigned rate_limit_window; /* rate_limit_window: seconds, 60                           */
    unsigned rate_limit_table;  /* rate_limit_table: users/clients tracked at once, 8192    */
};

/*
 * Fills cfg from defaults, the JSON file at path (NULL: none) and the environment. On error
 * returns LINTEL_EPARAM and *err (malloc'd) names the key and what is wrong with it.
 */
int config_load(struct config *cfg, const char *path, char **err);

/* Frees everything config_load allocated. */
void config_release(struct config *cfg);

/* The worker pool size: threads, else four per core and at least eight. */
unsigned config_pool_size(const struct config *cfg);

/* How many password hashes may run at once: hash_concurrency, else half the cores (>= 1). */
unsigned config_hash_slots(const struct config *cfg);

/* True when origin (an Origin header) is allowed by cors_origins ("*" allows every one). */
bool config_origin_allowed(const struct config *cfg, const char *origin);

/* The process-wide configuration once loaded (read-only after start). */
const struct config *config_get(void);
void config_set_global(const struct config *cfg);

#endif /* LINTEL_APP_CONFIG_H */
