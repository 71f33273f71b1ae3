/*
 * Live events: a JSON object addressed to one user, delivered as a text frame to every
 * WebSocket that user has open (app/ws.c). Used by the plugin ABI's event_publish.
 */
#ifndef LINTEL_APP_EVENTS_H
#define LINTEL_APP_EVENTS_H

#include <jansson.h>

/*
 * Publishes j_event (borrowed; an object with a string "event") to user_id's sockets. A copy
 * gets "user_id" set and "at" (ISO 8601 UTC, now) added when absent. Returns 0 (also when
 * the user has no socket), LINTEL_EPARAM for a bad event, LINTEL_ENOMEM.
 */
int events_publish(long long user_id, const json_t *j_event);

/* Writes now as "2024-04-22T15:07:57Z" into out (21 bytes with the NUL). */
void events_now_iso(char out[21]);

#endif /* LINTEL_APP_EVENTS_H */
