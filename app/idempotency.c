/*
 * Idempotency-Key: a retried POST (a lost reply, a flaky network) is answered with the first
 * reply instead of creating again. Keys are per user, in SQL, so they survive a restart.
 */
#include "idempotency.h"

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "host_api.h"
#include "log.h"
#include "router.h"

#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * A key whose first request is still running belongs to this process (its owner), so another
 * process's running key is one that process left behind when it died: taken over after this
 * many seconds (long enough for a live peer of a cluster to finish an ordinary request).
 */
#define IDEMPOTENCY_ORPHAN 60

/* The headers a replay repeats: where the created resource lives and its version. */
static const char *const idempotency_kept[] = {"Location", "Content-Location", "ETag"};

static pthread_once_t idempotency_once = PTHREAD_ONCE_INIT;
static char idempotency_owner[40] = "unknown";

static void idempotency_owner_init(void)
{
    char *token = NULL;

    if (crypto_random_token(18, &token) == 0)
        snprintf(idempotency_owner, sizeof(idempotency_owner), "%s", token);
    free(token);
}

static bool idempotency_applies(const lintel_req *req)
{
    const struct route *r = req->route;

    return r != NULL && req->user_id > 0 && strcmp(req->method, "POST") == 0 &&
           !(r->flags & (LINTEL_ROUTE_PUBLIC | LINTEL_ROUTE_NO_REPLAY));
}

/* 1..IDEMPOTENCY_KEY_MAX printable ASCII characters (a UUID, a random token, ...). */
static bool idempotency_key_ok(const char *key)
{
    size_t i, n = strlen(key);

    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
            return false;
    return true;
}

/*
 * What makes two requests the same: method, path, the decoded query and the body, each
 * followed by a NUL so no two different requests give the same byte stream.
 */
static int idempotency_fingerprint(const lintel_req *req, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    gnutls_hash_hd_t h = NULL;
    unsigned char digest[32];
    size_t i;
    int ok;

    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return LINTEL_ENOMEM;
    ok = gnutls_hash(h, req->method, strlen(req->method) + 1) == 0;
    ok &= gnutls_hash(h, req->path, strlen(req->path) + 1) == 0;
    for (i = 0; i < req->nargs; i++) {
        ok &= gnutls_hash(h, req->args[i].key, strlen(req->args[i].key) + 1) == 0;
        ok &= gnutls_hash(h, req->args[i].value, strlen(req->args[i].value) + 1) == 0;
    }
    ok &= gnutls_hash(h, "", 1) == 0;
    if (req->body_len > 0)
        ok &= gnutls_hash(h, req->body, req->body_len) == 0;
    gnutls_hash_deinit(h, digest);
    for (i = 0; i < sizeof(digest); i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[64] = '\0';
    return ok ? 0 : LINTEL_EINTERNAL;
}

/* The first reply again, with Idempotent-Replayed: true. */
static int idempotency_replay(lintel_req *req, const json_t *j_row)
{
    const struct lintel_api *api = host_api();
    const json_t *j_body = json_object_get(j_row, "body");
    const char *key, *ct = json_string_value(json_object_get(j_row, "content_type"));
    const json_t *j_value;
    int rc;

    if (j_body == NULL || !json_is_string(j_body))
        rc = api->res_empty(&req->res,
                            (unsigned)json_integer_value(json_object_get(j_row, "status")));
    else
        rc = api->res_bytes(&req->res,
                            (unsigned)json_integer_value(json_object_get(j_row, "status")),
                            ct != NULL ? ct : "application/json", json_string_value(j_body),
                            json_string_length(j_body));
    json_object_foreach((json_t *)json_object_get(j_row, "headers"), key, j_value) {
        if (rc == 0 && json_is_string(j_value))
            rc = host_res_put_header(&req->res, key, json_string_value(j_value));
    }
    if (rc == 0)
        rc = host_res_put_header(&req->res, "Idempotent-Replayed", "true");
    return rc == 0 ? IDEMPOTENCY_REPLAYED : rc;
}

/* A key already claimed: the same request's reply, or why not. */
static int idempotency_answer(lintel_req *req, const json_t *j_row, const char *hash)
{
    const char *was = json_string_value(json_object_get(j_row, "request_hash"));
    const json_t *j_status = json_object_get(j_row, "status");
    char detail[256];

    if (was == NULL || strcmp(was, hash) != 0) {
        host_res_record(&req->res, LINTEL_EPARAM, NULL,
                        "Idempotency-Key was already used for a different request (method, "
                        "path, query or body); use a new key for a new request.",
                        false);
        return host_res_record(&req->res, LINTEL_EPARAM, "Idempotency-Key",
                               "was already used for a different request", false);
    }
    if (json_is_null(j_status) || j_status == NULL) {
        host_res_put_header(&req->res, "Retry-After", "1");
        return host_res_record(&req->res, LINTEL_ECONFLICT, NULL,
                               "A request with this Idempotency-Key is still being processed; "
                               "retry after it has finished.",
                               false);
    }
    if (json_is_null(json_object_get(j_row, "body")) &&
        json_integer_value(json_object_get(j_row, "body_len")) > 0) {
        snprintf(detail, sizeof(detail),
                 "The request with this Idempotency-Key succeeded (status %lld), but its reply "
                 "of %lld bytes was larger than the %zu bytes kept; it was not repeated.",
                 (long long)json_integer_value(j_status),
                 (long long)json_integer_value(json_object_get(j_row, "body_len")),
                 req->cfg->idempotency_max_reply);
        return host_res_record(&req->res, LINTEL_ECONFLICT, NULL, detail, false);
    }
    return idempotency_replay(req, j_row);
}

int idempotency_begin(lintel_req *req, bool *held)
{
    const struct lintel_api *api = host_api();
    const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotency-Key");
    json_t *j_row = NULL;
    char hash[65], detail[160];
    bool in_tx = false;
    int rc;

    *held = false;
    if (key == NULL || !idempotency_applies(req))
        return 0;
    pthread_once(&idempotency_once, idempotency_owner_init);
    if (!idempotency_key_ok(key)) {
        snprintf(detail, sizeof(detail),
                 "Idempotency-Key must be 1 to %d printable ASCII characters.",
                 IDEMPOTENCY_KEY_MAX);
        host_res_record(&req->res, LINTEL_EMALFORMED, NULL, detail, false);
        return host_res_record(&req->res, LINTEL_EMALFORMED, "Idempotency-Key", detail, false);
    }
    rc = idempotency_fingerprint(req, hash);
    if (rc == 0)
        rc = api->sql_begin(req);
    in_tx = rc == 0;
    /* Rows past the TTL that the cleanup has not deleted yet count as absent. */
    if (rc == 0)
        rc = api->sql_rowf(req, &j_row,
                           "SELECT request_hash, status, content_type, headers AS \"headers:json\","
                           " body, body_len, status IS NULL AND owner <> ?3"
                           " AND created_at < unixepoch() - ?4 AS \"orphan:bool\""
                           " FROM idempotency_keys WHERE user_id = ?1 AND key = ?2"
                           " AND created_at >= unixepoch() - ?5",
                           "IssII", (json_int_t)req->user_id, key, idempotency_owner,
                           (json_int_t)IDEMPOTENCY_ORPHAN, (json_int_t)IDEMPOTENCY_TTL);
    if (rc == LINTEL_ENOTFOUND || (rc == 0 && json_is_true(json_object_get(j_row, "orphan")))) {
        rc = api->sql_execf(req, NULL,
                            "INSERT OR REPLACE INTO idempotency_keys"
                            " (user_id, key, request_hash, owner) VALUES (?1, ?2, ?3, ?4)",
                            "Isss", (json_int_t)req->user_id, key, hash, idempotency_owner);
        if (rc == 0)
            rc = api->sql_commit(req);
        in_tx = false;
        *held = rc == 0;
        goto cleanup;
    }
    if (rc != 0)
        goto cleanup;
    rc = api->sql_commit(req);
    in_tx = false;
    if (rc == 0)
        rc = idempotency_answer(req, j_row, hash);
cleanup:
    if (in_tx)
        api->sql_rollback(req);
    json_decref(j_row);
    return rc;
}

void idempotency_end(lintel_req *req, bool held)
{
    const struct lintel_api *api = host_api();
    const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotency-Key");
    struct lintel_res *res = &req->res;
    json_t *j_headers = NULL, *j_body = NULL;
    size_t i, k;
    int rc;

    if (!held || key == NULL)
        return;
    /* A transaction the handler left open is not ours to commit: undo it first. */
    if (req->db != NULL && db_in_tx(req->db)) {
        log_warn("request %s: handler left a transaction open; rolled back", req->request_id);
        db_rollback(req->db);
    }
    if (res->status < 200 || res->status > 299) {
        /* Nothing was created: the key is free again, for the corrected request. */
        rc = api->sql_execf(req, NULL,
                            "DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2"
                            " AND owner = ?3",
                            "Iss", (json_int_t)req->user_id, key, idempotency_owner);
        goto cleanup;
    }
    j_headers = json_object();
    for (i = 0; j_headers != NULL && i < res->nheaders; i++)
        for (k = 0; k < sizeof(idempotency_kept) / sizeof(idempotency_kept[0]); k++)
            if (strcasecmp(res->headers[i].name, idempotency_kept[k]) == 0)
                json_object_set_new(j_headers, idempotency_kept[k],
                                    json_string(res->headers[i].value));
    /* Larger replies, or bytes that are not text, are not kept (the key still holds). */
    if (res->len > 0 && res->len <= req->cfg->idempotency_max_reply)
        j_body = json_stringn(res->body, res->len);
    rc =
        j_headers != NULL
            ? api->sql_execf(req, NULL,
                             "UPDATE idempotency_keys SET status = ?4, content_type = ?5,"
                             " headers = ?6, body = ?7, body_len = ?8"
                             " WHERE user_id = ?1 AND key = ?2 AND owner = ?3",
                             "IssIs?OOI", (json_int_t)req->user_id, key, idempotency_owner,
                             (json_int_t)res->status, res->len > 0 ? res->content_type : NULL,
                             j_headers, j_body != NULL ? j_body : json_null(), (json_int_t)res->len)
            : LINTEL_ENOMEM;
cleanup:
    if (rc != 0)
        log_warn("request %s: Idempotency-Key: cannot keep the reply: %s", req->request_id,
                 res->err_detail != NULL ? res->err_detail : "out of memory");
    json_decref(j_headers);
    json_decref(j_body);
}
