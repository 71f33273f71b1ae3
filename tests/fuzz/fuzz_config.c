/*
 * libFuzzer harness for the configuration file: the input is written to an in-memory file and
 * loaded with config_load, as `lintel --config FILE` does (JSON, keys, types, ranges, plugins).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_fd = -1;
static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The environment overrides the file: none may leak in from the shell running the fuzzer. */
    clearenv();
    fuzz_fd = memfd_create("fuzz_config", 0);
    if (fuzz_fd < 0) {
        perror("fuzz_config: memfd_create");
        abort();
    }
    snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    char *err = NULL;
    int rc;

    if (ftruncate(fuzz_fd, 0) != 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
        abort();
    rc = config_load(&cfg, fuzz_path, &err);
    /* The contract: a message exactly when it fails; on success the caller releases. */
    if ((rc != 0) != (err != NULL))
        abort();
    if (rc == 0)
        config_release(&cfg);
    free(err);
    return 0;
}
