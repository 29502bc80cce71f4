#ifndef PLUGBOARD_CJSONSCAN_H
#define PLUGBOARD_CJSONSCAN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

/// The number of leading bytes of `p[0..<n]` that may stand inside a JSON string as they are: no quote,
/// no backslash, no control character (below 0x20). Whole 16-byte blocks are tested with vector
/// compares; the position inside the first block that has such a byte is exact. Bytes after the last
/// whole block are not looked at, so the result is at least `n - 15` only when no special byte was found
/// (the caller tests the tail byte by byte).
///
/// `static inline`, so that Swift callers get it inlined rather than called.
static inline size_t plugboard_json_plain_run(const uint8_t *p, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i controlMax = _mm_set1_epi8(0x1F);
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        // An unsigned byte is at most 0x1F exactly when max(byte, 0x1F) == 0x1F.
        __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, controlMax), controlMax);
        __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
        unsigned mask = (unsigned)_mm_movemask_epi8(special);
        if (mask != 0) return i + (size_t)__builtin_ctz(mask);
        i += 16;
    }
#elif defined(__ARM_NEON)
    const uint8x16_t quote = vdupq_n_u8('"');
    const uint8x16_t backslash = vdupq_n_u8('\\');
    const uint8x16_t space = vdupq_n_u8(0x20);
    while (i + 16 <= n) {
        uint8x16_t v = vld1q_u8(p + i);
        uint8x16_t special = vorrq_u8(vorrq_u8(vceqq_u8(v, quote), vceqq_u8(v, backslash)), vcltq_u8(v, space));
        if (vmaxvq_u8(special) != 0) {
            while (p[i] != '"' && p[i] != '\\' && p[i] >= 0x20) i++;
            return i;
        }
        i += 16;
    }
#endif
    return i;
}

#endif
