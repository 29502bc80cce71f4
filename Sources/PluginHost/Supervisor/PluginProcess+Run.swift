import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PluginConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PluginProcess {
    /// How one life of the child ended.
    enum LifeEnd {
        /// It could not be started (the error is logged). Retried after the backoff: the config may be fixed.
        case notStarted
        /// It exited, or was killed for not becoming healthy in time. `upFor`: how long it had been healthy.
        case exited(ExitStatus, upFor: Duration?)
        /// The task was cancelled; the child was stopped and reaped.
        case stopped
    }

    /// How often a starting plugin's health path is polled.
    static let healthPollInterval = Duration.milliseconds(100)
    /// The longest a single health request may take.
    static let healthRequestTimeout = Duration.seconds(1)

    /// Starts the plugin and keeps it running until the task is cancelled;
    /// then stops it and returns once it is reaped. Calling `run()` while it
    /// runs already logs an error and returns.
    public func run() async {
        guard beginRun() else {
            logger.error("run() called while the plugin is already supervised; ignored")
            return
        }
        var backoff = RestartBackoff(command.restartBackoff)
        var first = true
        supervise: while !Task.isCancelled {
            if !first { countRestart() }
            first = false
            enter(.starting)
            switch await live() {
            case .stopped:
                break supervise
            case .notStarted:
                enter(.down(exitStatus: nil, signal: nil))
            case .exited(let exit, let upFor):
                enter(.down(exitStatus: exit.code, signal: exit.signal))
                if let upFor, upFor >= stableRunDuration { backoff.reset() }
            }
            if Task.isCancelled { break supervise }
            let delay = backoff.nextDelay()
            logger.info("plugin process restarts after a delay", metadata: ["delay": "\(delay)"])
            do {
                try await Task.sleep(for: delay)
            } catch {
                break supervise
            }
        }
        endRun()
    }

    /// One life of the child: start, wait for health, wait for the exit.
    private func live() async -> LifeEnd {
        let launch: LaunchSpec
        let spawned: (child: ChildProcess, stdout: Int32, stderr: Int32)
        do throws(SpawnError) {
            let port = try reservePort()
            launch = try launchSpec(port: port)
            spawned = try ChildProcess.spawn(launch)
        } catch {
            logger.error(
                "plugin \(name): cannot start \(command.path.resolved): \(error)",
                metadata: ["path": "\(command.path.resolved)", "workingDirectory": "\(command.workingDirectory.resolved)"]
            )
            return .notStarted
        }
        let child = spawned.child
        setChild(child)
        defer { setChild(nil) }
        ChildOutput.forward(spawned.stdout, stream: "stdout", level: .info, logger: logger)
        ChildOutput.forward(spawned.stderr, stream: "stderr", level: .info, logger: logger)
        logger.info(
            "plugin process started",
            metadata: ["pid": "\(child.pid)", "executable": "\(launch.executable)", "url": "\(baseURL)"]
        )

        let deadline = ContinuousClock.now + command.startTimeout
        while true {
            if Task.isCancelled { return await stop(child) }
            if let exit = child.exit { return exited(child, exit, upSince: nil) }
            if await answersHealthCheck(of: child, before: deadline) { break }
            if ContinuousClock.now >= deadline {
                logger.error(
                    "plugin \(name) did not answer \(command.healthPath) with 2xx within \(command.startTimeout); killing it",
                    metadata: ["pid": "\(child.pid)"]
                )
                child.signalGroup(SIGKILL)
                let exit = await child.waitForExit(cancellable: false) ?? ExitStatus(code: nil, signal: nil)
                return exited(child, exit, upSince: nil)
            }
            let nextPoll = Swift.min(ContinuousClock.now + Self.healthPollInterval, deadline)
            _ = await child.waitForExit(until: nextPoll, cancellable: true)
        }

        let upSince = ContinuousClock.now
        enter(.up)
        logger.info("plugin is up", metadata: ["pid": "\(child.pid)", "url": "\(baseURL)"])
        guard let exit = await child.waitForExit(cancellable: true) else { return await stop(child) }
        return exited(child, exit, upSince: upSince)
    }

    private func exited(_ child: ChildProcess, _ exit: ExitStatus, upSince: ContinuousClock.Instant?) -> LifeEnd {
        let upFor = upSince.map { ContinuousClock.now - $0 }
        logger.warning(
            "plugin process exited: \(exit)",
            metadata: ["pid": "\(child.pid)", "upFor": "\(upFor.map { "\($0)" } ?? "never up")"]
        )
        warnAboutStrays(child)
        return .exited(exit, upFor: upFor)
    }

    /// SIGTERM to the group, SIGKILL after the grace period; returns once the child is reaped.
    private func stop(_ child: ChildProcess) async -> LifeEnd {
        logger.info("stopping plugin process", metadata: ["pid": "\(child.pid)", "grace": "\(stopGracePeriod)"])
        child.signalGroup(SIGTERM)
        var exit = await child.waitForExit(until: .now + stopGracePeriod, cancellable: false)
        if exit == nil {
            logger.warning(
                "plugin process still running \(stopGracePeriod) after SIGTERM; sending SIGKILL",
                metadata: ["pid": "\(child.pid)"]
            )
            child.signalGroup(SIGKILL)
            exit = await child.waitForExit(cancellable: false)
        }
        logger.info("plugin process stopped: \(exit ?? ExitStatus(code: nil, signal: nil))", metadata: ["pid": "\(child.pid)"])
        warnAboutStrays(child)
        return .stopped
    }

    private func warnAboutStrays(_ child: ChildProcess) {
        guard child.leftStrays else { return }
        logger.warning(
            "processes of the plugin's group outlived it and are not the host's to reap; run the host under an init that reaps orphans",
            metadata: ["pgid": "\(child.pid)"]
        )
    }

    /// The host's environment plus `command.env` plus the port; a bare
    /// program name is looked up in that environment's `PATH`, as `env` would.
    func launchSpec(port: Int) throws(SpawnError) -> LaunchSpec {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(command.env) { _, configured in configured }
        environment[command.portEnv] = String(port)
        let executable = try ExecutableLookup.resolve(command.path.resolved, searchPath: environment["PATH"])
        try ExecutableLookup.checkDirectory(command.workingDirectory.resolved)
        return LaunchSpec(
            executable: executable,
            arguments: [executable] + command.args,
            environment: environment,
            workingDirectory: command.workingDirectory.resolved
        )
    }

    /// One health probe; true on 2xx. Gives up at once when the child exits,
    /// rather than waiting for a request that cannot be answered.
    private func answersHealthCheck(of child: ChildProcess, before deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.probeHealth(before: deadline) }
            group.addTask {
                _ = await child.waitForExit(until: deadline, cancellable: true)
                return false
            }
            let healthy = await group.next() ?? false
            group.cancelAll()
            return healthy
        }
    }

    /// `GET healthPath` if anything listens on the port; true on 2xx.
    /// `Connection: close`, so no idle probe connection is left in the pool:
    /// a single-threaded plugin server could otherwise sit on it and never
    /// accept the first reconcile.
    private func probeHealth(before deadline: ContinuousClock.Instant) async -> Bool {
        let remaining = deadline - .now
        guard remaining > .zero, let port = try? reservePort(), LoopbackPort.isListening(port) else { return false }
        let path = command.healthPath.hasPrefix("/") ? command.healthPath : "/" + command.healthPath
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Connection", value: "close")
        let timeout = Swift.min(remaining, Self.healthRequestTimeout)
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.saturatingNanoseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(response.status.code)
        } catch {
            return false
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    fileprivate var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
