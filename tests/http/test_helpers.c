/*
 * The test helpers clean up after a case that fails partway: lt_run_suite removes the
 * temporary directories its cases made even when a failed assertion ended the case.
 */
#include "lt_test.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes a data dir as a server test would, then fails before it could remove it. */
START_TEST(fails_partway)
{
    char dir[PATH_MAX];

    snprintf(dir, sizeof(dir), "%s/lintel-test-XXXXXX", getenv("TMPDIR"));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_abort_msg("failing on purpose, with %s still there (test_helpers expects this)", dir);
}
END_TEST

/* Entries of dir other than . and .., -1 when it cannot be read. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

int main(void)
{
    Suite *s = suite_create("helpers");
    TCase *tc = tcase_create("helpers");
    char outer[PATH_MAX];
    int rc, left;

    snprintf(outer, sizeof(outer), "%s/lintel-helpers-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(outer) == NULL || setenv("TMPDIR", outer, 1) != 0)
        return EXIT_FAILURE;
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, fails_partway);
    suite_add_tcase(s, tc);
    rc = lt_run_suite(s);
    left = entries(outer);
    rmdir(outer);
    if (rc == EXIT_SUCCESS) {
        fprintf(stderr, "the failing case passed\n");
        return EXIT_FAILURE;
    }
    if (left != 0) {
        fprintf(stderr, "%d entries left behind in %s\n", left, outer);
        return EXIT_FAILURE;
    }
    printf("a failed case left nothing behind\n");
    return EXIT_SUCCESS;
}
