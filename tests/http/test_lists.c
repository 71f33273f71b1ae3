/*
 * Black-box tests of keyset lists against the shared server: after/next cursors and the Link
 * header, sort, the creation-time, done, text (FTS5) and tag filters, and their bad inputs.
 */
#include "lt_test.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSWORD "lists-password-1"

/* POSTs body to path as u (asserting 201) and returns the new id. */
static long long create(const struct lt_user *u, const char *path, const char *body)
{
    struct lt_resp r;
    long long id;

    ck_assert_msg(lt_send(&r, "POST", path, u->token, body) == 201, "%s %s: %ld %s", path, body,
                  r.status, r.body);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    return id;
}

/* GETs a list (asserting 200 and the envelope); *r keeps the reply. */
static void list(struct lt_resp *r, const struct lt_user *u, const char *path)
{
    ck_assert_msg(lt_send(r, "GET", path, u->token, NULL) == 200, "%s: %ld %s", path, r->status,
                  r->body);
    ck_assert(json_is_array(json_object_get(r->j_body, "items")));
    ck_assert(json_is_integer(json_object_get(r->j_body, "total")));
    ck_assert_msg(json_object_get(r->j_body, "next") != NULL, "no next in %s", r->body);
}

/* The ids of a list reply's items, appended to ids (n in/out). */
static void collect(const struct lt_resp *r, long long *ids, size_t *n, size_t cap)
{
    const json_t *j_items = json_object_get(r->j_body, "items");
    size_t i;

    for (i = 0; i < json_array_size(j_items); i++) {
        ck_assert_uint_lt(*n, cap);
        ids[(*n)++] = json_integer_value(json_object_get(json_array_get(j_items, i), "id"));
    }
}

/*
 * Walks base (a path with a query) page by page through next, checking each Link header
 * against next, and writes every id in order into ids; returns how many. pages counts the
 * requests.
 */
static size_t walk(const struct lt_user *u, const char *base, long long *ids, size_t cap,
                   int *pages)
{
    char path[4096], link[4096];
    const char *next;
    struct lt_resp r;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s", base);
    *pages = 0;
    for (;;) {
        list(&r, u, path);
        (*pages)++;
        ck_assert_int_lt(*pages, 100);
        collect(&r, ids, &n, cap);
        next = json_string_value(json_object_get(r.j_body, "next"));
        if (next == NULL) {
            ck_assert(json_is_null(json_object_get(r.j_body, "next")));
            ck_assert_ptr_null(lt_header(&r, "link"));
            lt_resp_clear(&r);
            return n;
        }
        /* the Link header names the same next page, with the other parameters kept */
        ck_assert_ptr_nonnull(lt_header(&r, "link"));
        snprintf(link, sizeof(link), "after=%s>; rel=\"next\"", next);
        ck_assert_msg(strstr(lt_header(&r, "link"), link) != NULL, "%s", lt_header(&r, "link"));
        ck_assert_int_eq(lt_header(&r, "link")[0], '<');
        snprintf(path, sizeof(path), "%.*s",
                 (int)(strstr(lt_header(&r, "link"), ">") - 1 - lt_header(&r, "link")),
                 lt_header(&r, "link") + 1);
        /* following the Link itself, as a browser client would */
        ck_assert_msg(strstr(path, "limit=") != NULL && strstr(path, "offset=") == NULL, "%s",
                      path);
        lt_resp_clear(&r);
    }
}

static void expect_422(const struct lt_user *u, const char *path, const char *field)
{
    struct lt_resp r;

    lt_send(&r, "GET", path, u->token, NULL);
    ck_assert_msg(r.status == 422, "%s: %ld %s", path, r.status, r.body);
    lt_assert_422(&r, field, NULL);
    lt_resp_clear(&r);
}

/* A request that must be a 422 naming field. */
struct bad {
    const char *path, *field;
};

static void expect_422_all(const struct lt_user *u, const struct bad *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_422(u, cases[i].path, cases[i].field);
}

/* expect_422 for prefix followed by n letters (a value one over its declared length). */
static void expect_422_long(const struct lt_user *u, const char *prefix, size_t n,
                            const char *field)
{
    char path[4096];
    size_t len = strlen(prefix);

    ck_assert_uint_lt(len + n, sizeof(path));
    memcpy(path, prefix, len);
    memset(path + len, 'A', n);
    path[len + n] = '\0';
    expect_422(u, path, field);
}

START_TEST(numbers_walk_by_cursor)
{
    static const char *const values[] = {"5", "3", "9", "3", "7.5", "1", "9", "2"};
    long long made[8], ids[32], by_offset[32];
    struct lt_user u;
    struct lt_resp r;
    char path[256];
    size_t n, m = 0, i;
    int pages;

    lt_user_new(&u, "lists", PASSWORD);
    for (i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "{\"value\":%s}", values[i]);
        made[i] = create(&u, "/api/numbers", path);
    }
    /* default: id order, three pages of 3, 3, 2 */
    n = walk(&u, "/api/numbers?limit=3", ids, 32, &pages);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(pages, 3);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(ids[i], made[i]);
    /* a page of exactly the rest: the last full page still says there is no next */
    n = walk(&u, "/api/numbers?limit=4", ids, 32, &pages);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(pages, 2);
    /* by value descending, ties (9, 9 and 3, 3) by id descending; the same as offset pages */
    n = walk(&u, "/api/numbers?limit=2&sort=-value", ids, 32, &pages);
    ck_assert_uint_eq(n, 8);
    for (i = 0; i < 8; i += 3) {
        snprintf(path, sizeof(path), "/api/numbers?limit=3&offset=%zu&sort=-value", i);
        list(&r, &u, path);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 8);
        collect(&r, by_offset, &m, 32);
        lt_resp_clear(&r);
    }
    ck_assert_uint_eq(m, 8);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(ids[i], by_offset[i]);
    ck_assert_int_eq(ids[0], made[6]); /* 9 (the later one) */
    ck_assert_int_eq(ids[1], made[2]); /* 9 */
    ck_assert_int_eq(ids[2], made[4]); /* 7.5 */
    ck_assert_int_eq(ids[7], made[5]); /* 1 */
    /* ascending by value and by created_at: every id once */
    n = walk(&u, "/api/numbers?limit=3&sort=value", ids, 32, &pages);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(ids[0], made[5]);
    ck_assert_int_eq(ids[1], made[7]);
    n = walk(&u, "/api/numbers?limit=5&sort=-created_at", ids, 32, &pages);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(ids[0], made[7]);
    ck_assert_int_eq(ids[7], made[0]);
    /* a page of 0 only counts */
    list(&r, &u, "/api/numbers?limit=0");
    ck_assert(json_is_null(json_object_get(r.j_body, "next")));
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 8);
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

/* A cursor written by hand: base64url of text, without padding, into out. */
static void b64url(const char *text, char *out, size_t size)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t len = strlen(text), i, n = 0;

    for (i = 0; i < len && n + 5 < size; i += 3) {
        unsigned v = (unsigned char)text[i] << 16;
        v |= i + 1 < len ? (unsigned char)text[i + 1] << 8 : 0;
        v |= i + 2 < len ? (unsigned char)text[i + 2] : 0;
        out[n++] = abc[(v >> 18) & 63];
        out[n++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[n++] = abc[(v >> 6) & 63];
        if (i + 2 < len)
            out[n++] = abc[v & 63];
    }
    out[n] = '\0';
}

START_TEST(bad_cursors_and_sorts)
{
    static const struct bad bad_sorts[] = {
        {"/api/numbers?sort=nope", "sort"},    {"/api/numbers?sort=-nope", "sort"},
        {"/api/numbers?sort=-", "sort"},       {"/api/numbers?sort=VALUE", "sort"},
        {"/api/numbers?sort=title", "sort"},   {"/api/tasks?sort=value", "sort"},
        {"/api/datapoints?sort=title", "sort"}};
    static const char *const not_cursors[] = {"[\"id\",1]",      "{\"a\":1}",   "[\"id\",1,\"x\"]",
                                              "[\"id\",null,1]", "[\"id\",1,2", "[1,1,1]"};
    struct lt_user u;
    struct lt_resp r;
    char path[4096], cursor[512], *next;
    size_t i;

    lt_user_new(&u, "listbad", PASSWORD);
    create(&u, "/api/numbers", "{\"value\":1}");
    create(&u, "/api/numbers", "{\"value\":2}");
    list(&r, &u, "/api/numbers?limit=1&sort=-value");
    next = strdup(json_string_value(json_object_get(r.j_body, "next")));
    lt_resp_clear(&r);
    /* the cursor works with its own sort ... */
    snprintf(path, sizeof(path), "/api/numbers?limit=1&sort=-value&after=%s", next);
    list(&r, &u, path);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
    ck_assert_int_eq(json_integer_value(lt_path(r.j_body, "items.0.value")), 1);
    lt_resp_clear(&r);
    /* ... and is refused with another, or with offset/skip */
    snprintf(path, sizeof(path), "/api/numbers?after=%s", next);
    expect_422(&u, path, "after");
    snprintf(path, sizeof(path), "/api/numbers?sort=value&after=%s", next);
    expect_422(&u, path, "after");
    snprintf(path, sizeof(path), "/api/numbers?sort=-value&offset=0&after=%s", next);
    expect_422(&u, path, "after");
    snprintf(path, sizeof(path), "/api/numbers?sort=-value&skip=1&after=%s", next);
    expect_422(&u, path, "after");
    /* a numbers cursor is no tasks cursor (another sort: value) */
    snprintf(path, sizeof(path), "/api/tasks?sort=-value&after=%s", next);
    expect_422(&u, path, "sort");
    free(next);
    /* not base64url, not canonical, empty, too long, not the JSON of a cursor */
    expect_422(&u, "/api/numbers?after=%25%25%25", "after");
    expect_422(&u, "/api/numbers?after=WyJpZCIsMSwxXQ==", "after");
    expect_422(&u, "/api/numbers?after=", "after");
    expect_422_long(&u, "/api/numbers?after=", 2049, "after");
    for (i = 0; i < sizeof(not_cursors) / sizeof(not_cursors[0]); i++) {
        b64url(not_cursors[i], cursor, sizeof(cursor));
        snprintf(path, sizeof(path), "/api/numbers?after=%s", cursor);
        expect_422(&u, path, "after");
    }
    /* a well-formed cursor of the right sort whose values are odd: a page, never an error */
    b64url("[\"id\",\"text\",99999999]", cursor, sizeof(cursor));
    snprintf(path, sizeof(path), "/api/numbers?after=%s", cursor);
    list(&r, &u, path);
    lt_resp_clear(&r);
    /* sorts: unknown fields, a bare "-", case */
    expect_422_all(&u, bad_sorts, sizeof(bad_sorts) / sizeof(bad_sorts[0]));
    lt_user_clear(&u);
}
END_TEST

START_TEST(created_range)
{
    struct lt_user u;
    struct lt_resp r;
    char path[256], iso[32];
    time_t now = time(NULL);
    static const char *const bad[] = {"yesterday", "2024-02-30",           "2024-13-01T00:00:00Z",
                                      "1.5",       "2024-01-01T25:00:00Z", "+5"};
    size_t i;

    lt_user_new(&u, "listtime", PASSWORD);
    create(&u, "/api/numbers", "{\"value\":1}");
    create(&u, "/api/numbers", "{\"value\":2}");
    create(&u, "/api/tasks", "{\"title\":\"t1\"}");
    list(&r, &u, "/api/numbers?created_after=2000-01-01T00:00:00Z&created_before=9999-01-01");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 2);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/numbers?created_after=%lld", (long long)now + 5);
    list(&r, &u, path);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 0);
    lt_resp_clear(&r);
    /* exclusive bounds: created_before the creation second finds nothing, after it both */
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){now - 600}));
    snprintf(path, sizeof(path), "/api/numbers?created_before=%s", iso);
    list(&r, &u, path);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 0);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/numbers?limit=1&created_after=%s", iso);
    list(&r, &u, path);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 2);
    ck_assert(json_is_string(json_object_get(r.j_body, "next")));
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "link"), "created_after="));
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/tasks?created_after=%s&created_before=%lld", iso,
             (long long)now + 600);
    list(&r, &u, path);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    lt_resp_clear(&r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/numbers?created_after=%s", bad[i]);
        expect_422(&u, path, "created_after");
        snprintf(path, sizeof(path), "/api/tasks?created_before=%s", bad[i]);
        expect_422(&u, path, "created_before");
    }
    lt_user_clear(&u);
}
END_TEST

/* The titles of the tasks GET path finds, comma-separated, into out. */
static void titles(const struct lt_user *u, const char *path, char *out, size_t size)
{
    struct lt_resp r;
    const json_t *j_items;
    size_t i, n = 0;

    list(&r, u, path);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")),
                     (json_int_t)json_array_size(j_items));
    out[0] = '\0';
    for (i = 0; i < json_array_size(j_items); i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "," : "",
                              json_string_value(lt_path(json_array_get(j_items, i), "title")));
    lt_resp_clear(&r);
}

START_TEST(tasks_search_and_sort)
{
    static const struct {
        const char *path, *titles;
    } searches[] = {
        {"/api/tasks?q=milk", "Buy milk,milkshake,Zebra"},
        {"/api/tasks?q=MIL", "Buy milk,milkshake,Zebra"},    /* prefix, case-insensitive */
        {"/api/tasks?q=cafe", "Buy milk,Zebra"},             /* accents ignored, both fields */
        {"/api/tasks?q=caf%C3%A9%20milk", "Buy milk,Zebra"}, /* every word must match */
        {"/api/tasks?q=milk&sort=-title", "milkshake,Zebra,Buy milk"},
        {"/api/tasks?q=milk&done=true", ""},
        {"/api/tasks?q=mom&done=true", "Call mom"},
        /* FTS5 syntax is plain text here: operators, quotes, stars, colons, parentheses */
        {"/api/tasks?q=AND%20OR", "milkshake"},
        {"/api/tasks?q=%22milk", "Buy milk,milkshake,Zebra"},
        {"/api/tasks?q=title%3Amilk%20(%20*%20NEAR", ""},
        {"/api/tasks?q=-", ""},
    };
    struct lt_user u, other;
    size_t i;
    char got[512], path[128];
    long long milk;

    lt_user_new(&u, "listfts", PASSWORD);
    lt_user_new(&other, "listfts2", PASSWORD);
    milk = create(&u, "/api/tasks", "{\"title\":\"Buy milk\",\"description\":\"at the café\"}");
    create(&u, "/api/tasks", "{\"title\":\"Call mom\",\"done\":true}");
    create(&u, "/api/tasks", "{\"title\":\"milkshake\",\"description\":\"AND OR NEAR\"}");
    create(&u, "/api/tasks", "{\"title\":\"Zebra\",\"description\":\"milk the cafe\"}");
    create(&other, "/api/tasks", "{\"title\":\"Buy milk too\"}");

    for (i = 0; i < sizeof(searches) / sizeof(searches[0]); i++) {
        titles(&u, searches[i].path, got, sizeof(got));
        ck_assert_msg(strcmp(got, searches[i].titles) == 0, "%s: %s", searches[i].path, got);
    }
    /* the index follows changes: a new title, a deleted task */
    snprintf(path, sizeof(path), "/api/tasks/%lld", milk);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "{\"title\":\"Buy bread\"}"), 200);
    titles(&u, "/api/tasks?q=bread", got, sizeof(got));
    ck_assert_str_eq(got, "Buy bread");
    titles(&u, "/api/tasks?q=milk", got, sizeof(got));
    ck_assert_str_eq(got, "milkshake,Zebra");
    ck_assert_int_eq(lt_status("DELETE", path, u.token, NULL), 204);
    titles(&u, "/api/tasks?q=bread", got, sizeof(got));
    ck_assert_str_eq(got, "");
    /* sorted without a search: title, updated_at */
    titles(&u, "/api/tasks?sort=title", got, sizeof(got));
    ck_assert_str_eq(got, "Call mom,Zebra,milkshake");
    titles(&u, "/api/tasks?sort=-updated_at&limit=10", got, sizeof(got));
    ck_assert_uint_eq(strlen(got), strlen("Call mom,Zebra,milkshake"));
    /* bad searches */
    expect_422(&u, "/api/tasks?q=", "q");
    expect_422(&u, "/api/tasks?q=%20%20%09", "q");
    expect_422_long(&u, "/api/tasks?q=", 201, "q");
    expect_422(&u, "/api/tasks?q=milk&done=maybe", "done");
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

/* The ids of the points GET path (as admin) finds, comma-separated, into out. */
static void points(const struct lt_user *admin, const char *path, char *out, size_t size,
                   const long long *made)
{
    long long ids[64];
    size_t n = 0, i, k, w = 0;
    struct lt_resp r;

    list(&r, admin, path);
    collect(&r, ids, &n, 64);
    lt_resp_clear(&r);
    out[0] = '\0';
    for (i = 0; i < n; i++)
        for (k = 0; k < 5; k++)
            if (ids[i] == made[k])
                w += (size_t)snprintf(out + w, size - w, "%s%zu", w > 0 ? "," : "", k);
}

START_TEST(datapoints_tag_sort_cursor)
{
    /* Points in a second of 2001 no other test writes (each run its own minute of that day). */
    long long base = 978307200 + (long long)(time(NULL) % 1440) * 60, made[5], ids[16];
    struct lt_user admin = {0};
    struct lt_resp r;
    char body[1024], path[256], got[128];
    const json_t *j_items;
    size_t n, i;
    int pages;

    ck_assert_int_eq(lt_login(lt_base(), "admin", LT_ADMIN_PASSWORD, NULL, &admin.token, NULL), 0);
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,128,63],\"tags\":[\"kitchen\"]},"
             "{\"time\":%lld,\"value\":[0,0,0,64],\"tags\":[\"hall\",\"kitchen\"]},"
             "{\"time\":%lld,\"value\":[0,0,64,64],\"tags\":[\"hall\"]},"
             "{\"time\":%lld,\"value\":[0,0,128,64],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,160,64],\"tags\":[\"Kitchen\"]}]",
             base + 2, base + 1, base + 1, base + 3, base + 4);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/datapoints", admin.token, body), 201);
    lt_resp_clear(&r);
    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld", base, base + 59);
    list(&r, &admin, path);
    j_items = json_object_get(r.j_body, "items");
    ck_assert_int_eq(json_array_size(j_items), 5);
    /* time order: base+1 (two, in id order), +2, +3, +4 */
    made[1] = json_integer_value(lt_path(j_items, "0.id"));
    made[2] = json_integer_value(lt_path(j_items, "1.id"));
    made[0] = json_integer_value(lt_path(j_items, "2.id"));
    made[3] = json_integer_value(lt_path(j_items, "3.id"));
    made[4] = json_integer_value(lt_path(j_items, "4.id"));
    ck_assert_int_lt(made[1], made[2]);
    lt_resp_clear(&r);

    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld&tag=kitchen", base,
             base + 59);
    points(&admin, path, got, sizeof(got), made);
    ck_assert_str_eq(got, "1,0"); /* exact and case-sensitive: not "Kitchen" */
    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld&tag=hall&sort=-time", base,
             base + 59);
    points(&admin, path, got, sizeof(got), made);
    ck_assert_str_eq(got, "2,1"); /* the same second: id descending too */
    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld&sort=-id", base, base + 59);
    points(&admin, path, got, sizeof(got), made);
    ck_assert_str_eq(got, "4,3,2,1,0");
    /* pages of one through the same second and on: each point once, in time order */
    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld&limit=%zu%s", base,
                 base + 59, i + 1, i == 0 ? "" : "&sort=-time");
        n = walk(&admin, path, ids, 16, &pages);
        ck_assert_uint_eq(n, 5);
        ck_assert_int_eq(ids[0], i == 0 ? made[1] : made[4]);
        ck_assert_int_eq(ids[1], i == 0 ? made[2] : made[3]);
        ck_assert_int_eq(ids[4], i == 0 ? made[4] : made[1]);
    }
    expect_422(&admin, "/api/datapoints?tag=", "tag");
    expect_422(&admin, "/api/datapoints?start=2001-02-29", "start");
    lt_user_clear(&admin);
}
END_TEST

/* Asserts one bucket of a series reply: its time (Unix seconds), count, min, max, mean. */
static void bucket_is(const json_t *j_item, long long t, long long count, double min, double max,
                      double mean)
{
    char iso[32];
    time_t tt = (time_t)t;

    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "time")), iso);
    ck_assert_int_eq(json_integer_value(json_object_get(j_item, "count")), count);
    ck_assert_double_eq(json_number_value(json_object_get(j_item, "min")), min);
    ck_assert_double_eq(json_number_value(json_object_get(j_item, "max")), max);
    ck_assert_double_eq_tol(json_number_value(json_object_get(j_item, "mean")), mean, 1e-12);
}

/*
 * GETs the series of start..end by bucket as token, asserts 200 and n buckets, and returns them
 * (borrowed from *r, which the caller clears).
 */
static const json_t *series_get(struct lt_resp *r, const char *token, long long start,
                                long long end, const char *bucket, size_t n)
{
    char path[256];
    const json_t *j_items;

    snprintf(path, sizeof(path), "/api/datapoints/series?start=%lld&end=%lld&bucket=%s", start, end,
             bucket);
    ck_assert_int_eq(lt_send(r, "GET", path, token, NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r->j_body, "bucket")), bucket);
    j_items = json_object_get(r->j_body, "items");
    ck_assert_uint_eq(json_array_size(j_items), n);
    return j_items;
}

START_TEST(datapoints_series)
{
    static const struct bad bad_series[] = {
        {"/api/datapoints/series?start=0&end=60", "bucket"},
        {"/api/datapoints/series?start=0&end=60&bucket=1w", "bucket"},
        {"/api/datapoints/series?start=0&end=60&bucket=60", "bucket"},
        {"/api/datapoints/series?end=60&bucket=1m", "start"},
        {"/api/datapoints/series?start=0&bucket=1m", "end"},
        {"/api/datapoints/series?start=tomorrow&end=60&bucket=1m", "start"},
        {"/api/datapoints/series?start=120&end=60&bucket=1m", "end"},
        {"/api/datapoints/series?start=0&end=600000&bucket=1m", "bucket"}};
    /*
     * A day of its own per run in 2090-2098, aligned on a day (so on an hour and a minute): in
     * the future, so the points are not "too old" (invalid) and no other test's range meets it.
     */
    long long base = 3786825600LL + (long long)(time(NULL) % 3000) * 86400;
    struct lt_user admin = {0}, user;
    struct lt_resp r;
    char body[1024];
    const json_t *j_items;
    int who;

    ck_assert_int_eq(lt_login(lt_base(), "admin", LT_ADMIN_PASSWORD, NULL, &admin.token, NULL), 0);
    lt_user_new(&user, "series", PASSWORD);
    /* 1.0 and 2.0 in the first minute, 4.0 in the second, 10.0 invalid, 8.0 in the next hour;
     * a point the day before and one the day after, outside every range below */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,128,63],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,0,64],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,128,64],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,32,65],\"tags\":[\"system\"]},"
             "{\"time\":%lld,\"value\":[0,0,0,65],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,0,65],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,0,65],\"tags\":[]}]",
             base, base + 30, base + 61, base + 62, base + 3700, base - 1, base + 86400);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/datapoints", admin.token, body), 201);
    lt_resp_clear(&r);
    for (who = 0; who < 2; who++) {
        const struct lt_user *u = who == 0 ? &admin : &user;
        j_items = series_get(&r, u->token, base, base + 3599, "1m", 2);
        bucket_is(json_array_get(j_items, 0), base, 2, 1.0, 2.0, 1.5);
        bucket_is(json_array_get(j_items, 1), base + 60, 1, 4.0, 4.0, 4.0);
        lt_resp_clear(&r);
        j_items = series_get(&r, u->token, base, base + 7199, "1h", 2);
        bucket_is(json_array_get(j_items, 0), base, 3, 1.0, 4.0, 7.0 / 3);
        bucket_is(json_array_get(j_items, 1), base + 3600, 1, 8.0, 8.0, 8.0);
        lt_resp_clear(&r);
    }
    /* a day (the range is inclusive), and a range that cuts a bucket counts only its part */
    j_items = series_get(&r, user.token, base, base + 86399, "1d", 1);
    bucket_is(json_array_get(j_items, 0), base, 4, 1.0, 8.0, 15.0 / 4);
    lt_resp_clear(&r);
    j_items = series_get(&r, user.token, base + 31, base + 61, "1m", 1);
    bucket_is(json_array_get(j_items, 0), base + 60, 1, 4.0, 4.0, 4.0);
    lt_resp_clear(&r);
    /* bad inputs; 10 001 minutes is one bucket too many, 10 000 are fine */
    expect_422_all(&user, bad_series, sizeof(bad_series) / sizeof(bad_series[0]));
    ck_assert_int_eq(
        lt_status("GET", "/api/datapoints/series?start=0&end=599999&bucket=1m", user.token, NULL),
        200);
    ck_assert_int_eq(
        lt_status("GET", "/api/datapoints/series?start=0&end=60&bucket=1m", NULL, NULL), 401);
    lt_user_clear(&admin);
    lt_user_clear(&user);
}
END_TEST

/*
 * min, max and mean are never null, so the schema declares plain numbers: a float32 infinity is
 * stored tagged "not finite", which makes it invalid, and a bucket without a valid point is
 * left out rather than answered with nulls (schema.replies checks this reply too).
 */
START_TEST(datapoints_series_not_finite)
{
    /* a day of its own per run in 2190-2198, as datapoints_series's (which uses 2090-2098) */
    long long base = 6942499200LL + (long long)(time(NULL) % 3000) * 86400;
    struct lt_user admin = {0};
    struct lt_resp r;
    char body[512];
    const json_t *j_items;

    ck_assert_int_eq(lt_login(lt_base(), "admin", LT_ADMIN_PASSWORD, NULL, &admin.token, NULL), 0);
    /* +infinity and 1.0 in the first minute, -infinity alone in the second, 2.0 in the third */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,128,127],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,128,63],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,128,255],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,0,64],\"tags\":[]}]",
             base, base + 1, base + 60, base + 120);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/datapoints", admin.token, body), 201);
    lt_resp_clear(&r);
    j_items = series_get(&r, admin.token, base, base + 179, "1m", 2);
    bucket_is(json_array_get(j_items, 0), base, 1, 1.0, 1.0, 1.0);
    bucket_is(json_array_get(j_items, 1), base + 120, 1, 2.0, 2.0, 2.0);
    lt_resp_clear(&r);
    lt_user_clear(&admin);
}
END_TEST

static Suite *lists_suite(void)
{
    Suite *s = suite_create("lists");
    TCase *tc = tcase_create("http");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, numbers_walk_by_cursor);
    tcase_add_test(tc, bad_cursors_and_sorts);
    tcase_add_test(tc, created_range);
    tcase_add_test(tc, tasks_search_and_sort);
    tcase_add_test(tc, datapoints_tag_sort_cursor);
    tcase_add_test(tc, datapoints_series);
    tcase_add_test(tc, datapoints_series_not_finite);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(lists_suite)
