/*
 * Live events (app/events.c): which scope guards each event, and what publishing hands the
 * sink (stamped, "scope" removed, numbers printed as HTTP prints them, size and shape checks).
 */
#include "events.h"

#include "lt_test.h"

#include <check.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int calls;
    long long user_id;
    char text[70 * 1024];
    char scope[64];
    bool any_scope;
} seen;

static void capture(long long user_id, const char *text, size_t len, const char *scope)
{
    seen.calls++;
    seen.user_id = user_id;
    ck_assert_uint_lt(len, sizeof(seen.text));
    memcpy(seen.text, text, len);
    seen.text[len] = '\0';
    seen.any_scope = scope == NULL;
    snprintf(seen.scope, sizeof(seen.scope), "%s", scope != NULL ? scope : "");
}

START_TEST(scope_of_each_event)
{
    json_t *j = json_pack("{ss}", "event", "number.created");

    ck_assert_str_eq(events_scope(j, "numbers:write"), "numbers:read");
    json_object_set_new(j, "event", json_string("task.deleted"));
    ck_assert_str_eq(events_scope(j, "tasks:write"), "tasks:read");
    json_object_set_new(j, "event", json_string("avatar.updated"));
    ck_assert_str_eq(events_scope(j, "profile"), "profile");
    json_object_set_new(j, "event", json_string("datapoints.created"));
    ck_assert_str_eq(events_scope(j, "datapoints:write"), "datapoints:read");
    /* another plugin's event: its own scope member, else its route's, else any token */
    json_object_set_new(j, "event", json_string("notes.created"));
    ck_assert_str_eq(events_scope(j, "notes:write"), "notes:write");
    ck_assert_ptr_null(events_scope(j, NULL));
    json_object_set_new(j, "scope", json_string("notes:read"));
    ck_assert_str_eq(events_scope(j, "notes:write"), "notes:read");
    /* "numbers" without the dot is not lintel's number event */
    json_object_del(j, "scope");
    json_object_set_new(j, "event", json_string("numbersx"));
    ck_assert_str_eq(events_scope(j, "x:y"), "x:y");
    json_decref(j);
}
END_TEST

START_TEST(publish_stamps_and_strips_scope)
{
    json_t *j = json_pack("{ss s{sf} ss}", "event", "notes.created", "note", "value", 0.1, "scope",
                          "notes:read");
    json_t *j_sent;

    memset(&seen, 0, sizeof(seen));
    events_set_sink(capture);
    ck_assert_int_eq(events_publish(7, j, "notes:write"), 0);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_int_eq(seen.user_id, 7);
    ck_assert_str_eq(seen.scope, "notes:read");
    /* printed as HTTP prints it: 0.1, not 0.10000000000000001 */
    ck_assert_ptr_nonnull(strstr(seen.text, "\"value\":0.1}"));
    j_sent = json_loads(seen.text, 0, NULL);
    ck_assert_ptr_nonnull(j_sent);
    ck_assert_ptr_null(json_object_get(j_sent, "scope"));
    ck_assert_int_eq(json_integer_value(json_object_get(j_sent, "user_id")), 7);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j_sent, "at"))), 20);
    json_decref(j_sent);
    /* the caller's object is untouched */
    ck_assert_str_eq(json_string_value(json_object_get(j, "scope")), "notes:read");
    json_decref(j);
    events_set_sink(NULL);
}
END_TEST

START_TEST(publish_refuses_bad_events)
{
    char *big = malloc(65 * 1024);
    json_t *j;

    memset(&seen, 0, sizeof(seen));
    events_set_sink(capture);
    j = json_pack("{si}", "event", 1);
    ck_assert_int_eq(events_publish(7, j, NULL), LINTEL_EPARAM);
    json_decref(j);
    j = json_pack("{ss}", "event", "x");
    ck_assert_int_eq(events_publish(0, j, NULL), LINTEL_EPARAM);
    json_decref(j);
    memset(big, 'a', 65 * 1024 - 1);
    big[65 * 1024 - 1] = '\0';
    j = json_pack("{ss ss}", "event", "x", "blob", big);
    ck_assert_int_eq(events_publish(7, j, NULL), LINTEL_EPARAM); /* over 64 KiB */
    json_decref(j);
    ck_assert_int_eq(seen.calls, 0);
    /* without a sink (no WebSocket endpoint) publishing still succeeds, to nobody */
    events_set_sink(NULL);
    j = json_pack("{ss}", "event", "x");
    ck_assert_int_eq(events_publish(7, j, NULL), 0);
    json_decref(j);
    free(big);
}
END_TEST

static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");

    tcase_add_test(tc, scope_of_each_event);
    tcase_add_test(tc, publish_stamps_and_strips_scope);
    tcase_add_test(tc, publish_refuses_bad_events);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(events_suite)
