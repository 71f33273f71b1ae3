/*
 * Auth behaviour that needs a private server: brute-force limits (per username and per
 * address, 429 with Retry-After), bcrypt re-hashing at login, the user CLI, the first admin.
 */
#include "lt_test.h"

#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PW "correct-horse-1"
/* bcrypt (cost 4) of "bcrypt-password-1", as another system would have stored it */
#define BCRYPT_HASH "$2b$04$FnnvjCNtyMW7bIPXlWgBKurTorfWpaNoG25qWJBstZguzriIB4vIq"

static char *fmt(const char *f, const char *a, const char *b)
{
    char *out = NULL;

    ck_assert_int_ge(asprintf(&out, f, a, b), 0);
    return out;
}

static long login_status(const char *url, const char *user, const char *pw, struct lt_resp *keep)
{
    char *body = fmt("{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_json(url, "POST", "/api/auth/login", NULL, body, &r), 0);
    free(body);
    status = r.status;
    if (keep != NULL)
        *keep = r;
    else
        lt_resp_clear(&r);
    return status;
}

/* Runs SQL on the server's database through the sqlite3 shell with the extension; output. */
static char *shell_sql(const struct lt_server *s, const char *sql)
{
    const char *ext = getenv("LINTEL_TEST_EXT");
    char *cmd = NULL, buf[512], path[PATH_MAX + 16];
    FILE *p;
    size_t n;

    /* through a file: the SQL holds '$' that a shell command line would expand */
    snprintf(path, sizeof(path), "%s/query.sql", s->data_dir);
    p = fopen(path, "w");
    ck_assert_ptr_nonnull(p);
    fprintf(p, "%s;\n", sql);
    fclose(p);
    ck_assert_ptr_nonnull(ext);
    /* a sanitized extension needs the ASan runtime preloaded into the shell (tests/sql/run.sh) */
    ck_assert_int_ge(asprintf(&cmd,
                              "if nm -D '%s.so' 2>/dev/null | grep -q __asan_init; then"
                              " LD_PRELOAD=\"$(gcc -print-file-name=libasan.so)"
                              " $(gcc -print-file-name=libubsan.so)\""
                              " ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0;"
                              " export LD_PRELOAD ASAN_OPTIONS; fi;"
                              " sqlite3 -batch -cmd '.load %s' '%s/lintel.db' < '%s'",
                              ext, ext, s->data_dir, path),
                     0);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    pclose(p);
    free(cmd);
    unlink(path);
    return strdup(buf);
}

/* `printf 'pw\n' | lintel user ...` against the server's data dir; exit status. */
static int cli(const struct lt_server *s, const char *password, const char *args)
{
    char *cmd = NULL;
    int rc;

    ck_assert_int_ge(asprintf(&cmd,
                              "printf '%%s\\n' '%s' | LINTEL_DATA_DIR='%s' LINTEL_PLUGIN_DIR='%s'"
                              " LINTEL_PASSWORD_COST=3 '%s' user %s >/dev/null 2>&1",
                              password, s->data_dir, getenv("LINTEL_TEST_PLUGIN_DIR"),
                              getenv("LINTEL_TEST_BIN"), args),
                     0);
    rc = system(cmd);
    free(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(brute_force_limits)
{
    static const char *const env[] = {"LINTEL_LOGIN_MAX_USER=3", "LINTEL_LOGIN_MAX_IP=6",
                                      "LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {.pid = -1};
    char *tok = NULL, *victim = NULL, *other = NULL;
    struct lt_resp r;
    long long id;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "bf", PW, &tok, &id, &victim), 0);
    free(tok);
    ck_assert_int_eq(lt_register(s.url, "bf2", PW, &tok, &id, &other), 0);
    free(tok);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(login_status(s.url, victim, "wrong-password", NULL), 401);
    /* locked: even the right password gets 429, with Retry-After */
    ck_assert_int_eq(login_status(s.url, victim, PW, &r), 429);
    ck_assert_ptr_nonnull(lt_header(&r, "Retry-After"));
    ck_assert_int_gt(atoi(lt_header(&r, "Retry-After")), 0);
    ck_assert_int_le(atoi(lt_header(&r, "Retry-After")), 900);
    lt_resp_clear(&r);
    /* the lock is per username (case-insensitive) */
    victim[0] = 'B';
    ck_assert_int_eq(login_status(s.url, victim, PW, NULL), 429);
    ck_assert_int_eq(login_status(s.url, other, PW, NULL), 200);
    /* unknown usernames count for the address: 3 + 3 = 6 failures from 127.0.0.1 */
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(login_status(s.url, "nobody-here", "wrong-password", NULL), 401);
    ck_assert_int_eq(login_status(s.url, other, PW, &r), 429);
    ck_assert_ptr_nonnull(lt_header(&r, "Retry-After"));
    lt_resp_clear(&r);
    free(victim);
    free(other);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/* Account policy set in the config FILE (not the environment) reaches the auth plugin. */
START_TEST(limits_from_config_file)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {.pid = -1};
    char dir[] = "/tmp/lintel-cfg-XXXXXX", path[64], *tok = NULL, *name = NULL;
    const char *args[] = {"--config", path, NULL};
    long long id;
    FILE *f;
    int i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/lintel.json", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"login_max_user\": 2, \"password_min\": 4}\n", f);
    fclose(f);
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    /* password_min 4 from the file: a 5-character password is accepted */
    ck_assert_int_eq(lt_register(s.url, "cf", "abcde", &tok, &id, &name), 0);
    free(tok);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(login_status(s.url, name, "wrong-password", NULL), 401);
    ck_assert_int_eq(login_status(s.url, name, "abcde", NULL), 429);
    free(name);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    unlink(path);
    rmdir(dir);
}
END_TEST

struct burst_login {
    const char *url;
    const char *user;
    long status;
};

static void *burst_login_run(void *arg)
{
    struct burst_login *b = arg;
    char *body = NULL;
    struct lt_resp r;

    b->status = -1;
    if (asprintf(&body, "{\"username\":\"%s\",\"password\":\"%s\"}", b->user, PW) < 0)
        return NULL;
    if (lt_json(b->url, "POST", "/api/auth/login", NULL, body, &r) == 0) {
        b->status = r.status;
        lt_resp_clear(&r);
    }
    free(body);
    return NULL;
}

/*
 * A burst of logins is slowed by the host's hashing gate, never refused while it fits: on the
 * default sizing one hash runs and half the pool (at least four) waits, so four at once pass.
 */
START_TEST(login_burst_is_slowed_not_refused)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", "LINTEL_HASH_CONCURRENCY=1",
                                      "LINTEL_THREADS=8", NULL};
    struct lt_server s = {.pid = -1};
    struct burst_login b[4];
    pthread_t th[4];
    char *tok = NULL, *name[4] = {NULL};
    long long id;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(lt_register(s.url, "burst", PW, &tok, &id, &name[i]), 0);
        free(tok);
        b[i].url = s.url;
        b[i].user = name[i];
    }
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, burst_login_run, &b[i]), 0);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(b[i].status, 200);
        free(name[i]);
    }
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/*
 * An operator's role change in the shell ends no session: the next request with a token from
 * before it must carry only what the new role grants (the extension's table, app/auth.c).
 */
START_TEST(role_change_in_the_shell_narrows_live_tokens)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {.pid = -1};
    struct lt_resp r;
    char *tok = NULL, *out;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &tok, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/1", tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    out = shell_sql(&s, "UPDATE users SET role = 'user' WHERE username = 'admin'");
    free(out);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/1", tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "detail")),
                     "Missing scope users:admin");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "role")), "user");
    lt_resp_clear(&r);
    free(tok);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(bcrypt_rehash_and_cli)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", "LINTEL_ADMIN_PASSWORD", NULL};
    struct lt_server s = {.pid = -1};
    char *tok = NULL, *name = NULL, *sql, *out, *log, *line, admin_pw[64] = "";
    struct lt_resp r;
    long long id;
    FILE *f;

    /* "NAME" without '=' removes it from the server's environment (glibc putenv) */
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    /* first start without an admin password: a random one, in <data_dir>/admin-password */
    sql = fmt("%s/%s", s.data_dir, "admin-password");
    f = fopen(sql, "r");
    free(sql);
    ck_assert_ptr_nonnull(f);
    log = calloc(1, 65536);
    ck_assert_uint_gt(fread(log, 1, 65535, f), 0);
    fclose(f);
    line = strstr(log, "password=");
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(sscanf(line, "password=%63s", admin_pw), 1);
    ck_assert_int_eq(login_status(s.url, "admin", admin_pw, NULL), 200);
    free(log);

    /* an imported bcrypt hash verifies and becomes yescrypt at that login */
    ck_assert_int_eq(lt_register(s.url, "bc", PW, &tok, &id, &name), 0);
    free(tok);
    sql = fmt("UPDATE users SET password_hash = '%s' WHERE username = '%s'", BCRYPT_HASH, name);
    free(shell_sql(&s, sql));
    free(sql);
    ck_assert_int_eq(login_status(s.url, name, "bcrypt-password-1", NULL), 200);
    sql = fmt("SELECT substr(password_hash, 1, 3) FROM users WHERE username = '%s'", name, NULL);
    out = shell_sql(&s, sql);
    ck_assert_str_eq(out, "$y$\n");
    free(out);
    free(sql);
    ck_assert_int_eq(login_status(s.url, name, "bcrypt-password-1", NULL), 200);

    /* the CLI: add an admin, change a password (which ends that user's sessions) */
    ck_assert_int_eq(cli(&s, "cli-admin-pass", "add cliadmin --role admin"), 0);
    ck_assert_int_eq(cli(&s, "cli-admin-pass", "add cliadmin"), 1); /* taken */
    ck_assert_int_eq(cli(&s, "short", "add cliuser"), 1);           /* password rule */
    ck_assert_int_eq(cli(&s, "x", "frobnicate"), 2);
    ck_assert_int_eq(lt_login(s.url, "cliadmin", "cli-admin-pass", NULL, &tok, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", tok, NULL, &r), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "role")), "admin");
    lt_resp_clear(&r);
    ck_assert_int_eq(cli(&s, "new-cli-pass-2", "passwd cliadmin"), 0);
    ck_assert_int_eq(cli(&s, "new-cli-pass-2", "passwd nobody-at-all"), 1);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", tok, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(login_status(s.url, "cliadmin", "new-cli-pass-2", NULL), 200);
    free(tok);
    free(name);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/*
 * Issue 11 item 5: a user hard-deleted from the shell (foreign keys off, as the shell has them)
 * leaves sessions naming its id; the next account must get a new id, and the old tokens open
 * nothing.
 */
START_TEST(hard_deleted_user_id_never_reused)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {.pid = -1};
    struct lt_resp r;
    char *tok_gone = NULL, *tok_next = NULL, *sql = NULL, *out;
    long long id_gone = 0, id_next = 0;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "gone", PW, &tok_gone, &id_gone, NULL), 0);
    ck_assert_int_ge(asprintf(&sql, "DELETE FROM users WHERE id = %lld", id_gone), 0);
    out = shell_sql(&s, sql);
    free(out);
    free(sql);
    ck_assert_int_eq(lt_register(s.url, "next", PW, &tok_next, &id_next, NULL), 0);
    ck_assert_int_gt(id_next, id_gone);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", tok_gone, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/users/me", tok_next, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "id")), id_next);
    lt_resp_clear(&r);
    free(tok_gone);
    free(tok_next);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("auth_limits");
    TCase *tc = tcase_create("private");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, brute_force_limits);
    tcase_add_test(tc, bcrypt_rehash_and_cli);
    tcase_add_test(tc, limits_from_config_file);
    tcase_add_test(tc, login_burst_is_slowed_not_refused);
    tcase_add_test(tc, role_change_in_the_shell_narrows_live_tokens);
    tcase_add_test(tc, hard_deleted_user_id_never_reused);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(limits_suite)
