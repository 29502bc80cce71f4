import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bearer token kept in a file that may be rotated (the service account
/// token, a kubeconfig `tokenFile`). The file is re-read whenever its
/// modification time, size or inode changes (symlinks followed, so the atomic
/// `..data` swap Kubernetes uses is seen); otherwise the cached token is returned.
public final class TokenFileSource: Sendable {
    public let path: String
    private struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }
    private let cache = Mutex<(stamp: Stamp, token: String)?>(nil)

    public init(path: String) {
        self.path = path
    }

    /// The current token, with surrounding whitespace removed.
    public func token() throws(KubeconfigError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .fileMissing(path: path) }  // follows symlinks
        #if canImport(Darwin)
        let mtime = info.st_mtimespec
        #else
        let mtime = info.st_mtim
        #endif
        let stamp = Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            seconds: Int(mtime.tv_sec), nanoseconds: Int(mtime.tv_nsec))
        if let cached = cache.withLock({ $0 }), cached.stamp == stamp { return cached.token }
        let text = try KubeconfigLoader.readText(path)
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if token.isEmpty { throw .wrongShape(path: path, field: "<file>", problem: "token file is empty") }
        cache.withLock { $0 = (stamp, token) }
        return token
    }
}
