/*
 * The avatars plugin: one PNG or JPEG per user (store.c: checked in full, stored atomically as
 * <data_dir>/avatars/<user id>), served to any signed-in user, announced on the user's sockets.
 */
#include "store.h"

#include <lintel/schemas.h>

#include "image.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- handlers ---- */

static int avatars_put(lintel_req *req, lintel_res *res, void *state)
{
    struct avatars *a = state;
    json_t *j_body = NULL;
    char url[96];
    int rc;

    avatars_purge(a, req);
    rc = avatars_store(a, req, res, url, sizeof(url));
    if (rc != 0)
        return rc;
    j_body = json_pack("{ss}", "avatar_url", url);
    rc = j_body != NULL ? a->api->res_json(res, 200, j_body) : LINTEL_ENOMEM;
    if (rc == 0)
        avatars_publish(a, req, a->api->req_user_id(req), "avatar.updated", url);
    json_decref(j_body);
    return rc;
}

static int avatars_get(lintel_req *req, lintel_res *res, void *state)
{
    struct avatars *a = state;
    const struct lintel_api *api = a->api;
    const char *param = api->req_param(req, "id"), *type;
    json_t *j_params = NULL, *j_row = NULL;
    unsigned char *data = NULL;
    char *end = NULL;
    long long uid;
    size_t len = 0;
    int rc;

    avatars_purge(a, req);
    if (param != NULL && strcmp(param, "me") == 0) {
        uid = api->req_user_id(req);
    } else {
        errno = 0;
        uid = param != NULL && param[0] >= '1' && param[0] <= '9' ? strtoll(param, &end, 10) : 0;
        if (errno != 0 || end == NULL || *end != '\0')
            uid = 0;
    }
    if (uid <= 0) {
        rc = api->res_error(res, LINTEL_ENOTFOUND, NULL, "This user has no avatar.");
        goto cleanup;
    }
    j_params = json_pack("[I]", (json_int_t)uid);
    if (j_params == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = api->sql_row(req,
                      "SELECT a.version FROM avatars a JOIN users u ON u.id = a.user_id"
                      " WHERE a.user_id = ?1 AND u.deleted_at IS NULL",
                      j_params, &j_row);
    if (rc == 0)
        rc = avatars_read(a, uid, &data, &len);
    if (rc == LINTEL_ENOTFOUND) {
        rc = api->res_error(res, LINTEL_ENOTFOUND, NULL, "This user has no avatar.");
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    /* The type comes from the bytes served, so a concurrent replacement never mislabels. */
    type = avatars_image_type(data, len);
    if (type == NULL) {
        api->log(a->p, LINTEL_LOG_ERROR, "avatar of user %lld is neither a PNG nor a JPEG", uid);
        rc = LINTEL_EINTERNAL;
        goto cleanup;
    }
    rc = api->res_bytes(res, 200, type, data, len);
cleanup:
    free(data);
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

static int avatars_delete(lintel_req *req, lintel_res *res, void *state)
{
    struct avatars *a = state;
    const struct lintel_api *api = a->api;
    long long uid = api->req_user_id(req), changes = 0;
    json_t *j_params = NULL;
    char path[4200];
    int rc;

    avatars_purge(a, req);
    j_params = json_pack("[I]", (json_int_t)uid);
    if (j_params == NULL)
        return LINTEL_ENOMEM;
    rc = api->sql_exec(req, "DELETE FROM avatars WHERE user_id = ?1", j_params, &changes, NULL);
    json_decref(j_params);
    if (rc != 0)
        return rc;
    avatars_path(a, uid, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        api->log(a->p, LINTEL_LOG_WARNING, "cannot remove %s: %s", path, strerror(errno));
    /* Idempotent: deleting an avatar that is not there is no error (api.md: 204). */
    rc = api->res_empty(res, 204);
    if (rc == 0 && changes > 0)
        avatars_publish(a, req, uid, "avatar.deleted", NULL);
    return rc;
}

/* ---- lifecycle ---- */

static void avatars_unload(void *state)
{
    free(state);
}

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
     .replies = LINTEL_REPLIES({200, "The image (PNG or JPEG)", LINTEL_SCHEMA_MEDIA("image/*")})},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct avatars *a;
    int rc;

    LINTEL_PLUGIN_DECLARE(p, api, "avatars", "1.0.0");
    (void)config;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return LINTEL_ENOMEM;
    rc = api->on_unload(p, avatars_unload, a);
    if (rc != 0) {
        free(a);
        return rc;
    }
    rc = avatars_setup(a, p, api);
    if (rc != 0)
        return rc;
    return api->routes_add(p, avatars_routes, sizeof(avatars_routes) / sizeof(avatars_routes[0]),
                           a);
}
