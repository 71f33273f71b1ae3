/*
 * json_out: compact output with the shortest round-trip text for reals, and the same escaping
 * as jansson for strings and keys.
 */
#include "json_out.h"

#include <check.h>
#include <math.h>
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

    json_out_real(0.1, buf);
    ck_assert_str_eq(buf, "0.1");
    json_out_real(5.0, buf);
    ck_assert_str_eq(buf, "5.0");
    json_out_real(-0.19938130676746368, buf);
    ck_assert_str_eq(buf, "-0.19938130676746368");
    json_out_real(1e300, buf);
    ck_assert_str_eq(buf, "1e+300");
    json_out_real(0.30000000000000004, buf);
    ck_assert_str_eq(buf, "0.30000000000000004");
    json_out_real(-0.0, buf);
    ck_assert_str_eq(buf, "-0.0");
    json_out_real(123456789012.5, buf);
    ck_assert_str_eq(buf, "123456789012.5");
    /* positional for exponents -4..15, never "1e+02" for 100.0 */
    json_out_real(100.0, buf);
    ck_assert_str_eq(buf, "100.0");
    json_out_real(1000000.0, buf);
    ck_assert_str_eq(buf, "1000000.0");
    json_out_real(1e15, buf);
    ck_assert_str_eq(buf, "1000000000000000.0");
    json_out_real(-2.5e-4, buf);
    ck_assert_str_eq(buf, "-0.00025");
    json_out_real(1e16, buf);
    ck_assert_str_eq(buf, "1e+16");
    json_out_real(1e-5, buf);
    ck_assert_str_eq(buf, "1e-05");
    json_out_real(5e-324, buf);
    ck_assert_str_eq(buf, "5e-324");
    json_out_real(1.7976931348623157e308, buf);
    ck_assert_str_eq(buf, "1.7976931348623157e+308");
    json_out_real(36.37167739868164, buf);
    ck_assert_str_eq(buf, "36.37167739868164");
}
END_TEST

/* Reference: the fewest digits found by trying 1..17 in turn, then json_out_real's layout. */
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
        json_out_real(d, got);
        linear_real(d, want);
        ck_assert_str_eq(got, want);
    }
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

int main(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tcase_create("json_out");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, reals);
    tcase_add_test(tc, reals_match_linear_reference);
    tcase_add_test(tc, documents);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
