import Foundation
import KubeCore

/// Server-side printing: what `kubectl get` asks for with `Accept: ...;as=Table`.
/// Columns are Name and Age, plus a custom resource's additionalPrinterColumns.
enum TableConverter {
    static func wantsTable(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    static func columns(_ info: ResourceInfo, version: String) -> [JSON] {
        var columns: [JSON] = [["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0]]
        for column in info.printerColumns[version] ?? [] {
            columns.append(["name": .string(column.name), "type": .string(column.type == "date" ? "string" : column.type), "format": "",
                            "description": .string(column.description), "priority": .int(Int64(column.priority))])
        }
        if !(info.printerColumns[version] ?? []).contains(where: { $0.name == "Age" }) {
            columns.append(["name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0])
        }
        return columns
    }

    static func row(_ object: JSON, info: ResourceInfo, version: String) -> JSON {
        var cells: [JSON] = [object[path: ["metadata", "name"]] ?? ""]
        for column in info.printerColumns[version] ?? [] {
            let value = object[path: column.jsonPath.split(separator: ".").map(String.init)]
            if column.type == "date", let text = value?.stringValue, let date = Timestamp.parse(text) {
                cells.append(.string(Timestamp.age(since: date)))
            } else {
                cells.append(value ?? .null)
            }
        }
        if !(info.printerColumns[version] ?? []).contains(where: { $0.name == "Age" }) {
            let created = object[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse)
            cells.append(.string(created.map { Timestamp.age(since: $0) } ?? "<unknown>"))
        }
        var metadata = object["metadata"] ?? .emptyObject
        metadata["managedFields"] = nil
        return ["cells": .array(cells),
                "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata]]
    }

    static func table(_ objects: [JSON], info: ResourceInfo, version: String, listMetadata: JSON, includeColumns: Bool = true) -> JSON {
        ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMetadata,
         "columnDefinitions": includeColumns ? .array(columns(info, version: version)) : .null,
         "rows": .array(objects.map { row($0, info: info, version: version) })]
    }
}
