/*
 * Live events: stamps an event with its user and time, serialises it once, and hands the
 * text to the WebSocket registry, which queues it on each of the user's sockets.
 */
#include "events.h"

#include "ws.h"

#include <lintel/plugin.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Events are small notifications, not payload transport: larger ones are refused. */
#define EVENTS_MAX_TEXT (64 * 1024)

void events_now_iso(char out[21])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int events_publish(long long user_id, const json_t *j_event)
{
    json_t *j_copy = NULL;
    char at[21], *text = NULL;
    int rc = LINTEL_EPARAM;

    if (user_id <= 0 || !json_is_object(j_event) ||
        !json_is_string(json_object_get(j_event, "event")))
        goto cleanup;
    j_copy = json_deep_copy(j_event);
    if (j_copy == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    events_now_iso(at);
    if (json_object_set_new(j_copy, "user_id", json_integer((json_int_t)user_id)) != 0 ||
        (json_object_get(j_copy, "at") == NULL &&
         json_object_set_new(j_copy, "at", json_string(at)) != 0)) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    /* Same serialisation as HTTP replies: compact, and keys in insertion order. */
    text = json_dumps(j_copy, JSON_COMPACT);
    if (text == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (strlen(text) > EVENTS_MAX_TEXT)
        goto cleanup;
    ws_send_user(user_id, text);
    rc = 0;
cleanup:
    free(text);
    json_decref(j_copy);
    return rc;
}
