import Informers
import KubeClient
import KubeCore
import Testing

@Suite struct ObjectCacheTests {
    func pod(_ name: String, namespace: String = "default", owner: String? = nil, labels: [String: String] = [:], rv: String = "1") throws -> KubeObject {
        var metadata: JSON = ["name": .string(name), "namespace": .string(namespace), "resourceVersion": .string(rv),
                              "labels": .object(labels.mapValues { .string($0) })]
        if let owner {
            metadata["ownerReferences"] = [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": .string(owner), "controller": true]]
        }
        let object: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": metadata]
        return try KubeObject(bytes: object.serialized())
    }

    @Test func keysAreNamespaceSlashName() throws {
        let cache = ObjectCache()
        cache.upsert(try pod("a"))
        #expect(cache.get("default/a")?.metadata.name == "a")
        #expect(cache.get(namespace: "default", name: "a") != nil)
        #expect(cache.count == 1)
    }

    @Test func indexesFollowUpdatesAndDeletes() throws {
        let cache = ObjectCache(extraIndexers: ["app": { $0.metadata.labels["app"].map { [$0] } ?? [] }])
        cache.upsert(try pod("a", owner: "rs-1", labels: ["app": "web"]))
        cache.upsert(try pod("b", namespace: "other", owner: "rs-1", labels: ["app": "db"]))
        #expect(Set(cache.byIndex(ObjectCache.controllerIndex, "rs-1").map(\.metadata.name)) == ["a", "b"])
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "other").map(\.metadata.name) == ["b"])
        #expect(cache.byIndex("app", "web").map(\.metadata.name) == ["a"])
        // An update that changes the indexed values moves the object.
        let old = cache.upsert(try pod("a", owner: "rs-2", labels: ["app": "db"], rv: "2"))
        #expect(old?.metadata.resourceVersion == "1")
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-1").map(\.metadata.name) == ["b"])
        #expect(Set(cache.byIndex("app", "db").map(\.metadata.name)) == ["a", "b"])
        #expect(cache.byIndex("app", "web").isEmpty)
        cache.remove("other/b")
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-1").isEmpty)
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "other").isEmpty)
    }

    /// Several extra indexes (named out of order, one filing an object under two values) each keep
    /// their own values, apart from the built-in ones and from each other.
    @Test func extraIndexesAreKeptApart() throws {
        let cache = ObjectCache(extraIndexers: [
            "zone": { $0.metadata.labels["zone"].map { [$0] } ?? [] },
            "app": { $0.metadata.labels["app"].map { [$0] } ?? [] },
            "tiers": { ($0.metadata.labels["tiers"] ?? "").split(separator: ",").map(String.init) },
        ])
        cache.upsert(try pod("a", labels: ["zone": "z1", "app": "web", "tiers": "front,back"]))
        cache.upsert(try pod("b", namespace: "other", labels: ["zone": "web", "app": "z1", "tiers": "back"]))
        #expect(cache.byIndex("zone", "z1").map(\.metadata.name) == ["a"])
        #expect(cache.byIndex("zone", "web").map(\.metadata.name) == ["b"])
        #expect(cache.byIndex("app", "web").map(\.metadata.name) == ["a"])
        #expect(cache.byIndex("tiers", "front").map(\.metadata.name) == ["a"])
        #expect(Set(cache.byIndex("tiers", "back").map(\.metadata.name)) == ["a", "b"])
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "z1").isEmpty)
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "other").map(\.metadata.name) == ["b"])
        cache.upsert(try pod("a", labels: ["zone": "z2", "app": "web", "tiers": "front"], rv: "2"))
        #expect(cache.byIndex("tiers", "back").map(\.metadata.name) == ["b"])
        #expect(cache.byIndex("zone", "z1").isEmpty)
        #expect(cache.byIndex("zone", "z2").map(\.metadata.name) == ["a"])
    }

    @Test func replaceReportsWhatVanished() throws {
        let cache = ObjectCache()
        cache.upsert(try pod("a"))
        cache.upsert(try pod("b"))
        let removed = cache.replace(with: [try pod("b", rv: "5"), try pod("c")])
        #expect(removed.map(\.metadata.name) == ["a"])
        #expect(Set(cache.keys()) == ["default/b", "default/c"])
        #expect(cache.get("default/b")?.metadata.resourceVersion == "5")
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "default").count == 2)
    }

    /// A replacement is built aside with the cache's indexes: the cache serves its old content
    /// until the swap, then the new one with every index, and the old objects come back by key.
    @Test func aReplacementIsBuiltAsideAndSwappedInAtOnce() throws {
        let cache = ObjectCache(extraIndexers: ["app": { $0.metadata.labels["app"].map { [$0] } ?? [] }])
        cache.upsert(try pod("old", owner: "rs-0", labels: ["app": "web"]))
        var next = cache.makeReplacement(reservingCapacity: 3)
        next.upsert(try pod("a", owner: "rs-1", labels: ["app": "web"]))
        next.upsert(try pod("b", namespace: "other", owner: "rs-1"))
        next.upsert(try pod("c"))
        next.remove("default/c")
        next.upsert(try pod("a", owner: "rs-2", labels: ["app": "db"], rv: "2"))  // stored again: indexes move
        // In the order first stored: `a` stored again keeps its place, the removed `c` leaves none.
        #expect(next.count == 2 && next.objects.map(\.metadata.name) == ["a", "b"])
        #expect(next["default/a"]?.metadata.resourceVersion == "2" && next["default/c"] == nil)
        // Nothing of it shows before the swap.
        #expect(cache.keys() == ["default/old"])
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-1").isEmpty)

        let previous = cache.replace(with: next)
        #expect(previous.objects.map(\.metadata.name) == ["old"] && previous["default/old"] != nil && previous.count == 1)
        #expect(Set(cache.keys()) == ["default/a", "other/b"])
        #expect(cache.get("default/a")?.metadata.resourceVersion == "2")
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-1").map(\.metadata.name) == ["b"])
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-2").map(\.metadata.name) == ["a"])
        #expect(cache.byIndex(ObjectCache.controllerIndex, "rs-0").isEmpty)
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "default").map(\.metadata.name) == ["a"])
        #expect(cache.byIndex("app", "db").map(\.metadata.name) == ["a"])
        #expect(cache.byIndex("app", "web").isEmpty)
        // The cache goes on from the swapped-in content.
        cache.remove("other/b")
        #expect(cache.byIndex(ObjectCache.namespaceIndex, "other").isEmpty)
    }

    /// An owner reference that is not the controller does not file the object under the controller index.
    @Test func onlyTheControllingOwnerIsIndexed() throws {
        let cache = ObjectCache()
        var metadata: JSON = ["name": "p", "namespace": "default", "resourceVersion": "1"]
        metadata["ownerReferences"] = [["apiVersion": "v1", "kind": "A", "name": "a", "uid": "u-1"],
                                       ["apiVersion": "v1", "kind": "B", "name": "b", "uid": "u-2", "controller": true],
                                       ["apiVersion": "v1", "kind": "C", "name": "c", "uid": "u-3", "controller": true]]
        cache.upsert(try KubeObject(bytes: (["apiVersion": "v1", "kind": "Pod", "metadata": metadata] as JSON).serialized()))
        #expect(cache.byIndex(ObjectCache.controllerIndex, "u-1").isEmpty)
        #expect(cache.byIndex(ObjectCache.controllerIndex, "u-2").count == 1)
        #expect(cache.byIndex(ObjectCache.controllerIndex, "u-3").isEmpty)
    }
}
