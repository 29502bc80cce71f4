#ifndef PLUGBOARD_CMALLOCTUNING_H
#define PLUGBOARD_CMALLOCTUNING_H

#include <stddef.h>

/// Sets glibc malloc's `M_TOP_PAD` and `M_MMAP_THRESHOLD` (see `mallopt(3)`). Returns 1 when both
/// were set, 0 when this C library is not glibc (nothing is done) or glibc refused a value.
int plugboard_malloc_set_top_pad_and_mmap_threshold(size_t top_pad, size_t mmap_threshold);

/// The bytes glibc's arenas have taken from the system, not counting blocks mapped on their own
/// (`mallinfo2().arena`); 0 when this C library is not glibc.
size_t plugboard_malloc_arena_bytes(void);

#endif
