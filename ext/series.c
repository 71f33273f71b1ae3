/*
 * lintel_time_bucket(ts, width): the start of the time bucket a Unix time falls in, for series
 * grouped per minute, hour or day in SQL (GET /api/datapoints/series).
 */
#include "lintel_ext_int.h"

#include <string.h>

#define SERIES_INT64_MIN (-9223372036854775807LL - 1)

/* The width argument in seconds: '1m', '1h', '1d' or an INTEGER > 0; 0 when it is neither. */
static sqlite3_int64 series_width(sqlite3_value *v)
{
    static const struct {
        const char *name;
        sqlite3_int64 seconds;
    } names[] = {{"1m", 60}, {"1h", 3600}, {"1d", 86400}};
    const char *text;
    size_t i;

    if (sqlite3_value_type(v) == SQLITE_INTEGER)
        return sqlite3_value_int64(v) > 0 ? sqlite3_value_int64(v) : 0;
    if (sqlite3_value_type(v) != SQLITE_TEXT ||
        (text = (const char *)sqlite3_value_text(v)) == NULL)
        return 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(text, names[i].name) == 0)
            return names[i].seconds;
    return 0;
}

/*
 * lintel_time_bucket(1713798477, '1h') -> 1713794400: ts rounded down (towards the past, also
 * before 1970) to a multiple of the width, '1m', '1h', '1d' or a number of seconds > 0. Buckets
 * are aligned on the Unix epoch, so days start at 00:00 UTC. NULL ts gives NULL; a ts that is
 * not an INTEGER, or another width, is an error naming the argument.
 */
void ext_time_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_int64 ts, width = series_width(argv[1]), rest;

    (void)argc;
    if (width == 0) {
        ext_error(ctx, "lintel_time_bucket(): 2nd argument must be '1m', '1h', '1d' or an "
                       "integer number of seconds > 0");
        return;
    }
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
        ext_error(ctx, "lintel_time_bucket(): 1st argument is %s, not INTEGER",
                  ext_type_name(sqlite3_value_type(argv[0])));
        return;
    }
    ts = sqlite3_value_int64(argv[0]);
    rest = ts % width; /* C rounds towards zero: a negative ts goes one bucket further down */
    if (rest < 0 && ts - rest < SERIES_INT64_MIN + width) {
        ext_error(ctx, "lintel_time_bucket(): 1st argument is out of range");
        return;
    }
    sqlite3_result_int64(ctx, rest < 0 ? ts - rest - width : ts - rest);
}
