/*
 * dqlite's wire protocol, the bytes only: encoding request fields and parameter tuples,
 * decoding response fields and row tuples, and framing messages on a socket.
 */
#include "dqlite_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DQW_WORD 8

static size_t dqw_pad(size_t n)
{
    return (n + DQW_WORD - 1) / DQW_WORD * DQW_WORD;
}

void dqw_out_reset(struct dqw_out *o)
{
    o->len = 0;
    o->failed = false;
}

void dqw_out_release(struct dqw_out *o)
{
    free(o->p);
    memset(o, 0, sizeof(*o));
}

/* n more zeroed bytes at the end, or NULL (and o->failed) when memory runs out. */
static unsigned char *dqw_grow(struct dqw_out *o, size_t n)
{
    unsigned char *p;

    if (o->failed)
        return NULL;
    if (o->len + n > o->cap) {
        size_t cap = o->cap > 0 ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        p = realloc(o->p, cap);
        if (p == NULL) {
            o->failed = true;
            return NULL;
        }
        o->p = p;
        o->cap = cap;
    }
    p = o->p + o->len;
    memset(p, 0, n);
    o->len += n;
    return p;
}

static void dqw_le64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t dqw_rd64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void dqw_put_u64(struct dqw_out *o, uint64_t v)
{
    unsigned char *p = dqw_grow(o, 8);

    if (p != NULL)
        dqw_le64(p, v);
}

void dqw_put_u32x2(struct dqw_out *o, uint32_t a, uint32_t b)
{
    dqw_put_u64(o, (uint64_t)a | ((uint64_t)b << 32));
}

static void dqw_put_textn(struct dqw_out *o, const char *s, size_t n)
{
    unsigned char *p = dqw_grow(o, dqw_pad(n + 1));

    if (p != NULL)
        memcpy(p, s, n); /* the NUL and the padding are the zeroes dqw_grow wrote */
}

void dqw_put_text(struct dqw_out *o, const char *s)
{
    dqw_put_textn(o, s, strlen(s));
}

static int dqw_type_of(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_INTEGER:
    case JSON_TRUE:
    case JSON_FALSE:
        return DQW_INTEGER;
    case JSON_REAL:
        return DQW_FLOAT;
    case JSON_NULL:
        return DQW_NULL;
    default:
        return DQW_TEXT;
    }
}

int dqw_put_params(struct dqw_out *o, json_t *const *values, size_t n, const struct dqw_blob *blob)
{
    size_t all = n + (blob != NULL ? 1 : 0);
    unsigned char *hdr, *p;
    size_t i;

    if (all == 0)
        return 0;
    if (all > 255)
        return DQW_EVALUE;
    hdr = dqw_grow(o, dqw_pad(1 + all));
    if (hdr == NULL)
        return DQW_ENOMEM;
    hdr[0] = (unsigned char)all;
    for (i = 0; i < n; i++)
        hdr[1 + i] = (unsigned char)dqw_type_of(values[i]);
    if (blob != NULL)
        hdr[1 + n] = DQW_BLOB;
    for (i = 0; i < n; i++) {
        const json_t *j = values[i];
        union {
            double d;
            uint64_t u;
        } f;
        char *text;

        switch (json_typeof(j)) {
        case JSON_INTEGER:
            dqw_put_u64(o, (uint64_t)json_integer_value(j));
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            dqw_put_u64(o, json_is_true(j) ? 1 : 0);
            break;
        case JSON_REAL:
            f.d = json_real_value(j);
            dqw_put_u64(o, f.u);
            break;
        case JSON_NULL:
            dqw_put_u64(o, 0);
            break;
        case JSON_STRING:
            /* dqlite's text is NUL-terminated: a value holding a NUL cannot travel intact. */
            if (memchr(json_string_value(j), '\0', json_string_length(j)) != NULL)
                return DQW_EVALUE;
            dqw_put_textn(o, json_string_value(j), json_string_length(j));
            break;
        default:
            text = json_dumps(j, JSON_COMPACT);
            if (text == NULL)
                return DQW_ENOMEM;
            dqw_put_text(o, text);
            free(text);
            break;
        }
    }
    if (blob != NULL) {
        dqw_put_u64(o, (uint64_t)blob->len);
        p = dqw_grow(o, dqw_pad(blob->len));
        if (p != NULL && blob->len > 0)
            memcpy(p, blob->p, blob->len);
    }
    return o->failed ? DQW_ENOMEM : 0;
}

void dqw_in_release(struct dqw_in *in)
{
    free(in->body);
    memset(in, 0, sizeof(*in));
}

int dqw_get_u64(struct dqw_in *in, uint64_t *v)
{
    if (in->len - in->pos < 8)
        return DQW_EPROTO;
    *v = dqw_rd64(in->body + in->pos);
    in->pos += 8;
    return 0;
}

int dqw_get_u32x2(struct dqw_in *in, uint32_t *a, uint32_t *b)
{
    uint64_t v;
    int rc = dqw_get_u64(in, &v);

    if (rc == 0) {
        *a = (uint32_t)v;
        *b = (uint32_t)(v >> 32);
    }
    return rc;
}

int dqw_get_text(struct dqw_in *in, const char **s)
{
    const unsigned char *start = in->body + in->pos;
    const unsigned char *nul = memchr(start, '\0', in->len - in->pos);
    size_t n;

    if (nul == NULL)
        return DQW_EPROTO;
    n = dqw_pad((size_t)(nul - start) + 1);
    if (n > in->len - in->pos)
        return DQW_EPROTO;
    *s = (const char *)start;
    in->pos += n;
    return 0;
}

int dqw_get_bytes(struct dqw_in *in, size_t n, const unsigned char **p)
{
    size_t padded = dqw_pad(n);

    if (padded < n || padded > in->len - in->pos)
        return DQW_EPROTO;
    *p = in->body + in->pos;
    in->pos += padded;
    return 0;
}

int dqw_get_row(struct dqw_in *in, size_t ncol, struct dqw_value *values)
{
    size_t hdr = dqw_pad((ncol + 1) / 2);
    const unsigned char *types;
    const unsigned char *p;
    uint64_t u;
    size_t i;
    int rc;

    if (hdr > in->len - in->pos)
        return DQW_EPROTO;
    types = in->body + in->pos;
    in->pos += hdr;
    for (i = 0; i < ncol; i++) {
        struct dqw_value *v = &values[i];
        union {
            double d;
            uint64_t u;
        } f;

        memset(v, 0, sizeof(*v));
        v->type = (types[i / 2] >> ((i % 2) * 4)) & 0x0f;
        switch (v->type) {
        case DQW_INTEGER:
        case DQW_UNIXTIME:
        case DQW_BOOLEAN:
            rc = dqw_get_u64(in, &u);
            v->i = (int64_t)u;
            v->type = DQW_INTEGER;
            break;
        case DQW_FLOAT:
            rc = dqw_get_u64(in, &f.u);
            v->d = f.d;
            break;
        case DQW_NULL:
            rc = dqw_get_u64(in, &u);
            break;
        case DQW_TEXT:
        case DQW_ISO8601:
            rc = dqw_get_text(in, &v->text);
            v->len = rc == 0 ? strlen(v->text) : 0;
            v->type = DQW_TEXT;
            break;
        case DQW_BLOB:
            rc = dqw_get_u64(in, &u);
            if (rc == 0 && u > in->len)
                rc = DQW_EPROTO;
            if (rc == 0)
                rc = dqw_get_bytes(in, (size_t)u, &p);
            if (rc == 0) {
                v->text = (const char *)p;
                v->len = (size_t)u;
            }
            break;
        default:
            rc = DQW_EPROTO;
            break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* All of len bytes written (or read); a short transfer is retried, an end or error is EIO. */
static int dqw_io_all(int fd, void *buf, size_t len, bool out)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = out ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DQW_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int dqw_write_all(int fd, const void *buf, size_t len)
{
    return dqw_io_all(fd, (void *)buf, len, true);
}

int dqw_send(int fd, uint8_t type, const struct dqw_out *body)
{
    unsigned char hdr[8] = {0};
    size_t words = body->len / DQW_WORD;
    int rc;

    if (body->failed)
        return DQW_ENOMEM;
    hdr[0] = (unsigned char)words;
    hdr[1] = (unsigned char)(words >> 8);
    hdr[2] = (unsigned char)(words >> 16);
    hdr[3] = (unsigned char)(words >> 24);
    hdr[4] = type;
    rc = dqw_write_all(fd, hdr, sizeof(hdr));
    if (rc == 0 && body->len > 0)
        rc = dqw_write_all(fd, body->p, body->len);
    return rc;
}

int dqw_recv(int fd, size_t max, struct dqw_in *in)
{
    unsigned char hdr[8];
    uint64_t words;
    int rc;

    dqw_in_release(in);
    rc = dqw_io_all(fd, hdr, sizeof(hdr), false);
    if (rc != 0)
        return rc;
    words =
        (uint64_t)hdr[0] | (uint64_t)hdr[1] << 8 | (uint64_t)hdr[2] << 16 | (uint64_t)hdr[3] << 24;
    /* The peer's length is checked against the limit before anything is allocated. */
    if (words > max / DQW_WORD)
        return DQW_EPROTO;
    in->type = hdr[4];
    in->len = (size_t)words * DQW_WORD;
    in->body = malloc(in->len > 0 ? in->len : 1);
    if (in->body == NULL)
        return DQW_ENOMEM;
    return dqw_io_all(fd, in->body, in->len, false);
}
