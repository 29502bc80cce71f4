import CWorkQueueSupport

/// A value guarded by a `plugboard_lock` (see `CWorkQueueSupport.h`): a lock that backs off
/// while it spins and parks only after spinning for a while.
///
/// The work queue's critical sections are tens to hundreds of nanoseconds long and are
/// entered by every add, get and `done`. With `Synchronization.Mutex`, whose waiters look at
/// the lock after every pause, two threads taking turns on such sections spend most of their
/// time moving the lock's cache line between cores; a waiter that backs off lets the holder run
/// a burst of sections at single-thread speed.
///
/// The lock word and the value share one allocation aligned to a cache line, the value right
/// after the word, so taking the lock also brings in the start of the value, and nothing else
/// shares the line.
///
/// `@unchecked Sendable`: the value is reached only through `withLock` and
/// `withLockIfAvailable`, which hold the lock for the whole access. The owner calls
/// `deallocate()` once, when nothing can reach the value any more (its own `deinit`).
@usableFromInline
struct SpinLocked<Value>: @unchecked Sendable {
    @usableFromInline let lock: UnsafeMutablePointer<plugboard_lock>
    @usableFromInline let value: UnsafeMutablePointer<Value>

    @usableFromInline static var valueOffset: Int {
        let lockSize = MemoryLayout<plugboard_lock>.stride
        let alignment = MemoryLayout<Value>.alignment
        return (lockSize + alignment - 1) / alignment * alignment
    }

    @usableFromInline
    init(_ initial: Value) {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: Self.valueOffset + MemoryLayout<Value>.stride,
            alignment: max(64, MemoryLayout<Value>.alignment))
        lock = raw.bindMemory(to: plugboard_lock.self, capacity: 1)
        lock.initialize(to: plugboard_lock(word: 0))
        value = (raw + Self.valueOffset).bindMemory(to: Value.self, capacity: 1)
        value.initialize(to: initial)
    }

    /// Destroys the value and frees the memory. Nothing may use this afterwards.
    @usableFromInline
    func deallocate() {
        value.deinitialize(count: 1)
        UnsafeMutableRawPointer(lock).deallocate()
    }

    /// Runs `body` on the value with the lock held, waiting for the lock as long as it takes.
    @inlinable
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        plugboard_lock_lock(lock)
        defer { plugboard_lock_unlock(lock) }
        return try body(&value.pointee)
    }

    /// Runs `body` on the value with the lock held if the lock is free now; nil (and `body` not
    /// run) if it is taken.
    @inlinable
    func withLockIfAvailable<R>(_ body: (inout Value) throws -> R) rethrows -> R? {
        guard plugboard_lock_try(lock) else { return nil }
        defer { plugboard_lock_unlock(lock) }
        return try body(&value.pointee)
    }
}
