"""The example plugins under the real host: `plugboard dev` with the default
example configuration (Node WebApp controller, Python ConfigMap propagator) and
with the Swift checksum annotator, objects changed with the real kubectl, and the
cluster converging."""
import hashlib
import json
import subprocess

import pytest

from conftest import ROOT, DevServer, wait_for


def get(dev, kind, name, namespace="default"):
    result = dev.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


@pytest.fixture
def examples(tmp_path):
    # No --config: `plugboard dev` run from the repository root picks plugins/plugboard-dev.yaml
    # and creates the CRD and the samples.
    dev = DevServer(tmp_path, extra_args=["--shutdown-grace", "5"], api_only=False)
    yield dev
    dev.stop()
    assert dev.process.returncode == 0, dev.log_path.read_text()[-5000:]


def test_webapp_becomes_a_deployment_and_a_service_with_status(examples):
    dev = examples
    deployment = wait_for(lambda: get(dev, "deployment", "site"), timeout=60, message="the Deployment of WebApp site")
    service = wait_for(lambda: get(dev, "service", "site"), timeout=30, message="the Service of WebApp site")
    webapp = get(dev, "webapp", "site")
    for child in (deployment, service):
        owner = child["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "WebApp" and owner["uid"] == webapp["metadata"]["uid"] and owner["controller"] is True
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert service["spec"]["ports"][0]["port"] == 80
    # Status written back through the status subresource.
    status = wait_for(lambda: (get(dev, "webapp", "site") or {}).get("status", {}).get("url"), timeout=30, message="WebApp status")
    assert status == "http://site.default.svc:80"
    # An event on the WebApp.
    events = dev.kubectl_json("get", "events", "-n", "default")["items"]
    assert any(e["reason"] == "Reconciled" and e["involvedObject"]["name"] == "site" for e in events)
    # A spec change reaches the children.
    dev.kubectl("patch", "webapp", "site", "--type", "merge", "-p", json.dumps({"spec": {"replicas": 5, "image": "nginx:1.28"}}))
    wait_for(lambda: (get(dev, "deployment", "site") or {}).get("spec", {}).get("replicas") == 5, timeout=30, message="replicas 5")
    assert get(dev, "deployment", "site")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    def caught_up():
        current = get(dev, "webapp", "site") or {}
        return current.get("status", {}).get("observedGeneration") == current.get("metadata", {}).get("generation") == 2
    wait_for(caught_up, timeout=30, message="status.observedGeneration to reach the new generation")
    # Deleting the WebApp takes its children with it.
    dev.kubectl("delete", "webapp", "site")
    wait_for(lambda: get(dev, "deployment", "site") is None and get(dev, "service", "site") is None, timeout=30,
             message="the children to go with the WebApp")


def test_configmap_is_propagated_to_labelled_namespaces_and_cleaned_up(examples):
    dev = examples
    for namespace in ("team-a", "team-b"):
        copy = wait_for(lambda: get(dev, "configmap", "settings", namespace), timeout=60, message=f"the copy in {namespace}")
        assert copy["data"] == {"LOG_LEVEL": "info", "FEATURE_FLAGS": "search,export"}
    assert get(dev, "configmap", "settings", "team-c") is None
    source = get(dev, "configmap", "settings", "plugboard-system")
    assert "plugboard.dev/propagator" in source["metadata"].get("finalizers", [])
    # A namespace that opts in later gets a copy (related objects re-enqueue the primary)...
    dev.kubectl("label", "namespace", "team-c", "plugboard.dev/propagate-to=true")
    wait_for(lambda: get(dev, "configmap", "settings", "team-c"), timeout=30, message="the copy in team-c")
    # ...one that opts out loses it.
    dev.kubectl("label", "namespace", "team-a", "plugboard.dev/propagate-to-")
    wait_for(lambda: get(dev, "configmap", "settings", "team-a") is None, timeout=30, message="the copy in team-a to go")
    # A change of the source reaches the copies.
    dev.kubectl("patch", "configmap", "settings", "-n", "plugboard-system", "--type", "merge", "-p", json.dumps({"data": {"LOG_LEVEL": "debug"}}))
    wait_for(lambda: (get(dev, "configmap", "settings", "team-b") or {}).get("data", {}).get("LOG_LEVEL") == "debug", timeout=30,
             message="the copy to follow")
    # Deleting the source: the finalizer holds it until every copy is gone.
    dev.kubectl("delete", "configmap", "settings", "-n", "plugboard-system", "--wait=false")
    wait_for(lambda: get(dev, "configmap", "settings", "plugboard-system") is None, timeout=30, message="the source to be released")
    for namespace in ("team-b", "team-c"):
        assert get(dev, "configmap", "settings", namespace) is None


@pytest.fixture(scope="module")
def checksum_binary():
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "plugins" / "swift")], check=True,
                   capture_output=True, timeout=900)
    return ROOT / "plugins" / "swift" / ".build" / "release" / "checksum-annotator"


def test_swift_checksum_annotator_under_the_host(tmp_path, checksum_binary):
    config = ROOT / "plugins" / "swift" / "checksum-annotator" / "plugboard.yaml"
    samples = ROOT / "plugins" / "swift" / "checksum-annotator" / "samples.yaml"
    dev = DevServer(tmp_path, extra_args=["--config", str(config), "--manifest", str(samples), "--shutdown-grace", "5"], api_only=False)
    try:
        def checksum(obj):
            entries = {**(obj.get("data") or {}), **(obj.get("binaryData") or {})}
            text = "".join(f"{k}={entries[k]}\n" for k in sorted(entries, key=lambda k: k.encode()))
            return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

        def annotated():
            obj = get(dev, "configmap", "app-settings")
            value = ((obj or {}).get("metadata", {}).get("annotations") or {}).get("plugboard.dev/checksum")
            return obj if value and value == checksum(obj) else None

        wait_for(annotated, timeout=60, message="the checksum annotation")
        dev.kubectl("patch", "configmap", "app-settings", "--type", "merge", "-p", json.dumps({"data": {"LOG_LEVEL": "warn"}}))
        obj = wait_for(lambda: (o := annotated()) and o["data"]["LOG_LEVEL"] == "warn" and o, timeout=30, message="the new checksum")
        assert obj["metadata"]["annotations"]["plugboard.dev/checksum"] == checksum(obj)
        events = dev.kubectl_json("get", "events", "-n", "default")["items"]
        assert sum(1 for e in events if e["reason"] == "ChecksumUpdated") >= 2
    finally:
        dev.stop()
    assert dev.process.returncode == 0
