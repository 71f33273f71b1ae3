/*
 * Unit tests of app/file_read.c and of its readers' refusals: the limit is exact (max bytes
 * read, max + 1 refused), a missing file keeps fopen's errno, and a mail template or a key file
 * that is too large is refused, not cut.
 */
#include "config.h"
#include "file_read.h"
#include "lt_test.h"
#include "mail.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* dir/name holding n copies of c (under the case's own TMPDIR, removed after the run). */
static void write_file(const char *dir, const char *name, char c, size_t n, char *path, size_t size)
{
    FILE *f;
    size_t i;

    snprintf(path, size, "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(fputc(c, f), c);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(limit_is_exact)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], *data = NULL;
    size_t len = 99;

    ck_assert_ptr_nonnull(dir);
    write_file(dir, "eight", 'x', 8, path, sizeof(path));
    ck_assert_int_eq(file_read_max(path, 8, &data, &len), 0);
    ck_assert_uint_eq(len, 8);
    ck_assert_str_eq(data, "xxxxxxxx"); /* NUL-terminated after its bytes */
    free(data);
    ck_assert_int_eq(file_read_max(path, 7, &data, &len), LINTEL_ETOOLARGE);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(len, 0);
    write_file(dir, "empty", 'x', 0, path, sizeof(path));
    ck_assert_int_eq(file_read_max(path, 8, &data, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(data, "");
    free(data);
}
END_TEST

START_TEST(open_and_read_failures)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], *data = (char *)"stale";
    size_t len = 0;

    snprintf(path, sizeof(path), "%s/missing", dir);
    errno = 0;
    ck_assert_int_eq(file_read_max(path, 8, &data, &len), LINTEL_ENOTFOUND);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_null(data);
    /* a directory opens but cannot be read */
    errno = 0;
    ck_assert_int_eq(file_read_max(dir, 8, &data, &len), LINTEL_EINTERNAL);
    ck_assert_int_eq(errno, EISDIR);
    ck_assert_ptr_null(data);
}
END_TEST

START_TEST(mail_template_override)
{
    const char *dir = getenv("TMPDIR");
    char tdir[2048], path[4096], *subject = NULL, *body = NULL;
    struct config cfg;
    json_t *j_vars = json_pack("{ss}", "username", "ann");
    FILE *f;

    memset(&cfg, 0, sizeof(cfg));
    snprintf(tdir, sizeof(tdir), "%s/templates", dir);
    ck_assert_int_eq(mkdir(tdir, 0700), 0);
    cfg.mail_templates = tdir;
    /* no file of that name: the built-in template */
    ck_assert_int_eq(mail_render(&cfg, "verify", j_vars, &subject, &body), 0);
    ck_assert_ptr_nonnull(strstr(body, "ann"));
    free(subject);
    free(body);
    subject = body = NULL;
    snprintf(path, sizeof(path), "%s/verify.txt", tdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("Subject: hello {{username}}\n\nown text\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(mail_render(&cfg, "verify", j_vars, &subject, &body), 0);
    ck_assert_str_eq(subject, "hello ann");
    ck_assert_str_eq(body, "own text\r\n");
    free(subject);
    free(body);
    subject = body = NULL;
    /* 16 KiB is the limit: one byte more is refused, not cut */
    write_file(tdir, "verify.txt", 'x', 16 * 1024 + 1, path, sizeof(path));
    ck_assert_int_eq(mail_render(&cfg, "verify", j_vars, &subject, &body), LINTEL_EPARAM);
    ck_assert_ptr_null(subject);
    ck_assert_ptr_null(body);
    json_decref(j_vars);
}
END_TEST

static Suite *file_read_suite(void)
{
    Suite *s = suite_create("file_read");
    TCase *tc = tcase_create("file_read");

    tcase_add_test(tc, limit_is_exact);
    tcase_add_test(tc, open_and_read_failures);
    tcase_add_test(tc, mail_template_override);
    suite_add_tcase(s, tc);
    return s;
}

LT_CHECK_MAIN(file_read_suite)
