import Foundation
import Testing
@testable import PluginConfig

/// The JSON Schema, the reference page and the example configs in the
/// repository must agree with the loader.
@Suite struct SchemaAndExampleTests {
    static func schema() throws -> [String: Any] {
        let url = Fixture.repositoryRoot.appendingPathComponent("docs/schemas/config.schema.json")
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func propertyNames(_ object: [String: Any]) -> Set<String> {
        Set((object["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
    }

    @Test func theSchemaIsDraft2020AndClosedAtTheRoot() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["additionalProperties"] as? Bool == false)
        #expect(Self.propertyNames(schema) == Set(ConfigKeys.document))
    }

    @Test func everyObjectOfTheSchemaListsExactlyTheFieldsTheLoaderAccepts() throws {
        let definitions = try #require(try Self.schema()["$defs"] as? [String: Any])
        for (name, keys) in ConfigKeys.definitions {
            let definition = try #require(definitions[name] as? [String: Any], "no $defs/\(name) in the schema")
            #expect(Self.propertyNames(definition) == Set(keys), "$defs/\(name)")
            #expect(definition["additionalProperties"] as? Bool == false, "$defs/\(name) must set additionalProperties: false")
        }
        // Every closed object of the schema is one the loader knows.
        for (name, value) in definitions {
            guard let definition = value as? [String: Any], definition["properties"] != nil else { continue }
            #expect(ConfigKeys.definitions[name] != nil, "$defs/\(name) has no counterpart in ConfigKeys")
        }
    }

    @Test func theSchemaRequiresWhatTheLoaderRequires() throws {
        let schema = try Self.schema()
        let definitions = try #require(schema["$defs"] as? [String: Any])
        func required(_ name: String) -> Set<String> {
            Set(((definitions[name] as? [String: Any])?["required"] as? [String]) ?? [])
        }
        #expect(Set(schema["required"] as? [String] ?? []) == ["apiVersion", "kind"])
        #expect(required("Plugin") == ["name", "watch"])
        #expect(required("Endpoint") == ["url"])
        #expect(required("Command") == ["path"])
        for name in ["Watch", "OwnedResource", "RelatedResource", "Permission"] {
            #expect(required(name) == ["apiVersion"], "$defs/\(name)")
        }
    }

    /// The reference page documents every field the loader accepts.
    @Test func theReferencePageNamesEveryField() throws {
        let url = Fixture.repositoryRoot.appendingPathComponent("docs/configuration.md")
        let page = try String(contentsOf: url, encoding: .utf8)
        let keys = Set(ConfigKeys.document + ConfigKeys.definitions.values.flatMap { $0 })
        for key in keys.sorted() {
            #expect(page.contains("| `\(key)` |") || page.contains("`\(key)` ("), "docs/configuration.md has no row for `\(key)`")
        }
    }

    /// Every complete document shown on the reference page loads.
    @Test func theReferencePageExamplesAreValid() throws {
        let url = Fixture.repositoryRoot.appendingPathComponent("docs/configuration.md")
        let page = try String(contentsOf: url, encoding: .utf8)
        let blocks = page.components(separatedBy: "```yaml\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        let documents = blocks.filter { $0.hasPrefix("apiVersion: plugboard.dev/v1alpha1") }
        #expect(!documents.isEmpty)
        for document in documents {
            do {
                _ = try PlugboardConfig.parse(yaml: document, file: "docs/configuration.md", baseDirectory: "/etc/plugboard")
            } catch {
                Issue.record("an example on the reference page does not load:\n\(error)\n\(document)")
            }
        }
    }

    /// Example configs under plugins/ and deploy/ (the YAML files that say `kind: PlugboardConfig`) load.
    @Test func exampleConfigFilesInTheRepositoryAreValid() throws {
        let root = Fixture.repositoryRoot
        var files: [URL] = []
        for (folder, matches) in [
            ("plugins", { (name: String) in name.hasSuffix(".yaml") }),
            ("deploy", { (name: String) in name.hasSuffix(".yaml") }),
        ] {
            let directory = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where matches(url.lastPathComponent) && !url.path.contains("/node_modules/") && !url.path.contains("/.build/") {
                let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
                if text.contains("kind: PlugboardConfig") { files.append(url) }
            }
        }
        #expect(files.contains { $0.lastPathComponent == "plugboard-dev.yaml" })
        for file in files {
            do {
                _ = try PlugboardConfig.load(path: file.path)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
