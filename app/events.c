/*
 * Live events: stamps an event with its user and time, decides which scope may see it,
 * serialises it once and hands the text to the sink the WebSocket endpoint set.
 */
#include "events.h"

#include "json_out.h"
#include "log.h"

#include <lintel/plugin.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Events are small notifications, not payload transport: larger ones are refused. */
#define EVENTS_MAX_TEXT (64 * 1024)

/*
 * lintel's own events and the scope that guards their content over HTTP: the read scope of
 * the resource (POST /api/numbers needs numbers:write, but a number is read with
 * numbers:read), profile for the avatar, as GET /api/users/me.
 */
static const struct {
    const char *prefix, *scope;
} events_scopes[] = {
    {"number.", "numbers:read"},
    {"task.", "tasks:read"},
    {"avatar.", "profile"},
    {"datapoints.", "datapoints:read"},
};

/*
 * Where serialised events go (ws.c sets it): events depend on no transport. Request threads
 * read it while the endpoint sets or clears it (start, stop), hence the atomic accesses.
 */
static events_sink_fn events_sink;
static events_relay_fn events_relay; /* NULL: this node's sink directly */

/* An event waiting for the end of the host's transaction (events_hold), in publishing order. */
struct events_held {
    struct events_held *next;
    long long user_id;
    char *scope;
    size_t len;
    char text[];
};

/* Per thread: a handler runs, publishes and ends its transaction on one request thread. */
static _Thread_local struct {
    bool on;
    size_t bytes;
    struct events_held *head, **tail;
} events_held;

/* What one request may hold back: beyond it, the rest of its events are dropped (logged). */
#define EVENTS_MAX_HELD (1024 * 1024)

void events_set_sink(events_sink_fn sink)
{
    __atomic_store_n(&events_sink, sink, __ATOMIC_RELEASE);
}

const char *events_scope(const json_t *j_event, const char *route_scope)
{
    const char *name = json_string_value(json_object_get(j_event, "event"));
    const json_t *j_scope = json_object_get(j_event, "scope");
    size_t i;

    if (json_is_string(j_scope))
        return json_string_value(j_scope);
    for (i = 0; name != NULL && i < sizeof(events_scopes) / sizeof(events_scopes[0]); i++)
        if (strncmp(name, events_scopes[i].prefix, strlen(events_scopes[i].prefix)) == 0)
            return events_scopes[i].scope;
    return route_scope;
}

void events_now_iso(char out[21])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void events_set_relay(events_relay_fn relay)
{
    __atomic_store_n(&events_relay, relay, __ATOMIC_RELEASE);
}

void events_deliver(long long user_id, const char *text, size_t len, const char *scope)
{
    events_sink_fn sink = __atomic_load_n(&events_sink, __ATOMIC_ACQUIRE);

    if (sink != NULL)
        sink(user_id, text, len, scope);
}

void events_hold(void)
{
    events_release(false);
    events_held.on = true;
    events_held.tail = &events_held.head;
}

void events_release(bool deliver)
{
    struct events_held *e, *next;

    for (e = events_held.head; e != NULL; e = next) {
        next = e->next;
        if (deliver)
            events_deliver(e->user_id, e->text, e->len, e->scope);
        free(e->scope);
        free(e);
    }
    events_held.head = NULL;
    events_held.tail = &events_held.head;
    events_held.bytes = 0;
    events_held.on = false;
}

/* Keeps a serialised event until events_release; takes scope (malloc'd or NULL). */
static int events_keep(long long user_id, const char *text, size_t len, char *scope)
{
    struct events_held *e;

    if (events_held.bytes + len > EVENTS_MAX_HELD) {
        free(scope);
        log_warn("events: more than %d bytes of events in one transaction; the rest dropped",
                 EVENTS_MAX_HELD);
        return LINTEL_EPARAM;
    }
    e = malloc(sizeof(*e) + len + 1);
    if (e == NULL) {
        free(scope);
        return LINTEL_ENOMEM;
    }
    e->next = NULL;
    e->user_id = user_id;
    e->scope = scope;
    e->len = len;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    *events_held.tail = e;
    events_held.tail = &e->next;
    events_held.bytes += len;
    return 0;
}

/*
 * The text every receiver gets (*text malloc'd): a copy of j_event without its "scope" (routing
 * information, not content), stamped with user_id and, unless it has one, "at".
 */
static int events_text(long long user_id, const json_t *j_event, char **text, size_t *len)
{
    json_t *j_copy = NULL;
    char at[21];
    int rc = LINTEL_ENOMEM;

    j_copy = json_deep_copy(j_event);
    if (j_copy == NULL)
        goto cleanup;
    json_object_del(j_copy, "scope");
    events_now_iso(at);
    if (json_object_set_new(j_copy, "user_id", json_integer((json_int_t)user_id)) != 0 ||
        (json_object_get(j_copy, "at") == NULL &&
         json_object_set_new(j_copy, "at", json_string(at)) != 0))
        goto cleanup;
    /* The serializer of HTTP replies: 0.1 is sent as 0.1 on both. */
    rc = json_out_dump(j_copy, text, len);
    if (rc == 0 && *len > EVENTS_MAX_TEXT) {
        free(*text);
        *text = NULL;
        rc = LINTEL_EPARAM;
    }
cleanup:
    json_decref(j_copy);
    return rc;
}

int events_publish(long long user_id, const json_t *j_event, const char *route_scope)
{
    events_relay_fn relay;
    char *text = NULL, *scope = NULL;
    const char *needed;
    size_t len = 0;
    int rc = LINTEL_EPARAM;

    if (user_id <= 0 || !json_is_object(j_event) ||
        !json_is_string(json_object_get(j_event, "event")))
        goto cleanup;
    needed = events_scope(j_event, route_scope);
    if (needed != NULL) {
        scope = strdup(needed); /* a held event keeps it past j_event */
        if (scope == NULL) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    }
    rc = events_text(user_id, j_event, &text, &len);
    if (rc != 0)
        goto cleanup;
    relay = __atomic_load_n(&events_relay, __ATOMIC_ACQUIRE);
    if (relay != NULL) {
        rc = relay(user_id, text, len, scope);
        goto cleanup;
    }
    if (events_held.on) {
        rc = events_keep(user_id, text, len, scope);
        scope = NULL; /* events_keep's now */
        goto cleanup;
    }
    events_deliver(user_id, text, len, scope);
    rc = 0;
cleanup:
    free(scope);
    free(text);
    return rc;
}
