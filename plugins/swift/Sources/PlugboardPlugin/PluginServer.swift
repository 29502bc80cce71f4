import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reconcile function of a plugin. It runs on the thread of the
/// connection that carried the request; calls on different connections run
/// at the same time, so it must be safe to call concurrently (`@Sendable`).
/// A thrown error is answered as `{"actions": [], "error": "<error>"}`: the
/// host records it and retries the key with backoff.
public typealias Reconciler = @Sendable (ReconcileRequest) throws -> ReconcileResponse

/// A failure to start serving.
public struct PluginServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ what: String, errno code: Int32? = nil) {
        description = code.map { "\(what): \(String(cString: strerror($0)))" } ?? what
    }
}

/// An HTTP/1.1 server that speaks the Plugboard plugin protocol:
///
/// - `POST /reconcile` with a JSON `ReconcileRequest` → your reconciler → a JSON response;
/// - `GET /healthz` → 200 `ok` (the host polls it before it sends work);
/// - a body that is not a request → 400 `{"error": …}`, a body over 16 MiB → 413,
///   a chunked body → 411, another method → 405, another path → 404.
///
/// It binds `127.0.0.1` on the port in `PLUGBOARD_PORT` (default 8080) — the
/// host starts a supervised plugin with that variable set — and serves each
/// connection on its own thread, keeping it open between requests.
public struct PluginServer: Sendable {
    public var host: String
    public var port: Int
    public var reconcilePath: String
    public var healthPath: String
    public var maxBodyBytes: Int
    /// Shown in the start-up line on standard error.
    public var name: String

    public static let defaultPort = 8080
    public static let portVariable = "PLUGBOARD_PORT"

    /// - Parameter port: nil reads `PLUGBOARD_PORT`, else 8080. 0 picks a free port.
    public init(name: String = "plugin", host: String = "127.0.0.1", port: Int? = nil,
                reconcilePath: String = "/reconcile", healthPath: String = "/healthz", maxBodyBytes: Int = 16 << 20) throws {
        if let port {
            self.port = port
        } else if let text = ProcessInfo.processInfo.environment[Self.portVariable], !text.isEmpty {
            guard let parsed = Int(text) else { throw PluginServerError("\(Self.portVariable)=\(text) is not a port number") }
            self.port = parsed
        } else {
            self.port = Self.defaultPort
        }
        guard (0...65535).contains(self.port) else { throw PluginServerError("port \(self.port) is outside 0...65535") }
        self.name = name
        self.host = host
        self.reconcilePath = reconcilePath
        self.healthPath = healthPath
        self.maxBodyBytes = maxBodyBytes
    }

    /// Serves until the process ends (SIGTERM or SIGINT end it; requests in
    /// flight are cut off, and the host retries them). Throws only when it
    /// cannot listen.
    public func run(_ reconcile: @escaping Reconciler) throws -> Never {
        signal(SIGPIPE, SIG_IGN)
        let listener = try makeListener()
        let bound = boundPort(listener) ?? port
        FileHandle.standardError.write(Data("\(name): listening on http://\(host):\(bound) (reconcile \(reconcilePath), health \(healthPath))\n".utf8))
        let router = Router(reconcilePath: reconcilePath, healthPath: healthPath, reconcile: reconcile)
        let maxBodyBytes = maxBodyBytes
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(50_000); continue  // wait for connections to close
                default: throw PluginServerError("accept failed", errno: errno)
                }
            }
            Thread.detachNewThread {
                HTTPConnection(fd: fd, maxBodyBytes: maxBodyBytes).serve(router.route)
            }
        }
    }

    private func makeListener() throws -> Int32 {
        var address = sockaddr_in()
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw PluginServerError("\(host) is not an IPv4 address") }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw PluginServerError("socket failed", errno: errno) }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw PluginServerError("cannot bind \(host):\(port)", errno: code)
        }
        guard listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw PluginServerError("cannot listen on \(host):\(port)", errno: code)
        }
        return fd
    }

    private func boundPort(_ fd: Int32) -> Int? {
        var address = sockaddr_in()
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        return result == 0 ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}

/// Maps requests to answers. Immutable, so all connection threads share one.
struct Router: Sendable {
    let reconcilePath: String
    let healthPath: String
    let reconcile: Reconciler

    func route(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case healthPath:
            guard request.method == "GET" || request.method == "HEAD" else {
                return HTTPResponse(status: 405, contentType: "text/plain; charset=utf-8", body: Array("use GET\n".utf8), extraHeaders: [("Allow", "GET, HEAD")])
            }
            return .text(200, "ok")
        case reconcilePath:
            guard request.method == "POST" else {
                var response = HTTPResponse.jsonError(405, "use POST for reconcile requests")
                response.extraHeaders.append(("Allow", "POST"))
                return response
            }
            return handleReconcile(request.body)
        default:
            return .jsonError(404, "no such path: \(request.path)")
        }
    }

    func handleReconcile(_ body: [UInt8]) -> HTTPResponse {
        let request: ReconcileRequest
        do {
            guard let json = try JSONSerialization.jsonObject(with: Data(body)) as? JSONObject else {
                return .jsonError(400, "the body must be a JSON object (a ReconcileRequest)")
            }
            request = try ReconcileRequest(json: json)
        } catch let error as ProtocolError {
            return .jsonError(400, "invalid reconcile request: \(error)")
        } catch {
            return .jsonError(400, "the body is not JSON: \(error.localizedDescription)")
        }
        var response: ReconcileResponse
        do {
            response = try reconcile(request)
        } catch {
            response = ReconcileResponse(error: "\(error)")
        }
        let json = response.json
        // JSONSerialization traps (rather than throws) on values it cannot
        // write, such as a Date or a NaN, so check first.
        guard JSONSerialization.isValidJSONObject(json),
              let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            let message = "the plugin built a response that is not JSON (only dictionaries, arrays, strings, finite numbers, booleans and NSNull)"
            FileHandle.standardError.write(Data("\(request.key): \(message)\n".utf8))
            return .jsonError(500, message)
        }
        return HTTPResponse(status: 200, contentType: "application/json", body: Array(data))
    }
}
