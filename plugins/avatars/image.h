/*
 * Avatar image checks: a PNG or JPEG is accepted only if libpng or libjpeg decodes all of it,
 * within caps on its dimensions and decoded size, so what is stored is an image a client can open.
 */
#ifndef LINTEL_PLUGINS_AVATARS_IMAGE_H
#define LINTEL_PLUGINS_AVATARS_IMAGE_H

#include <stddef.h>

#define AVATARS_MAX_DIM    16384               /* widest and tallest image accepted */
#define AVATARS_MAX_PIXELS (64L * 1024 * 1024) /* decoded pixels: bounds the decoding time */

/*
 * Decodes data (n bytes) row by row with one row of memory: "image/png" or "image/jpeg" when
 * the whole image decodes cleanly and is 1..AVATARS_MAX_DIM on each side with at most
 * AVATARS_MAX_PIXELS pixels; else NULL and *defect says why (a string valid until the
 * calling thread's next call).
 */
const char *avatars_image_check(const void *data, size_t n, const char **defect);

/* The type by signature alone, for bytes already checked on upload; NULL for neither. */
const char *avatars_image_type(const void *data, size_t n);

#endif /* LINTEL_PLUGINS_AVATARS_IMAGE_H */
