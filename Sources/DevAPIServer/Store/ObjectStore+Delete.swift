import KubeCore

/// Deletion, garbage collection of dependents, namespace termination and CRD removal.
///
/// The real cluster does the last three in controllers, asynchronously; the dev
/// server does them at once inside the same write, so the events come in the
/// order a controller would produce them, with nothing for tests to wait for.
extension ObjectStore {
    static let foregroundFinalizer = "foregroundDeletion"
    static let orphanFinalizer = "orphan"

    func delete(_ info: ResourceInfo, key: ObjectKey, options: DeleteOptions) throws(APIError) -> StoredObject {
        try state.withLock { (state) throws(APIError) -> StoredObject in
            guard let current = state.tables[info.groupResource]?[key] else { throw APIError.notFound(info, name: key.name) }
            if let uid = options.preconditionUID, uid != current.uid {
                throw APIError.conflict(info, name: key.name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)")
            }
            if let rv = options.preconditionResourceVersion, rv != String(current.resourceVersion) {
                throw APIError.conflict(info, name: key.name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in meta: \(current.resourceVersion)")
            }
            if options.dryRun { return current }
            return delete(current, info: info, propagation: options.propagation ?? .background, state: &state)
        }
    }

    /// Deletes every object of a collection that the selectors match.
    func deleteCollection(_ info: ResourceInfo, namespace: String?, list: ListOptions, options: DeleteOptions) throws(APIError) -> [StoredObject] {
        let items = try self.list(info, namespace: namespace, options: ListOptions(labelSelector: list.labelSelector, fieldSelector: list.fieldSelector))
        if options.dryRun { return items.items }
        return state.withLock { state in
            items.items.compactMap { item in
                guard let current = state.tables[info.groupResource]?[item.key] else { return nil }
                return delete(current, info: info, propagation: options.propagation ?? .background, state: &state)
            }
        }
    }

    /// Deletes one object: marks it when finalizers hold it, removes it otherwise.
    @discardableResult
    func delete(_ current: StoredObject, info: ResourceInfo, propagation: DeleteOptions.Propagation, state: inout State) -> StoredObject {
        var object = current.object
        var finalizers = current.finalizers
        if info.groupResource == GroupResource(group: "", resource: "namespaces") {
            return terminateNamespace(current, info: info, state: &state)
        }
        switch propagation {
        case .orphan:
            orphanDependents(of: current.uid, state: &state)
        case .foreground:
            if !(state.dependents[current.uid] ?? []).isEmpty && !finalizers.contains(Self.foregroundFinalizer) {
                finalizers.append(Self.foregroundFinalizer)
            }
        case .background:
            break
        }
        if finalizers.isEmpty {
            let removed = commit(object, info: info, type: .deleted, previous: current, state: &state)
            afterRemoval(removed, info: info, state: &state)
            return removed
        }
        if !current.isBeingDeleted || finalizers != current.finalizers {
            object[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
            if !current.isBeingDeleted {
                object[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
                object[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
            }
            let marked = commit(object, info: info, type: .modified, previous: current, state: &state)
            if propagation == .foreground { deleteDependents(of: marked.uid, foreground: true, state: &state) }
            return marked
        }
        return current
    }

    /// Everything that follows the removal of an object: its dependents are
    /// collected, a foreground owner waiting on it may go, a terminating namespace
    /// may be empty now, and a CRD takes its resource with it.
    func afterRemoval(_ removed: StoredObject, info: ResourceInfo, state: inout State) {
        if info.groupResource == CustomResourceDefinitions.resource {
            removeCustomResource(definedBy: removed.object, state: &state)
        }
        deleteDependents(of: removed.uid, foreground: false, state: &state)
        // Owners in foreground deletion that were waiting for this object.
        for reference in removed.ownerReferences {
            guard let uid = reference["uid"]?.stringValue, (state.dependents[uid] ?? []).isEmpty else { continue }
            if let (ownerInfo, owner) = findByUID(uid, state: state), owner.finalizers.contains(Self.foregroundFinalizer) {
                var object = owner.object
                object[path: ["metadata", "finalizers"]] = .array(owner.finalizers.filter { $0 != Self.foregroundFinalizer }.map { .string($0) })
                try? finishUpdate(owner, object: object, info: ownerInfo, state: &state)
            }
        }
        if info.namespaced { finishNamespaceIfEmpty(removed.key.namespace, state: &state) }
    }

    /// Background collection: dependents whose every owner is gone are deleted;
    /// a dependent with another live owner only loses the reference.
    private func deleteDependents(of uid: String, foreground: Bool, state: inout State) {
        guard let refs = state.dependents[uid] else { return }
        for ref in refs.sorted(by: { $0.key < $1.key }) {
            guard let info = state.resources.lookup(ref.resource), let dependent = state.tables[ref.resource]?[ref.key] else { continue }
            let otherOwners = dependent.ownerReferences.compactMap { $0["uid"]?.stringValue }.filter { $0 != uid && findByUID($0, state: state) != nil }
            if !otherOwners.isEmpty && !foreground {
                var object = dependent.object
                object[path: ["metadata", "ownerReferences"]] = .array(dependent.ownerReferences.filter { $0["uid"]?.stringValue != uid })
                try? finishUpdate(dependent, object: object, info: info, state: &state)
            } else if !dependent.isBeingDeleted {
                delete(dependent, info: info, propagation: foreground ? .foreground : .background, state: &state)
            }
        }
    }

    /// The garbage collector's other half: an object written with owner
    /// references that all name objects that no longer exist (a controller
    /// racing its owner's deletion) is deleted, as kube's collector does shortly
    /// after. The writer still gets its answer; watchers see the add, then the delete.
    func collectIfOwnersAreGone(_ object: StoredObject, info: ResourceInfo, state: inout State) {
        let owners = object.ownerReferences.compactMap { $0["uid"]?.stringValue }
        guard !owners.isEmpty, !object.isBeingDeleted, owners.allSatisfy({ findByUID($0, state: state) == nil }) else { return }
        delete(object, info: info, propagation: .background, state: &state)
    }

    private func orphanDependents(of uid: String, state: inout State) {
        for ref in (state.dependents[uid] ?? []).sorted(by: { $0.key < $1.key }) {
            guard let info = state.resources.lookup(ref.resource), let dependent = state.tables[ref.resource]?[ref.key] else { continue }
            var object = dependent.object
            let remaining = dependent.ownerReferences.filter { $0["uid"]?.stringValue != uid }
            object[path: ["metadata", "ownerReferences"]] = remaining.isEmpty ? nil : .array(remaining)
            try? finishUpdate(dependent, object: object, info: info, state: &state)
        }
    }

    /// Writes a server-side change (no field manager change, no validation) and
    /// removes the object when that took away its last finalizer during deletion.
    private func finishUpdate(_ current: StoredObject, object: JSON, info: ResourceInfo, state: inout State) throws {
        if current.isBeingDeleted && (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
            let removed = commit(object, info: info, type: .deleted, previous: current, state: &state)
            afterRemoval(removed, info: info, state: &state)
        } else {
            commit(object, info: info, type: .modified, previous: current, state: &state)
        }
    }

    private func findByUID(_ uid: String, state: State) -> (ResourceInfo, StoredObject)? {
        for (resource, table) in state.tables {
            if let object = table.values.first(where: { $0.uid == uid }), let info = state.resources.lookup(resource) {
                return (info, object)
            }
        }
        return nil
    }

    // MARK: Namespaces

    /// A namespace is marked Terminating, everything in it is deleted, and it goes
    /// once it is empty (objects with finalizers keep it until they are released).
    private func terminateNamespace(_ current: StoredObject, info: ResourceInfo, state: inout State) -> StoredObject {
        var marked = current
        if !current.isBeingDeleted {
            var object = current.object
            object[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
            object[path: ["metadata", "deletionGracePeriodSeconds"]] = 0
            object[path: ["status", "phase"]] = "Terminating"
            marked = commit(object, info: info, type: .modified, previous: current, state: &state)
        }
        let namespace = current.key.name
        for resource in state.tables.keys.sorted(by: { $0.description < $1.description }) {
            guard let resourceInfo = state.resources.lookup(resource), resourceInfo.namespaced else { continue }
            for object in (state.tables[resource] ?? [:]).values where object.key.namespace == namespace && !object.isBeingDeleted {
                // Re-read: collecting an earlier object's dependents may have removed this one.
                guard let live = state.tables[resource]?[object.key] else { continue }
                delete(live, info: resourceInfo, propagation: .background, state: &state)
            }
        }
        finishNamespaceIfEmpty(namespace, state: &state)
        return state.tables[info.groupResource]?[current.key] ?? marked
    }

    private func finishNamespaceIfEmpty(_ namespace: String, state: inout State) {
        let nsResource = GroupResource(group: "", resource: "namespaces")
        guard let ns = state.tables[nsResource]?[ObjectKey(namespace: "", name: namespace)], ns.isBeingDeleted else { return }
        for (resource, table) in state.tables where resource != nsResource {
            if table.keys.contains(where: { $0.namespace == namespace }) { return }
        }
        let info = state.resources.builtin("", "namespaces")
        var object = ns.object
        object[path: ["spec", "finalizers"]] = nil
        if ns.finalizers.isEmpty {
            let removed = commit(object, info: info, type: .deleted, previous: ns, state: &state)
            _ = removed
        } else if ns.object[path: ["spec", "finalizers"]] != nil {
            commit(object, info: info, type: .modified, previous: ns, state: &state)
        }
    }

    // MARK: Custom resources

    /// Deleting a CRD deletes all its objects (DELETED events go to their watchers),
    /// then stops serving the resource and ends its watches.
    private func removeCustomResource(definedBy crd: JSON, state: inout State) {
        guard let group = crd[path: ["spec", "group"]]?.stringValue, let plural = crd[path: ["spec", "names", "plural"]]?.stringValue else { return }
        let resource = GroupResource(group: group, resource: plural)
        guard let info = state.resources.lookup(resource) else { return }
        for object in (state.tables[resource] ?? [:]).values.sorted(by: { $0.key < $1.key }) {
            commit(object.object, info: info, type: .deleted, previous: object, state: &state)
        }
        state.tables[resource] = nil
        state.sortedKeys[resource] = nil
        state.resources.unregister(resource)
        closeWatches(resource, state: &state)
    }
}
