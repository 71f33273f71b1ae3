/*
 * libFuzzer harness for JSON request bodies through the host: api->req_json as every handler
 * calls it (JSON_DECODE_ANY, duplicate keys refused, error offsets and the member named for a
 * non-finite number), then what the client gets back: the value echoed through the host's JSON
 * writer (which must read back as the same value), or the error rendered as a problem
 * (RFC 9457) or JSend body.
 *
 * Input: byte 0 bit 0 picks JSend, the rest is the body.
 */
#include "host_api.h"
#include "http_error.h"
#include "json_out.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lintel_req req;
    const char *ct = NULL;
    json_t *j_body = NULL, *j_err = NULL;
    json_t *j_back = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (size == 0)
        return 0;
    memset(&req, 0, sizeof(req));
    req.res.req = &req;
    req.method = "POST";
    req.path = "/api/fuzz";
    /* an exact-size copy, as the server keeps it, so ASan sees a read past the end */
    req.body = malloc(size - 1 > 0 ? size - 1 : 1);
    if (req.body == NULL)
        return 0;
    memcpy(req.body, data + 1, size - 1);
    req.body_len = size - 1;
    rc = host_api()->req_json(&req, &j_body);
    if ((rc == 0) != (j_body != NULL))
        abort();
    if (rc == 0) {
        if (json_out_dump(j_body, &text, &len) != 0)
            abort();
        /* the writer's text reads back as the same value (shortest reals included) */
        j_back = json_loadb(text, len, JSON_DECODE_ANY, NULL);
        if (j_back == NULL || !json_equal(j_back, j_body))
            abort();
    } else {
        if (req.res.err_rc == 0 || req.res.err_detail == NULL)
            abort(); /* every refusal says what and where */
        j_err = http_error_body(http_error_status(rc), req.res.err_detail, req.res.j_errors,
                                req.path, NULL, (data[0] & 1) != 0, &ct);
        if (j_err == NULL)
            abort();
        text = json_dumps(j_err, JSON_COMPACT);
        if (text == NULL)
            abort();
    }
    free(text);
    json_decref(j_back);
    json_decref(j_err);
    json_decref(j_body);
    host_req_release(&req);
    return 0;
}
