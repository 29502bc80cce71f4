#ifndef PLUGBOARD_CWORKQUEUESUPPORT_H
#define PLUGBOARD_CWORKQUEUESUPPORT_H

#include <stdbool.h>
#include <stdint.h>

// What the work queue needs below Swift: a cache prefetch hint, and a lock for its short
// critical sections. Everything on the fast paths is `static inline`, so that Swift callers get
// a few instructions inlined rather than calls.

/// Asks the CPU to start loading the cache line at `p`, without waiting for it. Nothing is
/// read and nothing can fault: any address is allowed.
static inline void plugboard_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// A mutual-exclusion lock for critical sections of tens to hundreds of nanoseconds, taken by
/// a few threads at a very high rate.
///
/// A thread that finds it taken spins with exponential backoff (the pause between two looks
/// at the lock doubles, up to a cap), and parks in the kernel (a futex on Linux) only after
/// spinning for a while, as when the holder was preempted. Backing off keeps a waiter from
/// pulling the lock's cache line away from the holder at every instruction: the holder runs
/// a burst of critical sections at the speed of one thread, and the line changes cores once
/// per burst rather than once per section. The lock is not fair: a thread that releases it
/// may take it again before a spinning thread looks.
///
/// `word`: 0 free, 1 taken, 2 taken and some thread may be parked (the release wakes one).
/// Zero-initialized memory is a free lock.
typedef struct {
    uint32_t word;  // accessed only atomically, through `plugboard_lock_word`
} plugboard_lock;

static inline _Atomic uint32_t *plugboard_lock_word(plugboard_lock *lock) {
    return (_Atomic uint32_t *)&lock->word;
}

/// The slow path of `plugboard_lock_lock`: spin with backoff, then park.
void plugboard_lock_lock_contended(plugboard_lock *lock);

/// Wakes one thread parked on `lock` (called by a release that found the word at 2).
void plugboard_lock_wake(plugboard_lock *lock);

/// One attempt to take the lock: true if taken.
static inline bool plugboard_lock_acquire(plugboard_lock *lock) {
    uint32_t expected = 0;
    return __c11_atomic_compare_exchange_strong(plugboard_lock_word(lock), &expected, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/// Takes the lock if it is free now; true if taken. It looks before it tries: a failed
/// compare-and-swap takes the lock's cache line away from the holder, a load only shares it.
static inline bool plugboard_lock_try(plugboard_lock *lock) {
    return __c11_atomic_load(plugboard_lock_word(lock), __ATOMIC_RELAXED) == 0 && plugboard_lock_acquire(lock);
}

/// Takes the lock, waiting as long as it takes.
static inline void plugboard_lock_lock(plugboard_lock *lock) {
    if (!plugboard_lock_acquire(lock)) plugboard_lock_lock_contended(lock);
}

/// Releases the lock (taken by the calling thread).
static inline void plugboard_lock_unlock(plugboard_lock *lock) {
    if (__c11_atomic_exchange(plugboard_lock_word(lock), 0, __ATOMIC_RELEASE) == 2) plugboard_lock_wake(lock);
}

#endif
