/*
 * Live events: a JSON object addressed to one user, delivered as a text frame to each of that
 * user's WebSockets whose token holds the scope protecting the event (app/ws.c).
 */
#ifndef LINTEL_APP_EVENTS_H
#define LINTEL_APP_EVENTS_H

#include <jansson.h>
#include <stdbool.h>

/*
 * The scope a socket's token needs to receive j_event: its own "scope" member when it is a
 * string, else lintel's table for its own events (number.* numbers:read, task.* tasks:read,
 * avatar.* profile, datapoints.* datapoints:read), else route_scope (the scope of the route that
 * published it; may be NULL: any token). Borrowed from j_event or static.
 */
const char *events_scope(const json_t *j_event, const char *route_scope);

/*
 * Publishes j_event (borrowed; an object with a string "event") to user_id's sockets that
 * hold events_scope(j_event, route_scope). A copy gets "user_id" set, "at" (ISO 8601 UTC,
 * now) added when absent, "scope" removed, and is serialised like HTTP replies (json_out).
 * Returns 0 (also when the user has no socket), LINTEL_EPARAM for a bad event or one larger
 * than 64 KiB, LINTEL_ENOMEM.
 */
int events_publish(long long user_id, const json_t *j_event, const char *route_scope);

/*
 * The delivery of a serialised event (text, len bytes) to user_id's sockets that hold scope
 * (NULL: any). Set once at start by the WebSocket endpoint; without one events go nowhere.
 */
typedef void (*events_sink_fn)(long long user_id, const char *text, size_t len, const char *scope);
void events_set_sink(events_sink_fn sink);

/*
 * A relay takes published events instead of this node's sink (storage dqlite: through the
 * replicated database to every node, app/cluster_events.c), which hands them back with
 * events_deliver. Returns 0 or a LINTEL_E* that events_publish returns.
 */
typedef int (*events_relay_fn)(long long user_id, const char *text, size_t len, const char *scope);
void events_set_relay(events_relay_fn relay);
void events_deliver(long long user_id, const char *text, size_t len, const char *scope);

/*
 * The host's transaction around a handler (If-Match, app/etag.c): between events_hold and
 * events_release, what this thread publishes to this node's sink waits, and goes out only when
 * events_release(true) says the transaction committed; events_release(false) drops it (rolled
 * back: a socket must never see an event of a change that did not happen). A relay is not held:
 * its rows join the same transaction and share its fate. Both are no-ops when not holding.
 */
void events_hold(void);
void events_release(bool deliver);

/* Writes now as "2024-04-22T15:07:57Z" into out (21 bytes with the NUL). */
void events_now_iso(char out[21]);

#endif /* LINTEL_APP_EVENTS_H */
