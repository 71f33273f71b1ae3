/*
 * Statistics aggregates, all usable as window functions: lintel_stats (a JSON object with
 * count, sum, avg, min, max, stddev, median), lintel_median, lintel_percentile,
 * lintel_variance and lintel_stddev. SQLite 3.40 has no median or percentile of its own.
 *
 * Requirements (cited below as R1..R9):
 * R1 NULLs are skipped; a TEXT or BLOB value is an error naming the function and the class.
 * R2 the sum is compensated (Neumaier), and exact as an integer while every value is an
 *    INTEGER and the sum fits in 64 bits; then sum, min and max print as integers.
 * R3 mean, variance and stddev come from the kept values by one function, the same for an
 *    aggregate and for every window frame (so {0.1, 0.2} gives the same digits both ways): the
 *    values are scaled by the power of two that brings the largest magnitude into [0.5, 1)
 *    (exact), so neither the squares of huge values overflow (1e300 and 1 have a stddev of about
 *    7.07e299) nor those of tiny ones underflow ({5e-324, 1e-320} has one of about 3.5e-321);
 *    then the corrected two-pass algorithm, in long double. Sample variance (n - 1),
 *    NULL below 2 values; stddev is the square root of the scaled variance, scaled back. O(n)
 *    per result, like the median. After an inverse the sum, min and max are recomputed from the
 *    kept values too (running them backwards loses digits to cancellation).
 * R4 every value is kept (doubles: INTEGERs beyond 2^53 are rounded in min, max, median);
 *    median and percentile use a quickselect, O(n) per result; a window's inverse removes one
 *    occurrence of the value.
 * R5 percentile p is 0..100, the same for every row of a group, linear interpolation between
 *    the closest ranks (p/100 * (n - 1)); NULL p skips the row; anything else is an error.
 *    Halfway between two ranks (an even count's median) the result is their midpoint, as a
 *    client computing (a + b) / 2 gets it: median(0.1, 4.5) is 2.3.
 * R6 lintel_stats on an empty set: {"count":0,"sum":0,...rest null}. Others give NULL.
 * R7 numbers print as the shortest text that reads back as the same double (0.1, not
 *    0.10000000000000001), by the printer the host's JSON uses too (double_text.h): integral
 *    doubles keep ".0" (5.0, 100.0), as in api.md; a non-finite result is JSON null.
 * R8 values of +-Inf are accepted (SQLite stores them); NaN cannot occur (SQLite stores NULL).
 * R9 out of memory is reported with sqlite3_result_error_nomem, never a wrong result.
 */
#include "lintel_ext_int.h"

#include "double_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stats {
    sqlite3_int64 n;     /* values counted */
    sqlite3_int64 nreal; /* of which REAL */
    sqlite3_int64 isum;  /* exact sum while every value is INTEGER */
    int isum_overflow;   /* isum left the 64-bit range once: use the double sum */
    double sum, comp;    /* Neumaier compensated sum and its compensation */
    double min, max;     /* valid while dirty is 0 */
    int dirty;           /* an inverse removed a value: recompute from vals (R3) */
    int error;           /* a step failed: report nothing more */
    int have_p;
    double p;     /* lintel_percentile's constant p */
    double *vals; /* every value, for median and percentile (R4) */
    sqlite3_int64 nvals, cap;
};

static const struct ext_stat_fn *stats_fn(sqlite3_context *ctx)
{
    return sqlite3_user_data(ctx);
}

static void stats_add_sum(struct stats *st, double x)
{
    double t = st->sum + x;

    /* Neumaier: the compensation keeps the low-order bits of whichever term was smaller. */
    if (fabs(st->sum) >= fabs(x))
        st->comp += (st->sum - t) + x;
    else
        st->comp += (x - t) + st->sum;
    st->sum = t;
}

/*
 * Reads row argv's value into *x; 1 to skip (NULL), 0 to use, -1 after an error (R1, R5).
 * *is_int says whether it was an INTEGER, *iv holds it then.
 */
static int stats_arg(sqlite3_context *ctx, struct stats *st, const struct ext_stat_fn *fn, int argc,
                     sqlite3_value **argv, double *x, int *is_int, sqlite3_int64 *iv)
{
    int type = sqlite3_value_type(argv[0]);

    if (argc > 1) {
        int ptype = sqlite3_value_type(argv[1]);
        double p;

        if (ptype == SQLITE_NULL)
            return 1;
        p = sqlite3_value_double(argv[1]);
        if ((ptype != SQLITE_INTEGER && ptype != SQLITE_FLOAT) || !(p >= 0.0 && p <= 100.0)) {
            ext_error(ctx, "%s(): 2nd argument must be a number 0..100", fn->name);
            return -1;
        }
        if (st->have_p && p != st->p) {
            ext_error(ctx, "%s(): 2nd argument must be the same for every row", fn->name);
            return -1;
        }
        st->have_p = 1;
        st->p = p;
    }
    switch (type) {
    case SQLITE_NULL:
        return 1;
    case SQLITE_INTEGER:
        *iv = sqlite3_value_int64(argv[0]);
        *x = (double)*iv;
        *is_int = 1;
        return 0;
    case SQLITE_FLOAT:
        *x = sqlite3_value_double(argv[0]);
        *is_int = 0;
        return 0;
    default:
        ext_error(ctx, "%s(): value is %s, not a number", fn->name, ext_type_name(type));
        return -1;
    }
}

/*
 * The aggregate's state (*st) and the row's value for step and inverse: 0, 1 for a row to skip
 * (NULL, or a frame already in error), -1 after an error (the frame stays in error).
 */
static int stats_row(sqlite3_context *ctx, int argc, sqlite3_value **argv, struct stats **st,
                     double *x, int *is_int, sqlite3_int64 *iv)
{
    int rc;

    *x = 0;
    *is_int = 0;
    *iv = 0;
    *st = sqlite3_aggregate_context(ctx, sizeof **st);
    if (*st == NULL) {
        sqlite3_result_error_nomem(ctx);
        return -1;
    }
    if ((*st)->error)
        return 1;
    rc = stats_arg(ctx, *st, stats_fn(ctx), argc, argv, x, is_int, iv);
    if (rc < 0)
        (*st)->error = 1;
    return rc;
}

void ext_stats_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct stats *st;
    double x;
    int is_int;
    sqlite3_int64 iv;

    if (stats_row(ctx, argc, argv, &st, &x, &is_int, &iv) != 0)
        return;
    {
        if (st->nvals == st->cap) {
            sqlite3_int64 cap = st->cap ? st->cap * 2 : 64;
            double *v = sqlite3_realloc64(st->vals, (sqlite3_uint64)cap * sizeof *v);
            if (v == NULL) {
                st->error = 1;
                sqlite3_result_error_nomem(ctx);
                return;
            }
            st->vals = v;
            st->cap = cap;
        }
        st->vals[st->nvals++] = x;
    }
    if (is_int) {
        if (!st->isum_overflow && __builtin_add_overflow(st->isum, iv, &st->isum))
            st->isum_overflow = 1;
    } else {
        st->nreal++;
    }
    stats_add_sum(st, x);
    if (st->n == 0 || x < st->min)
        st->min = x;
    if (st->n == 0 || x > st->max)
        st->max = x;
    st->n++;
}

void ext_stats_inverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct stats *st;
    double x;
    int is_int;
    sqlite3_int64 iv, k;

    /* The rows leaving the frame were all accepted by a step, so no error can be new here. */
    if (stats_row(ctx, argc, argv, &st, &x, &is_int, &iv) != 0 || st->n == 0)
        return;
    {
        for (k = 0; k < st->nvals; k++) {
            if (st->vals[k] == x) {
                st->vals[k] = st->vals[--st->nvals];
                break;
            }
        }
    }
    if (is_int) {
        if (!st->isum_overflow && __builtin_sub_overflow(st->isum, iv, &st->isum))
            st->isum_overflow = 1;
    } else {
        st->nreal--;
    }
    stats_add_sum(st, -x);
    st->dirty = 1;
    st->n--;
    if (st->n == 0) {
        /* Start afresh: nothing left to compensate or to drift. */
        st->sum = st->comp = 0;
        st->isum = 0;
        st->isum_overflow = 0;
        st->nreal = 0;
        st->dirty = 0;
    }
}

static void stats_swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/*
 * Moves the k-th smallest of v[0..n) to v[k], smaller ones before it, larger after (R4).
 * Hoare-style quickselect with a median-of-three pivot.
 */
static void stats_select(double *v, sqlite3_int64 n, sqlite3_int64 k)
{
    sqlite3_int64 lo = 0;
    sqlite3_int64 hi = n - 1;

    while (hi > lo) {
        sqlite3_int64 mid = lo + (hi - lo) / 2;
        sqlite3_int64 i;
        sqlite3_int64 j;
        double pivot;

        if (v[mid] < v[lo])
            stats_swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            stats_swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            stats_swap(&v[hi], &v[mid]);
        pivot = v[mid];
        i = lo;
        j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                stats_swap(&v[i], &v[j]);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* The p-th percentile of v[0..n), n > 0, by linear interpolation (R5). Reorders v. */
static double stats_percentile(double *v, sqlite3_int64 n, double p)
{
    double rank = p / 100.0 * (double)(n - 1);
    sqlite3_int64 lo = (sqlite3_int64)floor(rank);
    double frac = rank - (double)lo;
    double a;
    double b;
    sqlite3_int64 k;

    if (lo >= n - 1)
        lo = n - 1;
    stats_select(v, n, lo);
    a = v[lo];
    if (frac == 0.0 || lo == n - 1)
        return a;
    /* After the select every value above lo is >= a: the next rank is their minimum. */
    b = v[lo + 1];
    for (k = lo + 2; k < n; k++)
        if (v[k] < b)
            b = v[k];
    if (a == b)
        return a;
    if (frac == 0.5) /* the midpoint (R5); halve first only where the sum overflows */
        return isfinite(a + b) ? (a + b) / 2.0 : a * 0.5 + b * 0.5;
    /* b - a overflows for values of opposite sign near DBL_MAX; the weighted form does not */
    if (isinf(b - a) && isfinite(a) && isfinite(b))
        return a * (1.0 - frac) + b * frac;
    return a + (b - a) * frac;
}

/* R3: after an inverse, the sum, min and max again from the kept values. */
static void stats_recompute(struct stats *st)
{
    sqlite3_int64 k;

    if (!st->dirty || st->nvals == 0)
        return;
    st->sum = st->comp = 0;
    st->min = st->max = st->vals[0];
    for (k = 0; k < st->nvals; k++) {
        stats_add_sum(st, st->vals[k]);
        if (st->vals[k] < st->min)
            st->min = st->vals[k];
        if (st->vals[k] > st->max)
            st->max = st->vals[k];
    }
    st->dirty = 0;
}

struct stats_moments {
    double mean; /* NAN when a value is infinite */
    double var;  /* sample variance; NAN below 2 values or when a value is infinite */
    double
        stddev; /* taken before scaling back, so it stays nonzero where the variance underflows */
};

/*
 * R3: the moments of the kept values, one computation for aggregates and windows alike. The
 * sums run in long double, so the result rounds once to the double nearest the true value in
 * all but rare halfway cases (x86-64: 64-bit significand); the power-of-two scaling keeps the
 * squares in range where long double is no wider than double.
 */
static void stats_moments(const struct stats *st, struct stats_moments *mo)
{
    long double sum = 0, mean, m2 = 0, dsum = 0, var;
    double big = 0;
    sqlite3_int64 n = st->nvals, k;
    int e = 0;

    mo->mean = mo->var = mo->stddev = NAN;
    if (n == 0)
        return;
    for (k = 0; k < n; k++)
        big = fmax(big, fabs(st->vals[k]));
    if (!isfinite(big))
        return;
    if (big > 0)
        (void)frexp(big, &e); /* big = f * 2^e with f in [0.5, 1) */
    /* scaled by 2^-e: exact, except that values far below the largest may round to 0 */
    for (k = 0; k < n; k++)
        sum += ldexpl(st->vals[k], -e);
    mean = sum / (long double)n;
    /* the corrected two-pass algorithm: the second term cancels the mean's rounding error */
    for (k = 0; k < n; k++) {
        long double d = ldexpl(st->vals[k], -e) - mean;
        m2 += d * d;
        dsum += d;
    }
    m2 -= dsum * dsum / (long double)n;
    if (m2 < 0)
        m2 = 0;
    mo->mean = ldexp((double)mean, e);
    if (n < 2)
        return;
    var = m2 / (long double)(n - 1);
    mo->var = (double)ldexpl(var, 2 * e);
    mo->stddev = (double)ldexpl(sqrtl(var), e);
}

void ext_json_double(sqlite3_str *out, double d)
{
    char buf[EXT_DOUBLE_TEXT_SIZE];

    ext_double_text(d, buf); /* R7; "null" when not finite */
    sqlite3_str_appendall(out, buf);
}

static void stats_json_int_or_double(sqlite3_str *out, const struct stats *st, double d)
{
    /* R2: all-INTEGER input prints integers; its min and max are exact in vals only to 2^53 */
    if (st->nreal == 0 && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        sqlite3_str_appendf(out, "%lld", (long long)d);
    else
        ext_json_double(out, d);
}

static double stats_sum(const struct stats *st)
{
    return st->sum + st->comp;
}

static void stats_result(sqlite3_context *ctx, int final)
{
    const struct ext_stat_fn *fn = stats_fn(ctx);
    struct stats *st = sqlite3_aggregate_context(ctx, 0);
    struct stats empty;
    struct stats_moments mo = {NAN, NAN, NAN};

    if (st == NULL) {
        memset(&empty, 0, sizeof empty);
        st = &empty;
    }
    if (st->error)
        goto cleanup;
    stats_recompute(st);
    if (fn->kind != EXT_STAT_MEDIAN && fn->kind != EXT_STAT_PERCENTILE)
        stats_moments(st, &mo);
    switch (fn->kind) {
    case EXT_STAT_VARIANCE:
        if (st->n > 1)
            sqlite3_result_double(ctx, mo.var);
        break;
    case EXT_STAT_STDDEV:
        if (st->n > 1)
            sqlite3_result_double(ctx, mo.stddev);
        break;
    case EXT_STAT_MEDIAN:
        if (st->nvals > 0)
            sqlite3_result_double(ctx, stats_percentile(st->vals, st->nvals, 50.0));
        break;
    case EXT_STAT_PERCENTILE:
        if (st->nvals > 0)
            sqlite3_result_double(ctx, stats_percentile(st->vals, st->nvals, st->p));
        break;
    case EXT_STAT_ALL: {
        sqlite3_str *out = sqlite3_str_new(sqlite3_context_db_handle(ctx));
        char *text;

        sqlite3_str_appendf(out, "{\"count\":%lld,\"sum\":", (long long)st->n);
        if (st->nreal == 0 && !st->isum_overflow)
            sqlite3_str_appendf(out, "%lld", (long long)st->isum);
        else
            ext_json_double(out, stats_sum(st));
        if (st->n == 0) {
            sqlite3_str_appendall(
                out, ",\"avg\":null,\"min\":null,\"max\":null,\"stddev\":null,\"median\":null}");
        } else {
            sqlite3_str_appendall(out, ",\"avg\":");
            if (st->nreal == 0 && !st->isum_overflow)
                ext_json_double(out, (double)st->isum / (double)st->n);
            else if (isfinite(stats_sum(st)))
                ext_json_double(out, stats_sum(st) / (double)st->n);
            else
                ext_json_double(out, mo.mean); /* the sum overflowed, the mean did not */
            sqlite3_str_appendall(out, ",\"min\":");
            stats_json_int_or_double(out, st, st->min);
            sqlite3_str_appendall(out, ",\"max\":");
            stats_json_int_or_double(out, st, st->max);
            sqlite3_str_appendall(out, ",\"stddev\":");
            if (st->n > 1)
                ext_json_double(out, mo.stddev);
            else
                sqlite3_str_appendall(out, "null");
            sqlite3_str_appendall(out, ",\"median\":");
            ext_json_double(out, stats_percentile(st->vals, st->nvals, 50.0));
            sqlite3_str_appendchar(out, 1, '}');
        }
        if (sqlite3_str_errcode(out) != SQLITE_OK) {
            sqlite3_free(sqlite3_str_finish(out));
            sqlite3_result_error_nomem(ctx); /* R9 */
            break;
        }
        text = sqlite3_str_finish(out);
        sqlite3_result_text(ctx, text, -1, sqlite3_free);
        break;
    }
    }
cleanup:
    if (final && st != &empty) {
        sqlite3_free(st->vals);
        st->vals = NULL;
    }
}

void ext_stats_value(sqlite3_context *ctx)
{
    stats_result(ctx, 0);
}

void ext_stats_final(sqlite3_context *ctx)
{
    stats_result(ctx, 1);
}
