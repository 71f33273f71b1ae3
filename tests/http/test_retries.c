/*
 * Safe retries and concurrent edits, black-box: Idempotency-Key on creating POSTs, ETag with
 * If-None-Match (304) and If-Match (412, the two-devices lost update), idempotent bulk ingest.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapoints_sim.h"
#include "lt_test.h"

#define PASSWORD "retries-password-1"

/* A JSON request with extra headers ("Name: value", NULL-terminated) to base. */
static long send_at(const char *base, struct lt_resp *r, const char *method, const char *path,
                    const char *token, const char *body, const char *const *headers)
{
    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(lt_request(base, method, path, token, body != NULL ? "application/json" : NULL,
                                body, body != NULL ? strlen(body) : 0, headers, r),
                     0);
    return r->status;
}

static long send_h(struct lt_resp *r, const char *method, const char *path, const char *token,
                   const char *body, const char *const *headers)
{
    return send_at(lt_base(), r, method, path, token, body, headers);
}

/* "Name: value" in buf. */
static const char *hdr(char *buf, size_t size, const char *name, const char *value)
{
    snprintf(buf, size, "%s: %s", name, value);
    return buf;
}

/* The total of a list (GET path). */
static long long total_of(const struct lt_user *u, const char *path)
{
    struct lt_resp r;
    long long total;

    ck_assert_int_eq(lt_send(&r, "GET", path, u->token, NULL), 200);
    total = (long long)json_integer_value(json_object_get(r.j_body, "total"));
    lt_resp_clear(&r);
    return total;
}

static char *key_new(void)
{
    return lt_unique("idem");
}

/* A new user and a new Idempotency-Key header for it. */
struct keyed {
    struct lt_user u;
    char *key;
    char h[300];
    const char *headers[2];
};

static void keyed_new(struct keyed *k, const char *prefix)
{
    lt_user_new(&k->u, prefix, PASSWORD);
    k->key = key_new();
    k->headers[0] = hdr(k->h, sizeof(k->h), "Idempotency-Key", k->key);
    k->headers[1] = NULL;
}

static void keyed_clear(struct keyed *k)
{
    free(k->key);
    lt_user_clear(&k->u);
}

/* ---- Idempotency-Key ---- */

START_TEST(test_idempotency_replays_first_reply)
{
    struct keyed k;
    struct lt_resp a, b;
    const char *body = "{\"title\":\"Retried\",\"description\":\"sent twice\"}";

    keyed_new(&k, "idem");
    ck_assert_int_eq(send_h(&a, "POST", "/api/tasks", k.u.token, body, k.headers), 201);
    ck_assert_ptr_nonnull(lt_header(&a, "Location"));
    ck_assert_ptr_null(lt_header(&a, "Idempotent-Replayed"));
    ck_assert_int_eq(send_h(&b, "POST", "/api/tasks", k.u.token, body, k.headers), 201);
    /* the first reply, byte for byte, with its Location; nothing created again */
    ck_assert_str_eq(b.body, a.body);
    ck_assert_str_eq(lt_header(&b, "Location"), lt_header(&a, "Location"));
    ck_assert_str_eq(lt_header(&b, "Content-Type"), "application/json");
    ck_assert_str_eq(lt_header(&b, "Idempotent-Replayed"), "true");
    ck_assert_int_eq(total_of(&k.u, "/api/tasks"), 1);
    lt_resp_clear(&a);
    lt_resp_clear(&b);
    /* without a key, a retry creates again (the baseline the key protects from) */
    ck_assert_int_eq(lt_status("POST", "/api/tasks", k.u.token, body), 201);
    ck_assert_int_eq(lt_status("POST", "/api/tasks", k.u.token, body), 201);
    ck_assert_int_eq(total_of(&k.u, "/api/tasks"), 3);
    keyed_clear(&k);
}
END_TEST

START_TEST(test_idempotency_keeps_statistics)
{
    struct keyed k;
    struct lt_resp r;
    int i;

    keyed_new(&k, "idemst");
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(send_h(&r, "POST", "/api/numbers", k.u.token, "{\"value\":7}", k.headers),
                         201);
        lt_resp_clear(&r);
    }
    ck_assert_int_eq(lt_send(&r, "GET", "/api/numbers/stats", k.u.token, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "count")), 1);
    lt_resp_clear(&r);
    keyed_clear(&k);
}
END_TEST

START_TEST(test_idempotency_other_request_is_422)
{
    struct keyed k;
    struct lt_resp r;

    keyed_new(&k, "idem422");
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", k.u.token, "{\"title\":\"one\"}", k.headers),
                     201);
    lt_resp_clear(&r);
    /* another body */
    send_h(&r, "POST", "/api/tasks", k.u.token, "{\"title\":\"two\"}", k.headers);
    lt_assert_422(&r, "Idempotency-Key", NULL);
    ck_assert_ptr_nonnull(strstr(lt_path_str(r.j_body, "detail"), "Idempotency-Key"));
    lt_resp_clear(&r);
    /* another path, same body text */
    send_h(&r, "POST", "/api/numbers", k.u.token, "{\"title\":\"one\"}", k.headers);
    lt_assert_422(&r, "Idempotency-Key", NULL);
    lt_resp_clear(&r);
    ck_assert_int_eq(total_of(&k.u, "/api/tasks"), 1);
    ck_assert_int_eq(total_of(&k.u, "/api/numbers"), 0);
    keyed_clear(&k);
}
END_TEST

START_TEST(test_idempotency_keys_are_per_user)
{
    struct lt_user a, b;
    struct lt_resp ra, rb;
    char *key = key_new(), h[300];
    const char *headers[] = {hdr(h, sizeof(h), "Idempotency-Key", key), NULL};
    const char *body = "{\"title\":\"same key, two users\"}";

    lt_user_new(&a, "idema", PASSWORD);
    lt_user_new(&b, "idemb", PASSWORD);
    ck_assert_int_eq(send_h(&ra, "POST", "/api/tasks", a.token, body, headers), 201);
    ck_assert_int_eq(send_h(&rb, "POST", "/api/tasks", b.token, body, headers), 201);
    ck_assert_ptr_null(lt_header(&rb, "Idempotent-Replayed"));
    ck_assert_int_ne(json_integer_value(json_object_get(ra.j_body, "id")),
                     json_integer_value(json_object_get(rb.j_body, "id")));
    ck_assert_int_eq(total_of(&a, "/api/tasks"), 1);
    ck_assert_int_eq(total_of(&b, "/api/tasks"), 1);
    lt_resp_clear(&ra);
    lt_resp_clear(&rb);
    free(key);
    lt_user_clear(&a);
    lt_user_clear(&b);
}
END_TEST

START_TEST(test_idempotency_bad_keys)
{
    struct lt_user u;
    struct lt_resp r;
    char longkey[300], h[400];
    const char *headers[] = {h, NULL};

    lt_user_new(&u, "idembad", PASSWORD);
    memset(longkey, 'k', 256);
    longkey[256] = '\0';
    hdr(h, sizeof(h), "Idempotency-Key", longkey);
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", u.token, "{\"title\":\"t\"}", headers), 400);
    ck_assert_str_eq(lt_path_str(r.j_body, "errors.0.field"), "Idempotency-Key");
    ck_assert_ptr_nonnull(strstr(lt_path_str(r.j_body, "detail"), "255"));
    lt_resp_clear(&r);
    hdr(h, sizeof(h), "Idempotency-Key", "caf\xc3\xa9");
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", u.token, "{\"title\":\"t\"}", headers), 400);
    lt_resp_clear(&r);
    snprintf(h, sizeof(h), "Idempotency-Key;"); /* curl: the header, empty */
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", u.token, "{\"title\":\"t\"}", headers), 400);
    lt_resp_clear(&r);
    ck_assert_int_eq(total_of(&u, "/api/tasks"), 0);
    /* 255 characters is the longest accepted */
    longkey[255] = '\0';
    hdr(h, sizeof(h), "Idempotency-Key", longkey);
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", u.token, "{\"title\":\"t\"}", headers), 201);
    lt_resp_clear(&r);
    ck_assert_int_eq(send_h(&r, "POST", "/api/tasks", u.token, "{\"title\":\"t\"}", headers), 201);
    ck_assert_str_eq(lt_header(&r, "Idempotent-Replayed"), "true");
    lt_resp_clear(&r);
    ck_assert_int_eq(total_of(&u, "/api/tasks"), 1);
    /* a GET ignores the header */
    ck_assert_int_eq(send_h(&r, "GET", "/api/tasks", u.token, NULL, headers), 200);
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(test_idempotency_failed_request_frees_key)
{
    struct keyed k;
    struct lt_resp r;

    keyed_new(&k, "idemfail");
    send_h(&r, "POST", "/api/tasks", k.u.token, "{\"title\":\"   \"}", k.headers);
    lt_assert_422(&r, "title", NULL);
    lt_resp_clear(&r);
    /* nothing was created: the corrected request may use the same key */
    ck_assert_int_eq(
        send_h(&r, "POST", "/api/tasks", k.u.token, "{\"title\":\"fixed\"}", k.headers), 201);
    ck_assert_ptr_null(lt_header(&r, "Idempotent-Replayed"));
    lt_resp_clear(&r);
    ck_assert_int_eq(total_of(&k.u, "/api/tasks"), 1);
    keyed_clear(&k);
}
END_TEST

START_TEST(test_idempotency_secret_replies_not_kept)
{
    struct lt_resp a, b;
    char *token = NULL, *key = key_new(), h[300];
    const char *headers[] = {hdr(h, sizeof(h), "Idempotency-Key", key), NULL};

    ck_assert_int_eq(lt_login(lt_base(), "admin", LT_ADMIN_PASSWORD, NULL, &token, NULL), 0);
    ck_assert_int_eq(send_h(&a, "POST", "/api/auth/invites", token, NULL, headers), 201);
    ck_assert_int_eq(send_h(&b, "POST", "/api/auth/invites", token, NULL, headers), 201);
    /* an invitation code is shown once: never stored for a replay */
    ck_assert_str_ne(lt_path_str(a.j_body, "code"), lt_path_str(b.j_body, "code"));
    ck_assert_ptr_null(lt_header(&b, "Idempotent-Replayed"));
    lt_resp_clear(&a);
    lt_resp_clear(&b);
    free(token);
    free(key);
}
END_TEST

/* ---- ETag, If-None-Match, If-Match ---- */

/* Sends method path with one header name: value and body (NULL: none); asserts status. */
static void expect_status(const char *token, const char *method, const char *path, const char *name,
                          const char *value, const char *body, long status)
{
    struct lt_resp r;
    char h[256];
    const char *headers[] = {hdr(h, sizeof(h), name, value), NULL};

    ck_assert_msg(send_h(&r, method, path, token, body, headers) == status,
                  "%s %s with %s: %s: %ld, not %ld", method, path, name, value, r.status, status);
    lt_resp_clear(&r);
}

/*
 * method path with a stale If-Match: 412, a problem naming If-Match whose detail gives the
 * current tag, the one in the reply's ETag, copied into now.
 */
static void expect_stale(const char *token, const char *method, const char *path, const char *stale,
                         const char *body, char *now, size_t size)
{
    struct lt_resp r;
    char h[256];
    const char *headers[] = {hdr(h, sizeof(h), "If-Match", stale), NULL}, *e, *detail;

    ck_assert_int_eq(send_h(&r, method, path, token, body, headers), 412);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/problem+json");
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "status")), 412);
    e = lt_header(&r, "ETag");
    detail = lt_path_str(r.j_body, "detail");
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(detail);
    ck_assert_msg(strstr(detail, "If-Match") != NULL && strstr(detail, e) != NULL, "%s", detail);
    snprintf(now, size, "%s", e);
    lt_resp_clear(&r);
}

/* GETs path and copies its ETag into etag (asserting 200 and a strong tag). */
static void etag_get(const struct lt_user *u, const char *path, char *etag, size_t size)
{
    struct lt_resp r;
    const char *e;

    ck_assert_int_eq(send_h(&r, "GET", path, u->token, NULL, NULL), 200);
    e = lt_header(&r, "ETag");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(e[0] == '"' && e[strlen(e) - 1] == '"' && strlen(e) == 24, "etag %s", e);
    snprintf(etag, size, "%s", e);
    lt_resp_clear(&r);
}

static long long task_new(const struct lt_user *u, const char *body)
{
    struct lt_resp r;
    long long id;

    ck_assert_int_eq(lt_send(&r, "POST", "/api/tasks", u->token, body), 201);
    id = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    return id;
}

START_TEST(test_etag_if_none_match_304)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], etag[64], weak[80], h[128];
    const char *headers[] = {h, NULL};
    long long id;

    lt_user_new(&u, "etag", PASSWORD);
    id = task_new(&u, "{\"title\":\"cache me\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    etag_get(&u, path, etag, sizeof(etag));
    hdr(h, sizeof(h), "If-None-Match", etag);
    ck_assert_int_eq(send_h(&r, "GET", path, u.token, NULL, headers), 304);
    ck_assert_int_eq(r.len, 0);
    ck_assert_str_eq(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    /* weak comparison: W/ matches too; so does a list holding it, and * */
    snprintf(weak, sizeof(weak), "\"other\", W/%s", etag);
    expect_status(u.token, "GET", path, "If-None-Match", weak, NULL, 304);
    expect_status(u.token, "GET", path, "If-None-Match", "*", NULL, 304);
    expect_status(u.token, "GET", path, "If-None-Match", "\"not-it\"", NULL, 200);
    /* two field lines are one list; the tag in the second counts */
    {
        char first[64], second[96];
        const char *two[] = {first, second, NULL};

        hdr(first, sizeof(first), "If-None-Match", "\"not-it\"");
        hdr(second, sizeof(second), "If-None-Match", etag);
        ck_assert_int_eq(send_h(&r, "GET", path, u.token, NULL, two), 304);
        lt_resp_clear(&r);
    }
    /* a change gives another tag, and the old one no longer answers 304 */
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "{\"done\":true}"), 200);
    hdr(h, sizeof(h), "If-None-Match", etag);
    ck_assert_int_eq(send_h(&r, "GET", path, u.token, NULL, headers), 200);
    ck_assert_str_ne(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    /* malformed */
    hdr(h, sizeof(h), "If-None-Match", "no-quotes");
    ck_assert_int_eq(send_h(&r, "GET", path, u.token, NULL, headers), 400);
    ck_assert_str_eq(lt_path_str(r.j_body, "errors.0.field"), "If-None-Match");
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

START_TEST(test_etag_lists_and_stats)
{
    struct lt_user u;
    struct lt_resp r;
    char list[64], stats[64], again[64], h[128];
    const char *headers[] = {h, NULL};

    lt_user_new(&u, "etagl", PASSWORD);
    task_new(&u, "{\"title\":\"one\"}");
    etag_get(&u, "/api/tasks", list, sizeof(list));
    hdr(h, sizeof(h), "If-None-Match", list);
    ck_assert_int_eq(send_h(&r, "GET", "/api/tasks", u.token, NULL, headers), 304);
    lt_resp_clear(&r);
    task_new(&u, "{\"title\":\"two\"}");
    ck_assert_int_eq(send_h(&r, "GET", "/api/tasks", u.token, NULL, headers), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 2);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":2}"), 201);
    etag_get(&u, "/api/numbers/stats", stats, sizeof(stats));
    etag_get(&u, "/api/numbers/stats", again, sizeof(again));
    ck_assert_str_eq(stats, again);
    ck_assert_int_eq(lt_status("POST", "/api/numbers", u.token, "{\"value\":3}"), 201);
    etag_get(&u, "/api/numbers/stats", again, sizeof(again));
    ck_assert_str_ne(stats, again);
    lt_user_clear(&u);
}
END_TEST

/* Asserts that path's ETag is (same true) or is not the one in etag. */
static void etag_expect(const struct lt_user *u, const char *path, const char *etag, bool same)
{
    char now[64];

    etag_get(u, path, now, sizeof(now));
    ck_assert_msg(same == (strcmp(now, etag) == 0), "%s: %s against %s", path, now, etag);
}

/*
 * Tags from versions (numbers, tasks: a row's version, the user's list counter): they stay
 * while nothing changes, move with the row or list they describe and only with it, and
 * differ between queries, pages and users; a matching list is a 304 without its page.
 */
START_TEST(test_etag_from_versions)
{
    struct lt_user u, v;
    struct lt_resp r;
    char list[64], page[64], n1[64], n2[64], task[64], tasks[64], other[64], h[128], path[64];
    const char *headers[] = {h, NULL};
    long long id1, id2, tid;

    lt_user_new(&u, "etagv", PASSWORD);
    lt_user_new(&v, "etagw", PASSWORD);
    /* two users with nothing yet: the same version, the same query, not the same tag */
    etag_get(&u, "/api/numbers", list, sizeof(list));
    etag_get(&v, "/api/numbers", other, sizeof(other));
    ck_assert_str_ne(list, other);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":1}"), 201);
    id1 = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_send(&r, "POST", "/api/numbers", u.token, "{\"value\":2}"), 201);
    id2 = json_integer_value(json_object_get(r.j_body, "id"));
    lt_resp_clear(&r);
    etag_expect(&u, "/api/numbers", list, false);

    /* the list: the same while nothing changes, another per query, undeclared ones aside */
    etag_get(&u, "/api/numbers", list, sizeof(list));
    etag_expect(&u, "/api/numbers", list, true);
    etag_expect(&u, "/api/numbers?unknown=1", list, true);
    etag_get(&u, "/api/numbers?limit=1", page, sizeof(page));
    ck_assert_str_ne(page, list);
    etag_expect(&u, "/api/numbers?limit=1", page, true);
    etag_expect(&u, "/api/numbers?limit=1&sort=-id", page, false);
    etag_expect(&u, "/api/numbers?created_after=2000-01-01", list, false);
    /* 304 with the tag, no body; another user's tag is no match */
    hdr(h, sizeof(h), "If-None-Match", list);
    ck_assert_int_eq(send_h(&r, "GET", "/api/numbers", u.token, NULL, headers), 304);
    ck_assert_int_eq(r.len, 0);
    ck_assert_str_eq(lt_header(&r, "ETag"), list);
    lt_resp_clear(&r);
    ck_assert_int_eq(send_h(&r, "GET", "/api/numbers", v.token, NULL, headers), 200);
    lt_resp_clear(&r);
    hdr(h, sizeof(h), "If-None-Match", other);
    ck_assert_int_eq(send_h(&r, "GET", "/api/numbers", v.token, NULL, headers), 304);
    lt_resp_clear(&r);

    /* one number: its own version; another number's change leaves it */
    snprintf(path, sizeof(path), "/api/numbers/%lld", id1);
    etag_get(&u, path, n1, sizeof(n1));
    etag_expect(&u, path, n1, true);
    snprintf(path, sizeof(path), "/api/numbers/%lld", id2);
    etag_get(&u, path, n2, sizeof(n2));
    ck_assert_str_ne(n1, n2);
    ck_assert_int_eq(lt_status("PUT", path, u.token, "{\"value\":5}"), 200);
    etag_expect(&u, path, n2, false);
    snprintf(path, sizeof(path), "/api/numbers/%lld", id1);
    etag_expect(&u, path, n1, true);
    etag_expect(&u, "/api/numbers", list, false);
    etag_expect(&u, "/api/numbers?limit=1", page, false);
    /* the other user's writes change nothing of this user's */
    etag_get(&u, "/api/numbers", list, sizeof(list));
    ck_assert_int_eq(lt_status("POST", "/api/numbers", v.token, "{\"value\":3}"), 201);
    etag_expect(&u, "/api/numbers", list, true);
    etag_expect(&u, path, n1, true);
    /* a delete moves the list's tag */
    snprintf(path, sizeof(path), "/api/numbers/%lld", id2);
    ck_assert_int_eq(lt_status("DELETE", path, u.token, NULL), 204);
    etag_expect(&u, "/api/numbers", list, false);

    /* tasks: a title edit (which moves no count) moves the task's tag and the list's */
    tid = task_new(&u, "{\"title\":\"first\"}");
    task_new(&u, "{\"title\":\"second\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld", tid);
    etag_get(&u, path, task, sizeof(task));
    etag_get(&u, "/api/tasks", tasks, sizeof(tasks));
    etag_expect(&u, "/api/tasks", tasks, true);
    etag_expect(&u, "/api/tasks?done=false", tasks, false);
    ck_assert_int_eq(lt_status("PATCH", path, u.token, "{\"title\":\"renamed\"}"), 200);
    etag_expect(&u, path, task, false);
    etag_expect(&u, "/api/tasks", tasks, false);
    etag_get(&u, "/api/tasks", tasks, sizeof(tasks));
    hdr(h, sizeof(h), "If-None-Match", tasks);
    ck_assert_int_eq(send_h(&r, "GET", "/api/tasks", u.token, NULL, headers), 304);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("DELETE", path, u.token, NULL), 204);
    ck_assert_int_eq(send_h(&r, "GET", "/api/tasks", u.token, NULL, headers), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    lt_resp_clear(&r);
    lt_user_clear(&v);
    lt_user_clear(&u);
}
END_TEST

/* Two devices read a task, both edit it: the second edit is refused, not silently lost. */
START_TEST(test_if_match_two_devices)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], seen_a[64], seen_b[80], now[64], h[128];
    const char *headers[] = {h, NULL};
    long long id;

    lt_user_new(&u, "ifm", PASSWORD);
    id = task_new(&u, "{\"title\":\"shared\",\"description\":\"start\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    etag_get(&u, path, seen_a, sizeof(seen_a)); /* device A */
    etag_get(&u, path, seen_b, sizeof(seen_b)); /* device B */
    ck_assert_str_eq(seen_a, seen_b);
    expect_status(u.token, "PATCH", path, "If-Match", seen_a, "{\"done\":true}", 200);
    expect_stale(u.token, "PATCH", path, seen_b, "{\"description\":\"B's\"}", now, sizeof(now));
    /* B's edit was not applied; A's stays */
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "description"), "start");
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    ck_assert_str_eq(lt_header(&r, "ETag"), now);
    lt_resp_clear(&r);
    /* B reads again and retries with the new tag */
    hdr(h, sizeof(h), "If-Match", now);
    ck_assert_int_eq(send_h(&r, "PATCH", path, u.token, "{\"description\":\"B's\"}", headers), 200);
    ck_assert_str_eq(lt_path_str(r.j_body, "description"), "B's");
    ck_assert(json_is_true(json_object_get(r.j_body, "done")));
    lt_resp_clear(&r);
    /* PUT and DELETE too; a weak tag never matches (strong comparison) */
    etag_get(&u, path, now, sizeof(now));
    hdr(h, sizeof(h), "If-Match", seen_a);
    ck_assert_int_eq(send_h(&r, "PUT", path, u.token,
                            "{\"title\":\"x\",\"description\":null,\"done\":false}", headers),
                     412);
    lt_resp_clear(&r);
    snprintf(seen_b, sizeof(seen_b), "W/%s", now);
    expect_status(u.token, "DELETE", path, "If-Match", seen_b, NULL, 412);
    expect_status(u.token, "DELETE", path, "If-Match", now, NULL, 204);
    /* gone: the GET twin's 404, not a 412 */
    expect_status(u.token, "DELETE", path, "If-Match", "*", NULL, 404);
    lt_user_clear(&u);
}
END_TEST

/*
 * Sends method path (If-Match: if_match unless NULL) and asserts status 200 and an ETag equal
 * to the one GET gives now; copies it into etag: the next conditional edit needs no GET.
 */
static void write_tag(const struct lt_user *u, const char *method, const char *path,
                      const char *if_match, const char *body, char *etag, size_t size)
{
    struct lt_resp r;
    char h[128], now[64];
    const char *headers[] = {if_match != NULL ? hdr(h, sizeof(h), "If-Match", if_match) : NULL,
                             NULL};
    const char *e;

    ck_assert_int_eq(send_h(&r, method, path, u->token, body, headers), 200);
    e = lt_header(&r, "ETag");
    ck_assert_msg(e != NULL, "%s %s: no ETag", method, path);
    snprintf(etag, size, "%s", e);
    lt_resp_clear(&r);
    etag_get(u, path, now, sizeof(now));
    ck_assert_str_eq(etag, now);
}

/* A PUT/PATCH reply carries the new representation's ETag, so edits chain without a GET. */
START_TEST(test_write_reply_etag)
{
    struct lt_user u;
    struct lt_resp r;
    char path[64], first[64], second[64], third[64], email[192];
    long long id;

    lt_user_new(&u, "wetag", PASSWORD);
    id = task_new(&u, "{\"title\":\"chain\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    write_tag(&u, "PATCH", path, NULL, "{\"done\":true}", first, sizeof(first));
    write_tag(&u, "PATCH", path, first, "{\"description\":\"d\"}", second, sizeof(second));
    ck_assert_str_ne(first, second);
    write_tag(&u, "PUT", path, second, "{\"title\":\"t\",\"description\":null,\"done\":false}",
              third, sizeof(third));
    /* the tag before the last edit no longer matches */
    expect_status(u.token, "PATCH", path, "If-Match", second, "{\"done\":true}", 412);
    /* a failed write carries none */
    ck_assert_int_eq(lt_send(&r, "PATCH", path, u.token, "{\"title\":\"\"}"), 422);
    ck_assert_ptr_null(lt_header(&r, "ETag"));
    lt_resp_clear(&r);
    /* another plugin's resource, whose PATCH reply is not what GET gives, gets GET's tag */
    snprintf(email, sizeof(email),
             "{\"email\":\"%s@example.test\",\"current_password\":\"" PASSWORD "\"}", u.username);
    write_tag(&u, "PATCH", "/api/users/me", NULL, email, first, sizeof(first));
    ck_assert_int_eq(send_h(&r, "DELETE", path, u.token, NULL, NULL), 204);
    ck_assert_ptr_null(lt_header(&r, "ETag"));
    lt_resp_clear(&r);
    lt_user_clear(&u);
}
END_TEST

/* Another plugin's resource gets the same checks without code of its own: the user record. */
START_TEST(test_if_match_user_record)
{
    struct lt_user u;
    char etag[64], stale[64], email[192];

    lt_user_new(&u, "ifmuser", PASSWORD);
    etag_get(&u, "/api/users/me", stale, sizeof(stale));
    snprintf(email, sizeof(email),
             "{\"email\":\"%s@example.test\",\"current_password\":\"" PASSWORD "\"}", u.username);
    expect_status(u.token, "PATCH", "/api/users/me", "If-Match", stale, email, 200);
    expect_status(u.token, "PATCH", "/api/users/me", "If-Match", stale,
                  "{\"email\":null,\"current_password\":\"" PASSWORD "\"}", 412);
    etag_get(&u, "/api/users/me", etag, sizeof(etag));
    ck_assert_str_ne(etag, stale);
    expect_status(u.token, "DELETE", "/api/users/me", "If-Match", stale, NULL, 412);
    expect_status(u.token, "DELETE", "/api/users/me", "If-Match", etag, NULL, 204);
    lt_user_clear(&u);
}
END_TEST

/*
 * The host's transaction opens at the handler's first write, so a new password is hashed
 * before it (heavy_begin refuses to run inside a write transaction: a 500, not a silent stall
 * of every writer), with and without If-Match; a stale tag still changes nothing, also for a
 * PATCH that writes nothing.
 */
START_TEST(test_if_match_hash_before_lock)
{
    struct lt_user u, v;
    char etag[64], stale[64], now[64], path[64], *token = NULL, *other = NULL;

    lt_user_new(&u, "ifmpw", PASSWORD);
    etag_get(&u, "/api/users/me", etag, sizeof(etag));
    expect_status(u.token, "PATCH", "/api/users/me", "If-Match", etag,
                  "{\"password\":\"second-password-1\",\"current_password\":\"" PASSWORD "\"}",
                  200);
    ck_assert_int_eq(lt_login(lt_base(), u.username, "second-password-1", NULL, &token, NULL), 0);
    /* the record's tag is a hash of its bytes, which a password does not change: any other */
    snprintf(stale, sizeof(stale), "\"%s\"", "an-older-representation");
    /* a stale tag: 412 after the hash, naming the tag of now, and the password stays */
    expect_stale(token, "PATCH", "/api/users/me", stale,
                 "{\"password\":\"third-password-1\",\"current_password\":\"second-password-1\"}",
                 now, sizeof(now));
    etag_get(&u, "/api/users/me", etag, sizeof(etag));
    ck_assert_str_eq(now, etag);
    ck_assert_int_ne(lt_login(lt_base(), u.username, "third-password-1", NULL, &other, NULL), 0);
    /* without If-Match: the same host transaction (for the reply's tag), the same order */
    ck_assert_int_eq(lt_status("PATCH", "/api/users/me", token,
                               "{\"password\":\"third-password-1\",\"current_password\":"
                               "\"second-password-1\"}"),
                     200);
    ck_assert_int_eq(lt_login(lt_base(), u.username, "third-password-1", NULL, &other, NULL), 0);
    /* a PATCH that writes nothing is still compared: 412 with a stale tag, 200 with the tag */
    lt_user_new(&v, "ifmnone", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld", task_new(&v, "{\"title\":\"still\"}"));
    etag_get(&v, path, etag, sizeof(etag));
    ck_assert_int_eq(lt_status("PATCH", path, v.token, "{\"done\":true}"), 200);
    expect_stale(v.token, "PATCH", path, etag, "{}", now, sizeof(now));
    etag_get(&v, path, etag, sizeof(etag));
    ck_assert_str_eq(now, etag);
    expect_status(v.token, "PATCH", path, "If-Match", etag, "{}", 200);
    free(other);
    free(token);
    lt_user_clear(&v);
    lt_user_clear(&u);
}
END_TEST

/* One device's edit, sent at the same moment as the other's (a barrier lines them up). */
struct device_edit {
    const char *token, *path, *etag, *body;
    pthread_barrier_t *go;
    long status;
};

static void *device_edit_thread(void *arg)
{
    struct device_edit *e = arg;
    struct lt_resp r;
    char h[128];
    const char *headers[] = {hdr(h, sizeof(h), "If-Match", e->etag), NULL};

    memset(&r, 0, sizeof(r));
    pthread_barrier_wait(e->go);
    if (lt_request(lt_shared_url(), "PATCH", e->path, e->token, "application/json", e->body,
                   strlen(e->body), headers, &r) == 0)
        e->status = r.status;
    lt_resp_clear(&r);
    return NULL;
}

/* Both devices at once, with the same tag: the comparison and the write are one transaction,
 * so exactly one edit wins and the other is a 412, round after round. */
START_TEST(test_if_match_concurrent_devices)
{
    struct lt_user u;
    struct lt_resp r;
    struct device_edit a, b;
    pthread_barrier_t go;
    pthread_t ta, tb;
    char path[64], etag[64];
    int round;

    lt_user_new(&u, "ifmrace", PASSWORD);
    snprintf(path, sizeof(path), "/api/tasks/%lld", task_new(&u, "{\"title\":\"raced\"}"));
    for (round = 0; round < 10; round++) {
        etag_get(&u, path, etag, sizeof(etag));
        ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
        a = (struct device_edit){u.token, path, etag, "{\"description\":\"A\"}", &go, 0};
        b = (struct device_edit){u.token, path, etag, "{\"description\":\"B\"}", &go, 0};
        ck_assert_int_eq(pthread_create(&ta, NULL, device_edit_thread, &a), 0);
        ck_assert_int_eq(pthread_create(&tb, NULL, device_edit_thread, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        ck_assert_msg((a.status == 200 && b.status == 412) || (a.status == 412 && b.status == 200),
                      "round %d: A %ld, B %ld", round, a.status, b.status);
        /* what is stored is the winner's edit */
        ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
        ck_assert_str_eq(lt_path_str(r.j_body, "description"), a.status == 200 ? "A" : "B");
        lt_resp_clear(&r);
        /* the next round starts from another description, so both edits change something */
        ck_assert_int_eq(lt_status("PATCH", path, u.token, "{\"description\":\"start\"}"), 200);
    }
    lt_user_clear(&u);
}
END_TEST

START_TEST(test_if_match_bad_inputs)
{
    struct lt_user u, other;
    struct lt_resp r;
    char path[64], etag[64], now[64], h[128], *token = NULL;
    const char *headers[] = {h, NULL};
    const char *bad[] = {"abc", "\"unterminated", "W/abc", "\"a\" \"b\"", ",", "\"a\",junk"};
    long long id;
    size_t i;

    lt_user_new(&u, "ifmbad", PASSWORD);
    lt_user_new(&other, "ifmother", PASSWORD);
    id = task_new(&u, "{\"title\":\"guarded\"}");
    snprintf(path, sizeof(path), "/api/tasks/%lld", id);
    etag_get(&u, path, etag, sizeof(etag));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdr(h, sizeof(h), "If-Match", bad[i]);
        ck_assert_msg(send_h(&r, "PATCH", path, u.token, "{\"done\":true}", headers) == 400,
                      "If-Match %s: %ld", bad[i], r.status);
        ck_assert_str_eq(lt_path_str(r.j_body, "errors.0.field"), "If-Match");
        lt_resp_clear(&r);
    }
    /* a list longer than the 2048 characters taken */
    {
        char *many = malloc(3100), *line = malloc(3200);
        const char *one[] = {line, NULL};
        size_t n = 0;

        ck_assert_ptr_nonnull(many);
        ck_assert_ptr_nonnull(line);
        while (n < 3000)
            n += (size_t)snprintf(many + n, 3100 - n, "%s\"t%04zu\"", n > 0 ? "," : "", n);
        hdr(line, 3200, "If-Match", many);
        ck_assert_int_eq(send_h(&r, "PATCH", path, u.token, "{\"done\":true}", one), 400);
        lt_resp_clear(&r);
        free(many);
        free(line);
    }
    /* another user's task: 404, whatever the tag */
    expect_status(other.token, "PATCH", path, "If-Match", etag, "{\"done\":true}", 404);
    /* comparing reads the task: a token without tasks:read may not */
    ck_assert_int_eq(lt_login(lt_base(), u.username, PASSWORD, "tasks:write", &token, NULL), 0);
    expect_status(token, "PATCH", path, "If-Match", etag, "{\"done\":true}", 403);
    /* none of it changed the task */
    ck_assert_int_eq(lt_send(&r, "GET", path, u.token, NULL), 200);
    ck_assert(json_is_false(json_object_get(r.j_body, "done")));
    ck_assert_str_eq(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    /* a rule broken under If-Match is the usual 422, and nothing is half-written */
    expect_status(u.token, "PATCH", path, "If-Match", etag, "{\"title\":\"\"}", 422);
    etag_get(&u, path, now, sizeof(now));
    ck_assert_str_eq(now, etag);
    free(token);
    lt_user_clear(&u);
    lt_user_clear(&other);
}
END_TEST

/* The parameter named name (in: header) of an operation of /openapi.json, or NULL. */
static const json_t *header_param(const json_t *j_op, const char *name)
{
    const json_t *j_p;
    size_t i;

    json_array_foreach(json_object_get(j_op, "parameters"), i, j_p) {
        if (strcmp(lt_path_str(j_p, "name"), name) == 0 &&
            strcmp(lt_path_str(j_p, "in"), "header") == 0)
            return j_p;
    }
    return NULL;
}

START_TEST(test_openapi_shows_headers)
{
    struct lt_resp r;
    const json_t *j_paths, *j_item;

    ck_assert_int_eq(lt_send(&r, "GET", "/openapi.json", NULL, NULL), 200);
    j_paths = json_object_get(r.j_body, "paths");
    j_item = json_object_get(j_paths, "/api/tasks/{id}");
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "get"), "If-None-Match"));
    ck_assert_ptr_nonnull(lt_path(json_object_get(j_item, "get"), "responses.304.headers.ETag"));
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "patch"), "If-Match"));
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "put"), "If-Match"));
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "delete"), "If-Match"));
    ck_assert_ptr_nonnull(lt_path(json_object_get(j_item, "delete"), "responses.412"));
    ck_assert_ptr_nonnull(lt_path(r.j_body, "components.responses.PreconditionFailed"));
    j_item = json_object_get(j_paths, "/api/tasks");
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "post"), "Idempotency-Key"));
    j_item = json_object_get(j_paths, "/api/datapoints/populate");
    ck_assert_ptr_nonnull(header_param(json_object_get(j_item, "post"), "Idempotency-Key"));
    /* not where it is ignored: public routes, a reply holding a secret */
    j_item = json_object_get(j_paths, "/api/auth/register");
    ck_assert_ptr_null(header_param(json_object_get(j_item, "post"), "Idempotency-Key"));
    j_item = json_object_get(j_paths, "/api/auth/invites");
    ck_assert_ptr_null(header_param(json_object_get(j_item, "post"), "Idempotency-Key"));
    lt_resp_clear(&r);
}
END_TEST

/* ---- a private server: a slow upstream for a request still in flight, bulk ingest ---- */

static struct lt_server srv;
static struct dp_sim sim;
static char *admin_token;

static void setup_private(void)
{
    char upstream[128];
    const char *env[] = {upstream, "LINTEL_CORS_ORIGINS=http://app.test", NULL};

    ck_assert_int_eq(dp_sim_start(&sim, "delay:1500"), 0);
    snprintf(upstream, sizeof(upstream), "LINTEL_UPSTREAM_URL=%s/sensor", sim.url);
    ck_assert_int_eq(lt_server_start(&srv, env, NULL), 0);
    ck_assert_int_eq(lt_login(srv.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin_token, NULL), 0);
}

static void teardown_private(void)
{
    int rc = lt_server_stop(&srv);

    dp_sim_stop(&sim);
    free(admin_token);
    admin_token = NULL;
    ck_assert_int_eq(rc, 0);
}

struct populate_call {
    const char *key;
    struct lt_resp r;
};

static void *populate_thread(void *arg)
{
    struct populate_call *c = arg;
    char h[300];
    const char *headers[] = {h, NULL};

    snprintf(h, sizeof(h), "Idempotency-Key: %s", c->key);
    lt_request(srv.url, "POST", "/api/datapoints/populate?count=1", admin_token, NULL, NULL, 0,
               headers, &c->r);
    return NULL;
}

START_TEST(test_idempotency_in_flight_409)
{
    struct populate_call first = {0};
    struct lt_resp r;
    struct timespec pause = {0, 300 * 1000 * 1000};
    char *key = key_new(), h[300];
    const char *headers[] = {hdr(h, sizeof(h), "Idempotency-Key", key), NULL};
    pthread_t t;

    first.key = key;
    ck_assert_int_eq(pthread_create(&t, NULL, populate_thread, &first), 0);
    nanosleep(&pause, NULL); /* the upstream answers after 1.5 s: the first is in flight */
    ck_assert_int_eq(send_at(srv.url, &r, "POST", "/api/datapoints/populate?count=1", admin_token,
                             NULL, headers),
                     409);
    ck_assert_ptr_nonnull(strstr(lt_path_str(r.j_body, "detail"), "Idempotency-Key"));
    ck_assert_ptr_nonnull(lt_header(&r, "Retry-After"));
    lt_resp_clear(&r);
    pthread_join(t, NULL);
    ck_assert_int_eq(first.r.status, 201);
    /* finished: a retry gets its reply, and the upstream is not asked again */
    ck_assert_int_eq(send_at(srv.url, &r, "POST", "/api/datapoints/populate?count=1", admin_token,
                             NULL, headers),
                     201);
    ck_assert_str_eq(r.body, first.r.body);
    ck_assert_str_eq(lt_header(&r, "Idempotent-Replayed"), "true");
    lt_resp_clear(&r);
    lt_resp_clear(&first.r);
    free(key);
}
END_TEST

/* Points stored with time in [from, to] (admin view: valid or not). */
static long long stored_between(long long from, long long to)
{
    struct lt_resp r;
    char path[128];
    long long total;

    snprintf(path, sizeof(path), "/api/datapoints?start=%lld&end=%lld&limit=0", from, to);
    ck_assert_int_eq(send_at(srv.url, &r, "GET", path, admin_token, NULL, NULL), 200);
    total = (long long)json_integer_value(json_object_get(r.j_body, "total"));
    lt_resp_clear(&r);
    return total;
}

/* POSTs a batch; asserts the status and, for 201, {inserted, duplicates}. */
static void bulk(const char *body, long status, long long inserted, long long duplicates)
{
    struct lt_resp r;

    ck_assert_msg(send_at(srv.url, &r, "POST", "/api/datapoints", admin_token, body, NULL) ==
                      status,
                  "%ld %s", r.status, r.body);
    if (status == 201) {
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "inserted")), inserted);
        ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "duplicates")), duplicates);
    }
    lt_resp_clear(&r);
}

START_TEST(test_bulk_ingest_resent_batch)
{
    long long t = (long long)time(NULL) - 60, old = 1000000 + (long long)getpid() % 100000;
    char batch[512], body[512];

    snprintf(batch, sizeof(batch),
             "[{\"time\":%lld,\"value\":[157,42,76,190],\"tags\":[]},"
             "{\"time\":%lld,\"value\":[0,0,128,63]},"
             "{\"time\":%lld,\"value\":[0,0,128,63],\"tags\":[\"system\"]}]",
             t, t, t + 1);
    bulk(batch, 201, 3, 0);
    /* the same batch again (a lost reply): nothing new */
    bulk(batch, 201, 0, 3);
    ck_assert_int_eq(stored_between(t, t + 1), 3);
    /* one new, one already there, one twice in the batch; absent tags are [] */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,128,63],\"tags\":null},"
             "{\"time\":%lld,\"value\":[1,2,3,4]},{\"time\":%lld,\"value\":[1,2,3,4]}]",
             t, t + 1, t + 1);
    bulk(body, 201, 1, 2);
    ck_assert_int_eq(stored_between(t, t + 1), 4);
    /* the raw bytes decide: 0.0 and -0.0 are two readings; other tags are another source */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[0,0,0,0]},{\"time\":%lld,\"value\":[0,0,0,128]},"
             "{\"time\":%lld,\"value\":[0,0,0,0],\"tags\":[\"b\"]}]",
             t + 2, t + 2, t + 2);
    bulk(body, 201, 3, 0);
    bulk(body, 201, 0, 3);
    /* an old point gets "too old" when stored; sent again later, it is still the same point */
    snprintf(body, sizeof(body), "[{\"time\":%lld,\"value\":[1,1,1,1]}]", old);
    bulk(body, 201, 1, 0);
    bulk(body, 201, 0, 1);
    ck_assert_int_eq(stored_between(old, old), 1);
    /* a malformed point in a re-sent batch: 422, and still all or nothing */
    snprintf(body, sizeof(body),
             "[{\"time\":%lld,\"value\":[9,9,9,9]},{\"time\":%lld,\"value\":[1,2,3]}]", t + 3, t);
    bulk(body, 422, 0, 0);
    ck_assert_int_eq(stored_between(t + 3, t + 3), 0);
}
END_TEST

/* A reply over idempotency_max_reply keeps only its status: a retry is a 409, never a copy. */
START_TEST(test_idempotency_reply_bound)
{
    static const char *const env[] = {"LINTEL_IDEMPOTENCY_MAX_REPLY=64", NULL};
    struct lt_server s = {0};
    struct lt_resp r;
    char *token = NULL;
    const char *small[] = {"Idempotency-Key: small", NULL}, *big[] = {"Idempotency-Key: big", NULL};

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "idembound", PASSWORD, &token, NULL, NULL), 0);
    /* {"id":1,"value":2,...} is larger than 64 bytes */
    ck_assert_int_eq(send_at(s.url, &r, "POST", "/api/numbers", token, "{\"value\":2}", big), 201);
    ck_assert_int_gt(r.len, 64);
    lt_resp_clear(&r);
    ck_assert_int_eq(send_at(s.url, &r, "POST", "/api/numbers", token, "{\"value\":2}", big), 409);
    ck_assert_ptr_nonnull(strstr(lt_path_str(r.j_body, "detail"), "64 bytes"));
    lt_resp_clear(&r);
    /* a failed request under another key: still one number (the 409 created none either) */
    ck_assert_int_eq(send_at(s.url, &r, "POST", "/api/numbers", token, "{\"value\":-1}", small),
                     422);
    lt_resp_clear(&r);
    ck_assert_int_eq(send_at(s.url, &r, "GET", "/api/numbers?limit=0", token, NULL, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.j_body, "total")), 1);
    lt_resp_clear(&r);
    free(token);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

/* A browser app on another origin reads ETag and Idempotent-Replayed, and may send the headers. */
START_TEST(test_cors_exposes_the_headers)
{
    struct lt_resp r;
    const char *get[] = {"Origin: http://app.test", NULL};
    const char *preflight[] = {"Origin: http://app.test", "Access-Control-Request-Method: PATCH",
                               NULL};
    const char *exposed;

    ck_assert_int_eq(send_at(srv.url, &r, "GET", "/api/datapoints?limit=0", admin_token, NULL, get),
                     200);
    exposed = lt_header(&r, "Access-Control-Expose-Headers");
    ck_assert_ptr_nonnull(exposed);
    ck_assert_ptr_nonnull(strstr(exposed, "ETag"));
    ck_assert_ptr_nonnull(strstr(exposed, "Idempotent-Replayed"));
    lt_resp_clear(&r);
    ck_assert_int_eq(send_at(srv.url, &r, "OPTIONS", "/api/datapoints", NULL, NULL, preflight),
                     204);
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Access-Control-Allow-Headers"), "If-Match"));
    ck_assert_ptr_nonnull(strstr(lt_header(&r, "Access-Control-Allow-Headers"), "Idempotency-Key"));
    lt_resp_clear(&r);
}
END_TEST

static Suite *retries_suite(void)
{
    Suite *s = suite_create("retries");
    TCase *shared = tcase_create("shared");
    TCase *priv = tcase_create("private");

    tcase_add_test(shared, test_idempotency_replays_first_reply);
    tcase_add_test(shared, test_idempotency_keeps_statistics);
    tcase_add_test(shared, test_idempotency_other_request_is_422);
    tcase_add_test(shared, test_idempotency_keys_are_per_user);
    tcase_add_test(shared, test_idempotency_bad_keys);
    tcase_add_test(shared, test_idempotency_failed_request_frees_key);
    tcase_add_test(shared, test_idempotency_secret_replies_not_kept);
    tcase_add_test(shared, test_etag_if_none_match_304);
    tcase_add_test(shared, test_etag_lists_and_stats);
    tcase_add_test(shared, test_etag_from_versions);
    tcase_add_test(shared, test_if_match_two_devices);
    tcase_add_test(shared, test_if_match_concurrent_devices);
    tcase_add_test(shared, test_if_match_user_record);
    tcase_add_test(shared, test_if_match_hash_before_lock);
    tcase_add_test(shared, test_write_reply_etag);
    tcase_add_test(shared, test_if_match_bad_inputs);
    tcase_add_test(shared, test_openapi_shows_headers);
    suite_add_tcase(s, shared);
    tcase_add_unchecked_fixture(priv, setup_private, teardown_private);
    tcase_set_timeout(priv, 60);
    tcase_add_test(priv, test_idempotency_in_flight_409);
    tcase_add_test(priv, test_bulk_ingest_resent_batch);
    tcase_add_test(priv, test_cors_exposes_the_headers);
    tcase_add_test(priv, test_idempotency_reply_bound);
    suite_add_tcase(s, priv);
    return s;
}

LT_CHECK_MAIN(retries_suite)
