import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of a finished child process.
struct ProcessOutput: Sendable {
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
    }
    var termination: Termination
    var stdout: Data
    var stderr: Data
}

enum ProcessRunError: Error, Sendable {
    case launchFailed(String)
    case timedOut
    case cancelled
}

/// Runs a child process with stdin from /dev/null, collecting stdout and
/// stderr, and kills it with SIGKILL when it outlives `timeout` or the calling
/// task is cancelled.
enum ProcessRunner {
    static func run(
        executable: String,
        arguments: [String],
        environment: [String: String],
        timeout: Duration
    ) async throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let run = Run(process: process)

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutput, any Error>) in
                run.setContinuation(continuation)
                process.terminationHandler = { finished in
                    let termination: ProcessOutput.Termination = finished.terminationReason == .uncaughtSignal
                        ? .signalled(finished.terminationStatus) : .exited(finished.terminationStatus)
                    run.record { $0.termination = termination }
                }
                do {
                    try process.run()
                } catch {
                    run.fail(.launchFailed((error as NSError).localizedDescription), kill: false)
                    return
                }
                run.launched()
                let outHandle = outPipe.fileHandleForReading
                let errHandle = errPipe.fileHandleForReading
                Thread.detachNewThread {
                    let data = outHandle.readDataToEndOfFile()
                    run.record { $0.stdout = data }
                }
                Thread.detachNewThread {
                    let data = errHandle.readDataToEndOfFile()
                    run.record { $0.stderr = data }
                }
                let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanos))) {
                    run.fail(.timedOut, kill: true)
                }
            }
        } onCancel: {
            run.fail(.cancelled, kill: true)
        }
    }

    /// Shared state of one run; every access goes through the mutex.
    private final class Run: Sendable {
        struct State {
            var continuation: CheckedContinuation<ProcessOutput, any Error>?
            var finished = false
            var pendingFailure: ProcessRunError?
            var termination: ProcessOutput.Termination?
            var stdout: Data?
            var stderr: Data?
        }
        let process: Process
        let state = Mutex(State())

        init(process: Process) { self.process = process }

        func setContinuation(_ continuation: CheckedContinuation<ProcessOutput, any Error>) {
            let failure: ProcessRunError? = state.withLock { state in
                if let failure = state.pendingFailure {  // cancelled before we started
                    state.finished = true
                    return failure
                }
                state.continuation = continuation
                return nil
            }
            if let failure { continuation.resume(throwing: failure) }
        }

        func record(_ update: (inout State) -> Void) {
            let result: (CheckedContinuation<ProcessOutput, any Error>, ProcessOutput)? = state.withLock { state in
                update(&state)
                guard !state.finished, let continuation = state.continuation,
                      let termination = state.termination, let stdout = state.stdout, let stderr = state.stderr
                else { return nil }
                state.finished = true
                state.continuation = nil
                return (continuation, ProcessOutput(termination: termination, stdout: stdout, stderr: stderr))
            }
            if let (continuation, output) = result { continuation.resume(returning: output) }
        }

        /// If the run already failed (cancelled) before the launch, do not leave the child behind.
        func launched() {
            if state.withLock({ $0.finished }) { forceKill(process.processIdentifier) }
        }

        func fail(_ error: ProcessRunError, kill: Bool) {
            let continuation: CheckedContinuation<ProcessOutput, any Error>?? = state.withLock { state in
                guard !state.finished else { return .none }
                guard let continuation = state.continuation else {
                    state.pendingFailure = error
                    return .some(nil)
                }
                state.finished = true
                state.continuation = nil
                return .some(continuation)
            }
            guard case .some(let pending) = continuation else { return }
            // SIGKILL, as Go's exec.CommandContext does: a plugin inherits the Swift runtime's
            // blocked-signal mask, so SIGTERM may never be delivered.
            if kill, process.isRunning { forceKill(process.processIdentifier) }
            pending?.resume(throwing: error)
        }
    }

    /// Finds `command` the way a shell would: as given if it contains a `/`,
    /// otherwise in the directories of `PATH` from `environment`.
    static func locate(_ command: String, environment: [String: String]) -> String? {
        let fm = FileManager.default
        if command.contains("/") { return fm.isExecutableFile(atPath: command) ? command : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = (String(directory) as NSString).appendingPathComponent(command)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               fm.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }
}

private func forceKill(_ pid: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, SIGKILL)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, SIGKILL)
    #endif
}
