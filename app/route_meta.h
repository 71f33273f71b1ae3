/*
 * A route's description as the kit copied it from its lintel_route entry: data only, so the
 * modules that read it (openapi, etag, the kit) need none of the kit's functions.
 */
#ifndef LINTEL_APP_ROUTE_META_H
#define LINTEL_APP_ROUTE_META_H

#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

/* A route's description from its lintel_route entry (owned by the route). */
struct host_route_meta {
    char *summary;
    char *body_schema; /* JSON text, checked at registration */
    char *example;     /* JSON text, checked at registration */
    struct lintel_param *query;
    size_t nquery;
    struct lintel_reply *replies;
    size_t nreplies;
    bool bare; /* replies go out as they are, never in the JSend envelope (core documents) */
};

#endif /* LINTEL_APP_ROUTE_META_H */
