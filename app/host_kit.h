/*
 * The plugin kit's host side: route tables with their metadata, validated settings, SQL with
 * inline parameters and one-call user events (the lifecycle itself is plugin_loader.c's).
 */
#ifndef LINTEL_APP_HOST_KIT_H
#define LINTEL_APP_HOST_KIT_H

#include <jansson.h>
#include <lintel/plugin.h>
#include <stdarg.h>
#include <stdbool.h>

#include "route_meta.h"

struct lintel_req;
struct route;

/*
 * The copy of r's description (summary, query, body, replies, examples; each schema and
 * example must parse), read as a plugin of ABI minor lays it out, or NULL with *why set (a static
 * text) when it is unusable. Freed with host_kit_meta_free, or host_kit_meta_release where the
 * route table keeps it (route_def).
 */
struct host_route_meta *host_kit_meta_new(const struct lintel_route *r, unsigned minor,
                                          const char **why);
void host_kit_meta_free(struct host_route_meta *m);
void host_kit_meta_release(void *meta);

/*
 * api->routes_add: each entry's scope and metadata checked, then registered through
 * plugin_loader_route_add (only in init: plugin_loader_lifecycle_ok).
 */
int host_kit_routes_add(lintel_plugin *p, const struct lintel_route *routes, size_t n, void *state);

/* api->ws_add: checks the caller and its path, then records the endpoint (ws.c). */
int host_kit_ws_add(lintel_plugin *p, const char *path, unsigned flags,
                    const struct lintel_ws_event *events, size_t n);
int host_kit_setting_int(lintel_plugin *p, const char *name, long long *out);
int host_kit_setting_str(lintel_plugin *p, const char *name, const char **out);

/* Request-time members. */
int host_kit_sql_queryf(lintel_req *req, json_t **j_rows, const char *sql, const char *fmt, ...);
int host_kit_sql_rowf(lintel_req *req, json_t **j_row, const char *sql, const char *fmt, ...);
int host_kit_sql_execf(lintel_req *req, long long *changes, const char *sql, const char *fmt, ...);
int host_kit_sql_list(lintel_req *req, lintel_res *res, const char *sql, const char *fmt, ...);
int host_kit_sql_list_total(lintel_req *req, lintel_res *res, const char *sql,
                            const char *total_sql, const char *fmt, ...);
int host_kit_sql_page(lintel_req *req, lintel_res *res, const struct lintel_list *list,
                      const char *fmt, ...);
int host_kit_res_rowf(lintel_req *req, lintel_res *res, unsigned status, const char *what,
                      const char *sql, const char *fmt, ...);
int host_kit_sql_exec_blob(lintel_req *req, long long *changes, const void *data, size_t len,
                           const char *sql, const char *fmt, ...);
int host_kit_sql_blob_rowf(lintel_req *req, size_t max, void **data, size_t *len, json_t **j_row,
                           const char *sql, const char *fmt, ...);
int host_kit_event_user(lintel_req *req, const char *name, const char *key, const json_t *j_data);

/*
 * Dispatcher hooks. host_kit_check_query: the route's declared query parameters, before the
 * handler (0, or LINTEL_EPARAM recorded naming the parameter). host_kit_render_error: lets the
 * route's plugin render the error rc in its own format; true when it wrote the reply.
 */
int host_kit_check_query(struct lintel_req *req);
bool host_kit_render_error(struct lintel_req *req, int rc);

/*
 * Adds the route's summary, query parameters, body and reply schemas to its OpenAPI j_op; jsend:
 * JSON success replies are described inside the JSend envelope the host wraps them in. True
 * when the route declared a success reply.
 */
bool host_kit_openapi(const struct route *r, json_t *j_op, bool jsend);

#endif /* LINTEL_APP_HOST_KIT_H */
