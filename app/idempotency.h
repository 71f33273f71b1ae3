/*
 * Idempotency-Key on authenticated POSTs: the first 2xx reply kept per user and key for 24 h
 * and answered again to a retry, instead of creating a second time (docs/api.md "Safe retries").
 */
#ifndef LINTEL_APP_IDEMPOTENCY_H
#define LINTEL_APP_IDEMPOTENCY_H

#include <lintel/plugin.h>
#include <stdbool.h>

/* Longest key accepted (characters, printable ASCII); the largest reply kept is the
 * configuration's idempotency_max_reply. */
#define IDEMPOTENCY_KEY_MAX 255
/* How long a key and its reply are kept (seconds); the cleanup job deletes older rows. */
#define IDEMPOTENCY_TTL 86400

/* idempotency_begin's "the reply is written: do not run the handler". */
#define IDEMPOTENCY_REPLAYED 1

/*
 * Before the handler of an authenticated POST with an Idempotency-Key header (other requests:
 * 0 at once). A new key is claimed (*held true: idempotency_end must follow) and 0 returned;
 * a key whose first request finished with the same method, path, query and body has its reply
 * written again (IDEMPOTENCY_REPLAYED). Errors, recorded: LINTEL_EMALFORMED (a key that is
 * empty, too long or not printable ASCII), LINTEL_EPARAM (the key was used for another
 * request), LINTEL_ECONFLICT (its first request is still running, or its reply was too large
 * to keep), and the database's.
 */
int idempotency_begin(lintel_req *req, bool *held);

/* After the reply is settled: keeps a 2xx reply under the claimed key, else releases the key. */
void idempotency_end(lintel_req *req, bool held);

#endif /* LINTEL_APP_IDEMPOTENCY_H */
