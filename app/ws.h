/*
 * The WebSocket endpoint GET /api/ws: the handshake on the server's upgrade hook, sockets
 * handed to the engine (ws_conn.c), and a watcher that closes sockets whose session ended.
 */
#ifndef LINTEL_APP_WS_H
#define LINTEL_APP_WS_H

#include "ws_conn.h"

#include <stddef.h>

struct config;

#define WS_MAX_SOCKETS  256  /* open sockets in the whole server                           */
#define WS_MAX_PER_USER 8    /* open sockets of one user                                   */
#define WS_QUEUE_MAX    64   /* undelivered events per socket before it is closed (1013)   */
#define WS_MAX_INCOMING 4096 /* the server reads nothing from clients; larger closes (1009) */
#define WS_OUT_MAX      (1024 * 1024) /* bytes of frames waiting for one client, then 1013  */
#define WS_CLOSE_MS     2000 /* a closing socket is dropped after this, answered or not   */

/*
 * Starts the socket engine and the session watcher, and registers the upgrade endpoint and
 * the GET /api/ws route (its non-upgrade answer). Call after the core routes, before
 * server_start.
 */
int ws_init(const struct config *cfg);

/*
 * Records a plugin's event socket at path (api->ws_add): registered by ws_init beside
 * /api/ws, fed by the same events, each one named in events[] sent as its message (copied).
 * Only before ws_init. LINTEL_EPARAM with *err (malloc'd) for a message that is not a JSON
 * object or a path taken by another; LINTEL_ENOMEM.
 */
struct lintel_ws_event;
int ws_endpoint_add(const char *path, const char *owner, unsigned flags,
                    const struct lintel_ws_event *events, size_t n, char **err);

/* Closes open sockets with 1001 and stops the watcher and the engine. Before server_stop. */
void ws_shutdown(void);

/* ws_shutdown if not done. */
void ws_release(void);

#endif /* LINTEL_APP_WS_H */
