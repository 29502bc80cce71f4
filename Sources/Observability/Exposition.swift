/// One sample of the Prometheus text format: `name{label="value",…} value`.
struct ExpositionSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A reader of the Prometheus text exposition format, for the host's own
/// `/metrics` output: the dashboard is computed from exactly what Prometheus
/// scrapes, so the two cannot disagree. Comment lines are skipped; a line that
/// does not parse is skipped too (the registry never writes one).
enum Exposition {
    static func parse(_ bytes: [UInt8]) -> [ExpositionSample] {
        var samples: [ExpositionSample] = []
        samples.reserveCapacity(bytes.count / 60)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            if lineEnd > lineStart && bytes[lineStart] != UInt8(ascii: "#"), let sample = parseLine(bytes[lineStart..<lineEnd]) {
                samples.append(sample)
            }
            lineStart = lineEnd + 1
        }
        return samples
    }

    static func parseLine(_ line: ArraySlice<UInt8>) -> ExpositionSample? {
        var index = line.startIndex
        while index < line.endIndex && line[index] != UInt8(ascii: "{") && line[index] != UInt8(ascii: " ") { index += 1 }
        guard index > line.startIndex, index < line.endIndex else { return nil }
        let name = String(decoding: line[line.startIndex..<index], as: UTF8.self)
        var labels: [String: String] = [:]
        if line[index] == UInt8(ascii: "{") {
            index += 1
            while index < line.endIndex && line[index] != UInt8(ascii: "}") {
                let keyStart = index
                while index < line.endIndex && line[index] != UInt8(ascii: "=") { index += 1 }
                guard index + 1 < line.endIndex, line[index + 1] == UInt8(ascii: "\"") else { return nil }
                let key = String(decoding: line[keyStart..<index], as: UTF8.self)
                index += 2
                var value: [UInt8] = []
                while index < line.endIndex && line[index] != UInt8(ascii: "\"") {
                    if line[index] == UInt8(ascii: "\\") && index + 1 < line.endIndex {
                        index += 1
                        value.append(line[index] == UInt8(ascii: "n") ? UInt8(ascii: "\n") : line[index])
                    } else {
                        value.append(line[index])
                    }
                    index += 1
                }
                guard index < line.endIndex else { return nil }
                labels[key] = String(decoding: value, as: UTF8.self)
                index += 1
                if index < line.endIndex && line[index] == UInt8(ascii: ",") { index += 1 }
            }
            guard index < line.endIndex else { return nil }
            index += 1
        }
        while index < line.endIndex && line[index] == UInt8(ascii: " ") { index += 1 }
        var valueEnd = index
        while valueEnd < line.endIndex && line[valueEnd] != UInt8(ascii: " ") { valueEnd += 1 }
        let text = String(decoding: line[index..<valueEnd], as: UTF8.self)
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(text) else { return nil }
            value = parsed
        }
        return ExpositionSample(name: name, labels: labels, value: value)
    }
}
