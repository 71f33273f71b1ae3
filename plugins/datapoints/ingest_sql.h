/*
 * The SQL of data-point ingest, shared by the datapoints plugin and the seed 002 profile
 * (compat_datapoints): one statement stores a batch of raw upstream points, or none of them.
 */
#ifndef LINTEL_PLUGINS_DATAPOINTS_INGEST_SQL_H
#define LINTEL_PLUGINS_DATAPOINTS_INGEST_SQL_H

/* A point as the API returns it, from a row of datapoints. */
#define DP_COLUMNS                                                                                 \
    "id, strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS time, value, "                         \
    "valid AS \"valid:bool\", tags AS \"tags:json\""

/*
 * Inserts every point of the JSON array ?1, or fails as a whole. The extension does the work:
 * lintel_f32_decode checks and decodes the four bytes (NaN comes back NULL, infinities as
 * such), lintel_datapoint_tags checks the tags and adds "too old" against this statement's
 * clock, lintel_datapoint_valid judges the result. A value that is not finite is stored NULL
 * and tagged "not finite". A time that is not a JSON integer becomes NULL and fails NOT NULL;
 * one out of range fails the CHECK. The subqueries carry LIMIT -1 so SQLite runs them as
 * co-routines instead of flattening them, which would call the functions once per use.
 */
#define DP_FINITE "abs(v) <= 3.4028234663852886e38" /* false for NULL (NaN) and +-Inf */
/* The tags of the raw point pv as sent: absent and null are []. */
#define DP_SENT_TAGS "coalesce(nullif(pv -> '$.tags', 'null'), '[]')"
/* The raw point pv travels up through every level, for the ingest key of DP_INSERT_KEYED. */
#define DP_INSERT_AS(columns, values, tail)                                                        \
    "INSERT INTO datapoints (ts, value, tags, valid" columns ")"                                   \
    " SELECT ts, value, tags, lintel_datapoint_valid(tags)" values                                 \
    " FROM (SELECT ts, pv, CASE WHEN " DP_FINITE " THEN v END AS value,"                           \
    "   CASE WHEN " DP_FINITE " THEN tg ELSE json_insert(tg, '$[#]', 'not finite') END AS tags"    \
    "  FROM (SELECT ts, pv, lintel_f32_decode(coalesce(pv -> '$.value', 'null')) AS v,"            \
    "    lintel_datapoint_tags(" DP_SENT_TAGS ", ts, unixepoch()) AS tg"                           \
    "   FROM (SELECT CASE WHEN json_type(p.value, '$.time') = 'integer'"                           \
    "                THEN p.value ->> '$.time' END AS ts, p.value AS pv"                           \
    "    FROM json_each(?1) AS p LIMIT -1) LIMIT -1) LIMIT -1)" tail
#define DP_INSERT DP_INSERT_AS("", "", "")

/*
 * Bulk ingest, idempotent (docs/datapoints.md "Re-sent batches"): a point whose time, four raw
 * bytes (one little-endian unsigned integer, so 0.0 and -0.0 or two NaN payloads stay apart)
 * and tags as sent (before "too old") are already stored is skipped, through the unique index
 * datapoints_ingest_key; the statement's changes count the new points. "WHERE true" tells
 * SQLite's parser that ON CONFLICT is the upsert clause, not a join's ON.
 */
#define DP_RAW_BYTE(i, shift) "((pv ->> '$.value[" #i "]') << " #shift ")"
#define DP_RAW                                                                                     \
    DP_RAW_BYTE(0, 0) " | " DP_RAW_BYTE(1, 8) " | " DP_RAW_BYTE(2, 16) " | " DP_RAW_BYTE(3, 24)
#define DP_INSERT_KEYED                                                                            \
    DP_INSERT_AS(", raw, sent_tags", ", " DP_RAW ", " DP_SENT_TAGS,                                \
                 " WHERE true ON CONFLICT DO NOTHING")

/*
 * What is wrong with one raw point p (a row of json_each over the array): NULL when DP_INSERT
 * takes it, else the JSON array [field, message]; the first problem wins, in the order time,
 * value, tags. Only run after DP_INSERT failed, to name the culprit for the client.
 */
#define DP_BYTE_OK(i)                                                                              \
    "json_type(p.value, '$.value[" #i "]') = 'integer' AND "                                       \
    "json_extract(p.value, '$.value[" #i "]') BETWEEN 0 AND 255"
#define DP_POINT_ERROR                                                                             \
    "CASE"                                                                                         \
    " WHEN p.type = 'array' THEN json_array('', 'is a list, not one point')"                       \
    " WHEN p.type <> 'object' THEN json_array('', 'must be an object {time, value, tags}')"        \
    " WHEN json_type(p.value, '$.time') IS NULL THEN json_array('time', 'is required')"            \
    " WHEN json_type(p.value, '$.time') <> 'integer'"                                              \
    "   OR json_extract(p.value, '$.time') NOT BETWEEN 0 AND 253402300799"                         \
    "   THEN json_array('time', 'must be an integer number of Unix seconds, "                      \
    "0..253402300799')"                                                                            \
    " WHEN json_type(p.value, '$.value') IS NULL THEN json_array('value', 'is required')"          \
    " WHEN json_type(p.value, '$.value') <> 'array'"                                               \
    "   OR json_array_length(p.value, '$.value') <> 4"                                             \
    "   THEN json_array('value', 'must be an array of four integers 0..255')"                      \
    " WHEN NOT (" DP_BYTE_OK(0) " AND " DP_BYTE_OK(1) " AND " DP_BYTE_OK(2) " AND " DP_BYTE_OK(    \
        3) ")"                                                                                     \
           "   THEN json_array('value', (SELECT 'byte ' || b.key || ' is ' ||"                     \
           "     CASE WHEN b.type IN ('integer', 'real') THEN b.atom"                              \
           "          WHEN b.type = 'text' THEN json_quote(b.atom) ELSE b.type END ||"             \
           "     ', not an integer 0..255' FROM json_each(p.value, '$.value') AS b"                \
           "     WHERE b.type <> 'integer' OR b.atom NOT BETWEEN 0 AND 255 ORDER BY b.key LIMIT "  \
           "1))"                                                                                   \
           " WHEN json_type(p.value, '$.tags') NOT IN ('array', 'null')"                           \
           "   OR (json_type(p.value, '$.tags') = 'array' AND EXISTS (SELECT 1 FROM"               \
           "       json_each(p.value, '$.tags') AS g WHERE g.type <> 'text'))"                     \
           "   THEN json_array('tags', 'must be an array of strings')"                             \
           " END"

/* The first malformed point of ?1: its index and [field, message]. */
#define DP_FIRST_ERROR                                                                             \
    "SELECT idx, err AS \"err:json\" FROM (SELECT p.key AS idx, " DP_POINT_ERROR " AS err"         \
    " FROM json_each(?1) AS p LIMIT -1) WHERE err IS NOT NULL ORDER BY idx LIMIT 1"

#endif /* LINTEL_PLUGINS_DATAPOINTS_INGEST_SQL_H */
