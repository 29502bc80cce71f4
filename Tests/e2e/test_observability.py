"""Observability end to end: the host's /metrics, /healthz, /readyz and live
dashboard, scraped by a real Prometheus, checked by the real promtool, and
rendered by a real headless Chromium, while the host reconciles against the
dev API server with real plugin processes.

Two plugins watch ConfigMaps: `flow` answers at once; `stuck` has one worker
that the first object keeps busy for minutes, so everything added after it
waits in its queue: a queue depth that holds still long enough to compare the
dashboard with /metrics exactly.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
import yaml

from conftest import ROOT, DevServer, free_port, parse_metrics, plugboard_binary, wait_for
from promql import base_metric, metric_names
from test_deploy_assets import CATALOG, LEADER_ONLY

SCRIPTED = ROOT / "Tests" / "e2e" / "plugins" / "scripted_plugin.py"
PLUGINS = ["flow", "stuck"]


def plugin(name, label, timeout, workers, owns=True):
    # Without `owns`, a plugin does not map the other plugin's children (also ConfigMaps) to its own queue.
    owned = "    owns:\n      - {apiVersion: v1, kind: ConfigMap}\n" if owns else ""
    return f"""
  - name: {name}
    command:
      path: {sys.executable}
      args: ["{SCRIPTED}"]
    watch:
      apiVersion: v1
      kind: ConfigMap
      namespaces: [default]
      labelSelector: "obs={label}"
{owned}    workers: {workers}
    timeout: {timeout}
    rateLimits:
      backoff: {{base: 100ms, max: 1s}}
"""


def configmap(dev, name, label, **data):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": {"obs": label}},
            "data": data}
    dev.kubectl("apply", "-f", "-", input=json.dumps(body))


def metric(samples, family, **labels):
    found = [value for (sample, sample_labels), value in samples.items()
             if sample == family and set(labels.items()) <= set(sample_labels)]
    assert len(found) == 1, f"expected one series {family}{labels}, found {len(found)}"
    return found[0]


class Host:
    def __init__(self, dev: DevServer):
        self.dev = dev
        self.url = dev.dashboard_url
        self.session = requests.Session()
        self.session.trust_env = False

    def get(self, path):
        return self.session.get(self.url + path, timeout=10)

    def metrics(self):
        response = self.get("/metrics")
        assert response.status_code == 200
        return response.text


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("observability")
    config = workdir / "plugboard.yaml"
    config.write_text("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\nplugins:\n"
                      + plugin("flow", "flow", "5s", 2) + plugin("stuck", "stuck", "600s", 1, owns=False))
    dev = DevServer(workdir, extra_args=["--config", str(config), "--shutdown-grace", "1"], api_only=False)
    try:
        host = Host(dev)
        assert host.url and host.url.startswith("http://127.0.0.1:"), "the dashboard address is printed, on loopback"
        wait_for(lambda: host.get("/readyz").status_code == 200, timeout=30, message="/readyz to turn ready")
        for index in range(3):
            configmap(dev, f"flow-{index}", "flow", mode="ok", value=str(index))
        configmap(dev, "stuck-blocker", "stuck", mode="sleep", seconds="900")
        wait_for(lambda: metric(parse_metrics(host.metrics())[0], "plugboard_plugin_calls_in_flight", plugin="stuck") == 1,
                 timeout=30, message="the stuck plugin's only worker to be busy")
        for index in range(4):
            configmap(dev, f"stuck-{index}", "stuck", mode="ok", value=str(index))
        wait_for(lambda: metric(parse_metrics(host.metrics())[0], "workqueue_depth", name="stuck") == 4,
                 timeout=30, message="four keys waiting in the stuck plugin's queue")
        wait_for(lambda: metric(parse_metrics(host.metrics())[0], "plugboard_reconciles_total", plugin="flow", result="success") >= 3,
                 timeout=30, message="the flow plugin's reconciles")
    except BaseException:
        dev.stop()
        raise
    yield host
    dev.stop()
    assert dev.process.returncode == 0, dev.log_path.read_text()[-5000:]


def test_health_and_readiness(host):
    health = host.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok\n")
    ready = host.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ok\n")
    assert host.get("/no-such-page").status_code == 404


def test_metrics_pass_promtool_and_match_the_catalog(host, tmp_path):
    text = host.metrics()
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    samples, types, helps = parse_metrics(text)
    # Exactly the documented catalog: nothing missing, nothing undocumented (leader election is off here).
    assert types == {name: kind for name, kind in CATALOG.items() if name not in LEADER_ONLY}
    assert all(helps.get(name) for name in types), "every family has help text"
    documented = (ROOT / "docs" / "metrics.md").read_text()
    for name in types:
        assert f"`{name}`" in documented, f"{name} is not documented in docs/metrics.md"
    # Label values are bounded: no object name or key ever appears in one.
    for (_, labels), _ in samples.items():
        for _, value in labels:
            assert "stuck-" not in value and "flow-" not in value, labels
    for name in PLUGINS:
        assert metric(samples, "plugboard_plugin_process_up", plugin=name) == 1
        assert metric(samples, "workqueue_adds_total", name=name) >= 3
    assert metric(samples, "plugboard_informer_synced", resource="v1/configmaps", namespace="default", selector="obs=flow") == 1
    assert metric(samples, "plugboard_informer_objects", resource="v1/configmaps", namespace="default", selector="obs=stuck") == 5
    assert metric(samples, "plugboard_ready") == 1
    assert metric(samples, "plugboard_api_requests_total", verb="WATCH", code="200") >= 1


def test_grafana_and_alert_rules_query_only_exported_metrics(host):
    _, types, _ = parse_metrics(host.metrics())
    histograms = {name for name, kind in types.items() if kind == "histogram"}
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "plugboard-dashboard.json").read_text())
    expressions = []

    def collect(panels):
        for panel in panels:
            expressions.extend(target["expr"] for target in panel.get("targets", []) if target.get("expr"))
            collect(panel.get("panels", []))

    collect(dashboard["panels"])
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "plugboard-rules.yaml").read_text())
    expressions += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(expressions) > 20
    for expression in expressions:
        names = {base_metric(name, histograms) for name in metric_names(expression)}
        assert names, expression
        assert names <= set(types) | LEADER_ONLY, f"{expression!r} names metrics the host does not export: {names - set(types)}"


def test_prometheus_scrapes_every_plugin(host, tmp_path):
    if shutil.which("prometheus") is None:
        raise RuntimeError("prometheus is not installed: apt-get install prometheus (.ci/run does)")
    port = free_port()
    target = host.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "deploy" / "prometheus" / "plugboard-rules.yaml")],
        "scrape_configs": [{"job_name": "plugboard", "static_configs": [{"targets": [target]}]}],
    }))
    log = open(tmp_path / "prometheus.log", "w")
    prometheus = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(expression):
        try:
            response = requests.get(f"{api}/query", params={"query": expression}, timeout=5)
        except requests.ConnectionError:
            return []
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def by_label(result, label):
        return {series["metric"].get(label): float(series["value"][1]) for series in result}

    try:
        wait_for(lambda: by_label(query('up{job="plugboard"}'), "job").get("plugboard") == 1, timeout=60, interval=0.5,
                 message=f"Prometheus to scrape the host; log:\n{(tmp_path / 'prometheus.log').read_text()[-3000:]}")
        depth = wait_for(lambda: (lambda d: d if set(PLUGINS) <= set(d) else None)(by_label(query("workqueue_depth"), "name")),
                         timeout=30, interval=0.5, message="workqueue_depth for each plugin")
        assert depth["stuck"] == 4 and depth["flow"] == 0
        reconciles = by_label(query('sum by (plugin) (plugboard_reconciles_total{result="success"})'), "plugin")
        assert reconciles["flow"] >= 3
        assert by_label(query("plugboard_plugin_calls_in_flight"), "plugin") == {"flow": 0, "stuck": 1}
        assert set(by_label(query("plugboard_plugin_process_up"), "plugin").values()) == {1}
        # Both primaries' informers and the flow plugin's owned ConfigMaps (no selector: Prometheus drops empty labels).
        assert by_label(query("plugboard_informer_synced"), "selector") == {"obs=flow": 1, "obs=stuck": 1, None: 1}
        latency = wait_for(lambda: by_label(query(
            'histogram_quantile(0.99, sum by (le, plugin) (plugboard_plugin_call_duration_seconds_bucket{plugin="flow"}))'),
            "plugin").get("flow"), timeout=20, interval=0.5, message="a p99 latency for the flow plugin (all its calls so far)")
        assert 0 < latency < 5
        # The rules load and evaluate against the scraped series.
        rules = requests.get(f"{api}/rules", timeout=5).json()["data"]["groups"]
        assert rules and all(rule["health"] == "ok" for group in rules for rule in group["rules"] if rule.get("lastEvaluation", "").startswith("2")), rules
    finally:
        prometheus.send_signal(signal.SIGTERM)
        try:
            prometheus.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prometheus.kill()
        log.close()


class DashboardDOM(HTMLParser):
    """The rendered page's data-* contract: plugins' fields, informers' fields, body status."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack = []
        self.plugins, self.informers, self.body, self.readiness = {}, {}, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        owner = self.stack[-1] if self.stack else None
        if "data-plugin" in attrs:
            owner = ("plugin", attrs["data-plugin"])
            self.plugins.setdefault(attrs["data-plugin"], {})
        if "data-informer" in attrs:
            owner = ("informer", attrs["data-informer"])
            self.informers.setdefault(attrs["data-informer"], {})
        if tag == "body":
            self.body = attrs
        if attrs.get("id") == "readiness":
            self.readiness = attrs.get("data-value")
        if "data-field" in attrs and owner:
            target = self.plugins if owner[0] == "plugin" else self.informers
            target[owner[1]][attrs["data-field"]] = attrs.get("data-value")
        if tag not in self.VOID:
            self.stack.append(owner)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()


def chromium(*args, timeout=90):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise RuntimeError("chromium is not installed: apt-get install chromium (.ci/run does)")
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                           *args], capture_output=True, text=True, timeout=timeout)


def render(host):
    result = chromium("--virtual-time-budget=5000", "--dump-dom", host.url + "/")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = DashboardDOM()
    dom.feed(result.stdout)
    return dom


def test_dashboard_in_headless_chromium(host, tmp_path):
    page = host.get("/")
    assert not re.search(r'(src|href)=["\']?(https?:)?//', page.text), "the page loads nothing from elsewhere"
    # The page shows plugins from the sampler's first samples: right after the host starts (this
    # test run alone), a render can come before them.
    def listed():
        dom = render(host)
        return dom if dom.plugins else None

    dom = wait_for(listed, timeout=30, interval=1, message="the dashboard to list the plugins")
    assert dom.body.get("data-status") == "ok", dom.body
    assert dom.readiness == "true"
    assert list(dom.plugins) == PLUGINS, "every configured plugin, in config order"
    samples = parse_metrics(host.metrics())[0]
    # The stuck queue holds still: the page shows exactly what /metrics says.
    assert float(dom.plugins["stuck"]["queueDepth"]) == metric(samples, "workqueue_depth", name="stuck") == 4
    assert float(dom.plugins["stuck"]["inFlight"]) == 1
    assert dom.plugins["stuck"]["processUp"] == "true"
    assert float(dom.plugins["flow"]["totalReconciles"]) >= 3
    informer = dom.informers["v1/configmaps|default|obs=stuck"]
    assert float(informer["objects"]) == 5 and informer["synced"] == "true"

    # Values move as work flows: more waiting keys, more reconciles, a watch restart.
    before_reconciles = float(dom.plugins["flow"]["totalReconciles"])
    configmap(host.dev, "stuck-late", "stuck", mode="ok", value="late")
    for index in range(3, 6):
        configmap(host.dev, f"flow-{index}", "flow", mode="ok", value=str(index))
    host.dev.control("watches/cut")
    wait_for(lambda: metric(parse_metrics(host.metrics())[0], "workqueue_depth", name="stuck") == 5, timeout=20,
             message="the late key in the stuck queue")

    # The informer records its object count after each batch of watch events, after their
    # handlers: a sample can catch the reconciles of a batch before its count, so wait for both.
    def moved():
        dom = render(host)
        flow = float(dom.plugins["flow"]["totalReconciles"])
        depth = float(dom.plugins["stuck"]["queueDepth"])
        objects = float(dom.informers["v1/configmaps|default|obs=flow"]["objects"])
        return dom if flow >= before_reconciles + 3 and depth == 5 and objects == 6 else None

    wait_for(moved, timeout=30, interval=1, message="the dashboard to show the new work (3 more reconciles, 5 stuck, 6 flow objects)")
    # The page's figures are the sampler's (every two seconds): the restart shows by the next sample.
    def restarted():
        document = host.get("/dashboard.json").json()
        return [informer for informer in document["informers"] if informer["lastWatchRestart"]]

    wait_for(restarted, timeout=10, interval=0.5, message="the cut watches to show as a watch restart")

    shot = tmp_path / "dashboard.png"
    result = chromium("--virtual-time-budget=5000", "--window-size=1400,900", f"--screenshot={shot}", host.url + "/")
    assert result.returncode == 0 and shot.stat().st_size > 10_000, result.stderr[-2000:]
    if os.environ.get("PLUGBOARD_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "dashboard.png")


def test_a_metrics_port_in_use_is_a_clear_error(host, tmp_path):
    """`plugboard run` on an address that is taken stops with an error naming the flag, not a stack trace."""
    taken = host.url.removeprefix("http://")
    config = tmp_path / "plugboard.yaml"
    config.write_text("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\nplugins:\n" + plugin("other", "other", "5s", 1))
    result = subprocess.run([str(plugboard_binary()), "run", "--config", str(config), "--kubeconfig", str(host.dev.kubeconfig),
                             "--metrics-address", taken, "--shutdown-grace", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"cannot serve metrics, health and the dashboard on {taken} (--metrics-address)" in result.stderr


def test_informer_restarts_are_counted_by_reason(host):
    """A cut watch is a `closed` restart; a watch whose history was compacted away is `expired` and relists."""
    def total(family, reason):
        samples = parse_metrics(host.metrics())[0]
        return sum(value for (name, labels), value in samples.items() if name == family and ("reason", reason) in labels)

    closed = total("plugboard_informer_watch_restarts_total", "closed")
    host.dev.control("watches/cut")
    wait_for(lambda: total("plugboard_informer_watch_restarts_total", "closed") >= closed + 3, timeout=20,
             message="each of the three informers' cut watches counted as closed")

    # A watch resuming from the newest resourceVersion is not expired, however compacted the history:
    # so no watch may reconnect (and see the new object, or a bookmark) between the write and the
    # compaction. Each then resumes from an older version and gets 410.
    expired = total("plugboard_informer_lists_total", "expired")
    host.dev.control("faults", {"verb": "watch", "code": 500, "count": 1000000})
    host.dev.control("watches/cut")
    configmap(host.dev, "flow-after-compaction", "flow", mode="ok", value="x")
    host.dev.control("history/compact")
    host.dev.control("faults", method="DELETE")
    wait_for(lambda: total("plugboard_informer_lists_total", "expired") > expired, timeout=30,
             message="a relist after 410 Gone, counted as expired")
    # The object written while no watch was up arrives by that relist (the counter counts its start).
    flow_objects = lambda: metric(parse_metrics(host.metrics())[0], "plugboard_informer_objects",
                                  resource="v1/configmaps", namespace="default", selector="obs=flow")
    wait_for(lambda: flow_objects() == 7, timeout=30, message="the relist brings the object written while no watch was up")
    samples = parse_metrics(host.metrics())[0]
    stamps = [value for (name, _), value in samples.items() if name == "plugboard_informer_last_watch_restart_timestamp_seconds"]
    assert stamps and all(abs(stamp - time.time()) < 120 for stamp in stamps)
