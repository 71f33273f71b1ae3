/*
 * The route table: routes (method + path with {params}) and upgrade endpoints, added, removed,
 * found and matched against a request path. Depends on nothing else in app/.
 */
#ifndef LINTEL_APP_ROUTER_H
#define LINTEL_APP_ROUTER_H

#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_SEGMENTS 16

struct route {
    char *method;                    /* "GET", ...                                  */
    char *path;                      /* as registered: "/api/numbers/{id}"          */
    char *segs[ROUTER_MAX_SEGMENTS]; /* literal text, or the param name             */
    bool is_param[ROUTER_MAX_SEGMENTS];
    size_t nsegs;
    unsigned long specificity; /* lower = more literal segments earlier           */
    unsigned flags;            /* LINTEL_ROUTE_*                                  */
    char *scope;               /* needed scope or NULL                            */
    lintel_handler handler;    /* NULL for an upgrade endpoint                    */
    void *state;
    struct lintel_plugin *owner; /* NULL for the core's own routes                */
    char *owner_name;            /* "core" or the plugin's name (messages)        */
    const void *upgrade;         /* the server's upgrade descriptor, or NULL      */
    void *meta;                  /* the registrant's description (host_kit.h), or NULL */
    void (*meta_free)(void *meta);
};

/* What a registrant gives router_add; strings are copied, pointers kept. */
struct route_def {
    const char *method, *path;
    unsigned flags;
    const char *scope;
    lintel_handler handler;
    void *state;
    struct lintel_plugin *owner;
    const char *owner_name;
    const void *upgrade;
    void *meta;                    /* stolen, also on failure: freed with meta_free */
    void (*meta_free)(void *meta); /* NULL: meta is not owned                         */
};

struct router;

struct router *router_new(void);
void router_free(struct router *rt);

/*
 * Adds a route. LINTEL_EPARAM for a bad method or path, LINTEL_ECONFLICT when a route of the
 * same method and shape exists (an upgrade endpoint conflicts only with another upgrade
 * endpoint); *err (malloc'd) says which and names both owners.
 */
int router_add(struct router *rt, const struct route_def *def, char **err);

/* Removes the route r (a route a compatibility profile takes over); unknown r: nothing. */
void router_remove(struct router *rt, const struct route *r);

/* Removes every route of owner (a refused plugin); NULL removes nothing. */
void router_remove_owner(struct router *rt, const struct lintel_plugin *owner);

/* The table in registration order. */
size_t router_count(const struct router *rt);
const struct route *router_get(const struct router *rt, size_t i);

/* The route registered with exactly this method and path (upgrade: true for upgrades). */
const struct route *router_find(const struct router *rt, const char *method, const char *path,
                                bool upgrade);

enum router_status {
    ROUTER_FOUND,     /* route set                                                   */
    ROUTER_NOT_FOUND, /* no route has this path                                      */
    ROUTER_METHOD,    /* the path exists under other methods: allow lists them       */
    ROUTER_BAD_PATH,  /* a segment decodes to a NUL or to bytes that are not UTF-8    */
};

struct router_match {
    enum router_status status;
    const struct route *route;
    char allow[64]; /* "GET, HEAD, POST", for 405 and OPTIONS (ROUTER_METHOD only)    */
    char *buf;      /* the decoded segments, NUL-separated (owned)                    */
    const char *segs[ROUTER_MAX_SEGMENTS];
    size_t nsegs;
};

/*
 * Matches a raw (still percent-encoded) path: segments are decoded one by one; among the
 * routes of the same segment count a literal segment beats a {param}, earlier positions
 * first, whatever the registration order. HEAD uses GET's route. With upgrade, only upgrade
 * endpoints are looked at, else only routes. LINTEL_ENOMEM, else 0 and m->status.
 */
int router_match(const struct router *rt, const char *method, const char *raw_path, bool upgrade,
                 struct router_match *m);

/* The value of the route's {name} in a FOUND match, or NULL. */
const char *router_match_param(const struct router_match *m, const char *name);

void router_match_clear(struct router_match *m);

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
bool router_utf8_ok(const char *s, size_t n);

#endif /* LINTEL_APP_ROUTER_H */
