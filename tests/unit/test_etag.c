/*
 * Unit tests of app/etag.c's parts that need no server: the tag of a representation and the
 * RFC 9110 list grammar of If-Match / If-None-Match with strong and weak comparison.
 */
#include "etag.h"

#include <check.h>
#include <stdbool.h>
#include <string.h>

static bool matches(const char *list, const char *etag, bool weak)
{
    bool match = true;

    ck_assert_msg(etag_list_match(list, etag, weak, &match) == 0, "refused: %s", list);
    return match;
}

static void malformed(const char *list)
{
    bool match = true;

    ck_assert_msg(etag_list_match(list, "\"a\"", true, &match) == LINTEL_EMALFORMED, "accepted: %s",
                  list);
    ck_assert(!match);
}

START_TEST(tag_of_bytes)
{
    char a[ETAG_SIZE], b[ETAG_SIZE], c[ETAG_SIZE];

    ck_assert_int_eq(etag_of("{\"id\":1}", 8, a), 0);
    ck_assert_int_eq(etag_of("{\"id\":1}", 8, b), 0);
    ck_assert_int_eq(etag_of("{\"id\":2}", 8, c), 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_int_eq(strlen(a), ETAG_SIZE - 1);
    ck_assert(a[0] == '"' && a[ETAG_SIZE - 2] == '"');
    /* an empty representation has a tag too */
    ck_assert_int_eq(etag_of("", 0, c), 0);
    ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(list_comparison)
{
    ck_assert(matches("\"a\"", "\"a\"", false));
    ck_assert(!matches("\"b\"", "\"a\"", false));
    ck_assert(matches("\"b\", \"a\"", "\"a\"", false));
    ck_assert(matches("\"b\",\"a\" ", "\"a\"", false));
    ck_assert(matches(" \"b\" ,, \"a\"", "\"a\"", false));
    ck_assert(matches("*", "\"a\"", false));
    ck_assert(matches(" * ", "\"a\"", true));
    /* strong comparison (If-Match): a weak tag never matches; weak (If-None-Match): it does */
    ck_assert(!matches("W/\"a\"", "\"a\"", false));
    ck_assert(matches("W/\"a\"", "\"a\"", true));
    ck_assert(matches("\"\"", "\"\"", false));
    /* a tag is compared whole, not as a prefix */
    ck_assert(!matches("\"ab\"", "\"a\"", true));
    ck_assert(!matches("\"a\"", "\"ab\"", true));
}
END_TEST

START_TEST(list_malformed)
{
    malformed("");
    malformed(" ");
    malformed(",");
    malformed("a");
    malformed("\"a");
    malformed("W/a");
    malformed("w/\"a\"");
    malformed("\"a\" \"b\"");
    malformed("\"a\",junk");
    malformed("\"a b\"");
    malformed("\"a\x7f\"");
    malformed("*, \"a\"");
    malformed("**");
}
END_TEST

static Suite *etag_suite(void)
{
    Suite *s = suite_create("etag");
    TCase *tc = tcase_create("etag");

    tcase_add_test(tc, tag_of_bytes);
    tcase_add_test(tc, list_comparison);
    tcase_add_test(tc, list_malformed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(etag_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
