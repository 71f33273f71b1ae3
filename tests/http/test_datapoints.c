/*
 * Data points, black-box: a private lintel whose upstream is the real sensor simulator, so
 * every upstream failure mode can be produced on demand and its request counted.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapoints_sim.h"
#include "lt_test.h"

static struct dp_world world;
#define srv         world.srv
#define sim         world.sim
#define admin_token world.admin_token
#define user_token  world.user_token

static void setup_all(void)
{
    dp_world_start(&world, "fixed", 1, "dpuser");
}

static void teardown_all(void)
{
    dp_world_stop(&world);
}

/* Sends a request to the private server; the reply must parse as JSON. */
static void req(const char *method, const char *path, const char *token, const char *body,
                struct lt_resp *r)
{
    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(lt_json(srv.url, method, path, token, body, r), 0);
}

/* Points stored, all of them (admin view). */
static long long stored(void)
{
    struct lt_resp r;
    long long total;

    req("GET", "/api/datapoints?limit=0", admin_token, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    total = (long long)json_integer_value(json_object_get(r.j_body, "total"));
    lt_resp_clear(&r);
    return total;
}

static const char *detail(const struct lt_resp *r)
{
    const char *d = json_string_value(json_object_get(r->j_body, "detail"));

    return d != NULL ? d : "";
}

static bool has_tag(const json_t *j_point, const char *tag)
{
    const json_t *j_tag;
    size_t i;

    json_array_foreach(json_object_get(j_point, "tags"), i, j_tag) {
        if (json_is_string(j_tag) && strcmp(json_string_value(j_tag), tag) == 0)
            return true;
    }
    return false;
}

/* One populate call in mode; returns the reply (caller clears). */
static void populate(const char *mode, const char *query, struct lt_resp *r)
{
    char path[128];

    ck_assert_int_eq(dp_sim_mode(&sim, mode), 0);
    snprintf(path, sizeof(path), "/api/datapoints/populate%s", query != NULL ? query : "");
    req("POST", path, admin_token, NULL, r);
}

START_TEST(test_populate_decodes_in_sql)
{
    struct lt_resp r;
    json_t *j_item;
    long long before = stored();

    populate("fixed", "?count=2", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "inserted")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(r.j_body, "items")), 2);
    /* exactly the shortest text of the double the float32 widens to */
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":-0.19938130676746368,"));
    j_item = json_array_get(json_object_get(r.j_body, "items"), 0);
    ck_assert(json_real_value(json_object_get(j_item, "value")) == -0.19938130676746368);
    ck_assert(json_is_true(json_object_get(j_item, "valid")));
    ck_assert_uint_eq(json_array_size(json_object_get(j_item, "tags")), 0);
    ck_assert(json_is_integer(json_object_get(j_item, "id")));
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j_item, "time"))), 20);
    ck_assert_int_eq(json_string_value(json_object_get(j_item, "time"))[19], 'Z');
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before + 2);

    populate("fixed", NULL, &r); /* count defaults to 1 */
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "inserted")), 1);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(test_populate_invalid_points_tagged)
{
    static const struct {
        const char *mode, *tag;
    } cases[] = {{"system", "system"},
                 {"suspect", "suspect"},
                 {"old", "too old"},
                 {"nan", "not finite"},
                 {"inf", "not finite"}};
    struct lt_resp r;
    json_t *j_item;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        populate(cases[i].mode, NULL, &r);
        ck_assert_msg(r.status == 201, "%s: %ld %s", cases[i].mode, r.status, r.body);
        j_item = json_array_get(json_object_get(r.j_body, "items"), 0);
        ck_assert_msg(json_is_false(json_object_get(j_item, "valid")), "%s", cases[i].mode);
        ck_assert_msg(has_tag(j_item, cases[i].tag), "%s: %s", cases[i].mode, r.body);
        if (strcmp(cases[i].tag, "not finite") == 0)
            ck_assert(json_is_null(json_object_get(j_item, "value")));
        else
            ck_assert(json_is_real(json_object_get(j_item, "value")));
        lt_resp_clear(&r);
    }
}
END_TEST

START_TEST(test_populate_upstream_failures_store_nothing)
{
    static const struct {
        const char *mode, *query;
        long status;
        const char *phrase;
    } cases[] = {
        {"status:500", NULL, 502, "HTTP 500"},
        {"status:404", NULL, 502, "HTTP 404"},
        {"redirect", NULL, 502, "HTTP 302"},
        {"not-json", NULL, 502, "not JSON"},
        {"empty", NULL, 502, "not JSON"},
        {"list", NULL, 502, "is a list"},
        {"missing-time", NULL, 502, "time is required"},
        {"missing-value", NULL, 502, "value is required"},
        {"bad-bytes", NULL, 502, "byte 2 is 256"},
        {"short-value", NULL, 502, "four integers 0..255"},
        {"string-byte", NULL, 502, "byte 1 is \"42\""},
        {"float-time", NULL, 502, "time must be an integer"},
        {"string-time", NULL, 502, "time must be an integer"},
        {"bad-tags", NULL, 502, "tags must be an array of strings"},
        {"huge", NULL, 502, "exceeds 65536 bytes"},
        /* the third of three fetches fails: the first two are not stored either */
        {"after:2:not-json", "?count=3", 502, "not JSON"},
        {"after:2:bad-bytes", "?count=3", 502, "point 3 of 3"},
        /* LINTEL_UPSTREAM_TIMEOUT=1 */
        {"delay:2500", NULL, 504, "did not answer"},
    };
    struct lt_resp r;
    long long before = stored();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        populate(cases[i].mode, cases[i].query, &r);
        ck_assert_msg(r.status == cases[i].status, "%s: %ld %s", cases[i].mode, r.status, r.body);
        ck_assert_msg(strstr(detail(&r), cases[i].phrase) != NULL, "%s: %s", cases[i].mode, r.body);
        ck_assert_ptr_nonnull(strstr(lt_header(&r, "content-type"), "problem+json"));
        lt_resp_clear(&r);
        ck_assert_int_eq(stored(), before);
    }
}
END_TEST

START_TEST(test_populate_upstream_down)
{
    struct lt_resp r;
    long long before = stored();

    ck_assert_int_eq(dp_sim_mode(&sim, "fixed"), 0);
    dp_sim_stop(&sim); /* the last test of this case: nothing listens on the port now */
    req("POST", "/api/datapoints/populate?count=5", admin_token, NULL, &r);
    ck_assert_int_eq(r.status, 502);
    ck_assert_str_eq(detail(&r), "upstream refused the connection");
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before);
}
END_TEST

START_TEST(test_populate_count_rules)
{
    static const char *const bad[] = {"0", "1001", "-1", "abc", "1.5", "", "2x"};
    struct lt_resp r;
    char path[128];
    long long hits = dp_sim_hits(&sim);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/datapoints/populate?count=%s", bad[i]);
        req("POST", path, admin_token, NULL, &r);
        ck_assert_msg(r.status == 422, "count=%s: %ld", bad[i], r.status);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(r.j_body, "errors"), 0), "field")),
                         "count");
        ck_assert_str_eq(detail(&r), "count must be an integer between 1 and 1000.");
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(dp_sim_hits(&sim), hits); /* refused before any upstream request */
}
END_TEST

START_TEST(test_populate_admin_only)
{
    struct lt_resp r;
    long long hits = dp_sim_hits(&sim), before = stored();

    ck_assert_int_eq(dp_sim_mode(&sim, "fixed"), 0);
    req("POST", "/api/datapoints/populate?count=3", user_token, NULL, &r);
    ck_assert_int_eq(r.status, 403);
    lt_resp_clear(&r);
    req("POST", "/api/datapoints/populate?count=3", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    ck_assert_int_eq(dp_sim_hits(&sim), hits); /* no upstream request was made */
    ck_assert_int_eq(stored(), before);
}
END_TEST

/* A JSON array of n raw points at time base + i, every third one tagged system. */
static char *points_json(long long base, int n, int bad_at, const char *bad_point)
{
    json_t *j = json_array();
    char *text;

    for (int i = 0; i < n; i++) {
        if (i == bad_at) {
            json_array_append_new(j, json_loads(bad_point, JSON_DECODE_ANY, NULL));
            continue;
        }
        json_array_append_new(j, json_pack("{sIs[iiii]so}", "time", (json_int_t)(base + i), "value",
                                           0, 0, 128, 63 + (i % 2), "tags",
                                           i % 3 == 2 ? json_pack("[s]", "system") : json_array()));
    }
    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

START_TEST(test_bulk_ingest_all_or_nothing)
{
    static const struct {
        const char *point, *field;
    } bad[] = {
        {"{\"time\":1,\"value\":[1,2,3,256]}", "[3].value"},
        {"{\"value\":[1,2,3,4]}", "[3].time"},
        {"{\"time\":1.5,\"value\":[1,2,3,4]}", "[3].time"},
        {"{\"time\":\"1\",\"value\":[1,2,3,4]}", "[3].time"},
        {"{\"time\":1,\"value\":[1,2,3]}", "[3].value"},
        {"{\"time\":1,\"value\":\"AAAA\"}", "[3].value"},
        {"{\"time\":1,\"value\":[1,2,3,4],\"tags\":[1]}", "[3].tags"},
        {"[1,2,3,4]", "[3]"},
        {"7", "[3]"},
    };
    long long now = (long long)time(NULL), before = stored();
    struct lt_resp r;
    char *body;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        body = points_json(now - 100, 6, 3, bad[i].point);
        req("POST", "/api/datapoints", admin_token, body, &r);
        free(body);
        ck_assert_msg(r.status == 422, "%s: %ld %s", bad[i].point, r.status, r.body);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(r.j_body, "errors"), 0), "field")),
                         bad[i].field);
        lt_resp_clear(&r);
        ck_assert_int_eq(stored(), before);
    }
    body = points_json(now - 100, 6, -1, NULL);
    req("POST", "/api/datapoints", admin_token, body, &r);
    free(body);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "inserted")), 6);
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before + 6);
}
END_TEST

START_TEST(test_bulk_ingest_rules)
{
    struct lt_resp r;
    long long before = stored();

    req("POST", "/api/datapoints", user_token, "[{\"time\":1,\"value\":[1,2,3,4]}]", &r);
    ck_assert_int_eq(r.status, 403); /* users have datapoints:read only */
    lt_resp_clear(&r);
    req("POST", "/api/datapoints", admin_token, "{\"time\":1,\"value\":[1,2,3,4]}", &r);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    req("POST", "/api/datapoints", admin_token, "[]", &r);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
    req("POST", "/api/datapoints", admin_token, "[{\"time\":1,", &r);
    ck_assert_int_eq(r.status, 400);
    lt_resp_clear(&r);
    ck_assert_int_eq(stored(), before);
}
END_TEST

/*
 * Each range test posts its points into a window of seconds of its own, 2000 to 2200 s ago:
 * recent enough not to be "too old" (3600 s), apart from the populated points (now).
 */
static void post_points(const char *body)
{
    struct lt_resp r;

    req("POST", "/api/datapoints", admin_token, body, &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    lt_resp_clear(&r);
}

static long long list_total(const char *token, const char *query, json_t **j_items)
{
    struct lt_resp r;
    char path[512];
    long long total;

    snprintf(path, sizeof(path), "/api/datapoints?%s", query);
    req("GET", path, token, NULL, &r);
    ck_assert_msg(r.status == 200, "%s: %ld %s", query, r.status, r.body);
    total = (long long)json_integer_value(json_object_get(r.j_body, "total"));
    if (j_items != NULL)
        *j_items = json_incref(json_object_get(r.j_body, "items"));
    lt_resp_clear(&r);
    return total;
}

static void iso(long long t, const char *fmt, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, size, fmt, &tm);
}

START_TEST(test_list_visibility_and_ranges)
{
    /* Recent points (valid unless tagged) in a window of ten seconds 2000..1990 s ago. */
    long long base = (long long)time(NULL) - 2000;
    char *body = points_json(base, 10, -1, NULL); /* indexes 2, 5, 8 tagged system */
    char q[256], a[64], b[64];
    json_t *j_items = NULL;

    post_points(body);
    free(body);
    /* Inclusive Unix bounds: base+1 .. base+4 holds 4 points, one of them (base+2) invalid. */
    snprintf(q, sizeof(q), "start=%lld&end=%lld", base + 1, base + 4);
    ck_assert_int_eq(list_total(admin_token, q, &j_items), 4);
    ck_assert_uint_eq(json_array_size(j_items), 4);
    json_decref(j_items);
    ck_assert_int_eq(list_total(user_token, q, &j_items), 3);
    for (size_t i = 0; i < json_array_size(j_items); i++)
        ck_assert(json_is_true(json_object_get(json_array_get(j_items, i), "valid")));
    json_decref(j_items);
    snprintf(q, sizeof(q), "start=%lld&end=%lld&valid=false", base + 1, base + 4);
    ck_assert_int_eq(list_total(admin_token, q, NULL), 1);
    snprintf(q, sizeof(q), "start=%lld&end=%lld&valid=true", base + 1, base + 4);
    ck_assert_int_eq(list_total(admin_token, q, NULL), 3);

    /* The same range as ISO 8601, in UTC and with an offset. */
    iso(base + 1, "%Y-%m-%dT%H:%M:%SZ", a, sizeof(a));
    iso(base + 4, "%Y-%m-%dT%H:%M:%SZ", b, sizeof(b));
    snprintf(q, sizeof(q), "start=%s&end=%s", a, b);
    ck_assert_int_eq(list_total(admin_token, q, NULL), 4);
    iso(base + 1 + 2 * 3600, "%Y-%m-%dT%H:%M:%S%%2B02:00", a, sizeof(a));
    iso(base + 4 - 90 * 60, "%Y-%m-%dT%H:%M:%S-01:30", b, sizeof(b));
    snprintf(q, sizeof(q), "start=%s&end=%s", a, b);
    ck_assert_int_eq(list_total(admin_token, q, NULL), 4);
    /* a fraction of a second narrows an inclusive range to the whole seconds inside it */
    iso(base + 1, "%Y-%m-%dT%H:%M:%S.5Z", a, sizeof(a));
    iso(base + 4, "%Y-%m-%dT%H:%M:%S.5Z", b, sizeof(b));
    snprintf(q, sizeof(q), "start=%s&end=%s", a, b);
    ck_assert_int_eq(list_total(admin_token, q, NULL), 3);

    /* Ordered by time then id; pagination with offset, skip and limit. */
    snprintf(q, sizeof(q), "start=%lld&end=%lld&limit=3&offset=2", base, base + 9);
    ck_assert_int_eq(list_total(admin_token, q, &j_items), 10);
    ck_assert_uint_eq(json_array_size(j_items), 3);
    iso(base + 2, "%Y-%m-%dT%H:%M:%SZ", a, sizeof(a));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_items, 0), "time")), a);
    iso(base + 4, "%Y-%m-%dT%H:%M:%SZ", a, sizeof(a));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j_items, 2), "time")), a);
    json_decref(j_items);
    snprintf(q, sizeof(q), "start=%lld&end=%lld&limit=100&skip=8", base, base + 9);
    ck_assert_int_eq(list_total(admin_token, q, &j_items), 10);
    ck_assert_uint_eq(json_array_size(j_items), 2);
    json_decref(j_items);
}
END_TEST

START_TEST(test_list_same_second_ordered_by_id)
{
    long long t = (long long)time(NULL) - 2100;
    char body[256], q[128];
    json_t *j_items = NULL;
    json_int_t id0, id1;

    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,0,64]},{\"time\":%lld,\"value\":[0,0,128,63]}]", t, t);
    post_points(body);
    snprintf(q, sizeof(q), "start=%lld&end=%lld", t, t);
    ck_assert_int_eq(list_total(user_token, q, &j_items), 2);
    id0 = json_integer_value(json_object_get(json_array_get(j_items, 0), "id"));
    id1 = json_integer_value(json_object_get(json_array_get(j_items, 1), "id"));
    ck_assert(id0 < id1);
    ck_assert(json_real_value(json_object_get(json_array_get(j_items, 0), "value")) == 2.0);
    json_decref(j_items);
}
END_TEST

/* float32 -0.0 (bytes [0,0,0,128]) comes back as -0.0, not 0.0: the sign is kept on disk. */
START_TEST(test_negative_zero_keeps_its_sign)
{
    long long t = (long long)time(NULL) - 2150;
    char body[256], q[128], path[160];
    struct lt_resp r;

    snprintf(body, sizeof(body), "[{\"time\":%lld,\"value\":[0,0,0,128]}]", t);
    post_points(body);
    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld", t, t);
    req("GET", path, user_token, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\"value\":-0.0,") != NULL, "%s", r.body);
    ck_assert(signbit(json_real_value(
        json_object_get(json_array_get(json_object_get(r.j_body, "items"), 0), "value"))));
    lt_resp_clear(&r);
    snprintf(q, sizeof(q), "/api/datapoints/stats?start=%lld&end=%lld", t, t);
    req("GET", q, user_token, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\"min\":-0.0,") != NULL, "%s", r.body);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(test_list_bad_queries)
{
    static const struct {
        const char *query, *field;
        long status;
    } cases[] = {
        {"start=abc", "start", 422},
        {"end=2024-13-01T00:00:00Z", "end", 422},
        {"start=2024-02-30T00:00:00Z", "start", 422},
        {"start=2024-04-22T25:00:00Z", "start", 422},
        {"start=2024-04-22T10:00:00%2B2", "start", 422},
        {"start=1e9", "start", 422},
        {"start=now", "start", 422},
        {"start=2460423.5", "start", 422},
        {"end=", NULL, 200}, /* empty: no bound */
        {"limit=1001", "limit", 422},
        {"limit=-1", "limit", 422},
        {"offset=-1", "offset", 422},
        {"skip=x", "skip", 422},
        {"offset=1&skip=2", "skip", 422},
        {"valid=maybe", "valid", 422},
    };
    struct lt_resp r;
    char path[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "/api/datapoints?%s", cases[i].query);
        req("GET", path, admin_token, NULL, &r);
        ck_assert_msg(r.status == cases[i].status, "%s: %ld %s", cases[i].query, r.status, r.body);
        if (cases[i].field != NULL) {
            ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(json_object_get(r.j_body, "errors"), 0), "field")),
                             cases[i].field);
            /* The detail is a sentence that names the parameter, as every list's is. */
            ck_assert_msg(strncmp(detail(&r), cases[i].field, strlen(cases[i].field)) == 0 &&
                              detail(&r)[strlen(cases[i].field)] == ' ',
                          "%s: detail does not name %s: %s", cases[i].query, cases[i].field,
                          r.body);
        }
        lt_resp_clear(&r);
    }
    req("GET", "/api/datapoints?limit=1001", admin_token, NULL, &r);
    ck_assert_str_eq(detail(&r), "limit must be an integer between 0 and 1000.");
    lt_resp_clear(&r);
    req("GET", "/api/datapoints?valid=true", user_token, NULL, &r);
    ck_assert_int_eq(r.status, 403); /* the valid filter is the admins' */
    lt_resp_clear(&r);
    req("GET", "/api/datapoints", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
}
END_TEST

START_TEST(test_stats_over_visible_values)
{
    long long base = (long long)time(NULL) - 2200;
    char body[512], q[256];
    struct lt_resp r;
    json_t *j;

    /* 1.0, 2.0 and 4.0 valid; 100.0 suspect; one not finite */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,128,63]},{\"time\":%lld,\"value\":[0,0,0,64]},"
             "{\"time\":%lld,\"value\":[0,0,128,64]},"
             "{\"time\":%lld,\"value\":[0,0,200,66],\"tags\":[\"suspect\"]},"
             "{\"time\":%lld,\"value\":[0,0,192,127]}]",
             base, base + 1, base + 2, base + 3, base + 4);
    post_points(body);
    snprintf(q, sizeof(q), "/api/datapoints/stats?start=%lld&end=%lld", base, base + 4);
    req("GET", q, user_token, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = r.j_body;
    ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 3);
    ck_assert(json_number_value(json_object_get(j, "sum")) == 7.0);
    ck_assert(json_number_value(json_object_get(j, "max")) == 4.0);
    ck_assert(json_number_value(json_object_get(j, "median")) == 2.0);
    lt_resp_clear(&r);
    req("GET", q, admin_token, NULL, &r); /* admins: every finite value */
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 4);
    ck_assert(json_number_value(json_object_get(r.j_body, "max")) == 100.0);
    lt_resp_clear(&r);
    req("GET", "/api/datapoints/stats?start=1&end=2", user_token, NULL, &r);
    ck_assert_int_eq(r.status, 200); /* empty set */
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 0);
    ck_assert(json_is_null(json_object_get(r.j_body, "avg")));
    lt_resp_clear(&r);
    req("GET", "/api/datapoints/stats?end=yesterday", user_token, NULL, &r);
    ck_assert_int_eq(r.status, 422);
    lt_resp_clear(&r);
}
END_TEST

/*
 * upstream_url reaches the plugin in its config object: LINTEL_UPSTREAM_URL there already
 * beats the server file's key, and the plugin's own config subtree beats both (here the
 * variable names a closed port, the subtree the simulator).
 */
START_TEST(test_upstream_from_plugin_config)
{
    static const char *const env[] = {"LINTEL_UPSTREAM_URL=http://127.0.0.1:9/sensor",
                                      "LINTEL_PLUGINS=auth,datapoints", NULL};
    struct lt_server s = {.pid = -1};
    char dir[] = "/tmp/lintel-dpcfg-XXXXXX", path[64], *token = NULL;
    const char *args[] = {"--config", path, NULL};
    long long hits = dp_sim_hits(&sim);
    struct lt_resp r = {0};
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/lintel.json", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"plugins\": [{\"name\": \"datapoints\", \"config\": "
            "{\"upstream_url\": \"%s/sensor\"}}]}\n",
            sim.url);
    fclose(f);
    ck_assert_int_eq(lt_server_start(&s, env, args), 0);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    ck_assert_int_eq(lt_json(s.url, "POST", "/api/datapoints/populate", token, NULL, &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_int_eq(dp_sim_hits(&sim), hits + 1);
    lt_resp_clear(&r);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* The shared server has no upstream configured. */
START_TEST(test_populate_without_upstream)
{
    const char *url = lt_shared_url();
    struct lt_resp r = {0};
    char *token = NULL;

    ck_assert_ptr_nonnull(url);
    ck_assert_int_eq(lt_login(url, "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    ck_assert_int_eq(lt_json(url, "POST", "/api/datapoints/populate", token, NULL, &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_ptr_nonnull(strstr(detail(&r), "LINTEL_UPSTREAM_URL"));
    lt_resp_clear(&r);
    free(token);
}
END_TEST

static Suite *datapoints_suite(void)
{
    Suite *s = suite_create("datapoints");
    TCase *tc = tcase_create("private");
    TCase *shared = tcase_create("shared");

    tcase_add_unchecked_fixture(tc, setup_all, teardown_all);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_populate_decodes_in_sql);
    tcase_add_test(tc, test_populate_invalid_points_tagged);
    tcase_add_test(tc, test_populate_upstream_failures_store_nothing);
    tcase_add_test(tc, test_populate_count_rules);
    tcase_add_test(tc, test_populate_admin_only);
    tcase_add_test(tc, test_bulk_ingest_all_or_nothing);
    tcase_add_test(tc, test_bulk_ingest_rules);
    tcase_add_test(tc, test_list_visibility_and_ranges);
    tcase_add_test(tc, test_list_same_second_ordered_by_id);
    tcase_add_test(tc, test_negative_zero_keeps_its_sign);
    tcase_add_test(tc, test_list_bad_queries);
    tcase_add_test(tc, test_stats_over_visible_values);
    tcase_add_test(tc, test_upstream_from_plugin_config);
    tcase_add_test(tc, test_populate_upstream_down); /* last: it stops the simulator */
    suite_add_tcase(s, tc);
    tcase_add_test(shared, test_populate_without_upstream);
    suite_add_tcase(s, shared);
    return s;
}

LT_CHECK_MAIN(datapoints_suite)
