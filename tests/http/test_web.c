/*
 * The pages lintel serves itself, black-box: /docs and /admin with their CSP, the assets under
 * /assets/ (only the listed files), and the opt-in CDN mode of /docs.
 */
#include "lt_test.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base;

/* The directive of csp named name ("script-src"), up to its ';', copied into out. */
static void csp_directive(const char *csp, const char *name, char *out, size_t size)
{
    const char *d = strstr(csp, name);

    ck_assert_msg(d != NULL, "no %s in %s", name, csp);
    snprintf(out, size, "%.*s", (int)strcspn(d, ";"), d);
}

START_TEST(docs_page_is_local)
{
    struct lt_resp r = {0};
    char script_src[256], style_src[256];
    const char *csp;

    ck_assert_int_eq(lt_request(base, "GET", "/docs", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Content-Type"), "text/html"));
    ck_assert_str_eq(lt_header(&r, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(lt_header(&r, "Referrer-Policy"), "no-referrer");
    ck_assert_ptr_nonnull(strstr(r.body, "src=\"/assets/swagger-ui-bundle.js\""));
    ck_assert_ptr_nonnull(strstr(r.body, "href=\"/assets/swagger-ui.css\""));
    ck_assert_ptr_nonnull(strstr(r.body, "src=\"/assets/docs.js\""));
    /* Nothing from elsewhere, and no inline script the CSP would have to allow. */
    ck_assert_ptr_null(strstr(r.body, "http"));
    ck_assert_ptr_null(strstr(r.body, "<script>"));
    csp = lt_header(&r, "Content-Security-Policy");
    ck_assert_ptr_nonnull(csp);
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "connect-src 'self'"));
    ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
    ck_assert_ptr_null(strstr(csp, "'unsafe-eval'"));
    ck_assert_ptr_null(strstr(csp, "https:"));
    csp_directive(csp, "script-src", script_src, sizeof(script_src));
    ck_assert_str_eq(script_src, "script-src 'self'");
    csp_directive(csp, "style-src", style_src, sizeof(style_src));
    ck_assert_str_eq(style_src, "style-src 'self' 'unsafe-inline'");
    lt_resp_clear(&r);
}
END_TEST

/* Each file the pages load is served with its type; its size says it is the real one. */
START_TEST(assets_served)
{
    static const struct {
        const char *name, *type, *needle;
        size_t min_len;
    } files[] = {
        {"swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle", 500000},
        {"swagger-ui.css", "text/css", ".swagger-ui", 50000},
        {"docs.js", "text/javascript", "\"/openapi.json\"", 50},
        {"uPlot.iife.min.js", "text/javascript", "uPlot", 20000},
        {"uPlot.min.css", "text/css", ".uplot", 500},
        {"admin.js", "text/javascript", "/api/", 500},
        {"admin.css", "text/css", "body", 50},
    };
    struct lt_resp r = {0};
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "/assets/%s", files[i].name);
        ck_assert_int_eq(lt_request(base, "GET", path, NULL, NULL, NULL, 0, NULL, &r), 0);
        ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
        ck_assert_msg(strstr(lt_header(&r, "Content-Type"), files[i].type) != NULL, "%s: %s", path,
                      lt_header(&r, "Content-Type"));
        ck_assert_msg(r.len >= files[i].min_len, "%s: only %zu bytes", path, r.len);
        ck_assert_msg(memmem(r.body, r.len, files[i].needle, strlen(files[i].needle)) != NULL,
                      "%s lacks %s", path, files[i].needle);
        lt_resp_clear(&r);
    }
}
END_TEST

/* Only the listed names: no other file of the directory, no way out of it. */
START_TEST(assets_only_listed)
{
    static const char *const paths[] = {"/assets/package.json",
                                        "/assets/LICENSE.uplot",
                                        "/assets/..%2F..%2Fapp%2Flintel",
                                        "/assets/%2e%2e",
                                        "/assets/swagger-ui-bundle.js%00.css",
                                        "/assets/"};
    struct lt_resp r = {0};
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        ck_assert_int_eq(lt_request(base, "GET", paths[i], NULL, NULL, NULL, 0, NULL, &r), 0);
        ck_assert_msg(r.status == 404, "%s: %ld", paths[i], r.status);
        ck_assert_ptr_nonnull(strstr(lt_header(&r, "Content-Type"), "application/problem+json"));
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(lt_request(base, "POST", "/assets/docs.js", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 405);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(admin_page)
{
    struct lt_resp r = {0};
    const char *csp;

    ck_assert_int_eq(lt_request(base, "GET", "/admin", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Content-Type"), "text/html"));
    ck_assert_ptr_nonnull(strstr(r.body, "/assets/admin.js"));
    ck_assert_ptr_nonnull(strstr(r.body, "/assets/uPlot.iife.min.js"));
    ck_assert_ptr_null(strstr(r.body, "<script>"));
    csp = lt_header(&r, "Content-Security-Policy");
    ck_assert_ptr_nonnull(csp);
    ck_assert_ptr_nonnull(strstr(csp, "script-src 'self';"));
    lt_resp_clear(&r);
}
END_TEST

/* docs_cdn: Swagger UI from jsDelivr, pinned by version and Subresource Integrity. */
START_TEST(docs_cdn_opt_in)
{
    static const char *const env[] = {"LINTEL_DOCS_CDN=true", NULL};
    struct lt_server s = {.pid = -1};
    struct lt_resp r = {0};
    char script_src[256];

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_request(s.url, "GET", "/docs", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(
        strstr(r.body,
               "src=\"https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js\""));
    ck_assert_ptr_nonnull(strstr(r.body, "integrity=\"sha384-"));
    ck_assert_ptr_nonnull(strstr(r.body, "src=\"/assets/docs.js\""));
    csp_directive(lt_header(&r, "Content-Security-Policy"), "script-src", script_src,
                  sizeof(script_src));
    ck_assert_str_eq(script_src, "script-src 'self' https://cdn.jsdelivr.net");
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/* A web_dir without the files: /docs still answers, the asset is a 404 naming the directory. */
START_TEST(missing_web_dir)
{
    static const char *const env[] = {"LINTEL_WEB_DIR=/nonexistent/lintel-web", NULL};
    struct lt_server s = {.pid = -1};
    struct lt_resp r = {0};

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_request(s.url, "GET", "/docs", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(
        lt_request(s.url, "GET", "/assets/swagger-ui-bundle.js", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "/nonexistent/lintel-web"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("web");
    TCase *tc = tcase_create("web");
    SRunner *sr;
    int failed;

    base = lt_shared_url();
    if (base == NULL)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, docs_page_is_local);
    tcase_add_test(tc, assets_served);
    tcase_add_test(tc, assets_only_listed);
    tcase_add_test(tc, admin_page);
    tcase_add_test(tc, docs_cdn_opt_in);
    tcase_add_test(tc, missing_web_dir);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
