/*
 * Counters for GET /metrics (Prometheus text format): requests by route and status, latency,
 * and a few process counters. Counting is a relaxed atomic add: cheap on every request.
 */
#ifndef LINTEL_APP_METRICS_H
#define LINTEL_APP_METRICS_H

#include <lintel/plugin.h>
#include <stdatomic.h>

struct route;

/*
 * Counts one answered request: r is the matched route (NULL: none matched, 404/405), status
 * the reply's, ns how long it took. Only once the route registry is fixed (serving).
 */
void metrics_request(const struct route *r, unsigned status, long long ns);

/* GET /metrics: an admin's token, or `Authorization: Bearer <metrics_token>` when set. */
int metrics_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_METRICS_H */
