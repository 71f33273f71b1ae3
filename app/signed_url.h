/*
 * Signed URLs: a path and query of this server with an expiry and an HMAC-SHA256 signature
 * (gnutls) under a key kept in the database, so an <img> loads a resource without a header.
 */
#ifndef LINTEL_APP_SIGNED_URL_H
#define LINTEL_APP_SIGNED_URL_H

#include <lintel/plugin.h>
#include <stddef.h>

struct config;
struct host_arg;

/*
 * Loads the key from the database (table url_key), making it on the first start; takes the
 * default lifetime from cfg (signed_url_ttl). After the migrations. 0 or a status code.
 */
int signed_url_global_init(const struct config *cfg);
void signed_url_global_release(void);

/*
 * *url (malloc'd): path_query + ('?' or '&') + "exp=<unix time>&sig=<base64url HMAC>", valid
 * for ttl seconds (0 or more than signed_url_ttl: signed_url_ttl); *expires the expiry.
 * path_query is a path with an optional query, of [A-Za-z0-9/._~-] and '?' '&' '=' only, no
 * exp or sig of its own: else LINTEL_EPARAM.
 */
int signed_url_sign(const char *path_query, long long ttl, char **url, long long *expires);

/* api->url_sign (ABI 2.5): signed_url_sign, its failure recorded on the request. */
int signed_url_api_sign(lintel_req *req, const char *path_query, long long ttl, char **url,
                        long long *expires);

/*
 * Checks the signed URL of a request: raw_path and its decoded query arguments in order.
 * 0 when sig is the signature of the path and every other argument (exp among them) and exp
 * has not passed; LINTEL_ETOKEN (401) when it has; LINTEL_EFORBIDDEN (403) for a missing,
 * malformed or wrong signature, or a missing exp. *detail: a static sentence for the client.
 */
int signed_url_check(const char *raw_path, const struct host_arg *args, size_t nargs,
                     const char **detail);

#endif /* LINTEL_APP_SIGNED_URL_H */
