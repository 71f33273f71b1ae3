/*
 * lintel's command line: serve (default), migrate, version, user, --help. Start-up runs in a
 * fixed order and any failure stops it with a message naming what failed.
 */
#include "account_worker.h"
#include "auth.h"
#include "cluster_cli.h"
#include "cluster_events.h"
#include "cluster_node.h"
#include "config.h"
#include "core_routes.h"
#include "db.h"
#include "etag.h"
#include "heap.h"
#include "host_account.h"
#include "host_api.h"
#include "host_kit.h"
#include "host_list.h"
#include "http_client.h"
#include "import_cli.h"
#include "jobs.h"
#include "keys_cli.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "ops_cli.h"
#include "plugin_loader.h"
#include "reload.h"
#include "sd_notify.h"
#include "server.h"
#include "signed_url.h"
#include "users_cli.h"
#include "ws.h"

#include <lintel/migrations.h>
#include <lintel/version.h>

#include <getopt.h>
#include <pthread.h>
#include <rhonabwy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit codes: 0 done, 1 a start-up step failed, 2 bad usage or configuration. */
#define EXIT_START 1
#define EXIT_USAGE 2

extern const struct lintel_embedded_sql core_migrations[];

static int main_core_migrations(void)
{
    const struct lintel_embedded_sql *m;
    int rc = 0;

    for (m = core_migrations; m->id != NULL && rc == 0; m++)
        rc = migrate_add("core", m->id, m->sql);
    return rc;
}

static void main_usage(FILE *out)
{
    fprintf(
        out,
        "usage: lintel [--config FILE] [serve]     serve the API (default)\n"
        "       lintel [--config FILE] migrate     apply pending migrations and exit\n"
        "       lintel migrate --status            applied, pending and changed migrations\n"
        "       lintel migrate --dry-run           apply them to a copy, report, keep nothing\n"
        "       lintel migrate --accept-changed    record changed files' new checksums\n"
        "       lintel [--config FILE] user ...    manage accounts (lintel user --help)\n"
        "       lintel [--config FILE] import PROFILE FILE  a seed system's data, all or nothing\n"
        "       lintel [--config FILE] keys list|rotate   the signing-key ring\n"
        "       lintel [--config FILE] shell [SQL]  the database in sqlite3, extension loaded\n"
        "       lintel [--config FILE] cluster ...  a dqlite cluster (lintel cluster --help)\n"
        "       lintel [--config FILE] healthcheck  exit 0 when the server's /health is ok\n"
        "       lintel version                     print the version\n"
        "       lintel --help                      this text\n"
        "\n"
        "Configuration: defaults, then the JSON file given with --config, then LINTEL_*\n"
        "environment variables (LINTEL_PORT=9000 overrides \"port\": 8080).\n"
        "See docs/configuration.md for every key.\n");
}

enum main_cmd {
    CMD_SERVE,
    CMD_MIGRATE,
    CMD_USER,
    CMD_IMPORT,
    CMD_KEYS,
    CMD_CLUSTER,
    CMD_SHELL,
    CMD_HEALTHCHECK,
    CMD_VERSION,
    CMD_HELP
};

/* What `lintel migrate` does: apply (default), --status, --dry-run. */
enum main_migrate_mode { MIGRATE_APPLY, MIGRATE_STATUS, MIGRATE_DRY_RUN };

struct main_state {
    struct config cfg;
    enum main_migrate_mode migrate_mode;
    bool migrate_accept;
    const char *config_path; /* --config, NULL when none (read again on SIGHUP) */
    bool cfg_loaded, log_open, libs_open, db_open, auth_open, http_open;
};

/*
 * Options (getopt_long: "--config FILE", "--config=FILE", "-c FILE", "-cFILE") and command words
 * in order; "+" stops getopt at each word, which is taken here before it goes on. The migrate
 * options count only after "migrate"; "user" and "keys" hand the rest (*sub on) to their CLI.
 */
static int main_args(int argc, char **argv, const char **config_path, enum main_cmd *cmd, int *sub,
                     struct main_state *st)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"status", no_argument, NULL, 'S'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {"accept-changed", no_argument, NULL, 'A'},
                                         {NULL, 0, NULL, 0}};
    const char *word;
    int c;

    *config_path = NULL;
    *cmd = CMD_SERVE;
    *sub = argc;
    optind = 1;
    opterr = 0; /* the messages are written here */
    for (;;) {
        while ((c = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
            if (c == ':') {
                fprintf(stderr, "lintel: %s needs a file name\n", argv[optind - 1]);
                return EXIT_USAGE;
            } else if (c == 'c') {
                *config_path = optarg;
            } else if (c == 'h' || c == 'V') {
                *cmd = c == 'h' ? CMD_HELP : CMD_VERSION;
                return 0;
            } else if ((c == 'S' || c == 'D' || c == 'A') && *cmd == CMD_MIGRATE) {
                if (c == 'A')
                    st->migrate_accept = true;
                else
                    st->migrate_mode = c == 'S' ? MIGRATE_STATUS : MIGRATE_DRY_RUN;
            } else {
                /* also the migrate options anywhere but after "migrate" */
                fprintf(stderr, "lintel: unknown argument '%s' (see lintel --help)\n",
                        argv[optind - 1]);
                return EXIT_USAGE;
            }
        }
        if (optind >= argc)
            return 0;
        word = argv[optind++];
        if (strcmp(word, "help") == 0 || strcmp(word, "version") == 0) {
            *cmd = word[0] == 'h' ? CMD_HELP : CMD_VERSION;
            return 0;
        } else if (strcmp(word, "serve") == 0) {
            *cmd = CMD_SERVE;
        } else if (strcmp(word, "migrate") == 0) {
            *cmd = CMD_MIGRATE;
        } else if (strcmp(word, "user") == 0 || strcmp(word, "keys") == 0) {
            *cmd = word[0] == 'u' ? CMD_USER : CMD_KEYS;
            *sub = optind - 1;
            return 0;
        } else if (strcmp(word, "cluster") == 0) {
            *cmd = CMD_CLUSTER;
            *sub = optind - 1;
            return 0;
        } else if (strcmp(word, "import") == 0) {
            *cmd = CMD_IMPORT;
            *sub = optind - 1;
            return 0;
        } else if (strcmp(word, "shell") == 0 || strcmp(word, "healthcheck") == 0) {
            *cmd = word[0] == 's' ? CMD_SHELL : CMD_HEALTHCHECK;
            *sub = optind - 1;
            return 0;
        } else {
            fprintf(stderr, "lintel: unknown argument '%s' (see lintel --help)\n", word);
            return EXIT_USAGE;
        }
    }
}

/* Database, core and plugin migrations: what `serve` and `migrate` share. */
static int main_prepare(struct main_state *st)
{
    struct migrate_options mopts = {0};
    char *err = NULL;
    int rc;

    rc = db_global_init(&st->cfg);
    if (rc != 0) {
        log_error("database: cannot open the database under %s (%d)", st->cfg.data_dir, rc);
        return EXIT_START;
    }
    st->db_open = true;
    rc = main_core_migrations();
    if (rc != 0) {
        log_error("migrations: cannot register the core migrations");
        return EXIT_START;
    }
    rc = core_routes_add();
    if (rc != 0)
        return EXIT_START;
    host_api_bind(&(const struct lintel_api){.declare = plugin_loader_declare,
                                             .migration_add = plugin_loader_migration_add,
                                             .on_unload = plugin_loader_on_unload,
                                             .log = plugin_loader_log,
                                             .declare_profile = plugin_loader_declare_profile,
                                             .scope_add = plugin_loader_scope_add,
                                             .routes_add = host_kit_routes_add,
                                             .error_render = plugin_loader_error_render,
                                             .setting_int = host_kit_setting_int,
                                             .setting_str = host_kit_setting_str,
                                             .sql_queryf = host_kit_sql_queryf,
                                             .sql_rowf = host_kit_sql_rowf,
                                             .sql_execf = host_kit_sql_execf,
                                             .sql_list = host_kit_sql_list,
                                             .res_rowf = host_kit_res_rowf,
                                             .sql_list_total = host_kit_sql_list_total,
                                             .event_user = host_kit_event_user,
                                             .sql_exec_blob = host_kit_sql_exec_blob,
                                             .sql_blob_rowf = host_kit_sql_blob_rowf,
                                             .sql_page = host_kit_sql_page,
                                             .req_time = host_list_req_time,
                                             .url_sign = signed_url_api_sign,
                                             .job_start = jobs_job_start,
                                             .job_progress = jobs_job_progress,
                                             .login = host_account_login,
                                             .user_create = host_account_user_create,
                                             .session_start = host_account_session_start,
                                             .user_delete = host_account_user_delete,
                                             .ws_add = host_kit_ws_add,
                                             .res_etag = etag_res_version});
    rc = plugin_loader_load_all(&st->cfg, host_api(), &err);
    if (rc != 0) {
        log_error("start stopped: %s", err != NULL ? err : "a plugin was refused");
        free(err);
        return EXIT_START;
    }
    mopts.data_dir = st->cfg.data_dir;
    mopts.snapshot_keep = st->cfg.snapshot_keep;
    mopts.accept_changed = st->cfg.migrate_accept_changed || st->migrate_accept;
    migrate_set_options(&mopts);
    if (st->migrate_mode == MIGRATE_STATUS)
        rc = migrate_status(stdout, &err);
    else if (st->migrate_mode == MIGRATE_DRY_RUN)
        rc = migrate_dry_run(stdout, &err);
    else
        rc = migrate_apply(&err);
    if (rc != 0) {
        log_error("start stopped: migration failed: %s", err != NULL ? err : "unknown error");
        free(err);
        /* A shipped file that changed, or a newer database: the operator decides (exit 2). */
        return rc == LINTEL_ECONFLICT ? EXIT_USAGE : EXIT_START;
    }
    return 0;
}

static int main_serve(struct main_state *st)
{
    sigset_t set;
    char *err = NULL;
    int rc, sig = 0;

    /*
     * SIGHUP is blocked before any thread starts (a dqlite node's too), so it never takes the
     * default action (exit) there; one sent during the start is a reload once it is done.
     */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    rc = main_prepare(st);
    if (rc != 0)
        return rc;
    rc = auth_global_init(&st->cfg, &err);
    if (rc != 0) {
        log_error("start stopped: auth: %s", err != NULL ? err : "cannot initialise");
        free(err);
        return EXIT_START;
    }
    st->auth_open = true;
    rc = signed_url_global_init(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: the key of signed URLs cannot be loaded");
        return EXIT_START;
    }
    rc = http_client_global_init(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: outbound HTTP cannot be initialised");
        return EXIT_START;
    }
    st->http_open = true;
    rc = auth_bootstrap_admin(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: cannot create the first admin (%d)", rc);
        return EXIT_START;
    }
    /* Worker threads inherit this mask: only the main thread takes SIGTERM/SIGINT/SIGHUP. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    rc = host_api_init(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: cannot set up the gate of CPU-heavy work");
        return EXIT_START;
    }
    rc = ws_init(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: the WebSocket endpoint cannot be set up");
        return EXIT_START;
    }
    /* storage dqlite: events reach the sockets of every node, through the database */
    if (db_remote() && cluster_events_start() != 0) {
        log_error("start stopped: live events cannot reach the cluster's other nodes");
        return EXIT_START;
    }
    /* after the signal mask: the worker must not take SIGTERM either */
    rc = account_worker_start(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: the accounts worker cannot start");
        return EXIT_START;
    }
    rc = jobs_start(&st->cfg);
    if (rc != 0) {
        log_error("start stopped: the job thread cannot start");
        return EXIT_START;
    }
    server_set_hooks(&(const struct server_hooks){.check = host_kit_check_query,
                                                  .render_error = host_kit_render_error,
                                                  .on_reply = metrics_request});
    rc = server_start(&st->cfg, &err);
    if (rc != 0) {
        log_error("start stopped: %s", err != NULL ? err : "cannot start the server");
        free(err);
        ws_shutdown();
        server_stop();
        return EXIT_START;
    }
    sd_notify_ready(st->cfg.bind);
    /* SIGHUP: log level and TLS pair read again (docs/operations.md "Reload"), then wait on */
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        reload_apply(st->config_path);
    }
    log_info("signal %d: stopping (in-flight requests finish)", sig);
    sd_notify_stopping();
    /* Sockets first: they get their close frame (1001) while the server still runs. */
    ws_shutdown();
    server_stop();
    return 0;
}

static int main_migrate(struct main_state *st)
{
    int rc = main_prepare(st);

    if (rc == 0 && st->migrate_mode == MIGRATE_APPLY)
        log_info("migrations applied");
    return rc;
}

static void main_release(struct main_state *st)
{
    account_worker_stop();
    jobs_stop(); /* before the plugins whose code the jobs run unload */
    server_release();
    ws_release();
    host_api_release();
    host_account_release();
    plugin_loader_unload_all();
    if (st->http_open)
        http_client_global_release();
    if (st->auth_open)
        auth_global_release();
    cluster_events_stop(); /* its thread uses the database */
    signed_url_global_release();
    migrate_release();
    if (st->db_open)
        db_global_release();
    if (st->libs_open)
        r_global_close();
}

int main(int argc, char **argv)
{
    struct main_state st = {0};
    const char *config_path = NULL;
    enum main_cmd cmd;
    char *err = NULL;
    int rc, sub;

    heap_tune(); /* before any allocation a thread could keep */
    signal(SIGPIPE, SIG_IGN);
    rc = main_args(argc, argv, &config_path, &cmd, &sub, &st);
    if (rc != 0)
        return rc;
    if (cmd == CMD_HELP) {
        main_usage(stdout);
        return 0;
    }
    if (cmd == CMD_VERSION) {
        printf("lintel %s (plugin ABI %d.%d)\n", LINTEL_VERSION, LINTEL_ABI_MAJOR,
               LINTEL_ABI_MINOR);
        return 0;
    }
    if (config_load(&st.cfg, config_path, &err) != 0) {
        fprintf(stderr, "lintel: %s\n", err != NULL ? err : "bad configuration");
        free(err);
        return EXIT_USAGE;
    }
    st.cfg_loaded = true;
    st.config_path = config_path;
    config_set_global(&st.cfg);
    if (log_init(st.cfg.log_level) != 0) {
        fprintf(stderr, "lintel: cannot start logging\n");
        rc = EXIT_START;
        goto cleanup;
    }
    st.log_open = true;
    /* Only the server runs a dqlite node; the tools are clients of the cluster it is in. */
    if (cmd != CMD_SERVE && cmd != CMD_CLUSTER)
        cluster_node_client_only();
    if (cmd == CMD_CLUSTER) {
        rc = cluster_cli_main(argc - sub, argv + sub, &st.cfg);
        goto cleanup;
    }
    if (cmd == CMD_USER || cmd == CMD_IMPORT) {
        rc = (cmd == CMD_USER ? users_cli_main : import_cli_main)(argc - sub, argv + sub, &st.cfg);
        goto cleanup;
    }
    if (cmd == CMD_SHELL || cmd == CMD_HEALTHCHECK) {
        rc = (cmd == CMD_SHELL ? shell_cli_main : healthcheck_cli_main)(argc - sub, argv + sub,
                                                                        &st.cfg);
        goto cleanup;
    }
    if (r_global_init() != RHN_OK) {
        log_error("start stopped: cannot initialise rhonabwy");
        rc = EXIT_START;
        goto cleanup;
    }
    st.libs_open = true;
    if (cmd == CMD_KEYS) {
        rc = keys_cli_main(argc - sub, argv + sub, &st.cfg);
        goto cleanup;
    }
    rc = cmd == CMD_MIGRATE ? main_migrate(&st) : main_serve(&st);
cleanup:
    main_release(&st);
    if (cmd == CMD_SERVE && rc == 0)
        log_always("stopped cleanly");
    if (st.log_open)
        log_close();
    config_set_global(NULL);
    config_release(&st.cfg);
    return rc;
}
