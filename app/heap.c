/*
 * glibc heap settings for a server that runs for weeks (docs/hardening.md "Soak"): the why of
 * each value is there, with the soak and bench figures that chose it.
 */
#include "heap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void heap_tune(void)
{
    const char *tunables = getenv("GLIBC_TUNABLES");

    /*
     * glibc gives each thread that contends for the lock its own arena (up to 8 per core).
     * Under the soak every pool thread had one, and each kept what its requests had freed:
     * 32 MiB of arenas for 15 MiB in use, growing for 30 minutes. One arena shares the free
     * memory between threads; small blocks still go through each thread's tcache without
     * the lock.
     */
    if (getenv("MALLOC_ARENA_MAX") == NULL &&
        (tunables == NULL || strstr(tunables, "arena_max") == NULL))
        mallopt(M_ARENA_MAX, HEAP_ARENAS);
    /*
     * Setting it turns glibc's dynamic threshold off: otherwise the first large block freed
     * raises the threshold to its size (up to 32 MiB), and later large blocks (a big reply,
     * a statistic over many rows) come from the arena and stay in the RSS once freed.
     */
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL &&
        (tunables == NULL || strstr(tunables, "mmap_threshold") == NULL))
        mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
}

void heap_usage(size_t *in_use, size_t *free_bytes)
{
    struct mallinfo2 mi = mallinfo2();

    *in_use = mi.uordblks + mi.hblkhd;
    *free_bytes = mi.fordblks;
}
