/*
 * Unit tests of app/router.c: precedence (literal beats parameter, earlier positions first,
 * whatever the order of registration), 404 vs 405 with Allow, HEAD through GET, decoding.
 */
#include "router.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int h_a(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)res;
    (void)state;
    return 0;
}

static struct router *rt;

static void add(const char *method, const char *path, struct lintel_plugin *owner,
                const char *owner_name)
{
    struct route_def def = {
        .method = method, .path = path, .handler = h_a, .owner = owner, .owner_name = owner_name};
    char *err = NULL;

    if (router_add(rt, &def, &err) != 0)
        ck_abort_msg("router_add %s %s: %s", method, path, err != NULL ? err : "?");
}

/* The path of the route matched for method and raw path, or the status as text. */
static const char *match(const char *method, const char *raw, char *allow, size_t size)
{
    static char out[128];
    struct router_match m;

    ck_assert_int_eq(router_match(rt, method, raw, false, &m), 0);
    if (allow != NULL)
        snprintf(allow, size, "%s", m.allow);
    switch (m.status) {
    case ROUTER_FOUND:
        snprintf(out, sizeof(out), "%s", m.route->path);
        break;
    case ROUTER_NOT_FOUND:
        snprintf(out, sizeof(out), "404");
        break;
    case ROUTER_METHOD:
        snprintf(out, sizeof(out), "405");
        break;
    case ROUTER_BAD_PATH:
        snprintf(out, sizeof(out), "bad");
        break;
    }
    router_match_clear(&m);
    return out;
}

static void setup(void)
{
    rt = router_new();
    ck_assert_ptr_nonnull(rt);
}

static void teardown(void)
{
    router_free(rt);
    rt = NULL;
}

START_TEST(literal_beats_parameter_in_any_order)
{
    /* The parameter route first: registration order must not matter. */
    add("GET", "/api/numbers/{id}", NULL, "core");
    add("GET", "/api/numbers/stats", NULL, "core");
    ck_assert_str_eq(match("GET", "/api/numbers/stats", NULL, 0), "/api/numbers/stats");
    ck_assert_str_eq(match("GET", "/api/numbers/12", NULL, 0), "/api/numbers/{id}");
}
END_TEST

START_TEST(earlier_position_decides)
{
    add("GET", "/api/{a}/x", NULL, "core");
    add("GET", "/api/y/{b}", NULL, "core");
    /* Both match /api/y/x: the literal in the earlier position wins. */
    ck_assert_str_eq(match("GET", "/api/y/x", NULL, 0), "/api/y/{b}");
    ck_assert_str_eq(match("GET", "/api/z/x", NULL, 0), "/api/{a}/x");
    ck_assert_str_eq(match("GET", "/api/z/q", NULL, 0), "404");
}
END_TEST

START_TEST(not_found_and_method_not_allowed)
{
    char allow[64];

    add("GET", "/api/tasks", NULL, "core");
    add("POST", "/api/tasks", NULL, "core");
    add("DELETE", "/api/tasks/{id}", NULL, "core");
    ck_assert_str_eq(match("PUT", "/api/tasks", allow, sizeof(allow)), "405");
    ck_assert_str_eq(allow, "GET, HEAD, POST");
    ck_assert_str_eq(match("GET", "/api/tasks/3", allow, sizeof(allow)), "405");
    ck_assert_str_eq(allow, "DELETE");
    ck_assert_str_eq(match("OPTIONS", "/api/tasks", allow, sizeof(allow)), "405");
    ck_assert_str_eq(allow, "GET, HEAD, POST");
    ck_assert_str_eq(match("GET", "/api/tasks/3/x", allow, sizeof(allow)), "404");
    ck_assert_str_eq(allow, "");
    ck_assert_str_eq(match("GET", "/nothing", NULL, 0), "404");
}
END_TEST

START_TEST(head_uses_get)
{
    add("GET", "/health", NULL, "core");
    ck_assert_str_eq(match("HEAD", "/health", NULL, 0), "/health");
}
END_TEST

START_TEST(segments_decoded_and_checked)
{
    struct router_match m;

    add("GET", "/api/numbers/{id}", NULL, "core");
    add("GET", "/api/numbers/stats", NULL, "core");
    ck_assert_int_eq(router_match(rt, "GET", "/api/numbers/a%20b", false, &m), 0);
    ck_assert_int_eq(m.status, ROUTER_FOUND);
    ck_assert_str_eq(router_match_param(&m, "id"), "a b");
    ck_assert_ptr_null(router_match_param(&m, "nope"));
    router_match_clear(&m);
    /* An encoded literal is the literal. */
    ck_assert_str_eq(match("GET", "/api/numbers/st%61ts", NULL, 0), "/api/numbers/stats");
    /* A NUL or bytes that are not UTF-8 never name a resource (issue 15: 1%00junk was 1). */
    ck_assert_str_eq(match("GET", "/api/numbers/1%00junk", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/1%00", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/%C0%80", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/%FF", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/%ED%A0%80", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/%F4%90%80%80", NULL, 0), "bad");
    ck_assert_str_eq(match("GET", "/api/numbers/%E2%82%AC", NULL, 0), "/api/numbers/{id}");
    /* Repeated and trailing slashes do not make segments. */
    ck_assert_str_eq(match("GET", "//api//numbers/stats/", NULL, 0), "/api/numbers/stats");
}
END_TEST

START_TEST(upgrade_endpoints_apart)
{
    static const int up = 1;
    struct route_def def = {.method = "GET", .path = "/api/ws", .upgrade = &up};
    struct router_match m;
    char *err = NULL;

    add("GET", "/api/ws", NULL, "core");
    ck_assert_int_eq(router_add(rt, &def, &err), 0);
    ck_assert_int_eq(router_match(rt, "GET", "/api/ws", true, &m), 0);
    ck_assert_ptr_eq(m.route->upgrade, &up);
    router_match_clear(&m);
    ck_assert_int_eq(router_match(rt, "GET", "/api/ws", false, &m), 0);
    ck_assert_ptr_null(m.route->upgrade);
    router_match_clear(&m);
    ck_assert_ptr_nonnull(router_find(rt, "GET", "/api/ws", true));
    ck_assert_int_eq(router_count(rt), 2);
}
END_TEST

START_TEST(conflicts_and_bad_routes)
{
    struct lintel_plugin *p1 = (struct lintel_plugin *)&p1, *p2 = (struct lintel_plugin *)&p2;
    struct route_def def = {.method = "GET",
                            .path = "/api/x/{other}",
                            .handler = h_a,
                            .owner = p2,
                            .owner_name = "two"};
    char *err = NULL;

    add("GET", "/api/x/{id}", p1, "one");
    /* Same shape under another parameter name: refused, naming both owners. */
    ck_assert_int_eq(router_add(rt, &def, &err), LINTEL_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err, "plugin two"));
    ck_assert_ptr_nonnull(strstr(err, "plugin one"));
    free(err);
    def.path = "/api/x/";
    ck_assert_int_eq(router_add(rt, &def, &err), LINTEL_EPARAM);
    free(err);
    def.path = "/api/a b";
    ck_assert_int_eq(router_add(rt, &def, &err), LINTEL_EPARAM);
    free(err);
    def.path = "/api/x/{1x}";
    ck_assert_int_eq(router_add(rt, &def, &err), LINTEL_EPARAM);
    free(err);
    def.path = "/api/y";
    def.method = "TRACE";
    ck_assert_int_eq(router_add(rt, &def, &err), LINTEL_EPARAM);
    free(err);
    /* Removing an owner removes only its routes. */
    add("GET", "/api/z", p2, "two");
    ck_assert_int_eq(router_count(rt), 2);
    router_remove_owner(rt, p1);
    ck_assert_int_eq(router_count(rt), 1);
    ck_assert_str_eq(router_get(rt, 0)->path, "/api/z");
}
END_TEST

START_TEST(utf8_rules)
{
    ck_assert(router_utf8_ok("abc", 3));
    ck_assert(router_utf8_ok("\xc3\xa9", 2));
    ck_assert(router_utf8_ok("\xf0\x9f\x98\x80", 4));
    ck_assert(!router_utf8_ok("\xc3", 1));
    ck_assert(!router_utf8_ok("\xc1\xbf", 2));
    ck_assert(!router_utf8_ok("\xe0\x80\xaf", 3));
    ck_assert(!router_utf8_ok("\xed\xb0\x80", 3));
    ck_assert(!router_utf8_ok("\xf5\x80\x80\x80", 4));
    ck_assert(!router_utf8_ok("\x80", 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, literal_beats_parameter_in_any_order);
    tcase_add_test(tc, earlier_position_decides);
    tcase_add_test(tc, not_found_and_method_not_allowed);
    tcase_add_test(tc, head_uses_get);
    tcase_add_test(tc, segments_decoded_and_checked);
    tcase_add_test(tc, upgrade_endpoints_apart);
    tcase_add_test(tc, conflicts_and_bad_routes);
    tcase_add_test(tc, utf8_rules);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
