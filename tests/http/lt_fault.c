/*
 * Fault injection for tests, loaded into the server with LD_PRELOAD: fsync of a file in an
 * avatars directory whose name starts with '.' (the plugin's temporary files) fails with EIO.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    char link[64], path[4096];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n > 0) {
        path[n] = '\0';
        if (strstr(path, "/avatars/.") != NULL) {
            errno = EIO;
            return -1;
        }
    }
    return real(fd);
}
