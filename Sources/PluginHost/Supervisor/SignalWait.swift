/// Waits for a condition whose owner resumes the continuation registered here (all of them at
/// once, when the condition comes true), and gives up with `CancellationError` when the calling
/// task is cancelled first.
///
/// `register` runs once, and must run under the owner's lock: it returns the outcome when it is
/// known already (the condition holds, the owner has ended, or the task is cancelled: checked
/// under the lock, so that a cancellation handler that ran before found nothing to resume), and
/// otherwise stores the continuation and returns nil. `unregister` (under the lock too) takes the
/// stored continuation back out, if the owner has not resumed it yet.
func waitForSignal(
    register: (CheckedContinuation<Void, any Error>) -> Result<Void, any Error>?,
    unregister: @escaping @Sendable () -> CheckedContinuation<Void, any Error>?
) async throws {
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let now = register(continuation) { continuation.resume(with: now) }
        }
    } onCancel: {
        unregister()?.resume(throwing: CancellationError())
    }
}
