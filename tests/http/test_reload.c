/*
 * SIGHUP over a real HTTPS server: a renewed certificate goes to new connections while an open
 * keep-alive connection goes on working, a broken one is refused and logged, the log level follows.
 */
#include "lt_test.h"
#include "lt_tls.h"

#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Waits up to 15 s for needle in the server's log; true when it came. */
static bool log_has(const struct lt_server *s, const char *needle)
{
    char *log;
    bool found = false;
    int i;

    for (i = 0; i < 300 && !found; i++) {
        log = lt_slurp(s->log_path);
        found = log != NULL && strstr(log, needle) != NULL;
        free(log);
        if (!found)
            usleep(50 * 1000);
    }
    return found;
}

/* How often needle occurs in the server's log now. */
static int log_count(const struct lt_server *s, const char *needle)
{
    char *log = lt_slurp(s->log_path);
    const char *p = log;
    int n = 0;

    while (p != NULL && (p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    free(log);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* A client trusting only ca_path (the self-signed certificate it expects), keeping its
 * connection alive between requests. */
static CURL *client(const char *ca_path)
{
    CURL *c = curl_easy_init();

    ck_assert_ptr_nonnull(c);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_path);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    return c;
}

/*
 * GET url on c. Returns curl's code; *status the HTTP status, *new_conns how many connections
 * the request opened (0: it reused the open one), fp the SHA-256 of the certificate the server
 * presented when it opened one (else "").
 */
static CURLcode fetch(CURL *c, const char *url, long *status, long *new_conns, char fp[65])
{
    struct curl_certinfo *ci = NULL;
    struct curl_slist *l;
    CURLcode res;

    fp[0] = '\0';
    *status = 0;
    *new_conns = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    res = curl_easy_perform(c);
    if (res != CURLE_OK)
        return res;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, new_conns);
    if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != NULL &&
        ci->num_of_certs > 0)
        for (l = ci->certinfo[0]; l != NULL; l = l->next)
            if (strncmp(l->data, "Cert:", 5) == 0)
                ck_assert_int_eq(lt_tls_fingerprint(l->data + 5, strlen(l->data + 5), fp), 0);
    return res;
}

static void file_fingerprint(const char *path, char fp[65])
{
    char *pem = lt_slurp(path);

    ck_assert_ptr_nonnull(pem);
    ck_assert_int_eq(lt_tls_fingerprint(pem, strlen(pem), fp), 0);
    free(pem);
}

static void copy_file(const char *from, const char *to)
{
    char *text = lt_slurp(from);

    ck_assert_ptr_nonnull(text);
    write_file(to, text);
    free(text);
}

START_TEST(sighup_reloads_certificate_and_log_level)
{
    char dir[] = "/tmp/lintel-reload-XXXXXX", cert[PATH_MAX], key[PATH_MAX], conf[PATH_MAX];
    char ca1[PATH_MAX], ca2[PATH_MAX], next_cert[PATH_MAX], next_key[PATH_MAX];
    char cert_env[PATH_MAX + 32], key_env[PATH_MAX + 32], url[160], want[128];
    char fp1[65], fp2[65], fp[65];
    /* no LINTEL_LOG_LEVEL (glibc's putenv without '=' removes it): the file's level counts */
    const char *env[] = {cert_env, key_env, "LINTEL_LOG_LEVEL", NULL};
    const char *args[] = {"--config", conf, NULL};
    struct lt_server s = {.pid = 0};
    CURL *kept, *c;
    long status, conns;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(conf, sizeof(conf), "%s/lintel.json", dir);
    snprintf(ca1, sizeof(ca1), "%s/ca1.pem", dir);
    snprintf(ca2, sizeof(ca2), "%s/ca2.pem", dir);
    snprintf(next_cert, sizeof(next_cert), "%s/next-cert.pem", dir);
    snprintf(next_key, sizeof(next_key), "%s/next-key.pem", dir);
    lt_tls_pair(cert, key);
    copy_file(cert, ca1);
    file_fingerprint(cert, fp1);
    write_file(conf, "{\"log_level\": \"error\"}\n");
    snprintf(cert_env, sizeof(cert_env), "LINTEL_TLS_CERT=%s", cert);
    snprintf(key_env, sizeof(key_env), "LINTEL_TLS_KEY=%s", key);
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/health", s.port);

    /* a keep-alive connection, opened with the first certificate */
    kept = client(ca1);
    ck_assert_int_eq(fetch(kept, url, &status, &conns, fp), CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(conns, 1);
    ck_assert_str_eq(fp, fp1);
    /* at level error no access line is written */
    usleep(300 * 1000);
    ck_assert_int_eq(log_count(&s, " GET /health 200 "), 0);

    /* renewal: a new pair in place of the old files, the level raised, then SIGHUP */
    lt_tls_pair(next_cert, next_key);
    ck_assert_int_eq(rename(next_key, key), 0);
    ck_assert_int_eq(rename(next_cert, cert), 0);
    copy_file(cert, ca2);
    file_fingerprint(cert, fp2);
    ck_assert_str_ne(fp1, fp2);
    write_file(conf, "{\"log_level\": \"info\"}\n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    snprintf(want, sizeof(want), "(sha256 %s)", fp2);
    ck_assert_msg(log_has(&s, want), "no reload line naming %s", fp2);
    ck_assert(log_has(&s, "reload: log_level info"));

    /* the open connection goes on, on its first certificate */
    ck_assert_int_eq(fetch(kept, url, &status, &conns, fp), CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(conns, 0);
    /* a new connection gets the new certificate ... */
    c = client(ca2);
    ck_assert_int_eq(fetch(c, url, &status, &conns, fp), CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(conns, 1);
    ck_assert_str_eq(fp, fp2);
    curl_easy_cleanup(c);
    /* ... and no longer the old one */
    c = client(ca1);
    ck_assert_int_eq(fetch(c, url, &status, &conns, fp), CURLE_PEER_FAILED_VERIFICATION);
    curl_easy_cleanup(c);
    /* the level is info now: the requests are in the access log */
    ck_assert(log_has(&s, " GET /health 200 "));

    /* a broken certificate: refused, logged, the served one stays */
    write_file(cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(log_has(&s, "not a usable PEM pair"));
    ck_assert(log_has(&s, "the served certificate stays"));
    /* a missing one: the configuration check refuses it, nothing changes */
    ck_assert_int_eq(unlink(cert), 0);
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(log_has(&s, "nothing changed: config: tls_cert: cannot read"));
    c = client(ca2);
    ck_assert_int_eq(fetch(c, url, &status, &conns, fp), CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(fp, fp2);
    curl_easy_cleanup(c);

    /* a configuration file that does not parse: nothing changes, the server goes on */
    write_file(conf, "{\"log_level\": \n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(log_has(&s, "reload: the configuration is not usable, nothing changed"));
    write_file(conf, "{\"log_level\": \"loud\"}\n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(log_has(&s, "\"log_level\" (in "));
    ck_assert_int_eq(fetch(kept, url, &status, &conns, fp), CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(conns, 0); /* still the connection of before the first reload */
    curl_easy_cleanup(kept);

    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(unlink(key), 0);
    ck_assert_int_eq(unlink(ca1), 0);
    ck_assert_int_eq(unlink(ca2), 0);
    ck_assert_int_eq(unlink(conf), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Without TLS, SIGHUP still applies the log level and the server goes on serving. */
START_TEST(sighup_without_tls)
{
    char dir[] = "/tmp/lintel-reload-XXXXXX", conf[PATH_MAX];
    const char *env[] = {"LINTEL_LOG_LEVEL", NULL};
    const char *args[] = {"--config", conf, NULL};
    struct lt_server s = {.pid = 0};
    struct lt_resp r;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf, sizeof(conf), "%s/lintel.json", dir);
    write_file(conf, "{\"log_level\": \"warning\"}\n");
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    write_file(conf, "{\"log_level\": \"debug\"}\n");
    ck_assert_int_eq(kill(s.pid, SIGHUP), 0);
    ck_assert(log_has(&s, "reload: log_level debug"));
    ck_assert_int_eq(lt_json(s.url, "GET", "/health", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert(log_has(&s, " GET /health 200 "));
    ck_assert_int_eq(lt_server_stop(&s), 0);
    ck_assert_int_eq(unlink(conf), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *reload_suite(void)
{
    Suite *s = suite_create("reload");
    TCase *tc = tcase_create("reload");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sighup_reloads_certificate_and_log_level);
    tcase_add_test(tc, sighup_without_tls);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(reload_suite)
