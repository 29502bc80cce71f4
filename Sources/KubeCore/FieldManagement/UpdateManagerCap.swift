/// Keeps the number of Update entries bounded, as kube-apiserver does after
/// every non-apply write, so that objects touched by many controllers do not
/// grow without end.
///
/// When there are more than `limit` Update entries, the oldest are folded,
/// per API version, into one entry of the manager `ancient-changes`, until
/// the count is back at the limit. The bucket takes the time of the most
/// recent entry folded into it. Apply entries are never folded.
enum UpdateManagerCap {
    static let limit = 10
    static let bucketManager = "ancient-changes"

    static func apply(to table: inout ManagedFieldsTable, limit: Int = limit) {
        var updaters = table.entries.filter { $0.operation == .update }
        guard updaters.count > limit else { return }
        updaters.sort { a, b in
            let (sa, sb) = (ManagedFieldsTime.seconds(a.time), ManagedFieldsTime.seconds(b.time))
            return sa != sb ? sa < sb : a.identity.identifier < b.identity.identifier
        }
        var remaining = updaters.count
        var firstOfVersion: [String: ManagerIdentity] = [:]
        for entry in updaters where remaining > limit {
            let bucket = ManagerIdentity(manager: bucketManager, operation: .update, apiVersion: entry.apiVersion, subresource: nil)
            guard let first = firstOfVersion[entry.apiVersion] else {
                // The oldest of its version waits: it only moves once a second one needs folding.
                firstOfVersion[entry.apiVersion] = entry.identity
                continue
            }
            if table[bucket] == nil, var moved = table[first] {
                table[first] = nil
                moved.manager = bucketManager
                moved.subresource = nil
                table[bucket] = moved
            }
            guard var merged = table[bucket], let current = table[entry.identity] else { continue }
            table[entry.identity] = nil
            merged.fields.formUnion(current.fields)
            merged.time = current.time
            table[bucket] = merged
            remaining -= 1
        }
    }
}
