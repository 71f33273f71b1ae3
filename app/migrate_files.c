/*
 * Files beside the database that a migration imports into it: lintel_data_file() reads one for
 * the migration's SQL, migrate_files_purge() removes what was imported once it is committed.
 */
#include "migrate_files.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A relative name of [A-Za-z0-9_.-] segments, none of them "." or "..". */
static bool migrate_files_name_ok(const char *name)
{
    const char *seg = name;
    const char *p;

    if (name[0] == '\0' || strlen(name) > 255)
        return false;
    for (p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
        } else if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-')) {
            return false;
        }
    }
}

static void migrate_files_read(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *dir = sqlite3_user_data(ctx);
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    unsigned char *buf = NULL;
    char path[4400];
    struct stat st;
    size_t off = 0;
    int fd = -1;

    (void)argc;
    if (name == NULL || dir == NULL)
        return; /* NULL in (or no data directory): NULL out */
    if (!migrate_files_name_ok(name)) {
        sqlite3_result_error(ctx, "lintel_data_file(): not a plain relative file name", -1);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return; /* no such file: NULL */
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MIGRATE_FILES_MAX) {
        char *msg = sqlite3_mprintf("lintel_data_file(): cannot import %s: %s", path,
                                    fd < 0                 ? strerror(errno)
                                    : !S_ISREG(st.st_mode) ? "not a regular file"
                                                           : "larger than 64 MiB");
        sqlite3_result_error(ctx, msg != NULL ? msg : "lintel_data_file(): cannot import", -1);
        sqlite3_free(msg);
        goto cleanup;
    }
    buf = sqlite3_malloc64((sqlite3_uint64)st.st_size + 1);
    if (buf == NULL) {
        sqlite3_result_error_nomem(ctx);
        goto cleanup;
    }
    while (off < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            sqlite3_result_error(ctx, "lintel_data_file(): a file shrank while it was read", -1);
            goto cleanup;
        }
        off += (size_t)r;
    }
    sqlite3_result_blob64(ctx, buf, off, sqlite3_free);
    buf = NULL;
cleanup:
    sqlite3_free(buf);
    if (fd >= 0)
        close(fd);
}

int migrate_files_register(sqlite3 *h, const char *data_dir)
{
    /* Direct only: a trigger or view cannot read files, only a migration's own statements. */
    return sqlite3_create_function(h, "lintel_data_file", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                   (void *)data_dir, migrate_files_read, NULL, NULL);
}

void migrate_files_unregister(sqlite3 *h)
{
    sqlite3_create_function(h, "lintel_data_file", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
}

/* Removes the dot files (".<id>.XXXXXX") an interrupted upload of an older release left. */
static void migrate_files_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4400];
    bool empty = true;
    int n;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        /* a path cut short could name another file: such an entry is kept */
        if (e->d_name[0] != '.' || n < 0 || (size_t)n >= sizeof(path) || unlink(path) != 0)
            empty = false;
    }
    closedir(d);
    if (empty && rmdir(dir) == 0)
        log_info("migrate: every avatar is in the database; %s removed", dir);
}

void migrate_files_purge(sqlite3 *h, const char *data_dir)
{
    sqlite3_stmt *sel = NULL, *del = NULL;
    char dir[4200], path[4300];
    long long n = 0;

    if (data_dir == NULL)
        return;
    snprintf(dir, sizeof(dir), "%s/avatars", data_dir);
    if (access(dir, F_OK) != 0)
        return; /* nothing was ever stored as a file, or all is done */
    if (sqlite3_prepare_v2(h, "SELECT user_id FROM avatar_orphans", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "DELETE FROM avatar_orphans WHERE user_id = ?1", -1, &del, NULL) !=
            SQLITE_OK) {
        log_warn("migrate: cannot list the avatar files to remove: %s", sqlite3_errmsg(h));
        goto cleanup;
    }
    while (sqlite3_step(sel) == SQLITE_ROW) {
        long long uid = sqlite3_column_int64(sel, 0);
        snprintf(path, sizeof(path), "%s/%lld", dir, uid);
        if (unlink(path) != 0 && errno != ENOENT) {
            log_warn("migrate: cannot remove %s: %s", path, strerror(errno));
            continue;
        }
        /* the row goes only once the file is gone, so a crash here repeats, never forgets */
        sqlite3_bind_int64(del, 1, uid);
        if (sqlite3_step(del) == SQLITE_DONE)
            n++;
        sqlite3_reset(del);
    }
    if (n > 0)
        log_info("migrate: %lld avatar file(s) removed from %s", n, dir);
    migrate_files_sweep(dir);
cleanup:
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
}
