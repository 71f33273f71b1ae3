/*
 * Compatibility profile "chililabs": seed 001's API (/register, /login, /avatar, DELETE /user,
 * /health) in its JSend and FastAPI shapes, over lintel's users, sessions and avatar storage
 * (plugins/avatars/store.c: the avatars plugin's own upload, checks and rows).
 */
#include "compat.h"
#include "store.h"

#include <lintel/media_type.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LINTEL_KIT_INIT;

extern const struct lintel_embedded_sql compat_chililabs_migrations[];

#define CHILI_TTL    3600 /* the seed's tokens live 60 minutes */
#define CHILI_ID_MAX 255  /* bytes of an identifier (the table's CHECK) */
#define CHILI_TAKEN  "Identifier already exists"
#define CHILI_BAD    "Invalid identifier or password"
/* The identifier of a user: its row of the profile, else (a user made through lintel's API)
 * its username. */
#define CHILI_IDENT                                                                                \
    "coalesce((SELECT identifier FROM compat_chililabs_identifiers WHERE user_id = u.id),"         \
    " u.username)"

static const struct compat_fastapi chili_errors = {.invalid_status = 401,
                                                   .invalid_detail = "Invalid or expired token"};

/*
 * The seed answers a deleted user's token with "User not authorized"; here deletion ends the
 * sessions, so a revoked token gets that answer (on every route). The rest is FastAPI's.
 */
static int chili_render(lintel_req *req, lintel_res *res, unsigned status, int rc,
                        const char *detail, const json_t *j_errors, void *state)
{
    const char *why = compat_auth_reason(j_errors);

    if (why != NULL && strcmp(why, "revoked") == 0)
        return compat_detail(res, 401, "User not authorized");
    return compat_fastapi_render(req, res, status, rc, detail, j_errors, state);
}

/* {identifier, password} of a body as the seed's pydantic model reads it; 0 or a reply written. */
static int chili_credentials(lintel_req *req, lintel_res *res, json_t **j_body,
                             const char **identifier, const char **password)
{
    json_t *j_items = json_array();
    int rc = 0;

    if (j_items == NULL)
        return LINTEL_ENOMEM;
    if (compat_body(req, j_items, j_body) == 0) {
        compat_str(*j_body, "identifier", 1, j_items, identifier);
        compat_str(*j_body, "password", 1, j_items, password);
        if (*identifier != NULL && strlen(*identifier) > CHILI_ID_MAX)
            compat_item(j_items, "string_too_long", json_pack("[ss]", "body", "identifier"),
                        "String should have at most 255 characters", json_string(*identifier),
                        json_pack("{si}", "max_length", CHILI_ID_MAX));
    }
    if (json_array_size(j_items) > 0) {
        rc = compat_422(res, j_items);
        if (rc == 0)
            rc = 1; /* answered */
    }
    json_decref(j_items);
    return rc;
}

/* The JSend {token, identifier} of a session the host opened (j_out of login/session_start). */
static int chili_token_reply(lintel_res *res, const json_t *j_out, const char *identifier)
{
    json_t *j_data = json_pack("{sO ss}", "token", json_object_get(j_out, "access_token"),
                               "identifier", identifier);
    int rc = j_data != NULL ? compat_jsend(res, 200, j_data) : LINTEL_ENOMEM;

    json_decref(j_data);
    return rc;
}

/* A username for an identifier that is not one itself: "cl_" and 12 random characters. */
static int chili_username(lintel_req *req, const char *identifier, char *out, size_t size)
{
    json_t *j_row = NULL;
    char *rnd = NULL;
    int rc;

    rc = lintel_sql_rowf(req, &j_row, "SELECT lintel_rule_username(?1) IS NULL AS ok", "s",
                         identifier);
    if (rc == 0 && json_integer_value(json_object_get(j_row, "ok")) == 1) {
        snprintf(out, size, "%s", identifier);
        goto cleanup;
    }
    if (rc == 0)
        rc = lintel_random_token(9, &rnd);
    if (rc == 0)
        snprintf(out, size, "cl_%s", rnd);
cleanup:
    lintel_free(rnd);
    json_decref(j_row);
    return rc;
}

/* POST /register {identifier, password} -> JSend {token, identifier} */
static int chili_register(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_user = NULL, *j_out = NULL, *j_row = NULL;
    struct lintel_user_new in = {0};
    struct lintel_login session = {.ttl = CHILI_TTL};
    const char *identifier = NULL;
    char username[CHILI_ID_MAX + 1];
    long long uid = 0;
    int rc;

    (void)state;
    rc = chili_credentials(req, res, &j_body, &identifier, &in.password);
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto cleanup;
    }
    /* taken, also by a deleted account: identifiers stay reserved as usernames do */
    rc = lintel_sql_rowf(
        req, &j_row, "SELECT 1 AS taken FROM compat_chililabs_identifiers WHERE identifier = ?1",
        "s", identifier);
    if (rc == 0) {
        rc = compat_detail(res, 400, CHILI_TAKEN);
        goto cleanup;
    }
    if (rc != LINTEL_ENOTFOUND)
        goto cleanup;
    rc = chili_username(req, identifier, username, sizeof(username));
    if (rc != 0)
        goto cleanup;
    in.username = username;
    rc = lintel_user_create(req, &in, &j_user);
    if (rc == LINTEL_ECONFLICT) {
        rc = compat_detail(res, 400, CHILI_TAKEN);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup; /* the password rule's 422, rendered by chili_render */
    uid = (long long)json_integer_value(json_object_get(j_user, "id"));
    rc = lintel_sql_execf(req, NULL,
                          "INSERT INTO compat_chililabs_identifiers (user_id, identifier)"
                          " VALUES (?1, ?2)",
                          "Is", (json_int_t)uid, identifier);
    if (rc == LINTEL_ECONFLICT) {
        /* a concurrent registration of the same identifier won: this account goes again */
        lintel_user_delete(req, uid);
        rc = compat_detail(res, 400, CHILI_TAKEN);
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    session.sub = identifier;
    rc = lintel_session_start(req, uid, &session, &j_out);
    if (rc == 0)
        rc = chili_token_reply(res, j_out, identifier);
cleanup:
    json_decref(j_row);
    json_decref(j_out);
    json_decref(j_user);
    json_decref(j_body);
    return rc;
}

/*
 * POST /login {identifier, password} -> JSend {token, identifier}. Unknown, deleted and wrong
 * password are one answer (the seed told them apart: user enumeration).
 */
static int chili_login(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_row = NULL, *j_out = NULL;
    struct lintel_login in = {.ttl = CHILI_TTL};
    const char *identifier = NULL;
    int rc;

    (void)state;
    rc = chili_credentials(req, res, &j_body, &identifier, &in.password);
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto cleanup;
    }
    /* the identifier's user, or a user of lintel's API (no identifier row) by its username */
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT u.username FROM users u LEFT JOIN compat_chililabs_identifiers i"
                         " ON i.user_id = u.id WHERE i.identifier = ?1 OR (i.user_id IS NULL AND"
                         " u.username = ?1 COLLATE NOCASE) LIMIT 1",
                         "s", identifier);
    if (rc != 0 && rc != LINTEL_ENOTFOUND)
        goto cleanup;
    /* no such user: the host spends one verification all the same, and counts the failure
     * against this identifier as it would against a username */
    in.login = rc == 0 ? json_string_value(json_object_get(j_row, "username")) : identifier;
    in.sub = identifier;
    rc = lintel_login(req, &in, &j_out);
    if (rc == LINTEL_EAUTH) {
        rc = compat_detail(res, 401, CHILI_BAD);
        goto cleanup;
    }
    if (rc == 0)
        rc = chili_token_reply(res, j_out, identifier);
cleanup:
    json_decref(j_out);
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* 422 as FastAPI answers a form without its required UploadFile "file". */
static int chili_no_file(lintel_res *res)
{
    json_t *j_items = json_array();
    int rc = LINTEL_ENOMEM;

    if (j_items != NULL && compat_item(j_items, "missing", json_pack("[ss]", "body", "file"),
                                       "Field required", NULL, NULL) == LINTEL_EPARAM)
        rc = compat_422(res, j_items);
    json_decref(j_items);
    return rc;
}

/*
 * POST /avatar, multipart field "file" -> JSend {"avatar_url": "avatars/<identifier>.png"}: the
 * seed's reply, while the image is stored, checked and served as lintel's avatar of the user
 * (never under a name made of the identifier).
 */
static int chili_avatar(lintel_req *req, lintel_res *res, void *state)
{
    struct avatars *a = state;
    json_t *j_row = NULL, *j_data = NULL;
    char mt[128], url[96], *seed_url = NULL;
    long long uid = lintel_req_user_id(req);
    int rc;

    lintel_media_type(lintel_req_header(req, "Content-Type"), mt, sizeof(mt));
    if (strcmp(mt, "multipart/form-data") != 0)
        return chili_no_file(res); /* FastAPI finds no form field in any other body */
    rc = avatars_store(a, req, res, url, sizeof(url));
    if (rc == LINTEL_EPARAM)
        return chili_no_file(res);
    if (rc != 0)
        return rc; /* 400, 413, 415 as {"detail": ...} (chili_render) */
    rc = lintel_sql_rowf(req, &j_row,
                         "SELECT 'avatars/' || " CHILI_IDENT " || '.png' AS url FROM users u"
                         " WHERE u.id = ?1",
                         "I", (json_int_t)uid);
    if (rc != 0)
        goto cleanup;
    seed_url = strdup(json_string_value(json_object_get(j_row, "url")));
    j_data = seed_url != NULL ? json_pack("{ss}", "avatar_url", seed_url) : NULL;
    rc = j_data != NULL ? compat_jsend(res, 200, j_data) : LINTEL_ENOMEM;
    if (rc == 0) /* lintel's event, as the avatars plugin sends it; /ws/avatar maps it */
        avatars_publish(req, uid, "avatar.updated", url);
cleanup:
    free(seed_url);
    json_decref(j_data);
    json_decref(j_row);
    return rc;
}

/* DELETE /user -> JSend {message}: lintel's account deletion (sessions end, data goes) */
static int chili_delete(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_data = NULL;
    int rc;

    (void)state;
    rc = lintel_user_delete(req, lintel_req_user_id(req));
    if (rc == LINTEL_ENOTFOUND)
        return compat_detail(res, 404, "User not found");
    if (rc != 0)
        return rc;
    j_data = json_pack("{ss}", "message", "User deleted successfully");
    rc = j_data != NULL ? compat_jsend(res, 200, j_data) : LINTEL_ENOMEM;
    json_decref(j_data);
    return rc;
}

/* GET /health -> the seed's JSend body, word for word */
static int chili_health(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_data = json_pack("{ss}", "message", "API is running. 123");
    int rc;

    (void)req;
    (void)state;
    rc = j_data != NULL ? compat_jsend(res, 200, j_data) : LINTEL_ENOMEM;
    json_decref(j_data);
    return rc;
}

/* The seed's token reply, in JSend. */
#define CHILI_TOKEN                                                                                \
    COMPAT_JSEND(COMPAT_OBJ("\"token\"", COMPAT_STR("token") "," COMPAT_STR("token_type")))

static const struct lintel_route chili_avatar_route[] = {
    {.method = "POST",
     .path = "/avatar",
     .flags = LINTEL_ROUTE_RAW,
     .scope = "profile",
     .handler = chili_avatar,
     .summary = "Seed 001: upload the avatar (multipart field file)",
     .body_schema = LINTEL_SCHEMA_MEDIA("multipart/form-data"),
     .replies = LINTEL_REPLIES(
         {200, "The stored avatar's path",
          COMPAT_JSEND(COMPAT_OBJ("\"avatar_url\"", COMPAT_STR("avatar_url"))), NULL},
         COMPAT_FASTAPI_ERRORS)},
};

/* /ws/avatar: the seed's message for lintel's avatar events (an upload here or at /api/). */
static const struct lintel_ws_event chili_ws_events[] = {
    {"avatar.updated", "{\"message\":\"avatar_changed\",\"avatar_url\":\"$avatar_url\"}"},
    {"avatar.deleted", "{\"message\":\"avatar_changed\",\"avatar_url\":\"$avatar_url\"}"},
};

static const struct lintel_route chili_routes[] = {
    {.method = "POST",
     .path = "/register",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = chili_register,
     .summary = "Seed 001: register {identifier, password}",
     .body_schema = COMPAT_CREDENTIALS("identifier"),
     .example = "{\"identifier\": \"alice\", \"password\": \"correct horse\"}",
     .replies = LINTEL_REPLIES({200, "A token", CHILI_TOKEN, NULL}, COMPAT_FASTAPI_ERRORS)},
    {.method = "POST",
     .path = "/login",
     .flags = LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_RAW,
     .handler = chili_login,
     .summary = "Seed 001: log in {identifier, password}",
     .body_schema = COMPAT_CREDENTIALS("identifier"),
     .example = "{\"identifier\": \"alice\", \"password\": \"correct horse\"}",
     .replies = LINTEL_REPLIES({200, "A token", CHILI_TOKEN, NULL}, COMPAT_FASTAPI_ERRORS)},
    {.method = "DELETE",
     .path = "/user",
     .scope = "profile",
     .handler = chili_delete,
     .summary = "Seed 001: delete the caller's account",
     .replies = LINTEL_REPLIES({200, "Deleted", COMPAT_JSEND(COMPAT_MESSAGE), NULL},
                               COMPAT_FASTAPI_ERRORS)},
    {.method = "GET",
     .path = "/health",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = chili_health,
     .summary = "Seed 001: health (JSend)",
     .replies = LINTEL_REPLIES({200, "Running", COMPAT_JSEND(COMPAT_MESSAGE), NULL},
                               COMPAT_FASTAPI_ERRORS)},
};

static void chili_unload(void *state)
{
    free(state);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct avatars *a;
    int rc;

    (void)config;
    LINTEL_KIT_DECLARE(p, api, "compat_chililabs", "0.1.0");
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return LINTEL_ENOMEM;
    rc = lintel_on_unload(p, chili_unload, a);
    if (rc != 0) {
        free(a);
        return rc;
    }
    rc = avatars_setup(a, p);
    if (rc == 0)
        rc = compat_profile(p, compat_chililabs_migrations, chili_render, &chili_errors,
                            chili_routes, LINTEL_COUNT(chili_routes), NULL);
    if (rc == 0)
        rc = lintel_routes_add(p, chili_avatar_route, 1, a);
    if (rc == 0) /* the README sends "token: <jwt>"; Authorization: Bearer works too */
        rc = lintel_ws_add(p, "/ws/avatar", LINTEL_WS_TOKEN_HEADER, chili_ws_events,
                           LINTEL_COUNT(chili_ws_events));
    return rc;
}
