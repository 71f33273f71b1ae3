/*
 * Avatar storage shared by the avatars plugin and the compatibility profiles that take avatars:
 * the upload (multipart or raw, image checks), the bytes and their version in the avatars row
 * of the database, the live event. Written with the kit: the plugin says LINTEL_KIT_INIT.
 */
#ifndef LINTEL_PLUGINS_AVATARS_STORE_H
#define LINTEL_PLUGINS_AVATARS_STORE_H

#include <lintel/plugin.h>

#include <stddef.h>

struct avatars {
    lintel_plugin *p;
    long long max; /* largest image in bytes */
};

/* Fills a from the host's settings (avatar_max). Call from lintel_plugin_init. */
int avatars_setup(struct avatars *a, lintel_plugin *p);

/*
 * Stores the request's body as the user's avatar: a PNG or JPEG sent raw (image/png,
 * image/jpeg) or as the field "file" of multipart/form-data, checked in full (image.c). On
 * success url (size bytes) is "/api/users/<id>/avatar?v=<version>". Errors are recorded on res:
 * LINTEL_EPARAM (field "file": "is required") for a form without it, LINTEL_EMALFORMED,
 * LINTEL_ETOOLARGE, LINTEL_EMEDIATYPE, LINTEL_ENOTFOUND (the account went meanwhile).
 */
int avatars_store(const struct avatars *a, lintel_req *req, lintel_res *res, char *url,
                  size_t size);

/*
 * uid's avatar: *data (lintel_free) holds its *len bytes, *version its version; or
 * LINTEL_ENOTFOUND (no avatar, or the account is deleted), unrecorded.
 */
int avatars_read(lintel_req *req, long long uid, void **data, size_t *len, long long *version);

/*
 * {"event": event, "user_id", "avatar_url": url or null, "signed_url" (with url only)} to the
 * user's sockets.
 */
void avatars_publish(lintel_req *req, long long uid, const char *event, const char *url);

#endif /* LINTEL_PLUGINS_AVATARS_STORE_H */
