/*
 * The example plugin: the template for plugin authors. GET /api/example/ping answers from SQL,
 * and a tiny notes table shows a plugin's own migration, a write, path params and config.
 */
#include <lintel/migrations.h>
#include <lintel/plugin.h>

#include <jansson.h>
#include <stdlib.h>

/* Embedded by lintel_add_plugin() from sql/example/NNNN_slug.sql. */
extern const struct lintel_embedded_sql example_migrations[];

/* Everything a handler needs, made in init and freed by the on_unload callback. */
struct example {
    const struct lintel_api *api;
    lintel_plugin *p;
};

/* GET /api/example/ping (public): {"pong": true, "version": lintel_version()}. */
static int example_ping(lintel_req *req, lintel_res *res, void *state)
{
    struct example *ex = state;
    json_t *j_row = NULL, *j_body = NULL;
    int rc;

    /* Errors from SQL are already recorded for the host to render: just pass rc on. */
    rc = ex->api->sql_row(req, "SELECT lintel_version() AS version", NULL, &j_row);
    if (rc != 0)
        goto cleanup;
    j_body = json_pack("{sb sO}", "pong", 1, "version", json_object_get(j_row, "version"));
    if (j_body == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    rc = ex->api->res_json(res, 200, j_body);
cleanup:
    json_decref(j_row);
    json_decref(j_body);
    return rc;
}

/* POST /api/example/notes {"text": "..."}: 201 {id, text, created_at}. */
static int example_note_create(lintel_req *req, lintel_res *res, void *state)
{
    struct example *ex = state;
    json_t *j_body = NULL, *j_row = NULL, *j_params = NULL;
    const json_t *j_text;
    int rc;

    rc = ex->api->req_json(req, &j_body); /* 400/415 are recorded by the host */
    if (rc != 0)
        goto cleanup;
    j_text = json_object_get(j_body, "text");
    if (!json_is_string(j_text) || json_string_length(j_text) == 0) {
        /* 422 with errors[{field, message}] and the detail "text must be a non-empty string." */
        rc = ex->api->res_invalid(res, "text", "must be a non-empty string");
        goto cleanup;
    }
    /* Parameters are bound, never pasted into SQL; sql_* do not steal them. */
    j_params = json_pack("[O]", j_text);
    /* RETURNING gives the stored row in one statement. */
    rc = ex->api->sql_row(req,
                          "INSERT INTO example_notes(text) VALUES (?1) "
                          "RETURNING id, text, created_at",
                          j_params, &j_row);
    if (rc != 0)
        goto cleanup;
    rc = ex->api->res_json(res, 201, j_row);
cleanup:
    json_decref(j_params);
    json_decref(j_body);
    json_decref(j_row);
    return rc;
}

/*
 * GET /api/example/notes/count: {"count": N}. Its literal last segment wins over the {id} of
 * the next route, whatever the registration order.
 */
static int example_note_count(lintel_req *req, lintel_res *res, void *state)
{
    struct example *ex = state;
    json_t *j_row = NULL;
    int rc;

    rc = ex->api->sql_row(req, "SELECT count(*) AS count FROM example_notes", NULL, &j_row);
    if (rc == 0)
        rc = ex->api->res_json(res, 200, j_row);
    json_decref(j_row);
    return rc;
}

/* GET /api/example/notes/{id}: the note, or 404. */
static int example_note_get(lintel_req *req, lintel_res *res, void *state)
{
    struct example *ex = state;
    json_t *j_row = NULL, *j_params = NULL;
    long long id;
    int rc;

    /* "abc", "0" or "-1" name no note: the same 404 as an unknown id, recorded by the host. */
    rc = ex->api->req_id(req, res, "id", "Note", &id);
    if (rc != 0)
        goto cleanup;
    j_params = json_pack("[I]", (json_int_t)id);
    rc = ex->api->sql_row(req, "SELECT id, text, created_at FROM example_notes WHERE id = ?1",
                          j_params, &j_row);
    if (rc == LINTEL_ENOTFOUND)
        rc = ex->api->res_error(res, LINTEL_ENOTFOUND, NULL, "Note not found");
    if (rc != 0)
        goto cleanup;
    rc = ex->api->res_json(res, 200, j_row);
cleanup:
    json_decref(j_params);
    json_decref(j_row);
    return rc;
}

static void example_unload(void *state)
{
    free(state);
}

LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config)
{
    struct example *ex;
    unsigned notes_flags;
    int rc;

    /* Always first: the host refuses a plugin built for an ABI it does not have. */
    LINTEL_PLUGIN_DECLARE(p, api, "example", "0.1.0");
    /* Members appended within ABI 1.0 (req_id, res_invalid) reach plugins that check for them. */
    if (!LINTEL_API_HAS(api, res_invalid))
        return LINTEL_EVERSION;

    ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        return LINTEL_ENOMEM;
    ex->api = api;
    ex->p = p;
    /* Registered right away, so the host frees ex even if a later step fails. */
    rc = api->on_unload(p, example_unload, ex);
    if (rc != 0) {
        free(ex);
        return rc;
    }
    /* config is this plugin's "config" object of the server's file (borrowed). */
    notes_flags = json_is_true(json_object_get(config, "public_notes")) ? LINTEL_ROUTE_PUBLIC : 0;

    rc = lintel_migrations_add(p, api, example_migrations);
    if (rc == 0)
        rc = api->route_add(p, "GET", "/api/example/ping", LINTEL_ROUTE_PUBLIC, NULL, example_ping,
                            ex);
    if (rc == 0)
        rc = api->route_add(p, "POST", "/api/example/notes", notes_flags, NULL, example_note_create,
                            ex);
    if (rc == 0)
        rc = api->route_add(p, "GET", "/api/example/notes/{id}", notes_flags, NULL,
                            example_note_get, ex);
    if (rc == 0)
        rc = api->route_add(p, "GET", "/api/example/notes/count", notes_flags, NULL,
                            example_note_count, ex);
    api->log(p, LINTEL_LOG_DEBUG, "notes routes are %s", notes_flags ? "public" : "protected");
    return rc;
}
