/*
 * What the compatibility profiles share: the FastAPI/pydantic wire shapes their seeds answer
 * with (detail bodies, 422 item lists, lax field reading, the OAuth2 password form).
 */
#ifndef LINTEL_PLUGINS_COMPAT_H
#define LINTEL_PLUGINS_COMPAT_H

#include <lintel/kit.h>

/*
 * The seeds' wire shapes as JSON Schema, for the profiles' route tables (<lintel/schemas.h>).
 * COMPAT_FASTAPI_ERRORS: the reply entries of every 4xx and 5xx a FastAPI seed's renderer
 * writes ({"detail": sentence} or a 422's pydantic items); COMPAT_JSEND(data): a JSend success.
 */
#define COMPAT_STR(name) "\"" name "\":" LINTEL_SCHEMA_STRING
#define COMPAT_OBJ(required, props)                                                                \
    "{\"type\":\"object\",\"required\":[" required "],\"properties\":{" props "}}"
#define COMPAT_MESSAGE COMPAT_OBJ("\"message\"", COMPAT_STR("message"))
#define COMPAT_PYDANTIC_ITEM                                                                       \
    "{\"title\":\"ValidationErrorItem\",\"type\":\"object\",\"required\":[\"type\",\"loc\","       \
    "\"msg\"],\"properties\":{\"type\":" LINTEL_SCHEMA_STRING ",\"loc\":{\"type\":\"array\","      \
    "\"items\":{\"type\":[\"string\",\"integer\"]}},\"msg\":" LINTEL_SCHEMA_STRING                 \
    ",\"input\":{},"                                                                               \
    "\"ctx\":{\"type\":\"object\"},\"url\":" LINTEL_SCHEMA_STRING "}}"
#define COMPAT_FASTAPI_ERROR                                                                       \
    "{\"title\":\"FastAPIError\",\"type\":\"object\",\"required\":[\"detail\"],\"properties\":{"   \
    "\"detail\":{\"anyOf\":[" LINTEL_SCHEMA_STRING                                                 \
    ",{\"type\":\"array\",\"items\":" COMPAT_PYDANTIC_ITEM "}]}}}"
#define COMPAT_FASTAPI_ERRORS                                                                      \
    {4, "FastAPI's error: {detail: a sentence}, or a 422's pydantic items", COMPAT_FASTAPI_ERROR,  \
     NULL},                                                                                        \
    {                                                                                              \
        5, "FastAPI's error: {detail: a sentence}", COMPAT_FASTAPI_ERROR, NULL                     \
    }
#define COMPAT_JSEND(data)                                                                         \
    COMPAT_OBJ("\"status\",\"data\"", "\"status\":{\"const\":\"success\"},\"data\":" data)
/* The JSON body of a seed's write, read from the bytes whatever the Content-Type (ROUTE_RAW). */
#define COMPAT_CREDENTIALS(name)                                                                   \
    COMPAT_OBJ("\"" name "\",\"password\"", COMPAT_STR(name) "," COMPAT_STR("password"))
#define COMPAT_TOKEN                                                                               \
    COMPAT_OBJ("\"access_token\"", COMPAT_STR("access_token") "," COMPAT_STR("token_type"))

/*
 * Appends one pydantic v2 error item {"type", "loc", "msg", "input"[, "ctx"]} to j_items. j_loc
 * (an array, e.g. ["body", "value"]), j_input (NULL: null) and j_ctx (NULL: none) are stolen.
 * Returns LINTEL_EPARAM, the code the caller goes on with (LINTEL_ENOMEM when out of memory).
 */
int compat_item(json_t *j_items, const char *type, json_t *j_loc, const char *msg, json_t *j_input,
                json_t *j_ctx);

/*
 * The body as FastAPI reads a JSON model: no body → "missing" at ["body"]; malformed JSON →
 * "json_invalid" at ["body", offset]; a body that is not an object →
 * "model_attributes_type". The route must be LINTEL_ROUTE_RAW (FastAPI decides from the bytes,
 * not the Content-Type). 0 with *j_body (new reference), or LINTEL_EPARAM with items added.
 */
int compat_body(lintel_req *req, json_t *j_items, json_t **j_body);

/*
 * body.field as pydantic's lax int: 5, 5.0, "5", true are 5; 5.5, "abc", null, lists are
 * refused with pydantic's message. Missing: "Field required". 0 or LINTEL_EPARAM (item added).
 */
int compat_int(const json_t *j_body, const char *field, json_t *j_items, long long *out);

/* A path segment as pydantic's int ("-3" parses; "abc", "1.5" do not). 0 or LINTEL_EPARAM. */
int compat_path_int(lintel_req *req, const char *name, json_t *j_items, long long *out);

/*
 * A path id for a FastAPI seed: 0 with *id set, or 1 when the 422 {"detail": [...]} for a
 * non-integer is written, or a negative status.
 */
int compat_path_id(lintel_req *req, lintel_res *res, const char *name, long long *id);

/* body.field as a str (numbers are refused: "Input should be a valid string"). required 0:
 * absent is *out NULL. 0 or LINTEL_EPARAM (item added). */
int compat_str(const json_t *j_body, const char *field, int required, json_t *j_items,
               const char **out);

/*
 * A JSON body of credentials, as the seeds' signups and JSON logins read it: the body, then
 * name_key ("username", "identifier") and "password" as strings, every missing or mistyped one
 * an item. 0 with *j_body (new reference), or LINTEL_EPARAM with items added.
 */
int compat_credentials(lintel_req *req, json_t *j_items, const char *name_key, json_t **j_body,
                       const char **name, const char **password);

/*
 * A seed's signup, the whole handler: the JSON body {username, password} (a missing or
 * mistyped field is a 422, its items with url when url is not NULL), the account made through
 * api->user_create (a taken name: 400 {"detail": taken}, the seed's words; a rule's refusal:
 * LINTEL_EPARAM, recorded for the profile's renderer), then status with the new user's members
 * named in keys (NULL-terminated, e.g. "id", "username").
 */
int compat_signup(lintel_req *req, lintel_res *res, const char *taken, const char *url,
                  unsigned status, const char *const *keys);

/*
 * The OAuth2 password form (application/x-www-form-urlencoded): username and password, an
 * empty value counting as missing; grant_type, when given, must be "password". The route needs
 * LINTEL_ROUTE_FORM. *j_form (new reference) holds the strings. 0 or LINTEL_EPARAM.
 */
int compat_form_login(lintel_req *req, json_t *j_items, json_t **j_form, const char **username,
                      const char **password);

/* Writes {"detail": detail} with status. */
int compat_detail(lintel_res *res, unsigned status, const char *detail);

/* Writes the JSend success {"status": "success", "data": j_data (not stolen)} with status. */
int compat_jsend(lintel_res *res, unsigned status, const json_t *j_data);

/* Writes 422 {"detail": j_items} (not stolen). */
int compat_422(lintel_res *res, const json_t *j_items);

/* compat_422 with pydantic 2.7's "url" (url + the item's type) added to every item first,
 * as FastAPI 0.110 answers; url NULL: none. */
int compat_422_url(lintel_res *res, json_t *j_items, const char *url);

/*
 * Why the host's authentication refused, from the errors a renderer is handed: "missing",
 * "invalid", "revoked", "scope", "role"; NULL when the host did not refuse a token.
 */
const char *compat_auth_reason(const json_t *j_errors);

/* The scope a 403 "Missing scope X" names (into buf), or NULL. */
const char *compat_missing_scope(const char *detail, char *buf, size_t size);

/* A stored "YYYY-MM-DDTHH:MM:SSZ" with six fraction digits: "...:SS.000000Z" (into buf). */
const char *compat_micro_time(const char *iso, char *buf, size_t size);

/* x as JSON: an integer when it is integral and exact in a double, else a real (new ref). */
json_t *compat_number(double x);

/*
 * How a FastAPI seed answers the errors the host raises on its routes (the state of
 * compat_fastapi_render): 401 "Not authenticated" for a missing token, invalid_status and
 * invalid_detail for a bad, expired or revoked one, {"detail": detail} for the rest, and the
 * host's 422s (a rule of the extension refused a field) as pydantic value_error items.
 */
struct compat_fastapi {
    unsigned invalid_status;    /* 401, or 403 for seed 002                          */
    const char *invalid_detail; /* "Could not validate credentials", "Invalid token" */
    const char *forbidden;      /* the 403 detail for a missing scope or role, or NULL */
    const char *url;            /* pydantic 2.7's "url" prefix of 422 items, or NULL   */
};

/* A lintel_error_render for FastAPI seeds; state: a struct compat_fastapi. */
int compat_fastapi_render(lintel_req *req, lintel_res *res, unsigned status, int rc,
                          const char *detail, const json_t *j_errors, void *state);

/* Writes 422 {"detail": items} for the [{field, message}] the host recorded (rule verdicts). */
int compat_rules_422(lintel_res *res, const json_t *j_errors, const char *url);

/*
 * The registration every profile makes in its init, after LINTEL_KIT_DECLARE: it declares the
 * plugin a profile, adds its migrations (NULL: none), its error renderer and its route table
 * (state to every handler). 0 or the first refusal.
 */
int compat_profile(lintel_plugin *p, const struct lintel_embedded_sql *migrations,
                   lintel_error_render render, const void *render_state,
                   const struct lintel_route *routes, size_t n, void *state);

/* The user's username (malloc'd), or NULL. */
char *compat_username(lintel_req *req);

/*
 * Logs in with in and answers 200 {"access_token", "token_type": "bearer"} (the OAuth2 reply of
 * seeds 000 and 004). LINTEL_EAUTH, nothing written, for wrong credentials: the profile words
 * that 401 itself.
 */
int compat_bearer(lintel_req *req, lintel_res *res, const struct lintel_login *in);

#endif /* LINTEL_PLUGINS_COMPAT_H */
