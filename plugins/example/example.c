/*
 * The example plugin: the template for plugin authors. GET /api/example/ping answers from SQL,
 * and a tiny notes table shows a plugin's own migration, a write, path params and config.
 */
#include <lintel/kit.h>

#include <jansson.h>

/* The kit's lintel_* names call the host's table: defined once per plugin. */
LINTEL_KIT_INIT;

/* Embedded by lintel_add_plugin() from sql/example/NNNN_slug.sql. */
extern const struct lintel_embedded_sql example_migrations[];

/* GET /api/example/ping (public): {"pong": true, "version": lintel_version()}. */
static int example_ping(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    /*
     * The row is the reply ("pong:bool" makes 1 a JSON true). Errors from SQL are already
     * recorded for the host to render: rc is just passed on.
     */
    return lintel_res_rowf(req, res, 200, NULL,
                           "SELECT 1 AS \"pong:bool\", lintel_version() AS version", NULL);
}

/* POST /api/example/notes {"text": "..."}: 201 {id, text, created_at}. */
static int example_note_create(lintel_req *req, lintel_res *res, void *state)
{
    json_t *j_body = NULL;
    const json_t *j_text;
    int rc;

    (void)state;
    rc = lintel_req_json(req, &j_body); /* 400/415 are recorded by the host */
    if (rc != 0)
        goto cleanup;
    j_text = json_object_get(j_body, "text");
    if (!json_is_string(j_text)) {
        /* 422 with errors[{field, message}] and the detail "text must be a string." */
        rc = lintel_res_invalid(res, "text", "must be a string");
        goto cleanup;
    }
    /*
     * Parameters are bound, never pasted into SQL; "O" binds a json_t without stealing it.
     * The length rule is the table's CHECK: a blank text comes back as a 422 on "text".
     * RETURNING gives the stored row in one statement, and that row is the reply.
     */
    rc = lintel_res_rowf(
        req, res, 201, NULL,
        "INSERT INTO example_notes (text) VALUES (?1) RETURNING id, text, created_at", "O", j_text);
cleanup:
    json_decref(j_body);
    return rc;
}

/*
 * GET /api/example/notes/count: {"count": N}. Its literal last segment wins over the {id} of
 * the next route, whatever the registration order.
 */
static int example_note_count(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return lintel_res_rowf(req, res, 200, NULL, "SELECT count(*) AS count FROM example_notes",
                           NULL);
}

/* GET /api/example/notes/{id}: the note, or 404 "Note not found". */
static int example_note_get(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    /*
     * Notes are shared (no user_id): LINTEL_ROW_ANY, so sql binds ?1 only. "abc", "0" or "-1"
     * name no note: the same 404 as an unknown id. A table with a user_id column says
     * LINTEL_ROW_OWNED and "... AND user_id = ?2": another user's row is then a 404 too.
     */
    return lintel_res_by_id(req, res, "Note", LINTEL_ROW_ANY,
                            "SELECT id, text, created_at FROM example_notes WHERE id = ?1");
}

#define EXAMPLE_NOTE                                                                               \
    "{\"title\":\"Note\",\"type\":\"object\",\"required\":[\"id\",\"text\",\"created_at\"],"       \
    "\"properties\":{"                                                                             \
    "\"id\":{\"type\":\"integer\"},\"text\":{\"type\":\"string\"},"                                \
    "\"created_at\":{\"type\":\"string\"}}}"

/* The route table: flags are set in init from the config (public_notes). */
static struct lintel_route example_routes[] = {
    {.method = "GET",
     .path = "/api/example/ping",
     .flags = LINTEL_ROUTE_PUBLIC,
     .handler = example_ping,
     .summary = "Liveness of the example plugin",
     .replies = LINTEL_REPLIES(
         {200, "Alive",
          "{\"type\":\"object\",\"required\":[\"pong\",\"version\"],"
          "\"properties\":{\"pong\":{\"const\":true},\"version\":" LINTEL_SCHEMA_STRING "}}",
          "{\"pong\":true,\"version\":\"0.2.0\"}"})},
    {.method = "POST",
     .path = "/api/example/notes",
     .handler = example_note_create,
     .summary = "Store a note",
     .body_schema = LINTEL_SCHEMA_MEMBER("text", "{\"type\":\"string\",\"maxLength\":1000}"),
     .example = "{\"text\": \"hello\"}",
     .replies = LINTEL_REPLIES({201, "The stored note", EXAMPLE_NOTE, NULL})},
    {.method = "GET",
     .path = "/api/example/notes/{id}",
     .handler = example_note_get,
     .summary = "One note",
     .replies = LINTEL_REPLIES(
         {200, "The note", EXAMPLE_NOTE,
          "{\"id\":1,\"text\":\"Remember the milk\",\"created_at\":\"2026-12-01T19:58:42Z\"}"})},
    {.method = "GET",
     .path = "/api/example/notes/count",
     .handler = example_note_count,
     .summary = "How many notes there are",
     .replies = LINTEL_REPLIES(
         {200, "The count", LINTEL_SCHEMA_MEMBER("count", LINTEL_SCHEMA_COUNT), "{\"count\":3}"})},
};

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    unsigned notes_flags;
    size_t i;
    int rc;

    /* Always first: the host refuses a plugin built for an ABI it does not have. */
    LINTEL_KIT_DECLARE(p, api, "example", "0.1.0");
    /* config is this plugin's "config" object of the server's file (borrowed). */
    notes_flags = json_is_true(json_object_get(config, "public_notes")) ? LINTEL_ROUTE_PUBLIC : 0;
    for (i = 1; i < LINTEL_COUNT(example_routes); i++)
        example_routes[i].flags = notes_flags;
    rc = lintel_migrations(p, example_migrations);
    if (rc == 0)
        rc = lintel_routes_add(p, example_routes, LINTEL_COUNT(example_routes), NULL);
    lintel_log(p, LINTEL_LOG_DEBUG, "notes routes are %s", notes_flags ? "public" : "protected");
    return rc;
}
