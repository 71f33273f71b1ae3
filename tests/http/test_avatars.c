/*
 * Black-box tests of the avatars routes: PNG and JPEG as raw bodies and multipart fields, the
 * content checks (415), the size limit (413, private server), GET by others, 404s, DELETE, 401.
 */
#include "lt_test.h"

#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include <jpeglib.h> /* after stdio.h */

#define PW "correct-horse-1"

/* A real 2x2 RGB PNG (IHDR with its CRC, IDAT, IEND); libpng decodes it. */
static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd,
    0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
    0xcf, 0xc0, 0x00, 0x44, 0x60, 0xe2, 0x3f, 0x03, 0x00, 0x1d, 0xf0, 0x03, 0xfd, 0xa0, 0x33,
    0x09, 0x89, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/*
 * A real JPEG, made by libjpeg in main() (so every decoder opens it): 16x12 pixels of a
 * gradient, baseline, with its quantisation and Huffman tables.
 */
static unsigned char *jpeg;
static size_t jpeg_len;

/* Markers only, no tables: no decoder can open it (it used to be accepted as "valid"). */
static const unsigned char jpeg_markers_only[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',  'F',  'I',  'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11,
    0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x00, 0xff, 0xd9};

/* 21 bytes: SOI, a frame header, an empty scan header, EOI. */
static const unsigned char jpeg_stub21[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08,
                                            0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11,
                                            0x00, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9};

/* Encodes a w x h RGB gradient with libjpeg into *out (malloc'd by jpeg_mem_dest). */
static void make_jpeg(unsigned w, unsigned h, unsigned char **out, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *row = malloc((size_t)w * 3);
    unsigned long n = 0;
    JSAMPROW rows[1] = {row};
    unsigned x, y;

    if (row == NULL)
        abort(); /* also called from main(), outside any test */
    *out = NULL;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, out, &n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w * 3; x++)
            row[x] = (unsigned char)(x * 7 + y * 13);
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *len = n;
}

/* The offset of the first frame header (FF C0) of a JPEG made by make_jpeg. */
static size_t jpeg_sof(const unsigned char *b, size_t n)
{
    size_t i;

    for (i = 2; i + 9 < n; i++)
        if (b[i] == 0xff && b[i + 1] == 0xc0)
            return i;
    ck_abort_msg("no SOF0");
    return 0;
}

static const char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04"
                          "\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01"
                          "\x00;";

static const char *url;

static char *fmt(const char *f, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&out, f, ap), 0);
    va_end(ap);
    return out;
}

/* PUT with a raw body; returns the status (and the reply in *r when not NULL). */
static long put_raw(const char *base, const char *token, const char *ct, const void *data,
                    size_t len, struct lt_resp *out)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(
        lt_request(base, "PUT", "/api/users/me/avatar", token, ct, data, len, NULL, &r), 0);
    status = r.status;
    if (out != NULL)
        *out = r;
    else
        lt_resp_clear(&r);
    return status;
}

/* A multipart/form-data body: an optional text field, then a field name with part_type. */
static char *multipart(const char *name, const char *part_type, const void *data, size_t len,
                       bool close_it, size_t *out_len)
{
    char *head, *body;
    const char *tail = close_it ? "\r\n--XyZb0undary--\r\n" : "\r\n";
    size_t hl, tl = strlen(tail);

    head = fmt("--XyZb0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
               "--XyZb0undary\r\nContent-Disposition: form-data; name=\"%s\"; "
               "filename=\"me.img\"\r\n%s%s%s\r\n",
               name, part_type != NULL ? "Content-Type: " : "", part_type != NULL ? part_type : "",
               part_type != NULL ? "\r\n" : "");
    hl = strlen(head);
    body = malloc(hl + len + tl);
    ck_assert_ptr_nonnull(body);
    memcpy(body, head, hl);
    memcpy(body + hl, data, len);
    memcpy(body + hl + len, tail, tl);
    *out_len = hl + len + tl;
    free(head);
    return body;
}

static long put_multipart(const char *base, const char *token, const char *name,
                          const char *part_type, const void *data, size_t len, bool close_it)
{
    size_t n;
    char *body = multipart(name, part_type, data, len, close_it, &n);
    long status = put_raw(base, token, "multipart/form-data; boundary=XyZb0undary", body, n, NULL);

    free(body);
    return status;
}

/* GETs path and checks the exact bytes and content type. */
static void expect_image(const char *path, const char *token, const char *type, const void *data,
                         size_t len)
{
    struct lt_resp r;

    ck_assert_int_eq(lt_request(url, "GET", path, token, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "Content-Type"), type);
    ck_assert_uint_eq(r.len, len);
    ck_assert_int_eq(memcmp(r.body, data, len), 0);
    lt_resp_clear(&r);
}

static long get_status(const char *base, const char *path, const char *token)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_request(base, "GET", path, token, NULL, NULL, 0, NULL, &r), 0);
    status = r.status;
    lt_resp_clear(&r);
    return status;
}

START_TEST(raw_png_and_jpeg)
{
    char *a = NULL, *b = NULL, *path, *prefix;
    long long ida;
    struct lt_resp r;
    const char *avatar_url;

    ck_assert_int_eq(lt_register(url, "av", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(url, "av", PW, &b, NULL, NULL), 0);
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png), &r), 200);
    avatar_url = json_string_value(json_object_get(r.j_body, "avatar_url"));
    prefix = fmt("/api/users/%lld/avatar", ida);
    ck_assert_ptr_nonnull(avatar_url);
    ck_assert_int_eq(strncmp(avatar_url, prefix, strlen(prefix)), 0);
    /* The URL given is served, to another user too, with the exact bytes. */
    expect_image(avatar_url, b, "image/png", png, sizeof(png));
    expect_image(prefix, b, "image/png", png, sizeof(png));
    expect_image("/api/users/me/avatar", a, "image/png", png, sizeof(png));
    lt_resp_clear(&r);
    /* Replacing it with a JPEG changes the type served and the URL. */
    ck_assert_int_eq(put_raw(url, a, "image/jpeg; charset=binary", jpeg, jpeg_len, &r), 200);
    path = fmt("%s", json_string_value(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    expect_image(path, b, "image/jpeg", jpeg, jpeg_len);
    free(path);
    free(prefix);
    free(a);
    free(b);
}
END_TEST

/* A multipart body whose Content-Type names no boundary. */
static const char nob[] = "--x\r\n\r\n--x--\r\n";

START_TEST(multipart_png_and_jpeg)
{
    char *a = NULL, *b = NULL, *path;
    long long ida;

    ck_assert_int_eq(lt_register(url, "avm", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(url, "avm", PW, &b, NULL, NULL), 0);
    path = fmt("/api/users/%lld/avatar", ida);
    ck_assert_int_eq(put_multipart(url, a, "file", "image/png", png, sizeof(png), true), 200);
    expect_image(path, b, "image/png", png, sizeof(png));
    /* No part type, or a generic one: judged by the content. */
    ck_assert_int_eq(put_multipart(url, a, "file", NULL, jpeg, jpeg_len, true), 200);
    expect_image(path, b, "image/jpeg", jpeg, jpeg_len);
    ck_assert_int_eq(
        put_multipart(url, a, "file", "application/octet-stream", png, sizeof(png), true), 200);
    expect_image(path, b, "image/png", png, sizeof(png));
    /* Format errors: no file field 422, no closing delimiter 400, no boundary at all 400. */
    ck_assert_int_eq(put_multipart(url, a, "picture", "image/png", png, sizeof(png), true), 422);
    ck_assert_int_eq(put_multipart(url, a, "file", "image/png", png, sizeof(png), false), 400);
    ck_assert_int_eq(put_raw(url, a, "multipart/form-data", nob, sizeof(nob) - 1, NULL), 400);
    /* Content checks as for raw bodies. */
    ck_assert_int_eq(put_multipart(url, a, "file", "image/gif", gif, sizeof(gif) - 1, true), 415);
    ck_assert_int_eq(put_multipart(url, a, "file", "image/jpeg", png, sizeof(png), true), 415);
    ck_assert_int_eq(put_multipart(url, a, "file", NULL, "hello", 5, true), 415);
    free(path);
    free(a);
    free(b);
}
END_TEST

START_TEST(bad_content_is_415)
{
    unsigned char bad[sizeof(png)];
    char *a = NULL;

    ck_assert_int_eq(lt_register(url, "avb", PW, &a, NULL, NULL), 0);
    ck_assert_int_eq(put_raw(url, a, "image/gif", gif, sizeof(gif) - 1, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/png", gif, sizeof(gif) - 1, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/png", "garbage garbage garbage", 23, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "text/plain", "hello", 5, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, NULL, png, sizeof(png), NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "application/json", "{}", 2, NULL), 415);
    /* Declared type and content disagree. */
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", png, sizeof(png), NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/png", jpeg, jpeg_len, NULL), 415);
    /* A signature alone is not enough: truncated, a broken IHDR CRC, a zero width, empty. */
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png) - 12, NULL), 415);
    memcpy(bad, png, sizeof(png));
    bad[30] ^= 0xff;
    ck_assert_int_eq(put_raw(url, a, "image/png", bad, sizeof(bad), NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/png", "", 0, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", jpeg, 24, NULL), 415);
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", "\xff\xd8\xff\xd9", 4, NULL), 415);
    /* Nothing was stored by any of these. */
    ck_assert_int_eq(get_status(url, "/api/users/me/avatar", a), 404);
    free(a);
}
END_TEST

/* Sets a PNG chunk's CRC (over type and data, at off: length, type, data, CRC) with zlib. */
static void png_fix_crc(unsigned char *b, size_t off)
{
    uint32_t len = (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 |
                   b[off + 3];
    uLong crc = crc32(0L, b + off + 4, len + 4);

    b[off + 8 + len] = (unsigned char)(crc >> 24);
    b[off + 9 + len] = (unsigned char)(crc >> 16);
    b[off + 10 + len] = (unsigned char)(crc >> 8);
    b[off + 11 + len] = (unsigned char)crc;
}

/*
 * The decoders decide: headers that look right around data that does not decode are 415,
 * and so are dimensions beyond the caps; a larger real image is fine.
 */
START_TEST(decoders_decide)
{
    unsigned char bad[sizeof(png)];
    unsigned char *big = NULL, *cut = NULL;
    size_t big_len = 0, sof, k;
    char *a = NULL;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "avd", PW, &a, NULL, NULL), 0);
    /* JPEG markers with no tables, and the 21-byte stub */
    ck_assert_int_eq(
        put_raw(url, a, "image/jpeg", jpeg_markers_only, sizeof(jpeg_markers_only), &r), 415);
    ck_assert_ptr_nonnull(strstr(r.body, "JPEG"));
    lt_resp_clear(&r);
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", jpeg_stub21, sizeof(jpeg_stub21), NULL), 415);
    /* a real JPEG cut inside its scan, with an EOI put back: a warning is a defect */
    make_jpeg(64, 48, &big, &big_len);
    cut = malloc(big_len);
    ck_assert_ptr_nonnull(cut);
    k = big_len * 2 / 3;
    memcpy(cut, big, k);
    cut[k] = 0xff;
    cut[k + 1] = 0xd9;
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", cut, k + 2, NULL), 415);
    /* a frame header wider than 16384, and one of width 0 */
    memcpy(cut, big, big_len);
    sof = jpeg_sof(cut, big_len);
    cut[sof + 7] = 0x40; /* width 0x4001 = 16385 */
    cut[sof + 8] = 0x01;
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", cut, big_len, &r), 415);
    ck_assert_ptr_nonnull(strstr(r.body, "16384"));
    lt_resp_clear(&r);
    cut[sof + 7] = 0;
    cut[sof + 8] = 0;
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", cut, big_len, NULL), 415);
    /* the PNG's compressed data damaged, its chunk CRC made right again (offset 33: IDAT) */
    memcpy(bad, png, sizeof(png));
    ck_assert_int_eq(memcmp(bad + 37, "IDAT", 4), 0);
    bad[45] ^= 0x5a;
    png_fix_crc(bad, 33);
    ck_assert_int_eq(put_raw(url, a, "image/png", bad, sizeof(bad), &r), 415);
    ck_assert_ptr_nonnull(strstr(r.body, "PNG"));
    lt_resp_clear(&r);
    /* an IHDR 16385 wide with a right CRC */
    memcpy(bad, png, sizeof(png));
    bad[18] = 0x40;
    bad[19] = 0x01;
    png_fix_crc(bad, 8);
    ck_assert_int_eq(put_raw(url, a, "image/png", bad, sizeof(bad), NULL), 415);
    ck_assert_int_eq(get_status(url, "/api/users/me/avatar", a), 404);
    /* a larger real JPEG is served back byte for byte */
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", big, big_len, NULL), 200);
    expect_image("/api/users/me/avatar", a, "image/jpeg", big, big_len);
    free(big);
    free(cut);
    free(a);
}
END_TEST

START_TEST(not_found_delete_and_auth)
{
    char *a = NULL, *b = NULL, *path;
    long long ida;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "avd", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(url, "avd", PW, &b, NULL, NULL), 0);
    path = fmt("/api/users/%lld/avatar", ida);
    ck_assert_int_eq(get_status(url, path, b), 404);
    ck_assert_int_eq(get_status(url, "/api/users/999999999/avatar", b), 404);
    ck_assert_int_eq(get_status(url, "/api/users/abc/avatar", b), 404);
    ck_assert_int_eq(get_status(url, "/api/users/0/avatar", b), 404);
    /* Without a token: 401 everywhere. */
    ck_assert_int_eq(get_status(url, path, NULL), 401);
    ck_assert_int_eq(put_raw(url, NULL, "image/png", png, sizeof(png), NULL), 401);
    ck_assert_int_eq(
        lt_request(url, "DELETE", "/api/users/me/avatar", NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 401);
    lt_resp_clear(&r);
    /* DELETE removes it and is idempotent. */
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png), NULL), 200);
    ck_assert_int_eq(get_status(url, path, b), 200);
    ck_assert_int_eq(lt_request(url, "DELETE", "/api/users/me/avatar", a, NULL, NULL, 0, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_status(url, path, b), 404);
    ck_assert_int_eq(lt_request(url, "DELETE", "/api/users/me/avatar", a, NULL, NULL, 0, NULL, &r),
                     0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    /* A deleted account's avatar is gone with it. */
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png), NULL), 200);
    ck_assert_int_eq(lt_request(url, "DELETE", "/api/users/me", a, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 204);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_status(url, path, b), 404);
    free(path);
    free(a);
    free(b);
}
END_TEST

/* The avatar's caching: ETag, a year for the current versioned URL, revalidation else. */
START_TEST(versioned_url_cached_with_etag)
{
    char *a = NULL, *b = NULL, *vurl = NULL, *old = NULL, *plain, *inm = NULL, *etag = NULL;
    const char *hdrs[2] = {NULL, NULL};
    long long ida;
    struct lt_resp r;

    ck_assert_int_eq(lt_register(url, "avc", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(url, "avc", PW, &b, NULL, NULL), 0);
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png), &r), 200);
    old = fmt("%s", json_string_value(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    ck_assert_int_eq(put_raw(url, a, "image/jpeg", jpeg, jpeg_len, &r), 200);
    vurl = fmt("%s", json_string_value(json_object_get(r.j_body, "avatar_url")));
    lt_resp_clear(&r);
    ck_assert_str_ne(old, vurl);
    ck_assert_int_eq(lt_request(url, "GET", vurl, b, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "private, max-age=31536000, immutable");
    ck_assert_ptr_nonnull(lt_header(&r, "ETag"));
    etag = fmt("%s", lt_header(&r, "ETag"));
    ck_assert_int_eq(etag[0], '"');
    lt_resp_clear(&r);
    /* the unversioned URL and a stale version: the same ETag, but revalidated every time */
    plain = fmt("/api/users/%lld/avatar", ida);
    ck_assert_int_eq(lt_request(url, "GET", plain, b, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "private, no-cache");
    ck_assert_str_eq(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_request(url, "GET", old, b, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "private, no-cache");
    ck_assert_uint_eq(r.len, jpeg_len); /* the current bytes */
    lt_resp_clear(&r);
    /* If-None-Match with the ETag (alone, weak, in a list): 304 without a body */
    inm = fmt("If-None-Match: \"x\", W/%s", etag);
    hdrs[0] = inm;
    ck_assert_int_eq(lt_request(url, "GET", vurl, b, NULL, NULL, 0, hdrs, &r), 0);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_str_eq(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    /* another ETag: the image */
    hdrs[0] = "If-None-Match: \"1-1\"";
    ck_assert_int_eq(lt_request(url, "GET", plain, b, NULL, NULL, 0, hdrs, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, jpeg_len);
    lt_resp_clear(&r);
    /* a new upload gives a new ETag: the old one no longer matches */
    ck_assert_int_eq(put_raw(url, a, "image/png", png, sizeof(png), NULL), 200);
    hdrs[0] = inm;
    ck_assert_int_eq(lt_request(url, "GET", plain, b, NULL, NULL, 0, hdrs, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_ne(lt_header(&r, "ETag"), etag);
    lt_resp_clear(&r);
    /* v that is not a positive integer: 422 naming it */
    ck_assert_int_eq(get_status(url, "/api/users/me/avatar?v=abc", a), 422);
    free(plain);
    free(inm);
    free(etag);
    free(old);
    free(vurl);
    free(a);
    free(b);
}
END_TEST

/* One value the sqlite3 shell prints for sql on the server's database (malloc'd, no newline). */
static char *db_value(const struct lt_server *s, const char *sql)
{
    char cmd[PATH_MAX + 512], line[4096];
    FILE *f;

    snprintf(cmd, sizeof(cmd), "sqlite3 -readonly '%s/lintel.db' \"%s\"", s->data_dir, sql);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    line[0] = '\0';
    if (fgets(line, sizeof(line), f) == NULL)
        line[0] = '\0';
    ck_assert_int_eq(pclose(f), 0);
    line[strcspn(line, "\n")] = '\0';
    return strdup(line);
}

START_TEST(size_limit_and_storage)
{
    static const char *const env[] = {"LINTEL_AVATAR_MAX=100", NULL};
    unsigned char big[101];
    struct lt_server s;
    struct stat st;
    char *a = NULL, *file, *body, *sql, *hex;
    long long ida;
    size_t n;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "avs", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(put_raw(s.url, a, "image/png", png, sizeof(png), NULL), 200);
    /* One byte over the limit: 413 before any check of the content, raw or multipart. */
    memset(big, 0, sizeof(big));
    ck_assert_int_eq(put_raw(s.url, a, "image/png", big, sizeof(big), NULL), 413);
    body = multipart("file", "image/png", big, sizeof(big), true, &n);
    ck_assert_int_eq(put_raw(s.url, a, "multipart/form-data; boundary=XyZb0undary", body, n, NULL),
                     413);
    free(body);
    /* The bytes are in the database, the one file a backup copies; nothing beside it. */
    sql = fmt("SELECT hex(image) FROM avatars WHERE user_id = %lld", ida);
    hex = db_value(&s, sql);
    ck_assert_uint_eq(strlen(hex), 2 * sizeof(png));
    for (n = 0; n < sizeof(png); n++)
        ck_assert_int_eq(strtol((char[3]){hex[2 * n], hex[2 * n + 1], 0}, NULL, 16), png[n]);
    file = fmt("%s/avatars", s.data_dir);
    ck_assert_int_ne(stat(file, &st), 0);
    free(hex);
    free(sql);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(file);
    free(a);
}
END_TEST

/* The URL's signature as the server makes it: HMAC-SHA256 of msg under hex_key, base64url. */
static char *sign_as_server(const char *hex_key, const char *msg)
{
    unsigned char key[32], mac[32];
    gnutls_datum_t in = {mac, sizeof(mac)}, out = {NULL, 0};
    char *b64;
    size_t i;
    unsigned v;

    ck_assert_uint_eq(strlen(hex_key), 64);
    for (i = 0; i < sizeof(key); i++) {
        ck_assert_int_eq(sscanf(hex_key + 2 * i, "%2x", &v), 1);
        key[i] = (unsigned char)v;
    }
    ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, sizeof(key), msg, strlen(msg), mac),
                     0);
    ck_assert_int_eq(gnutls_base64_encode2(&in, &out), 0);
    b64 = strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    for (i = 0; b64[i] != '\0'; i++) /* base64url, no padding */
        b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    b64[strcspn(b64, "=")] = '\0';
    return b64;
}

/* GET path without a token: the status, and the problem+json detail when there is one. */
static long get_anon(const char *base, const char *path, const char *detail)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_request(base, "GET", path, NULL, NULL, NULL, 0, NULL, &r), 0);
    status = r.status;
    if (detail != NULL) {
        ck_assert_str_eq(lt_header(&r, "Content-Type"), "application/problem+json");
        ck_assert_str_eq(lt_path_str(r.j_body, "detail"), detail);
        ck_assert_int_eq(json_integer_value(lt_path(r.j_body, "status")), status);
    }
    lt_resp_clear(&r);
    return status;
}

/*
 * Issue 18 "Avatars in browsers": the upload reply and GET .../avatar/signed give a URL an
 * <img> loads without a header; expired (401), forged or altered (403) ones are refused.
 */
START_TEST(signed_urls)
{
    struct lt_server s;
    struct lt_resp r;
    char *a = NULL, *b = NULL, *signed_url, *avatar_url, *bad, *key, *sig, *msg, *p, path[96];
    long long ida, idb, exp;

    ck_assert_int_eq(lt_server_start(&s, NULL, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "avs", PW, &a, &ida, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "avs", PW, &b, &idb, NULL), 0);
    ck_assert_int_eq(put_raw(s.url, a, "image/png", png, sizeof(png), &r), 200);
    avatar_url = strdup(lt_path_str(r.j_body, "avatar_url"));
    signed_url = strdup(lt_path_str(r.j_body, "signed_url"));
    ck_assert_int_eq(strncmp(signed_url, avatar_url, strlen(avatar_url)), 0);
    ck_assert_int_eq(strncmp(signed_url + strlen(avatar_url), "&exp=", 5), 0);
    ck_assert_ptr_nonnull(lt_path_str(r.j_body, "signed_url_expires_at"));
    lt_resp_clear(&r);

    /* no token: the signed URL serves the image, cacheable; the plain one is 401 */
    ck_assert_int_eq(lt_request(s.url, "GET", signed_url, NULL, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, sizeof(png));
    ck_assert_int_eq(memcmp(r.body, png, sizeof(png)), 0);
    ck_assert_str_eq(lt_header(&r, "Cache-Control"), "private, max-age=31536000, immutable");
    lt_resp_clear(&r);
    ck_assert_int_eq(get_anon(s.url, avatar_url, "Not authenticated"), 401);

    /* forged: another signature, another path, another version, a parameter added or gone */
    bad = strdup(signed_url);
    p = strstr(bad, "sig=") + 4;
    *p = *p == 'A' ? 'B' : 'A';
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);
    bad = fmt("/api/users/%lld/avatar%s", idb, strchr(signed_url, '?'));
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);
    bad = fmt("%s", signed_url);
    p = strstr(bad, "?v=") + 3;
    *p = *p == '9' ? '8' : '9';
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);
    bad = fmt("%s&x=1", signed_url);
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);
    bad = fmt("%s&sig=%s", avatar_url, strstr(signed_url, "sig=") + 4); /* exp removed */
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);
    bad = fmt("%s&sig=", avatar_url);
    ck_assert_int_eq(get_anon(s.url, bad, "The URL signature is invalid."), 403);
    free(bad);

    /* the key is in the database: a URL signed with it for a time already past is 401 */
    key = db_value(&s, "SELECT secret FROM url_key WHERE id = 1");
    exp = (long long)time(NULL) - 5;
    msg = fmt("%s&exp=%lld", avatar_url, exp);
    sig = sign_as_server(key, msg);
    bad = fmt("%s&sig=%s", msg, sig);
    ck_assert_int_eq(get_anon(s.url, bad, "The signed URL has expired."), 401);
    free(bad);
    free(sig);
    free(msg);
    /* and the same key, in the future: the scheme is the documented one */
    msg = fmt("%s&exp=%lld", avatar_url, exp + 3600);
    sig = sign_as_server(key, msg);
    bad = fmt("%s&sig=%s", msg, sig);
    ck_assert_int_eq(get_anon(s.url, bad, NULL), 200);
    free(bad);
    free(sig);
    free(msg);
    free(key);

    /* GET .../avatar/signed: any signed-in user gets a fresh one; none without an avatar */
    snprintf(path, sizeof(path), "/api/users/%lld/avatar/signed", ida);
    ck_assert_int_eq(lt_request(s.url, "GET", path, b, NULL, NULL, 0, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(strncmp(lt_path_str(r.j_body, "url"), avatar_url, strlen(avatar_url)), 0);
    ck_assert_ptr_nonnull(lt_path_str(r.j_body, "url_expires_at"));
    ck_assert_int_eq(get_anon(s.url, lt_path_str(r.j_body, "url"), NULL), 200);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_anon(s.url, path, NULL), 401);
    snprintf(path, sizeof(path), "/api/users/%lld/avatar/signed", idb);
    ck_assert_int_eq(get_status(s.url, path, a), 404);

    /* a deleted avatar: the still-valid signature finds nothing */
    ck_assert_int_eq(
        lt_request(s.url, "DELETE", "/api/users/me/avatar", a, NULL, NULL, 0, NULL, &r), 0);
    lt_resp_clear(&r);
    ck_assert_int_eq(get_anon(s.url, signed_url, "This user has no avatar."), 404);

    /* /openapi.json describes both routes and the signed parameters */
    ck_assert_int_eq(lt_json(s.url, "GET", "/openapi.json", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    {
        json_t *j_paths = json_object_get(r.j_body, "paths");
        json_t *j_get = json_object_get(json_object_get(j_paths, "/api/users/{id}/avatar"), "get");
        json_t *j_p;
        size_t i;
        int seen = 0;

        ck_assert_ptr_nonnull(
            json_object_get(json_object_get(j_paths, "/api/users/{id}/avatar/signed"), "get"));
        json_array_foreach(json_object_get(j_get, "parameters"), i, j_p) {
            const char *name = json_string_value(json_object_get(j_p, "name"));
            seen |= strcmp(name, "sig") == 0 ? 1 : strcmp(name, "exp") == 0 ? 2 : 0;
        }
        ck_assert_int_eq(seen, 3);
        ck_assert(json_is_true(json_object_get(j_get, "x-lintel-signed-url")));
    }
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(signed_url);
    free(avatar_url);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("avatars");
    TCase *tc = tcase_create("avatars");
    SRunner *sr;
    int failed;

    url = lt_shared_url();
    if (url == NULL) {
        fprintf(stderr, "no shared server\n");
        return 1;
    }
    make_jpeg(16, 12, &jpeg, &jpeg_len);
    tcase_add_test(tc, raw_png_and_jpeg);
    tcase_add_test(tc, versioned_url_cached_with_etag);
    tcase_add_test(tc, signed_urls);
    tcase_add_test(tc, multipart_png_and_jpeg);
    tcase_add_test(tc, bad_content_is_415);
    tcase_add_test(tc, decoders_decide);
    tcase_add_test(tc, not_found_delete_and_auth);
    tcase_add_test(tc, size_limit_and_storage);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(jpeg);
    return failed == 0 ? 0 : 1;
}
