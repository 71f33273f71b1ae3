/*
 * Header-only reading of Content-Type-like header values (RFC 9110 §8.3): the media type and a
 * parameter. The one parser of the host (app/host_api.c) and of plugins (avatars' multipart).
 */
#ifndef LINTEL_MEDIA_TYPE_H
#define LINTEL_MEDIA_TYPE_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

/*
 * The media type of value ("Application/JSON; charset=utf-8" -> "application/json"):
 * lower-cased, without parameters or blanks, into out (size bytes, cut to fit). "" when value is
 * NULL or empty.
 */
static inline void lintel_media_type(const char *value, char *out, size_t size)
{
    size_t i = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    if (value == NULL)
        return;
    while (*value == ' ' || *value == '\t')
        value++;
    for (; *value != '\0' && *value != ';' && *value != ' ' && *value != '\t' && i + 1 < size;
         value++)
        out[i++] = (char)((*value >= 'A' && *value <= 'Z') ? *value + 32 : *value);
    out[i] = '\0';
}

/*
 * The parameter name of value ("multipart/form-data; boundary=x", "form-data; name=\"file\""),
 * quoted or not, name matched without case, into out. 0, or -1 when it is absent, empty, or
 * longer than size - 1.
 */
static inline int lintel_media_param(const char *value, const char *name, char *out, size_t size)
{
    const char *p = value != NULL ? strchr(value, ';') : NULL;
    size_t nl = strlen(name);

    while (p != NULL) {
        size_t i = 0;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
            p += nl + 1;
            if (*p == '"') {
                for (p++; *p != '\0' && *p != '"' && i + 1 < size; p++)
                    out[i++] = *p;
                if (*p != '"')
                    return -1;
            } else {
                for (; *p != '\0' && *p != ';' && *p != ' ' && i + 1 < size; p++)
                    out[i++] = *p;
                if (*p != '\0' && *p != ';' && *p != ' ')
                    return -1;
            }
            out[i] = '\0';
            return i > 0 ? 0 : -1;
        }
        p = strchr(p, ';');
    }
    return -1;
}

#endif /* LINTEL_MEDIA_TYPE_H */
