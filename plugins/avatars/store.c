/*
 * Avatar storage shared by the avatars plugin and the profiles that take avatars: the upload,
 * its checks, the bytes and their version in the avatars row (one transaction), the event.
 */
#include "store.h"

#include "image.h"

#include <lintel/kit.h>
#include <lintel/media_type.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define AVATARS_READ_CAP   (64 * 1024 * 1024) /* the largest avatar_max: never read more   */
#define AVATARS_MP_PARTS   16                 /* multipart: parts looked at               */
#define AVATARS_MP_HEADERS 8192               /* multipart: bytes of one part's headers   */

/* ---- multipart/form-data (RFC 7578), only as much as one file field needs ---- */

struct avatars_part {
    const unsigned char *data;
    size_t len;
    char type[128]; /* the part's media type, "" when it has none */
};

/*
 * Finds the first part named "file" of a multipart body. 0, LINTEL_EMALFORMED (detail
 * recorded) for a body that breaks the format, LINTEL_EPARAM when there is no such part.
 */
static int avatars_multipart(lintel_res *res, const char *content_type, const unsigned char *body,
                             size_t n, struct avatars_part *out)
{
    char boundary[71], delim[75], headers[AVATARS_MP_HEADERS + 1];
    const unsigned char *p, *end = body + n;
    size_t dlen, parts;
    bool found = false;

    memset(out, 0, sizeof(*out));
    if (lintel_media_param(content_type, "boundary", boundary, sizeof(boundary)) != 0)
        return lintel_res_error(res, LINTEL_EMALFORMED, NULL,
                                "multipart/form-data needs a boundary of 1 to 70 characters.");
    dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    /* The first delimiter may open the body (no preamble) or follow a preamble line. */
    if (n >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((p = memmem(body, n, delim, dlen)) != NULL)
        p += dlen;
    else
        return lintel_res_error(res, LINTEL_EMALFORMED, NULL,
                                "The multipart body has no part with the given boundary.");
    for (parts = 0; parts < AVATARS_MP_PARTS; parts++) {
        const unsigned char *hend, *next;
        char name[64], disp[1024];
        const char *line;
        size_t hlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return found ? 0 : lintel_res_error(res, LINTEL_EPARAM, "file", "is required");
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            break;
        p += 2;
        hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (hend == NULL || (size_t)(hend - p) > AVATARS_MP_HEADERS)
            break;
        hlen = (size_t)(hend - p);
        memcpy(headers, p, hlen);
        headers[hlen] = '\0';
        p = hend + 4;
        next = memmem(p, (size_t)(end - p), delim, dlen);
        if (next == NULL)
            break;
        disp[0] = '\0';
        name[0] = '\0';
        for (line = headers; line != NULL && *line != '\0';) {
            const char *eol = strstr(line, "\r\n");
            size_t llen = eol != NULL ? (size_t)(eol - line) : strlen(line);
            if (llen > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0)
                snprintf(disp, sizeof(disp), "%.*s", (int)(llen - 20), line + 20);
            else if (!found && llen > 13 && strncasecmp(line, "Content-Type:", 13) == 0)
                snprintf(out->type, sizeof(out->type), "%.*s", (int)(llen - 13), line + 13);
            line = eol != NULL ? eol + 2 : NULL;
        }
        if (!found && lintel_media_param(disp, "name", name, sizeof(name)) == 0 &&
            strcmp(name, "file") == 0) {
            char mt[128];
            lintel_media_type(out->type, mt, sizeof(mt));
            snprintf(out->type, sizeof(out->type), "%s", mt);
            out->data = p;
            out->len = (size_t)(next - p);
            found = true;
        } else if (!found) {
            out->type[0] = '\0';
        }
        p = next + dlen;
    }
    return lintel_res_error(res, LINTEL_EMALFORMED, NULL,
                            "The multipart body is malformed or has more than 16 parts.");
}

/* ---- the bytes, in the database ---- */

int avatars_read(lintel_req *req, long long uid, void **data, size_t *len, long long *version)
{
    json_t *j_row = NULL;
    int rc;

    *version = 0;
    rc = lintel_sql_blob_rowf(req, AVATARS_READ_CAP, data, len, &j_row,
                              "SELECT a.image, a.version FROM avatars a JOIN users u"
                              " ON u.id = a.user_id WHERE a.user_id = ?1 AND u.deleted_at IS NULL",
                              "I", (json_int_t)uid);
    if (rc == 0)
        *version = (long long)json_integer_value(json_object_get(j_row, "version"));
    json_decref(j_row);
    return rc;
}

/*
 * Stores data as uid's avatar in one transaction: the bytes and a version that only grows
 * (every change gives a new avatar_url). *version 0: the account is gone.
 */
static int avatars_write(lintel_req *req, long long uid, const void *data, size_t len,
                         long long *version)
{
    struct timespec now;
    json_t *j_row = NULL;
    long long changes = 0;
    int rc;

    *version = 0;
    clock_gettime(CLOCK_REALTIME, &now);
    rc = lintel_sql_begin(req);
    if (rc == 0)
        rc = lintel_sql_exec_blob(
            req, &changes, data, len,
            "INSERT INTO avatars (user_id, version, image) SELECT ?1, ?2, ?3 WHERE EXISTS"
            " (SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL)"
            " ON CONFLICT (user_id) DO UPDATE SET version = max(excluded.version,"
            " avatars.version + 1), image = excluded.image,"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            "II", (json_int_t)uid,
            (json_int_t)now.tv_sec * 1000 + (json_int_t)(now.tv_nsec / 1000000));
    if (rc == 0 && changes > 0)
        rc = lintel_sql_rowf(req, &j_row, "SELECT version FROM avatars WHERE user_id = ?1", "I",
                             (json_int_t)uid);
    if (rc == 0)
        rc = lintel_sql_commit(req);
    if (rc == 0 && changes > 0)
        *version = (long long)json_integer_value(json_object_get(j_row, "version"));
    json_decref(j_row);
    return rc;
}

/* ---- events ---- */

void avatars_publish(lintel_req *req, long long uid, const char *event, const char *url)
{
    json_t *j_event;
    char *signed_url = NULL;

    /* "o" steals the new value; jansson 2.14 has no "s?" inside an object. */
    j_event = json_pack("{ss sI so}", "event", event, "user_id", (json_int_t)uid, "avatar_url",
                        url != NULL ? json_string(url) : json_null());
    /* a page listening on /api/ws can put the new image in an <img> at once */
    if (j_event != NULL && url != NULL && lintel_url_sign(req, url, 0, &signed_url, NULL) == 0)
        json_object_set_new(j_event, "signed_url", json_string(signed_url));
    if (j_event != NULL)
        lintel_event_publish(req, uid, j_event);
    lintel_free(signed_url);
    json_decref(j_event);
}

/* ---- the upload ---- */

int avatars_store(const struct avatars *a, lintel_req *req, lintel_res *res, char *url, size_t size)
{
    long long uid = lintel_req_user_id(req), version = 0;
    const char *ct = lintel_req_header(req, "Content-Type"), *actual, *defect, *declared;
    char mt[128];
    struct avatars_part part;
    const unsigned char *data;
    size_t len;
    int rc;

    data = lintel_req_body(req, &len);
    lintel_media_type(ct, mt, sizeof(mt));
    if (strcmp(mt, "multipart/form-data") == 0) {
        rc = avatars_multipart(res, ct, data, len, &part);
        if (rc != 0)
            return rc;
        data = part.data;
        len = part.len;
        /* A part without a type (or a generic one) is judged by its content alone. */
        declared = part.type[0] != '\0' && strcmp(part.type, "application/octet-stream") != 0
                       ? part.type
                       : NULL;
    } else if (strcmp(mt, "image/png") == 0 || strcmp(mt, "image/jpeg") == 0) {
        declared = mt;
    } else {
        return lintel_res_error(res, LINTEL_EMEDIATYPE, NULL,
                                "Send the avatar as image/png or image/jpeg, or as "
                                "multipart/form-data with a field named file.");
    }
    /* The host refused a body over the route's limit before reading it; this is the field's. */
    if ((long long)len > a->max)
        return lintel_res_error(res, LINTEL_ETOOLARGE, NULL,
                                "The avatar is larger than %lld bytes.", a->max);
    if (declared != NULL && strcmp(declared, "image/png") != 0 &&
        strcmp(declared, "image/jpeg") != 0)
        return lintel_res_error(res, LINTEL_EMEDIATYPE, NULL,
                                "The file is declared as %.64s; only image/png and image/jpeg "
                                "are accepted.",
                                declared);
    actual = avatars_image_check(data, len, &defect);
    if (actual == NULL)
        return lintel_res_error(res, LINTEL_EMEDIATYPE, NULL, "Not a valid avatar: %s.", defect);
    if (declared != NULL && strcmp(declared, actual) != 0)
        return lintel_res_error(res, LINTEL_EMEDIATYPE, NULL,
                                "The body is declared as %s but its content is %s.", declared,
                                actual);
    rc = avatars_write(req, uid, data, len, &version);
    if (rc != 0)
        return rc;
    if (version == 0) /* the account was deleted while the upload ran */
        return lintel_res_error(res, LINTEL_ENOTFOUND, NULL, "This account no longer exists.");
    snprintf(url, size, "/api/users/%lld/avatar?v=%lld", uid, version);
    return 0;
}

/* ---- lifecycle ---- */

int avatars_setup(struct avatars *a, lintel_plugin *p)
{
    /* avatar_max (LINTEL_AVATAR_MAX) as the host validated it */
    a->p = p;
    return lintel_setting_int(p, "avatar_max", &a->max);
}
