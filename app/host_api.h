/*
 * The host side of the plugin ABI: the struct lintel_api table, and the concrete request and
 * response a handler sees through it. server.c fills a request per HTTP call.
 */
#ifndef LINTEL_APP_HOST_API_H
#define LINTEL_APP_HOST_API_H

#include "db.h"

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;
struct config;
struct db;
struct route;
struct router_match;

#define HOST_MAX_PARAMS 16

/* One reply header (both malloc'd); the server hands them to libmicrohttpd at the end. */
struct host_header {
    char *name, *value;
};

/* One query argument, percent-decoded (both malloc'd). */
struct host_arg {
    char *key, *value;
};

struct lintel_res {
    struct lintel_req *req;
    unsigned status;
    char *body; /* malloc'd reply body, or NULL                          */
    size_t len;
    const char *content_type; /* static text, or content_type_buf                    */
    char *content_type_buf;
    struct host_header *headers; /* set with host_res_put_header (replaces the same name) */
    size_t nheaders;
    bool written;     /* res_json/res_empty/res_bytes was called               */
    int err_rc;       /* recorded error, 0 when none                           */
    char *err_detail; /* malloc'd                                              */
    bool err_weak;    /* recorded by the host (SQL); a plugin's own detail wins */
    json_t *j_errors; /* [{field, message}] or NULL                            */
    bool errors_weak; /* j_errors holds only the host's guess from SQL         */
};

struct lintel_req {
    struct MHD_Connection *conn; /* headers and query are read through it           */
    const char *method;          /* borrowed from libmicrohttpd                     */
    const char *path;            /* raw path without the query (borrowed)           */
    const struct route *route;   /* NULL for the fallback (404/405)                 */
    const struct config *cfg;
    const char *param_name[HOST_MAX_PARAMS];  /* borrowed from the route              */
    const char *param_value[HOST_MAX_PARAMS]; /* decoded, borrowed from the match     */
    size_t nparams;
    struct host_arg *args; /* the decoded query (owned)                       */
    size_t nargs;
    char *body; /* the request body, at most the route's limit (owned) */
    size_t body_len;
    json_t *j_claims; /* verified claims (owned) or NULL                 */
    long long user_id;
    struct db *db; /* this thread's connection, once asked for        */
    char request_id[65];
    char client_addr[64];
    struct lintel_res res;
    bool heavy;       /* holds a slot of the CPU-heavy gate          */
    long long job_id; /* the job this request runs (app/jobs.c), or 0 */
    bool tx_held;     /* the host holds a write transaction around the handler (If-Match,
                       * app/etag.c): the plugin's sql_begin/sql_commit are no-ops inside it */
    /*
     * Set while that transaction waits for the handler's first write (a statement other than
     * SELECT/VALUES, sql_exec, sql_begin): the SQL calls then run it first, so the work before
     * (a password hash) holds no write lock. It opens the transaction, checks If-Match in it
     * and clears itself; a failure is returned from that SQL call and kept in tx_rc.
     */
    int (*tx_open)(struct lintel_req *req);
    const struct router_match *tx_twin; /* what tx_open compares with (app/etag.c)          */
    int tx_rc;                          /* tx_open's failure (412, 404), the request's reply */
};

/* The request's connection (this thread's, opened on first need): 0, or the failure recorded. */
int host_req_db(struct lintel_req *req, struct db **db);

/* Sizes the gate of CPU-heavy work (heavy_begin) from cfg; host_api_release frees it. */
int host_api_init(const struct config *cfg);
void host_api_release(void);

/*
 * Binds the table's members implemented above this file (lifecycle: declare, migration_add,
 * on_unload, log from plugin_loader.c; the kit's from host_kit.c; login from host_account.c),
 * before plugins load.
 */
void host_api_bind(const struct lintel_api *upper);

/* The table handed to every plugin (static; lives for the process). */
const struct lintel_api *host_api(void);

/* Prepares req for one request on conn (method and path borrowed from libmicrohttpd). */
void host_req_init(struct lintel_req *req, struct MHD_Connection *conn, const char *method,
                   const char *path, const struct config *cfg);

/* Sets a reply header (copied; replaces one of the same name). LINTEL_EPARAM for CR/LF. */
int host_res_put_header(struct lintel_res *res, const char *name, const char *value);

/* Frees what a reply holds (body, headers, recorded error) and zeroes it. */
void host_res_release(struct lintel_res *res);

/*
 * The kit's sql_queryf, sql_rowf and sql_execf: db_vrun on the request's connection, errors
 * recorded as the ABI's sql_query, sql_row and sql_exec record them.
 */
int host_sql_vrun(struct lintel_req *req, enum db_kind kind, void *out, const char *sql,
                  const char *fmt, va_list ap);

/*
 * The request's SQL with bytes (the kit's sql_exec_blob and sql_blob_rowf, which pack the
 * parameters): db_exec_blob and db_row_blob on the request's connection, errors recorded.
 */
int host_sql_exec_blob(struct lintel_req *req, const char *sql, const json_t *j_params,
                       const void *data, size_t len, long long *changes);
int host_sql_row_blob(struct lintel_req *req, const char *sql, const json_t *j_params, size_t max,
                      void **data, size_t *len, json_t **j_row);

/*
 * The list envelope {"items", "total", "limit", "offset"} (api->res_list), with keyset also
 * "next": the cursor text, or null when next is NULL.
 */
int host_res_page(lintel_res *res, const json_t *j_items, long long total, long long limit,
                  long long offset, bool keyset, const char *next);

/*
 * Replies written as text, piece by piece, with no jansson tree between SQLite and the client
 * (docs/architecture.md "Performance"): host_res_text_open starts b (zeroed by the caller) with
 * JSend's head when the server is so configured; the caller appends the body (host_sql_text,
 * host_res_page_tail); host_res_text_close adds JSend's tail and makes b the JSON reply with
 * status (b is emptied; the caller frees b.data in any case).
 */
struct json_out_buf;
int host_res_text_open(lintel_res *res, struct json_out_buf *b);
int host_res_text_close(lintel_res *res, unsigned status, struct json_out_buf *b);

/* The end of the list envelope after its items: ',"total":..,"limit":..,"offset":..[,"next":..]}'.
 */
int host_res_page_tail(struct json_out_buf *b, long long total, long long limit, long long offset,
                       bool keyset, const char *next);

/* db_query_text on the request's connection; a failure is recorded as sql_query records it. */
struct db_text;
int host_sql_text(struct lintel_req *req, const char *sql, const json_t *j_params,
                  struct db_text *text);

/* Rolls back a transaction the handler left open, frees params, claims, body, errors. */
void host_req_release(struct lintel_req *req);

/* Records an error for rendering (see api->res_error); weak: a later plugin detail wins. */
int host_res_record(struct lintel_res *res, int rc, const char *field, const char *detail,
                    bool weak);

#endif /* LINTEL_APP_HOST_API_H */
