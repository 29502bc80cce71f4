"""Leader election end to end: two `plugboard run` replicas with the same config
against the dev API server. One leads and reconciles, the other keeps its caches
warm and is ready but idle; when the leader stops, the standby takes over and
reconciles what comes next."""
import json
import signal
import subprocess
import sys
import time

import requests

from conftest import ROOT, parse_metrics, plugboard_binary, wait_for

SCRIPTED = ROOT / "Tests" / "e2e" / "plugins" / "scripted_plugin.py"
LEASE = "e2e-plugboard"


class Replica:
    def __init__(self, tmp_path, name, config, dev):
        self.name = name
        self.log_path = tmp_path / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(plugboard_binary()), "run", "--config", str(config), "--kubeconfig", str(dev.kubeconfig),
                                         "--log-format", "json", "--metrics-address", "127.0.0.1:0", "--shutdown-grace", "20"],
                                        stderr=self.log, stdout=subprocess.DEVNULL)
        self.url = wait_for(self.address, timeout=30, message=f"{name}'s metrics address in its log")

    def address(self):
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "metrics, health and dashboard server listening":
                return "http://" + entry["address"]
        return None

    def metric(self, family, **labels):
        """The sum of the family's series that carry `labels`."""
        samples = parse_metrics(requests.get(self.url + "/metrics", timeout=5).text)[0]
        return sum(value for (name, sample_labels), value in samples.items()
                   if name == family and set(labels.items()) <= set(sample_labels))

    def ready(self):
        try:
            return requests.get(self.url + "/readyz", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()
        return self.process.returncode


def configmap(dev, name):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": {"e2e": "leader"}},
            "data": {"mode": "ok", "value": name}}
    dev.kubectl("apply", "-f", "-", input=json.dumps(body))


def child_exists(dev, name):
    return dev.kubectl("get", "configmap", name + "-child", "-n", "default", check=False).returncode == 0


def test_one_replica_reconciles_and_a_standby_takes_over(tmp_path, dev_server):
    config = tmp_path / "plugboard.yaml"
    config.write_text(f"""apiVersion: plugboard.dev/v1alpha1
kind: PlugboardConfig
leaderElection: {{enabled: true, namespace: default, name: {LEASE}, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 250ms}}
plugins:
  - name: leader-e2e
    command:
      path: {sys.executable}
      args: ["{SCRIPTED}"]
    watch: {{apiVersion: v1, kind: ConfigMap, namespaces: [default], labelSelector: "e2e=leader"}}
    owns:
      - {{apiVersion: v1, kind: ConfigMap}}
""")
    a = Replica(tmp_path, "a", config, dev_server)
    b = None
    try:
        wait_for(lambda: a.metric("plugboard_leader_is_leader", lease=f"default/{LEASE}") == 1, timeout=30, message="a to lead")
        b = Replica(tmp_path, "b", config, dev_server)
        wait_for(b.ready, timeout=30, message="the standby to be ready")
        assert b.metric("plugboard_leader_is_leader", lease=f"default/{LEASE}") == 0
        holder = dev_server.kubectl_json("get", "lease", LEASE, "-n", "default")["spec"]["holderIdentity"]
        assert holder

        configmap(dev_server, "first")
        wait_for(lambda: child_exists(dev_server, "first"), timeout=30, message="the leader's reconcile")
        assert a.metric("plugboard_reconciles_total", plugin="leader-e2e", result="success") >= 1
        # The standby saw the object (warm cache, key waiting) but never called its plugin.
        assert b.metric("plugboard_informer_objects", selector="e2e=leader") == 1
        assert b.metric("plugboard_plugin_calls_total", plugin="leader-e2e") == 0

        # A standby stops at once (no reconciles to wait for), and leaves the lease to the leader.
        c = Replica(tmp_path, "c", config, dev_server)
        wait_for(c.ready, timeout=30, message="a second standby to be ready")
        started = time.monotonic()
        assert c.stop() == 0
        assert time.monotonic() - started < 10, "a standby's stop does not wait out --shutdown-grace"
        assert dev_server.kubectl_json("get", "lease", LEASE, "-n", "default")["spec"]["holderIdentity"] == holder

        assert a.stop() == 0
        wait_for(lambda: b.metric("plugboard_leader_is_leader", lease=f"default/{LEASE}") == 1, timeout=15, message="b to take over")
        assert dev_server.kubectl_json("get", "lease", LEASE, "-n", "default")["spec"]["holderIdentity"] not in ("", holder)
        configmap(dev_server, "second")
        wait_for(lambda: child_exists(dev_server, "second"), timeout=30, message="the new leader's reconcile")
        assert b.metric("plugboard_reconciles_total", plugin="leader-e2e", result="success") >= 2  # "first" again, then "second"
        assert b.stop() == 0
        assert dev_server.kubectl_json("get", "lease", LEASE, "-n", "default")["spec"]["holderIdentity"] == "", "released on stop"
    finally:
        a.stop()
        if b:
            b.stop()
