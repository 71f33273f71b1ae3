/*
 * The WebSocket endpoint GET /api/ws: authenticates before the upgrade, keeps a registry of
 * open sockets per user, delivers queued events, and closes sockets whose session ended.
 */
#ifndef LINTEL_APP_WS_H
#define LINTEL_APP_WS_H

#include <stddef.h>

struct config;

/* Close codes sent by the server (RFC 6455 section 7.4, plus one private code). */
#define WS_CLOSE_GOING_AWAY 1001 /* the server stops                                   */
#define WS_CLOSE_POLICY     1008 /* bad or missing token, or Origin not allowed at connect */
#define WS_CLOSE_TOO_BIG    1009 /* the client sent a message larger than WS_MAX_INCOMING */
#define WS_CLOSE_INTERNAL   1011 /* the database could not be asked at connect           */
#define WS_CLOSE_TRY_LATER  1013 /* too many sockets, or the client reads too slowly      */
#define WS_CLOSE_AUTH_ENDED 4401 /* logged out, deleted, session ended or token expired   */

#define WS_MAX_SOCKETS  256  /* open sockets in the whole server (two threads each)        */
#define WS_MAX_PER_USER 8    /* open sockets of one user                                   */
#define WS_QUEUE_MAX    64   /* undelivered events per socket before it is closed (1013)   */
#define WS_MAX_INCOMING 4096 /* the server reads nothing from clients; larger frames close */

/*
 * Registers the raw ulfius endpoint and the GET /api/ws route (its non-upgrade answer), and
 * starts the session watcher thread. Call after the core routes, before server_start.
 */
int ws_init(const struct config *cfg);

/*
 * Refuses new sockets, closes open ones with 1001 and stops the watcher. Call before
 * server_stop (ulfius_stop_framework waits for every socket's threads to end).
 */
void ws_shutdown(void);

/* ws_shutdown if not done, then frees the rest (after server_stop: no request runs). */
void ws_release(void);

/*
 * Queues text (len bytes, copied) on every open socket of user_id whose token holds scope
 * (NULL: every socket); never blocks on the network.
 */
void ws_send_user(long long user_id, const char *text, size_t len, const char *scope);

/* Open sockets (of one user, or all with user_id 0). */
size_t ws_count(long long user_id);

#endif /* LINTEL_APP_WS_H */
