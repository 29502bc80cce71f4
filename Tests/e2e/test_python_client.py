"""The official Kubernetes Python client against `plugboard dev`: paginated lists and resumable watches."""
import threading

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


@pytest.fixture
def core(dev_server):
    api_client = config.new_client_from_config(config_file=str(dev_server.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def make_configmaps(core, count, namespace="default", labels=None):
    for i in range(count):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm-{i:03d}", labels=labels or {}), data={"i": str(i)}))


def test_list_with_pagination_returns_each_object_once(core):
    make_configmaps(core, 23)
    seen = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map("default", limit=5, _continue=token)
        pages += 1
        seen += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 23 - len(seen)
    assert pages == 5
    assert seen == [f"cm-{i:03d}" for i in range(23)]


def test_pagination_across_namespaces_whose_names_are_prefixes(core):
    # "a" sorts before "a-b" as a namespace, but "a-b/..." sorts before "a/..." as text:
    # pages must follow one order, so every object comes exactly once.
    for ns in ["a", "a-b", "b"]:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        make_configmaps(core, 4, namespace=ns)
    seen, token = [], None
    while True:
        page = core.list_config_map_for_all_namespaces(limit=3, _continue=token)
        seen += [f"{i.metadata.namespace}/{i.metadata.name}" for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    ours = [key for key in seen if key.split("/")[0] in ("a", "a-b", "b")]
    assert sorted(ours) == sorted(f"{ns}/cm-{i:03d}" for ns in ["a", "a-b", "b"] for i in range(4))
    assert len(seen) == len(set(seen))
    # A namespaced list pages through its own namespace only.
    first = core.list_namespaced_config_map("a", limit=3)
    rest = core.list_namespaced_config_map("a", limit=3, _continue=first.metadata._continue)
    assert [i.metadata.name for i in first.items + rest.items] == [f"cm-{i:03d}" for i in range(4)]
    assert first.metadata.remaining_item_count == 1 and rest.metadata._continue is None


def test_pagination_is_a_consistent_snapshot(core):
    make_configmaps(core, 6)
    first = core.list_namespaced_config_map("default", limit=3)
    # Changes after the first page do not show up in the rest of the list.
    core.delete_namespaced_config_map("cm-004", "default")
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-999")))
    rest = core.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    assert [i.metadata.name for i in first.items + rest.items] == [f"cm-{i:03d}" for i in range(6)]
    assert rest.metadata.resource_version == first.metadata.resource_version


def test_watch_resumes_from_resource_version_without_loss(core):
    make_configmaps(core, 2)
    listed = core.list_namespaced_config_map("default")
    rv = listed.metadata.resource_version
    # Changes made while nobody watches...
    core.patch_namespaced_config_map("cm-000", "default", {"data": {"i": "changed"}})
    core.delete_namespaced_config_map("cm-001", "default")
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="late")))
    # ...are all delivered, in order, to a watch that resumes from the list's resourceVersion.
    w = watch.Watch()
    events = []
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
        events.append((event["type"], event["object"].metadata.name))
        if len(events) == 3:
            w.stop()
    assert events == [("MODIFIED", "cm-000"), ("DELETED", "cm-001"), ("ADDED", "late")]


def test_watch_from_compacted_resource_version_gets_410(core, dev_server):
    make_configmaps(core, 1)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.patch_namespaced_config_map("cm-000", "default", {"data": {"i": "x"}})
    dev_server.control("history/compact")
    w = watch.Watch()
    with pytest.raises(ApiException) as info:
        for _ in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
            pass
    assert info.value.status == 410


def test_label_selected_watch_sees_objects_enter_and_leave(core):
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x", labels={"app": "a"})))
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.patch_namespaced_config_map("x", "default", {"metadata": {"labels": {"app": "b"}}})
    core.patch_namespaced_config_map("x", "default", {"metadata": {"labels": {"app": "a"}}})
    w = watch.Watch()
    events = []
    for event in w.stream(core.list_namespaced_config_map, "default", label_selector="app=a", resource_version=rv, timeout_seconds=5):
        events.append(event["type"])
        if len(events) == 2:
            w.stop()
    assert events == ["DELETED", "ADDED"]


def test_errors_are_status_objects(core):
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", "default")
    assert missing.value.status == 404 and '"reason":"NotFound"' in missing.value.body
    make_configmaps(core, 1)
    current = core.read_namespaced_config_map("cm-000", "default")
    current.metadata.resource_version = "1"
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cm-000", "default", current)
    assert conflict.value.status == 409 and '"reason":"Conflict"' in conflict.value.body
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name")))
    assert invalid.value.status == 422 and "metadata.name" in invalid.value.body
