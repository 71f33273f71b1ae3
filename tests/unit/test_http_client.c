/*
 * app/http_client.c against the real sensor simulator on loopback: answers, the size cap,
 * timeouts, refused connections, schemes other than http(s), and redirects not followed.
 */
#include "http_client.h"

#include "lt_test.h"

#include <check.h>
#include <lintel/plugin.h>
#include <stdlib.h>
#include <string.h>

#include "../http/datapoints_sim.h"

static struct dp_sim sim;

static void setup(void)
{
    ck_assert_int_eq(http_client_global_init(NULL), 0);
    ck_assert_int_eq(dp_sim_start(&sim, "fixed"), 0);
}

static void teardown(void)
{
    dp_sim_stop(&sim);
    http_client_global_release();
}

struct hc_result {
    int rc;
    long status;
    char *body;
    size_t len;
    char *detail;
};

static void hc_get(const char *url, long timeout_ms, size_t max_bytes, struct hc_result *r)
{
    memset(r, 0, sizeof(*r));
    r->rc = http_client_get(url, timeout_ms, max_bytes, &r->status, &r->body, &r->len, &r->detail);
}

static void hc_clear(struct hc_result *r)
{
    free(r->body);
    free(r->detail);
}

START_TEST(test_ok)
{
    struct hc_result r;
    char url[128];

    snprintf(url, sizeof(url), "%s/any/path", sim.url);
    hc_get(url, 0, 0, &r);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(r.detail);
    ck_assert_uint_eq(r.len, strlen(r.body));
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":[157,42,76,190]"));
    hc_clear(&r);
}
END_TEST

START_TEST(test_status_passed_through)
{
    struct hc_result r;

    ck_assert_int_eq(dp_sim_mode(&sim, "status:503"), 0);
    hc_get(sim.url, 0, 0, &r);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.status, 503);
    hc_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "empty"), 0);
    hc_get(sim.url, 0, 0, &r);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_str_eq(r.body, "");
    hc_clear(&r);
}
END_TEST

START_TEST(test_too_large)
{
    struct hc_result r;

    ck_assert_int_eq(dp_sim_mode(&sim, "huge"), 0);
    hc_get(sim.url, 0, 0, &r); /* default cap: 64 KiB, the answer is about 70 000 bytes */
    ck_assert_int_eq(r.rc, LINTEL_EUPSTREAM);
    ck_assert_ptr_null(r.body);
    ck_assert_str_eq(r.detail, "upstream response exceeds 65536 bytes");
    hc_clear(&r);
    ck_assert_int_eq(dp_sim_mode(&sim, "fixed"), 0);
    hc_get(sim.url, 0, 10, &r); /* a cap smaller than one point */
    ck_assert_int_eq(r.rc, LINTEL_EUPSTREAM);
    ck_assert_str_eq(r.detail, "upstream response exceeds 10 bytes");
    hc_clear(&r);
}
END_TEST

START_TEST(test_timeout)
{
    struct hc_result r;

    ck_assert_int_eq(dp_sim_mode(&sim, "delay:2000"), 0);
    hc_get(sim.url, 200, 0, &r);
    ck_assert_int_eq(r.rc, LINTEL_ETIMEOUT);
    ck_assert_str_eq(r.detail, "upstream did not answer within 200 ms");
    hc_clear(&r);
}
END_TEST

START_TEST(test_refused)
{
    struct hc_result r;
    char url[128];

    snprintf(url, sizeof(url), "%s/", sim.url);
    dp_sim_stop(&sim); /* nothing listens on that port any more */
    hc_get(url, 0, 0, &r);
    ck_assert_int_eq(r.rc, LINTEL_EUPSTREAM);
    ck_assert_str_eq(r.detail, "upstream refused the connection");
    hc_clear(&r);
}
END_TEST

START_TEST(test_bad_urls)
{
    static const char *const schemes[] = {"file:///etc/passwd", "ftp://127.0.0.1/",
                                          "gopher://127.0.0.1/", "dict://127.0.0.1:11211/"};
    struct hc_result r;

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        hc_get(schemes[i], 0, 0, &r);
        ck_assert_int_eq(r.rc, LINTEL_EUPSTREAM);
        ck_assert_str_eq(r.detail, "upstream URL scheme is not http or https");
        hc_clear(&r);
    }
    hc_get("", 0, 0, &r);
    ck_assert_int_eq(r.rc, LINTEL_EUPSTREAM);
    hc_clear(&r);
    /* .invalid never resolves (RFC 6761); a resolver that hangs instead gives the timeout. */
    hc_get("http://host.invalid/", 3000, 0, &r);
    if (r.rc == LINTEL_EUPSTREAM)
        ck_assert_str_eq(r.detail, "upstream host name cannot be resolved");
    else
        ck_assert_int_eq(r.rc, LINTEL_ETIMEOUT);
    hc_clear(&r);
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    struct hc_result r;

    ck_assert_int_eq(dp_sim_mode(&sim, "redirect"), 0);
    hc_get(sim.url, 0, 0, &r);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.status, 302);
    hc_clear(&r);
}
END_TEST

static Suite *http_client_suite(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("get");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ok);
    tcase_add_test(tc, test_status_passed_through);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_bad_urls);
    tcase_add_test(tc, test_redirect_not_followed);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(http_client_suite)
