/*
 * What the compatibility profiles share: the FastAPI/pydantic wire shapes of their seeds. The
 * messages are pydantic v2's own words, quoted in ../shared/seeds/wire.md.
 */
#include "compat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COMPAT_MSG_MISSING   "Field required"
#define COMPAT_MSG_INT       "Input should be a valid integer"
#define COMPAT_MSG_INT_FLOAT "Input should be a valid integer, got a number with a fractional part"
#define COMPAT_MSG_INT_PARSE "Input should be a valid integer, unable to parse string as an integer"
#define COMPAT_MSG_STR       "Input should be a valid string"
#define COMPAT_MSG_DICT      "Input should be a valid dictionary or object to extract fields from"

int compat_item(json_t *j_items, const char *type, json_t *j_loc, const char *msg, json_t *j_input,
                json_t *j_ctx)
{
    json_t *j_item = NULL;
    int rc = LINTEL_ENOMEM;

    if (j_loc == NULL)
        goto cleanup;
    j_item = json_pack("{ss sO ss sO}", "type", type, "loc", j_loc, "msg", msg, "input",
                       j_input != NULL ? j_input : json_null());
    if (j_item == NULL)
        goto cleanup;
    if (j_ctx != NULL && json_object_set(j_item, "ctx", j_ctx) != 0)
        goto cleanup;
    if (json_array_append(j_items, j_item) != 0)
        goto cleanup;
    rc = LINTEL_EPARAM;
cleanup:
    json_decref(j_item);
    json_decref(j_loc);
    json_decref(j_input);
    json_decref(j_ctx);
    return rc;
}

/* Whether a Content-Type names JSON (or there is none: FastAPI then reads the body as JSON). */
static int compat_json_type(const char *ct)
{
    size_t n;

    if (ct == NULL || ct[0] == '\0')
        return 1;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0)
        return 1;
    return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int compat_body(lintel_req *req, json_t *j_items, json_t **j_body)
{
    const char *data;
    json_error_t error;
    size_t len = 0;

    *j_body = NULL;
    data = lintel_req_body(req, &len);
    if (data == NULL || len == 0)
        return compat_item(j_items, "missing", json_pack("[s]", "body"), COMPAT_MSG_MISSING, NULL,
                           NULL);
    if (!compat_json_type(lintel_req_header(req, "Content-Type")))
        return compat_item(j_items, "model_attributes_type", json_pack("[s]", "body"),
                           COMPAT_MSG_DICT, json_stringn(data, len), NULL);
    *j_body = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (*j_body == NULL)
        return compat_item(
            j_items, "json_invalid", json_pack("[sI]", "body", (json_int_t)error.position),
            "JSON decode error", json_object(), json_pack("{ss}", "error", error.text));
    if (!json_is_object(*j_body)) {
        json_t *j_input = *j_body;
        *j_body = NULL;
        return compat_item(j_items, "model_attributes_type", json_pack("[s]", "body"),
                           COMPAT_MSG_DICT, j_input, NULL);
    }
    return 0;
}

/* Decimal digits with an optional sign, as pydantic parses a str into an int. */
static int compat_parse_int(const char *s, long long *out)
{
    char *end = NULL;
    const char *p = s;

    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p != '\0')
        return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 ? 0 : -1;
}

int compat_int(const json_t *j_body, const char *field, json_t *j_items, long long *out)
{
    json_t *j = json_object_get(j_body, field);
    double x;

    *out = 0;
    if (j == NULL)
        return compat_item(j_items, "missing", json_pack("[ss]", "body", field), COMPAT_MSG_MISSING,
                           json_incref((json_t *)j_body), NULL);
    if (json_is_integer(j)) {
        *out = (long long)json_integer_value(j);
        return 0;
    }
    if (json_is_boolean(j)) {
        *out = json_is_true(j) ? 1 : 0;
        return 0;
    }
    if (json_is_real(j)) {
        x = json_real_value(j);
        if (x == floor(x) && fabs(x) < 9.2e18) {
            *out = (long long)x;
            return 0;
        }
        return compat_item(j_items, "int_from_float", json_pack("[ss]", "body", field),
                           COMPAT_MSG_INT_FLOAT, json_incref(j), NULL);
    }
    if (json_is_string(j)) {
        if (compat_parse_int(json_string_value(j), out) == 0)
            return 0;
        return compat_item(j_items, "int_parsing", json_pack("[ss]", "body", field),
                           COMPAT_MSG_INT_PARSE, json_incref(j), NULL);
    }
    return compat_item(j_items, "int_type", json_pack("[ss]", "body", field), COMPAT_MSG_INT,
                       json_incref(j), NULL);
}

int compat_path_int(lintel_req *req, const char *name, json_t *j_items, long long *out)
{
    const char *s = lintel_req_param(req, name);

    *out = 0;
    if (s != NULL && compat_parse_int(s, out) == 0)
        return 0;
    return compat_item(j_items, "int_parsing", json_pack("[ss]", "path", name),
                       COMPAT_MSG_INT_PARSE, s != NULL ? json_string(s) : NULL, NULL);
}

int compat_path_id(lintel_req *req, lintel_res *res, const char *name, long long *id)
{
    json_t *j_items = json_array();
    int rc;

    *id = 0;
    if (j_items == NULL)
        return LINTEL_ENOMEM;
    rc = compat_path_int(req, name, j_items, id);
    if (rc == LINTEL_EPARAM) {
        rc = compat_422(res, j_items);
        rc = rc == 0 ? 1 : rc;
    }
    json_decref(j_items);
    return rc;
}

int compat_str(const json_t *j_body, const char *field, int required, json_t *j_items,
               const char **out)
{
    json_t *j = json_object_get(j_body, field);

    *out = NULL;
    if (j == NULL) {
        if (!required)
            return 0;
        return compat_item(j_items, "missing", json_pack("[ss]", "body", field), COMPAT_MSG_MISSING,
                           json_incref((json_t *)j_body), NULL);
    }
    if (!json_is_string(j))
        return compat_item(j_items, "string_type", json_pack("[ss]", "body", field), COMPAT_MSG_STR,
                           json_incref(j), NULL);
    *out = json_string_value(j);
    return 0;
}

int compat_credentials(lintel_req *req, json_t *j_items, const char *name_key, json_t **j_body,
                       const char **name, const char **password)
{
    int rc = compat_body(req, j_items, j_body);

    *name = NULL;
    *password = NULL;
    if (rc != 0)
        return rc;
    rc = compat_str(*j_body, name_key, 1, j_items, name);
    if (compat_str(*j_body, "password", 1, j_items, password) != 0)
        rc = LINTEL_EPARAM;
    return rc;
}

int compat_signup(lintel_req *req, lintel_res *res, const char *taken, const char *url,
                  unsigned status, const char *const *keys)
{
    json_t *j_items = json_array(), *j_body = NULL, *j_user = NULL, *j_out = json_object();
    struct lintel_user_new in = {0};
    int rc = LINTEL_ENOMEM;

    if (j_items == NULL || j_out == NULL)
        goto cleanup;
    if (compat_credentials(req, j_items, "username", &j_body, &in.username, &in.password) != 0) {
        rc = compat_422_url(res, j_items, url);
        goto cleanup;
    }
    rc = lintel_user_create(req, &in, &j_user);
    if (rc == LINTEL_ECONFLICT) {
        rc = compat_detail(res, 400, taken);
        goto cleanup;
    }
    if (rc != 0) /* a rule's refusal is a 422 that the profile's renderer words */
        goto cleanup;
    for (; *keys != NULL; keys++)
        if (json_object_set(j_out, *keys, json_object_get(j_user, *keys)) != 0) {
            rc = LINTEL_ENOMEM;
            goto cleanup;
        }
    rc = lintel_res_json(res, status, j_out);
cleanup:
    json_decref(j_out);
    json_decref(j_user);
    json_decref(j_body);
    json_decref(j_items);
    return rc;
}

int compat_form_login(lintel_req *req, json_t *j_items, json_t **j_form, const char **username,
                      const char **password)
{
    const char *ct = lintel_req_header(req, "Content-Type"), *grant;
    const char *keys[2] = {"username", "password"};
    const char **outs[2] = {username, password};
    int i, rc = 0;

    *j_form = NULL;
    *username = NULL;
    *password = NULL;
    if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
        lintel_req_json(req, j_form) != 0)
        *j_form = NULL; /* an unreadable form is a form without fields, as FastAPI sees it */
    for (i = 0; i < 2; i++) {
        const char *v = json_string_value(json_object_get(*j_form, keys[i]));
        if (v == NULL || v[0] == '\0')
            rc = compat_item(j_items, "missing", json_pack("[ss]", "body", keys[i]),
                             COMPAT_MSG_MISSING, NULL, NULL);
        else
            *outs[i] = v;
    }
    grant = json_string_value(json_object_get(*j_form, "grant_type"));
    if (grant != NULL && grant[0] != '\0' && strcmp(grant, "password") != 0)
        rc =
            compat_item(j_items, "string_pattern_mismatch", json_pack("[ss]", "body", "grant_type"),
                        "String should match pattern '^password$'", json_string(grant),
                        json_pack("{ss}", "pattern", "^password$"));
    return rc;
}

int compat_detail(lintel_res *res, unsigned status, const char *detail)
{
    return lintel_res_json_new(res, status,
                               json_pack("{ss}", "detail", detail != NULL ? detail : ""));
}

int compat_jsend(lintel_res *res, unsigned status, const json_t *j_data)
{
    return lintel_res_json_new(
        res, status,
        j_data != NULL ? json_pack("{ss sO}", "status", "success", "data", (json_t *)j_data)
                       : NULL);
}

int compat_422(lintel_res *res, const json_t *j_items)
{
    return lintel_res_json_new(res, 422, json_pack("{sO}", "detail", (json_t *)j_items));
}

int compat_422_url(lintel_res *res, json_t *j_items, const char *url)
{
    json_t *j_item;
    char link[256];
    size_t i;

    json_array_foreach(j_items, i, j_item) {
        if (url == NULL)
            break;
        snprintf(link, sizeof(link), "%s%s", url,
                 json_string_value(json_object_get(j_item, "type")));
        json_object_set_new(j_item, "url", json_string(link));
    }
    return compat_422(res, j_items);
}

const char *compat_auth_reason(const json_t *j_errors)
{
    const json_t *j_err;
    size_t i;

    json_array_foreach(j_errors, i, j_err) {
        const char *field = json_string_value(json_object_get(j_err, "field"));
        if (field != NULL && strcmp(field, "Authorization") == 0)
            return json_string_value(json_object_get(j_err, "message"));
    }
    return NULL;
}

const char *compat_missing_scope(const char *detail, char *buf, size_t size)
{
    static const char prefix[] = "Missing scope ";

    if (detail == NULL || strncmp(detail, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    snprintf(buf, size, "%s", detail + sizeof(prefix) - 1);
    return buf;
}

const char *compat_micro_time(const char *iso, char *buf, size_t size)
{
    size_t n = iso != NULL ? strlen(iso) : 0;

    if (n == 20 && iso[19] == 'Z')
        snprintf(buf, size, "%.19s.000000Z", iso);
    else
        snprintf(buf, size, "%s", iso != NULL ? iso : "");
    return buf;
}

json_t *compat_number(double x)
{
    if (x == floor(x) && fabs(x) <= 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

char *compat_username(lintel_req *req)
{
    json_t *j_row = NULL;
    char *name = NULL;

    if (lintel_sql_rowf(req, &j_row, "SELECT username FROM users WHERE id = ?1", "I",
                        (json_int_t)lintel_req_user_id(req)) == 0) {
        const char *s = json_string_value(json_object_get(j_row, "username"));
        name = s != NULL ? strdup(s) : NULL;
    }
    json_decref(j_row);
    return name;
}

int compat_rules_422(lintel_res *res, const json_t *j_errors, const char *url)
{
    json_t *j_items = json_array();
    const json_t *j_err;
    char msg[512];
    size_t i;
    int rc;

    if (j_items == NULL)
        return LINTEL_ENOMEM;
    json_array_foreach(j_errors, i, j_err) {
        const char *field = json_string_value(json_object_get(j_err, "field"));
        const char *message = json_string_value(json_object_get(j_err, "message"));
        if (field == NULL || message == NULL)
            continue;
        snprintf(msg, sizeof(msg), "Value error, %s %s", field, message);
        compat_item(j_items, "value_error", json_pack("[ss]", "body", field), msg, NULL,
                    json_pack("{s{}}", "error"));
    }
    rc = compat_422_url(res, j_items, url);
    json_decref(j_items);
    return rc;
}

int compat_fastapi_render(lintel_req *req, lintel_res *res, unsigned status, int rc,
                          const char *detail, const json_t *j_errors, void *state)
{
    const struct compat_fastapi *f = state;
    const char *why = compat_auth_reason(j_errors);

    (void)req;
    (void)rc;
    if (why != NULL && strcmp(why, "missing") == 0)
        return compat_detail(res, 401, "Not authenticated");
    if (why != NULL && (strcmp(why, "invalid") == 0 || strcmp(why, "revoked") == 0))
        return compat_detail(res, f->invalid_status, f->invalid_detail);
    if (why != NULL && f->forbidden != NULL && status == 403)
        return compat_detail(res, 403, f->forbidden);
    if (status == 422 && json_array_size(j_errors) > 0)
        return compat_rules_422(res, j_errors, f->url);
    return compat_detail(res, status, detail);
}

int compat_profile(lintel_plugin *p, const struct lintel_embedded_sql *migrations,
                   lintel_error_render render, const void *render_state,
                   const struct lintel_route *routes, size_t n, void *state)
{
    int rc = lintel_declare_profile(p);

    if (rc == 0 && migrations != NULL)
        rc = lintel_migrations(p, migrations);
    if (rc == 0)
        rc = lintel_error_render(p, render, (void *)render_state);
    if (rc == 0)
        rc = lintel_routes_add(p, routes, n, state);
    return rc;
}

int compat_bearer(lintel_req *req, lintel_res *res, const struct lintel_login *in)
{
    json_t *j_out = NULL;
    int rc = lintel_login(req, in, &j_out);

    if (rc == 0)
        rc = lintel_res_json_new(res, 200,
                                 json_pack("{sO ss}", "access_token",
                                           json_object_get(j_out, "access_token"), "token_type",
                                           "bearer"));
    json_decref(j_out);
    return rc;
}
