/*
 * The avatars plugin: one PNG or JPEG per user (store.c: checked in full, its bytes in the
 * avatars row of the database), served to any signed-in user with a cacheable versioned URL.
 */
#include "store.h"

#include "image.h"

#include <lintel/kit.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

LINTEL_KIT_INIT;

/* A versioned URL names bytes that never change: the browser keeps them (issue 18). */
#define AVATARS_CACHE_VERSIONED "private, max-age=31536000, immutable"
#define AVATARS_CACHE_CURRENT   "private, no-cache"

/* ---- handlers ---- */

/*
 * {"<url_key>": url signed for a short while (an <img> loads it without a header),
 *  "<url_key>_expires_at": ISO 8601} added to j_body.
 */
static int avatars_add_signed(lintel_req *req, json_t *j_body, const char *url, const char *url_key)
{
    char *signed_url = NULL, key[64], at[32];
    long long expires = 0;
    struct tm tm;
    time_t t;
    int rc;

    rc = lintel_url_sign(req, url, 0, &signed_url, &expires);
    if (rc != 0)
        return rc;
    t = (time_t)expires;
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    snprintf(key, sizeof(key), "%s_expires_at", url_key);
    if (json_object_set_new(j_body, url_key, json_string(signed_url)) != 0 ||
        json_object_set_new(j_body, key, json_string(at)) != 0)
        rc = LINTEL_ENOMEM;
    lintel_free(signed_url);
    return rc;
}

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
    rc = j_body != NULL ? avatars_add_signed(req, j_body, url, "signed_url") : LINTEL_ENOMEM;
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_body);
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

static int avatars_get(lintel_req *req, lintel_res *res, void *state)
{
    const struct avatars *a = state;
    const char *v = lintel_req_query(req, "v");
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
    /*
     * The version names the bytes; the ETag lets a client revalidate the unversioned URL (the
     * host answers a matching If-None-Match with 304: app/etag.c).
     */
    snprintf(etag, sizeof(etag), "\"%lld-%lld\"", uid, version);
    snprintf(vtext, sizeof(vtext), "%lld", version);
    rc = lintel_res_header(res, "ETag", etag);
    if (rc == 0)
        rc = lintel_res_header(res, "Cache-Control",
                               v != NULL && strcmp(v, vtext) == 0 ? AVATARS_CACHE_VERSIONED
                                                                  : AVATARS_CACHE_CURRENT);
    if (rc == 0)
        rc = lintel_res_bytes(res, 200, type, data, len);
cleanup:
    lintel_free(data);
    return rc;
}

/* GET /api/users/{id}/avatar/signed: a fresh signed URL of the current version. */
static int avatars_signed(lintel_req *req, lintel_res *res, void *state)
{
    long long uid = avatars_path_user(req);
    json_t *j_row = NULL, *j_body = NULL;
    char url[96];
    int rc;

    (void)state;
    rc = uid > 0 ? lintel_sql_rowf(req, &j_row,
                                   "SELECT a.version FROM avatars a JOIN users u ON u.id ="
                                   " a.user_id WHERE a.user_id = ?1 AND u.deleted_at IS NULL",
                                   "I", (json_int_t)uid)
                 : LINTEL_ENOTFOUND;
    if (rc == LINTEL_ENOTFOUND)
        rc = lintel_res_error(res, LINTEL_ENOTFOUND, NULL, "This user has no avatar.");
    if (rc != 0)
        goto cleanup;
    snprintf(url, sizeof(url), "/api/users/%lld/avatar?v=%lld", uid,
             (long long)json_integer_value(json_object_get(j_row, "version")));
    j_body = json_object();
    rc = j_body != NULL ? avatars_add_signed(req, j_body, url, "url") : LINTEL_ENOMEM;
    if (rc == 0)
        rc = lintel_res_json(res, 200, j_body);
cleanup:
    json_decref(j_body);
    json_decref(j_row);
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
    {"exp", LINTEL_PARAM_INTEGER, 0, 0, 0, NULL,
     "Signed URL (addition): when the signature expires, Unix seconds"},
    {"sig", LINTEL_PARAM_STRING, LINTEL_PARAM_MIN | LINTEL_PARAM_MAX, 43, 43, NULL,
     "Signed URL (addition): HMAC-SHA256 of the path and query, base64url; with it no "
     "Authorization header is needed (an <img> loads the URL). Expired: 401; forged: 403"},
    {0},
};

#define AVATARS_SIGNED_SCHEMA                                                                      \
    "{\"type\":\"object\",\"required\":[\"url\",\"url_expires_at\"],\"properties\":{"              \
    "\"url\":{\"type\":\"string\"},\"url_expires_at\":{\"type\":\"string\","                       \
    "\"format\":\"date-time\"}}}"

static const struct lintel_reply avatars_signed_replies[] = {
    {200, "A signed URL of the current avatar (addition), valid until url_expires_at",
     AVATARS_SIGNED_SCHEMA,
     "{\"url\":\"/api/users/2/avatar?v=1796155117050&exp=1796155717&sig="
     "MosZ1WK4uBmW166YPkrTMcosqi1QrasrJt5nQJj4R1c\",\"url_expires_at\":\"2026-12-01T20:08:37Z\"}"},
    {404, "The user has no avatar", NULL, NULL},
    {0},
};

static const struct lintel_reply avatars_get_replies[] = {
    {200, "The image (image/png or image/jpeg), with ETag and Cache-Control",
     LINTEL_SCHEMA_MEDIA("image/*"), NULL},
    {304, "Not Modified: If-None-Match holds the current ETag", NULL, NULL},
    {401, "No token and no signature, or the signed URL has expired", LINTEL_SCHEMA_PROBLEM, NULL},
    {403, "The URL signature is invalid", LINTEL_SCHEMA_PROBLEM, NULL},
    {404, "The user has no avatar", LINTEL_SCHEMA_PROBLEM, NULL},
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
                                LINTEL_SCHEMA_MEMBER("avatar_url", LINTEL_SCHEMA_STRING), NULL})},
    {.method = "DELETE",
     .path = "/api/users/me/avatar",
     .scope = "profile",
     .handler = avatars_delete,
     .summary = "Remove the user's avatar",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
    {.method = "GET",
     .path = "/api/users/{id}/avatar",
     .flags = LINTEL_ROUTE_SIGNED,
     .handler = avatars_get,
     .summary = "A user's avatar image",
     .query = avatars_get_query,
     .replies = avatars_get_replies},
    {.method = "GET",
     .path = "/api/users/{id}/avatar/signed",
     .handler = avatars_signed,
     .summary = "A short-lived signed URL of a user's avatar, for an <img> (addition)",
     .replies = avatars_signed_replies},
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
