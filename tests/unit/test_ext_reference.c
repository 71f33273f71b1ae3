/*
 * Reference checks of the extension's arithmetic: float32 decoding against an independent
 * ldexp-based decoder, and the statistics against straightforward two-pass computations.
 */
#include "lintel_ext.h"

#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUADS 100000
#define SETS  200

static sqlite3 *db;

/* xorshift64*: reproducible without touching the C library's rand() state. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void setup(void)
{
    char *err = NULL;

    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_lintel_init(db, &err, NULL), SQLITE_OK);
    ck_assert_ptr_null(err);
}

static void teardown(void)
{
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    db = NULL;
}

/*
 * The independent decoding: sign, exponent and mantissa fields by arithmetic, the value by
 * ldexp. Returns 0 for NaN (the extension gives NULL), 1 with *out set otherwise.
 */
static int ref_f32(const unsigned char b[4], double *out)
{
    int sign = b[3] >> 7;
    int exponent = ((b[3] & 0x7F) << 1) | (b[2] >> 7);
    long mantissa = ((long)(b[2] & 0x7F) << 16) | ((long)b[1] << 8) | b[0];
    double v;

    if (exponent == 255) {
        if (mantissa != 0)
            return 0;
        v = INFINITY;
    } else if (exponent == 0) {
        v = ldexp((double)mantissa, -149); /* subnormal: 0.m * 2^-126 */
    } else {
        v = ldexp((double)(mantissa | 0x800000L), exponent - 150);
    }
    *out = sign ? -v : v;
    return 1;
}

static void check_quad(sqlite3_stmt *stmt, const unsigned char b[4], int json)
{
    unsigned char be[4] = {b[3], b[2], b[1], b[0]};
    char text[32];
    double want;
    int finite_or_inf = ref_f32(b, &want);
    int col;

    sqlite3_reset(stmt);
    if (json) {
        snprintf(text, sizeof text, "[%d,%d,%d,%d]", b[0], b[1], b[2], b[3]);
        ck_assert_int_eq(sqlite3_bind_text(stmt, 1, text, -1, SQLITE_TRANSIENT), SQLITE_OK);
    } else {
        ck_assert_int_eq(sqlite3_bind_blob(stmt, 1, b, 4, SQLITE_TRANSIENT), SQLITE_OK);
    }
    ck_assert_int_eq(sqlite3_bind_blob(stmt, 2, be, 4, SQLITE_TRANSIENT), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    for (col = 0; col < 2; col++) {
        if (!finite_or_inf) {
            ck_assert_msg(sqlite3_column_type(stmt, col) == SQLITE_NULL,
                          "%02x%02x%02x%02x: NaN must be NULL", b[0], b[1], b[2], b[3]);
        } else {
            double got = sqlite3_column_double(stmt, col);
            ck_assert_int_eq(sqlite3_column_type(stmt, col), SQLITE_FLOAT);
            /* bitwise, so that -0.0 and 0.0 differ */
            ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%02x%02x%02x%02x: %a != %a", b[0],
                          b[1], b[2], b[3], got, want);
        }
    }
}

START_TEST(f32_random_quadruples)
{
    static const unsigned char special[][4] = {
        {0, 0, 0, 0},          {0, 0, 0, 0x80},          {1, 0, 0, 0},
        {0xff, 0xff, 0x7f, 0}, {0, 0, 0x80, 0},          {0xff, 0xff, 0x7f, 0x7f},
        {0, 0, 0x80, 0x7f},    {0, 0, 0x80, 0xff},       {0, 0, 0xc0, 0x7f},
        {1, 0, 0x80, 0x7f},    {0xff, 0xff, 0xff, 0xff}, {0x9d, 0x2a, 0x4c, 0xbe},
    };
    sqlite3_stmt *stmt = NULL;
    size_t i;

    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT lintel_f32_decode(?1), lintel_f32_decode(?2, 'be')",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    for (i = 0; i < sizeof special / sizeof special[0]; i++) {
        check_quad(stmt, special[i], 0);
        check_quad(stmt, special[i], 1);
    }
    for (i = 0; i < QUADS; i++) {
        uint64_t r = rng_next();
        unsigned char b[4] = {(unsigned char)r, (unsigned char)(r >> 8), (unsigned char)(r >> 16),
                              (unsigned char)(r >> 24)};
        /* one in eight through the JSON text form, which shares the assembly */
        check_quad(stmt, b, (r >> 40 & 7) == 0);
    }
    sqlite3_finalize(stmt);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Relative: a variance of 1e-13 must not pass as 0. Beside the relative part, two units of the
 * smallest subnormal, for results that are themselves subnormal.
 */
static void assert_close(double got, double want, const char *what, int set)
{
    double tol = 1e-12 * fabs(want) + 2 * 4.9406564584124654e-324;
    ck_assert_msg(fabs(got - want) <= tol, "set %d %s: got %.17g, want %.17g", set, what, got,
                  want);
}

/* One random data set: values of one scale and offset, some INTEGERs, some NULLs. */
static int make_set(double *vals, int set)
{
    int n = 1 + (int)(rng_next() % 400);
    double scale = pow(10.0, (double)(int)(rng_next() % 13) - 6);
    double offset = (double)(int64_t)(rng_next() % 2000001) - 1000000.0;
    sqlite3_stmt *stmt = NULL;
    int k = 0;
    int i;

    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &stmt, NULL),
                     SQLITE_OK);
    for (i = 0; i < n; i++) {
        uint64_t r = rng_next();
        sqlite3_reset(stmt);
        if (r % 17 == 0) {
            sqlite3_bind_null(stmt, 1);
        } else if (set % 3 == 0) {
            sqlite3_int64 v = (sqlite3_int64)(r % 2001) - 1000;
            sqlite3_bind_int64(stmt, 1, v);
            vals[k++] = (double)v;
        } else {
            double v = offset + scale * ((double)(r >> 11) / 9007199254740992.0 - 0.5);
            sqlite3_bind_double(stmt, 1, v);
            vals[k++] = v;
        }
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
    }
    sqlite3_finalize(stmt);
    return k;
}

/*
 * A wider type than the extension's long double where the compiler has one, so the reference
 * does not share its rounding; its exponent range holds the squares of 1e-320 and of 1e308.
 */
#ifdef __SIZEOF_FLOAT128__
typedef __float128 wide;
#else
typedef long double wide;
#endif

/* Square root by Newton's iteration in the wide type (no libquadmath needed); q >= 0. */
static wide wide_sqrt(wide q)
{
    wide s = q > 1 ? q : 1;
    wide prev = 0;
    int i;

    /* from above, s decreases monotonically to the root: stop when it no longer moves */
    for (i = 0; i < 5000 && s != prev && q > 0; i++) {
        prev = s;
        s = (s + q / s) / 2;
    }
    return q > 0 ? s : 0;
}

/*
 * Two-pass mean, sample variance and stddev in the wide type, unscaled; median and
 * percentile from a sort.
 */
static void reference(double *v, int n, double p, double *mean, double *var, double *sd,
                      double *median, double *pct)
{
    wide sum = 0;
    wide ss = 0;
    double rank;
    int lo;
    int i;

    for (i = 0; i < n; i++)
        sum += v[i];
    *mean = (double)(sum / n);
    for (i = 0; i < n; i++)
        ss += ((wide)v[i] - sum / n) * ((wide)v[i] - sum / n);
    *var = n > 1 ? (double)(ss / (n - 1)) : NAN;
    *sd = n > 1 ? (double)wide_sqrt(ss / (n - 1)) : NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    rank = p / 100.0 * (n - 1);
    lo = (int)floor(rank);
    *pct = lo + 1 < n ? v[lo] + (v[lo + 1] - v[lo]) * (rank - lo) : v[lo];
}

START_TEST(stats_random_sets)
{
    double *vals = malloc(400 * sizeof *vals);
    sqlite3_stmt *stmt = NULL;
    int set;

    ck_assert_ptr_nonnull(vals);
    ck_assert_int_eq(
        sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db,
                           "SELECT lintel_stats(v), lintel_median(v), lintel_variance(v), "
                           "lintel_stddev(v), lintel_percentile(v, ?1), min(v), max(v) FROM t",
                           -1, &stmt, NULL),
        SQLITE_OK);
    for (set = 0; set < SETS; set++) {
        int n = make_set(vals, set);
        double p = (double)(rng_next() % 1001) / 10.0;
        double mean, var, sd, median, pct;
        json_t *j_stats;
        json_error_t jerr;

        sqlite3_reset(stmt);
        sqlite3_bind_double(stmt, 1, p);
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
        j_stats = json_loads((const char *)sqlite3_column_text(stmt, 0), 0, &jerr);
        ck_assert_ptr_nonnull(j_stats);
        ck_assert_int_eq(json_integer_value(json_object_get(j_stats, "count")), n);
        if (n == 0) {
            ck_assert(json_is_null(json_object_get(j_stats, "median")));
            json_decref(j_stats);
            continue;
        }
        reference(vals, n, p, &mean, &var, &sd, &median, &pct);
        assert_close(json_number_value(json_object_get(j_stats, "avg")), mean, "avg", set);
        assert_close(json_number_value(json_object_get(j_stats, "sum")), mean * n, "sum", set);
        assert_close(json_number_value(json_object_get(j_stats, "median")), median, "median", set);
        ck_assert(json_number_value(json_object_get(j_stats, "min")) ==
                  sqlite3_column_double(stmt, 5));
        ck_assert(json_number_value(json_object_get(j_stats, "max")) ==
                  sqlite3_column_double(stmt, 6));
        ck_assert(sqlite3_column_double(stmt, 1) == median);
        assert_close(sqlite3_column_double(stmt, 4), pct, "percentile", set);
        if (n > 1) {
            assert_close(sqlite3_column_double(stmt, 2), var, "variance", set);
            assert_close(sqlite3_column_double(stmt, 3), sd, "stddev", set);
            assert_close(json_number_value(json_object_get(j_stats, "stddev")), sd, "stats.stddev",
                         set);
        } else {
            ck_assert_int_eq(sqlite3_column_type(stmt, 2), SQLITE_NULL);
            ck_assert(json_is_null(json_object_get(j_stats, "stddev")));
        }
        json_decref(j_stats);
    }
    sqlite3_finalize(stmt);
    free(vals);
}
END_TEST

/* Sliding frames exercise the inverse step: each row against its frame recomputed. */
START_TEST(stats_random_windows)
{
    enum { N = 300, W = 7 };
    double *vals = malloc(N * sizeof *vals);
    double frame[W];
    sqlite3_stmt *stmt = NULL;
    sqlite3_stmt *agg = NULL;
    int i;

    ck_assert_ptr_nonnull(vals);
    ck_assert_int_eq(
        sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &stmt, NULL),
                     SQLITE_OK);
    for (i = 0; i < N; i++) {
        /* few distinct values, so duplicates leave frames */
        vals[i] = 1e6 + (double)(rng_next() % 50) * 0.25;
        sqlite3_reset(stmt);
        sqlite3_bind_double(stmt, 1, vals[i]);
        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
    }
    sqlite3_finalize(stmt);
    ck_assert_int_eq(
        sqlite3_prepare_v2(db,
                           "SELECT lintel_median(v) OVER w, lintel_variance(v) OVER w, "
                           "lintel_percentile(v, 30) OVER w, lintel_stats(v) OVER w FROM t "
                           "WINDOW w AS (ORDER BY id ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)",
                           -1, &stmt, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT lintel_stats(v), lintel_variance(v) FROM t "
                                        "WHERE id BETWEEN ?1 AND ?2",
                                        -1, &agg, NULL),
                     SQLITE_OK);
    for (i = 0; i < N; i++) {
        int n = i + 1 < W ? i + 1 : W;
        double mean, var, sd, median, pct;
        json_t *j_stats;

        ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
        memcpy(frame, vals + i + 1 - n, (size_t)n * sizeof *frame);
        reference(frame, n, 30, &mean, &var, &sd, &median, &pct);
        ck_assert(sqlite3_column_double(stmt, 0) == median);
        assert_close(sqlite3_column_double(stmt, 2), pct, "window percentile", i);
        j_stats = json_loads((const char *)sqlite3_column_text(stmt, 3), 0, NULL);
        ck_assert_ptr_nonnull(j_stats);
        assert_close(json_number_value(json_object_get(j_stats, "avg")), mean, "window avg", i);
        ck_assert(json_number_value(json_object_get(j_stats, "min")) == frame[0]);
        ck_assert(json_number_value(json_object_get(j_stats, "max")) == frame[n - 1]);
        /* the same frame as an aggregate: the same text and the same bits (R3) */
        sqlite3_reset(agg);
        sqlite3_bind_int(agg, 1, i + 2 - n);
        sqlite3_bind_int(agg, 2, i + 1);
        ck_assert_int_eq(sqlite3_step(agg), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 3),
                         (const char *)sqlite3_column_text(agg, 0));
        ck_assert_int_eq(sqlite3_column_type(stmt, 1), sqlite3_column_type(agg, 1));
        ck_assert(sqlite3_column_double(stmt, 1) == sqlite3_column_double(agg, 1));
        if (n > 1) {
            assert_close(sqlite3_column_double(stmt, 1), var, "window variance", i);
            assert_close(json_number_value(json_object_get(j_stats, "stddev")), sd, "window stddev",
                         i);
        }
        json_decref(j_stats);
    }
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_finalize(agg);
    free(vals);
}
END_TEST

/* Like assert_close, for results that may overflow: then both must be the same infinity. */
static void assert_close_or_inf(double got, double want, const char *what, int set)
{
    if (isfinite(want))
        assert_close(got, want, what, set);
    else
        ck_assert_msg(got == want, "set %d %s: got %.17g, want %.17g", set, what, got, want);
}

/*
 * Tiny and huge magnitudes: sets whose squares leave the double range (underflow to 0 below
 * about 1e-162, overflow above 1e154) while their deviations do not.
 */
START_TEST(stats_extreme_magnitudes)
{
    static const double mags[] = {5e-324, 1e-321, 1e-315, 1e-300, 1e-170, 1e170, 1e300, 1e307};
    enum { PER_MAG = 25 };
    double vals[64];
    sqlite3_stmt *ins = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t m;
    int set, i;

    ck_assert_int_eq(
        sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &ins, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT lintel_stddev(v), lintel_variance(v), "
                                        "lintel_stats(v) ->> '$.stddev' FROM t",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    for (m = 0; m < sizeof mags / sizeof mags[0]; m++) {
        for (set = 0; set < PER_MAG; set++) {
            int n = 2 + (int)(rng_next() % 60);
            double offset = (double)(rng_next() % 8);
            double mean, var, sd, median, pct;

            ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL), SQLITE_OK);
            for (i = 0; i < n; i++) {
                double u = (double)(rng_next() >> 11) / 9007199254740992.0; /* [0, 1) */
                vals[i] = mags[m] * (offset + u * 2 - 1);
                sqlite3_reset(ins);
                sqlite3_bind_double(ins, 1, vals[i]);
                ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
            }
            reference(vals, n, 50, &mean, &var, &sd, &median, &pct);
            sqlite3_reset(stmt);
            ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
            assert_close_or_inf(sqlite3_column_double(stmt, 0), sd, "stddev", set);
            assert_close_or_inf(sqlite3_column_double(stmt, 1), var, "variance", set);
            if (isfinite(sd))
                assert_close(sqlite3_column_double(stmt, 2), sd, "stats.stddev", set);
            else
                ck_assert_int_eq(sqlite3_column_type(stmt, 2), SQLITE_NULL);
            /* a nonzero spread never comes out as 0 */
            if (sd > 0)
                ck_assert_msg(sqlite3_column_double(stmt, 0) > 0, "mag %g set %d: stddev 0",
                              mags[m], set);
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(stmt);
}
END_TEST

static Suite *ext_reference_suite(void)
{
    Suite *s = suite_create("ext_reference");
    TCase *tc = tcase_create("reference");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, f32_random_quadruples);
    tcase_add_test(tc, stats_random_sets);
    tcase_add_test(tc, stats_random_windows);
    tcase_add_test(tc, stats_extreme_magnitudes);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(ext_reference_suite)
