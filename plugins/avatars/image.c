/*
 * Avatar image checks with libpng and libjpeg (image.h): full decodes into one row buffer,
 * errors caught with setjmp, warnings treated as defects, dimensions capped before decoding.
 */
#include "image.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* The defect text of the last failed check on this thread (see image.h). */
static _Thread_local char image_msg[200];

static const char *image_defect(const char *what, const char *detail)
{
    snprintf(image_msg, sizeof(image_msg), "%s%s%.120s", what, detail != NULL ? ": " : "",
             detail != NULL ? detail : "");
    return image_msg;
}

static int image_is_png(const unsigned char *b, size_t n)
{
    return n >= 8 && png_sig_cmp(b, 0, 8) == 0;
}

static int image_is_jpeg(const unsigned char *b, size_t n)
{
    return n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

/* ---- PNG ---- */

struct image_png {
    const unsigned char *b;
    size_t n, off;
    char msg[128]; /* libpng's error or first warning */
};

static void image_png_read(png_structp png, png_bytep out, size_t len)
{
    struct image_png *src = png_get_io_ptr(png);

    if (len > src->n - src->off)
        png_error(png, "the file ends early (truncated?)");
    memcpy(out, src->b + src->off, len);
    src->off += len;
}

static void image_png_error(png_structp png, png_const_charp msg)
{
    struct image_png *src = png_get_error_ptr(png);

    if (src->msg[0] == '\0')
        snprintf(src->msg, sizeof(src->msg), "%s", msg);
    png_longjmp(png, 1);
}

/* A warning (a bad CRC in an ancillary chunk, a damaged profile) is a defect too. */
static void image_png_warning(png_structp png, png_const_charp msg)
{
    struct image_png *src = png_get_error_ptr(png);

    if (src->msg[0] == '\0')
        snprintf(src->msg, sizeof(src->msg), "%s", msg);
}

static const char *image_png_check(const unsigned char *b, size_t n)
{
    struct image_png src = {.b = b, .n = n};
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile row = NULL;
    const char *volatile defect = NULL;
    png_uint_32 w, h, y;
    int passes, pass;

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, image_png_error, image_png_warning);
    if (png != NULL)
        info = png_create_info_struct(png);
    if (png == NULL || info == NULL) {
        defect = image_defect("the PNG cannot be checked", "out of memory");
        goto cleanup;
    }
    if (setjmp(png_jmpbuf(png))) {
        defect = image_defect("the PNG does not decode", src.msg);
        goto cleanup;
    }
    /* libpng refuses larger headers itself, before any row is allocated */
    png_set_user_limits(png, AVATARS_MAX_DIM, AVATARS_MAX_DIM);
    png_set_chunk_cache_max(png, 256);
    png_set_chunk_malloc_max(png, 4 * 1024 * 1024);
    png_set_read_fn(png, &src, image_png_read);
    png_read_info(png, info);
    w = png_get_image_width(png, info);
    h = png_get_image_height(png, info);
    if ((unsigned long long)w * h > AVATARS_MAX_PIXELS) {
        defect = image_defect("the PNG has more than 67108864 pixels", NULL);
        goto cleanup;
    }
    passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    row = malloc(png_get_rowbytes(png, info)); /* at most 16384 * 8 bytes */
    if (row == NULL) {
        defect = image_defect("the PNG cannot be checked", "out of memory");
        goto cleanup;
    }
    for (pass = 0; pass < passes; pass++)
        for (y = 0; y < h; y++)
            png_read_row(png, row, NULL);
    /* the chunks after the image data, up to IEND: a truncated file fails here */
    png_read_end(png, NULL);
    if (src.msg[0] != '\0')
        defect = image_defect("the PNG is damaged", src.msg);
cleanup:
    png_destroy_read_struct(png != NULL ? &png : NULL, info != NULL ? &info : NULL, NULL);
    free(row);
    return defect;
}

/* ---- JPEG ---- */

struct image_jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX]; /* the error or the first warning */
};

static void image_jpeg_exit(j_common_ptr cinfo)
{
    struct image_jpeg_err *err = (struct image_jpeg_err *)cinfo->err;

    if (err->msg[0] == '\0')
        err->pub.format_message(cinfo, err->msg);
    longjmp(err->jb, 1);
}

/* Level -1 is a warning ("Premature end of JPEG file", corrupt data): a defect too. */
static void image_jpeg_emit(j_common_ptr cinfo, int level)
{
    struct image_jpeg_err *err = (struct image_jpeg_err *)cinfo->err;

    if (level < 0 && err->msg[0] == '\0')
        err->pub.format_message(cinfo, err->msg);
}

static const char *image_jpeg_check(const unsigned char *b, size_t n)
{
    struct jpeg_decompress_struct cinfo;
    struct image_jpeg_err err;
    JSAMPLE *volatile row = NULL;
    const char *volatile defect = NULL;
    volatile int created = 0;
    JSAMPROW rows[1];

    memset(&cinfo, 0, sizeof(cinfo));
    memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = image_jpeg_exit;
    err.pub.emit_message = image_jpeg_emit;
    if (setjmp(err.jb)) {
        defect = image_defect("the JPEG does not decode", err.msg);
        goto cleanup;
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    /* progressive images buffer coefficients: bounded, beyond the pixel cap below */
    cinfo.mem->max_memory_to_use = 64L * 1024 * 1024;
    jpeg_mem_src(&cinfo, b, (unsigned long)n);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        defect = image_defect("the JPEG has no image", NULL);
        goto cleanup;
    }
    if (cinfo.image_width == 0 || cinfo.image_height == 0 || cinfo.image_width > AVATARS_MAX_DIM ||
        cinfo.image_height > AVATARS_MAX_DIM) {
        defect = image_defect("the JPEG is empty or larger than 16384 pixels on a side", NULL);
        goto cleanup;
    }
    if ((unsigned long long)cinfo.image_width * cinfo.image_height > AVATARS_MAX_PIXELS) {
        defect = image_defect("the JPEG has more than 67108864 pixels", NULL);
        goto cleanup;
    }
    /* every coefficient is still entropy-decoded; only the inverse DCT works at 1/8 */
    cinfo.scale_num = 1;
    cinfo.scale_denom = 8;
    cinfo.dct_method = JDCT_IFAST;
    jpeg_start_decompress(&cinfo);
    row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
    if (row == NULL) {
        defect = image_defect("the JPEG cannot be checked", "out of memory");
        goto cleanup;
    }
    rows[0] = row;
    while (cinfo.output_scanline < cinfo.output_height)
        jpeg_read_scanlines(&cinfo, rows, 1);
    jpeg_finish_decompress(&cinfo);
    if (err.msg[0] != '\0')
        defect = image_defect("the JPEG is damaged", err.msg);
cleanup:
    if (created)
        jpeg_destroy_decompress(&cinfo);
    free(row);
    return defect;
}

const char *avatars_image_check(const void *data, size_t n, const char **defect)
{
    const unsigned char *b = data;

    if (image_is_png(b, n)) {
        *defect = image_png_check(b, n);
        return *defect == NULL ? "image/png" : NULL;
    }
    if (image_is_jpeg(b, n)) {
        *defect = image_jpeg_check(b, n);
        return *defect == NULL ? "image/jpeg" : NULL;
    }
    *defect = "the content is neither a PNG nor a JPEG image";
    return NULL;
}

const char *avatars_image_type(const void *data, size_t n)
{
    if (image_is_png(data, n))
        return "image/png";
    if (image_is_jpeg(data, n))
        return "image/jpeg";
    return NULL;
}
