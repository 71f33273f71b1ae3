/*
 * The plugin loader, black-box: plugins of another ABI major, a newer minor, a failing init, a
 * duplicate route, a missing symbol or no declaration are refused by name; with
 * plugin_failure=skip the server runs without them; a failing migration changes nothing.
 */
#include "lt_test.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether name is one of the plugins of build/plugins (the rest are tests/plugins'). */
static bool lt_is_first_party(const char *name)
{
    static const char *const ours[] = {"auth",    "users",      "numbers", "tasks",
                                       "avatars", "datapoints", NULL};
    const char *const *n;

    for (n = ours; *n != NULL; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}

/* A temporary plugin dir with symlinks to the built plugins named (NULL-terminated). */
static void plugin_dir(char *dir, size_t size, const char *const *names)
{
    const char *good = getenv("LINTEL_TEST_PLUGIN_DIR");
    const char *bad = getenv("LINTEL_TEST_BAD_PLUGIN_DIR");
    char src[PATH_MAX], dst[PATH_MAX * 2];

    snprintf(dir, size, "/tmp/lintel-plugins-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (; *names != NULL; names++) {
        if (strcmp(*names, "example") == 0)
            snprintf(src, sizeof(src), "%s", getenv("LINTEL_TEST_EXAMPLE"));
        else
            snprintf(src, sizeof(src), "%s/%s.so", lt_is_first_party(*names) ? good : bad, *names);
        ck_assert_int_eq(access(src, R_OK), 0);
        snprintf(dst, sizeof(dst), "%s/%s.so", dir, *names);
        ck_assert_int_eq(symlink(src, dst), 0);
    }
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/*
 * `lintel migrate` with these plugins and extra (one more environment entry, or NULL) must
 * exit 1 with a message holding every needle.
 */
static void expect_refused_with(const char *const *names, const char *extra,
                                const char *const *needles)
{
    char dir[PATH_MAX], data[] = "/tmp/lintel-data-XXXXXX", env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, extra, NULL};
    static const char *const args[] = {"migrate", NULL};
    char *out = NULL;

    plugin_dir(dir, sizeof(dir), names);
    ck_assert_ptr_nonnull(mkdtemp(data));
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_run(data, env, args, &out), 1);
    for (; *needles != NULL; needles++)
        if (strstr(out, *needles) == NULL)
            ck_abort_msg("output lacks '%s':\n%s", *needles, out);
    ck_assert_ptr_nonnull(strstr(out, "start stopped"));
    free(out);
    rm_rf(dir);
    rm_rf(data);
}

static void expect_refused(const char *const *names, const char *const *needles)
{
    expect_refused_with(names, NULL, needles);
}

START_TEST(wrong_major)
{
    static const char *const names[] = {"bad_major", "example", NULL};
    static const char *const needles[] = {"bad_major", "ABI 3.0", "ABI 2.", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(newer_minor)
{
    static const char *const names[] = {"example", "newer_minor", NULL};
    static const char *const needles[] = {"newer_minor", "newer minor", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(failing_init)
{
    static const char *const names[] = {"example", "init_fails", NULL};
    static const char *const needles[] = {"init_fails", "init failed", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(duplicate_route)
{
    static const char *const names[] = {"dup_route", "example", NULL};
    static const char *const needles[] = {"plugin example", "GET /api/example/ping",
                                          "held by plugin dup_route", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(missing_symbol)
{
    static const char *const names[] = {"no_symbol", NULL};
    static const char *const needles[] = {"no_symbol", "lintel_plugin_init", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(no_declaration)
{
    static const char *const names[] = {"no_declare", NULL};
    static const char *const needles[] = {"no_declare", "declare", NULL};

    expect_refused(names, needles);
}
END_TEST

/* Every lifecycle member goes through one check: before declare, error_render is refused too. */
START_TEST(lifecycle_before_declare)
{
    static const char *const names[] = {"early_lifecycle", NULL};
    static const char *const needles[] = {"early_lifecycle", "called error_render before declare()",
                                          NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(named_but_absent)
{
    static const char *const names[] = {"example", NULL};
    static const char *const needles[] = {"plugin ghost: cannot load", NULL};

    expect_refused_with(names, "LINTEL_PLUGINS=example,ghost", needles);
}
END_TEST

/* A plugin_extra entry that is not a <name>.so path is refused by name; the server stops. */
START_TEST(extra_not_a_plugin)
{
    static const char *const names[] = {"example", NULL};
    static const char *const needles[] = {
        "plugin_extra: /nowhere/notes.txt is not a path to a <name>.so file", NULL};

    expect_refused_with(names, "LINTEL_PLUGIN_EXTRA=/nowhere/notes.txt", needles);
}
END_TEST

/* With plugin_failure=skip the refused plugins are left out and the rest serves. */
START_TEST(skip_mode)
{
    static const char *const names[] = {"bad_major",  "dup_route", "example",
                                        "init_fails", "no_symbol", NULL};
    char dir[PATH_MAX], env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, "LINTEL_PLUGIN_FAILURE=skip", NULL};
    struct lt_server s = {.pid = 0};
    struct lt_resp r = {0};
    const json_t *j_p;

    plugin_dir(dir, sizeof(dir), names);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    /* init_fails registered this route before failing: nothing of it may remain. */
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/init_fails/x", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
    /* dup_route loaded first and holds the route; example was refused as a whole. */
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/example/ping", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/problem+json");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/example/notes/count", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "plugins")), 1);
    j_p = json_array_get(json_object_get(r.j_body, "plugins"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_p, "name")), "dup_route");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    rm_rf(dir);
}
END_TEST

static char *sqlite_scalar(const char *db, const char *sql)
{
    char cmd[PATH_MAX * 2], line[256] = "";
    FILE *p;

    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\" 2>&1", db, sql);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return strdup(line);
}

/* A failing migration stops the start and leaves the database as it found it. */
START_TEST(failing_migration)
{
    static const char *const names[] = {"bad_migration", "example", NULL};
    static const char *const args[] = {"migrate", NULL};
    char dir[PATH_MAX], data[] = "/tmp/lintel-data-XXXXXX", env_dir[PATH_MAX + 32];
    char db[PATH_MAX + 16], *before, *after, *out = NULL;
    const char *env[] = {env_dir, "LINTEL_PLUGINS=example", NULL};
    const char *count_sql = "SELECT count(*) || '/' || (SELECT count(*) FROM schema_migrations) "
                            "FROM sqlite_master";

    plugin_dir(dir, sizeof(dir), names);
    ck_assert_ptr_nonnull(mkdtemp(data));
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    snprintf(db, sizeof(db), "%s/lintel.db", data);
    /* First the good plugins alone. */
    ck_assert_int_eq(lt_run(data, env, args, &out), 0);
    free(out);
    before = sqlite_scalar(db, count_sql);
    /* Then with the bad one too. */
    env[1] = NULL;
    ck_assert_int_eq(lt_run(data, env, args, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "bad_migration"));
    ck_assert_ptr_nonnull(strstr(out, "0001_bad"));
    ck_assert_ptr_nonnull(strstr(out, "no_such_table"));
    free(out);
    after = sqlite_scalar(db, count_sql);
    ck_assert_str_eq(before, after);
    free(after);
    after = sqlite_scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'bad_migration_t'");
    ck_assert_str_eq(after, "0");
    free(after);
    free(before);
    rm_rf(dir);
    rm_rf(data);
}
END_TEST

START_TEST(outside_api)
{
    static const char *const names[] = {"not_profile", NULL};
    static const char *const needles[] = {"not_profile", "GET /elsewhere", "under /api/", NULL};

    expect_refused(names, needles);
}
END_TEST

START_TEST(undeclared_scope)
{
    static const char *const names[] = {"undeclared_scope", NULL};
    static const char *const needles[] = {"undeclared_scope", "ghost:write", "scope_add", NULL};

    expect_refused(names, needles);
}
END_TEST

/* A setting asked under the wrong type is refused by name, and *out is left empty. */
START_TEST(unknown_setting)
{
    static const char *const names[] = {"unknown_setting", NULL};
    static const char *const needles[] = {"no text setting \"password_min\"",
                                          "both settings refused, outputs cleared", NULL};

    expect_refused(names, needles);
}
END_TEST

/* A reply status that is neither an HTTP status nor a class (4 for 4XX) refuses the table. */
START_TEST(bad_reply_status)
{
    static const char *const names[] = {"bad_reply", NULL};
    static const char *const needles[] = {"bad_reply", "/api/bad_reply/x", "bad status", NULL};

    expect_refused(names, needles);
}
END_TEST

/*
 * Reply status classes came with ABI 2.8 (with the reply's example): a plugin declaring 2.7 that
 * names one is refused by name, its shorter reply entries read as 2.7 laid them out.
 */
START_TEST(old_minor_reply_class)
{
    static const char *const names[] = {"old_class", NULL};
    static const char *const needles[] = {"old_class", "/api/old_class/x", "needs ABI 2.8", NULL};

    expect_refused(names, needles);
}
END_TEST

/* A plugin built against the frozen ABI 2.0 header loads and serves on this host. */
START_TEST(abi_1_0_runs)
{
    static const char *const names[] = {"abi_v1_0", NULL};
    char dir[PATH_MAX], env_dir[PATH_MAX + 32];
    const char *env[] = {env_dir, NULL};
    struct lt_server s = {.pid = 0};
    struct lt_resp r = {0};

    plugin_dir(dir, sizeof(dir), names);
    snprintf(env_dir, sizeof(env_dir), "LINTEL_PLUGIN_DIR=%s", dir);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "GET", "/api/abi10/ping", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "abi")), "1.0");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "sum")), 3);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    rm_rf(dir);
}
END_TEST

/* The installed plugins plus one more beside them (plugin_extra); example stays out. */
static struct lt_server probe_srv = {.pid = 0};

static int probe_start(void)
{
    static char extra[PATH_MAX + 32];
    const char *env[] = {extra, NULL};

    snprintf(extra, sizeof(extra), "LINTEL_PLUGIN_EXTRA=%s/kit_probe.so",
             getenv("LINTEL_TEST_BAD_PLUGIN_DIR"));
    return lt_server_start(&probe_srv, env, NULL);
}

static const char *probe_url(void)
{
    return probe_srv.url;
}

START_TEST(example_not_default)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(probe_url(), "GET", "/api/example/ping", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(profile_outside_api)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(probe_url(), "GET", "/probe/hello", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "hello")), "profile");
    lt_resp_clear(&r);
}
END_TEST

/* The profile renders the auth failure of its own route, not the host's problem+json. */
START_TEST(profile_renders_auth_failure)
{
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_json(probe_url(), "GET", "/probe/secret", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/json");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "code")), 401);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "detail")));
    ck_assert_ptr_null(json_object_get(r.j_body, "type"));
    lt_resp_clear(&r);
}
END_TEST

/* A declared scope: granted to users, asked for at login, required by the route. */
START_TEST(declared_scope)
{
    char *token = NULL, *name = NULL, *scoped = NULL, *narrow = NULL;
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_register(probe_url(), "probe", "correct horse", &token, NULL, &name), 0);
    ck_assert_int_eq(lt_json(probe_url(), "GET", "/probe/secret", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_login(probe_url(), name, "correct horse", "probe:write", &scoped, NULL), 0);
    ck_assert_int_eq(lt_json(probe_url(), "GET", "/probe/secret", scoped, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    /* A token without it is refused (403), in the profile's own shape. */
    ck_assert_int_eq(lt_login(probe_url(), name, "correct horse", "profile", &narrow, NULL), 0);
    ck_assert_int_eq(lt_json(probe_url(), "GET", "/probe/secret", narrow, NULL, &r), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(r.j_body, "detail")), "probe:write"));
    lt_resp_clear(&r);
    free(token);
    free(scoped);
    free(narrow);
    free(name);
}
END_TEST

/* A CHECK built on lintel_check() comes back as a 422 naming the field. */
START_TEST(constraint_is_field_422)
{
    char *token = NULL;
    struct lt_resp r = {0};
    const json_t *j_err;

    ck_assert_int_eq(lt_register(probe_url(), "probe", "correct horse", &token, NULL, NULL), 0);
    ck_assert_int_eq(
        lt_json(probe_url(), "POST", "/api/probe/links", token, "{\"url\":\"ftp://x\"}", &r), 0);
    ck_assert_int_eq(r.status, 422);
    j_err = json_array_get(json_object_get(r.j_body, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_err, "field")), "url");
    ck_assert_str_eq(json_string_value(json_object_get(j_err, "message")),
                     "must be an http or https URL");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(probe_url(), "POST", "/api/probe/links", token, "{}", &r), 0);
    ck_assert_int_eq(r.status, 422);
    j_err = json_array_get(json_object_get(r.j_body, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_err, "field")), "url");
    ck_assert_str_eq(json_string_value(json_object_get(j_err, "message")), "is required");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(probe_url(), "POST", "/api/probe/links", token,
                             "{\"url\":\"https://lintel.example/a\"}", &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    lt_resp_clear(&r);
    free(token);
}
END_TEST

/*
 * Kit SQL whose inline parameters cannot be packed runs nothing: a 500 in the profile's error
 * shape, and the server's log names the format, whichever kit call packed them.
 */
START_TEST(kit_bad_pack_is_500)
{
    static const char *const vias[] = {"row", "reply"};
    struct lt_resp r = {0};
    char path[64], *log;
    size_t i;

    for (i = 0; i < sizeof(vias) / sizeof(vias[0]); i++) {
        snprintf(path, sizeof(path), "/api/probe/bad_pack/%s", vias[i]);
        ck_assert_int_eq(lt_json(probe_url(), "GET", path, NULL, NULL, &r), 0);
        ck_assert_int_eq(r.status, 500);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "code")), 500);
        lt_resp_clear(&r);
    }
    log = lt_slurp(probe_srv.log_path);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "'SELECT ?1 AS x': parameters \"s\""));
    ck_assert_ptr_nonnull(strstr(log, "SQL parameters \"s\""));
    free(log);
}
END_TEST

/* A PATCH of probe link path with If-Match: etag and body; the status. */
static long probe_patch(const char *token, const char *path, const char *etag, const char *body)
{
    char if_match[128];
    const char *headers[] = {if_match, NULL};
    struct lt_resp r = {0};
    long status;

    snprintf(if_match, sizeof(if_match), "If-Match: %s", etag);
    ck_assert_int_eq(lt_request(probe_url(), "PATCH", path, token, "application/json", body,
                                (size_t)-1, headers, &r),
                     0);
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

/*
 * Under If-Match the handler runs inside the host's transaction: an event it published goes
 * out with the commit, and never when the transaction rolls back (the handler failed after
 * publishing): the socket's first event is the one of the change that stayed.
 */
START_TEST(if_match_event_follows_commit)
{
    char *token = NULL, *name = NULL, *scoped = NULL, path[64], etag[64], ws_headers[4096];
    struct lt_resp r = {0};
    json_t *j_ev;
    int fd, status = 0;

    ck_assert_int_eq(lt_register(probe_url(), "probe", "correct horse", &token, NULL, &name), 0);
    ck_assert_int_eq(lt_login(probe_url(), name, "correct horse", "probe:write", &scoped, NULL), 0);
    ck_assert_int_eq(lt_json(probe_url(), "POST", "/api/probe/links", scoped,
                             "{\"url\":\"https://lintel.example/a\"}", &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    snprintf(path, sizeof(path), "/api/probe/links/%lld",
             (long long)json_integer_value(json_object_get(r.j_body, "id")));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(probe_url(), "GET", path, scoped, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(lt_header(&r, "ETag"));
    snprintf(etag, sizeof(etag), "%s", lt_header(&r, "ETag"));
    lt_resp_clear(&r);
    snprintf(ws_headers, sizeof(ws_headers), "Authorization: Bearer %s\r\n", scoped);
    fd = lt_ws_open(probe_url(), "/api/ws", ws_headers, &status);
    ck_assert_int_eq(status, 101);
    ck_assert_int_eq(probe_patch(scoped, path, etag,
                                 "{\"url\":\"https://lintel.example/x\",\"fail_after\":true}"),
                     409);
    /* rolled back: the row is as it was, so the same tag still matches */
    ck_assert_int_eq(probe_patch(scoped, path, etag, "{\"url\":\"https://lintel.example/b\"}"),
                     200);
    j_ev = lt_ws_json(fd, 5000);
    ck_assert_ptr_nonnull(j_ev);
    ck_assert_str_eq(lt_path_str(j_ev, "event"), "probe.link");
    ck_assert_str_eq(lt_path_str(j_ev, "link.url"), "https://lintel.example/b");
    json_decref(j_ev);
    close(fd);
    free(token);
    free(scoped);
    free(name);
}
END_TEST

/* Declared query parameters are checked by the host before the handler: 422 naming each. */
START_TEST(declared_query)
{
    static const struct {
        const char *query, *field, *message;
    } bad[] = {
        {"", "n", "is required"},
        {"?n=abc", "n", "must be an integer between 1 and 10"},
        {"?n=11", "n", "must be an integer between 1 and 10"},
        {"?n=0", "n", "must be an integer between 1 and 10"},
        {"?n=3&kind=c", "kind", "must be one of: a, b"},
    };
    struct lt_resp r = {0};
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const json_t *j_err;
        snprintf(path, sizeof(path), "/api/probe/items%s", bad[i].query);
        ck_assert_int_eq(lt_json(probe_url(), "GET", path, NULL, NULL, &r), 0);
        ck_assert_int_eq(r.status, 422);
        j_err = json_array_get(json_object_get(r.j_body, "errors"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(j_err, "field")), bad[i].field);
        ck_assert_str_eq(json_string_value(json_object_get(j_err, "message")), bad[i].message);
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(lt_json(probe_url(), "GET", "/api/probe/items?n=10&kind=b", NULL, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.j_body, "n")), "10");
    lt_resp_clear(&r);
}
END_TEST

/* The route table's description reaches /openapi.json. */
START_TEST(route_metadata_in_openapi)
{
    struct lt_resp r = {0};
    const json_t *j_op, *j_p;

    ck_assert_int_eq(lt_json(probe_url(), "GET", "/openapi.json", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    j_op = json_object_get(json_object_get(json_object_get(r.j_body, "paths"), "/api/probe/items"),
                           "get");
    ck_assert_str_eq(json_string_value(json_object_get(j_op, "summary")),
                     "Declared query parameters");
    j_p = json_array_get(json_object_get(j_op, "parameters"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_p, "name")), "n");
    ck_assert_str_eq(json_string_value(json_object_get(j_p, "in")), "query");
    ck_assert(json_is_true(json_object_get(j_p, "required")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j_p, "schema"), "maximum")),
                     10);
    /* A titled schema that is an item of an array (anyOf) is hoisted too, a $ref in its place. */
    j_p = json_object_get(json_object_get(json_object_get(j_op, "responses"), "200"), "content");
    j_p = json_object_get(json_object_get(j_p, "application/json"), "schema");
    j_p = json_object_get(json_object_get(json_object_get(j_p, "properties"), "kind"), "anyOf");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_p, 0), "$ref")),
                     "#/components/schemas/ProbeKind");
    j_p = json_object_get(json_object_get(json_object_get(r.j_body, "components"), "schemas"),
                          "ProbeKind");
    ck_assert_str_eq(json_string_value(json_object_get(j_p, "type")), "string");
    /* A profile's routes: its renderer's shape for every 4xx and 5xx, none of the host's. */
    ck_assert_ptr_nonnull(json_object_get(json_object_get(j_op, "responses"), "4XX"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(j_op, "responses"), "5XX"));
    ck_assert_ptr_null(json_object_get(json_object_get(j_op, "responses"), "401"));
    ck_assert_ptr_null(json_object_get(json_object_get(j_op, "responses"), "default"));
    ck_assert_ptr_nonnull(json_object_get(
        json_object_get(json_object_get(json_object_get(j_op, "responses"), "4XX"), "content"),
        "application/json"));
    lt_resp_clear(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("plugins");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, wrong_major);
    tcase_add_test(tc, newer_minor);
    tcase_add_test(tc, failing_init);
    tcase_add_test(tc, duplicate_route);
    tcase_add_test(tc, missing_symbol);
    tcase_add_test(tc, no_declaration);
    tcase_add_test(tc, lifecycle_before_declare);
    tcase_add_test(tc, named_but_absent);
    tcase_add_test(tc, skip_mode);
    tcase_add_test(tc, failing_migration);
    tcase_add_test(tc, outside_api);
    tcase_add_test(tc, undeclared_scope);
    tcase_add_test(tc, unknown_setting);
    tcase_add_test(tc, extra_not_a_plugin);
    tcase_add_test(tc, bad_reply_status);
    tcase_add_test(tc, old_minor_reply_class);
    tcase_add_test(tc, abi_1_0_runs);
    tcase_add_test(tc, example_not_default);
    tcase_add_test(tc, profile_outside_api);
    tcase_add_test(tc, profile_renders_auth_failure);
    tcase_add_test(tc, declared_scope);
    tcase_add_test(tc, constraint_is_field_422);
    tcase_add_test(tc, kit_bad_pack_is_500);
    tcase_add_test(tc, declared_query);
    tcase_add_test(tc, if_match_event_follows_commit);
    tcase_add_test(tc, route_metadata_in_openapi);
    suite_add_tcase(s, tc);
    if (probe_start() != 0)
        return 1;
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    lt_server_stop(&probe_srv);
    return failed == 0 ? 0 : 1;
}
