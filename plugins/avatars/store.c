/*
 * Avatar storage shared by the avatars plugin and the profiles that take avatars: the upload,
 * its checks, the file written atomically as <data_dir>/avatars/<user id>, the row, the event.
 */
#include "store.h"

#include "image.h"

#include <lintel/media_type.h>
#include <lintel/plugin.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AVATARS_READ_CAP   (64 * 1024 * 1024) /* never read a larger file into memory     */
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
static int avatars_multipart(struct avatars *a, lintel_res *res, const char *content_type,
                             const unsigned char *body, size_t n, struct avatars_part *out)
{
    char boundary[71], delim[75], headers[AVATARS_MP_HEADERS + 1];
    const unsigned char *p, *end = body + n;
    size_t dlen, parts;
    bool found = false;

    memset(out, 0, sizeof(*out));
    if (lintel_media_param(content_type, "boundary", boundary, sizeof(boundary)) != 0)
        return a->api->res_error(res, LINTEL_EMALFORMED, NULL,
                                 "multipart/form-data needs a boundary of 1 to 70 characters.");
    dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    /* The first delimiter may open the body (no preamble) or follow a preamble line. */
    if (n >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((p = memmem(body, n, delim, dlen)) != NULL)
        p += dlen;
    else
        return a->api->res_error(res, LINTEL_EMALFORMED, NULL,
                                 "The multipart body has no part with the given boundary.");
    for (parts = 0; parts < AVATARS_MP_PARTS; parts++) {
        const unsigned char *hend, *next;
        char name[64], disp[1024];
        const char *line;
        size_t hlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return found ? 0 : a->api->res_error(res, LINTEL_EPARAM, "file", "is required");
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
    return a->api->res_error(res, LINTEL_EMALFORMED, NULL,
                             "The multipart body is malformed or has more than 16 parts.");
}

/* ---- files ---- */

void avatars_path(const struct avatars *a, long long uid, char *out, size_t size)
{
    snprintf(out, size, "%s/%lld", a->dir, uid);
}

/* Writes data as the user's avatar: temp file, fsync, rename over, fsync the directory. */
static int avatars_write(struct avatars *a, long long uid, const void *data, size_t len)
{
    char path[4200], tmp[4200];
    const unsigned char *b = data;
    size_t off = 0;
    int fd = -1, dfd = -1, closed, rc = LINTEL_EINTERNAL;

    avatars_path(a, uid, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s/.%lld.XXXXXX", a->dir, uid);
    fd = mkstemp(tmp); /* mode 0600, a name no client chose */
    if (fd < 0) {
        a->api->log(a->p, LINTEL_LOG_ERROR, "cannot create a file in %s: %s", a->dir,
                    strerror(errno));
        tmp[0] = '\0';
        goto cleanup;
    }
    while (off < len) {
        ssize_t w = write(fd, b + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            a->api->log(a->p, LINTEL_LOG_ERROR, "cannot write %s: %s", tmp, strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    /* cleanup closes fd when fsync fails; close itself releases it whatever it answers */
    if (fsync(fd) != 0) {
        a->api->log(a->p, LINTEL_LOG_ERROR, "cannot sync %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    closed = close(fd);
    fd = -1;
    if (closed != 0) {
        a->api->log(a->p, LINTEL_LOG_ERROR, "cannot close %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        a->api->log(a->p, LINTEL_LOG_ERROR, "cannot rename to %s: %s", path, strerror(errno));
        goto cleanup;
    }
    tmp[0] = '\0';
    /* The rename itself survives a crash only once the directory is on disk. */
    dfd = open(a->dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0)
        fsync(dfd);
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp[0] != '\0')
        unlink(tmp);
    return rc;
}

int avatars_read(struct avatars *a, long long uid, unsigned char **data, size_t *len)
{
    char path[4200];
    struct stat st;
    size_t off = 0;
    int fd, rc = LINTEL_EINTERNAL;

    *data = NULL;
    *len = 0;
    avatars_path(a, uid, path, sizeof(path));
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? LINTEL_ENOTFOUND : LINTEL_EINTERNAL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > AVATARS_READ_CAP)
        goto cleanup;
    *data = malloc((size_t)st.st_size + 1);
    if (*data == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    while (off < (size_t)st.st_size) {
        ssize_t r = read(fd, *data + off, (size_t)st.st_size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    *len = off;
    rc = 0;
cleanup:
    if (rc != 0) {
        free(*data);
        *data = NULL;
    }
    close(fd);
    return rc;
}

void avatars_purge(struct avatars *a, lintel_req *req)
{
    json_t *j_rows = NULL, *j_row, *j_params;
    char path[4200];
    size_t i;

    if (a->api->sql_query(req, "SELECT user_id FROM avatar_orphans LIMIT 16", NULL, &j_rows) != 0)
        return;
    json_array_foreach(j_rows, i, j_row) {
        long long uid = (long long)json_integer_value(json_object_get(j_row, "user_id"));
        avatars_path(a, uid, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            continue;
        j_params = json_pack("[I]", (json_int_t)uid);
        if (j_params != NULL)
            a->api->sql_exec(req, "DELETE FROM avatar_orphans WHERE user_id = ?1", j_params, NULL,
                             NULL);
        json_decref(j_params);
    }
    json_decref(j_rows);
}

/* ---- events ---- */

void avatars_publish(struct avatars *a, lintel_req *req, long long uid, const char *event,
                     const char *url)
{
    json_t *j_event;

    /* "o" steals the new value; jansson 2.14 has no "s?" inside an object. */
    j_event = json_pack("{ss sI so}", "event", event, "user_id", (json_int_t)uid, "avatar_url",
                        url != NULL ? json_string(url) : json_null());
    if (j_event != NULL)
        a->api->event_publish(req, uid, j_event);
    json_decref(j_event);
}

/* ---- the upload ---- */

int avatars_store(struct avatars *a, lintel_req *req, lintel_res *res, char *url, size_t size)
{
    const struct lintel_api *api = a->api;
    long long uid = api->req_user_id(req), version = 0, changes = 0;
    const char *ct = api->req_header(req, "Content-Type"), *actual, *defect, *declared;
    char mt[128], path[4200];
    struct avatars_part part;
    const unsigned char *data;
    json_t *j_params = NULL, *j_row = NULL;
    struct timespec now;
    size_t len;
    int rc;

    data = api->req_body(req, &len);
    lintel_media_type(ct, mt, sizeof(mt));
    if (strcmp(mt, "multipart/form-data") == 0) {
        rc = avatars_multipart(a, res, ct, data, len, &part);
        if (rc != 0)
            goto cleanup;
        data = part.data;
        len = part.len;
        /* A part without a type (or a generic one) is judged by its content alone. */
        declared = part.type[0] != '\0' && strcmp(part.type, "application/octet-stream") != 0
                       ? part.type
                       : NULL;
    } else if (strcmp(mt, "image/png") == 0 || strcmp(mt, "image/jpeg") == 0) {
        declared = mt;
    } else {
        rc = api->res_error(res, LINTEL_EMEDIATYPE, NULL,
                            "Send the avatar as image/png or image/jpeg, or as "
                            "multipart/form-data with a field named file.");
        goto cleanup;
    }
    if ((long long)len > a->max) {
        rc = api->res_error(res, LINTEL_ETOOLARGE, NULL, "The avatar is larger than %lld bytes.",
                            a->max);
        goto cleanup;
    }
    if (declared != NULL && strcmp(declared, "image/png") != 0 &&
        strcmp(declared, "image/jpeg") != 0) {
        rc = api->res_error(res, LINTEL_EMEDIATYPE, NULL,
                            "The file is declared as %.64s; only image/png and image/jpeg are "
                            "accepted.",
                            declared);
        goto cleanup;
    }
    actual = avatars_image_check(data, len, &defect);
    if (actual == NULL) {
        rc = api->res_error(res, LINTEL_EMEDIATYPE, NULL, "Not a valid avatar: %s.", defect);
        goto cleanup;
    }
    if (declared != NULL && strcmp(declared, actual) != 0) {
        rc = api->res_error(res, LINTEL_EMEDIATYPE, NULL,
                            "The body is declared as %s but its content is %s.", declared, actual);
        goto cleanup;
    }
    rc = avatars_write(a, uid, data, len);
    if (rc != 0)
        goto cleanup;
    /* The version only grows, so every change gives a new avatar_url. */
    clock_gettime(CLOCK_REALTIME, &now);
    j_params = json_pack("[II]", (json_int_t)uid,
                         (json_int_t)now.tv_sec * 1000 + (json_int_t)(now.tv_nsec / 1000000));
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = api->sql_begin(req);
    if (rc == 0)
        rc = api->sql_exec(
            req,
            "INSERT INTO avatars (user_id, version) SELECT ?1, ?2 WHERE EXISTS"
            " (SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL)"
            " ON CONFLICT (user_id) DO UPDATE SET version = max(excluded.version,"
            " avatars.version + 1), updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            j_params, &changes, NULL);
    json_decref(j_params);
    j_params = json_pack("[I]", (json_int_t)uid);
    if (rc == 0 && j_params == NULL)
        rc = LINTEL_ENOMEM;
    if (rc == 0 && changes > 0)
        rc = api->sql_row(req, "SELECT version FROM avatars WHERE user_id = ?1", j_params, &j_row);
    if (rc == 0)
        rc = api->sql_commit(req);
    if (rc != 0)
        goto cleanup;
    if (changes == 0) {
        /* The account was deleted while the upload ran. */
        avatars_path(a, uid, path, sizeof(path));
        unlink(path);
        rc = api->res_error(res, LINTEL_ENOTFOUND, NULL, "This account no longer exists.");
        goto cleanup;
    }
    version = (long long)json_integer_value(json_object_get(j_row, "version"));
    snprintf(url, size, "/api/users/%lld/avatar?v=%lld", uid, version);
cleanup:
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

/* ---- lifecycle ---- */

/* Removes temporary files a crash left behind (".<id>.XXXXXX"). */
static void avatars_sweep(struct avatars *a)
{
    DIR *d = opendir(a->dir);
    struct dirent *e;
    char path[4400];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", a->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int avatars_setup(struct avatars *a, lintel_plugin *p, const struct lintel_api *api)
{
    const char *data_dir;
    int rc;

    a->api = api;
    a->p = p;
    /* avatar_max (LINTEL_AVATAR_MAX) and data_dir as the host validated them. */
    rc = api->setting_int(p, "avatar_max", &a->max);
    if (rc == 0)
        rc = api->setting_str(p, "data_dir", &data_dir);
    if (rc != 0)
        return rc;
    if (data_dir == NULL ||
        snprintf(a->dir, sizeof(a->dir), "%s/avatars", data_dir) >= (int)sizeof(a->dir)) {
        api->log(p, LINTEL_LOG_ERROR, "the data directory path is too long");
        return LINTEL_EPARAM;
    }
    if (mkdir(a->dir, 0700) != 0 && errno != EEXIST) {
        api->log(p, LINTEL_LOG_ERROR, "cannot create %s: %s", a->dir, strerror(errno));
        return LINTEL_EINTERNAL;
    }
    avatars_sweep(a);
    return 0;
}
