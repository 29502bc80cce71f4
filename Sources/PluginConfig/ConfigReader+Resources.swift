import KubeCore
import Yams

/// Reading resource types, namespaces, selectors and permissions.
extension ConfigReader {
    mutating func readWatch(_ value: Located) -> WatchSpec? {
        let start = issues.count
        guard let watch = fields(value, allowed: ConfigKeys.watch) else { return nil }
        let resource = readResourceRef(watch)
        let namespaces = watch["namespaces"].flatMap { readNamespaceList($0, allowEmpty: true) } ?? []
        let labelSelector = watch["labelSelector"].flatMap { readLabelSelector($0) } ?? .everything
        let fieldSelector = watch["fieldSelector"].flatMap { readFieldSelector($0) } ?? FieldSelector()
        guard issues.count == start, let resource else { return nil }
        return WatchSpec(resource: resource, namespaces: namespaces, labelSelector: labelSelector, fieldSelector: fieldSelector)
    }

    mutating func readOwned(_ value: Located) -> ResourceRef? {
        guard let owned = fields(value, allowed: ConfigKeys.ownedResource) else { return nil }
        return readResourceRef(owned)
    }

    mutating func readRelated(_ value: Located) -> RelatedResource? {
        let start = issues.count
        guard let related = fields(value, allowed: ConfigKeys.relatedResource) else { return nil }
        let resource = readResourceRef(related)
        let namespaces = related["namespaces"].flatMap { readNamespaceScope($0) } ?? .same
        let labelSelector = related["labelSelector"].flatMap { readLabelSelector($0) } ?? .everything
        let name = related["name"].flatMap { string($0, NameRules.dnsSubdomain) }
        guard issues.count == start, let resource else { return nil }
        return RelatedResource(resource: resource, namespaces: namespaces, labelSelector: labelSelector, name: name)
    }

    mutating func readPermission(_ value: Located) -> Permission? {
        let start = issues.count
        guard let permission = fields(value, allowed: ConfigKeys.permission) else { return nil }
        let resource = readResourceRef(permission)
        let namespaces = permission["namespaces"].flatMap { readNamespaceScope($0) } ?? .same
        let verbs = permission["verbs"].flatMap { readVerbs($0) } ?? Permission.Verb.defaultVerbs
        guard issues.count == start, let resource else { return nil }
        return Permission(resource: resource, namespaces: namespaces, verbs: verbs)
    }

    /// `apiVersion` plus exactly one of `kind` and `resource`.
    mutating func readResourceRef(_ fields: Fields) -> ResourceRef? {
        let start = issues.count
        let apiVersion = require(fields, "apiVersion").flatMap { string($0, NameRules.apiVersion) }
        let kind = fields["kind"].flatMap { string($0, NameRules.kind) }
        let resource = fields["resource"].flatMap { string($0, NameRules.resource) }
        switch (fields.has("kind"), fields.has("resource")) {
        case (true, true):
            report("set exactly one of kind or resource, not both", at: fields.path, mark: fields.keyMark("resource"))
        case (false, false):
            report("one of kind (such as Deployment) or resource (such as deployments) is required", at: fields.path, mark: fields.mark)
        default:
            break
        }
        guard issues.count == start, let apiVersion else { return nil }
        if let kind { return ResourceRef(apiVersion: apiVersion, kind: kind) }
        return resource.map { ResourceRef(apiVersion: apiVersion, resource: $0) }
    }

    /// `same`, `all`, or a non-empty list of namespace names.
    mutating func readNamespaceScope(_ value: Located) -> NamespaceScope? {
        if case .scalar(let scalar) = value.node, value.node.tagName == .str {
            switch scalar.string {
            case "same": return .same
            case "all": return .all
            default: break
            }
        }
        guard case .sequence = value.node else {
            report("must be \"same\", \"all\" or a list of namespaces, got \(Self.describe(value.node))", at: value)
            return nil
        }
        return readNamespaceList(value, allowEmpty: false).map { .list($0) }
    }

    /// A list of distinct namespace names.
    mutating func readNamespaceList(_ value: Located, allowEmpty: Bool) -> [String]? {
        let start = issues.count
        guard let names = items(value, { $0.string($1, NameRules.dnsLabel) }) else { return nil }
        if names.isEmpty && !allowEmpty {
            report("must not be empty; use \"same\" or \"all\" for no fixed list", at: value)
        }
        reportDuplicates(names, in: value, what: "namespace")
        return issues.count == start ? names : nil
    }

    /// A non-empty set of verbs, each written once.
    mutating func readVerbs(_ value: Located) -> Set<Permission.Verb>? {
        let start = issues.count
        let allowed = Permission.Verb.allCases.map(\.rawValue).joined(separator: ", ")
        let verbs = items(value) { reader, item -> Permission.Verb? in
            reader.string(item) { Permission.Verb(rawValue: $0) == nil ? "must be one of \(allowed)" : nil }
                .flatMap(Permission.Verb.init(rawValue:))
        }
        guard let verbs else { return nil }
        if verbs.isEmpty {
            report("must name at least one verb (\(allowed))", at: value)
        }
        reportDuplicates(verbs.map(\.rawValue), in: value, what: "verb")
        return issues.count == start ? Set(verbs) : nil
    }

    /// Reports every item of a list equal to an earlier one.
    mutating func reportDuplicates(_ texts: [String], in list: Located, what: String) {
        guard case .sequence(let sequence) = list.node else { return }
        var seen: Set<String> = []
        for (index, text) in texts.enumerated() where !seen.insert(text).inserted {
            let node = sequence[index]
            report("duplicate \(what) \(Self.quote(text))", at: Self.path(list.path, index: index), mark: node.mark)
        }
    }

    /// A label selector in kubectl's syntax (`app in (a,b),tier!=cache`).
    mutating func readLabelSelector(_ value: Located) -> LabelSelector? {
        guard let text = string(value) else { return nil }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            report("invalid label selector: \(error.message)", at: value)
            return nil
        }
    }

    /// A field selector in kubectl's syntax (`metadata.name!=x,status.phase=Running`).
    mutating func readFieldSelector(_ value: Located) -> FieldSelector? {
        guard let text = string(value) else { return nil }
        do {
            return try FieldSelector(parsing: text)
        } catch {
            report("invalid field selector: \(error.message)", at: value)
            return nil
        }
    }
}
