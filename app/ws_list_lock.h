/*
 * The guard around ulfius 2.7.13's list of active WebSockets (app/ws_list_lock.c), and the
 * check that it is in effect in this process.
 */
#ifndef LINTEL_APP_WS_LIST_LOCK_H
#define LINTEL_APP_WS_LIST_LOCK_H

/* 1 when libulfius' calls reach the serialized versions, 0 when they bypass them. */
int ws_list_lock_active(void);

#endif /* LINTEL_APP_WS_LIST_LOCK_H */
