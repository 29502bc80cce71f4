"""The example plugins (plugins/python, plugins/node) and their SDKs, on their own: no host, no API server.

Each plugin is started as a real child process with the command its plugboard.yaml gives,
on a free loopback port (PLUGBOARD_PORT), and spoken to over real HTTP the way the host does.
Every request sent is checked against docs/schemas/reconcile-request.schema.json and every
answer against docs/schemas/reconcile-response.schema.json, with the small validator below.
"""
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import wait_for
from running_plugin import RunningPlugin, free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
PROPAGATOR_DIR = ROOT / "plugins" / "python" / "configmap-propagator"
WEBAPP_DIR = ROOT / "plugins" / "node" / "webapp"


# A JSON Schema checker for the subset the protocol schemas use ---------------------------------

class SchemaChecker:
    """Checks a value against a draft 2020-12 schema that uses only the keywords below.

    A keyword it does not know is an error rather than ignored, so the schema cannot
    grow a rule the tests silently skip.
    """

    ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
    TYPES = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }

    def __init__(self, root):
        self.root = root

    def errors(self, value, schema=None, path="$"):
        schema = self.root if schema is None else schema
        problems = []
        for keyword, rule in schema.items():
            if keyword in self.ANNOTATIONS:
                continue
            check = getattr(self, "check_" + keyword.lstrip("$"), None)
            if check is None:
                raise AssertionError(f"the schema uses {keyword!r}, which the test's checker does not implement")
            problems += check(value, rule, schema, path)
        return problems

    def check_ref(self, value, ref, schema, path):
        assert ref.startswith("#/"), ref
        target = self.root
        for part in ref[2:].split("/"):
            target = target[part]
        return self.errors(value, target, path)

    def check_type(self, value, rule, schema, path):
        types = rule if isinstance(rule, list) else [rule]
        if any(self.TYPES[t](value) for t in types):
            return []
        return [f"{path}: expected {' or '.join(types)}, got {json.dumps(value)[:60]}"]

    def check_const(self, value, rule, schema, path):
        return [] if value == rule and type(value) is type(rule) else [f"{path}: must be {json.dumps(rule)}"]

    def check_enum(self, value, rule, schema, path):
        return [] if any(value == item and type(value) is type(item) for item in rule) else [f"{path}: must be one of {rule}"]

    def check_required(self, value, rule, schema, path):
        if not isinstance(value, dict):
            return []
        return [f"{path}: {name!r} is required" for name in rule if name not in value]

    def check_properties(self, value, rule, schema, path):
        if not isinstance(value, dict):
            return []
        return [p for name, sub in rule.items() if name in value for p in self.errors(value[name], sub, f"{path}.{name}")]

    def check_additionalProperties(self, value, rule, schema, path):
        if not isinstance(value, dict):
            return []
        extra = [name for name in value if name not in schema.get("properties", {})]
        if rule is False:
            return [f"{path}: unknown field {name!r}" for name in extra]
        return [p for name in extra for p in self.errors(value[name], rule, f"{path}.{name}")]

    def check_propertyNames(self, value, rule, schema, path):
        if not isinstance(value, dict):
            return []
        return [p for name in value for p in self.errors(name, rule, f"{path}[key {name!r}]")]

    def check_items(self, value, rule, schema, path):
        if not isinstance(value, list):
            return []
        return [p for i, item in enumerate(value) for p in self.errors(item, rule, f"{path}[{i}]")]

    def check_oneOf(self, value, rule, schema, path):
        results = [self.errors(value, sub, path) for sub in rule]
        matching = [r for r in results if not r]
        if len(matching) == 1:
            return []
        if matching:
            return [f"{path}: matches {len(matching)} alternatives of oneOf, must match exactly one"]
        # Report the alternative that got furthest: the one with fewest problems.
        return [f"{path}: matches no alternative of oneOf; closest: " + "; ".join(min(results, key=len))]

    def check_minLength(self, value, rule, schema, path):
        return [f"{path}: shorter than {rule}"] if isinstance(value, str) and len(value) < rule else []

    def check_pattern(self, value, rule, schema, path):
        return [f"{path}: {value!r} does not match {rule}"] if isinstance(value, str) and not re.search(rule, value) else []

    def _number(self, value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def check_minimum(self, value, rule, schema, path):
        return [f"{path}: below {rule}"] if self._number(value) and value < rule else []

    def check_maximum(self, value, rule, schema, path):
        return [f"{path}: above {rule}"] if self._number(value) and value > rule else []

    def check_exclusiveMinimum(self, value, rule, schema, path):
        return [f"{path}: must be above {rule}"] if self._number(value) and value <= rule else []


REQUEST_SCHEMA = SchemaChecker(json.loads((SCHEMAS / "reconcile-request.schema.json").read_text()))
RESPONSE_SCHEMA = SchemaChecker(json.loads((SCHEMAS / "reconcile-response.schema.json").read_text()))


def assert_valid_response(body):
    problems = RESPONSE_SCHEMA.errors(body)
    assert not problems, f"response does not match reconcile-response.schema.json: {problems}\n{json.dumps(body, indent=2)}"


# Running a plugin -----------------------------------------------------------------------------

def command_from_config(directory):
    """The argv and working directory of the plugin's plugboard.yaml, resolved as the host does."""
    config = yaml.safe_load((directory / "plugboard.yaml").read_text())
    assert config["apiVersion"] == "plugboard.dev/v1alpha1" and config["kind"] == "PlugboardConfig"
    command = config["plugins"][0]["command"]
    program = command["path"]
    if "/" in program:
        program = str((directory / program).resolve())
    else:
        program = shutil.which(program)
        assert program, f"{command['path']} is not on PATH"
    cwd = (directory / command.get("workingDirectory", ".")).resolve()
    return [program, *command.get("args", [])], cwd


class PluginProcess(RunningPlugin):
    """A running example plugin, started as its plugboard.yaml says, and an HTTP client for it."""

    def __init__(self, directory, log_path, extra_env=None):
        argv, cwd = command_from_config(directory)
        env = {k: v for k, v in os.environ.items() if k != "PLUGBOARD_TOKEN"}
        env.update(extra_env or {})
        self.token = (extra_env or {}).get("PLUGBOARD_TOKEN")
        super().__init__(directory.name, argv, log_path, cwd=cwd, env=env, headers=self.host_headers(),
                         check_response=assert_valid_response)

    def host_headers(self):
        """What the host sends with every reconcile."""
        headers = {"Content-Type": "application/json", "Plugboard-Protocol": "v1alpha1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def reconcile(self, request, connection=None):
        problems = REQUEST_SCHEMA.errors(request)
        assert not problems, f"the test built a request the host would not send: {problems}"
        return super().reconcile(request, connection)


@contextlib.contextmanager
def running(directory, tmp_path_factory, extra_env=None):
    plugin = PluginProcess(directory, tmp_path_factory.mktemp(directory.name) / "plugin.log", extra_env)
    try:
        yield plugin
    finally:
        alive = plugin.process.poll() is None
        plugin.stop()
    assert alive, f"{plugin.name} died during the tests:\n{plugin.log_path.read_text()}"
    assert plugin.process.returncode == 0, f"{plugin.name} did not exit cleanly on SIGTERM ({plugin.process.returncode})"


@pytest.fixture(scope="module")
def propagator(tmp_path_factory):
    with running(PROPAGATOR_DIR, tmp_path_factory) as plugin:
        yield plugin


@pytest.fixture(scope="module")
def webapp(tmp_path_factory):
    assert shutil.which("node"), "node is not installed (.ci/run installs nodejs)"
    with running(WEBAPP_DIR, tmp_path_factory) as plugin:
        yield plugin


@pytest.fixture(params=["python", "node"])
def any_plugin(request):
    """Each SDK, through its example plugin."""
    return request.getfixturevalue("propagator" if request.param == "python" else "webapp")


# Building requests as the host does --------------------------------------------------------------

def reconcile_request(plugin, key, obj, children=None, related=None, attempt=1):
    deleting = obj is not None and obj.get("metadata", {}).get("deletionTimestamp") is not None
    return {"apiVersion": "plugboard.dev/v1alpha1", "kind": "ReconcileRequest", "plugin": plugin,
            "key": key, "attempt": attempt, "deleting": deleting, "object": obj,
            "children": children or {}, "related": related or {}}


def uid(n):
    return f"5f0e2a4c-0000-4000-8000-{n:012d}"


# configmap-propagator ------------------------------------------------------------------------------

FINALIZER = "plugboard.dev/propagator"
ORIGIN = "plugboard-system.settings"
SOURCE_KEY = {"namespace": "plugboard-system", "name": "settings"}


def source_config_map(finalizers=(), deleting=False, data=None, binary_data=None):
    metadata = {"name": "settings", "namespace": "plugboard-system", "uid": uid(1), "resourceVersion": "41",
                "creationTimestamp": "2025-01-01T00:00:00Z", "labels": {"plugboard.dev/propagate": "true"}}
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-02T00:00:00Z"
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
           "data": data if data is not None else {"LOG_LEVEL": "info", "FEATURE_FLAGS": "search,export"}}
    if binary_data is not None:
        obj["binaryData"] = binary_data
    return obj


def namespace(name, n, terminating=False):
    metadata = {"name": name, "uid": uid(100 + n), "resourceVersion": str(10 + n),
                "labels": {"kubernetes.io/metadata.name": name, "plugboard.dev/propagate-to": "true"}}
    status = {"phase": "Active"}
    if terminating:
        metadata["deletionTimestamp"] = "2025-01-02T00:00:00Z"
        status = {"phase": "Terminating"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata, "spec": {"finalizers": ["kubernetes"]},
            "status": status}


def copy_in(ns, n, origin=ORIGIN):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": ns, "uid": uid(200 + n), "resourceVersion": str(50 + n),
                         "labels": {"plugboard.dev/propagated-from": origin}},
            "data": {"LOG_LEVEL": "debug"}}


def propagator_request(obj, namespaces=(), copies=()):
    return reconcile_request("configmap-propagator", SOURCE_KEY, obj,
                             related={"Namespace.v1": list(namespaces), "ConfigMap.v1": list(copies)})


def expected_copy(ns, data=None, binary_data=None):
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "settings", "namespace": ns, "labels": {"plugboard.dev/propagated-from": ORIGIN}},
           "data": data if data is not None else {"LOG_LEVEL": "info", "FEATURE_FLAGS": "search,export"}}
    if binary_data is not None:
        obj["binaryData"] = binary_data
    return {"type": "apply", "object": obj, "ownerReference": False}


def expected_delete(ns, n):
    return {"type": "delete", "apiVersion": "v1", "kind": "ConfigMap", "namespace": ns, "name": "settings", "uid": uid(200 + n)}


def test_propagator_config_watches_and_permits_what_the_plugin_uses():
    plugin = yaml.safe_load((PROPAGATOR_DIR / "plugboard.yaml").read_text())["plugins"][0]
    assert plugin["watch"] == {"apiVersion": "v1", "kind": "ConfigMap", "namespaces": ["plugboard-system"],
                               "labelSelector": "plugboard.dev/propagate=true"}
    assert [(r["kind"], r["namespaces"], r["labelSelector"]) for r in plugin["related"]] == [
        ("Namespace", "all", "plugboard.dev/propagate-to=true"),
        ("ConfigMap", "all", "plugboard.dev/propagated-from"),
    ]
    assert plugin["permissions"] == [{"apiVersion": "v1", "kind": "ConfigMap", "namespaces": "all", "verbs": ["apply", "delete"]}]


def test_propagator_adds_its_finalizer_before_the_first_copies(propagator):
    request = propagator_request(source_config_map(), [namespace("team-b", 2), namespace("team-a", 1)])
    assert propagator.reconcile(request) == {"actions": [
        {"type": "addFinalizer", "finalizer": FINALIZER},
        expected_copy("team-a"),
        expected_copy("team-b"),
    ]}


def test_propagator_copies_to_each_labelled_namespace_but_its_own_and_terminating_ones(propagator):
    namespaces = [namespace("plugboard-system", 0), namespace("team-a", 1), namespace("team-gone", 3, terminating=True)]
    request = propagator_request(source_config_map(finalizers=[FINALIZER]), namespaces, [copy_in("team-a", 1)])
    assert propagator.reconcile(request) == {"actions": [expected_copy("team-a")]}


def test_propagator_deletes_copies_in_namespaces_no_longer_labelled(propagator):
    copies = [copy_in("team-a", 1), copy_in("team-old", 4), copy_in("team-x", 5, origin="plugboard-system.other")]
    request = propagator_request(source_config_map(finalizers=["example.com/keep", FINALIZER]),
                                 [namespace("team-a", 1), namespace("team-b", 2)], copies)
    assert propagator.reconcile(request) == {"actions": [
        expected_copy("team-a"),
        expected_copy("team-b"),
        expected_delete("team-old", 4),  # team-x's copy belongs to another source: left alone
    ]}


def test_propagator_copies_binary_data_and_an_empty_data(propagator):
    request = propagator_request(source_config_map(finalizers=[FINALIZER], data={}, binary_data={"logo.bin": "iVBORw0KGgo="}),
                                 [namespace("team-a", 1)])
    assert propagator.reconcile(request) == {"actions": [
        expected_copy("team-a", data={}, binary_data={"logo.bin": "iVBORw0KGgo="}),
    ]}


def test_propagator_with_no_target_namespace_only_keeps_its_finalizer(propagator):
    assert propagator.reconcile(propagator_request(source_config_map())) == {"actions": [
        {"type": "addFinalizer", "finalizer": FINALIZER}]}
    assert propagator.reconcile(propagator_request(source_config_map(finalizers=[FINALIZER]))) == {"actions": []}


def test_propagator_on_deletion_deletes_every_copy_then_releases_the_finalizer(propagator):
    obj = source_config_map(finalizers=[FINALIZER, "example.com/other"], deleting=True)
    request = propagator_request(obj, [namespace("team-a", 1), namespace("team-b", 2)],
                                 [copy_in("team-a", 1), copy_in("team-b", 2), copy_in("team-old", 4)])
    assert request["deleting"] is True
    assert propagator.reconcile(request) == {"actions": [
        expected_delete("team-a", 1),
        expected_delete("team-b", 2),
        expected_delete("team-old", 4),
        {"type": "removeFinalizer", "finalizer": FINALIZER},
    ]}


def test_propagator_on_deletion_without_its_finalizer_only_deletes(propagator):
    request = propagator_request(source_config_map(finalizers=["example.com/other"], deleting=True), [], [copy_in("team-a", 1)])
    assert propagator.reconcile(request) == {"actions": [expected_delete("team-a", 1)]}


def test_propagator_cleans_up_leftover_copies_of_a_primary_that_is_gone(propagator):
    request = propagator_request(None, [namespace("team-a", 1)], [copy_in("team-a", 1)])
    assert request["deleting"] is False
    assert propagator.reconcile(request) == {"actions": [expected_delete("team-a", 1)]}
    assert propagator.reconcile(propagator_request(None)) == {"actions": []}


# webapp ------------------------------------------------------------------------------------------

WEBAPP_KEY = {"namespace": "default", "name": "site"}


def webapp_object(spec=None, generation=3, deleting=False):
    metadata = {"name": "site", "namespace": "default", "uid": uid(7), "resourceVersion": "812", "generation": generation,
                "creationTimestamp": "2025-01-01T00:00:00Z"}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-02T00:00:00Z"
    return {"apiVersion": "example.plugboard.dev/v1", "kind": "WebApp", "metadata": metadata,
            "spec": spec if spec is not None else {"image": "nginx:1.27", "replicas": 2, "port": 80}}


def child_deployment(ready=None, replicas=2):
    status = {"observedGeneration": 1, "replicas": replicas}
    if ready is not None:
        status["readyReplicas"] = ready
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "site", "namespace": "default", "uid": uid(8), "resourceVersion": "820", "generation": 1,
                         "labels": {"app": "site"},
                         "ownerReferences": [{"apiVersion": "example.plugboard.dev/v1", "kind": "WebApp", "name": "site",
                                              "uid": uid(7), "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "site"}}}, "status": status}


def webapp_request(obj, deployments=(), services=()):
    return reconcile_request("webapp", WEBAPP_KEY, obj,
                             children={"Deployment.apps/v1": list(deployments), "Service.v1": list(services)})


def expected_children(image="nginx:1.27", replicas=2, port=80):
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "site", "namespace": "default", "labels": {"app": "site"}},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "site"}},
                           "template": {"metadata": {"labels": {"app": "site"}},
                                        "spec": {"containers": [{"name": "app", "image": image,
                                                                 "ports": [{"name": "http", "containerPort": port}]}]}}}}
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "site", "namespace": "default", "labels": {"app": "site"}},
               "spec": {"selector": {"app": "site"},
                        "ports": [{"name": "http", "port": 80, "targetPort": port, "protocol": "TCP"}]}}
    return [{"type": "apply", "object": deployment}, {"type": "apply", "object": service}]


def expected_status(ready, condition, generation=3):
    return {"type": "status", "status": {"observedGeneration": generation, "replicas": ready,
                                         "url": "http://site.default.svc:80", "conditions": [condition]}}


def test_webapp_config_owns_the_children_it_applies():
    plugin = yaml.safe_load((WEBAPP_DIR / "plugboard.yaml").read_text())["plugins"][0]
    assert plugin["watch"] == {"apiVersion": "example.plugboard.dev/v1", "kind": "WebApp"}
    assert plugin["owns"] == [{"apiVersion": "apps/v1", "kind": "Deployment"}, {"apiVersion": "v1", "kind": "Service"}]
    assert "permissions" not in plugin  # the default: owned kinds and the primary's status


def test_webapp_crd_matches_the_plugin():
    crd = yaml.safe_load((WEBAPP_DIR / "crd.yaml").read_text())
    assert crd["metadata"]["name"] == "webapps.example.plugboard.dev"
    assert (crd["spec"]["group"], crd["spec"]["scope"], crd["spec"]["names"]["kind"]) == ("example.plugboard.dev", "Namespaced", "WebApp")
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1" and version["subresources"] == {"status": {}}
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["image"]
    assert spec["properties"]["replicas"]["default"] == 1 and spec["properties"]["port"]["default"] == 8080
    assert [c["jsonPath"] for c in version["additionalPrinterColumns"]][:4] == [".spec.image", ".spec.replicas", ".status.replicas", ".status.url"]
    sample = yaml.safe_load((WEBAPP_DIR / "sample.yaml").read_text())
    assert (sample["apiVersion"], sample["kind"]) == ("example.plugboard.dev/v1", "WebApp")


def test_webapp_first_reconcile_applies_children_sets_status_and_reports_an_event(webapp):
    answer = webapp.reconcile(webapp_request(webapp_object()))
    assert answer == {"actions": [
        *expected_children(),
        expected_status(0, {"type": "Ready", "status": "False", "reason": "DeploymentCreating",
                            "message": "the Deployment is being created"}),
        {"type": "event", "eventType": "Normal", "reason": "Reconciled", "message": "created Deployment and Service site"},
    ]}


def test_webapp_is_ready_when_all_replicas_are(webapp):
    answer = webapp.reconcile(webapp_request(webapp_object(), [child_deployment(ready=2)]))
    assert answer == {"actions": [
        *expected_children(),
        expected_status(2, {"type": "Ready", "status": "True", "reason": "ReplicasReady", "message": "2/2 replicas ready"}),
    ]}


def test_webapp_is_not_ready_while_replicas_are_missing(webapp):
    # A Deployment whose pods have not started has no status.readyReplicas at all.
    answer = webapp.reconcile(webapp_request(webapp_object(generation=4), [child_deployment(ready=None)]))
    assert answer == {"actions": [
        *expected_children(),
        expected_status(0, {"type": "Ready", "status": "False", "reason": "ReplicasNotReady", "message": "0/2 replicas ready"},
                        generation=4),
    ]}


def test_webapp_fills_in_the_defaults_of_replicas_and_port(webapp):
    answer = webapp.reconcile(webapp_request(webapp_object(spec={"image": "ghcr.io/example/site:2"}), [child_deployment(ready=1, replicas=1)]))
    assert answer["actions"][:2] == expected_children(image="ghcr.io/example/site:2", replicas=1, port=8080)
    assert answer["actions"][2] == expected_status(1, {"type": "Ready", "status": "True", "reason": "ReplicasReady",
                                                       "message": "1/1 replicas ready"})


def test_webapp_without_an_image_reports_it_in_status_only(webapp):
    answer = webapp.reconcile(webapp_request(webapp_object(spec={"replicas": 1})))
    assert answer == {"actions": [
        expected_status(0, {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": "spec.image is required"}),
    ]}


def test_webapp_does_nothing_while_deleting_or_once_gone(webapp):
    deleting = webapp_request(webapp_object(deleting=True), [child_deployment(ready=2)])
    assert deleting["deleting"] is True
    assert webapp.reconcile(deleting) == {"actions": []}
    assert webapp.reconcile(webapp_request(None)) == {"actions": []}


# The SDKs, through both plugins ---------------------------------------------------------------------

def test_health_answers_ok(any_plugin):
    status, headers, body = any_plugin.call("GET", "/healthz")
    assert (status, body) == (200, b"ok\n")
    assert int(headers["Content-Length"]) == 3


def test_a_body_that_is_not_json_is_refused_with_400(any_plugin):
    status, headers, body = any_plugin.call("POST", "/reconcile", body=b"{not json", headers=any_plugin.host_headers())
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert "not JSON" in json.loads(body)["error"]


@pytest.mark.parametrize("body, message", [
    ([1, 2], "must be a JSON object"),
    ({"apiVersion": "plugboard.dev/v2", "kind": "ReconcileRequest", "key": {"namespace": "", "name": "x"}}, "unsupported protocol version"),
    ({"apiVersion": "plugboard.dev/v1alpha1", "kind": "ReconcileRequest", "key": {"namespace": "default"}}, "key.name is required"),
    ({"apiVersion": "plugboard.dev/v1alpha1", "kind": "ReconcileRequest", "key": {"name": "x"}, "object": "text"}, "object must be an object"),
])
def test_a_json_body_that_is_not_a_request_is_refused_with_400(any_plugin, body, message):
    status, _, payload = any_plugin.call("POST", "/reconcile", body=json.dumps(body).encode(), headers=any_plugin.host_headers())
    assert status == 400
    assert message in json.loads(payload)["error"]


def test_wrong_methods_and_paths_are_refused(any_plugin):
    status, headers, body = any_plugin.call("GET", "/reconcile")
    assert status == 405 and headers["Allow"] == "POST" and "error" in json.loads(body)
    status, headers, _ = any_plugin.call("POST", "/healthz", body=b"{}", headers={"Content-Type": "application/json"})
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = any_plugin.call("GET", "/nowhere")
    assert status == 404 and "error" in json.loads(body)


def test_a_chunked_body_is_refused_with_411(any_plugin):
    reply, closed = any_plugin.raw(b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411 "), reply
    assert closed, "the connection should be closed after a refused body"


def test_one_connection_carries_many_requests_even_after_a_refusal(any_plugin):
    """The host keeps one connection per worker: every answer must leave it usable."""
    conn = any_plugin.connection()
    try:
        gone = reconcile_request(any_plugin.name, {"namespace": "default", "name": "x"}, None)
        for _ in range(3):
            assert any_plugin.reconcile(gone, connection=conn) == {"actions": []}
        status, _, _ = any_plugin.call("POST", "/reconcile", body=b"nope", headers=any_plugin.host_headers(), connection=conn)
        assert status == 400
        status, _, _ = any_plugin.call("GET", "/reconcile", connection=conn)
        assert status == 405
        assert any_plugin.reconcile(gone, connection=conn) == {"actions": []}
    finally:
        conn.close()


def test_an_exception_in_the_reconciler_is_reported_as_an_error(any_plugin):
    # A primary without metadata: both example reconcilers fail on it.
    request = reconcile_request(any_plugin.name, {"namespace": "default", "name": "x"}, {"apiVersion": "v1", "kind": "Broken"})
    answer = any_plugin.reconcile(request)
    assert answer["actions"] == []
    assert answer["error"]


def test_unknown_request_fields_are_ignored(any_plugin):
    request = reconcile_request(any_plugin.name, {"namespace": "default", "name": "x"}, None)
    request["fromTheFuture"] = {"anything": True}
    assert any_plugin.reconcile(request) == {"actions": []}


def test_each_request_is_logged_on_one_line(any_plugin):
    request = reconcile_request(any_plugin.name, {"namespace": "logged", "name": "once"}, None, attempt=4)
    any_plugin.reconcile(request)
    line = wait_for(lambda: next((l for l in any_plugin.log_path.read_text().splitlines() if "logged/once" in l), None),
                    message="the log line")
    assert "POST /reconcile 200" in line and "attempt=4" in line and "actions=0" in line


@pytest.mark.parametrize("directory", [PROPAGATOR_DIR, WEBAPP_DIR], ids=["python", "node"])
def test_with_a_token_set_only_the_host_is_answered(directory, tmp_path_factory):
    if directory == WEBAPP_DIR:
        assert shutil.which("node"), "node is not installed (.ci/run installs nodejs)"
    with running(directory, tmp_path_factory, {"PLUGBOARD_TOKEN": "s3cret"}) as plugin:
        body = json.dumps(reconcile_request(plugin.name, {"namespace": "default", "name": "x"}, None)).encode()
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            status, _, payload = plugin.call("POST", "/reconcile", body=body, headers={"Content-Type": "application/json", **headers})
            assert status == 401, payload
        assert plugin.reconcile(json.loads(body)) == {"actions": []}
        assert plugin.call("GET", "/healthz")[0] == 200  # health needs no token


# The schemas themselves -----------------------------------------------------------------------------

GOOD_ACTIONS = [
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}},
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}, "data": {}},
     "force": False, "ownerReference": None},
    {"type": "create", "object": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}, "ownerReference": True},
    {"type": "update", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "5"}}},
    {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "merge", "patch": {"data": {"k": None}}},
    {"type": "patch", "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "web", "name": "d", "patchType": "json",
     "patch": [{"op": "replace", "path": "/spec/replicas", "value": 3}]},
    {"type": "delete", "apiVersion": "v1", "kind": "ConfigMap", "name": "a"},
    {"type": "delete", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "x", "name": "a", "uid": uid(1)},
    {"type": "status", "status": {"phase": "Ready"}},
    {"type": "event", "reason": "Synced"},
    {"type": "event", "eventType": "Warning", "reason": "ImagePullFailed2", "message": "text"},
    {"type": "addFinalizer", "finalizer": "example.com/cleanup"},
    {"type": "removeFinalizer", "finalizer": "plugboard.dev/propagator"},
]

BAD_ACTIONS = [
    {"type": "scale", "replicas": 3},
    {"type": "apply"},
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap"}},
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ""}}},
    {"type": "apply", "object": {"kind": "ConfigMap", "metadata": {"name": "a"}}},
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "force": "yes"},
    {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "dryRun": True},
    {"type": "update", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "ownerReference": True},
    {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "merge", "patch": [{"op": "remove", "path": "/data"}]},
    {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "json", "patch": {"data": {}}},
    {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "strategic", "patch": {}},
    {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "merge"},
    {"type": "delete", "apiVersion": "v1", "kind": "ConfigMap"},
    {"type": "status", "status": "Ready"},
    {"type": "event", "eventType": "Error", "reason": "Failed"},
    {"type": "event", "reason": "lowerCase"},
    {"type": "event", "reason": "Has Space"},
    {"type": "event", "reason": "A" * 129},
    {"type": "addFinalizer", "finalizer": "cleanup"},
    {"type": "removeFinalizer", "finalizer": "Example.com/cleanup"},
    {"type": "addFinalizer", "finalizer": "example.com/a/b"},
]


def test_the_response_schema_accepts_every_action_the_protocol_defines():
    assert_valid_response({"actions": GOOD_ACTIONS, "requeueAfterSeconds": 0.5, "error": "partial"})
    assert_valid_response({})
    assert_valid_response({"actions": None, "requeueAfterSeconds": None, "error": None})
    types = {action["type"] for action in GOOD_ACTIONS}
    assert types == {"apply", "create", "update", "patch", "delete", "status", "event", "addFinalizer", "removeFinalizer"}


@pytest.mark.parametrize("action", BAD_ACTIONS, ids=lambda a: json.dumps(a)[:50])
def test_the_response_schema_refuses_malformed_actions(action):
    assert RESPONSE_SCHEMA.errors({"actions": [action]}), f"accepted {action}"


@pytest.mark.parametrize("body", [
    {"actions": [], "requeue": 5},
    {"requeueAfterSeconds": 0},
    {"requeueAfterSeconds": -1},
    {"requeueAfterSeconds": 2592001},
    {"requeueAfterSeconds": "30"},
    {"error": 5},
    {"actions": {}},
    [],
], ids=json.dumps)
def test_the_response_schema_refuses_malformed_bodies(body):
    assert RESPONSE_SCHEMA.errors(body), f"accepted {body}"


def test_the_request_schema_refuses_what_the_host_never_sends():
    good = reconcile_request("p", {"namespace": "", "name": "node-1"}, None, children={"Deployment.apps/v1": []},
                             related={"Namespace.v1": [], "Gateway.gateway.networking.k8s.io/v1beta1": []})
    assert not REQUEST_SCHEMA.errors(good)
    for field, value in [("attempt", 0), ("deleting", "no"), ("object", []), ("children", {"deployments": []}),
                         ("related", {"Namespace.v1": {}}), ("key", {"name": "x"})]:
        assert REQUEST_SCHEMA.errors({**good, field: value}), f"accepted {field}={value!r}"


def test_the_protocol_reference_documents_every_action_and_field():
    text = (ROOT / "docs" / "plugin-protocol.md").read_text()
    schema = RESPONSE_SCHEMA.root
    for name in ("Apply", "Create", "Update", "Patch", "Delete", "Status", "Event", "AddFinalizer", "RemoveFinalizer"):
        definition = schema["$defs"][name]
        assert f'"type": "{definition["properties"]["type"]["const"]}"' in text, name
        for field in definition["properties"]:
            assert f"`{field}`" in text, f"{name}.{field} is not documented"
    for field in schema["properties"]:
        assert f"`{field}`" in text, field
    for field in REQUEST_SCHEMA.root["properties"]:
        assert f"`{field}`" in text, field
