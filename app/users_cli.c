/*
 * `lintel user add NAME [--role admin]` and `lintel user passwd NAME`: account administration
 * from the shell, the password read from standard input so it never shows in `ps` or history.
 */
#include "users_cli.h"

#include "auth.h"
#include "cli_db.h"
#include "config.h"
#include "db.h"
#include "user_new.h"

#include <getopt.h>
#include <jansson.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define USERS_CLI_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

static int users_cli_usage(void)
{
    fprintf(stderr, "usage: lintel user add NAME [-r|--role user|admin]   (password on stdin)\n"
                    "       lintel user passwd NAME                    (password on stdin)\n");
    return 2;
}

/* One line from stdin without its line end; no echo when stdin is a terminal. *out malloc'd. */
static int users_cli_read_password(char **out)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO);
    size_t cap = 0;
    ssize_t n;
    char *line = NULL;

    *out = NULL;
    if (tty) {
        fprintf(stderr, "Password: ");
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }
    n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return -1;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    *out = line;
    return 0;
}

/*
 * argv: "user", then the command, its NAME and options in any order (getopt_long permutes):
 * "add NAME [-r|--role user|admin]" or "passwd NAME". 0, or -1 for a usage error.
 */
static int users_cli_args(int argc, char **argv, const char **cmd, const char **name,
                          const char **role)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, role_given = 0;

    optind = 0; /* glibc: a full restart, main.c has run getopt_long on other arguments */
    while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
        if (c != 'r')
            return -1; /* --help, or getopt_long has named the bad option */
        *role = optarg;
        role_given = 1;
    }
    if (argc - optind != 2)
        return -1;
    *cmd = argv[optind];
    *name = argv[optind + 1];
    if (strcmp(*cmd, "add") == 0)
        return strcmp(*role, "admin") == 0 || strcmp(*role, "user") == 0 ? 0 : -1;
    return strcmp(*cmd, "passwd") == 0 && !role_given ? 0 : -1;
}

/* `lintel user add`: the host's account creation (user_new), its refusals on stderr. */
static int users_cli_add(struct db *db, const struct config *cfg, const char *name,
                         const char *password, const char *role)
{
    const struct lintel_user_new in = {.username = name, .password = password, .role = role};
    json_t *j_user = NULL, *j_problems = NULL;
    const json_t *j_p;
    size_t i;
    int rc;

    rc = user_new(db, cfg, &in, NULL, &j_user, &j_problems);
    json_array_foreach(j_problems, i, j_p) {
        const char *field = json_string_value(json_object_get(j_p, "field"));
        const char *msg = json_string_value(json_object_get(j_p, "message"));
        if (rc == LINTEL_EPARAM)
            fprintf(stderr, "lintel user: %s %s\n", field, msg);
        else
            fprintf(stderr, "lintel user: %s (usernames stay reserved after deletion)\n", msg);
    }
    if (rc != 0 && json_array_size(j_problems) == 0)
        fprintf(stderr, "lintel user: %s\n", db_errmsg(db));
    if (rc == 0)
        printf("user '%s' added (id %lld, role %s)\n", name,
               (long long)json_integer_value(json_object_get(j_user, "id")), role);
    json_decref(j_problems);
    json_decref(j_user);
    return rc;
}

/* `lintel user passwd`: the password rule, the hash, and every session of the account ended. */
static int users_cli_passwd(struct db *db, const struct config *cfg, const char *name,
                            const char *password)
{
    json_t *j_hash = NULL, *j_row = NULL;
    const char *problem;
    long long id;
    int rc;

    rc = db_rowf(db, &j_hash,
                 "SELECT lintel_rule_password(?2, ?3) AS p,"
                 " CASE WHEN lintel_rule_password(?2, ?3) IS NULL"
                 " THEN lintel_password_hash(?2, ?4) END AS hash",
                 "ssII", name, password, (json_int_t)cfg->password_min,
                 (json_int_t)cfg->password_cost);
    if (rc != 0)
        goto cleanup;
    problem = json_string_value(json_object_get(j_hash, "p"));
    if (problem != NULL) {
        fprintf(stderr, "lintel user: password %s\n", problem);
        rc = LINTEL_EPARAM;
        goto cleanup;
    }
    rc = db_rowf(db, &j_row,
                 "UPDATE users SET password_hash = ?2, updated_at = " USERS_CLI_NOW
                 " WHERE username = ?1 COLLATE NOCASE AND deleted_at IS NULL"
                 " RETURNING id",
                 "sO", name, json_object_get(j_hash, "hash"));
    if (rc == LINTEL_ENOTFOUND) {
        fprintf(stderr, "lintel user: no user '%s'\n", name);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    id = (long long)json_integer_value(json_object_get(j_row, "id"));
    /* An administrator's reset ends every session: whoever knew the old one is out. */
    rc = auth_session_end(id, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "lintel user: password changed but sessions not ended: %s\n",
                db_errmsg(db));
        goto cleanup;
    }
    printf("password of '%s' (id %lld) changed; its sessions ended\n", name, id);
cleanup:
    if (rc != 0 && rc != LINTEL_EPARAM && rc != LINTEL_ENOTFOUND)
        fprintf(stderr, "lintel user: %s\n", db_errmsg(db));
    json_decref(j_hash);
    json_decref(j_row);
    return rc;
}

int users_cli_main(int argc, char **argv, const struct config *cfg)
{
    const char *cmd, *name, *role = "user";
    char *password = NULL;
    struct db *db = NULL;
    int status = 1, opened = 0;

    if (users_cli_args(argc, argv, &cmd, &name, &role) != 0)
        return users_cli_usage();
    if (cli_db_open(cfg, "lintel user", "users", &db, &opened) != 0)
        goto cleanup;
    if (users_cli_read_password(&password) != 0) {
        fprintf(stderr, "lintel user: no password on standard input\n");
        goto cleanup;
    }
    if ((strcmp(cmd, "add") == 0 ? users_cli_add(db, cfg, name, password, role)
                                 : users_cli_passwd(db, cfg, name, password)) == 0)
        status = 0;
cleanup:
    if (password != NULL) {
        memset(password, 0, strlen(password));
        free(password);
    }
    if (opened)
        db_global_release();
    return status;
}
