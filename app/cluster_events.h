/*
 * Live events across a dqlite cluster: a published event is a row of the replicated table
 * cluster_events, and every node polls the table and hands new rows to its own sockets.
 */
#ifndef LINTEL_APP_CLUSTER_EVENTS_H
#define LINTEL_APP_CLUSTER_EVENTS_H

/*
 * Creates the table when it is missing, becomes events' relay and starts the poller thread.
 * Only with storage dqlite (db_remote()); 0 or a LINTEL_E*.
 */
int cluster_events_start(void);

/* Stops the poller and the relay (publishing goes back to this node's sockets only). */
void cluster_events_stop(void);

#endif /* LINTEL_APP_CLUSTER_EVENTS_H */
