/*
 * plugins/avatars/image.c without HTTP: real images made here with libpng and libjpeg pass,
 * every truncation and single-byte damage of them is refused or decodes, never crashes or leaks.
 */
#include "image.h"
#include "lt_test.h"

#include <check.h>
#include <stdio.h> /* before jpeglib.h */

#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

/* A w x h RGBA gradient as PNG, by libpng's simplified writer (malloc'd). */
static unsigned char *make_png(unsigned w, unsigned h, size_t *len)
{
    png_image img;
    unsigned char *px = malloc((size_t)w * h * 4), *out;
    size_t i;

    ck_assert_ptr_nonnull(px);
    for (i = 0; i < (size_t)w * h * 4; i++)
        px[i] = (unsigned char)(i * 31);
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = PNG_FORMAT_RGBA;
    ck_assert(png_image_write_get_memory_size(img, *len, 0, px, 0, NULL));
    out = malloc(*len);
    ck_assert_ptr_nonnull(out);
    ck_assert(png_image_write_to_memory(&img, out, len, 0, px, 0, NULL));
    free(px);
    return out;
}

static unsigned char *make_jpeg(unsigned w, unsigned h, int progressive, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *row = malloc((size_t)w * 3), *out = NULL;
    unsigned long n = 0;
    JSAMPROW rows[1] = {row};
    unsigned x, y;

    ck_assert_ptr_nonnull(row);
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w * 3; x++)
            row[x] = (unsigned char)(x * 5 + y * 11);
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *len = n;
    return out;
}

/* Every prefix is refused; every one-byte change either is refused or still decodes. */
static void damage(const unsigned char *img, size_t len, const char *type)
{
    unsigned char *copy = malloc(len);
    const char *defect = NULL;
    size_t k;

    ck_assert_ptr_nonnull(copy);
    ck_assert_str_eq(avatars_image_check(img, len, &defect), type);
    for (k = 0; k < len; k++) {
        memcpy(copy, img, k);
        ck_assert_msg(avatars_image_check(copy, k, &defect) == NULL, "%s cut at %zu accepted", type,
                      k);
        ck_assert_ptr_nonnull(defect);
    }
    for (k = 0; k < len; k++) {
        const char *got;
        memcpy(copy, img, len);
        copy[k] ^= 0xa5;
        got = avatars_image_check(copy, len, &defect);
        ck_assert(got == NULL || strcmp(got, type) == 0);
    }
    free(copy);
}

START_TEST(real_images_and_their_damage)
{
    size_t len;
    unsigned char *img;

    img = make_png(7, 5, &len);
    damage(img, len, "image/png");
    free(img);
    img = make_jpeg(20, 9, 0, &len);
    damage(img, len, "image/jpeg");
    free(img);
    img = make_jpeg(24, 16, 1, &len);
    damage(img, len, "image/jpeg");
    free(img);
}
END_TEST

/* The caps come before any row is decoded: wide headers are refused by their dimensions. */
START_TEST(dimension_caps)
{
    const char *defect = NULL;
    size_t len;
    unsigned char *img = make_png(AVATARS_MAX_DIM + 1, 1, &len);

    ck_assert_ptr_null(avatars_image_check(img, len, &defect));
    free(img);
    img = make_png(AVATARS_MAX_DIM, 1, &len);
    ck_assert_str_eq(avatars_image_check(img, len, &defect), "image/png");
    free(img);
    /* 8192 x 8193 is within each side but above the pixel cap */
    img = make_jpeg(8192, 8193, 0, &len);
    ck_assert_ptr_null(avatars_image_check(img, len, &defect));
    ck_assert_ptr_nonnull(strstr(defect, "pixels"));
    free(img);
    ck_assert_ptr_null(avatars_image_check("GIF89a", 6, &defect));
    ck_assert_str_eq(avatars_image_type("\xff\xd8\xff", 3), "image/jpeg");
}
END_TEST

static Suite *avatar_image_suite(void)
{
    Suite *s = suite_create("avatar_image");
    TCase *tc = tcase_create("avatar_image");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, real_images_and_their_damage);
    tcase_add_test(tc, dimension_caps);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(avatar_image_suite)
