#include "CMallocTuning.h"

#include <stdint.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int plugboard_malloc_set_top_pad_and_mmap_threshold(size_t top_pad, size_t mmap_threshold) {
#if defined(__GLIBC__)
    if (top_pad > (size_t)INT32_MAX || mmap_threshold > (size_t)INT32_MAX) return 0;
    int padded = mallopt(M_TOP_PAD, (int)top_pad);
    int threshold = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    return padded == 1 && threshold == 1;
#else
    (void)top_pad;
    (void)mmap_threshold;
    return 0;
#endif
}

size_t plugboard_malloc_arena_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().arena;
#else
    return 0;
#endif
}
