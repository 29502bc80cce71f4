import DevAPIServer
import Foundation
import KubeClient
import KubeCore
import Logging
import PluginConfig
@testable import PluginHost
import ServiceLifecycle
import Testing

/// A dev API server on plain HTTP for one test, with a transport to it.
func withDevServer(_ body: (DevServer, Transport) async throws -> Void) async throws {
    var configuration = DevServer.Configuration()
    configuration.tls = .none
    let server = try DevServer(configuration: configuration)
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    var transportConfiguration = TransportConfiguration(server: try await server.ready())
    transportConfiguration.maxRetries = 0
    let transport = try Transport(transportConfiguration)
    do {
        try await body(server, transport)
    } catch {
        try await transport.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
        throw error
    }
    try await transport.shutdown()
    await group.triggerGracefulShutdown()
    try await running.value
}

func json(_ text: String) throws -> JSON { try JSON.parse(Array(text.utf8)) }

@Suite struct ApplierTests {
    static let config = """
        apiVersion: plugboard.dev/v1alpha1
        kind: PlugboardConfig
        plugins:
          - name: shop
            endpoint: {url: "http://127.0.0.1:1/reconcile"}
            watch: {apiVersion: v1, kind: ConfigMap}
            owns:
              - {apiVersion: v1, kind: Secret}
            permissions:
              - {apiVersion: v1, kind: Secret, namespaces: same}
              - {apiVersion: v1, kind: ServiceAccount, namespaces: [shared], verbs: [create]}
              - {apiVersion: v1, kind: Namespace, verbs: [apply]}
        """

    func applier(_ transport: Transport) async throws -> ActionApplier {
        let config = try PlugboardConfig.parse(yaml: Self.config, file: "test.yaml")
        let plugins = try await ConfigResolver(discovery: Discovery(transport: transport)).resolve(config)
        return ActionApplier(plugin: plugins[0], transport: transport, writeLimiter: TokenBucket(qps: 1000, burst: 1000))
    }

    func createPrimary(_ transport: Transport) async throws -> KubeObject {
        let client = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
        return try KubeObject(bytes: try await client.create(Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shop"}}"#.utf8)))
    }

    func secret(_ name: String, namespace: String? = nil) throws -> JSON {
        var object = try json(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"stringData":{"k":"v"}}"#)
        object[path: ["metadata", "name"]] = .string(name)
        if let namespace { object[path: ["metadata", "namespace"]] = .string(namespace) }
        return object
    }

    @Test func ownedChildrenGetAControllerReferenceAndWritesLand() async throws {
        try await withDevServer { server, transport in
            let applier = try await applier(transport)
            let primary = try await createPrimary(transport)
            let key = ReconcileKey(primary.metadata)
            try await applier.apply([.apply(object: try secret("s1"), force: true, ownerReference: nil),
                                     .event(type: .normal, reason: "Created", message: "made s1"),
                                     .addFinalizer("example.com/cleanup")], key: key, primary: primary)
            let secrets = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "secrets"), namespace: "default")
            let stored = try KubeObject(bytes: try await secrets.get("s1"))
            #expect(stored.metadata.controllerReference?.uid == primary.metadata.uid)
            #expect(stored.metadata.controllerReference?.kind == "ConfigMap")
            let events = try await ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "events"), namespace: "default").listObjects()
            #expect(try events.items.contains { try $0.json["reason"] == "Created" && $0.json[path: ["involvedObject", "uid"]] == .string(primary.metadata.uid) })
            let configMaps = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
            let updated = try KubeObject(bytes: try await configMaps.get("shop"))
            #expect(updated.metadata.finalizers == ["example.com/cleanup"])
            // A finalizer change from a stale cached object is a conflict, not a silent overwrite
            // of the list the server has now.
            do {
                try await applier.apply([.addFinalizer("example.com/other")], key: key, primary: primary)
                Issue.record("a stale finalizer patch was accepted")
            } catch let failed as ActionFailed {
                #expect(failed.error.isConflict)
            }
            try await applier.apply([.removeFinalizer("example.com/cleanup")], key: key, primary: updated)
            #expect(try KubeObject(bytes: try await configMaps.get("shop")).metadata.finalizers == [])
            // Deleting what is gone and creating what exists are not errors.
            try await applier.apply([.create(object: try secret("s1"), ownerReference: nil),
                                     .delete(target: ObjectTarget(apiVersion: "v1", kind: "Secret", namespace: nil, name: "s1"), uid: nil),
                                     .delete(target: ObjectTarget(apiVersion: "v1", kind: "Secret", namespace: nil, name: "s1"), uid: nil)],
                                    key: key, primary: updated)
            await #expect(throws: KubeAPIError.self) { _ = try await secrets.get("s1") }
            _ = server
        }
    }

    /// Writes to the primary within one response chain: each starts from the
    /// resourceVersion the previous one produced, so they do not conflict with each other.
    @Test func writesToThePrimaryInOneResponseChain() async throws {
        try await withDevServer { _, transport in
            let applier = try await applier(transport)
            let primary = try await createPrimary(transport)
            try await applier.apply([.addFinalizer("example.com/a"), .addFinalizer("example.com/b"), .removeFinalizer("example.com/a"),
                                     .event(type: .normal, reason: "Done", message: "")],
                                    key: ReconcileKey(primary.metadata), primary: primary)
            let configMaps = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
            #expect(try KubeObject(bytes: try await configMaps.get("shop")).metadata.finalizers == ["example.com/b"])
        }
    }

    @Test(arguments: [
        ("ConfigMap.v1 is not in the plugin's permissions", PluginAction.create(object: try! json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#), ownerReference: false)),
        ("do not allow apply on Secret in namespace \"other\"", .apply(object: try! json(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","namespace":"other"}}"#), force: true, ownerReference: false)),
        ("do not allow apply on ServiceAccount in namespace \"shared\"", .apply(object: try! json(#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x","namespace":"shared"}}"#), force: true, ownerReference: false)),
        ("cluster-scoped but the object names namespace", .apply(object: try! json(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x","namespace":"default"}}"#), force: true, ownerReference: false)),
        ("do not allow delete on Namespace", .delete(target: ObjectTarget(apiVersion: "v1", kind: "Namespace", namespace: nil, name: "default"), uid: nil)),
        ("do not allow status on ConfigMap", .status(try! json(#"{"ready":true}"#))),
        ("an owner reference cannot cross namespaces", .create(object: try! json(#"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x","namespace":"shared"}}"#), ownerReference: true)),
        ("Secret is served as v1 for this plugin, not v2", .apply(object: try! json(#"{"apiVersion":"v2","kind":"Secret","metadata":{"name":"x"}}"#), force: true, ownerReference: nil)),
    ])
    func forbiddenActionsRejectTheWholeResponse(expected: String, action: PluginAction) async throws {
        try await withDevServer { _, transport in
            let applier = try await applier(transport)
            let primary = try await createPrimary(transport)
            // A valid action first: it must not be applied either.
            let valid = PluginAction.apply(object: try secret("first"), force: true, ownerReference: nil)
            do {
                try await applier.apply([valid, action], key: ReconcileKey(primary.metadata), primary: primary)
                Issue.record("accepted a forbidden action")
            } catch let rejected as RejectedAction {
                #expect(rejected.index == 1)
                #expect(rejected.reason.contains(expected), "\(rejected)")
            }
            let secrets = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "secrets"), namespace: "default")
            #expect(try await secrets.listObjects().items.isEmpty)
        }
    }

    @Test func actionsNeedingThePrimaryFailWhenItIsGone() async throws {
        try await withDevServer { _, transport in
            let applier = try await applier(transport)
            for action in [PluginAction.event(type: .normal, reason: "X", message: ""), .addFinalizer("a.b/c")] {
                #expect(throws: RejectedAction.self) {
                    _ = try applier.plan([action], key: ReconcileKey(namespace: "default", name: "gone"), primary: nil)
                }
            }
            // Without a primary, an owned child is written without an owner reference.
            let plan = try applier.plan([.apply(object: try secret("orphan"), force: true, ownerReference: nil)],
                                        key: ReconcileKey(namespace: "default", name: "gone"), primary: nil)
            guard case .apply(let body, _) = plan[0].operation else { Issue.record("not an apply"); return }
            #expect(body[path: ["metadata", "ownerReferences"]] == nil)
            #expect(body[path: ["metadata", "namespace"]] == "default")
        }
    }
}

@Suite struct ResolutionTests {
    func resolve(_ plugins: String, _ transport: Transport) async throws -> [ResolvedPlugin] {
        let config = try PlugboardConfig.parse(yaml: "apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\nplugins:\n" + plugins, file: "c.yaml")
        return try await ConfigResolver(discovery: Discovery(transport: transport)).resolve(config)
    }

    @Test func everyProblemIsReportedWithFileAndPlace() async throws {
        try await withDevServer { _, transport in
            do {
                _ = try await resolve("""
                      - name: a
                        endpoint: {url: "http://127.0.0.1:1/"}
                        watch: {apiVersion: example.com/v1, kind: Widget}
                        owns: [{apiVersion: apps/v1, kind: Deploymint}]
                      - name: b
                        endpoint: {url: "http://127.0.0.1:1/"}
                        watch: {apiVersion: v1, kind: ConfigMap}
                        permissions: [{apiVersion: v1, kind: ConfigMap, namespaces: all, verbs: [status]}]
                    """, transport)
                Issue.record("resolved a config with unknown kinds")
            } catch let error as ResolutionError {
                #expect(error.problems == [
                    "c.yaml: plugins[0].watch: the server does not serve example.com/v1 Widget (check the apiVersion and kind, and that its CRD is installed)",
                    "c.yaml: plugins[0].owns[0]: the server does not serve apps/v1 Deploymint (check the apiVersion and kind, and that its CRD is installed)",
                    "c.yaml: plugins[1].permissions: ConfigMap has no status subresource, so the status verb cannot be used",
                ])
            }
        }
    }

    @Test func defaultPermissionsOfAKindWithoutStatusAreAccepted() async throws {
        try await withDevServer { _, transport in
            let plugins = try await resolve("""
                  - name: a
                    endpoint: {url: "http://127.0.0.1:1/"}
                    watch: {apiVersion: v1, kind: ConfigMap}
                    owns: [{apiVersion: v1, kind: Secret}]
                """, transport)
            #expect(plugins.map(\.primary.typeKey) == ["ConfigMap.v1"])
            #expect(plugins[0].owns.map(\.typeKey) == ["Secret.v1"])
        }
    }
}
