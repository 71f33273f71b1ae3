/*
 * Keyset pages of the kit's lists (api->sql_page): the sort a request names, the opaque cursor
 * (`after`, `next`), the page's SQL, the Link header; and time bounds of list filters.
 */
#ifndef LINTEL_APP_HOST_LIST_H
#define LINTEL_APP_HOST_LIST_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

/* The longest cursor accepted (characters of base64url). */
#define HOST_LIST_AFTER_MAX 2048

/* What one request asked of a keyset list (host_list_begin fills it, host_list_end frees it). */
struct host_list_page {
    const struct lintel_sort *sort; /* the field sorted on                         */
    bool desc;                      /* "-name": descending                         */
    const char *id;                 /* the tie-breaking column and item member     */
    json_t *j_after;                /* [key, id] of the cursor, or NULL            */
};

/*
 * Reads sort and after for list (and refuses after with offset/skip); 0, or LINTEL_EPARAM
 * recorded naming the parameter.
 */
int host_list_begin(lintel_req *req, const struct lintel_list *list, struct host_list_page *pg);

/*
 * The page's statement: list->sql, the cursor's condition, ORDER BY, and "LIMIT ?L OFFSET ?O"
 * where the cursor's values are appended to j_params (n parameters before them) and L, O are
 * the indexes after those. NULL when out of memory.
 */
char *host_list_sql(const struct lintel_list *list, const struct host_list_page *pg,
                    json_t *j_params, size_t *limit_index);

/*
 * After the page was read with LIMIT limit + 1 (rows read, limit of them written): when there
 * was a row more, *next (malloc'd) is the cursor after j_last, the last item written, and the
 * Link header is set. *next NULL: the last page. 0 or LINTEL_ENOMEM / LINTEL_EINTERNAL (an item
 * without its key).
 */
int host_list_next(lintel_req *req, const struct host_list_page *pg, size_t rows,
                   const json_t *j_last, long long limit, char **next);

void host_list_end(struct host_list_page *pg);

/* api->req_time. */
int host_list_req_time(lintel_req *req, const char *name, unsigned flags, long long *out);

#endif /* LINTEL_APP_HOST_LIST_H */
