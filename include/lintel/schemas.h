/*
 * JSON Schema text that route tables share (struct lintel_route's body_schema and replies): the
 * host's components of /openapi.json by reference, and the small fragments every plugin needs.
 */
#ifndef LINTEL_SCHEMAS_H
#define LINTEL_SCHEMAS_H

/*
 * A schema the host defines in /openapi.json's components/schemas, by name. The host has:
 * Problem (its RFC 9457 error body), List (the list envelope {items, total, limit, offset}),
 * User (a user record; a list of users for a non-admin carries only id and username), Tokens
 * (what login, register and refresh answer), Stats (lintel_stats(): count, sum, avg, min, max,
 * stddev, median), Job (a background job: GET /api/jobs/{id}) and Health.
 */
#define LINTEL_SCHEMA_REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"

#define LINTEL_SCHEMA_PROBLEM LINTEL_SCHEMA_REF("Problem")
#define LINTEL_SCHEMA_USER    LINTEL_SCHEMA_REF("User")
#define LINTEL_SCHEMA_TOKENS  LINTEL_SCHEMA_REF("Tokens")
#define LINTEL_SCHEMA_STATS   LINTEL_SCHEMA_REF("Stats")
#define LINTEL_SCHEMA_JOB     LINTEL_SCHEMA_REF("Job")

/* The list envelope whose items are of the schema item (JSON text). */
#define LINTEL_SCHEMA_LIST(item)                                                                   \
    "{\"allOf\":[" LINTEL_SCHEMA_REF("List") ",{\"type\":\"object\",\"properties\":{\"items\":"    \
                                             "{\"type\":\"array\",\"items\":" item "}}}]}"

/* A body that is not JSON: its media type ("image/png", "text/html", or a range of types). */
#define LINTEL_SCHEMA_MEDIA(type) "{\"contentMediaType\":\"" type "\"}"

/*
 * An object with one required member, name, of the schema given (the reply {"count": 3}, the
 * body {"email": "..."}): LINTEL_SCHEMA_MEMBER("count", LINTEL_SCHEMA_INTEGER).
 */
#define LINTEL_SCHEMA_MEMBER(name, schema)                                                         \
    "{\"type\":\"object\",\"required\":[\"" name "\"],\"properties\":{\"" name "\":" schema "}}"

/* Fragments for properties. */
#define LINTEL_SCHEMA_ID      "{\"type\":\"integer\",\"minimum\":1}"
#define LINTEL_SCHEMA_TIME    "{\"type\":\"string\",\"format\":\"date-time\"}"
#define LINTEL_SCHEMA_STRING  "{\"type\":\"string\"}"
#define LINTEL_SCHEMA_BOOLEAN "{\"type\":\"boolean\"}"
#define LINTEL_SCHEMA_NUMBER  "{\"type\":\"number\"}"
#define LINTEL_SCHEMA_INTEGER "{\"type\":\"integer\"}"
#define LINTEL_SCHEMA_COUNT   "{\"type\":\"integer\",\"minimum\":0}"

/*
 * A route's .replies: LINTEL_REPLIES({200, "The task", TASK, EXAMPLE}, {404, ...}) is the list
 * with its end marker (EXAMPLE: JSON text of an example reply, ABI 2.8, or NULL).
 * LINTEL_REPLY_NO_CONTENT is the entry of a 204 without a body.
 */
#define LINTEL_REPLIES(...) ((const struct lintel_reply[]){__VA_ARGS__, {0, NULL, NULL, NULL}})
#define LINTEL_REPLY_NO_CONTENT                                                                    \
    {                                                                                              \
        204, "Done; no body", NULL, NULL                                                           \
    }

#endif /* LINTEL_SCHEMAS_H */
