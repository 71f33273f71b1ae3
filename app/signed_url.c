/*
 * Signed URLs (signed_url.h): the message is the path and the query arguments in order,
 * without sig; the signature is HMAC-SHA256 under the url_key row, base64url, compared in
 * constant time.
 */
#include "signed_url.h"

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "host_api.h"
#include "log.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <lintel/plugin.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGNED_URL_KEY_LEN 32
#define SIGNED_URL_MAX     2048 /* longest path and query signed or checked */

static struct {
    unsigned char key[SIGNED_URL_KEY_LEN];
    long long ttl;
    bool ready;
} signed_url;

static int signed_url_hex(const char *hex, unsigned char *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return LINTEL_EINTERNAL;
        out[i] = (unsigned char)v;
    }
    return 0;
}

int signed_url_global_init(const struct config *cfg)
{
    unsigned char fresh[SIGNED_URL_KEY_LEN];
    char hex[2 * SIGNED_URL_KEY_LEN + 1];
    struct db *db = NULL;
    json_t *j_params = NULL, *j_row = NULL;
    const char *secret;
    size_t i;
    int rc;

    signed_url.ttl = cfg->signed_url_ttl;
    if (gnutls_rnd(GNUTLS_RND_KEY, fresh, sizeof(fresh)) != 0)
        return LINTEL_EINTERNAL;
    for (i = 0; i < sizeof(fresh); i++)
        snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    gnutls_memset(fresh, 0, sizeof(fresh));
    j_params = json_pack("[s]", hex);
    gnutls_memset(hex, 0, sizeof(hex));
    rc = j_params != NULL ? db_thread(&db) : LINTEL_ENOMEM;
    /* The first start (of the first node) makes the key; every later one reads it. */
    if (rc == 0)
        rc = db_exec(db, "INSERT OR IGNORE INTO url_key (id, secret) VALUES (1, ?1)", j_params,
                     NULL, NULL);
    if (rc == 0)
        rc = db_row(db, "SELECT secret FROM url_key WHERE id = 1", NULL, &j_row);
    secret = json_string_value(json_object_get(j_row, "secret"));
    if (rc == 0 && (secret == NULL || strlen(secret) != 2 * SIGNED_URL_KEY_LEN))
        rc = LINTEL_EINTERNAL;
    if (rc == 0)
        rc = signed_url_hex(secret, signed_url.key, SIGNED_URL_KEY_LEN);
    if (rc != 0)
        log_error("signed URLs: cannot load the key from the database (table url_key)");
    signed_url.ready = rc == 0;
    json_decref(j_row);
    json_decref(j_params);
    return rc;
}

void signed_url_global_release(void)
{
    gnutls_memset(signed_url.key, 0, sizeof(signed_url.key));
    signed_url.ready = false;
}

/* The signature of msg as base64url text (*out malloc'd). */
static int signed_url_mac(const char *msg, size_t len, char **out)
{
    unsigned char mac[32];

    *out = NULL;
    if (!signed_url.ready)
        return LINTEL_EUNAVAIL;
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, signed_url.key, sizeof(signed_url.key), msg, len,
                         mac) != 0)
        return LINTEL_EINTERNAL;
    return crypto_b64url_encode(mac, sizeof(mac), out);
}

static bool signed_url_plain(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("/._~-?&=", *s) != NULL))
            return false;
    return true;
}

int signed_url_sign(const char *path_query, long long ttl, char **url, long long *expires)
{
    const char *q = path_query != NULL ? strchr(path_query, '?') : NULL;
    char msg[SIGNED_URL_MAX + 64];
    char *sig = NULL;
    long long exp;
    int n, rc;

    *url = NULL;
    if (path_query == NULL || path_query[0] != '/' || !signed_url_plain(path_query) ||
        (q != NULL && strchr(q + 1, '?') != NULL) || strstr(path_query, "exp=") != NULL ||
        strstr(path_query, "sig=") != NULL || strlen(path_query) > SIGNED_URL_MAX)
        return LINTEL_EPARAM;
    if (ttl <= 0 || ttl > signed_url.ttl)
        ttl = signed_url.ttl;
    exp = (long long)time(NULL) + ttl;
    n = snprintf(msg, sizeof(msg), "%s%sexp=%lld", path_query,
                 q == NULL ? "?" : (q[1] != '\0' ? "&" : ""), exp);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return LINTEL_EPARAM;
    rc = signed_url_mac(msg, (size_t)n, &sig);
    if (rc == 0 && asprintf(url, "%s&sig=%s", msg, sig) < 0) {
        *url = NULL;
        rc = LINTEL_ENOMEM;
    }
    if (rc == 0 && expires != NULL)
        *expires = exp;
    free(sig);
    return rc;
}

int signed_url_api_sign(lintel_req *req, const char *path_query, long long ttl, char **url,
                        long long *expires)
{
    int rc = signed_url_sign(path_query, ttl, url, expires);

    if (rc == LINTEL_EPARAM) {
        /* what a plugin signs is its own constant text plus numbers: a bug, not input */
        log_error("request %s: url_sign: \"%.64s\" is not a plain path and query of this "
                  "server",
                  req->request_id, path_query != NULL ? path_query : "(null)");
        rc = LINTEL_EINTERNAL;
    }
    if (rc != 0)
        rc = host_res_record(&req->res, rc, NULL, NULL, true);
    return rc;
}

int signed_url_check(const char *raw_path, const struct host_arg *args, size_t nargs,
                     const char **detail)
{
    char msg[SIGNED_URL_MAX + 1];
    const char *sig = NULL, *exp_text = NULL;
    char *want = NULL, *end = NULL;
    size_t len, i;
    long long exp = 0;
    int rc = LINTEL_EFORBIDDEN;

    *detail = "The URL signature is invalid.";
    len = (size_t)snprintf(msg, sizeof(msg), "%s", raw_path);
    for (i = 0; i < nargs && len < sizeof(msg); i++) {
        if (strcmp(args[i].key, "sig") == 0) {
            if (sig == NULL)
                sig = args[i].value;
            continue;
        }
        if (strcmp(args[i].key, "exp") == 0 && exp_text == NULL)
            exp_text = args[i].value;
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s=%s",
                                len == strlen(raw_path) ? "?" : "&", args[i].key, args[i].value);
    }
    if (len >= sizeof(msg) || sig == NULL || exp_text == NULL)
        goto cleanup;
    exp = strtoll(exp_text, &end, 10);
    if (end == exp_text || *end != '\0')
        goto cleanup;
    if (signed_url_mac(msg, len, &want) != 0)
        goto cleanup;
    /* constant time over the text; the lengths of a base64url HMAC-SHA256 are public */
    if (strlen(sig) != strlen(want) || gnutls_memcmp(sig, want, strlen(want)) != 0)
        goto cleanup;
    if (exp < (long long)time(NULL)) {
        *detail = "The signed URL has expired.";
        rc = LINTEL_ETOKEN;
        goto cleanup;
    }
    rc = 0;
    *detail = NULL;
cleanup:
    free(want);
    return rc;
}
