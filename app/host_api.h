/*
 * The host side of the plugin ABI: the struct lintel_api table, and the concrete request and
 * response a handler sees through it. server.c fills a request per HTTP call.
 */
#ifndef LINTEL_APP_HOST_API_H
#define LINTEL_APP_HOST_API_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct _u_request;
struct _u_response;
struct config;
struct db;
struct route;

#define HOST_MAX_PARAMS 16

struct lintel_res {
    struct lintel_req *req;
    struct _u_response *u; /* headers go straight into the ulfius response          */
    unsigned status;
    char *body; /* malloc'd reply body, or NULL                          */
    size_t len;
    const char *content_type; /* static text, or content_type_buf                    */
    char *content_type_buf;
    bool written;     /* res_json/res_empty/res_bytes was called               */
    int err_rc;       /* recorded error, 0 when none                           */
    char *err_detail; /* malloc'd                                              */
    bool err_weak;    /* recorded by the host (SQL); a plugin's own detail wins */
    json_t *j_errors; /* [{field, message}] or NULL                            */
    bool errors_weak; /* j_errors holds only the host's guess from SQL         */
};

struct lintel_req {
    const struct _u_request *u;
    const struct route *route; /* NULL for the fallback (404/405)                 */
    const struct config *cfg;
    const char *param_name[HOST_MAX_PARAMS]; /* borrowed from the route              */
    char *param_value[HOST_MAX_PARAMS];      /* decoded, malloc'd                    */
    size_t nparams;
    json_t *j_claims; /* verified claims (owned) or NULL                 */
    long long user_id;
    struct db *db; /* this thread's connection, once asked for        */
    char request_id[65];
    char client_addr[64];
    struct lintel_res res;
    bool heavy; /* holds a slot of the CPU-heavy gate          */
};

/* Sizes the gate of CPU-heavy work (heavy_begin) from cfg; host_api_release frees it. */
int host_api_init(const struct config *cfg);
void host_api_release(void);

/* The table handed to every plugin (static; lives for the process). */
const struct lintel_api *host_api(void);

/* Prepares req for one call (u_req/u_resp borrowed); host_req_release frees what it holds. */
void host_req_init(struct lintel_req *req, const struct _u_request *u_req,
                   struct _u_response *u_resp, const struct config *cfg);

/* Rolls back a transaction the handler left open, frees params, claims, body, errors. */
void host_req_release(struct lintel_req *req);

/* Records an error for rendering (see api->res_error); weak: a later plugin detail wins. */
int host_res_record(struct lintel_res *res, int rc, const char *field, const char *detail,
                    bool weak);

#endif /* LINTEL_APP_HOST_API_H */
