"""The monitoring assets under deploy/: the alert rules pass promtool (and their
unit tests), the Grafana dashboard is well formed and queries only metrics the
host exports, and the scrape examples load in Prometheus. test_observability.py
checks CATALOG against a running host's /metrics, so neither can drift."""
import json
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT
from promql import base_metric, metric_names

DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "plugboard-rules.yaml"
DASHBOARD = DEPLOY / "grafana" / "plugboard-dashboard.json"

# Every family the host exports and its type (Sources/Observability/MetricCatalog.swift, docs/metrics.md).
CATALOG = {
    "workqueue_depth": "gauge",
    "workqueue_adds_total": "counter",
    "workqueue_queue_duration_seconds": "histogram",
    "workqueue_work_duration_seconds": "histogram",
    "workqueue_unfinished_work_seconds": "gauge",
    "workqueue_longest_running_processor_seconds": "gauge",
    "workqueue_retries_total": "counter",
    "plugboard_plugin_calls_total": "counter",
    "plugboard_plugin_call_duration_seconds": "histogram",
    "plugboard_plugin_calls_in_flight": "gauge",
    "plugboard_reconciles_total": "counter",
    "plugboard_reconcile_duration_seconds": "histogram",
    "plugboard_actions_total": "counter",
    "plugboard_events_filtered_total": "counter",
    "plugboard_rate_limit_wait_seconds": "histogram",
    "plugboard_plugin_process_up": "gauge",
    "plugboard_plugin_process_restarts_total": "counter",
    "plugboard_ready": "gauge",
    "plugboard_leader_is_leader": "gauge",
    "plugboard_informer_objects": "gauge",
    "plugboard_informer_synced": "gauge",
    "plugboard_informer_lists_total": "counter",
    "plugboard_informer_watch_restarts_total": "counter",
    "plugboard_informer_last_watch_restart_timestamp_seconds": "gauge",
    "plugboard_api_requests_total": "counter",
    "plugboard_api_request_duration_seconds": "histogram",
    "plugboard_build_info": "gauge",
}
HISTOGRAMS = {name for name, kind in CATALOG.items() if kind == "histogram"}
# Exported only with leader election on.
LEADER_ONLY = {"plugboard_leader_is_leader"}


def promtool(*args, cwd=None):
    if shutil.which("promtool") is None:
        raise RuntimeError("promtool is not installed: apt-get install prometheus (.ci/run does)")
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def dashboard_targets():
    dashboard = json.loads(DASHBOARD.read_text())
    found = []

    def walk(panels):
        for panel in panels:
            if panel.get("type") != "row":
                found.append((panel, panel.get("targets", [])))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    return dashboard, found


def rule_expressions():
    rules = yaml.safe_load(RULES.read_text())
    return [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def test_metric_names_reads_promql():
    assert metric_names('sum by (le, plugin) (rate(plugboard_plugin_call_duration_seconds_bucket{plugin=~"$plugin"}[$__rate_interval]))') \
        == {"plugboard_plugin_call_duration_seconds_bucket"}
    assert metric_names('time() - max by (resource) (plugboard_informer_last_watch_restart_timestamp_seconds > 0)') \
        == {"plugboard_informer_last_watch_restart_timestamp_seconds"}
    assert metric_names('a_total / on (x) group_left b offset 5m and c{d="e f"} or vector(0)') == {"a_total", "b", "c"}
    assert base_metric("plugboard_plugin_call_duration_seconds_bucket", HISTOGRAMS) == "plugboard_plugin_call_duration_seconds"
    assert base_metric("workqueue_adds_total", HISTOGRAMS) == "workqueue_adds_total"


def test_alert_rules_pass_promtool_and_their_unit_tests():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "plugboard-rules.test.yaml", cwd=RULES.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {name for name, _ in rule_expressions()}
    assert {"PlugboardQueueGrowing", "PlugboardPluginErrorRatioHigh", "PlugboardPluginProcessDown", "PlugboardPluginProcessRestarting",
            "PlugboardInformerNotSynced", "PlugboardNotReady", "PlugboardNoLeader"} <= alerts
    # Every alert has a unit test that makes it fire.
    unit = yaml.safe_load((RULES.parent / "plugboard-rules.test.yaml").read_text())
    fired = {check["alertname"] for test in unit["tests"] for check in test["alert_rule_test"] if check["exp_alerts"]}
    assert fired == alerts
    operations = (ROOT / "docs" / "operations.md").read_text()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
            anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
            assert f"### {rule['alert']}" in operations and anchor == rule["alert"].lower(), rule["alert"]


def test_rules_and_dashboard_query_only_catalog_metrics():
    expressions = [expr for _, expr in rule_expressions()]
    _, panels = dashboard_targets()
    expressions += [target["expr"] for _, targets in panels for target in targets]
    assert len(expressions) > 30
    for expression in expressions:
        raw = metric_names(expression)
        # A histogram is only exported as _bucket, _sum and _count series: its bare name selects nothing.
        assert not raw & HISTOGRAMS, f"{expression!r} reads histogram {raw & HISTOGRAMS} without _bucket, _sum or _count"
        names = {base_metric(name, HISTOGRAMS) for name in raw}
        assert names, f"no metric in {expression!r}"
        assert names <= set(CATALOG), f"{expression!r} reads {names - set(CATALOG)}, which the host does not export"


def test_grafana_dashboard_is_well_formed():
    dashboard, panels = dashboard_targets()
    assert dashboard["uid"] == "plugboard" and dashboard["schemaVersion"] >= 36
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    plugin = variables["plugin"]
    assert plugin["type"] == "query" and plugin["multi"] and plugin["includeAll"]
    assert plugin["definition"] == "label_values(workqueue_depth, name)"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, variable["name"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    titles = " ".join(panel["title"] for panel, _ in panels).lower()
    for topic in ["queue depth", "adds", "latency", "errors", "retries", "actions", "rate-limit", "synced", "watch restarts"]:
        assert topic in titles, topic
    for panel, targets in panels:
        assert targets, panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in targets:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            plugin_scoped = re.search(r"workqueue_|plugboard_(plugin|reconcile|actions|rate_limit|events)", target["expr"])
            if plugin_scoped and "count by (name)" not in target["expr"]:
                assert "$plugin" in target["expr"], f"{panel['title']}: {target['expr']} ignores the plugin variable"


def test_scrape_configs_load_in_prometheus(tmp_path):
    """promtool checks the static job with the rules; Debian's Prometheus is built without Kubernetes
    service discovery, so the Kubernetes jobs are checked for shape here."""
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-scrape-config.yaml").read_text())["scrape_configs"]
    static = [job for job in scrape if "static_configs" in job]
    kubernetes = [job for job in scrape if "kubernetes_sd_configs" in job]
    assert static and kubernetes and len(static) + len(kubernetes) == len(scrape)
    config = {"global": {"scrape_interval": "15s"}, "rule_files": [str(RULES)], "scrape_configs": static}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    checked = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for job in kubernetes:
        assert {sd["role"] for sd in job["kubernetes_sd_configs"]} <= {"pod", "endpoints", "service"}
        keeps = [rule for rule in job["relabel_configs"] if rule.get("action") == "keep"]
        assert any(rule["regex"] == "plugboard" for rule in keeps) and any(rule["regex"] == "metrics" for rule in keeps), job["job_name"]
        for rule in job["relabel_configs"]:
            assert set(rule) <= {"source_labels", "regex", "action", "target_label", "replacement", "separator"}, rule
            assert all(label.startswith("__meta_kubernetes_") for label in rule.get("source_labels", [])), rule
            re.compile(rule.get("regex", ".*"))


def test_service_monitor_selects_the_service_port():
    service, monitor = yaml.safe_load_all((DEPLOY / "prometheus" / "servicemonitor.yaml").read_text())
    assert service["kind"] == "Service" and monitor["kind"] == "ServiceMonitor"
    assert set(monitor["spec"]["selector"]["matchLabels"].items()) <= set(service["metadata"]["labels"].items())
    ports = {port["name"] for port in service["spec"]["ports"]}
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]


def test_the_readme_recipe_makes_a_prometheus_rule(tmp_path):
    readme = (DEPLOY / "README.md").read_text()
    recipe = re.search(r"```sh\n(\{ printf.*?)\| kubectl apply -f -\n```", readme, re.S).group(1)
    made = subprocess.run(["bash", "-c", recipe], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    rule = yaml.safe_load(made)
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
