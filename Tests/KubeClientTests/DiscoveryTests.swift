import DevAPIServer
import KubeClient
import KubeCore
import Testing

@Suite struct DiscoveryTests {
    @Test func mapsKindsAndResourcesOfBuiltins() async throws {
        try await withClient { _, transport in
            let discovery = Discovery(transport: transport)
            let deployment = try await discovery.mapping(apiVersion: "apps/v1", kind: "Deployment")
            #expect(deployment.resource == GroupVersionResource(group: "apps", version: "v1", resource: "deployments"))
            #expect(deployment.namespaced)
            #expect(deployment.subresources.contains("status"))
            let namespace = try await discovery.mapping(group: "", version: nil, resource: "ns")
            #expect(namespace.kind == "Namespace" && !namespace.namespaced)
        }
    }

    @Test func aCRDInstalledAfterTheFirstReadIsFoundByRefresh() async throws {
        try await withClient { server, transport in
            let discovery = Discovery(transport: transport)
            _ = try await discovery.all()
            let crds = ResourceClient(transport: transport, resource: GroupVersionResource(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions"), namespace: nil)
            let crd: JSON = [
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "gadgets.example.com"],
                "spec": ["group": "example.com", "scope": "Cluster", "names": ["plural": "gadgets", "kind": "Gadget"],
                         "versions": [["name": "v1", "served": true, "storage": true,
                                       "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]],
            ]
            _ = try await crds.create(crd.serialized())
            let gadget = try await discovery.mapping(apiVersion: "example.com/v1", kind: "Gadget")
            #expect(gadget.resource.resource == "gadgets" && !gadget.namespaced)
        }
    }

    @Test func unknownKindsSayWhatWasAskedFor() async throws {
        try await withClient { _, transport in
            let discovery = Discovery(transport: transport)
            await #expect { try await discovery.mapping(apiVersion: "example.com/v9", kind: "Nothing") } throws: {
                "\($0)" == "the server does not serve kind Nothing in example.com/v9"
            }
        }
    }
}
