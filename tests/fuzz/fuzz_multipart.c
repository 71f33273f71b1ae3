/*
 * libFuzzer harness for the multipart/form-data parser of the avatars plugin, the one parser
 * of multipart bodies a client reaches (PUT /api/users/me/avatar).
 *
 * Input: the Content-Type header value up to the first '\n', then the body. The plugin's source
 * is included so its static parser is called as the handler calls it; res_error is the only
 * member of the table it uses, and here it just returns the status.
 */
#include "../../plugins/avatars/avatars.c"

#include <stdarg.h>
#include <stdint.h>

static int fuzz_res_error(lintel_res *res, int rc, const char *field, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    (void)res;
    (void)field;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lintel_api api;
    struct avatars a;
    struct avatars_part part;
    const uint8_t *nl = memchr(data, '\n', size);
    char ct[1024];
    unsigned char *body;
    size_t ct_len, n;
    int rc;

    if (nl == NULL || (size_t)(nl - data) >= sizeof(ct))
        return 0;
    api.res_error = fuzz_res_error;
    memset(&a, 0, sizeof(a));
    a.api = &api;
    ct_len = (size_t)(nl - data);
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    /* A copy of exactly the body's size, so ASan sees any read past its end. */
    n = size - ct_len - 1;
    body = malloc(n > 0 ? n : 1);
    if (body == NULL)
        return 0;
    memcpy(body, nl + 1, n);
    rc = avatars_multipart(&a, NULL, ct, body, n, &part);
    if (rc == 0 && (part.data < body || part.data + part.len > body + n))
        abort(); /* the part must lie inside the body */
    free(body);
    return 0;
}
