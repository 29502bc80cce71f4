"""Raw HTTP against `plugboard dev`: the REST semantics clients rely on, bad input, and fault injection."""
import json
import threading
import time

import requests

from conftest import wait_for

CM = "/api/v1/namespaces/default/configmaps"


def cm(name, data=None, labels=None, **metadata):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}, "data": data or {}}
    if labels:
        body["metadata"]["labels"] = labels
    return body


def create(dev, name, **kwargs):
    response = dev.post_json(CM, cm(name, **kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def watch_lines(dev, path, params, count, timeout=10):
    """Opens a watch and returns its first `count` events."""
    response = dev.get(path, params={"watch": "true", **params}, stream=True, timeout=timeout)
    assert response.status_code == 200, response.text
    events = []
    for line in response.iter_lines():
        if line:
            events.append(json.loads(line))
            if len(events) == count:
                break
    response.close()
    return events


# --- discovery and health ---------------------------------------------------

def test_health_and_version_are_public(dev_server):
    anonymous = requests.get(dev_server.url + "/healthz", verify=dev_server.session.verify, timeout=5)
    assert anonymous.status_code == 200 and anonymous.text == "ok"
    assert requests.get(dev_server.url + "/version", verify=dev_server.session.verify, timeout=5).json()["major"] == "1"


def test_requests_without_valid_credentials_get_401(dev_server):
    anonymous = requests.get(dev_server.url + "/api/v1/namespaces", verify=dev_server.session.verify, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "Unauthorized"
    wrong = requests.get(dev_server.url + "/api/v1/namespaces", headers={"Authorization": "Bearer nope"}, verify=dev_server.session.verify, timeout=5)
    assert wrong.status_code == 401


def test_discovery_lists_resources_and_subresources(dev_server):
    core = dev_server.get("/api/v1").json()
    names = {r["name"]: r for r in core["resources"]}
    assert names["pods"]["namespaced"] and "pods/status" in names and names["configmaps"]["shortNames"] == ["cm"]
    assert not names["namespaces"]["namespaced"]
    groups = {g["name"] for g in dev_server.get("/apis").json()["groups"]}
    assert {"apps", "batch", "coordination.k8s.io", "apiextensions.k8s.io", "events.k8s.io"} <= groups
    apps = dev_server.get("/apis/apps/v1").json()
    assert {"deployments", "deployments/status", "replicasets", "statefulsets"} <= {r["name"] for r in apps["resources"]}


# --- core semantics ---------------------------------------------------------

def test_resource_versions_increase_and_generation_tracks_spec(dev_server):
    first = create(dev_server, "a")
    second = create(dev_server, "b")
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert first["metadata"]["uid"] and first["metadata"]["creationTimestamp"]
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    created = dev_server.post_json("/apis/apps/v1/namespaces/default/deployments", deploy).json()
    assert created["metadata"]["generation"] == 1
    path = "/apis/apps/v1/namespaces/default/deployments/d"
    labelled = dev_server.request("PATCH", path, data=json.dumps({"metadata": {"labels": {"x": "y"}}}), headers={"Content-Type": "application/merge-patch+json"}).json()
    assert labelled["metadata"]["generation"] == 1
    scaled = dev_server.request("PATCH", path, data=json.dumps({"spec": {"replicas": 3}}), headers={"Content-Type": "application/merge-patch+json"}).json()
    assert scaled["metadata"]["generation"] == 2


def test_noop_update_keeps_resource_version(dev_server):
    created = create(dev_server, "same", data={"a": "1"})
    again = dev_server.request("PUT", CM + "/same", json=created).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_stale_update_conflicts_and_duplicate_create_exists(dev_server):
    created = create(dev_server, "c1")
    changed = dict(created, data={"x": "1"})
    assert dev_server.request("PUT", CM + "/c1", json=changed).status_code == 200
    stale = dev_server.request("PUT", CM + "/c1", json=dict(created, data={"x": "2"}))
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    dup = dev_server.post_json(CM, cm("c1"))
    assert dup.status_code == 409 and dup.json()["reason"] == "AlreadyExists"
    missing = dev_server.get(CM + "/zzz")
    assert missing.status_code == 404 and missing.json()["details"] == {"name": "zzz", "kind": "configmaps"}


def test_status_subresource_separates_status_and_spec(dev_server):
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "s"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}}, "template": {"metadata": {"labels": {"app": "s"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
              "status": {"replicas": 99}}
    created = dev_server.post_json("/apis/apps/v1/namespaces/default/deployments", deploy).json()
    assert "replicas" not in created.get("status", {})
    path = "/apis/apps/v1/namespaces/default/deployments/s"
    # A write to the main resource ignores status...
    created["status"] = {"replicas": 5}
    created["spec"]["replicas"] = 2
    updated = dev_server.request("PUT", path, json=created).json()
    assert updated["spec"]["replicas"] == 2 and "replicas" not in updated.get("status", {})
    # ...and a write to /status changes only status.
    updated["status"] = {"replicas": 2}
    updated["spec"]["replicas"] = 10
    status = dev_server.request("PUT", path + "/status", json=updated).json()
    assert status["status"] == {"replicas": 2} and status["spec"]["replicas"] == 2


def test_field_selectors_and_set_based_label_selectors(dev_server):
    create(dev_server, "one", labels={"env": "prod"})
    create(dev_server, "two", labels={"env": "dev"})
    names = lambda params: [i["metadata"]["name"] for i in dev_server.get(CM, params=params).json()["items"]]
    assert names({"fieldSelector": "metadata.name=two"}) == ["two"]
    assert names({"fieldSelector": "metadata.name!=two"}) == ["one"]
    assert names({"labelSelector": "env notin (dev)"}) == ["one"]
    assert names({"labelSelector": "env in (dev,prod),!missing"}) == ["one", "two"]
    assert [i["metadata"]["name"] for i in dev_server.get("/api/v1/configmaps", params={"fieldSelector": "metadata.namespace=default"}).json()["items"]] == ["one", "two"]


def test_resource_version_match_exact_reads_the_past(dev_server):
    create(dev_server, "p", data={"v": "1"})
    rv = dev_server.get(CM).json()["metadata"]["resourceVersion"]
    dev_server.request("PATCH", CM + "/p", data='{"data":{"v":"2"}}', headers={"Content-Type": "application/merge-patch+json"})
    past = dev_server.get(CM, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"}).json()
    assert past["items"][0]["data"] == {"v": "1"} and past["metadata"]["resourceVersion"] == rv
    now = dev_server.get(CM, params={"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"}).json()
    assert now["items"][0]["data"] == {"v": "2"}
    too_new = dev_server.get(CM, params={"resourceVersion": str(int(rv) + 1000)})
    assert too_new.status_code == 504


def test_continue_token_from_before_compaction_is_gone(dev_server):
    for i in range(4):
        create(dev_server, f"x{i}")
    first = dev_server.get(CM, params={"limit": 2}).json()
    create(dev_server, "later")
    dev_server.control("history/compact")
    response = dev_server.get(CM, params={"limit": 2, "continue": first["metadata"]["continue"]})
    assert response.status_code == 410 and response.json()["reason"] == "Expired"


def test_dry_run_stores_nothing(dev_server):
    response = dev_server.post_json(CM, cm("dry"), params={"dryRun": "All"})
    assert response.status_code == 201 and response.json()["metadata"]["name"] == "dry"
    assert dev_server.get(CM + "/dry").status_code == 404


def test_yaml_body_and_generate_name(dev_server):
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata:\n  when: 2024-01-01\n  n: '5'\n"
    response = dev_server.request("POST", CM, data=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["metadata"]["name"].startswith("gen-") and len(created["metadata"]["name"]) == 9
    assert created["data"] == {"when": "2024-01-01", "n": "5"}


# --- deletion ---------------------------------------------------------------

def owned(dev, name, owner, **extra):
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"], **extra}
    return create(dev, name, ownerReferences=[ref])


def test_background_deletion_collects_dependents(dev_server):
    owner = create(dev_server, "owner")
    owned(dev_server, "child", owner)
    assert dev_server.request("DELETE", CM + "/owner").status_code == 200
    assert dev_server.get(CM + "/child").status_code == 404


def test_orphan_deletion_keeps_dependents_without_the_reference(dev_server):
    owner = create(dev_server, "owner")
    owned(dev_server, "child", owner)
    dev_server.request("DELETE", CM + "/owner", json={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"})
    child = dev_server.get(CM + "/child").json()
    assert "ownerReferences" not in child["metadata"]


def test_foreground_deletion_waits_for_dependents(dev_server):
    owner = create(dev_server, "owner")
    child = owned(dev_server, "child", owner, blockOwnerDeletion=True)
    dev_server.request("PATCH", CM + "/child", data='{"metadata":{"finalizers":["hold"]}}', headers={"Content-Type": "application/merge-patch+json"})
    response = dev_server.request("DELETE", CM + "/owner", params={"propagationPolicy": "Foreground"})
    assert response.status_code == 200
    waiting = dev_server.get(CM + "/owner").json()
    assert "foregroundDeletion" in waiting["metadata"]["finalizers"] and waiting["metadata"]["deletionTimestamp"]
    assert dev_server.get(CM + "/child").json()["metadata"]["deletionTimestamp"]
    # Releasing the child lets both go.
    dev_server.request("PATCH", CM + "/child", data='{"metadata":{"finalizers":null}}', headers={"Content-Type": "application/merge-patch+json"})
    assert dev_server.get(CM + "/child").status_code == 404
    assert dev_server.get(CM + "/owner").status_code == 404


def test_delete_preconditions(dev_server):
    created = create(dev_server, "pre")
    wrong = dev_server.request("DELETE", CM + "/pre", json={"preconditions": {"uid": "not-it"}})
    assert wrong.status_code == 409 and "Precondition failed" in wrong.json()["message"]
    right = dev_server.request("DELETE", CM + "/pre", json={"preconditions": {"uid": created["metadata"]["uid"], "resourceVersion": created["metadata"]["resourceVersion"]}})
    assert right.status_code == 200


def test_deletecollection_with_selector(dev_server):
    create(dev_server, "k1", labels={"batch": "1"})
    create(dev_server, "k2", labels={"batch": "1"})
    create(dev_server, "k3", labels={"batch": "2"})
    response = dev_server.request("DELETE", CM, params={"labelSelector": "batch=1"})
    assert response.status_code == 200
    assert sorted(i["metadata"]["name"] for i in response.json()["items"]) == ["k1", "k2"]
    assert [i["metadata"]["name"] for i in dev_server.get(CM).json()["items"]] == ["k3"]


def test_cannot_create_in_missing_namespace(dev_server):
    response = dev_server.post_json("/api/v1/namespaces/ghost/configmaps", cm("x"))
    assert response.status_code == 404 and response.json()["message"] == 'namespaces "ghost" not found'


# --- watch ------------------------------------------------------------------

def test_watch_from_zero_sends_current_state_then_changes(dev_server):
    create(dev_server, "w1")
    def later():
        time.sleep(0.3)
        create(dev_server, "w2")
    threading.Thread(target=later).start()
    events = watch_lines(dev_server, CM, {"resourceVersion": "0"}, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w1"), ("ADDED", "w2")]


def test_streaming_list_ends_with_initial_events_bookmark(dev_server):
    create(dev_server, "s1")
    create(dev_server, "s2")
    events = watch_lines(dev_server, CM, {"sendInitialEvents": "true", "allowWatchBookmarks": "true", "resourceVersionMatch": "NotOlderThan", "resourceVersion": ""}, 3)
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    bad = dev_server.get(CM, params={"watch": "true", "sendInitialEvents": "true"})
    assert bad.status_code == 422


def test_periodic_bookmarks(dev_server):
    rv = dev_server.get(CM).json()["metadata"]["resourceVersion"]
    events = watch_lines(dev_server, CM, {"resourceVersion": rv, "allowWatchBookmarks": "true"}, 1)
    assert events[0]["type"] == "BOOKMARK" and int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_watch_timeout_ends_the_stream(dev_server):
    start = time.monotonic()
    response = dev_server.get(CM, params={"watch": "true", "timeoutSeconds": "1", "resourceVersion": dev_server.get(CM).json()["metadata"]["resourceVersion"]})
    assert response.status_code == 200 and response.text == ""
    assert time.monotonic() - start < 10


def test_watch_from_compacted_version_gets_expired_error_event(dev_server):
    create(dev_server, "old")
    rv = dev_server.get(CM).json()["metadata"]["resourceVersion"]
    create(dev_server, "new")
    dev_server.control("history/compact")
    events = watch_lines(dev_server, CM, {"resourceVersion": rv}, 1)
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["kind"] == "Status" and status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {rv}")


def test_cut_watch_resumes_without_losing_events(dev_server):
    rv = dev_server.get(CM).json()["metadata"]["resourceVersion"]
    response = dev_server.get(CM, params={"watch": "true", "resourceVersion": rv}, stream=True)
    lines = response.iter_lines()
    create(dev_server, "before-cut")
    first = json.loads(next(l for l in lines if l))
    dev_server.control("watches/cut")
    assert all(not l for l in lines)  # the stream ends
    create(dev_server, "during-gap-1")
    create(dev_server, "during-gap-2")
    resumed = watch_lines(dev_server, CM, {"resourceVersion": first["object"]["metadata"]["resourceVersion"]}, 2)
    assert [e["object"]["metadata"]["name"] for e in resumed] == ["during-gap-1", "during-gap-2"]


# --- bad input --------------------------------------------------------------

def test_malformed_json_is_400_and_server_keeps_serving(dev_server):
    response = dev_server.request("POST", CM, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["reason"] == "BadRequest"
    assert dev_server.get(CM).status_code == 200


def test_unknown_resource_and_group_are_404(dev_server):
    assert dev_server.get("/api/v1/namespaces/default/widgets").status_code == 404
    assert dev_server.get("/apis/nope.example.com/v1/things").status_code == 404


def test_wrong_kind_or_api_version_for_path_is_400(dev_server):
    body = cm("x")
    body["kind"] = "Secret"
    assert dev_server.post_json(CM, body).status_code == 400
    body = cm("x")
    body["apiVersion"] = "apps/v1"
    assert dev_server.post_json(CM, body).status_code == 400


def test_oversize_body_is_413(dev_server):
    big = cm("big", data={"blob": "x" * (3 * 1024 * 1024 + 10)})
    response = dev_server.post_json(CM, big)
    assert response.status_code == 413


def test_invalid_selectors_are_400(dev_server):
    assert dev_server.get(CM, params={"labelSelector": "a in (b"}).status_code == 400
    field = dev_server.get(CM, params={"fieldSelector": "spec.nope=1"})
    assert field.status_code == 400 and "field label not supported" in field.json()["message"]


def test_bad_patches(dev_server):
    create(dev_server, "p", data={"a": "1"})
    not_a_patch = dev_server.request("PATCH", CM + "/p", data='{"op":"add"}', headers={"Content-Type": "application/json-patch+json"})
    assert not_a_patch.status_code == 400
    failing = dev_server.request("PATCH", CM + "/p", data='[{"op":"test","path":"/data/a","value":"2"}]', headers={"Content-Type": "application/json-patch+json"})
    assert failing.status_code == 422
    unknown_type = dev_server.request("PATCH", CM + "/p", data="{}", headers={"Content-Type": "text/plain"})
    assert unknown_type.status_code == 415
    assert dev_server.get(CM + "/p").json()["data"] == {"a": "1"}


def test_invalid_names_are_422_with_causes(dev_server):
    response = dev_server.post_json(CM, cm("Not_Valid"))
    assert response.status_code == 422
    causes = response.json()["details"]["causes"]
    assert causes[0]["field"] == "metadata.name" and causes[0]["reason"] == "FieldValueInvalid"


# --- fault injection --------------------------------------------------------

def test_injected_429_carries_retry_after_then_clears(dev_server):
    dev_server.control("faults", {"verb": "list", "resource": "configmaps", "code": 429, "retryAfterSeconds": 2, "count": 2})
    for _ in range(2):
        throttled = dev_server.get(CM)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
        assert throttled.json()["reason"] == "TooManyRequests"
    assert dev_server.get(CM).status_code == 200


def test_injected_500_only_for_matching_verb(dev_server):
    dev_server.control("faults", {"verb": "create", "code": 500})
    assert dev_server.get(CM).status_code == 200
    assert dev_server.post_json(CM, cm("x")).status_code == 500
    assert dev_server.post_json(CM, cm("x")).status_code == 201


def test_injected_latency(dev_server):
    dev_server.control("latency", {"milliseconds": 300})
    start = time.monotonic()
    dev_server.get(CM)
    assert time.monotonic() - start >= 0.3
    dev_server.control("faults", method="DELETE")


def test_bad_fault_rule_is_rejected(dev_server):
    response = dev_server.request("POST", "/dev/faults", json={"code": 200})
    assert response.status_code == 400 and "code" in response.json()["message"]


def test_server_side_apply_conflict_is_409_with_a_cause_per_field(dev_server):
    apply = lambda body, manager, force=False: dev_server.request(
        "PATCH", CM + "/ssa", data=json.dumps(body), params={"fieldManager": manager, "force": str(force).lower()},
        headers={"Content-Type": "application/apply-patch+yaml"})
    created = apply(cm("ssa", data={"a": "1", "b": "2"}), "alice")
    assert created.status_code == 201, created.text
    conflict = apply(cm("ssa", data={"a": "9", "b": "8"}), "bob")
    assert conflict.status_code == 409
    status = conflict.json()
    assert status["reason"] == "Conflict"
    causes = status["details"]["causes"]
    assert sorted(c["field"] for c in causes) == [".data.a", ".data.b"]
    assert all(c["reason"] == "FieldManagerConflict" and c["message"].startswith('conflict with "alice"') for c in causes)
    assert dev_server.get(CM + "/ssa").json()["data"] == {"a": "1", "b": "2"}
    forced = apply(cm("ssa", data={"a": "9"}), "bob", force=True)
    assert forced.status_code == 200 and forced.json()["data"] == {"a": "9", "b": "2"}
    missing_manager = dev_server.request("PATCH", CM + "/ssa", data=json.dumps(cm("ssa")), headers={"Content-Type": "application/apply-patch+yaml"})
    assert missing_manager.status_code == 422 and "fieldManager" in missing_manager.json()["message"]


def test_malformed_yaml_is_400(dev_server):
    response = dev_server.request("POST", CM, data="metadata: [unclosed\n", headers={"Content-Type": "application/yaml"})
    assert response.status_code == 400 and response.json()["reason"] == "BadRequest"
    two = dev_server.request("POST", CM, data="a: 1\n---\nb: 2\n", headers={"Content-Type": "application/yaml"})
    assert two.status_code == 400


def test_garbage_requests_never_break_the_server_or_its_state(dev_server):
    import random
    create(dev_server, "keep", data={"k": "v"})
    before = dev_server.get(CM).json()
    rng = random.Random(7)
    bodies = [b"", b"{", b"[]", b"null", b"\xff\xfe\x00", b'{"kind":5}', b'{"metadata":"x"}', b'{"metadata":{"name":["a"]}}',
              b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":1}}', bytes(rng.randrange(256) for _ in range(300))]
    content_types = ["application/json", "application/yaml", "application/merge-patch+json", "application/json-patch+json",
                     "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf", "text/html"]
    for body in bodies:
        for content_type in content_types:
            for method, path in (("POST", CM), ("PUT", CM + "/keep"), ("PATCH", CM + "/keep"), ("DELETE", CM + "/nope")):
                response = dev_server.request(method, path, data=body, headers={"Content-Type": content_type}, params={"fieldManager": "fuzz"})
                assert 400 <= response.status_code < 500 or response.status_code in (200, 201), (method, content_type, body, response.status_code, response.text)
                assert response.json()["kind"] in ("Status", "ConfigMap"), response.text
    after = dev_server.get(CM).json()
    assert [i["metadata"]["name"] for i in after["items"]] == ["keep"]
    assert after["items"][0]["data"] == {"k": "v"}
    assert after["items"][0]["metadata"]["resourceVersion"] == before["items"][0]["metadata"]["resourceVersion"]
