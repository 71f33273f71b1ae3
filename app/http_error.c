/*
 * Status table and error bodies. Handlers and plugins only return codes; this file decides
 * what the client sees, so every error has the same shape and none is plain text or empty.
 */
#include "http_error.h"

#include <lintel/plugin.h>

#include <microhttpd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    int rc;
    unsigned status;
    const char *detail;
} http_error_codes[] = {
    {LINTEL_EPARAM, 422, "The request holds an invalid value."},
    {LINTEL_EMALFORMED, 400, "The request cannot be parsed."},
    {LINTEL_EAUTH, 401, "Not authenticated"},
    {LINTEL_ETOKEN, 401, "Invalid or expired token"},
    {LINTEL_EFORBIDDEN, 403, "Not allowed."},
    {LINTEL_ENOTFOUND, 404, "Not found."},
    {LINTEL_EMETHOD, 405, "Method not allowed on this resource."},
    {LINTEL_ECONFLICT, 409, "The value is already taken."},
    {HTTP_ERROR_EPRECONDITION, 412, "A precondition of the request does not hold."},
    {LINTEL_ETOOLARGE, 413, "The request body is too large."},
    {LINTEL_EMEDIATYPE, 415, "The request body has an unsupported content type."},
    {LINTEL_ERATELIMIT, 429, "Too many requests; try again later."},
    {LINTEL_ENOMEM, 500, "The server ran out of memory."},
    {LINTEL_EDB, 500, "The database failed."},
    {LINTEL_EINTERNAL, 500, "The server failed to handle the request."},
    {LINTEL_EUPSTREAM, 502, "The upstream service failed."},
    {LINTEL_EUNAVAIL, 503, "The service is temporarily unavailable; try again later."},
    {LINTEL_ETIMEOUT, 504, "The upstream service timed out."},
    {LINTEL_EVERSION, 500, "Incompatible plugin ABI."},
};

#define HTTP_ERROR_NCODES (sizeof(http_error_codes) / sizeof(http_error_codes[0]))

unsigned http_error_status(int rc)
{
    size_t i;

    for (i = 0; i < HTTP_ERROR_NCODES; i++)
        if (http_error_codes[i].rc == rc)
            return http_error_codes[i].status;
    return 500;
}

const char *http_error_generic_detail(int rc)
{
    size_t i;

    for (i = 0; i < HTTP_ERROR_NCODES; i++)
        if (http_error_codes[i].rc == rc)
            return http_error_codes[i].detail;
    return "The server failed to handle the request.";
}

const char *http_error_title(unsigned status)
{
    /* libmicrohttpd's table (RFC 9110 wording), the one its status lines use too */
    const char *phrase = MHD_get_reason_phrase_for(status);

    if (phrase != NULL && phrase[0] != '\0' && strcmp(phrase, "Unknown") != 0)
        return phrase;
    return status >= 500 ? "Internal Server Error" : "Error";
}

const char *http_error_strerror(int rc)
{
    if (rc == LINTEL_OK)
        return "OK";
    if (rc == LINTEL_EVERSION)
        return "Incompatible Plugin ABI";
    return http_error_title(http_error_status(rc));
}

/*
 * A JSON string of text that may hold bytes a client sent raw (a path byte 0xFF, a quote of a
 * malformed body): as it is when it is UTF-8, else with every byte from 0x80 up written as
 * %XX, so the error still renders (jansson refuses such a string, which made the reply a 500).
 */
static json_t *http_error_string(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    json_t *j = json_string(text);
    char *esc;
    size_t i, n = 0;

    if (j != NULL)
        return j;
    esc = malloc(strlen(text) * 3 + 1);
    if (esc == NULL)
        return NULL;
    for (i = 0; text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            esc[n++] = (char)c;
        } else {
            esc[n++] = '%';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        }
    }
    esc[n] = '\0';
    j = json_string(esc);
    free(esc);
    return j;
}

json_t *http_error_body(unsigned status, const char *detail, const json_t *j_errors,
                        const char *instance, const json_t *j_extra, bool jsend,
                        const char **content_type)
{
    json_t *j_problem = NULL, *j_out = NULL;
    bool with_errors =
        j_errors != NULL && json_array_size(j_errors) > 0 && (status == 400 || status == 422);

    /* "o" steals; a NULL from http_error_string (no memory) makes json_pack fail */
    j_problem =
        json_pack("{ss ss si so so}", "type", "about:blank", "title", http_error_title(status),
                  "status", (int)status, "detail", http_error_string(detail != NULL ? detail : ""),
                  "instance", http_error_string(instance != NULL ? instance : "/"));
    if (j_problem == NULL)
        goto cleanup;
    if (with_errors && json_object_set_new(j_problem, "errors", json_deep_copy(j_errors)) != 0)
        goto cleanup;
    if (j_extra != NULL && json_object_update_missing(j_problem, (json_t *)j_extra) != 0)
        goto cleanup;
    if (!jsend) {
        *content_type = "application/problem+json";
        j_out = j_problem;
        j_problem = NULL;
        goto cleanup;
    }
    *content_type = "application/json";
    if (status < 500) {
        /* JSend "fail": the client's fault; data carries the same members as the problem. */
        j_out = json_pack("{ss sO}", "status", "fail", "data", j_problem);
    } else {
        j_out = json_pack("{ss so si}", "status", "error", "message",
                          http_error_string(detail != NULL ? detail : http_error_title(status)),
                          "code", (int)status);
        if (j_out != NULL && j_extra != NULL)
            json_object_set(j_out, "data", (json_t *)j_extra);
    }
cleanup:
    json_decref(j_problem);
    return j_out;
}

json_t *http_error_jsend_success(const json_t *j_data)
{
    return json_pack("{ss sO}", "status", "success", "data",
                     j_data != NULL ? (json_t *)j_data : json_null());
}
