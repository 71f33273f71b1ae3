/*
 * lt_shell_sql: the sqlite3 shell with the extension loaded on a test server's database (the
 * SQL goes through a file: it may hold '$' or quotes a command line would mangle).
 */
#include "lt_shell.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LT_SHELL_MAX (64 * 1024)

char *lt_shell_sql(const char *data_dir, const char *sql, int *status)
{
    const char *ext = getenv("LINTEL_TEST_EXT");
    char *cmd = NULL, *out = NULL, path[PATH_MAX];
    FILE *f = NULL;
    size_t n = 0;
    int rc;

    if (status != NULL)
        *status = -1;
    if (ext == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/lt-shell-%d.sql", data_dir, (int)getpid());
    f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f, "%s;\n", sql);
    fclose(f);
    /* a sanitized extension needs the ASan runtime preloaded into the shell (tests/sql/run.sh) */
    if (asprintf(&cmd,
                 "if nm -D '%s.so' 2>/dev/null | grep -q __asan_init; then"
                 " LD_PRELOAD=\"$(gcc -print-file-name=libasan.so)"
                 " $(gcc -print-file-name=libubsan.so)\""
                 " ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0;"
                 " export LD_PRELOAD ASAN_OPTIONS; fi;"
                 " sqlite3 -batch -cmd '.timeout 5000' -cmd '.load %s' '%s/lintel.db' < '%s' 2>&1",
                 ext, ext, data_dir, path) < 0)
        goto cleanup;
    out = calloc(1, LT_SHELL_MAX + 1);
    f = out != NULL ? popen(cmd, "r") : NULL;
    if (f == NULL) {
        free(out);
        out = NULL;
        goto cleanup;
    }
    n = fread(out, 1, LT_SHELL_MAX, f);
    out[n] = '\0';
    rc = pclose(f);
    if (status != NULL)
        *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
cleanup:
    unlink(path);
    free(cmd);
    return out;
}
