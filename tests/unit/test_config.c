/*
 * config_load: defaults, file, environment precedence, and every way a value can be wrong
 * (each must fail with LINTEL_EPARAM and a message naming the key).
 */
#include "config.h"

#include <check.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Forget every LINTEL_* variable but the test harness's own. */
static void clear_env(void)
{
    char name[128];
    int again = 1;

    while (again) {
        char **e;
        again = 0;
        for (e = environ; *e != NULL; e++) {
            if (strncmp(*e, "LINTEL_", 7) == 0 && strncmp(*e, "LINTEL_TEST_", 12) != 0) {
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
}

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/lintel-config-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads with the given file text (NULL: no file) and expects failure naming needle. */
static void expect_error(const char *file_text, const char *needle)
{
    struct config cfg;
    char *path = file_text != NULL ? write_file(file_text) : NULL;
    char *err = NULL;
    int rc = config_load(&cfg, path, &err);

    ck_assert_int_eq(rc, LINTEL_EPARAM);
    ck_assert_ptr_nonnull(err);
    if (strstr(err, needle) == NULL)
        ck_abort_msg("message '%s' does not name '%s'", err, needle);
    free(err);
    if (path != NULL)
        unlink(path);
    free(path);
}

static void expect_env_error(const char *name, const char *value, const char *needle)
{
    clear_env();
    setenv(name, value, 1);
    expect_error(NULL, needle);
    unsetenv(name);
}

START_TEST(defaults)
{
    struct config cfg;
    char *err = NULL;

    clear_env();
    ck_assert_int_eq(config_load(&cfg, NULL, &err), 0);
    ck_assert_str_eq(cfg.bind, "127.0.0.1");
    ck_assert_int_eq(cfg.port, 8080);
    ck_assert_uint_eq(cfg.max_body, 1048576);
    ck_assert_str_eq(cfg.envelope, "problem");
    ck_assert_str_eq(cfg.jwt_alg, "EdDSA");
    ck_assert_str_eq(cfg.synchronous, "FULL");
    ck_assert_int_eq(cfg.access_ttl, 900);
    ck_assert_int_eq(cfg.refresh_ttl, 14 * 86400);
    ck_assert_str_eq(cfg.data_dir, "./data");
    ck_assert_str_eq(cfg.admin_username, "admin");
    ck_assert_ptr_null(cfg.admin_password);
    ck_assert_ptr_null(cfg.cors_origins);
    ck_assert_ptr_nonnull(cfg.plugin_dir);
    ck_assert(!cfg.plugin_failure_skip);
    ck_assert_uint_eq(cfg.avatar_max, 2 * 1024 * 1024);
    config_release(&cfg);
}
END_TEST

START_TEST(file_then_env)
{
    struct config cfg;
    char *err = NULL;
    char *path = write_file("{\"port\": 9000, \"access_ttl\": 60, \"envelope\": \"jsend\","
                            " \"trust_proxy\": true, \"synchronous\": \"normal\","
                            " \"plugins\": [{\"name\": \"example\", \"config\": {\"a\": 1}}]}");

    clear_env();
    setenv("LINTEL_ACCESS_TTL", "120", 1);
    setenv("LINTEL_PLUGIN_FAILURE", "skip", 1);
    ck_assert_int_eq(config_load(&cfg, path, &err), 0);
    ck_assert_int_eq(cfg.port, 9000);      /* from the file */
    ck_assert_int_eq(cfg.access_ttl, 120); /* the environment wins */
    ck_assert_str_eq(cfg.envelope, "jsend");
    ck_assert(cfg.trust_proxy);
    ck_assert_str_eq(cfg.synchronous, "NORMAL"); /* canonical spelling */
    ck_assert(cfg.plugin_failure_skip);
    ck_assert_int_eq(json_array_size(cfg.j_plugin_configs), 1);
    config_release(&cfg);
    unlink(path);
    free(path);
    clear_env();
}
END_TEST

START_TEST(env_errors)
{
    expect_env_error("LINTEL_PORT", "abc", "LINTEL_PORT");
    expect_env_error("LINTEL_PORT", "70000", "out of range");
    expect_env_error("LINTEL_PORT", "-1", "LINTEL_PORT");
    expect_env_error("LINTEL_PORT", " 80", "not an integer");
    expect_env_error("LINTEL_PORT", "", "LINTEL_PORT");
    expect_env_error("LINTEL_THREADS", "5000", "LINTEL_THREADS");
    expect_env_error("LINTEL_MAX_BODY", "0", "LINTEL_MAX_BODY");
    expect_env_error("LINTEL_MAX_BODY", "1MB", "LINTEL_MAX_BODY");
    expect_env_error("LINTEL_ACCESS_TTL", "0", "LINTEL_ACCESS_TTL");
    expect_env_error("LINTEL_REFRESH_TTL", "99999999999999999999", "LINTEL_REFRESH_TTL");
    expect_env_error("LINTEL_ENVELOPE", "xml", "LINTEL_ENVELOPE");
    expect_env_error("LINTEL_LOG_LEVEL", "loud", "LINTEL_LOG_LEVEL");
    expect_env_error("LINTEL_SYNCHRONOUS", "OFF", "LINTEL_SYNCHRONOUS");
    expect_env_error("LINTEL_JWT_ALG", "none", "LINTEL_JWT_ALG");
    expect_env_error("LINTEL_TRUST_PROXY", "maybe", "LINTEL_TRUST_PROXY");
    expect_env_error("LINTEL_PLUGIN_FAILURE", "ignore", "LINTEL_PLUGIN_FAILURE");
    expect_env_error("LINTEL_PASSWORD_MIN", "9", "LINTEL_PASSWORD_MIN");
    expect_env_error("LINTEL_PASSWORD_COST", "0", "LINTEL_PASSWORD_COST");
    expect_env_error("LINTEL_BIND", "localhost", "bind");
    expect_env_error("LINTEL_UPSTREAM_URL", "file:///etc/passwd", "upstream_url");
    expect_env_error("LINTEL_CORS_ORIGINS", "example.com", "cors_origins");
    expect_env_error("LINTEL_ADMIN_USERNAME", "bad name!", "admin_username");
    expect_env_error("LINTEL_ADMIN_USERNAME", "ab", "LINTEL_ADMIN_USERNAME");
    expect_env_error("LINTEL_PLUGINS", "auth;rm -rf", "plugins");
    expect_env_error("LINTEL_JWT_KEY_FILE", "/nonexistent/key.pem", "jwt_key_file");
    expect_env_error("LINTEL_CONNECTION_MEMORY", "100", "LINTEL_CONNECTION_MEMORY");
}
END_TEST

START_TEST(pair_errors)
{
    char *cert = write_file("not really a certificate");

    clear_env();
    setenv("LINTEL_TLS_CERT", cert, 1);
    expect_error(NULL, "tls_key");
    unsetenv("LINTEL_TLS_CERT");
    setenv("LINTEL_TLS_KEY", cert, 1);
    expect_error(NULL, "tls_cert");
    setenv("LINTEL_TLS_CERT", "/nonexistent/cert.pem", 1);
    expect_error(NULL, "tls_cert: cannot read");
    clear_env();
    setenv("LINTEL_JWT_ALG", "HS256", 1);
    expect_error(NULL, "jwt_secret: required");
    setenv("LINTEL_JWT_SECRET", "too-short", 1);
    expect_error(NULL, "at least 32");
    clear_env();
    setenv("LINTEL_JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
    expect_error(NULL, "only used with jwt_alg HS256");
    clear_env();
    setenv("LINTEL_ADMIN_PASSWORD", "short", 1);
    expect_error(NULL, "admin_password");
    clear_env();
    unlink(cert);
    free(cert);
}
END_TEST

START_TEST(file_errors)
{
    clear_env();
    expect_error("{\"port\": \"8080\"}", "\"port\"");
    expect_error("{\"prot\": 8080}", "unknown key");
    expect_error("{\"port\": 8080, \"port\": 9090}", "invalid JSON");
    expect_error("{\"port\": 8080", "invalid JSON");
    expect_error("[1, 2]", "JSON object");
    expect_error("{\"trust_proxy\": \"yes\"}", "true or false");
    expect_error("{\"envelope\": 1}", "a string");
    expect_error("{\"port\": 1.5}", "an integer");
    expect_error("{\"data_dir\": \"\"}", "must not be empty");
    expect_error("{\"plugins\": [42]}", "\"plugins\"[0]");
    expect_error("{\"plugins\": [{\"path\": \"/x.so\"}]}", "\"name\" is missing");
    expect_error("{\"plugins\": [{\"name\": \"x\", \"config\": 1}]}", "config");
    expect_error("{\"plugins\": [{\"name\": \"x\", \"colour\": 1}]}", "unknown key");
}
END_TEST

START_TEST(unreadable_file)
{
    struct config cfg;
    char *err = NULL;

    clear_env();
    ck_assert_int_eq(config_load(&cfg, "/nonexistent/lintel.json", &err), LINTEL_EPARAM);
    ck_assert_ptr_nonnull(strstr(err, "cannot read /nonexistent/lintel.json"));
    free(err);
}
END_TEST

START_TEST(global)
{
    struct config cfg;
    char *err = NULL;

    clear_env();
    ck_assert_int_eq(config_load(&cfg, NULL, &err), 0);
    config_set_global(&cfg);
    ck_assert_ptr_eq(config_get(), &cfg);
    config_set_global(NULL);
    config_release(&cfg);
}
END_TEST

START_TEST(unknown_env_variable)
{
    /* A misspelt setting stops the start naming it, instead of being ignored. */
    expect_env_error("LINTEL_PROT", "9000", "LINTEL_PROT");
    expect_env_error("LINTEL_", "1", "LINTEL_:");
    expect_env_error("LINTEL_port", "9000", "LINTEL_port");
}
END_TEST

/* Loads with one variable set and returns the config (released by the caller). */
static void load_env(struct config *cfg, const char *name, const char *value)
{
    char *err = NULL;

    clear_env();
    setenv(name, value, 1);
    if (config_load(cfg, NULL, &err) != 0)
        ck_abort_msg("%s=%s refused: %s", name, value, err);
    unsetenv(name);
}

START_TEST(urls_parsed_by_curl)
{
    struct config cfg;

    /* upstream_url: http(s) with a host; a bare scheme or another scheme stops the start. */
    expect_env_error("LINTEL_UPSTREAM_URL", "http://", "upstream_url");
    expect_env_error("LINTEL_UPSTREAM_URL", "https://", "upstream_url");
    expect_env_error("LINTEL_UPSTREAM_URL", "ftp://example.com/x", "upstream_url");
    expect_env_error("LINTEL_UPSTREAM_URL", "http://user:pw@example.com/x", "upstream_url");
    load_env(&cfg, "LINTEL_UPSTREAM_URL", "http://127.0.0.1:8090/sensor?x=1");
    ck_assert_str_eq(cfg.upstream_url, "http://127.0.0.1:8090/sensor?x=1");
    config_release(&cfg);
    /* cors_origins: origins only (no path), "*" alone. */
    expect_env_error("LINTEL_CORS_ORIGINS", "https://app.example/path", "cors_origins");
    expect_env_error("LINTEL_CORS_ORIGINS", "https://app.example/", "cors_origins");
    expect_env_error("LINTEL_CORS_ORIGINS", "https://app.example?q", "cors_origins");
    expect_env_error("LINTEL_CORS_ORIGINS", "http://", "cors_origins");
    expect_env_error("LINTEL_CORS_ORIGINS", "*, https://app.example", "cors_origins");
    expect_env_error("LINTEL_CORS_ORIGINS", " , ", "cors_origins");
    load_env(&cfg, "LINTEL_CORS_ORIGINS", "*");
    ck_assert(cfg.cors_any);
    ck_assert_ptr_null(cfg.cors_list);
    ck_assert(config_origin_allowed(&cfg, "https://any.example"));
    config_release(&cfg);
    /* Parsed once: the default port is dropped, as browsers send Origin. */
    load_env(&cfg, "LINTEL_CORS_ORIGINS", "https://app.example:443, http://localhost:3000");
    ck_assert(!cfg.cors_any);
    ck_assert_str_eq(cfg.cors_list[0], "https://app.example");
    ck_assert_str_eq(cfg.cors_list[1], "http://localhost:3000");
    ck_assert_ptr_null(cfg.cors_list[2]);
    ck_assert(config_origin_allowed(&cfg, "https://app.example"));
    ck_assert(config_origin_allowed(&cfg, "http://localhost:3000"));
    ck_assert(!config_origin_allowed(&cfg, "http://localhost:3001"));
    ck_assert(!config_origin_allowed(&cfg, "https://app.example.evil"));
    ck_assert(!config_origin_allowed(&cfg, NULL));
    config_release(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, defaults);
    tcase_add_test(tc, file_then_env);
    tcase_add_test(tc, env_errors);
    tcase_add_test(tc, pair_errors);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, unreadable_file);
    tcase_add_test(tc, global);
    tcase_add_test(tc, unknown_env_variable);
    tcase_add_test(tc, urls_parsed_by_curl);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
