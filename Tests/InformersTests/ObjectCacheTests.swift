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
}
