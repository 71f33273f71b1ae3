/*
 * The route table and path matching: literal segments beat {params} (earlier positions
 * first), 404 vs 405 with the methods the path has, HEAD through GET, percent-decoding per segment.
 */
#include "router.h"

#include "fmt.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct router {
    struct route **routes;
    size_t n;
};

static const char *const router_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
#define ROUTER_NMETHODS (sizeof(router_methods) / sizeof(router_methods[0]))

struct router *router_new(void)
{
    return calloc(1, sizeof(struct router));
}

static void router_route_free(struct route *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->method);
    free(r->path);
    free(r->scope);
    free(r->owner_name);
    if (r->meta_free != NULL)
        r->meta_free(r->meta);
    free(r);
}

void router_free(struct router *rt)
{
    size_t i;

    if (rt == NULL)
        return;
    for (i = 0; i < rt->n; i++)
        router_route_free(rt->routes[i]);
    free(rt->routes);
    free(rt);
}

static bool router_param_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Splits a registered path into literal and {param} segments. */
static int router_parse(struct route *r, const char *path, char **err)
{
    const char *p = path;

    if (path[0] != '/') {
        *err = fmt_alloc("route %s %s: the path must start with /", r->method, path);
        return LINTEL_EPARAM;
    }
    while (*p == '/' && p[1] != '\0') {
        const char *seg = p + 1;
        size_t n = strcspn(seg, "/"), i;
        bool param = n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
        if (n == 0 || r->nsegs == ROUTER_MAX_SEGMENTS) {
            *err = fmt_alloc("route %s %s: empty segment or more than %d segments", r->method, path,
                             ROUTER_MAX_SEGMENTS);
            return LINTEL_EPARAM;
        }
        if (param && !router_param_name_ok(seg + 1, n - 2)) {
            *err = fmt_alloc("route %s %s: bad parameter name", r->method, path);
            return LINTEL_EPARAM;
        }
        for (i = 0; !param && i < n; i++) {
            if (!isalnum((unsigned char)seg[i]) && strchr("-._~", seg[i]) == NULL) {
                *err = fmt_alloc("route %s %s: a literal segment may hold only letters, "
                                 "digits and -._~",
                                 r->method, path);
                return LINTEL_EPARAM;
            }
        }
        r->is_param[r->nsegs] = param;
        r->segs[r->nsegs] = param ? strndup(seg + 1, n - 2) : strndup(seg, n);
        if (r->segs[r->nsegs] == NULL)
            return LINTEL_ENOMEM;
        /* A parameter early in the path makes a route less specific than a literal there. */
        if (param)
            r->specificity |= 1UL << (ROUTER_MAX_SEGMENTS - 1 - r->nsegs);
        r->nsegs++;
        p = seg + n;
    }
    /* "/" alone is the root (no segments); elsewhere a trailing slash is refused */
    if (*p != '\0' && strcmp(path, "/") != 0) {
        *err = fmt_alloc("route %s %s: no trailing slash", r->method, path);
        return LINTEL_EPARAM;
    }
    return 0;
}

/* Same kind, same method and the same shape: equal literals, parameters at the same places. */
static bool router_same(const struct route *a, const struct route *b)
{
    size_t i;

    if ((a->upgrade != NULL) != (b->upgrade != NULL) || strcmp(a->method, b->method) != 0 ||
        a->nsegs != b->nsegs)
        return false;
    for (i = 0; i < a->nsegs; i++) {
        if (a->is_param[i] != b->is_param[i])
            return false;
        if (!a->is_param[i] && strcmp(a->segs[i], b->segs[i]) != 0)
            return false;
    }
    return true;
}

int router_add(struct router *rt, const struct route_def *def, char **err)
{
    struct route *r = NULL, **grown;
    const char *who = def->owner_name != NULL ? def->owner_name : "core";
    void *meta = def->meta;
    size_t i;
    int rc = LINTEL_EPARAM;

    *err = NULL;
    for (i = 0; def->method != NULL && i < ROUTER_NMETHODS; i++)
        if (strcmp(def->method, router_methods[i]) == 0)
            break;
    if (def->method == NULL || i == ROUTER_NMETHODS || def->path == NULL ||
        (def->handler == NULL && def->upgrade == NULL)) {
        *err = fmt_alloc("%s%s: route %s %s: unknown method, no path or no handler",
                         def->owner != NULL ? "plugin " : "", who,
                         def->method != NULL ? def->method : "(null)",
                         def->path != NULL ? def->path : "(null)");
        goto cleanup;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    r->method = strdup(def->method);
    r->path = strdup(def->path);
    r->owner_name = strdup(who);
    r->scope = def->scope != NULL ? strdup(def->scope) : NULL;
    if (r->method == NULL || r->path == NULL || r->owner_name == NULL ||
        (def->scope != NULL && r->scope == NULL)) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = router_parse(r, def->path, err);
    if (rc != 0) {
        char *named = fmt_alloc("%s%s: %s", def->owner != NULL ? "plugin " : "", who,
                                *err != NULL ? *err : "bad route");
        free(*err);
        *err = named;
        goto cleanup;
    }
    r->flags = def->flags;
    r->handler = def->handler;
    r->state = def->state;
    r->owner = def->owner;
    r->upgrade = def->upgrade;
    r->meta = meta;
    r->meta_free = def->meta_free;
    meta = NULL;
    for (i = 0; i < rt->n; i++) {
        if (router_same(rt->routes[i], r)) {
            *err = fmt_alloc("%s%s: route %s %s is already held by %s%s (%s %s)",
                             def->owner != NULL ? "plugin " : "", who, def->method, def->path,
                             rt->routes[i]->owner != NULL ? "plugin " : "",
                             rt->routes[i]->owner_name, rt->routes[i]->method, rt->routes[i]->path);
            rc = LINTEL_ECONFLICT;
            goto cleanup;
        }
    }
    grown = realloc(rt->routes, (rt->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rt->routes = grown;
    rt->routes[rt->n++] = r;
    r = NULL;
    rc = 0;
cleanup:
    router_route_free(r);
    if (meta != NULL && def->meta_free != NULL)
        def->meta_free(meta);
    return rc;
}

void router_remove(struct router *rt, const struct route *r)
{
    size_t i, kept = 0;

    for (i = 0; i < rt->n; i++) {
        if (rt->routes[i] == r)
            router_route_free(rt->routes[i]);
        else
            rt->routes[kept++] = rt->routes[i];
    }
    rt->n = kept;
}

void router_remove_owner(struct router *rt, const struct lintel_plugin *owner)
{
    size_t i, kept = 0;

    for (i = 0; i < rt->n; i++) {
        if (owner != NULL && rt->routes[i]->owner == owner)
            router_route_free(rt->routes[i]);
        else
            rt->routes[kept++] = rt->routes[i];
    }
    rt->n = kept;
}

size_t router_count(const struct router *rt)
{
    return rt != NULL ? rt->n : 0;
}

const struct route *router_get(const struct router *rt, size_t i)
{
    return rt != NULL && i < rt->n ? rt->routes[i] : NULL;
}

const struct route *router_find(const struct router *rt, const char *method, const char *path,
                                bool upgrade)
{
    size_t i;

    for (i = 0; rt != NULL && i < rt->n; i++) {
        const struct route *r = rt->routes[i];
        if ((r->upgrade != NULL) == upgrade && strcmp(r->method, method) == 0 &&
            strcmp(r->path, path) == 0)
            return r;
    }
    return NULL;
}

bool router_utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i], need, cp, k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07;
        else
            return false;
        if (n - i <= need)
            return false;
        for (k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

/* Splits and decodes the raw path; false when a segment is bad (NUL, not UTF-8) or too many. */
static int router_split(const char *raw, struct router_match *m, bool *bad, bool *too_long)
{
    char *p;

    *bad = *too_long = false;
    m->buf = strdup(raw != NULL && raw[0] != '\0' ? raw : "/");
    if (m->buf == NULL)
        return LINTEL_ENOMEM;
    for (p = m->buf; *p != '\0';) {
        char *seg;
        size_t n, len;
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        seg = p;
        n = strcspn(seg, "/");
        p = seg + n;
        if (*p == '/')
            *p++ = '\0';
        if (m->nsegs == ROUTER_MAX_SEGMENTS) {
            *too_long = true;
            break;
        }
        /* The decoded length tells a %00 from the end: a NUL inside is never a valid segment. */
        len = MHD_http_unescape(seg);
        if (strlen(seg) != len || !router_utf8_ok(seg, len)) {
            *bad = true;
            break;
        }
        m->segs[m->nsegs++] = seg;
    }
    return 0;
}

static bool router_matches(const struct route *r, const struct router_match *m)
{
    size_t i;

    if (r->nsegs != m->nsegs)
        return false;
    for (i = 0; i < r->nsegs; i++)
        if (!r->is_param[i] && strcmp(r->segs[i], m->segs[i]) != 0)
            return false;
    return true;
}

static void router_allow_put(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow);

    snprintf(allow + len, size - len, "%s%s", len > 0 ? ", " : "", method);
}

int router_match(const struct router *rt, const char *method, const char *raw_path, bool upgrade,
                 struct router_match *m)
{
    const struct route *best = NULL, *best_get = NULL;
    bool seen[ROUTER_NMETHODS] = {false}, bad, too_long;
    size_t i, k;
    int rc;

    memset(m, 0, sizeof(*m));
    rc = router_split(raw_path, m, &bad, &too_long);
    if (rc != 0)
        return rc;
    if (bad) {
        m->status = ROUTER_BAD_PATH;
        return 0;
    }
    m->status = ROUTER_NOT_FOUND;
    if (too_long)
        return 0;
    for (i = 0; rt != NULL && i < rt->n; i++) {
        const struct route *r = rt->routes[i];
        if ((r->upgrade != NULL) != upgrade || !router_matches(r, m))
            continue;
        for (k = 0; k < ROUTER_NMETHODS; k++)
            if (strcmp(r->method, router_methods[k]) == 0)
                seen[k] = true;
        if (strcmp(r->method, method) == 0 && (best == NULL || r->specificity < best->specificity))
            best = r;
        if (strcmp(r->method, "GET") == 0 &&
            (best_get == NULL || r->specificity < best_get->specificity))
            best_get = r;
    }
    /* HEAD is GET without the body; libmicrohttpd drops the body itself. */
    if (best == NULL && strcmp(method, "HEAD") == 0)
        best = best_get;
    m->route = best;
    if (best != NULL) {
        m->status = ROUTER_FOUND;
        return 0; /* the Allow list is only for 405 and OPTIONS: not written on every request */
    }
    for (k = 0; k < ROUTER_NMETHODS; k++) {
        if (!seen[k])
            continue;
        router_allow_put(m->allow, sizeof(m->allow), router_methods[k]);
        if (k == 0)
            router_allow_put(m->allow, sizeof(m->allow), "HEAD");
    }
    if (m->allow[0] != '\0')
        m->status = ROUTER_METHOD;
    return 0;
}

const char *router_match_param(const struct router_match *m, const char *name)
{
    size_t i;

    if (m->route == NULL)
        return NULL;
    for (i = 0; i < m->route->nsegs; i++)
        if (m->route->is_param[i] && strcmp(m->route->segs[i], name) == 0)
            return m->segs[i];
    return NULL;
}

void router_match_clear(struct router_match *m)
{
    free(m->buf);
    memset(m, 0, sizeof(*m));
}
