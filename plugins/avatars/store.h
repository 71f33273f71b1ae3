/*
 * Avatar storage shared by the avatars plugin and the compatibility profiles that take avatars:
 * the upload (multipart or raw, image checks), the file under <data_dir>/avatars/<user id>, the
 * avatars row and its version, the clean-up of deleted accounts' files, the live event.
 */
#ifndef LINTEL_PLUGINS_AVATARS_STORE_H
#define LINTEL_PLUGINS_AVATARS_STORE_H

#include <lintel/plugin.h>

#include <stddef.h>

struct avatars {
    const struct lintel_api *api;
    lintel_plugin *p;
    char dir[4096]; /* <data_dir>/avatars */
    long long max;  /* largest image in bytes */
};

/*
 * Fills a from the host's settings (avatar_max, data_dir), creates the directory and removes
 * temporary files a crash left behind. Call from lintel_plugin_init. 0 or a status code.
 */
int avatars_setup(struct avatars *a, lintel_plugin *p, const struct lintel_api *api);

/*
 * Stores the request's body as the user's avatar: a PNG or JPEG sent raw (image/png,
 * image/jpeg) or as the field "file" of multipart/form-data, checked in full (image.c). On
 * success url (size bytes) is "/api/users/<id>/avatar?v=<version>". Errors are recorded on res:
 * LINTEL_EPARAM (field "file": "is required") for a form without it, LINTEL_EMALFORMED,
 * LINTEL_ETOOLARGE, LINTEL_EMEDIATYPE, LINTEL_ENOTFOUND (the account went meanwhile).
 */
int avatars_store(struct avatars *a, lintel_req *req, lintel_res *res, char *url, size_t size);

/* The file of uid's avatar. */
void avatars_path(const struct avatars *a, long long uid, char *out, size_t size);

/* The user's avatar bytes (malloc'd) or LINTEL_ENOTFOUND. */
int avatars_read(struct avatars *a, long long uid, unsigned char **data, size_t *len);

/* Removes a few files of deleted accounts (listed in avatar_orphans). Best effort. */
void avatars_purge(struct avatars *a, lintel_req *req);

/* {"event": event, "user_id", "avatar_url": url or null} to the user's sockets. */
void avatars_publish(struct avatars *a, lintel_req *req, long long uid, const char *event,
                     const char *url);

#endif /* LINTEL_PLUGINS_AVATARS_STORE_H */
