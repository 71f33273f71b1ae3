/*
 * The one place a status code becomes an HTTP error: the LINTEL_E* to status table, and the
 * problem+json (RFC 9457) or JSend body of every error and, in JSend mode, of every success.
 */
#ifndef LINTEL_APP_HTTP_ERROR_H
#define LINTEL_APP_HTTP_ERROR_H

#include <jansson.h>
#include <stdbool.h>

/*
 * 412 Precondition Failed (If-Match, app/etag.c): a code of the host alone, never a plugin's,
 * so it stays out of the ABI's LINTEL_E* list.
 */
#define HTTP_ERROR_EPRECONDITION (-100)

/* HTTP status of a LINTEL_E* code (500 for an unknown one). */
unsigned http_error_status(int rc);

/* Reason phrase of an HTTP status ("Unprocessable Content"). */
const char *http_error_title(unsigned status);

/* api->strerror: the title of rc's status. */
const char *http_error_strerror(int rc);

/* The detail used when a handler failed with rc without recording one. */
const char *http_error_generic_detail(int rc);

/*
 * The error body for status (new reference): problem+json members type, title, status,
 * detail, instance and, on 400/422 only, errors (borrowed j_errors, may be NULL); j_extra
 * (borrowed, may be NULL) adds members. In JSend mode, {"status":"fail"|"error",...}.
 * *content_type is static text.
 */
json_t *http_error_body(unsigned status, const char *detail, const json_t *j_errors,
                        const char *instance, const json_t *j_extra, bool jsend,
                        const char **content_type);

/* JSend success wrapper {"status":"success","data":j_data} (new reference; j_data borrowed). */
json_t *http_error_jsend_success(const json_t *j_data);

#endif /* LINTEL_APP_HTTP_ERROR_H */
