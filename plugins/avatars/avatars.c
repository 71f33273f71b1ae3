/*
 * The avatars plugin: one PNG or JPEG per user (store.c: checked in full, its bytes in the
 * avatars row of the database), served to any signed-in user with a cacheable versioned URL.
 */
#include "store.h"

#include "image.h"

#include <lintel/kit.h>

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

/* A versioned URL names bytes that never change: the browser keeps them (issue 18). */
#define AVATARS_CACHE_VERSIONED "private, max-age=31536000, immutable"
#define AVATARS_CACHE_CURRENT   "private, no-cache"

/* ---- handlers ---- */

static int avatars_put(lintel_req *req, lintel_res *res, void *state)
{
    const struct avatars *a = state;
    json_t *j_body = NULL;
    char url[96];
    int rc;

    rc = avatars_store(a, req, res, url, sizeof(url));
    if (rc != 0)
        return rc;
    j_body = json_pack("{ss}", "avatar_url", url);
    rc = j_body != NULL ? lintel_res_json(res, 200, j_body) : LINTEL_ENOMEM;
    if (rc == 0)
        avatars_publish(req, lintel_req_user_id(req), "avatar.updated", url);
    json_decref(j_body);
    return rc;
}

/* The user id of the path: a positive integer, or "me"; 0 for anything else. */
static long long avatars_path_user(lintel_req *req)
{
    const char *param = lintel_req_param(req, "id");
    char *end = NULL;
    long long uid;

    if (param != NULL && strcmp(param, "me") == 0)
        return lintel_req_user_id(req);
    errno = 0;
    uid = param != NULL && param[0] >= '1' && param[0] <= '9' ? strtoll(param, &end, 10) : 0;
    return errno == 0 && end != NULL && *end == '\0' ? uid : 0;
}

/* Whether an If-None-Match list (RFC 9110 13.1.2: weak comparison) holds etag or "*". */
static bool avatars_etag_match(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = list;

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static int avatars_get(lintel_req *req, lintel_res *res, void *state)
{
    const struct avatars *a = state;
    const char *v = lintel_req_query(req, "v"), *inm = lintel_req_header(req, "If-None-Match");
    long long uid = avatars_path_user(req), version = 0;
    const char *type;
    char etag[64], vtext[24];
    void *data = NULL;
    size_t len = 0;
    int rc;

    rc = uid > 0 ? avatars_read(req, uid, &data, &len, &version) : LINTEL_ENOTFOUND;
    if (rc == LINTEL_ENOTFOUND) {
        rc = lintel_res_error(res, LINTEL_ENOTFOUND, NULL, "This user has no avatar.");
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    /* The type comes from the bytes served, so a concurrent replacement never mislabels. */
    type = avatars_image_type(data, len);
    if (type == NULL) {
        lintel_log(a->p, LINTEL_LOG_ERROR, "avatar of user %lld is neither a PNG nor a JPEG", uid);
        rc = LINTEL_EINTERNAL;
        goto cleanup;
    }
    /* The version names the bytes; the ETag lets a client revalidate the unversioned URL. */
    snprintf(etag, sizeof(etag), "\"%lld-%lld\"", uid, version);
    snprintf(vtext, sizeof(vtext), "%lld", version);
    rc = lintel_res_header(res, "ETag", etag);
    if (rc == 0)
        rc = lintel_res_header(res, "Cache-Control",
                               v != NULL && strcmp(v, vtext) == 0 ? AVATARS_CACHE_VERSIONED
                                                                  : AVATARS_CACHE_CURRENT);
    if (rc == 0 && inm != NULL && avatars_etag_match(inm, etag))
        rc = lintel_res_empty(res, 304);
    else if (rc == 0)
        rc = lintel_res_bytes(res, 200, type, data, len);
cleanup:
    lintel_free(data);
    return rc;
}

static int avatars_delete(lintel_req *req, lintel_res *res, void *state)
{
    long long uid = lintel_req_user_id(req), changes = 0;
    int rc;

    (void)state;
    rc = lintel_sql_execf(req, &changes, "DELETE FROM avatars WHERE user_id = ?1", "I",
                          (json_int_t)uid);
    if (rc != 0)
        return rc;
    /* Idempotent: deleting an avatar that is not there is no error (api.md: 204). */
    rc = lintel_res_empty(res, 204);
    if (rc == 0 && changes > 0)
        avatars_publish(req, uid, "avatar.deleted", NULL);
    return rc;
}

/* ---- lifecycle ---- */

static void avatars_unload(void *state)
{
    free(state);
}

static const struct lintel_param avatars_get_query[] = {
    {"v", LINTEL_PARAM_INTEGER, LINTEL_PARAM_MIN, 1, 0, NULL,
     "The version of avatar_url: when it is the current one the image is cached for a year"},
    {0},
};

static const struct lintel_reply avatars_get_replies[] = {
    {200, "The image (image/png or image/jpeg), with ETag and Cache-Control",
     LINTEL_SCHEMA_MEDIA("image/*")},
    {304, "Not Modified: If-None-Match holds the current ETag", NULL},
    {404, "The user has no avatar", LINTEL_SCHEMA_PROBLEM},
    {0},
};

static const struct lintel_route avatars_routes[] = {
    {.method = "PUT",
     .path = "/api/users/me/avatar",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "profile",
     .handler = avatars_put,
     .summary = "Upload the user's avatar (PNG or JPEG, raw or multipart)",
     .body_schema = LINTEL_SCHEMA_MEDIA("image/*"),
     .replies = LINTEL_REPLIES({200, "Where the new avatar is served",
                                "{\"type\":\"object\",\"required\":[\"avatar_url\"],"
                                "\"properties\":{\"avatar_url\":" LINTEL_SCHEMA_STRING "}}"})},
    {.method = "DELETE",
     .path = "/api/users/me/avatar",
     .scope = "profile",
     .handler = avatars_delete,
     .summary = "Remove the user's avatar",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "GET",
     .path = "/api/users/{id}/avatar",
     .handler = avatars_get,
     .summary = "A user's avatar image",
     .query = avatars_get_query,
     .replies = avatars_get_replies},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct avatars *a;
    int rc;

    LINTEL_KIT_DECLARE(p, api, "avatars", "1.1.0");
    (void)config;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_on_unload(p, avatars_unload, a);
    if (rc != 0) {
        free(a);
        return rc;
    }
    rc = avatars_setup(a, p);
    if (rc == 0)
        rc = lintel_routes_add(p, avatars_routes, LINTEL_COUNT(avatars_routes), a);
    return rc;
}
