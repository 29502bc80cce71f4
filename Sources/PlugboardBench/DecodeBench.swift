import ArgumentParser
import Foundation
import KubeClient

/// Decoding LIST bodies and watch streams with the byte-preserving scanner
/// (`KubeObjectList`, `WatchLineDecoder`) against Foundation's
/// `JSONSerialization` on the same bytes. No network: bodies are generated.
struct DecodeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "LIST and watch decoding: KubeObjectList/WatchLineDecoder vs JSONSerialization, in memory.")

    @Option(help: "Objects per LIST.") var objects = 10_000
    @Option(help: "Watch events in the stream.") var events = 100_000
    @Option(help: "Timed runs (after one warm-up run).") var runs = 5
    @Option(help: "Chunk size the watch stream is fed in.") var chunk = 16_384
    @Flag(inversion: .prefixedNo, help: "Also time JSONSerialization on the same bodies (off: only Plugboard's decoders, for profiling).")
    var foundation = true

    func run() async throws {
        for (label, managed) in [("~1 KB ConfigMaps", false), ("~4 KB ConfigMaps with managedFields", true)] {
            let body = decodeBenchList(objects: objects, withManagedFields: managed)
            print("LIST of \(objects) \(label): \(body.count) bytes (\(body.count / objects) per object), runs=\(runs)")
            let plain = try measure { _ = try KubeObjectList.decode(bytes: body).items.count }
            let cut = try measure { _ = try KubeObjectList.decode(bytes: body, cutManagedFields: true).items.count }
            report("KubeObjectList.decode", plain, bytes: body.count, objects: objects)
            report("KubeObjectList.decode cutManagedFields", cut, bytes: body.count, objects: objects)
            guard self.foundation else { continue }
            let data = Data(body)
            let foundation = try measure { _ = try JSONSerialization.jsonObject(with: data) }
            report("JSONSerialization.jsonObject", foundation, bytes: body.count, objects: objects)
            print(String(format: "  ratio at median: decode %.1fx, decode+cut %.1fx faster than JSONSerialization",
                         foundation.median / plain.median, foundation.median / cut.median))
        }

        let stream = decodeBenchWatchStream(events: events)
        print("watch stream of \(events) MODIFIED events: \(stream.count) bytes (\(stream.count / events) per event), chunks of \(chunk) bytes")
        for cutting in [false, true] {
            let samples = try measure {
                var decoder = WatchLineDecoder(cutManagedFields: cutting)
                var count = 0
                var start = 0
                while start < stream.count {
                    let end = min(start + chunk, stream.count)
                    count += try decoder.feed(stream[start..<end]).count
                    start = end
                }
                guard count == events else { throw ValidationError("decoded \(count) events, expected \(events)") }
            }
            report(cutting ? "WatchLineDecoder cutManagedFields" : "WatchLineDecoder", samples, bytes: stream.count, objects: events, unit: "events")
        }
    }

    private func measure(_ body: () throws -> Void) throws -> Samples {
        var samples = Samples()
        for run in 0...runs {
            let start = ContinuousClock.now
            try body()
            if run > 0 { samples.seconds.append(elapsed(start)) }  // the first run warms up
        }
        return samples
    }

    private func report(_ name: String, _ s: Samples, bytes: Int, objects: Int, unit: String = "objects") {
        let mb = Double(bytes) / 1_048_576
        print(String(format: "  %-40@ min %7.1f ms  median %7.1f ms  %6.0f MB/s  %9.0f %@/s",
                     name as NSString, s.min * 1000, s.median * 1000, mb / s.median, Double(objects) / s.median, unit as NSString))
    }
}

/// A ConfigMap as the API server writes it: about 1 KB, or about 4 KB with
/// managedFields from two managers.
private func decodeBenchConfigMap(_ i: Int, withManagedFields: Bool, resourceVersion: Int) -> String {
    let filler = String(repeating: "x", count: 560)
    var managed = ""
    if withManagedFields {
        let fields = (0..<40).map { #""f:key-\#($0)":{}"# }.joined(separator: ",")
        let entry = { (manager: String, op: String) in
            #"{"manager":"\#(manager)","operation":"\#(op)","apiVersion":"v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},\#(fields)},"f:metadata":{"f:labels":{".":{},"f:app":{},"f:shard":{}},"f:annotations":{".":{},"f:note":{}}}}}"#
        }
        managed = #","managedFields":["# + entry("kubectl-client-side-apply", "Update") + "," + entry("plugboard-controller", "Apply") + "]"
    }
    let extra = withManagedFields ? "," + (0..<12).map { #""key-\#($0)":"value-\#($0)-\#(i)""# }.joined(separator: ",") : ""
    return #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-\#(i)","namespace":"default","uid":"6f1c2e7a-3b5d-4c8e-9f0a-\#(String(format: "%012d", i))","resourceVersion":"\#(resourceVersion)","creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"bench","shard":"\#(i % 10)"},"annotations":{"note":"generated by plugboard-bench decode"}\#(managed)},"data":{"index":"\#(i)","payload":"\#(filler)"\#(extra)}}"#
}

/// A LIST body as the API server writes it: items carry no kind or apiVersion.
private func decodeBenchList(objects: Int, withManagedFields: Bool) -> [UInt8] {
    var out = Array(#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"\#(objects + 100)"},"items":["#.utf8)
    for i in 0..<objects {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        var item = decodeBenchConfigMap(i, withManagedFields: withManagedFields, resourceVersion: 100 + i)
        item = item.replacingOccurrences(of: #"{"kind":"ConfigMap","apiVersion":"v1","#, with: "{")
        out += item.utf8
    }
    out += "]}".utf8
    return out
}

/// A watch body: one MODIFIED event of about 1 KB per line.
private func decodeBenchWatchStream(events: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(events * 1100)
    for i in 0..<events {
        out += #"{"type":"MODIFIED","object":"#.utf8
        out += decodeBenchConfigMap(i % 1000, withManagedFields: false, resourceVersion: 1000 + i).utf8
        out += "}\n".utf8
    }
    return out
}
