import Hummingbird
import KubeCore

/// The control API under `/dev/`, for tests and reliability experiments:
///
/// - `POST /dev/faults` `{"verb":"list","resource":"configmaps","code":429,"retryAfterSeconds":1,"count":2}`
/// - `DELETE /dev/faults` clears every rule and the latency
/// - `POST /dev/latency` `{"milliseconds":200}`
/// - `POST /dev/watches/cut` ends every open watch
/// - `POST /dev/history/compact` forgets the event history (resuming watches get 410)
/// - `POST /dev/bookmarks` sends a BOOKMARK to every watch that allows them
enum DevControl {
    static func handle(_ segments: [String], method: HTTPRequest.Method, body: JSON?, store: ObjectStore, faults: FaultInjector) async throws -> Response {
        switch (method, segments) {
        case (.post, ["faults"]):
            faults.add(try FaultInjector.rule(from: body ?? .emptyObject))
        case (.delete, ["faults"]):
            faults.reset()
        case (.post, ["latency"]):
            guard let ms = body?["milliseconds"]?.intValue, ms >= 0, ms <= 600_000 else {
                throw APIError.badRequest("latency: \"milliseconds\" must be an integer from 0 to 600000")
            }
            faults.setLatency(.milliseconds(ms))
        case (.post, ["watches", "cut"]):
            store.cutAllWatches()
        case (.post, ["history", "compact"]):
            store.compactHistory()
        case (.post, ["bookmarks"]):
            store.sendBookmarks()
        default:
            throw APIError.notFoundPath()
        }
        return APIResponder.json(["kind": "Status", "apiVersion": "v1", "status": "Success",
                                  "metadata": ["resourceVersion": .string(String(store.currentResourceVersion))]])
    }
}
