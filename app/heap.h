/*
 * glibc heap settings for a server that runs for weeks: one malloc arena and a fixed mmap
 * threshold, so the RSS follows the memory in use instead of what per-thread arenas keep.
 */
#ifndef LINTEL_APP_HEAP_H
#define LINTEL_APP_HEAP_H

#include <stddef.h>

/* Malloc arenas the server uses unless MALLOC_ARENA_MAX or GLIBC_TUNABLES say otherwise. */
#define HEAP_ARENAS 1

/* Blocks from this size up are mmapped and unmapped on free (glibc's default start, fixed). */
#define HEAP_MMAP_THRESHOLD (128 * 1024)

/* Sets both, before any thread starts; an operator's MALLOC_ARENA_MAX/GLIBC_TUNABLES win. */
void heap_tune(void);

/*
 * What malloc holds now (mallinfo2): *in_use in blocks handed out (mmapped ones included),
 * *free_bytes kept in the arenas for reuse. Their sum against the RSS tells a leak (in_use
 * grows) from fragmentation (free_bytes grows). Walks the arenas: for a scrape, not a request.
 */
void heap_usage(size_t *in_use, size_t *free_bytes);

#endif /* LINTEL_APP_HEAP_H */
