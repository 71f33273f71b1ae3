/*
 * http_error: status titles from libmicrohttpd's table (one list of reason phrases), codes to
 * statuses, and the problem body's shape.
 */
#include "http_error.h"

#include "lt_test.h"

#include <check.h>
#include <lintel/plugin.h>
#include <stdlib.h>

START_TEST(titles)
{
    ck_assert_str_eq(http_error_title(404), "Not Found");
    ck_assert_str_eq(http_error_title(413), "Content Too Large");
    ck_assert_str_eq(http_error_title(422), "Unprocessable Content");
    /* statuses the old hand-written table lacked get their own phrase, not "Error" */
    ck_assert_str_eq(http_error_title(410), "Gone");
    ck_assert_str_eq(http_error_title(431), "Request Header Fields Too Large");
    ck_assert_str_eq(http_error_title(507), "Insufficient Storage");
    /* no phrase at all: a generic one by class */
    ck_assert_str_eq(http_error_title(299), "Error");
    ck_assert_str_eq(http_error_title(599), "Internal Server Error");
}
END_TEST

START_TEST(statuses)
{
    ck_assert_uint_eq(http_error_status(LINTEL_EPARAM), 422);
    ck_assert_uint_eq(http_error_status(LINTEL_ENOTFOUND), 404);
    ck_assert_uint_eq(http_error_status(-12345), 500);
    ck_assert_str_eq(http_error_strerror(LINTEL_ENOTFOUND), "Not Found");
}
END_TEST

static Suite *http_error_suite(void)
{
    Suite *s = suite_create("http_error");
    TCase *tc = tcase_create("http_error");

    tcase_add_test(tc, titles);
    tcase_add_test(tc, statuses);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(http_error_suite)
