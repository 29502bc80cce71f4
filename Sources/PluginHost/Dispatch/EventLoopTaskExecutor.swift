import NIOCore
import NIOPosix

/// A `TaskExecutor` that runs the jobs of the tasks preferring it on one NIO event loop.
///
/// A plugin controller's workers prefer the executor of an event loop of the plugin's connection pool, and
/// the pool gives a call a connection of the caller's loop (`PluginConnectionPool`): the request is then
/// written without a hop to the loop, and the task resumes on the loop that read the response, as a job of
/// the same loop. That saves two thread hand-offs per call (an eventfd wake-up of the loop and a wake-up of
/// a thread of the global executor), which on a loaded machine cost more than the call itself.
///
/// The jobs are short (a reconcile between two suspension points); nothing in them blocks.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// One executor per event loop of `MultiThreadedEventLoopGroup.singleton`, the group every plugin
    /// connection pool uses.
    public static let singletonLoops: [EventLoopTaskExecutor] = {
        var executors: [EventLoopTaskExecutor] = []
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            executors.append(EventLoopTaskExecutor(eventLoop: loop))
        }
        return executors
    }()
}
