/*
 * Keyset pages of the kit's lists (api->sql_page): the sort a request names, the opaque cursor
 * (`after`, `next`), the page's SQL, the Link header; and time bounds of list filters.
 */
#include "host_list.h"

#include "crypto.h"
#include "host_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sort and cursor ---- */

/*
 * The cursor is base64url of the JSON array [sort, key, id]: the sort it was made for
 * ("-value"), the last item's key and id. Opaque to clients; checked, never trusted: a cursor of
 * another sort would compare the key with the wrong column.
 */

static int host_list_bad_after(lintel_req *req, const char *message)
{
    return host_api()->res_invalid(&req->res, "after", "%s", message);
}

/* The sort's text as the request gives it ("-value") into buf. */
static void host_list_sort_text(const struct host_list_page *pg, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", pg->desc ? "-" : "", pg->sort->name);
}

/* The sorts of list as "id, -id, value, -value" for a 422. */
static void host_list_sort_names(const struct lintel_list *list, char *buf, size_t size)
{
    size_t n = 0, i;

    buf[0] = '\0';
    for (i = 0; list->sorts[i].name != NULL && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s, -%s", i > 0 ? ", " : "",
                              list->sorts[i].name, list->sorts[i].name);
}

static int host_list_cursor_read(lintel_req *req, struct host_list_page *pg, const char *text)
{
    unsigned char *raw = NULL;
    size_t len = 0;
    json_t *j = NULL, *j_key, *j_id;
    char want[96];
    int rc;

    if (strlen(text) > HOST_LIST_AFTER_MAX ||
        crypto_b64url_decode(text, strlen(text), &raw, &len) != 0 ||
        (j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        !json_is_array(j) || json_array_size(j) != 3) {
        rc = host_list_bad_after(req, "is not a cursor this server gave (use the reply's next)");
        goto cleanup;
    }
    host_list_sort_text(pg, want, sizeof(want));
    if (!json_is_string(json_array_get(j, 0)) ||
        strcmp(json_string_value(json_array_get(j, 0)), want) != 0) {
        rc = host_list_bad_after(req, "was made for another sort order than this request's");
        goto cleanup;
    }
    j_key = json_array_get(j, 1);
    j_id = json_array_get(j, 2);
    if ((!json_is_string(j_key) && !json_is_number(j_key)) || !json_is_integer(j_id)) {
        rc = host_list_bad_after(req, "is not a cursor this server gave (use the reply's next)");
        goto cleanup;
    }
    pg->j_after = json_pack("[OO]", j_key, j_id);
    rc = pg->j_after != NULL ? 0 : LINTEL_ENOMEM;
cleanup:
    free(raw);
    json_decref(j);
    return rc;
}

int host_list_begin(lintel_req *req, const struct lintel_list *list, struct host_list_page *pg)
{
    const struct lintel_api *api = host_api();
    const char *sort = api->req_query(req, "sort");
    const char *after = api->req_query(req, "after");
    char names[256];
    size_t i;

    memset(pg, 0, sizeof(*pg));
    pg->id = list->id != NULL ? list->id : "id";
    pg->sort = &list->sorts[0];
    if (sort != NULL) {
        pg->desc = sort[0] == '-';
        pg->sort = NULL;
        for (i = 0; list->sorts[i].name != NULL; i++)
            if (strcmp(list->sorts[i].name, sort + pg->desc) == 0)
                pg->sort = &list->sorts[i];
        if (pg->sort == NULL) {
            host_list_sort_names(list, names, sizeof(names));
            return api->res_invalid(&req->res, "sort", "must be one of: %s", names);
        }
    }
    if (after == NULL)
        return 0;
    if (api->req_query(req, "offset") != NULL || api->req_query(req, "skip") != NULL)
        return api->res_invalid(&req->res, "after", "cannot be combined with offset or skip");
    return host_list_cursor_read(req, pg, after);
}

void host_list_end(struct host_list_page *pg)
{
    json_decref(pg->j_after);
    pg->j_after = NULL;
}

/* "unixepoch(?7)" from "unixepoch(?)" and 7: param's first '?' numbered. */
static int host_list_param(char *buf, size_t size, const char *param, size_t index)
{
    const char *q = param != NULL ? strchr(param, '?') : NULL;

    if (q == NULL)
        return snprintf(buf, size, "?%zu", index);
    return snprintf(buf, size, "%.*s?%zu%s", (int)(q - param), param, index, q + 1);
}

char *host_list_sql(const struct lintel_list *list, const struct host_list_page *pg,
                    json_t *j_params, size_t *limit_index)
{
    const char *col = pg->sort->column, *dir = pg->desc ? " DESC" : "";
    bool by_id = strcmp(col, pg->id) == 0;
    size_t n = json_array_size(j_params);
    char where[512] = "", key[192];
    char *sql = NULL;

    if (pg->j_after != NULL) {
        /* A row value: SQLite seeks the index on (filters..., column, id) to it. */
        if (by_id)
            snprintf(where, sizeof(where), " AND %s %s ?%zu", pg->id, pg->desc ? "<" : ">", n + 1);
        else if (host_list_param(key, sizeof(key), pg->sort->param, n + 1) < (int)sizeof(key))
            snprintf(where, sizeof(where), " AND (%s, %s) %s (%s, ?%zu)", col, pg->id,
                     pg->desc ? "<" : ">", key, n + 2);
        if (json_array_append(j_params, json_array_get(pg->j_after, by_id ? 1 : 0)) != 0 ||
            (!by_id && json_array_append(j_params, json_array_get(pg->j_after, 1)) != 0))
            return NULL;
        n = json_array_size(j_params);
    }
    *limit_index = n + 1;
    if (by_id && asprintf(&sql, "%s%s ORDER BY %s%s LIMIT ?%zu OFFSET ?%zu", list->sql, where,
                          pg->id, dir, n + 1, n + 2) < 0)
        sql = NULL;
    if (!by_id && asprintf(&sql, "%s%s ORDER BY %s%s, %s%s LIMIT ?%zu OFFSET ?%zu", list->sql,
                           where, col, dir, pg->id, dir, n + 1, n + 2) < 0)
        sql = NULL;
    return sql;
}

/* The request's URL with after=cursor in place of after, offset and skip, for a Link header. */
static char *host_list_link(lintel_req *req, const char *cursor)
{
    char *out = NULL, *k, *v;
    size_t len = 0, i;
    bool ok = true;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL)
        return NULL;
    fprintf(f, "<%s?", req->path);
    for (i = 0; ok && i < req->nargs; i++) {
        const char *key = req->args[i].key;

        if (strcmp(key, "after") == 0 || strcmp(key, "offset") == 0 || strcmp(key, "skip") == 0)
            continue;
        k = curl_easy_escape(NULL, key, 0);
        v = curl_easy_escape(NULL, req->args[i].value != NULL ? req->args[i].value : "", 0);
        ok = k != NULL && v != NULL && fprintf(f, "%s=%s&", k, v) > 0;
        curl_free(k);
        curl_free(v);
    }
    ok = ok && fprintf(f, "after=%s>; rel=\"next\"", cursor) > 0;
    if (fclose(f) != 0 || !ok) {
        free(out);
        return NULL;
    }
    return out;
}

int host_list_next(lintel_req *req, const struct host_list_page *pg, size_t rows,
                   const json_t *j_last, long long limit, char **next)
{
    json_t *j_cursor = NULL;
    char sort[96], *text = NULL, *link = NULL;
    int rc = 0;

    *next = NULL;
    if ((long long)rows <= limit)
        return 0;
    if (limit == 0)
        return 0; /* no item to continue after: a page of 0 only counts */
    host_list_sort_text(pg, sort, sizeof(sort));
    if (json_object_get(j_last, pg->sort->name) == NULL ||
        !json_is_integer(json_object_get(j_last, pg->id)))
        return LINTEL_EINTERNAL;
    j_cursor = json_pack("[sOO]", sort, json_object_get(j_last, pg->sort->name),
                         json_object_get(j_last, pg->id));
    text = j_cursor != NULL ? json_dumps(j_cursor, JSON_COMPACT) : NULL;
    if (text == NULL || crypto_b64url_encode(text, strlen(text), next) != 0 ||
        (link = host_list_link(req, *next)) == NULL)
        rc = LINTEL_ENOMEM;
    if (rc == 0)
        rc = host_res_put_header(&req->res, "Link", link);
    if (rc != 0) {
        free(*next);
        *next = NULL;
    }
    free(link);
    free(text);
    json_decref(j_cursor);
    return rc;
}

/* ---- time bounds ---- */

static bool host_list_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A two-digit field of s at i that is at most max. */
static bool host_list_2d(const char *s, size_t i, int max)
{
    return host_list_digits(s + i, 2) && (s[i] - '0') * 10 + (s[i + 1] - '0') <= max;
}

/*
 * The shape of an ISO 8601 date-time SQLite's date functions read the same way:
 * YYYY-MM-DD, or YYYY-MM-DD[T ]HH:MM[:SS[.fraction]] with an optional Z or +hh:mm / -hh:mm
 * (UTC when absent). Only the shape is checked here; the calendar and the conversion are
 * SQLite's. *fraction says whether a non-zero fraction of a second was given.
 */
static bool host_list_iso_shape(const char *s, bool *fraction)
{
    size_t n = strlen(s), i;

    *fraction = false;
    if (n < 10 || !host_list_digits(s, 4) || s[4] != '-' || !host_list_digits(s + 5, 2) ||
        s[7] != '-' || !host_list_digits(s + 8, 2))
        return false;
    if (n == 10)
        return true;
    if ((s[10] != 'T' && s[10] != ' ') || n < 16 || !host_list_2d(s, 11, 23) || s[13] != ':' ||
        !host_list_2d(s, 14, 59))
        return false;
    i = 16;
    if (s[i] == ':') {
        if (!host_list_2d(s, i + 1, 59))
            return false;
        i += 3;
        if (s[i] == '.') {
            size_t start = ++i;
            while (s[i] >= '0' && s[i] <= '9') {
                if (s[i] != '0')
                    *fraction = true;
                i++;
            }
            if (i == start || i - start > 9)
                return false;
        }
    }
    if (s[i] == '\0' || (s[i] == 'Z' && s[i + 1] == '\0'))
        return true;
    return (s[i] == '+' || s[i] == '-') && n - i == 6 && host_list_2d(s, i + 1, 23) &&
           s[i + 3] == ':' && host_list_2d(s, i + 4, 59);
}

int host_list_req_time(lintel_req *req, const char *name, unsigned flags, long long *out)
{
    const struct lintel_api *api = host_api();
    const char *text = api->req_query(req, name);
    json_t *j_row = NULL, *j_t;
    bool fraction = false;
    char *end = NULL;
    long long v;
    int rc = 0;

    if (text == NULL || text[0] == '\0')
        goto cleanup;
    if (host_list_digits(text, strlen(text)) ||
        (text[0] == '-' && text[1] != '\0' && host_list_digits(text + 1, strlen(text + 1)))) {
        errno = 0;
        v = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = v;
            goto cleanup;
        }
    } else if (host_list_iso_shape(text, &fraction)) {
        /* unixepoch() rolls 2024-02-30 over into March: the date must survive a round trip. */
        rc = api->sql_rowf(req, &j_row,
                           "SELECT CASE WHEN date(unixepoch(substr(?1, 1, 10)), 'unixepoch')"
                           " = substr(?1, 1, 10) THEN unixepoch(?1) END AS t",
                           "s", text);
        if (rc != 0)
            goto cleanup;
        j_t = json_object_get(j_row, "t");
        if (json_is_integer(j_t)) {
            *out = json_integer_value(j_t) + ((flags & LINTEL_TIME_CEIL) && fraction ? 1 : 0);
            goto cleanup;
        }
    }
    rc = api->res_invalid(&req->res, name,
                          "must be Unix seconds or an ISO 8601 date-time such as "
                          "2024-04-22T15:07:57Z or 2024-04-22T17:07:57+02:00");
cleanup:
    json_decref(j_row);
    return rc;
}
