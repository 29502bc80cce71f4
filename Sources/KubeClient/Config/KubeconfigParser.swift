import Foundation
import KubeCore
import Yams

/// Turns the text of one kubeconfig file into a `Kubeconfig`, checking the
/// shape of every field it understands and resolving relative file paths
/// against the directory of that file. Unknown fields are ignored, as kubectl does.
enum KubeconfigParser {
    static func parse(yaml: String, path: String) throws(KubeconfigError) -> Kubeconfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw .notYAML(path: path, reason: firstLine(String(describing: error)))
        }
        var config = Kubeconfig(files: [path])
        guard let root, !isNull(root) else { return config }  // an empty file is an empty config
        let reader = Reader(path: path, baseDirectory: (absolute(path) as NSString).deletingLastPathComponent)
        let top = try reader.mapping(root, "<document>")
        if let value = try reader.string(top["current-context"], "current-context"), !value.isEmpty {
            config.currentContext = value
            config.currentContextOrigin = path
        }
        // Within one file a repeated name replaces the earlier entry, as in client-go's conversion.
        for (index, item) in try reader.namedList(top["clusters"], "clusters", body: "cluster") {
            config.clusters[item.name] = try reader.cluster(item.body, "clusters[\(index)].cluster")
        }
        for (index, item) in try reader.namedList(top["users"], "users", body: "user") {
            config.users[item.name] = try reader.user(item.body, "users[\(index)].user")
        }
        for (index, item) in try reader.namedList(top["contexts"], "contexts", body: "context") {
            config.contexts[item.name] = try reader.context(item.body, "contexts[\(index)].context")
        }
        return config
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        let cwd = FileManager.default.currentDirectoryPath
        return ((cwd as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? "")
            .trimmingCharacters(in: .whitespaces)
    }

    fileprivate static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any {
            return node.null != nil
        }
        return false
    }
}

private struct Reader {
    let path: String
    let baseDirectory: String

    func fail(_ field: String, _ problem: String) -> KubeconfigError {
        .wrongShape(path: path, field: field, problem: problem)
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func present(_ node: Node?) -> Node? {
        guard let node, !KubeconfigParser.isNull(node) else { return nil }
        return node
    }

    func mapping(_ node: Node, _ field: String) throws(KubeconfigError) -> Node.Mapping {
        guard case .mapping(let mapping) = node else { throw fail(field, "expected a mapping, found \(kind(node))") }
        return mapping
    }

    func string(_ node: Node?, _ field: String) throws(KubeconfigError) -> String? {
        guard let node = present(node) else { return nil }
        guard case .scalar(let scalar) = node else { throw fail(field, "expected a string, found \(kind(node))") }
        return scalar.string
    }

    func bool(_ node: Node?, _ field: String) throws(KubeconfigError) -> Bool? {
        guard let node = present(node) else { return nil }
        guard case .scalar = node, let value = node.bool else {
            throw fail(field, "expected true or false, found \(describe(node))")
        }
        return value
    }

    func describe(_ node: Node) -> String {
        if case .scalar(let scalar) = node { return "\"\(scalar.string)\"" }
        return kind(node)
    }

    func sequence(_ node: Node?, _ field: String) throws(KubeconfigError) -> [Node] {
        guard let node = present(node) else { return [] }
        guard case .sequence(let seq) = node else { throw fail(field, "expected a list, found \(kind(node))") }
        return Array(seq)
    }

    /// `[{name: x, <body>: {...}}]`
    func namedList(_ node: Node?, _ field: String, body: String) throws(KubeconfigError) -> [(Int, (name: String, body: Node.Mapping))] {
        var out: [(Int, (name: String, body: Node.Mapping))] = []
        for (index, element) in try sequence(node, field).enumerated() {
            let item = try mapping(element, "\(field)[\(index)]")
            guard let name = try string(item["name"], "\(field)[\(index)].name"), !name.isEmpty else {
                throw fail("\(field)[\(index)].name", "missing name")
            }
            let bodyNode = present(item[body])
            let bodyMapping = try bodyNode.map { node throws(KubeconfigError) in try mapping(node, "\(field)[\(index)].\(body)") }
            out.append((index, (name, bodyMapping ?? Node.Mapping([]))))
        }
        return out
    }

    func filePath(_ node: Node?, _ field: String) throws(KubeconfigError) -> String? {
        guard let value = try string(node, field), !value.isEmpty else { return nil }
        return resolve(value)
    }

    func resolve(_ value: String) -> String {
        if value.hasPrefix("/") { return value }
        return ((baseDirectory as NSString).appendingPathComponent(value) as NSString).standardizingPath
    }

    func nonEmpty(_ node: Node?, _ field: String) throws(KubeconfigError) -> String? {
        guard let value = try string(node, field), !value.isEmpty else { return nil }
        return value
    }

    func cluster(_ m: Node.Mapping, _ field: String) throws(KubeconfigError) -> Kubeconfig.Cluster {
        var execExtension: JSON?
        for (index, element) in try sequence(m["extensions"], "\(field).extensions").enumerated() {
            let item = try mapping(element, "\(field).extensions[\(index)]")
            if try string(item["name"], "\(field).extensions[\(index)].name") == "client.authentication.k8s.io/exec",
               let ext = present(item["extension"]) {
                execExtension = json(ext)
            }
        }
        return Kubeconfig.Cluster(
            server: try nonEmpty(m["server"], "\(field).server"),
            certificateAuthority: try filePath(m["certificate-authority"], "\(field).certificate-authority"),
            certificateAuthorityData: try nonEmpty(m["certificate-authority-data"], "\(field).certificate-authority-data"),
            insecureSkipTLSVerify: try bool(m["insecure-skip-tls-verify"], "\(field).insecure-skip-tls-verify") ?? false,
            tlsServerName: try nonEmpty(m["tls-server-name"], "\(field).tls-server-name"),
            proxyURL: try nonEmpty(m["proxy-url"], "\(field).proxy-url"),
            execExtension: execExtension,
            location: KubeconfigLocation(file: path, field: field)
        )
    }

    func user(_ m: Node.Mapping, _ field: String) throws(KubeconfigError) -> Kubeconfig.User {
        var exec: ExecConfig?
        if let execNode = present(m["exec"]) {
            exec = try self.exec(try mapping(execNode, "\(field).exec"), "\(field).exec")
        }
        return Kubeconfig.User(
            token: try nonEmpty(m["token"], "\(field).token"),
            tokenFile: try filePath(m["tokenFile"], "\(field).tokenFile"),
            clientCertificate: try filePath(m["client-certificate"], "\(field).client-certificate"),
            clientCertificateData: try nonEmpty(m["client-certificate-data"], "\(field).client-certificate-data"),
            clientKey: try filePath(m["client-key"], "\(field).client-key"),
            clientKeyData: try nonEmpty(m["client-key-data"], "\(field).client-key-data"),
            username: try nonEmpty(m["username"], "\(field).username"),
            password: try nonEmpty(m["password"], "\(field).password"),
            exec: exec,
            location: KubeconfigLocation(file: path, field: field)
        )
    }

    func context(_ m: Node.Mapping, _ field: String) throws(KubeconfigError) -> Kubeconfig.Context {
        guard let cluster = try nonEmpty(m["cluster"], "\(field).cluster") else {
            throw fail("\(field).cluster", "missing cluster")
        }
        return Kubeconfig.Context(
            cluster: cluster,
            user: try nonEmpty(m["user"], "\(field).user"),
            namespace: try nonEmpty(m["namespace"], "\(field).namespace"),
            location: KubeconfigLocation(file: path, field: field)
        )
    }

    func exec(_ m: Node.Mapping, _ field: String) throws(KubeconfigError) -> ExecConfig {
        guard let versionString = try nonEmpty(m["apiVersion"], "\(field).apiVersion") else {
            throw fail("\(field).apiVersion", "missing apiVersion")
        }
        guard let version = ExecConfig.APIVersion(rawValue: versionString) else {
            let known = ExecConfig.APIVersion.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("\(field).apiVersion", "unsupported apiVersion \"\(versionString)\" (supported: \(known))")
        }
        guard var command = try nonEmpty(m["command"], "\(field).command") else {
            throw fail("\(field).command", "missing command")
        }
        // A command with a path separator is a file path, relative to this file; a bare name is looked up in PATH.
        if command.contains("/") { command = resolve(command) }
        var args: [String] = []
        for (index, node) in try sequence(m["args"], "\(field).args").enumerated() {
            args.append(try string(node, "\(field).args[\(index)]") ?? "")
        }
        var env: [(name: String, value: String)] = []
        for (index, node) in try sequence(m["env"], "\(field).env").enumerated() {
            let item = try mapping(node, "\(field).env[\(index)]")
            guard let name = try nonEmpty(item["name"], "\(field).env[\(index)].name") else {
                throw fail("\(field).env[\(index)].name", "missing name")
            }
            env.append((name, try string(item["value"], "\(field).env[\(index)].value") ?? ""))
        }
        let mode: ExecConfig.InteractiveMode
        if let modeString = try nonEmpty(m["interactiveMode"], "\(field).interactiveMode") {
            guard let parsed = ExecConfig.InteractiveMode(rawValue: modeString) else {
                throw fail("\(field).interactiveMode", "invalid interactiveMode \"\(modeString)\" (expected Never, IfAvailable or Always)")
            }
            mode = parsed
        } else if version == .v1 {
            throw fail("\(field).interactiveMode", "interactiveMode is required for \(version.rawValue)")
        } else {
            mode = .ifAvailable  // the v1beta1 default
        }
        return ExecConfig(
            apiVersion: version, command: command, args: args, env: env, interactiveMode: mode,
            provideClusterInfo: try bool(m["provideClusterInfo"], "\(field).provideClusterInfo") ?? false,
            installHint: try nonEmpty(m["installHint"], "\(field).installHint")
        )
    }

    /// YAML node to JSON, typing plain scalars the way a YAML-to-JSON conversion would.
    func json(_ node: Node) -> JSON {
        switch node {
        case .mapping(let mapping):
            var object: [String: JSON] = [:]
            for (key, value) in mapping { object[key.string ?? ""] = json(value) }
            return .object(object)
        case .sequence(let seq):
            return .array(seq.map { json($0) })
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .int(Int64(value)) }
            if let value = node.float { return .double(value) }
            return .string(scalar.string)
        case .alias:
            return .null
        }
    }
}
