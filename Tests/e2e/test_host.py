"""The plugin host end to end: `plugboard dev` with real plugin processes, real
HTTP, objects made with the real kubectl, and assertions that the cluster
converges. Bad plugin answers, isolation between plugins, bad config, and
shutdown."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, DevServer, plugboard_binary, wait_for

SCRIPTED = ROOT / "Tests" / "e2e" / "plugins" / "scripted_plugin.py"


def write_config(path: Path, plugins: str, client: str = "") -> Path:
    path.write_text("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\n" + client + "plugins:\n" + plugins)
    return path


def scripted_plugin(name, log, label, timeout="2s", workers=2, extra=""):
    return f"""
  - name: {name}
    command:
      path: {sys.executable}
      args: ["{SCRIPTED}"]
      env: {{SCRIPTED_LOG: "{log}"}}
      restartBackoff: {{base: 100ms, max: 1s}}
    watch:
      apiVersion: v1
      kind: ConfigMap
      namespaces: [default]
      labelSelector: "e2e={label}"
    owns:
      - {{apiVersion: v1, kind: ConfigMap}}
    workers: {workers}
    timeout: {timeout}
    rateLimits:
      backoff: {{base: 200ms, max: 2s}}
{extra}"""


@pytest.fixture
def host_factory(tmp_path):
    started = []

    def start(config: Path, *extra):
        server = DevServer(tmp_path, extra_args=["--config", str(config), "--shutdown-grace", "5", *extra], api_only=False)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert server.process.returncode == 0, f"plugboard dev exited with {server.process.returncode}; log:\n{server.log_path.read_text()[-5000:]}"


def configmap(dev, name, label, **data):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": {"e2e": label}},
            "data": data}
    dev.kubectl("apply", "-f", "-", input=json.dumps(body))


def get(dev, kind, name, namespace="default"):
    result = dev.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def events_for(dev, name, namespace="default"):
    listed = dev.kubectl_json("get", "events", "-n", namespace)
    return [e for e in listed["items"] if e["involvedObject"]["name"] == name]


def log_lines(path: Path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_scripted_plugin_converges_and_follows_updates_and_deletes(tmp_path, host_factory):
    log = tmp_path / "calls.jsonl"
    dev = host_factory(write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "ok")))
    configmap(dev, "alpha", "ok", mode="ok", value="1")
    child = wait_for(lambda: get(dev, "configmap", "alpha-child"), timeout=30, message="the child of alpha")
    primary = get(dev, "configmap", "alpha")
    owner = child["metadata"]["ownerReferences"][0]
    assert owner["uid"] == primary["metadata"]["uid"] and owner["controller"] is True and owner["kind"] == "ConfigMap"
    assert child["data"] == {"value": "1"}
    # An update of the primary reaches the plugin and the child follows.
    dev.kubectl("patch", "configmap", "alpha", "--type", "merge", "-p", json.dumps({"data": {"value": "2"}}))
    wait_for(lambda: (get(dev, "configmap", "alpha-child") or {}).get("data") == {"value": "2"}, timeout=15, message="the child to follow")
    # The request carries the owned child once it exists.
    wait_for(lambda: any(c["children"].get("ConfigMap.v1") == 1 for c in log_lines(log)), message="a request with the child")
    # A child changed behind the plugin's back is put right (owned objects re-enqueue their owner).
    dev.kubectl("patch", "configmap", "alpha-child", "--type", "merge", "-p", json.dumps({"data": {"value": "tampered"}}))
    wait_for(lambda: (get(dev, "configmap", "alpha-child") or {}).get("data") == {"value": "2"}, timeout=15, message="the child to be restored")
    # Deleting the primary deletes the child through its owner reference.
    dev.kubectl("delete", "configmap", "alpha")
    wait_for(lambda: get(dev, "configmap", "alpha-child") is None, timeout=15, message="the child to go with its owner")
    wait_for(lambda: any(c["key"]["name"] == "alpha" and c["mode"] == "ok" for c in log_lines(log)), message="calls logged")
    # A supervised plugin without `auth` gets a token of this run (PLUGBOARD_TOKEN) and every call carries it,
    # so the plugin can refuse callers other than its host; the token never reaches the host's log.
    tokens = {c["auth"] for c in log_lines(log)}
    assert len(tokens) == 1
    token = tokens.pop()
    assert token and token.startswith("Bearer ") and len(token) == len("Bearer ") + 64
    assert token[len("Bearer "):] not in dev.log_path.read_text()


@pytest.mark.parametrize("mode,reason", [
    ("status500", "PluginCallFailed"),
    ("garbage", "InvalidPluginResponse"),
    ("shape", "InvalidPluginResponse"),
    ("forbidden", "ActionRejected"),
    ("sleep", "PluginCallFailed"),
    ("error", "ReconcileError"),
])
def test_bad_answers_back_off_apply_nothing_and_others_carry_on(tmp_path, host_factory, mode, reason):
    log = tmp_path / "calls.jsonl"
    dev = host_factory(write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "bad", timeout="1s")))
    configmap(dev, "bad", "bad", mode=mode, seconds="5")
    # The failure is recorded as a Warning Event on the primary, naming what went wrong.
    event = wait_for(lambda: next((e for e in events_for(dev, "bad") if e["reason"] == reason), None), timeout=30,
                     message=f"a {reason} event")
    assert event["type"] == "Warning" and event["source"]["component"] == "plugboard/scripted"
    if mode == "forbidden":
        assert "actions[1]" in event["message"] and "Secret" in event["message"]
    # The key is retried with growing delays: attempts count up.
    wait_for(lambda: max([c["attempt"] for c in log_lines(log) if c["key"]["name"] == "bad"] or [0]) >= 3, timeout=30,
             message="retries of the bad key")
    # Nothing of a rejected or unparsable answer was applied...
    if mode in ("forbidden", "garbage", "shape", "status500", "sleep"):
        assert get(dev, "configmap", "bad-child") is None
        assert get(dev, "secret", "bad") is None
    else:  # ...while a plugin-reported error still applies its actions.
        wait_for(lambda: get(dev, "configmap", "bad-child"), message="the child of the reported error")
    # ...and another key of the same plugin carries on.
    configmap(dev, "good", "bad", mode="ok", value="fine")
    wait_for(lambda: get(dev, "configmap", "good-child"), timeout=20, message="a good key reconciled beside the bad one")
    # The host's log names the plugin and the key.
    text = dev.log_path.read_text()
    assert "plugin=scripted" in text and "default/bad" in text


def test_throttled_plugin_is_retried_after_retry_after_without_a_failure(tmp_path, host_factory):
    log = tmp_path / "calls.jsonl"
    dev = host_factory(write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "slow")))
    configmap(dev, "busy", "slow", mode="throttle", value="x")
    wait_for(lambda: get(dev, "configmap", "busy-child"), timeout=20, message="the child after the 429")
    calls = [c for c in log_lines(log) if c["key"]["name"] == "busy"]
    # The retry after a 429 is not counted as a failed attempt.
    assert [c["attempt"] for c in calls[:2]] == [1, 1], calls
    assert not [e for e in events_for(dev, "busy") if e["type"] == "Warning"]


def test_crashing_plugin_is_restarted_and_other_keys_carry_on(tmp_path, host_factory):
    log = tmp_path / "calls.jsonl"
    dev = host_factory(write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "crash")))
    configmap(dev, "boom", "crash", mode="crash", crashes="2")
    wait_for(lambda: len([c for c in log_lines(log) if c["key"]["name"] == "boom"]) >= 2, timeout=30, message="the crash to repeat after restarts")
    configmap(dev, "calm", "crash", mode="ok", value="v")
    wait_for(lambda: get(dev, "configmap", "calm-child"), timeout=30, message="a key reconciled between crashes")
    assert "crashing on boom as asked" in dev.log_path.read_text()
    # Once the crashes stop (after the second attempt), the crashing key converges too.
    wait_for(lambda: get(dev, "configmap", "boom-child"), timeout=30, message="the crashing key reconciled after its crashes")


def test_a_hanging_plugin_does_not_slow_another(tmp_path, host_factory):
    slow_log, fast_log = tmp_path / "slow.jsonl", tmp_path / "fast.jsonl"
    plugins = scripted_plugin("stuck", slow_log, "stuck", timeout="30s", workers=2) + scripted_plugin("fast", fast_log, "fast", workers=2)
    dev = host_factory(write_config(tmp_path / "plugboard.yaml", plugins))
    for i in range(4):
        configmap(dev, f"stuck-{i}", "stuck", mode="sleep", seconds="30")
    wait_for(lambda: len(log_lines(slow_log)) >= 2, timeout=20, message="both workers of the stuck plugin busy")
    started = time.monotonic()
    names = [f"fast-{i}" for i in range(20)]
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "default", "labels": {"e2e": "fast"}},
              "data": {"mode": "ok", "value": n}} for n in names]
    dev.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(item) for item in items))
    wait_for(lambda: all(get(dev, "configmap", n + "-child") for n in names[-3:]), timeout=20, message="the fast plugin's children")
    listed = dev.kubectl_json("get", "configmaps", "-n", "default")
    children = {i["metadata"]["name"] for i in listed["items"]}
    assert all(n + "-child" in children for n in names)
    # All of it while the stuck plugin's calls are still hanging.
    assert time.monotonic() - started < 25
    assert len(log_lines(slow_log)) == 2


def test_bad_config_never_starts_and_never_touches_the_cluster(tmp_path):
    bad = write_config(tmp_path / "bad.yaml", """
  - name: web
    endpoint: {url: "http://127.0.0.1:9/reconcile"}
    watch: {apiVersion: v1, kind: ConfigMap}
    wrokers: 2
""")
    result = subprocess.run([str(plugboard_binary()), "run", "--config", str(bad), "--kubeconfig", str(tmp_path / "missing")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"{bad}:8:5: plugins[0].wrokers: unknown field" in result.stderr and 'did you mean "workers"' in result.stderr
    checked = subprocess.run([str(plugboard_binary()), "validate", "--config", str(bad)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 1 and "wrokers" in checked.stderr


def test_unknown_kinds_are_reported_before_anything_runs(tmp_path, dev_server):
    config = write_config(tmp_path / "plugboard.yaml", """
  - name: web
    endpoint: {url: "http://127.0.0.1:9/reconcile"}
    watch: {apiVersion: example.com/v1, kind: Widget}
    owns:
      - {apiVersion: apps/v1, kind: Deploymint}
""")
    result = subprocess.run([str(plugboard_binary()), "run", "--config", str(config), "--kubeconfig", str(dev_server.kubeconfig),
                             "--metrics-address", "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "plugins[0].watch: the server does not serve example.com/v1 Widget" in result.stderr
    assert "plugins[0].owns[0]: the server does not serve apps/v1 Deploymint" in result.stderr


def test_sigterm_stops_supervised_plugins_and_exits_zero(tmp_path):
    log = tmp_path / "calls.jsonl"
    config = write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "term"))
    dev = DevServer(tmp_path, extra_args=["--config", str(config), "--shutdown-grace", "5"], api_only=False)
    try:
        configmap(dev, "one", "term", mode="ok", value="1")
        wait_for(lambda: get(dev, "configmap", "one-child"), timeout=30, message="a reconcile")
        children = subprocess.run(["pgrep", "-f", str(SCRIPTED)], capture_output=True, text=True).stdout.split()
        assert children, "the supervised plugin is not running"
    finally:
        dev.stop()
    assert dev.process.returncode == 0
    wait_for(lambda: not subprocess.run(["pgrep", "-f", str(SCRIPTED)], capture_output=True, text=True).stdout.strip(), timeout=10,
             message="the plugin process to be gone")


def test_run_against_a_cluster_with_json_logs(tmp_path, dev_server):
    """`plugboard run` with a kubeconfig (the dev server's), JSON log lines, and a clean exit on SIGTERM."""
    log = tmp_path / "calls.jsonl"
    config = write_config(tmp_path / "plugboard.yaml", scripted_plugin("scripted", log, "json"))
    stderr = open(tmp_path / "run.log", "w")
    host = subprocess.Popen([str(plugboard_binary()), "run", "--config", str(config), "--kubeconfig", str(dev_server.kubeconfig),
                             "--log-format", "json", "--shutdown-grace", "5", "--metrics-address", "127.0.0.1:0"],
                            stderr=stderr, stdout=subprocess.DEVNULL)
    try:
        configmap(dev_server, "viajson", "json", mode="ok", value="1")
        wait_for(lambda: get(dev_server, "configmap", "viajson-child"), timeout=30, message="a reconcile through plugboard run")
    finally:
        host.send_signal(signal.SIGTERM)
        host.wait(timeout=30)
        stderr.close()
    assert host.returncode == 0
    lines = [json.loads(line) for line in (tmp_path / "run.log").read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "msg"} <= set(line) for line in lines)
    assert any(line["msg"] == "plugin is up" or line.get("plugin") == "scripted" for line in lines)
    assert any(line["msg"] == "plugin host stopped" for line in lines)
    # The API token never reaches the log.
    assert dev_server.token not in (tmp_path / "run.log").read_text()


@pytest.mark.parametrize("manifest,expected", [
    ("apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
     "document 2: the server does not serve Widget in example.com/v1"),
    ("a: [\n", "document 1: not YAML"),
    ("kind: ConfigMap\nmetadata: {name: x}\n", "document 1: apiVersion and kind are required"),
])
def test_bad_manifests_stop_dev_with_the_file_and_document(tmp_path, manifest, expected):
    path = tmp_path / "objects.yaml"
    path.write_text(manifest)
    result = subprocess.run([str(plugboard_binary()), "dev", "--api-only", "--listen", "127.0.0.1:0", "--kubeconfig-out", str(tmp_path / "kc"),
                             "--manifest", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{path}: {expected}" in result.stderr


def test_a_missing_kubeconfig_is_named_and_nothing_starts(tmp_path):
    config = write_config(tmp_path / "plugboard.yaml", """
  - name: web
    endpoint: {url: "http://127.0.0.1:9/reconcile"}
    watch: {apiVersion: v1, kind: ConfigMap}
""")
    result = subprocess.run([str(plugboard_binary()), "run", "--config", str(config), "--kubeconfig", str(tmp_path / "absent")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"kubeconfig: kubeconfig {tmp_path / 'absent'} does not exist" in result.stderr


@pytest.mark.parametrize("address,expected", [
    ("nowhere", '--metrics-address: "nowhere" is not HOST:PORT'),
    (":8080", '--metrics-address: ":8080" has no host'),
    ("127.0.0.1:65536", '--metrics-address: "127.0.0.1:65536" has no valid port (0 to 65535)'),
])
def test_a_bad_metrics_address_is_named_before_anything_starts(tmp_path, address, expected):
    result = subprocess.run([str(plugboard_binary()), "run", "--config", str(tmp_path / "unread.yaml"), "--metrics-address", address],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
