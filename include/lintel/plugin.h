/*
 * The lintel plugin ABI: the one symbol a handler plugin exports and the table of host
 * functions it may call. Plugin authors build against this header alone (pkg-config lintel).
 */
#ifndef LINTEL_PLUGIN_H
#define LINTEL_PLUGIN_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Version handshake. An incompatible change bumps MAJOR; appending a group of members to struct
 * lintel_api bumps MINOR (the group sits under a comment naming it, as in sqlite3ext.h). The
 * host refuses a plugin of another major, or of a newer minor than it has, by name.
 */
/*
 * 2: release 0.2.0 folded the table of release 0.1.0 (ABI 1.0) into route tables, scopes and the
 * kit, so a plugin built for 1.x is refused by name (tests/upgrade loads 0.1.0's example).
 */
#define LINTEL_ABI_MAJOR 2
#define LINTEL_ABI_MINOR 9

#if defined(__GNUC__)
#define LINTEL_EXPORT       __attribute__((visibility("default")))
#define LINTEL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LINTEL_EXPORT
#define LINTEL_PRINTF(f, a)
#endif

/*
 * Status codes. Every int-returning function of the ABI returns 0 or one of these; the host maps
 * each to one HTTP status (api->strerror() names it) and renders the error body itself.
 */
#define LINTEL_OK         0
#define LINTEL_EPARAM     -1  /* 422: a value breaks a rule                        */
#define LINTEL_EMALFORMED -2  /* 400: the request cannot be parsed                 */
#define LINTEL_EAUTH      -3  /* 401: no credentials, or wrong username/password   */
#define LINTEL_ETOKEN     -4  /* 401: the bearer token is invalid, expired, revoked */
#define LINTEL_EFORBIDDEN -5  /* 403: authenticated, but not allowed               */
#define LINTEL_ENOTFOUND  -6  /* 404                                               */
#define LINTEL_EMETHOD    -7  /* 405                                               */
#define LINTEL_ECONFLICT  -8  /* 409: unique value taken                           */
#define LINTEL_ETOOLARGE  -9  /* 413                                               */
#define LINTEL_EMEDIATYPE -10 /* 415                                               */
#define LINTEL_ERATELIMIT -11 /* 429                                               */
#define LINTEL_ENOMEM     -12 /* 500                                               */
#define LINTEL_EDB        -13 /* 500: the database failed in an unexpected way      */
#define LINTEL_EINTERNAL  -14 /* 500                                               */
#define LINTEL_EUPSTREAM  -15 /* 502: an upstream service failed or answered badly  */
#define LINTEL_EUNAVAIL   -16 /* 503: database busy, feature not configured        */
#define LINTEL_ETIMEOUT   -17 /* 504: an upstream service timed out                */
#define LINTEL_EVERSION   -18 /* plugin built for an incompatible ABI              */

/* Log levels for api->log. */
#define LINTEL_LOG_ERROR   1
#define LINTEL_LOG_WARNING 2
#define LINTEL_LOG_INFO    3
#define LINTEL_LOG_DEBUG   4

/*
 * Route flags. Without LINTEL_ROUTE_PUBLIC a valid bearer token is required; the route's scope
 * then names a scope the token must carry (NULL: any valid token).
 */
#define LINTEL_ROUTE_PUBLIC 0x1u /* no token needed; claims are NULL                      */
#define LINTEL_ROUTE_ADMIN  0x2u /* the user's role (from the database) must be admin     */
#define LINTEL_ROUTE_FORM   0x4u /* req_json also accepts application/x-www-form-urlencoded */
#define LINTEL_ROUTE_RAW    0x8u /* any body type; read it with req_body, not req_json    */
/*
 * The reply shows a secret once (an invitation code): the host never keeps it for an
 * Idempotency-Key replay, so the key is ignored on this route (ABI 2.3). Every other
 * authenticated POST takes Idempotency-Key without asking (docs/api.md "Safe retries").
 */
#define LINTEL_ROUTE_NO_REPLAY 0x10u
/*
 * ABI 2.5: a URL signed by api->url_sign (query exp and sig) stands for the bearer token: the
 * signer's decision authorizes the request (no claims, req_user_id 0, no scope check); an
 * expired one is 401, a forged or altered one 403. Without sig the route wants a token as usual.
 */
#define LINTEL_ROUTE_SIGNED 0x20u
/*
 * ABI 2.9: a GET whose 200 reply depends on nothing but the database and the caller (the user,
 * the session, the path and query): no clock, no signed URL with an expiry, no request header.
 * The host may then answer a repeated request with the same reply, status, body and the headers
 * the handler set, without running the handler, while nothing was committed to the database
 * since (docs/plugin-guide.md "Cacheable replies"). Authentication, scope, rate limit and
 * If-None-Match run as before.
 */
#define LINTEL_ROUTE_CACHEABLE 0x40u

typedef struct lintel_plugin lintel_plugin; /* one loaded plugin, owned by the host  */
typedef struct lintel_req lintel_req;       /* one request, valid during the handler */
typedef struct lintel_res lintel_res;       /* its response, valid during the handler */

/*
 * A route handler. Returns 0 when it has written a response (res_json, res_empty, res_bytes),
 * or a negative status code, in which case the host renders the error recorded by res_error
 * (or a generic one for that code). state is the pointer given to routes_add.
 */
typedef int (*lintel_handler)(lintel_req *req, lintel_res *res, void *state);

/*
 * Renders an error of one of the plugin's routes in the plugin's own format (a compatibility
 * profile's seed shape): authentication and scope failures, the host's 413/415/422 checks and
 * any negative code a handler returned. status is the HTTP status the host would answer, rc
 * the status code, detail the recorded sentence (never NULL), j_errors the recorded
 * [{field, message}] or NULL (both borrowed). Write the reply with res_json/res_bytes/res_empty
 * and return 0; a negative return lets the host render its own problem+json. Headers the host
 * set (WWW-Authenticate, Allow) stay. When the host's own authentication refused (401, 403),
 * j_errors holds {"field": "Authorization", "message": why}, why one of "missing" (no bearer
 * token), "invalid" (malformed, bad signature or expired), "revoked" (its session ended:
 * logout, password change, deletion), "scope", "role" (since ABI 2.1).
 */
typedef int (*lintel_error_render)(lintel_req *req, lintel_res *res, unsigned status, int rc,
                                   const char *detail, const json_t *j_errors, void *state);

/* Types of a declared query parameter (struct lintel_param). */
#define LINTEL_PARAM_STRING  1 /* any text; min/max bound its length in characters */
#define LINTEL_PARAM_INTEGER 2 /* optional '-', decimal digits, fits 64 bits         */
#define LINTEL_PARAM_NUMBER  3 /* a finite decimal number                            */
#define LINTEL_PARAM_BOOLEAN 4 /* true or false                                       */

/* Flags of a declared query parameter. */
#define LINTEL_PARAM_REQUIRED 0x1u /* absent is a 422                 */
#define LINTEL_PARAM_MIN      0x2u /* min is a bound (inclusive)      */
#define LINTEL_PARAM_MAX      0x4u /* max is a bound (inclusive)      */

/*
 * A query parameter a route accepts. The host checks every declared one before the handler
 * runs and answers 422 naming the parameter ("limit must be an integer between 0 and 1000.");
 * undeclared parameters pass unchecked. Lists of these end with an entry whose name is NULL.
 */
struct lintel_param {
    const char *name;
    int type;           /* LINTEL_PARAM_STRING ... BOOLEAN                                  */
    unsigned flags;     /* LINTEL_PARAM_REQUIRED | MIN | MAX                                */
    double min, max;    /* bounds, when flagged (length in characters for strings)          */
    const char *values; /* strings only: the allowed values, space-separated, or NULL       */
    const char *description;
};

/*
 * A reply a route gives: lists of these end with status 0. status is an HTTP status, or (ABI
 * 2.8) 1..5 for a whole class ("4XX": the shape of every 4xx a compatibility profile's error
 * renderer writes; a plugin declaring an older minor has a class refused by name, since hosts
 * before 2.8 did not all take them). schema: JSON Schema text (2020-12, as OpenAPI 3.1 has it) or
 * NULL for no body; <lintel/schemas.h> has the shared pieces. In /openapi.json a schema (at any
 * depth) with a "title" becomes components/schemas/<title>, referenced wherever it appears, and one
 * whose only member is "contentMediaType" describes a body of that media type instead of JSON.
 * Routes of a plugin without an error renderer need not list their errors: the host does
 * (RFC 9457 problems).
 */
struct lintel_reply {
    unsigned status;
    const char *description;
    const char *schema;
    /*
     * ---- ABI 2.8: reply examples ----
     * JSON text of an example body of this reply (it must validate against schema), shown in
     * /openapi.json, or NULL. The host reads the reply lists of a plugin declaring an older
     * minor without this member (their entries are shorter), so they load unchanged.
     */
    const char *example;
};

/*
 * One route of a plugin's route table (routes_add). Only method, path and handler are needed;
 * the rest describes the route in /openapi.json, and the query parameters are also enforced.
 */
struct lintel_route {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE"                          */
    const char *path;   /* "/api/numbers/{id}"; {name} segments are path parameters         */
    unsigned flags;     /* LINTEL_ROUTE_*                                                   */
    const char *scope;  /* a scope the token must carry (built in or scope_add), or NULL    */
    lintel_handler handler;
    const char *summary; /* one line for /openapi.json                                       */
    const struct lintel_param *query;   /* declared query parameters, or NULL               */
    const char *body_schema;            /* JSON Schema text of the request body, or NULL    */
    const struct lintel_reply *replies; /* success replies per status (and a profile's 4XX)  */
    const char *example;                /* JSON text of an example request body, or NULL    */
};

/*
 * A field a keyset list may be sorted on (struct lintel_list, ABI 2.4). name is what ?sort=
 * names ("created_at", "-created_at" for descending) and the member of each item whose value
 * the cursor keeps; column is the key in SQL ("created_at", "ts"), an index should lead with
 * it after the list's equality filters; param, when the item's member is not the key itself,
 * turns the cursor's value (written as "?") back into the key ("unixepoch(?)"), else NULL.
 * The key must never be NULL.
 */
struct lintel_sort {
    const char *name;
    const char *column;
    const char *param;
};

/*
 * A list paged by keyset cursors (api->sql_page, ABI 2.4). sql: "SELECT <columns> FROM <table>
 * WHERE <filters>", its last clause a WHERE, without ORDER BY or LIMIT (the host appends the
 * cursor's condition with AND, then ORDER BY and LIMIT). total_sql: one row with a column
 * "total", taking the same parameters, or NULL for a count over sql. sorts: the fields ?sort=
 * may name, ending with an entry whose name is NULL; the first one ascending is the default.
 * id: the unique column that breaks ties, also an item member (NULL: "id").
 */
struct lintel_list {
    const char *sql;
    const char *total_sql;
    const struct lintel_sort *sorts;
    const char *id;
};

/*
 * Work that outlives its request (api->job_start, ABI 2.6), run on the host's job thread. req is
 * the job's own request: the user, claims and route of the request that started it, with SQL,
 * http_get, event_publish and res_error (on res) as in a handler; it has no body, query or
 * headers, and nothing written to res is sent. Report progress with job_progress; return 0 (the
 * job is "done") or a status code (it is "failed", with the detail recorded on res). total and
 * state are job_start's.
 */
typedef int (*lintel_job_fn)(lintel_req *req, lintel_res *res, long long total, void *state);

/* Flags of api->req_time. */
#define LINTEL_TIME_CEIL 0x1u /* a fraction of a second rounds up (a range's start), else down */

/* Flags of struct lintel_login. */
#define LINTEL_LOGIN_EMAIL 0x1u /* login is an email address, not a username */

/* What api->login is asked (ABI 2.1). Strings are borrowed for the call. */
struct lintel_login {
    const char *login;      /* the username, or with LINTEL_LOGIN_EMAIL the email            */
    const char *password;   /*                                                               */
    unsigned flags;         /* LINTEL_LOGIN_*                                                */
    const char *scope;      /* the scope asked for, or NULL: everything the role has         */
    const char *sub;        /* the access token's sub, or NULL: the user id                  */
    const json_t *j_claims; /* further claims of the access token (see token_issue), or NULL */
    long long ttl;          /* access token lifetime in seconds, or 0: the server's          */
};

/*
 * An event a plugin's WebSocket passes on (api->ws_add, ABI 2.1) and what it sends for it.
 * message is the JSON text of an object; each of its string values "$key" is replaced by the
 * event's value of key (null when the event has none): {"avatar_url": "$avatar_url"}.
 */
struct lintel_ws_event {
    const char *event;   /* the event's name, as event_publish sends it: "avatar.updated" */
    const char *message; /* JSON object text                                            */
};

/* Flags of api->ws_add. */
#define LINTEL_WS_TOKEN_HEADER 0x1u /* the token may also come as a header "token: <jwt>" */

/* What api->user_create is asked (ABI 2.1). Strings are borrowed for the call. */
struct lintel_user_new {
    const char *username; /* lintel_rule_username                       */
    const char *password; /* lintel_rule_password with password_min       */
    const char *email;    /* or NULL                                      */
    const char *role;     /* "user" (NULL) or "admin"                     */
};

/*
 * The host's table. Receivers follow one rule: lifecycle calls and settings take the plugin
 * (lintel_plugin, only during lintel_plugin_init); everything done for a request takes the
 * request (lintel_req: reading it, SQL on its connection, tokens), and errors such calls meet
 * are recorded on its reply; writing the reply takes the response (lintel_res). Functions that
 * need neither take neither.
 */
struct lintel_api {
    /* Frozen prefix: never moves, so any plugin can check what it was handed. */
    unsigned abi_major;
    unsigned abi_minor;
    size_t size; /* sizeof(struct lintel_api) in the host */

    /* ---- ABI 2.0 ---- */

    /* --- plugin lifecycle (call only from lintel_plugin_init) --- */

    /*
     * Declares the ABI the plugin was compiled for, its name and version. Must be the first
     * call (LINTEL_PLUGIN_DECLARE does it). LINTEL_EVERSION for another major or a newer minor
     * than the host has; the refusal names the plugin and both versions.
     */
    int (*declare)(lintel_plugin *p, unsigned major, unsigned minor, const char *name,
                   const char *version);

    /*
     * Declares the plugin a compatibility profile: a plugin that serves another system's wire
     * format and so may register routes outside /api/ (ordinary plugins are refused there).
     * Call after declare, before routes_add.
     */
    int (*declare_profile)(lintel_plugin *p);

    /*
     * Declares a scope ("bookmarks:write": lower-case letters, digits, '_', '-', ':') and the
     * roles that get it (space-separated: "user admin"). Tokens of those roles may then ask for
     * it at login and carry it; routes_add accepts it. Declaring a scope the host or another
     * plugin has is allowed when the roles agree. LINTEL_EPARAM (named) otherwise.
     */
    int (*scope_add)(lintel_plugin *p, const char *scope, const char *roles);

    /*
     * Registers n routes (copied, strings included); state goes to every handler. Paths lie
     * under /api/ unless the plugin is a profile. Refused, by name, for: another owner of the
     * same method and path (LINTEL_ECONFLICT), a path outside /api/, an unknown method or an
     * undeclared scope (LINTEL_EPARAM). Either every route is registered or none.
     */
    int (*routes_add)(lintel_plugin *p, const struct lintel_route *routes, size_t n, void *state);

    /* Renders the errors of this plugin's routes (see lintel_error_render). One per plugin. */
    int (*error_render)(lintel_plugin *p, lintel_error_render fn, void *state);

    /*
     * Adds a migration of this plugin: id "NNNN_slug", sql run in one transaction. Applied in
     * id order, once, before the server serves, and recorded under the plugin's name.
     */
    int (*migration_add)(lintel_plugin *p, const char *id, const char *sql);

    /* Calls fn(state) when the plugin is unloaded (also after a failed init). */
    int (*on_unload)(lintel_plugin *p, void (*fn)(void *state), void *state);

    /*
     * A setting of the server as the host validated it ("refresh_ttl", "password_min": the list
     * is in docs/plugin-guide.md), never a default of the plugin's own. LINTEL_EPARAM, with the
     * refusal naming it, for a name the host does not have or of the other type. *out of
     * setting_str is borrowed for the plugin's lifetime (NULL when unset).
     */
    int (*setting_int)(lintel_plugin *p, const char *name, long long *out);
    int (*setting_str)(lintel_plugin *p, const char *name, const char **out);

    /* Logs one line under the plugin's name. Never log tokens or passwords. */
    void (*log)(lintel_plugin *p, int level, const char *fmt, ...) LINTEL_PRINTF(3, 4);

    /* --- request (borrowed results are valid until the handler returns) --- */

    /*
     * Parses the body as JSON into *j_body (new reference). Errors, already recorded for the
     * host to render: LINTEL_EMALFORMED (detail has the byte offset; also for an empty body),
     * LINTEL_EMEDIATYPE (neither JSON nor, with LINTEL_ROUTE_FORM, a form; a body without
     * Content-Type is read as JSON). A form becomes an object of strings.
     */
    int (*req_json)(lintel_req *req, json_t **j_body);

    /* Raw body bytes (borrowed; may be NULL with *len 0). */
    const void *(*req_body)(lintel_req *req, size_t *len);

    /* Path parameter ({id}), query parameter, or header (case-insensitive); borrowed or NULL. */
    const char *(*req_param)(lintel_req *req, const char *name);
    const char *(*req_query)(lintel_req *req, const char *name);
    const char *(*req_header)(lintel_req *req, const char *name);

    /*
     * Verified claims of the bearer token (borrowed; NULL on a public route without a token):
     * sub, sid, jti, iat, exp, scope, and role as the database has it now.
     */
    const json_t *(*req_claims)(lintel_req *req);

    /* The authenticated user's id, or 0 when there is none. */
    long long (*req_user_id)(lintel_req *req);

    /* The client address as text (X-Forwarded-For only when the host trusts a proxy). */
    const char *(*req_client_addr)(lintel_req *req);

    /*
     * The page a list asks for: query limit (default 100, 0..1000) and offset, or its synonym
     * skip (default 0, >= 0; both given must agree). Each is decimal digits only. On failure
     * *limit and *offset keep the defaults and LINTEL_EPARAM is recorded for the first bad
     * parameter: the detail a sentence naming it ("limit must be an integer between 0 and
     * 1000."), errors[] {field: the parameter, message}.
     */
    int (*req_page)(lintel_req *req, long long *limit, long long *offset);

    /*
     * The path parameter name ("id") as an id: decimal digits only, 1..2^63-1. Anything else
     * names no resource, so it is LINTEL_ENOTFOUND with the detail "<what> not found" (what:
     * "Number") recorded, the same reply an unknown id gets; *id is then 0.
     */
    int (*req_id)(lintel_req *req, const char *name, const char *what, long long *id);

    /* --- response --- */

    /* Writes j_body (not stolen) as the JSON reply with status. */
    int (*res_json)(lintel_res *res, unsigned status, const json_t *j_body);

    /* Writes an empty reply (204, or any status). */
    int (*res_empty)(lintel_res *res, unsigned status);

    /* Writes len bytes (copied) with content_type. */
    int (*res_bytes)(lintel_res *res, unsigned status, const char *content_type, const void *data,
                     size_t len);

    /* Adds a header (copied) to the reply. */
    int (*res_header)(lintel_res *res, const char *name, const char *value);

    /*
     * Records an error for the host to render, and returns rc so a handler can write
     * `rc = api->res_error(res, LINTEL_EPARAM, "value", "must be greater than 0")`.
     * With a field, the message also goes into the problem's errors[] as {field, message};
     * call again to add further fields (the first detail wins).
     */
    int (*res_error)(lintel_res *res, int rc, const char *field, const char *fmt, ...)
        LINTEL_PRINTF(4, 5);

    /*
     * Records a 422 on field, worded as api.md wants it, and returns LINTEL_EPARAM: errors[]
     * gets {field, message} (message from fmt), and the problem's detail, if none is recorded
     * yet, is the sentence "<field> <message>." ("value must be greater than 0."). Call once
     * per bad field to report them all.
     */
    int (*res_invalid)(lintel_res *res, const char *field, const char *fmt, ...)
        LINTEL_PRINTF(3, 4);

    /*
     * Writes 200 with the list envelope {"items": j_items (an array, not stolen), "total",
     * "limit", "offset"}. LINTEL_EINTERNAL when j_items is not an array.
     */
    int (*res_list)(lintel_res *res, const json_t *j_items, long long total, long long limit,
                    long long offset);

    /* --- SQL on this request's connection (the request's thread) --- */

    /*
     * Runs one statement. j_params: NULL, an array (for ?1..?N) or an object (for :name), not
     * stolen; true/false bind as 1/0, arrays and objects as JSON text. On success *j_rows (new
     * reference) is an array of row objects keyed by column name. A column named "x:json" is
     * decoded from JSON text into key "x"; "x:bool" becomes true/false (NULL stays null).
     * Errors, each recorded for the host to render: LINTEL_ECONFLICT (unique), LINTEL_EPARAM
     * (a CHECK or NOT NULL failed: the 422 names the column as its field, with the rule's
     * message), LINTEL_EUNAVAIL (busy or locked), LINTEL_EDB.
     */
    int (*sql_query)(lintel_req *req, const char *sql, const json_t *j_params, json_t **j_rows);

    /*
     * Like sql_query, for exactly one row: *j_row (new reference), or LINTEL_ENOTFOUND (not
     * recorded: the plugin names what was missing). A statement that writes (INSERT/UPDATE
     * ... RETURNING) runs, outside a transaction, in its own BEGIN IMMEDIATE ... COMMIT, as
     * sql_exec does; so does one given to sql_query.
     */
    int (*sql_row)(lintel_req *req, const char *sql, const json_t *j_params, json_t **j_row);

    /*
     * Runs a statement that writes. changes and last_id may be NULL. Outside a transaction it
     * runs in its own BEGIN IMMEDIATE ... COMMIT.
     */
    int (*sql_exec)(lintel_req *req, const char *sql, const json_t *j_params, long long *changes,
                    long long *last_id);

    /*
     * The same three with the parameters given inline: fmt is a json_pack() format of the
     * values for ?1..?N ("Is" binds a json_int_t and a string; "s?" a string or NULL, "O" a
     * json_t not stolen, "o" one stolen), or NULL for none. The host builds, binds and frees
     * them; a format that does not match its arguments is LINTEL_EINTERNAL, logged.
     * `lintel_sql_rowf(req, &j_row, "SELECT ... WHERE id = ?1 AND user_id = ?2", "II",
     * (json_int_t)id, (json_int_t)uid)`.
     */
    int (*sql_queryf)(lintel_req *req, json_t **j_rows, const char *sql, const char *fmt, ...);
    int (*sql_rowf)(lintel_req *req, json_t **j_row, const char *sql, const char *fmt, ...);
    int (*sql_execf)(lintel_req *req, long long *changes, const char *sql, const char *fmt, ...);

    /*
     * A whole paged list in one call: reads the page (req_page), runs sql (one SELECT without
     * LIMIT/OFFSET, parameters as for sql_queryf) for that page's rows and for the total
     * (count(*) over it), and writes the list envelope (res_list). The host appends
     * "LIMIT ?N+1 OFFSET ?N+2" after the N parameters of fmt.
     */
    int (*sql_list)(lintel_req *req, lintel_res *res, const char *sql, const char *fmt, ...);

    /*
     * One write transaction (BEGIN IMMEDIATE). Not nested. A transaction still open when the
     * handler returns is rolled back.
     */
    int (*sql_begin)(lintel_req *req);
    int (*sql_commit)(lintel_req *req);
    int (*sql_rollback)(lintel_req *req);

    /* --- tokens, sessions and CPU-heavy work --- */

    /*
     * Signs an access token. j_claims carries sub (string: what the client reads; the host
     * finds the user through sid, never through sub), sid (string), role and scope, and any
     * further claims a client expects ("permissions", "token_type"); the host sets iss, aud,
     * iat, nbf, exp, jti and the typ header itself. *token: new memory (api->free).
     */
    int (*token_issue)(lintel_req *req, const json_t *j_claims, char **token,
                       long long *expires_in);

    /*
     * Ends sessions so their tokens fail on the very next request: the session sid of user_id,
     * or with sid NULL every session of that user except keep_sid (NULL: all of them).
     */
    int (*session_end)(lintel_req *req, long long user_id, const char *sid, const char *keep_sid);

    /*
     * Work that holds a core for milliseconds (hashing a password: lintel_password_hash and
     * lintel_password_verify in SQL) goes between heavy_begin and heavy_end, and outside any
     * write transaction. The host runs a few such sections at once (hash_concurrency), lets a
     * few more wait up to 2 s, and refuses the rest at once, so a burst cannot take every
     * worker thread: heavy_begin then records a 503 with Retry-After and returns
     * LINTEL_EUNAVAIL. One section per request at a time; the host ends one left open.
     */
    int (*heavy_begin)(lintel_req *req);
    void (*heavy_end)(lintel_req *req);

    /* --- live events --- */

    /*
     * Sends j_event (an object with a string "event", not stolen) as a JSON text frame to
     * every open WebSocket of user_id (GET /api/ws). The host sets "user_id" to user_id and
     * adds "at" (ISO 8601 UTC, now) unless present. Best effort: returns 0 even when the user
     * has no socket; LINTEL_EPARAM for a missing "event"; never blocks on the network. An
     * event lintel does not know reaches only sockets whose token holds the scope of req's
     * route.
     */
    int (*event_publish)(lintel_req *req, long long user_id, const json_t *j_event);

    /*
     * The common case in one call: {"event": name, key: j_data (not stolen)} to the request's
     * own user, as event_publish. key NULL sends {"event": name} alone.
     */
    int (*event_user)(lintel_req *req, const char *name, const char *key, const json_t *j_data);

    /* --- outbound HTTP (http/https only, bounded time and size) --- */

    /*
     * GETs url. timeout_ms 0 (or more than the host's upstream_timeout): the host's
     * upstream_timeout; max_bytes 0: the host's default cap. On
     * success *status is the HTTP status and *body (new memory, NUL-terminated, api->free)
     * holds *len bytes. LINTEL_ETIMEOUT on timeout; LINTEL_EUPSTREAM for anything else, with a
     * message recorded that names the defect.
     */
    int (*http_get)(lintel_req *req, const char *url, long timeout_ms, size_t max_bytes,
                    long *status, char **body, size_t *len);

    /* --- utilities --- */

    /* nbytes of random from the system CSPRNG as base64url text (new memory, api->free). */
    int (*random_token)(size_t nbytes, char **out);

    /* SHA-256 of data as 64 lowercase hex digits into out (65 bytes with the NUL). */
    int (*sha256_hex)(const void *data, size_t len, char out[65]);

    /* Frees memory the host handed out (tokens, bodies). NULL-safe. */
    void (*free)(void *ptr);

    /* A short English name for a status code ("Unprocessable Content"). */
    const char *(*strerror)(int rc);

    /* ---- ABI 2.1: accounts as host services, for the auth plugin and compatibility profiles ----
     */

    /*
     * A password login, the one every API of the server shares: the per-username and
     * per-address lockout, the verification (in the CPU-heavy gate, the same time for unknown
     * users), the move of an old or imported hash (bcrypt) to the current scheme, a new session
     * with its refresh token, and the access token, shaped by in (struct lintel_login). On
     * success *j_out (new reference) is {user_id, username, role, sid, scope, access_token,
     * expires_in, refresh_token}. Errors, recorded: LINTEL_EAUTH "Invalid username or password"
     * (unknown, deleted, or wrong password: one answer), LINTEL_ERATELIMIT (with Retry-After),
     * LINTEL_EMALFORMED (a scope that does not exist), LINTEL_EUNAVAIL.
     */
    int (*login)(lintel_req *req, const struct lintel_login *in, json_t **j_out);

    /* The request's path as the client sent it, without the query (borrowed): "/numbers/7". */
    const char *(*req_path)(lintel_req *req);

    /*
     * Creates an account through the extension's rules (username, password with the server's
     * password_min, email normalized; role "user" or "admin", NULL: "user"), hashing before it
     * writes. *j_user (new reference): {id, username, email, role, created_at, updated_at}.
     * Errors, recorded: LINTEL_EPARAM (a 422 per bad field, with the rule's message),
     * LINTEL_ECONFLICT (field "username": "Username '<name>' is taken"; field "email"),
     * LINTEL_EUNAVAIL (the hashing gate is full).
     */
    int (*user_create)(lintel_req *req, const struct lintel_user_new *in, json_t **j_user);

    /*
     * Opens a session of user_id as a successful login does (a registration that logs in), its
     * tokens shaped by in (scope, sub, j_claims, ttl; login and password are not read; NULL:
     * lintel's defaults). *j_out as login's.
     */
    int (*session_start)(lintel_req *req, long long user_id, const struct lintel_login *in,
                         json_t **j_out);

    /*
     * Deletes the account user_id as DELETE /api/users/me does, in one transaction: the
     * username stays reserved, e-mail and password hash go, every session ends (its tokens fail
     * on the next request, its sockets close), and the plugins' *_user_deleted triggers remove
     * their rows. Errors, recorded: LINTEL_ENOTFOUND "User not found" (unknown or already
     * deleted), LINTEL_ECONFLICT (the last admin), LINTEL_EUNAVAIL. Not inside a transaction.
     */
    int (*user_delete)(lintel_req *req, long long user_id);

    /*
     * Adds a WebSocket endpoint at path (GET with Upgrade: websocket), fed by the same events
     * as GET /api/ws: the user's own events, each passed on only when events[] (n entries,
     * copied) names it, as that entry's message instead of the event. Authentication, limits,
     * pings and closing sockets whose session ended are /api/ws's. Flags: LINTEL_WS_TOKEN_HEADER.
     * Paths lie under /api/ unless the plugin is a profile. Only in lintel_plugin_init;
     * LINTEL_EPARAM (named) for a bad path, a message that is not a JSON object, or a taken path.
     */
    int (*ws_add)(lintel_plugin *p, const char *path, unsigned flags,
                  const struct lintel_ws_event *events, size_t n);

    /* ---- ABI 2.2: one-call replies of the kit ---- */

    /*
     * A one-row reply in one call: runs sql as sql_rowf does and writes the row with status.
     * No row: with what ("Task") the 404 "Task not found" is recorded; with what NULL,
     * LINTEL_ENOTFOUND is returned unrecorded.
     */
    int (*res_rowf)(lintel_req *req, lintel_res *res, unsigned status, const char *what,
                    const char *sql, const char *fmt, ...);

    /*
     * sql_list with the total from total_sql (one row, one column "total", same parameters)
     * instead of a count over sql: for lists whose totals a trigger keeps.
     */
    int (*sql_list_total)(lintel_req *req, lintel_res *res, const char *sql, const char *total_sql,
                          const char *fmt, ...);

    /* ---- ABI 2.3: bytes in SQL (BLOB columns, which JSON cannot carry) ---- */

    /*
     * sql_execf with one parameter more: data (len bytes, borrowed for the call) is bound as a
     * BLOB to ?N+1, after the N parameters of fmt. *changes (may be NULL): rows changed.
     */
    int (*sql_exec_blob)(lintel_req *req, long long *changes, const void *data, size_t len,
                         const char *sql, const char *fmt, ...);

    /*
     * One row of a read whose first column holds bytes: *data (new memory, api->free) gets them
     * (*len bytes) after their length was checked against max (a longer value is a 500,
     * logged, and nothing is copied); the other columns go to *j_row (new reference; j_row may
     * be NULL) as sql_rowf's. No row, or NULL bytes: LINTEL_ENOTFOUND, unrecorded.
     */
    int (*sql_blob_rowf)(lintel_req *req, size_t max, void **data, size_t *len, json_t **j_row,
                         const char *sql, const char *fmt, ...);

    /* ---- ABI 2.4: keyset lists and time filters ---- */

    /*
     * A whole keyset-paged list in one call. Reads limit, offset|skip (req_page), sort (a
     * field of list->sorts, "-name" descending; anything else is a 422 naming sort) and after
     * (a cursor of an earlier reply of the same sort; malformed, or of another sort, is a 422
     * naming after; with offset a 422 too). Runs list->sql (parameters as for sql_queryf) for
     * one page plus one row, and writes {"items", "total", "limit", "offset", "next"}: next is
     * the opaque cursor after the last item, or null on the last page; with a next page the
     * reply also carries `Link: <path?query&after=next>; rel="next"` (the route's declared query
     * parameters that were given, offset and skip left out).
     */
    int (*sql_page)(lintel_req *req, lintel_res *res, const struct lintel_list *list,
                    const char *fmt, ...);

    /*
     * The query parameter name as Unix seconds: decimal seconds, or an ISO 8601 date-time
     * (2024-04-22T15:07:57Z, 2024-04-22T17:07:57+02:00, 2024-04-22). 0 with *out unchanged
     * when absent or empty; 0 with *out set; or LINTEL_EPARAM recorded (a 422 naming it).
     * flags: LINTEL_TIME_CEIL.
     */
    int (*req_time)(lintel_req *req, const char *name, unsigned flags, long long *out);

    /* ---- ABI 2.5: signed URLs (a resource an <img> loads without an Authorization header) ---- */

    /*
     * Signs path_query, a path of this server with an optional query, of [A-Za-z0-9/._~-] and
     * '?', '&', '=' only ("/api/users/7/avatar?v=3"), for ttl seconds (0, or more than the
     * server's signed_url_ttl: signed_url_ttl): *url (new memory, api->free) is path_query
     * with "exp=<unix time>&sig=<HMAC-SHA256 under a key in the database, base64url>"
     * appended, *expires (may be NULL) that time. A route flagged LINTEL_ROUTE_SIGNED accepts
     * it without a token until then, on any node that shares the database.
     */
    int (*url_sign)(lintel_req *req, const char *path_query, long long ttl, char **url,
                    long long *expires);

    /* ---- ABI 2.6: long work (jobs) ---- */

    /*
     * Starts fn(job request, state) on the host's job thread, for the request's user, and gives
     * the new job resource in *j_job (new reference): {id, kind, state: "queued", total, done: 0,
     * failed: 0, errors: [], detail: null, created_at, updated_at, finished_at: null}, readable at
     * GET /api/jobs/{id} by its user. kind names the work ("datapoints.populate"); total is the
     * number of items it will handle. state must stay valid until the plugin unloads. Errors,
     * recorded: LINTEL_ERATELIMIT (the user has 4 unfinished jobs; Retry-After), LINTEL_EUNAVAIL
     * (the queue is full or the server is stopping).
     */
    int (*job_start)(lintel_req *req, const char *kind, long long total, lintel_job_fn fn,
                     void *state, json_t **j_job);

    /*
     * From a job's fn: done items of total are handled. rc is 0 when the last one succeeded, or
     * the status it failed with: the detail recorded on the job's res (res_error) is then kept
     * in the job's errors[] as {"at": done, "detail": ...} (the first 100; "failed" counts them
     * all) and cleared for the next item. The job row is updated and the user's sockets get
     * {"event": "job.progress", "job": the resource} (at most every 100 ms, and always for the
     * last item). Returns 0, or LINTEL_EUNAVAIL when the server is stopping: fn should then
     * return at once.
     */
    int (*job_progress)(lintel_req *req, long long done, int rc);

    /* ---- ABI 2.7: entity tags from a version ---- */

    /*
     * Gives the reply the ETag of version, a number the storage changes whenever what the
     * route shows changes (a row's version column, a per-user counter bumped by triggers): the
     * tag is made from it, the user, the path and the route's declared query parameters, so no
     * hash of the reply's bytes is needed, and another query of the same list has another
     * tag. Call it with the reply (before or after res_json). res_rowf does the same for a
     * column named "<anything>:etag", sql_page for a column "version" of total_sql's row.
     */
    int (*res_etag)(lintel_req *req, lintel_res *res, long long version);

    /*
     * ABI 2.8 added no member here: struct lintel_reply got its example (and reply status
     * classes were versioned); nor did ABI 2.9: the route flag LINTEL_ROUTE_CACHEABLE. ABI 2.10
     * and later: append members here only, each group under a comment naming the minor that
     * added it ("---- ABI 2.10: ... ----"), and bump LINTEL_ABI_MINOR with it. A plugin
     * that declares the minor it was built against is refused by an older host, so it may call
     * every member its header has without checking.
     */
};

/*
 * The one symbol a plugin exports. config (borrowed until unload) is the plugin's own "config"
 * object of the server's file entry for it, with the server's settings beneath (read those with
 * setting_int / setting_str). Return 0, or a negative status: the host then removes everything
 * the plugin registered and unloads it.
 */
LINTEL_EXPORT int lintel_plugin_init(lintel_plugin *p, const struct lintel_api *api,
                                     const json_t *config);

/* First statement of every lintel_plugin_init: declares the ABI this plugin was built for. */
#define LINTEL_PLUGIN_DECLARE(p, api, name, version)                                               \
    do {                                                                                           \
        int lintel_declare_rc_ =                                                                   \
            (api)->declare((p), LINTEL_ABI_MAJOR, LINTEL_ABI_MINOR, (name), (version));            \
        if (lintel_declare_rc_ != 0)                                                               \
            return lintel_declare_rc_;                                                             \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* LINTEL_PLUGIN_H */
