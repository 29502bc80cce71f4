"""The real kubectl against `plugboard dev`: the workflows users run every day."""
import json
import time

from conftest import wait_for

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, enum: [red, green, blue]}
              tags:
                type: array
                items: {type: string}
          status:
            type: object
            properties:
              ready: {type: boolean}
"""

WIDGET = """
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: team-a
  labels: {tier: gold}
spec:
  size: 3
  color: red
"""


def setup_widgets(dev):
    dev.kubectl("create", "namespace", "team-a")
    dev.kubectl("apply", "-f", "-", input=CRD)
    dev.kubectl("wait", "--for", "condition=Established", "crd/widgets.example.com", "--timeout=10s")


def test_namespace_create_and_list(dev_server):
    out = dev_server.kubectl("create", "namespace", "team-a").stdout
    assert "namespace/team-a created" in out
    names = [ns["metadata"]["name"] for ns in dev_server.kubectl_json("get", "namespaces")["items"]]
    assert {"default", "kube-system", "team-a"} <= set(names)
    again = dev_server.kubectl("create", "namespace", "team-a", check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr


def test_crd_and_custom_resource_client_side_apply(dev_server):
    setup_widgets(dev_server)
    assert "widget.example.com/w1 created" in dev_server.kubectl("apply", "-f", "-", input=WIDGET).stdout
    widget = dev_server.kubectl_json("get", "widgets", "w1", "-n", "team-a")
    assert widget["spec"] == {"size": 3, "color": "red"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in widget["metadata"]["annotations"]
    # A second apply with a change patches the object.
    out = dev_server.kubectl("apply", "-f", "-", input=WIDGET.replace("size: 3", "size: 5")).stdout
    assert "configured" in out
    assert dev_server.kubectl_json("get", "wd", "w1", "-n", "team-a")["spec"]["size"] == 5
    # Printer columns show in the table output.
    table = dev_server.kubectl("get", "widgets", "-n", "team-a").stdout
    assert "SIZE" in table and "w1" in table and "5" in table


def test_custom_resource_server_side_apply_and_conflicts(dev_server):
    setup_widgets(dev_server)
    out = dev_server.kubectl("apply", "--server-side", "-f", "-", input=WIDGET).stdout
    assert "serverside-applied" in out
    widget = dev_server.kubectl_json("get", "widget", "w1", "-n", "team-a", "--show-managed-fields")
    managers = {m["manager"]: m for m in widget["metadata"]["managedFields"]}
    assert managers["kubectl"]["operation"] == "Apply"
    assert "f:size" in json.dumps(managers["kubectl"]["fieldsV1"])
    # Another manager changes size; the next apply by kubectl with a different size conflicts.
    dev_server.kubectl("patch", "widget", "w1", "-n", "team-a", "--type=merge", "-p", '{"spec":{"size":7}}', "--field-manager=other")
    conflict = dev_server.kubectl("apply", "--server-side", "-f", "-", input=WIDGET.replace("size: 3", "size: 4"), check=False)
    assert conflict.returncode != 0
    assert "conflict" in conflict.stderr.lower() and ".spec.size" in conflict.stderr
    forced = dev_server.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=WIDGET.replace("size: 3", "size: 4"))
    assert forced.returncode == 0
    assert dev_server.kubectl_json("get", "widget", "w1", "-n", "team-a")["spec"]["size"] == 4


def test_schema_validation_rejects_bad_custom_resource(dev_server):
    setup_widgets(dev_server)
    bad = dev_server.kubectl("apply", "-f", "-", input=WIDGET.replace("size: 3", "size: 0").replace("color: red", "color: pink"), check=False)
    assert bad.returncode != 0
    assert "spec.size" in bad.stderr and "spec.color" in bad.stderr


def test_label_selectors_and_json_output(dev_server):
    dev_server.kubectl("create", "configmap", "a", "--from-literal=k=1")
    dev_server.kubectl("create", "configmap", "b", "--from-literal=k=2")
    dev_server.kubectl("label", "configmap", "a", "app=web", "tier=front")
    dev_server.kubectl("label", "configmap", "b", "app=db")
    names = lambda *sel: sorted(i["metadata"]["name"] for i in dev_server.kubectl_json("get", "configmaps", *sel)["items"])
    assert names("-l", "app=web") == ["a"]
    assert names("-l", "app in (web,db)") == ["a", "b"]
    assert names("-l", "app!=web") == ["b"]
    assert names("-l", "tier") == ["a"]
    assert names("-l", "!tier,app") == ["b"]
    assert dev_server.kubectl_json("get", "configmap", "a")["data"] == {"k": "1"}


def test_watch_sees_update_from_another_client(dev_server):
    dev_server.kubectl("create", "configmap", "watched", "--from-literal=v=1")
    watcher = dev_server.kubectl_popen("get", "configmap", "watched", "-w", "-o", "json", "--output-watch-events")
    try:
        # The watch first reports the current state.
        first = read_json_object(watcher.stdout)
        assert first["object"]["data"] == {"v": "1"}
        dev_server.kubectl("patch", "configmap", "watched", "--type=merge", "-p", '{"data":{"v":"2"}}')
        event = read_json_object(watcher.stdout)
        assert event["type"] == "MODIFIED"
        assert event["object"]["data"] == {"v": "2"}
    finally:
        watcher.kill()
        watcher.wait()


def test_table_watch_prints_rows(dev_server):
    dev_server.kubectl("create", "configmap", "t1", "--from-literal=v=1")
    watcher = dev_server.kubectl_popen("get", "configmaps", "-w")
    try:
        header = watcher.stdout.readline()
        assert "NAME" in header
        wait_for(lambda: "t1" in watcher.stdout.readline(), message="row for t1")
        dev_server.kubectl("create", "configmap", "t2", "--from-literal=v=1")
        wait_for(lambda: "t2" in watcher.stdout.readline(), message="row for t2")
    finally:
        watcher.kill()
        watcher.wait()


def read_json_object(stream):
    """Reads one pretty-printed JSON object from kubectl's stdout."""
    text = ""
    depth = 0
    started = False
    while True:
        ch = stream.read(1)
        if ch == "":
            raise AssertionError(f"stream ended; read so far: {text!r}")
        if ch == "{":
            depth += 1
            started = True
        if started:
            text += ch
        if ch == "}":
            depth -= 1
            if started and depth == 0:
                return json.loads(text)


def test_patch_merge_and_json(dev_server):
    dev_server.kubectl("create", "configmap", "p", "--from-literal=a=1", "--from-literal=b=2")
    dev_server.kubectl("patch", "configmap", "p", "--type=merge", "-p", '{"data":{"a":"10","b":null}}')
    assert dev_server.kubectl_json("get", "configmap", "p")["data"] == {"a": "10"}
    dev_server.kubectl("patch", "configmap", "p", "--type=json", "-p", '[{"op":"add","path":"/data/c","value":"3"},{"op":"remove","path":"/data/a"}]')
    assert dev_server.kubectl_json("get", "configmap", "p")["data"] == {"c": "3"}
    failed = dev_server.kubectl("patch", "configmap", "p", "--type=json", "-p", '[{"op":"remove","path":"/data/nope"}]', check=False)
    assert failed.returncode != 0
    assert dev_server.kubectl_json("get", "configmap", "p")["data"] == {"c": "3"}


def test_strategic_merge_patch_merges_containers_by_name(dev_server):
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1"}, {"name": "sidecar", "image": "busybox"}]}}},
    }
    dev_server.kubectl("apply", "-f", "-", input=json.dumps(deployment))
    dev_server.kubectl("patch", "deployment", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}')
    containers = dev_server.kubectl_json("get", "deployment", "web")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "nginx:2"), ("sidecar", "busybox")]
    assert dev_server.kubectl_json("get", "deployment", "web")["metadata"]["generation"] == 2


def test_delete_with_finalizer_then_release(dev_server):
    dev_server.kubectl("create", "configmap", "held", "--from-literal=a=1")
    dev_server.kubectl("patch", "configmap", "held", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/cleanup"]}}')
    dev_server.kubectl("delete", "configmap", "held", "--wait=false")
    held = dev_server.kubectl_json("get", "configmap", "held")
    assert "deletionTimestamp" in held["metadata"]
    dev_server.kubectl("patch", "configmap", "held", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    gone = dev_server.kubectl("get", "configmap", "held", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_api_resources_lists_crd_and_stops_after_delete(dev_server):
    setup_widgets(dev_server)
    out = dev_server.kubectl("api-resources", "--api-group=example.com").stdout
    assert "widgets" in out and "wd" in out and "Widget" in out
    dev_server.kubectl("apply", "-f", "-", input=WIDGET)
    dev_server.kubectl("delete", "crd", "widgets.example.com")
    gone = dev_server.kubectl("get", "widgets", "-n", "team-a", check=False)
    assert gone.returncode != 0


def test_namespace_delete_removes_contents(dev_server):
    dev_server.kubectl("create", "namespace", "doomed")
    dev_server.kubectl("create", "configmap", "c", "-n", "doomed", "--from-literal=a=1")
    dev_server.kubectl("delete", "namespace", "doomed")
    assert dev_server.kubectl("get", "namespace", "doomed", check=False).returncode != 0
    missing = dev_server.kubectl("create", "configmap", "c", "-n", "doomed", "--from-literal=a=1", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr
