#include "CWorkQueueSupport.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <sched.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__) || defined(__arm__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

/// Pauses between two looks at a taken lock: the first wait, and the cap of the doubling. A
/// pause is about 16 ns on the machines measured, so a waiter looks at most every ~33 µs
/// once backed off; the holder runs that long a burst. (A cap of 256 let the holder's bursts
/// be shorter: the workqueue benchmark with metrics was about 10% slower.)
enum { first_backoff = 8, max_backoff = 2048 };
/// Pauses spun in all before parking: about 0.26 ms at 16 ns a pause, far longer than any
/// critical section of the queue (a holder that was preempted takes longer).
enum { spin_budget = 1 << 14 };

static void park(plugboard_lock *lock) {
#if defined(__linux__)
    // Sleeps only while the word is still 2; a release in between makes the call return at once.
    syscall(SYS_futex, &lock->word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
#else
    sched_yield();
#endif
}

void plugboard_lock_wake(plugboard_lock *lock) {
#if defined(__linux__)
    syscall(SYS_futex, &lock->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
    (void)lock;
#endif
}

void plugboard_lock_lock_contended(plugboard_lock *lock) {
    uint32_t backoff = first_backoff;
    uint32_t spun = 0;
    while (spun < spin_budget) {
        for (uint32_t i = 0; i < backoff; i++) cpu_relax();
        spun += backoff;
        if (plugboard_lock_try(lock)) return;  // looks first, swaps only if it saw the lock free
        if (backoff < max_backoff) backoff <<= 1;
    }
    // Park until the lock is free. Taking it with 2 (not 1) is conservative: its release then
    // wakes a parked thread, if one is left, which looks again.
    while (__c11_atomic_exchange(plugboard_lock_word(lock), 2, __ATOMIC_ACQUIRE) != 0) park(lock);
}
