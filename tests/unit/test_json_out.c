/*
 * json_out: compact output with the shortest round-trip text for reals, and the same escaping
 * as jansson for strings and keys.
 */
#include "json_out.h"

#include "double_text.h"
#include "lintel_ext.h"

#include "lt_test.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_dump(json_t *j, const char *want)
{
    char *out = NULL;
    size_t len = 0;

    ck_assert_int_eq(json_out_dump(j, &out, &len), 0);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(len, strlen(want));
    free(out);
    json_decref(j);
}

START_TEST(reals)
{
    char buf[32];

    ext_double_text(0.1, buf);
    ck_assert_str_eq(buf, "0.1");
    ext_double_text(5.0, buf);
    ck_assert_str_eq(buf, "5.0");
    ext_double_text(-0.19938130676746368, buf);
    ck_assert_str_eq(buf, "-0.19938130676746368");
    ext_double_text(1e300, buf);
    ck_assert_str_eq(buf, "1e+300");
    ext_double_text(0.30000000000000004, buf);
    ck_assert_str_eq(buf, "0.30000000000000004");
    ext_double_text(-0.0, buf);
    ck_assert_str_eq(buf, "-0.0");
    ext_double_text(123456789012.5, buf);
    ck_assert_str_eq(buf, "123456789012.5");
    /* positional for exponents -4..15, never "1e+02" for 100.0 */
    ext_double_text(100.0, buf);
    ck_assert_str_eq(buf, "100.0");
    ext_double_text(1000000.0, buf);
    ck_assert_str_eq(buf, "1000000.0");
    ext_double_text(1e15, buf);
    ck_assert_str_eq(buf, "1000000000000000.0");
    ext_double_text(-2.5e-4, buf);
    ck_assert_str_eq(buf, "-0.00025");
    ext_double_text(1e16, buf);
    ck_assert_str_eq(buf, "1e+16");
    ext_double_text(1e-5, buf);
    ck_assert_str_eq(buf, "1e-05");
    ext_double_text(5e-324, buf);
    ck_assert_str_eq(buf, "5e-324");
    ext_double_text(1.7976931348623157e308, buf);
    ck_assert_str_eq(buf, "1.7976931348623157e+308");
    ext_double_text(36.37167739868164, buf);
    ck_assert_str_eq(buf, "36.37167739868164");
}
END_TEST

/* Reference: the fewest digits found by trying 1..17 in turn, then ext_double_text's layout. */
static void linear_real(double d, char buf[32])
{
    int prec, exp10;
    char *e;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    e = strchr(buf, 'e');
    exp10 = e != NULL ? atoi(e + 1) : 0;
    if (e != NULL && exp10 >= -4 && exp10 < 16)
        snprintf(buf, 32, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, d);
    if (strpbrk(buf, ".eEn") == NULL)
        strcat(buf, ".0");
}

/* The searched shortest form equals the linear one: random bit patterns and short decimals. */
START_TEST(reals_match_linear_reference)
{
    char got[32], want[32];
    unsigned long long bits;
    double d;
    int i;

    srand(12345);
    for (i = 0; i < 200000; i++) {
        if (i % 2 == 0) {
            bits = ((unsigned long long)rand() << 42) ^ ((unsigned long long)rand() << 21) ^
                   (unsigned long long)rand();
            memcpy(&d, &bits, sizeof(d));
            if (!isfinite(d))
                continue;
        } else {
            d = (double)(rand() % 2000001 - 1000000) / pow(10, rand() % 12);
        }
        ext_double_text(d, got);
        linear_real(d, want);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

/*
 * The extension's JSON (lintel_stats in the sqlite3 shell) and the host's replies print the
 * same text for the same double: 100.0, never 1e+02.
 */
START_TEST(extension_prints_as_host)
{
    static const double fixed[] = {100.0, 400.0, 1e15, 1e16, 0.1, 2.5e-4, 1e-5, -0.0, 5e-324};
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    char *err = NULL;
    unsigned long long bits;
    double d;
    int i;

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_lintel_init(db, &err, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT lintel_stats(?1)", -1, &stmt, NULL), SQLITE_OK);
    srand(777);
    for (i = 0; i < 20000; i++) {
        json_t *j = NULL;
        char *host = NULL;
        size_t len = 0;
        char want[80];

        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            d = fixed[i];
        } else if (i % 2 == 0) {
            bits = ((unsigned long long)rand() << 42) ^ ((unsigned long long)rand() << 21) ^
                   (unsigned long long)rand();
            memcpy(&d, &bits, sizeof(d));
            if (!isfinite(d))
                continue;
        } else {
            d = (double)(rand() % 2000001 - 1000000) * pow(10, rand() % 40 - 20);
        }
        j = json_real(d);
        ck_assert_int_eq(json_out_dump(j, &host, &len), 0);
        json_decref(j);
        /* one REAL value: its min and max are d (its sum of -0.0 starts from +0.0) */
        snprintf(want, sizeof want, "\"min\":%s,\"max\":%s,", host, host);
        sqlite3_reset(stmt);
        ck_assert_int_eq(sqlite3_bind_double(stmt, 1, d), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
        ck_assert_msg(strstr((const char *)sqlite3_column_text(stmt, 0), want) != NULL,
                      "%a: host %s, extension %s", d, host, sqlite3_column_text(stmt, 0));
        free(host);
    }
    sqlite3_finalize(stmt);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

START_TEST(documents)
{
    expect_dump(json_pack("{sf si sb sn s[fs]}", "a", 0.1, "b", 7, "c", 1, "d", "e", 2.5, "x"),
                "{\"a\":0.1,\"b\":7,\"c\":true,\"d\":null,\"e\":[2.5,\"x\"]}");
    expect_dump(json_string("quote \" backslash \\ newline \n tab \t \x01 é"),
                "\"quote \\\" backslash \\\\ newline \\n tab \\t \\u0001 é\"");
    expect_dump(json_pack("{s{}s[]}", "k\"ey", "e"), "{\"k\\\"ey\":{},\"e\":[]}");
    expect_dump(json_integer(-9223372036854775807LL - 1), "-9223372036854775808");
    expect_dump(json_false(), "false");
}
END_TEST

/* The growable buffer: doubles from the first size, keeps what it held, stops at the cap. */
START_TEST(reserve_grows_within_cap)
{
    char *data = NULL;
    size_t cap = 0;

    ck_assert_int_eq(json_out_reserve(&data, &cap, 10, 16, 100), 0);
    ck_assert_uint_eq(cap, 16);
    memcpy(data, "0123456789", 10);
    /* already large enough: nothing moves */
    ck_assert_int_eq(json_out_reserve(&data, &cap, 16, 16, 100), 0);
    ck_assert_uint_eq(cap, 16);
    /* 16 doubles to 64 to hold 40 */
    ck_assert_int_eq(json_out_reserve(&data, &cap, 40, 16, 100), 0);
    ck_assert_uint_eq(cap, 64);
    ck_assert_int_eq(memcmp(data, "0123456789", 10), 0);
    /* doubling would pass the cap: the cap it is */
    ck_assert_int_eq(json_out_reserve(&data, &cap, 90, 16, 100), 0);
    ck_assert_uint_eq(cap, 100);
    ck_assert_int_eq(memcmp(data, "0123456789", 10), 0);
    free(data);
}
END_TEST

static Suite *json_out_suite(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tcase_create("json_out");

    tcase_add_test(tc, reals);
    tcase_add_test(tc, reals_match_linear_reference);
    tcase_add_test(tc, extension_prints_as_host);
    tcase_add_test(tc, documents);
    tcase_add_test(tc, reserve_grows_within_cap);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(json_out_suite)
