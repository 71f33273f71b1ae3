/*
 * bookmarks: each user's links, create/list/delete, with its own scopes and an event. The
 * plugin-guide's walk-through; built out of lintel's tree with find_package(lintel).
 */
#include <lintel/kit.h>

LINTEL_KIT_INIT;

extern const struct lintel_embedded_sql bookmarks_migrations[];

#define BOOKMARK_COLUMNS "id, url, title, created_at"
/* The reply shape: its title makes it components/schemas/Bookmark in /openapi.json. */
#define BOOKMARK                                                                                   \
    "{\"title\":\"Bookmark\",\"type\":\"object\",\"required\":[\"id\",\"url\",\"title\","          \
    "\"created_at\"],\"properties\":{\"id\":" LINTEL_SCHEMA_ID ",\"url\":" LINTEL_SCHEMA_STRING    \
    ",\"title\":" LINTEL_SCHEMA_STRING ",\"created_at\":" LINTEL_SCHEMA_TIME "}}"

/* POST /api/bookmarks {url, title} -> 201 bookmark; the table's CHECKs give the 422s. */
static int bookmarks_create(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL, *j_row = NULL;
    const char *url = NULL, *title = NULL;
    int rc;

    (void)state;
    rc = lintel_req_json(req, &j_body);
    if (rc == 0 && json_unpack(j_body, "{s?s s?s}", "url", &url, "title", &title) != 0)
        rc = lintel_res_error(res, LINTEL_EPARAM, NULL, "url and title must be strings");
    if (rc == 0)
        rc = lintel_sql_rowf(req, &j_row,
                             "INSERT INTO bookmarks (user_id, url, title) VALUES (?1, ?2, ?3)"
                             " RETURNING " BOOKMARK_COLUMNS,
                             "Is?s?", (json_int_t)lintel_req_user_id(req), url, title);
    if (rc == 0)
        rc = lintel_res_created(req, res, j_row, "/api/bookmarks", "bookmark.created", "bookmark");
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* GET /api/bookmarks?limit&offset -> {items, total, limit, offset}, oldest first. */
static int bookmarks_list(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_sql_list(req, res,
                           "SELECT " BOOKMARK_COLUMNS " FROM bookmarks WHERE user_id = ?1"
                           " ORDER BY id",
                           "I", (json_int_t)lintel_req_user_id(req));
}

/* DELETE /api/bookmarks/{id} -> 204, or 404 "Bookmark not found". */
static int bookmarks_delete(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_delete_owned(req, res, "bookmarks", "Bookmark", NULL);
}

static const struct lintel_route bookmarks_routes[] = {
    {.method = "POST",
     .path = "/api/bookmarks",
     .scope = "bookmarks:write",
     .handler = bookmarks_create,
     .summary = "Save a bookmark",
     .body_schema = "{\"type\":\"object\",\"required\":[\"url\",\"title\"],\"properties\":{"
                    "\"url\":" LINTEL_SCHEMA_STRING ",\"title\":{\"type\":\"string\","
                    "\"minLength\":1,\"maxLength\":200}}}",
     .example = "{\"url\": \"https://sqlite.org\", \"title\": \"SQLite\"}",
     .replies = LINTEL_REPLIES({201, "The saved bookmark", BOOKMARK, NULL})},
    {.method = "GET",
     .path = "/api/bookmarks",
     .scope = "bookmarks:read",
     .handler = bookmarks_list,
     .summary = "The user's bookmarks",
     .query = (const struct lintel_param[]){LINTEL_PAGE_PARAMS, {0}},
     .replies = LINTEL_REPLIES({200, "A page of bookmarks", LINTEL_SCHEMA_LIST(BOOKMARK), NULL})},
    {.method = "DELETE",
     .path = "/api/bookmarks/{id}",
     .scope = "bookmarks:write",
     .handler = bookmarks_delete,
     .summary = "Delete a bookmark",
     .replies = LINTEL_REPLIES(LINTEL_REPLY_NO_CONTENT)},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    int rc;

    (void)config;
    LINTEL_KIT_DECLARE(p, api, "bookmarks", "0.1.0");
    rc = lintel_scope_add(p, "bookmarks:read", "user admin");
    if (rc == 0)
        rc = lintel_scope_add(p, "bookmarks:write", "user admin");
    if (rc == 0)
        rc = lintel_migrations(p, bookmarks_migrations);
    if (rc == 0)
        rc = lintel_routes_add(p, bookmarks_routes, LINTEL_COUNT(bookmarks_routes), NULL);
    return rc;
}
