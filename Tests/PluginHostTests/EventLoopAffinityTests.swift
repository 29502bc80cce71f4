import NIOCore
import NIOPosix
import Testing

@testable import PluginHost

/// Workers that run on an event loop (`EventLoopTaskExecutor`) get connections of their own loop.
@Suite struct EventLoopAffinityTests {
    /// Posts once from a task that prefers `loop`, and reports whether it was on `loop` before and after.
    static func post(_ pool: PluginConnectionPool, on loop: any EventLoop) async throws -> (Int, Bool) {
        try await Task(executorPreference: EventLoopTaskExecutor(eventLoop: loop)) {
            let before = loop.inEventLoop
            let response = try await pool.post(Array("{}".utf8), headers: [("Content-Type", "application/json")], timeout: .seconds(5))
            return (response.status, before && loop.inEventLoop)
        }.value
    }

    @Test func eachLoopGetsItsOwnConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
        defer { server.stop() }
        let pool = try PluginConnectionPool(url: "http://127.0.0.1:\(server.port)/", connections: 4, eventLoopGroup: group)
        let loops = Array(group.makeIterator())
        for _ in 0..<5 {
            for loop in loops {
                let (status, stayed) = try await Self.post(pool, on: loop)
                #expect(status == 200)
                #expect(stayed)
            }
        }
        // One connection per loop, reused: never one of the other loop while a slot is free.
        #expect(server.connectionCount == 2)
        #expect(server.requests.count == 10)
        await pool.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func atTheLimitAnotherLoopsConnectionIsUsed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
        defer { server.stop() }
        let pool = try PluginConnectionPool(url: "http://127.0.0.1:\(server.port)/", connections: 1, eventLoopGroup: group)
        let loops = Array(group.makeIterator())
        for loop in loops + loops {
            let (status, _) = try await Self.post(pool, on: loop)
            #expect(status == 200)
        }
        // A caller not on a loop of the pool's group takes what is idle, as before.
        let plain = try await pool.post([], headers: [], timeout: .seconds(5))
        #expect(plain.status == 200)
        #expect(server.connectionCount == 1)
        await pool.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func theHostsExecutorsCoverTheSingletonLoops() {
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        #expect(EventLoopTaskExecutor.singletonLoops.count == loops.count)
        #expect(zip(EventLoopTaskExecutor.singletonLoops, loops).allSatisfy { $0.eventLoop === $1 })
    }
}
