/*
 * Conditional requests (RFC 9110 §13): the ETag of every GET reply, If-None-Match -> 304, and
 * If-Match on PUT/PATCH/DELETE checked against the GET representation of the same path.
 */
#ifndef LINTEL_APP_ETAG_H
#define LINTEL_APP_ETAG_H

#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct router_match;

/* A strong entity tag with its quotes: '"' + 22 base64url characters + '"' + NUL. */
#define ETAG_SIZE 25

/*
 * The entity tag of a representation: the first 128 bits of the SHA-256 of its bytes (the
 * fallback for replies whose route gives no version).
 */
int etag_of(const void *body, size_t len, char out[ETAG_SIZE]);

/*
 * The entity tag of version (a number the storage changes whenever the representation does)
 * of what req's route shows: 64 bits of FNV-1a over the user id, the path and the route's
 * declared query parameters as given, then the version's 64 bits, as base64url (the same
 * shape as etag_of's). Not a hash of the bytes: a 304 or a new tag costs no pass over them.
 */
int etag_of_version(const lintel_req *req, long long version, char out[ETAG_SIZE]);

/* api->res_etag: puts etag_of_version's tag on res as its ETag (recorded error otherwise). */
int etag_res_version(lintel_req *req, lintel_res *res, long long version);

/*
 * Whether req is a GET/HEAD whose If-None-Match matches etag (weak comparison): a handler that
 * knows its tag before reading the representation may then answer 304 without reading it.
 */
bool etag_not_modified(const lintel_req *req, const char *etag);

/*
 * Whether the field value list ("*" or a comma-separated list of entity tags, RFC 9110
 * §8.8.3) matches etag: weak comparison (If-None-Match) ignores W/, strong comparison
 * (If-Match) never matches a weak tag. LINTEL_EMALFORMED for a value that is neither.
 */
int etag_list_match(const char *list, const char *etag, bool weak, bool *match);

/*
 * True for a PUT or PATCH (not LINTEL_ROUTE_RAW), or a DELETE with If-Match: its GET twin must
 * be matched (server.c).
 */
bool etag_wants_twin(const lintel_req *req);

/*
 * Before the handler. GET/HEAD: a malformed If-None-Match is a 400. PUT/PATCH/DELETE with
 * If-Match (after the header's syntax, the twin's existence and its scope are checked), and a
 * plain PUT/PATCH whose token may read the twin: the host's write transaction is set to open
 * at the handler's first write (req->tx_open, called by the host's SQL functions): it opens
 * BEGIN IMMEDIATE, runs twin (the GET route of the same path) to get the current
 * representation's tag and fails that SQL call, and the request, with a 412 when no listed tag
 * matches (the twin's own error, a 404, when there is nothing there). So the row cannot change
 * between the comparison and the write, and the handler's work before its first write (a
 * password hash) holds no write lock.
 */
int etag_before(lintel_req *req, const struct router_match *twin);

/*
 * After the handler: one that wrote nothing has the transaction opened (and If-Match checked)
 * now. A 2xx PUT/PATCH reply gets the tag twin answers (read before the commit, so it is the
 * tag of this write), then the held transaction is committed when rc is 0, else rolled back
 * (the ETag then dropped with the reply). A failed precondition is the request's reply.
 */
int etag_after(lintel_req *req, const struct router_match *twin, int rc);

/*
 * After the reply is settled: a 200 GET/HEAD reply with a body gets an ETag (unless its
 * handler set one), and becomes a bodiless 304 when If-None-Match matches it.
 */
void etag_reply(lintel_req *req);

#endif /* LINTEL_APP_ETAG_H */
