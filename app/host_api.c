/*
 * The host functions behind struct lintel_api. Plugins reach requests, replies, SQL, tokens
 * and outbound HTTP only through these, so no libmicrohttpd or sqlite handle crosses the ABI.
 */
#include "host_api.h"

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "fmt.h"
#include "gate.h"
#include "http_client.h"
#include "http_error.h"
#include "json_out.h"
#include "log.h"
#include "migrate.h"
#include "router.h"

#include <ctype.h>
#include <errno.h>
#include <lintel/media_type.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- errors ---- */

int host_res_record(struct lintel_res *res, int rc, const char *field, const char *detail,
                    bool weak)
{
    json_t *j_err;

    if (res->err_rc == 0 || (res->err_weak && !weak)) {
        res->err_rc = rc;
        if (detail != NULL) {
            free(res->err_detail);
            res->err_detail = strdup(detail);
        }
        res->err_weak = weak;
    }
    if (field != NULL && detail != NULL) {
        /* The host's field guess (from SQL) gives way to the plugin's own fields. */
        if (weak && json_array_size(res->j_errors) > 0 && !res->errors_weak)
            return rc;
        if (!weak && res->errors_weak)
            json_array_clear(res->j_errors);
        res->errors_weak = weak;
        if (res->j_errors == NULL)
            res->j_errors = json_array();
        j_err = json_pack("{ss ss}", "field", field, "message", detail);
        if (res->j_errors != NULL && j_err != NULL)
            json_array_append_new(res->j_errors, j_err);
        else
            json_decref(j_err);
    }
    return rc;
}

static int host_res_error(lintel_res *res, int rc, const char *field, const char *fmt, ...)
{
    char *detail = NULL;
    va_list ap;

    if (rc >= 0)
        rc = LINTEL_EINTERNAL;
    if (fmt != NULL) {
        va_start(ap, fmt);
        detail = fmt_valloc(fmt, ap);
        va_end(ap);
    }
    host_res_record(res, rc, field, detail, false);
    free(detail);
    return rc;
}

/* ---- request ---- */

/* The media type of the request without parameters, lower-cased into buf; "" when absent. */
static void host_media_type(const lintel_req *req, char *buf, size_t size)
{
    lintel_media_type(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type"), buf,
                      size);
}

static bool host_is_json_type(const char *mt)
{
    size_t n = strlen(mt);

    return mt[0] == '\0' || strcmp(mt, "application/json") == 0 ||
           (n > 5 && strcmp(mt + n - 5, "+json") == 0);
}

/*
 * jansson reports where it stopped (after the bad token); the client wants where the bad
 * token starts. The token is quoted in the message as near '...'.
 */
static size_t host_json_error_offset(const json_error_t *e)
{
    const char *near = strstr(e->text, "near '");
    size_t pos = e->position > 0 ? (size_t)e->position : 0, tok;

    if (near == NULL)
        return pos;
    tok = strlen(near + 6);
    if (tok > 0 && near[6 + tok - 1] == '\'')
        tok--;
    return tok <= pos ? pos - tok : pos;
}

static bool host_nonfinite_at(const char *body, size_t len, size_t at)
{
    static const char *const words[] = {"NaN", "Infinity", "-Infinity", "+Infinity", "-NaN"};
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if (at + n <= len && strncmp(body + at, words[i], n) == 0)
            return true;
    }
    return false;
}

/*
 * The member name of an object value starting at byte at ("value" for {"value":1e400}), so a
 * 422 the parser raises still names its field; false when the value is no member's (an array
 * element, the top level) or the name has escapes.
 */
static bool host_member_before(const char *body, size_t at, char *name, size_t size)
{
    size_t end, start;

    while (at > 0 && isspace((unsigned char)body[at - 1]))
        at--;
    if (at == 0 || body[at - 1] != ':')
        return false;
    at--;
    while (at > 0 && isspace((unsigned char)body[at - 1]))
        at--;
    if (at < 2 || body[at - 1] != '"')
        return false;
    end = at - 1;
    for (start = end; start > 0 && body[start - 1] != '"'; start--)
        if (body[start - 1] == '\\')
            return false;
    if (start == 0 || end - start >= size)
        return false;
    memcpy(name, body + start, end - start);
    name[end - start] = '\0';
    return true;
}

static int host_parse_json(lintel_req *req, const char *body, size_t len, json_t **j_body)
{
    json_error_t e;
    size_t i, at;

    for (i = 0; i < len && isspace((unsigned char)body[i]); i++)
        ;
    if (i == len)
        return host_res_record(&req->res, LINTEL_EMALFORMED, NULL,
                               "The request body is empty; a JSON document was expected.", false);
    *j_body = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (*j_body != NULL)
        return 0;
    at = host_json_error_offset(&e);
    if (json_error_code(&e) == json_error_numeric_overflow || host_nonfinite_at(body, len, at)) {
        char detail[256], field[64];
        snprintf(detail, sizeof(detail),
                 "The number at byte %zu is not a finite number that fits a double or a "
                 "64-bit integer.",
                 at);
        host_res_record(&req->res, LINTEL_EPARAM, NULL, detail, false);
        if (host_member_before(body, at, field, sizeof(field)))
            host_res_record(&req->res, LINTEL_EPARAM, field,
                            "must be a finite number that fits a double or a 64-bit integer",
                            false);
        return LINTEL_EPARAM;
    } else {
        char detail[256];
        snprintf(detail, sizeof(detail), "Malformed JSON at byte %zu: %s.", at, e.text);
        return host_res_record(&req->res, LINTEL_EMALFORMED, NULL, detail, false);
    }
}

/* The form being parsed: values arrive in pieces (off > 0 continues the current key). */
struct host_form {
    lintel_req *req;
    json_t *j_obj;
    char *key, *val;
    size_t len;
    int rc;
};

static int host_form_flush(struct host_form *f)
{
    json_t *j_v;

    if (f->key == NULL)
        return 0;
    if (json_object_get(f->j_obj, f->key) != NULL)
        f->rc = host_res_record(&f->req->res, LINTEL_EMALFORMED, f->key, "is given more than once",
                                false);
    j_v = f->rc == 0 ? json_stringn(f->val != NULL ? f->val : "", f->len) : NULL;
    if (f->rc == 0 && j_v == NULL)
        f->rc = host_res_record(&f->req->res, LINTEL_EMALFORMED, f->key, "is not valid UTF-8 text",
                                false);
    if (j_v != NULL && json_object_set_new(f->j_obj, f->key, j_v) != 0)
        f->rc = LINTEL_ENOMEM;
    free(f->key);
    free(f->val);
    f->key = f->val = NULL;
    f->len = 0;
    return f->rc;
}

static enum MHD_Result host_form_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *filename, const char *content_type,
                                       const char *transfer_encoding, const char *data,
                                       uint64_t off, size_t size)
{
    struct host_form *f = cls;
    char *grown;

    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    if (off == 0 || f->key == NULL || strcmp(f->key, key) != 0) {
        if (host_form_flush(f) != 0)
            return MHD_NO;
        f->key = strdup(key);
        if (f->key == NULL) {
            f->rc = LINTEL_ENOMEM;
            return MHD_NO;
        }
    }
    /* The values together are never longer than the body, which the route's limit bounds. */
    grown = realloc(f->val, f->len + size + 1);
    if (grown == NULL) {
        f->rc = LINTEL_ENOMEM;
        return MHD_NO;
    }
    f->val = grown;
    if (size > 0)
        memcpy(f->val + f->len, data, size);
    f->len += size;
    return MHD_YES;
}

/* application/x-www-form-urlencoded, parsed by libmicrohttpd only for LINTEL_ROUTE_FORM routes. */
static int host_parse_form(lintel_req *req, json_t **j_body)
{
    struct host_form f = {.req = req, .j_obj = json_object()};
    struct MHD_PostProcessor *pp = NULL;
    int rc = LINTEL_ENOMEM;

    if (f.j_obj == NULL)
        goto cleanup;
    pp = MHD_create_post_processor(req->conn, 1024, host_form_value, &f);
    if (pp == NULL)
        goto cleanup;
    if ((req->body_len > 0 && MHD_post_process(pp, req->body, req->body_len) != MHD_YES) ||
        host_form_flush(&f) != 0) {
        rc = f.rc != 0 ? f.rc
                       : host_res_record(&req->res, LINTEL_EMALFORMED, NULL,
                                         "The form body cannot be parsed.", false);
        goto cleanup;
    }
    if (MHD_destroy_post_processor(pp) != MHD_YES) {
        pp = NULL;
        rc = host_res_record(&req->res, LINTEL_EMALFORMED, NULL,
                             "The form body ends in the middle of a value.", false);
        goto cleanup;
    }
    pp = NULL;
    *j_body = f.j_obj;
    f.j_obj = NULL;
    rc = 0;
cleanup:
    if (pp != NULL)
        MHD_destroy_post_processor(pp);
    free(f.key);
    free(f.val);
    json_decref(f.j_obj);
    return rc;
}

static int host_req_json(lintel_req *req, json_t **j_body)
{
    char mt[128];
    bool form_ok = req->route != NULL && (req->route->flags & LINTEL_ROUTE_FORM) != 0;

    *j_body = NULL;
    host_media_type(req, mt, sizeof(mt));
    if (host_is_json_type(mt))
        return host_parse_json(req, req->body, req->body_len, j_body);
    if (form_ok && strcmp(mt, "application/x-www-form-urlencoded") == 0)
        return host_parse_form(req, j_body);
    return host_res_record(&req->res, LINTEL_EMEDIATYPE, NULL,
                           form_ok ? "The body must be application/json or "
                                     "application/x-www-form-urlencoded."
                                   : "The body must be application/json.",
                           false);
}

static const void *host_req_body(lintel_req *req, size_t *len)
{
    *len = req->body_len;
    return req->body;
}

static const char *host_req_param(lintel_req *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->nparams; i++)
        if (strcmp(req->param_name[i], name) == 0)
            return req->param_value[i];
    return NULL;
}

static const char *host_req_query(lintel_req *req, const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < req->nargs; i++)
        if (strcmp(req->args[i].key, name) == 0)
            return req->args[i].value;
    return NULL;
}

static const char *host_req_header(lintel_req *req, const char *name)
{
    /* a job's request (app/jobs.c) has no connection */
    return name != NULL && req->conn != NULL
               ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name)
               : NULL;
}

static const json_t *host_req_claims(lintel_req *req)
{
    return req->j_claims;
}

static long long host_req_user_id(lintel_req *req)
{
    return req->user_id;
}

static const char *host_req_path(lintel_req *req)
{
    return req->path;
}

static const char *host_req_client_addr(lintel_req *req)
{
    return req->client_addr;
}

/* ---- response ---- */

static void host_res_reset(lintel_res *res)
{
    free(res->body);
    free(res->content_type_buf);
    res->body = NULL;
    res->content_type_buf = NULL;
    res->content_type = NULL;
    res->len = 0;
}

static int host_res_json(lintel_res *res, unsigned status, const json_t *j_body)
{
    json_t *j_wrapped = NULL;
    int rc;

    if (status < 100 || status > 599 || j_body == NULL)
        return LINTEL_EINTERNAL;
    host_res_reset(res);
    if (strcmp(res->req->cfg->envelope, "jsend") == 0) {
        j_wrapped = http_error_jsend_success(j_body);
        if (j_wrapped == NULL)
            return LINTEL_ENOMEM;
        j_body = j_wrapped;
    }
    rc = json_out_dump(j_body, &res->body, &res->len);
    json_decref(j_wrapped);
    if (rc != 0)
        return rc;
    res->status = status;
    res->content_type = "application/json";
    res->written = true;
    return 0;
}

static int host_res_empty(lintel_res *res, unsigned status)
{
    if (status < 100 || status > 599)
        return LINTEL_EINTERNAL;
    host_res_reset(res);
    res->status = status;
    res->written = true;
    return 0;
}

static int host_res_bytes(lintel_res *res, unsigned status, const char *content_type,
                          const void *data, size_t len)
{
    if (status < 100 || status > 599 || (data == NULL && len > 0))
        return LINTEL_EINTERNAL;
    host_res_reset(res);
    res->body = malloc(len + 1);
    res->content_type_buf =
        strdup(content_type != NULL ? content_type : "application/octet-stream");
    if (res->body == NULL || res->content_type_buf == NULL)
        return LINTEL_ENOMEM;
    if (len > 0)
        memcpy(res->body, data, len);
    res->body[len] = '\0';
    res->len = len;
    res->content_type = res->content_type_buf;
    res->status = status;
    res->written = true;
    return 0;
}

int host_res_put_header(struct lintel_res *res, const char *name, const char *value)
{
    struct host_header *grown;
    char *n = NULL, *v = NULL;
    size_t i;

    if (name == NULL || value == NULL || name[0] == '\0' || strpbrk(name, "\r\n: ") != NULL ||
        strpbrk(value, "\r\n") != NULL)
        return LINTEL_EPARAM;
    v = strdup(value);
    if (v == NULL)
        return LINTEL_ENOMEM;
    for (i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) == 0) {
            free(res->headers[i].value);
            res->headers[i].value = v;
            return 0;
        }
    }
    n = strdup(name);
    grown = n != NULL ? realloc(res->headers, (res->nheaders + 1) * sizeof(*grown)) : NULL;
    if (grown == NULL) {
        free(n);
        free(v);
        return LINTEL_ENOMEM;
    }
    res->headers = grown;
    res->headers[res->nheaders].name = n;
    res->headers[res->nheaders].value = v;
    res->nheaders++;
    return 0;
}

static int host_res_header(lintel_res *res, const char *name, const char *value)
{
    return host_res_put_header(res, name, value);
}

/* ---- SQL ---- */

int host_req_db(lintel_req *req, struct db **db)
{
    int rc;

    if (req->db == NULL) {
        rc = db_thread(&req->db);
        if (rc != 0) {
            req->db = NULL;
            return host_res_record(&req->res, rc, NULL, "The database is not available.", true);
        }
    }
    *db = req->db;
    return 0;
}

/* Whether sql only reads, by its first word: SELECT or VALUES (WITH may write: not sure). */
static bool host_sql_reads(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
        sql++;
    return (strncasecmp(sql, "SELECT", 6) == 0 && !isalnum((unsigned char)sql[6]) &&
            sql[6] != '_') ||
           (strncasecmp(sql, "VALUES", 6) == 0 && !isalnum((unsigned char)sql[6]) && sql[6] != '_');
}

/*
 * host_req_db for a statement (sql; NULL: one that writes, or a transaction): before the first
 * write of a handler whose host transaction waits (req->tx_open), opens it.
 */
static int host_req_db_for(lintel_req *req, const char *sql, struct db **db)
{
    int rc = host_req_db(req, db);

    if (rc == 0 && req->tx_open != NULL && (sql == NULL || !host_sql_reads(sql)))
        rc = req->tx_open(req);
    return rc;
}

/* Records the connection's message for a failed call; a missing row is the plugin's to say. */
static int host_sql_result(lintel_req *req, struct db *db, int rc)
{
    const char *field = db_errfield(db);

    /*
     * A rule broken on a column is a 422 on that field (numbers-and-tasks.md "Errors"): the
     * detail "<field> <message>.", errors[] {field, message}, as res_invalid words it.
     */
    if (rc == LINTEL_EPARAM && field != NULL && field[0] != '\0') {
        const char *msg = db_errmsg(db);
        size_t n = strlen(field);
        char *detail = NULL;

        if (strncmp(msg, field, n) == 0 && msg[n] == ' ')
            msg += n + 1; /* "title is required" */
        else if (strncmp(msg, "CHECK constraint failed", 23) == 0)
            msg = "is not valid";
        if (asprintf(&detail, "%s %s.", field, msg) < 0)
            detail = NULL;
        host_res_record(&req->res, rc, NULL, detail, true);
        free(detail);
        return host_res_record(&req->res, rc, field, msg, true);
    }
    if (rc != 0 && rc != LINTEL_ENOTFOUND)
        host_res_record(&req->res, rc, NULL, db_errmsg(db), true);
    return rc;
}

static int host_sql_query(lintel_req *req, const char *sql, const json_t *j_params, json_t **j_rows)
{
    struct db *db = NULL;
    int rc;

    *j_rows = NULL;
    rc = host_req_db_for(req, sql, &db);
    if (rc != 0)
        return rc;
    return host_sql_result(req, db, db_query(db, sql, j_params, j_rows));
}

static int host_sql_row(lintel_req *req, const char *sql, const json_t *j_params, json_t **j_row)
{
    struct db *db = NULL;
    int rc;

    *j_row = NULL;
    rc = host_req_db_for(req, sql, &db);
    if (rc != 0)
        return rc;
    return host_sql_result(req, db, db_row(db, sql, j_params, j_row));
}

static int host_sql_exec(lintel_req *req, const char *sql, const json_t *j_params,
                         long long *changes, long long *last_id)
{
    struct db *db = NULL;
    int rc;

    rc = host_req_db_for(req, NULL, &db);
    if (rc != 0)
        return rc;
    return host_sql_result(req, db, db_exec(db, sql, j_params, changes, last_id));
}

int host_sql_vrun(struct lintel_req *req, enum db_kind kind, void *out, const char *sql,
                  const char *fmt, va_list ap)
{
    struct db *db = NULL;
    int rc = host_req_db_for(req, kind == DB_EXEC ? NULL : sql, &db);

    return rc != 0 ? rc : host_sql_result(req, db, db_vrun(db, kind, out, sql, fmt, ap));
}

int host_sql_exec_blob(struct lintel_req *req, const char *sql, const json_t *j_params,
                       const void *data, size_t len, long long *changes)
{
    struct db *db = NULL;
    int rc;

    rc = host_req_db_for(req, NULL, &db);
    if (rc != 0)
        return rc;
    return host_sql_result(req, db, db_exec_blob(db, sql, j_params, data, len, changes));
}

int host_sql_row_blob(struct lintel_req *req, const char *sql, const json_t *j_params, size_t max,
                      void **data, size_t *len, json_t **j_row)
{
    struct db *db = NULL;
    int rc;

    *data = NULL;
    *len = 0;
    if (j_row != NULL)
        *j_row = NULL;
    rc = host_req_db_for(req, sql, &db);
    if (rc != 0)
        return rc;
    rc = db_row_blob(db, sql, j_params, max, data, len, j_row);
    if (rc == LINTEL_ETOOLARGE) /* what is stored is the server's state, not the client's */
        rc = LINTEL_EINTERNAL;
    return host_sql_result(req, db, rc);
}

/*
 * Inside a transaction the host holds around the handler (tx_held: an If-Match check must see
 * the row it compared still unchanged when the handler writes), the plugin's begin and commit
 * are no-ops: its statements join the host's transaction, which the host commits after it.
 */
static int host_sql_tx_step(lintel_req *req, int (*step)(struct db *db))
{
    struct db *db = NULL;
    /* a begin is the handler's first write (it opens a waiting host transaction); a commit not */
    int rc = step == db_begin ? host_req_db_for(req, NULL, &db) : host_req_db(req, &db);

    if (rc == 0 && req->tx_held && db_in_tx(db))
        return 0;
    return rc != 0 ? rc : host_sql_result(req, db, step(db));
}

static int host_sql_begin(lintel_req *req)
{
    return host_sql_tx_step(req, db_begin);
}

static int host_sql_commit(lintel_req *req)
{
    return host_sql_tx_step(req, db_commit);
}

/* A rollback is always real: the host's transaction then ends too, undone. */
static int host_sql_rollback(lintel_req *req)
{
    struct db *db = NULL;
    int rc = host_req_db(req, &db);

    if (req->tx_held)
        events_release(false); /* what the handler published so far is undone with it */
    req->tx_held = false;
    return rc != 0 ? rc : host_sql_result(req, db, db_rollback(db));
}

/* ---- tokens, crypto, outbound HTTP ---- */

static int host_token_issue(lintel_req *req, const json_t *j_claims, char **token,
                            long long *expires_in)
{
    int rc = auth_token_issue(j_claims, 0, token, expires_in);

    if (rc != 0)
        host_res_record(&req->res, rc, NULL, NULL, true);
    return rc;
}

static int host_session_end(lintel_req *req, long long user_id, const char *sid,
                            const char *keep_sid)
{
    int rc = auth_session_end(user_id, sid, keep_sid);

    if (rc != 0)
        host_res_record(&req->res, rc, NULL, NULL, true);
    return rc;
}

static int host_random_token(size_t nbytes, char **out)
{
    return crypto_random_token(nbytes, out);
}

static int host_sha256_hex(const void *data, size_t len, char out[65])
{
    return crypto_sha256_hex(data, len, out);
}

static int host_http_get(lintel_req *req, const char *url, long timeout_ms, size_t max_bytes,
                         long *status, char **body, size_t *len)
{
    const struct config *cfg = req->cfg;
    char *detail = NULL;
    int rc;

    if (timeout_ms <= 0)
        timeout_ms = (long)cfg->upstream_timeout * 1000;
    if (max_bytes == 0)
        max_bytes = cfg->upstream_max_bytes;
    rc = http_client_get(url, timeout_ms, max_bytes, status, body, len, &detail);
    if (rc != 0)
        host_res_record(&req->res, rc, NULL, detail, true);
    free(detail);
    return rc;
}

/* ---- misc ---- */

static void host_free(void *ptr)
{
    free(ptr);
}

/* ---- live events and settings ---- */

static int host_event_publish(lintel_req *req, long long user_id, const json_t *j_event)
{
    /* the publishing route's scope guards an event lintel does not know (events_scope) */
    return events_publish(user_id, j_event,
                          req != NULL && req->route != NULL ? req->route->scope : NULL);
}

/* ---- list and id conventions (api.md "Conventions") ---- */

#define HOST_LIMIT_DEFAULT 100
#define HOST_LIMIT_MAX     1000
#define HOST_STR_(x)       #x
#define HOST_STR(x)        HOST_STR_(x)

/*
 * A 422 on field: the detail (the first recorded wins) is a sentence naming it, errors[] gets
 * {field, message} with the bare message (api.md "Errors").
 */
static int host_param_invalid(lintel_res *res, const char *field, const char *message)
{
    char *detail = NULL;

    if (field == NULL || message == NULL)
        return host_res_record(res, LINTEL_EPARAM, NULL, message, false);
    if (asprintf(&detail, "%s %s.", field, message) < 0)
        detail = NULL;
    host_res_record(res, LINTEL_EPARAM, NULL, detail, false);
    free(detail);
    return host_res_record(res, LINTEL_EPARAM, field, message, false);
}

static int host_res_invalid(lintel_res *res, const char *field, const char *fmt, ...)
{
    char *message = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    message = fmt_valloc(fmt, ap);
    va_end(ap);
    rc = host_param_invalid(res, field, message);
    free(message);
    return rc;
}

/* Decimal digits only (no sign, space, fraction or exponent) that fit 0..LLONG_MAX. */
static bool host_parse_count(const char *text, long long *out)
{
    char *end = NULL;
    long long v;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* The query parameter name as a count in 0..max (max < 0: no bound); absent: *out unchanged. */
static int host_query_count(lintel_req *req, lintel_res *res, const char *name, long long max,
                            long long *out)
{
    const char *text = host_req_query(req, name);
    long long v;

    if (text == NULL)
        return 0;
    if (!host_parse_count(text, &v) || (max >= 0 && v > max))
        return host_param_invalid(res, name,
                                  max >= 0
                                      ? "must be an integer between 0 and " HOST_STR(HOST_LIMIT_MAX)
                                      : "must be a non-negative integer");
    *out = v;
    return 0;
}

static int host_req_page(lintel_req *req, long long *limit, long long *offset)
{
    lintel_res *res = &req->res;
    long long lim = HOST_LIMIT_DEFAULT, off = -1, skip = -1;
    int rc;

    *limit = HOST_LIMIT_DEFAULT;
    *offset = 0;
    rc = host_query_count(req, res, "limit", HOST_LIMIT_MAX, &lim);
    if (rc == 0)
        rc = host_query_count(req, res, "offset", -1, &off);
    if (rc == 0)
        rc = host_query_count(req, res, "skip", -1, &skip);
    if (rc == 0 && off >= 0 && skip >= 0 && off != skip)
        rc = host_param_invalid(res, "skip", "conflicts with offset");
    if (rc != 0)
        return rc;
    *limit = lim;
    *offset = off >= 0 ? off : skip >= 0 ? skip : 0;
    return 0;
}

static int host_req_id(lintel_req *req, const char *name, const char *what, long long *id)
{
    lintel_res *res = &req->res;
    char detail[128];
    long long v = 0;

    *id = 0;
    if (!host_parse_count(host_req_param(req, name), &v) || v < 1) {
        snprintf(detail, sizeof(detail), "%s not found", what != NULL ? what : "Resource");
        return host_res_record(res, LINTEL_ENOTFOUND, NULL, detail, false);
    }
    *id = v;
    return 0;
}

int host_res_text_open(lintel_res *res, struct json_out_buf *b)
{
    static const char head[] = "{\"status\":\"success\",\"data\":";

    if (strcmp(res->req->cfg->envelope, "jsend") == 0 && json_out_put(b, head, sizeof(head) - 1))
        return LINTEL_ENOMEM;
    return 0;
}

int host_res_text_close(lintel_res *res, unsigned status, struct json_out_buf *b)
{
    if (status < 100 || status > 599)
        return LINTEL_EINTERNAL;
    if ((strcmp(res->req->cfg->envelope, "jsend") == 0 && json_out_put(b, "}", 1) != 0) ||
        b->failed || b->data == NULL)
        return LINTEL_ENOMEM;
    host_res_reset(res);
    res->body = b->data;
    res->len = b->len;
    memset(b, 0, sizeof(*b));
    res->status = status;
    res->content_type = "application/json";
    res->written = true;
    return 0;
}

int host_res_page_tail(struct json_out_buf *b, long long total, long long limit, long long offset,
                       bool keyset, const char *next)
{
    char text[96];

    snprintf(text, sizeof(text), ",\"total\":%lld,\"limit\":%lld,\"offset\":%lld", total, limit,
             offset);
    json_out_put(b, text, strlen(text));
    if (keyset && json_out_put(b, ",\"next\":", 8) == 0) {
        if (next != NULL)
            json_out_string(b, next, strlen(next));
        else
            json_out_put(b, "null", 4);
    }
    json_out_put(b, "}", 1);
    return b->failed ? LINTEL_ENOMEM : 0;
}

int host_sql_text(lintel_req *req, const char *sql, const json_t *j_params, struct db_text *text)
{
    struct db *db = NULL;
    int rc = host_req_db_for(req, sql, &db);

    return rc != 0 ? rc : host_sql_result(req, db, db_query_text(db, sql, j_params, text));
}

int host_res_page(lintel_res *res, const json_t *j_items, long long total, long long limit,
                  long long offset, bool keyset, const char *next)
{
    struct json_out_buf b = {0};
    int rc;

    if (!json_is_array(j_items))
        return LINTEL_EINTERNAL;
    rc = host_res_text_open(res, &b);
    if (rc == 0 && (json_out_put(&b, "{\"items\":", 9) != 0 || json_out_value(&b, j_items) != 0))
        rc = LINTEL_ENOMEM;
    if (rc == 0)
        rc = host_res_page_tail(&b, total, limit, offset, keyset, next);
    if (rc == 0)
        rc = host_res_text_close(res, 200, &b);
    free(b.data);
    return rc;
}

static int host_res_list(lintel_res *res, const json_t *j_items, long long total, long long limit,
                         long long offset)
{
    return host_res_page(res, j_items, total, limit, offset, false, NULL);
}

/* ---- CPU-heavy work ---- */

static struct gate host_heavy;
static bool host_heavy_ready;

int host_api_init(const struct config *cfg)
{
    unsigned pool = config_pool_size(cfg);
    int rc;

    /* Waiters hold worker threads too: together with the slots at most half the pool. */
    rc = gate_init(&host_heavy, config_hash_slots(cfg), pool / 2 > 1 ? pool / 2 : 1, 2000);
    host_heavy_ready = rc == 0;
    return rc;
}

void host_api_release(void)
{
    if (host_heavy_ready)
        gate_release(&host_heavy);
    host_heavy_ready = false;
}

static int host_heavy_begin(lintel_req *req)
{
    /*
     * Milliseconds of CPU inside a write transaction would hold every other writer for them
     * (issue 11): refused, so such a path fails its tests instead of slowing production.
     */
    if (req->db != NULL && db_in_tx(req->db)) {
        log_error("request %s: %s %s: CPU-heavy work inside a write transaction (hash before "
                  "writing)",
                  req->request_id, req->method, req->path);
        return host_res_record(&req->res, LINTEL_EINTERNAL, NULL, NULL, false);
    }
    if (!host_heavy_ready || req->heavy)
        return req->heavy ? LINTEL_EINTERNAL : 0;
    if (gate_enter(&host_heavy) != 0) {
        host_res_header(&req->res, "Retry-After", "1");
        return host_res_record(&req->res, LINTEL_EUNAVAIL, NULL,
                               "Too many passwords are being checked at once; try again in a "
                               "second",
                               false);
    }
    req->heavy = true;
    return 0;
}

static void host_heavy_end(lintel_req *req)
{
    if (req->heavy)
        gate_leave(&host_heavy);
    req->heavy = false;
}

/*
 * The table. The members that the layers above implement (the plugin lifecycle in
 * plugin_loader.c, the kit in host_kit.c) are bound at start by host_api_bind, so that this
 * file depends on neither of them: they depend on it.
 */
static struct lintel_api host_table = {
    .abi_major = LINTEL_ABI_MAJOR,
    .abi_minor = LINTEL_ABI_MINOR,
    .size = sizeof(struct lintel_api),
    .req_json = host_req_json,
    .req_body = host_req_body,
    .req_param = host_req_param,
    .req_query = host_req_query,
    .req_header = host_req_header,
    .req_claims = host_req_claims,
    .req_user_id = host_req_user_id,
    .req_client_addr = host_req_client_addr,
    .req_page = host_req_page,
    .req_id = host_req_id,
    .res_json = host_res_json,
    .res_empty = host_res_empty,
    .res_bytes = host_res_bytes,
    .res_header = host_res_header,
    .res_error = host_res_error,
    .res_invalid = host_res_invalid,
    .res_list = host_res_list,
    .sql_query = host_sql_query,
    .sql_row = host_sql_row,
    .sql_exec = host_sql_exec,
    .sql_begin = host_sql_begin,
    .sql_commit = host_sql_commit,
    .sql_rollback = host_sql_rollback,
    .token_issue = host_token_issue,
    .session_end = host_session_end,
    .heavy_begin = host_heavy_begin,
    .heavy_end = host_heavy_end,
    .event_publish = host_event_publish,
    .http_get = host_http_get,
    .random_token = host_random_token,
    .sha256_hex = host_sha256_hex,
    .free = host_free,
    .strerror = http_error_strerror,
    /* ABI 2.1 (login is bound from the lifecycle table: host_api_bind) */
    .req_path = host_req_path,
};

void host_api_bind(const struct lintel_api *upper)
{
    host_table.declare = upper->declare;
    host_table.login = upper->login;
    host_table.user_create = upper->user_create;
    host_table.session_start = upper->session_start;
    host_table.user_delete = upper->user_delete;
    host_table.ws_add = upper->ws_add;
    host_table.declare_profile = upper->declare_profile;
    host_table.scope_add = upper->scope_add;
    host_table.routes_add = upper->routes_add;
    host_table.error_render = upper->error_render;
    host_table.migration_add = upper->migration_add;
    host_table.on_unload = upper->on_unload;
    host_table.setting_int = upper->setting_int;
    host_table.setting_str = upper->setting_str;
    host_table.log = upper->log;
    host_table.sql_queryf = upper->sql_queryf;
    host_table.sql_rowf = upper->sql_rowf;
    host_table.sql_execf = upper->sql_execf;
    host_table.sql_list = upper->sql_list;
    host_table.res_rowf = upper->res_rowf;
    host_table.sql_list_total = upper->sql_list_total;
    host_table.event_user = upper->event_user;
    host_table.sql_exec_blob = upper->sql_exec_blob;
    host_table.sql_blob_rowf = upper->sql_blob_rowf;
    host_table.sql_page = upper->sql_page;
    host_table.req_time = upper->req_time;
    host_table.url_sign = upper->url_sign;
    host_table.job_start = upper->job_start;
    host_table.job_progress = upper->job_progress;
    host_table.res_etag = upper->res_etag;
}

const struct lintel_api *host_api(void)
{
    return &host_table;
}

void host_req_init(struct lintel_req *req, struct MHD_Connection *conn, const char *method,
                   const char *path, const struct config *cfg)
{
    memset(req, 0, sizeof(*req));
    req->conn = conn;
    req->method = method;
    req->path = path;
    req->cfg = cfg;
    req->res.req = req;
}

void host_req_release(struct lintel_req *req)
{
    size_t i;

    if (req->db != NULL && db_in_tx(req->db)) {
        log_warn("request %s: handler left a transaction open; rolled back", req->request_id);
        db_rollback(req->db);
    }
    host_heavy_end(req);
    for (i = 0; i < req->nargs; i++) {
        free(req->args[i].key);
        free(req->args[i].value);
    }
    free(req->args);
    free(req->body);
    json_decref(req->j_claims);
    host_res_release(&req->res);
    memset(req, 0, sizeof(*req));
}

void host_res_release(struct lintel_res *res)
{
    size_t i;

    for (i = 0; i < res->nheaders; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    host_res_reset(res);
    free(res->err_detail);
    json_decref(res->j_errors);
    memset(res, 0, sizeof(*res));
}
