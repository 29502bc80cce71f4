"""The Swift checksum-annotator plugin (plugins/swift), on its own: no host, no API server.

Builds the package once, starts the real binary on a free loopback port and
speaks the plugin protocol to it over real HTTP, the way the host does.
"""
import hashlib
import http.client
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import wait_for
from running_plugin import RunningPlugin, free_port

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "plugins" / "swift"
ANNOTATION = "plugboard.dev/checksum"
ALLOWED_RESPONSE_FIELDS = {"actions", "requeueAfterSeconds", "error"}


@pytest.fixture(scope="session")
def checksum_binary():
    result = subprocess.run(
        ["swift", "build", "-c", "release", "--package-path", str(PACKAGE)],
        cwd=str(ROOT), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"swift build failed:\n{result.stdout}\n{result.stderr}"
    binary = PACKAGE / ".build" / "release" / "checksum-annotator"
    assert binary.exists(), f"{binary} was not built"
    return binary


class Plugin(RunningPlugin):
    """A running checksum-annotator and an HTTP client for it."""

    def __init__(self, binary, log_path):
        def within_protocol(answer):
            assert set(answer) <= ALLOWED_RESPONSE_FIELDS, answer  # the host rejects unknown fields
        super().__init__("checksum-annotator", [str(binary)], log_path, check_response=within_protocol)


@pytest.fixture(scope="session")
def plugin(checksum_binary, tmp_path_factory):
    running = Plugin(checksum_binary, tmp_path_factory.mktemp("swift-plugin") / "plugin.log")
    yield running
    alive = running.process.poll() is None
    running.stop()
    assert alive, f"checksum-annotator died during the tests:\n{running.log_path.read_text()}"


# Requests ---------------------------------------------------------------------------------------

def config_map(name="settings", namespace="default", data=None, binary_data=None, annotations=None, labelled=True):
    metadata = {"name": name, "namespace": namespace, "uid": "8d1c4a0e-0000-4000-8000-000000000001",
                "resourceVersion": "7"}
    if labelled:
        metadata["labels"] = {"plugboard.dev/checksum": "true", "app": "web"}
    if annotations is not None:
        metadata["annotations"] = annotations
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if data is not None:
        obj["data"] = data
    if binary_data is not None:
        obj["binaryData"] = binary_data
    return obj


def reconcile_request(obj, name="settings", namespace="default", deleting=False, attempt=1):
    return {"apiVersion": "plugboard.dev/v1alpha1", "kind": "ReconcileRequest", "plugin": "checksum",
            "key": {"namespace": namespace, "name": name}, "attempt": attempt, "deleting": deleting,
            "object": obj, "children": {}, "related": {}}


def expected_checksum(obj):
    """The documented canonical form: data and binaryData entries sorted by UTF-8 key, `key=value\\n` each."""
    entries = {**(obj.get("data") or {}), **(obj.get("binaryData") or {})}
    text = "".join(f"{key}={entries[key]}\n" for key in sorted(entries, key=lambda key: key.encode()))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def assert_checksum_actions(answer, obj, name="settings", namespace="default"):
    checksum = expected_checksum(obj)
    assert answer["actions"] == [
        {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "name": name,
         "patchType": "merge", "patch": {"metadata": {"annotations": {ANNOTATION: checksum}}}},
        {"type": "event", "eventType": "Normal", "reason": "ChecksumUpdated", "message": f"checksum {checksum[:len('sha256:') + 12]}"},
    ]
    assert "error" not in answer and "requeueAfterSeconds" not in answer
    return checksum


# The reconciler ---------------------------------------------------------------------------------

def test_health(plugin):
    status, headers, body = plugin.call("GET", "/healthz")
    assert (status, body) == (200, b"ok\n")


def test_missing_annotation_is_patched_with_an_event(plugin):
    obj = config_map(data={"b": "2", "a": "1", "app.properties": "x=1\ny=2\n"})
    answer = plugin.reconcile(reconcile_request(obj))
    checksum = assert_checksum_actions(answer, obj)
    assert checksum == "sha256:" + hashlib.sha256(b"a=1\napp.properties=x=1\ny=2\n\nb=2\n").hexdigest()


def test_correct_annotation_needs_no_actions(plugin):
    obj = config_map(data={"a": "1", "b": "2"})
    obj["metadata"]["annotations"] = {ANNOTATION: expected_checksum(obj), "other": "kept"}
    assert plugin.reconcile(reconcile_request(obj)) == {"actions": []}


def test_stale_annotation_is_replaced(plugin):
    obj = config_map(data={"a": "1"}, annotations={ANNOTATION: "sha256:" + "0" * 64})
    assert_checksum_actions(plugin.reconcile(reconcile_request(obj)), obj)


def test_binary_data_and_non_ascii_and_large_content(plugin):
    # Keys sort by bytes across data and binaryData; values span several SHA-256 blocks and the padding edges.
    data = {f"key-{length:03d}": "ä" * length for length in (0, 1, 27, 28, 31, 32, 55, 56, 64, 200)}
    data["Zeta"] = "upper case sorts first"
    data["config.json"] = json.dumps({"nested": {"list": [1, 2, 3]}, "text": "line1\nline2\ttab \"quoted\" \\ \u2603"})
    obj = config_map(name="mixed", namespace="team-a", data=data,
                     binary_data={"blob.bin": "AAECAwQFBgcICQ==", "a.bin": "/w=="})
    assert_checksum_actions(plugin.reconcile(reconcile_request(obj, name="mixed", namespace="team-a")), obj,
                            name="mixed", namespace="team-a")


def test_a_megabyte_value(plugin):
    obj = config_map(data={"big": "x" * (1 << 20) + "end"})
    assert_checksum_actions(plugin.reconcile(reconcile_request(obj)), obj)


def test_empty_config_map_has_the_hash_of_nothing(plugin):
    obj = config_map()
    checksum = assert_checksum_actions(plugin.reconcile(reconcile_request(obj)), obj)
    assert checksum == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_null_object_needs_no_actions(plugin):
    assert plugin.reconcile(reconcile_request(None)) == {"actions": []}


def test_deleting_needs_no_actions(plugin):
    obj = config_map(data={"a": "1"})
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    obj["metadata"]["finalizers"] = ["example.com/keep"]
    assert plugin.reconcile(reconcile_request(obj, deleting=True)) == {"actions": []}


def test_unlabelled_config_map_is_left_alone(plugin):
    assert plugin.reconcile(reconcile_request(config_map(data={"a": "1"}, labelled=False))) == {"actions": []}


def test_unknown_request_fields_are_ignored(plugin):
    request = reconcile_request(config_map(data={"a": "1"}), attempt=3)
    request["futureField"] = {"x": 1}
    assert len(plugin.reconcile(request)["actions"]) == 2


# HTTP -------------------------------------------------------------------------------------------

def test_non_json_body_is_400(plugin):
    status, headers, body = plugin.call("POST", "/reconcile", body=b"this is not json",
                                        headers={"Content-Type": "application/json"})
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert isinstance(json.loads(body)["error"], str)


@pytest.mark.parametrize("body", [b"[1, 2]", b"{}", b'{"key": {"namespace": "default"}}',
                                  b'{"apiVersion": "plugboard.dev/v9", "key": {"name": "x"}}', b""])
def test_bodies_that_are_not_requests_are_400(plugin, body):
    status, _, payload = plugin.call("POST", "/reconcile", body=body, headers={"Content-Type": "application/json"})
    assert status == 400, payload
    assert "error" in json.loads(payload)


def test_get_reconcile_is_405(plugin):
    status, headers, body = plugin.call("GET", "/reconcile")
    assert status == 405
    assert headers["Allow"] == "POST"


def test_other_methods_on_health_are_405(plugin):
    status, _, _ = plugin.call("POST", "/healthz", body=b"{}")
    assert status == 405


def test_unknown_path_is_404(plugin):
    status, _, body = plugin.call("POST", "/reconcile/extra", body=b"{}")
    assert status == 404
    assert "error" in json.loads(body)


def test_keep_alive_connection_answers_two_requests(plugin):
    conn = plugin.connection()
    try:
        first = config_map(name="one", data={"a": "1"})
        assert_checksum_actions(plugin.reconcile(reconcile_request(first, name="one"), connection=conn), first, name="one")
        sock = conn.sock
        assert sock is not None, "the server closed a keep-alive connection"
        second = config_map(name="two", data={"a": "2"})
        assert_checksum_actions(plugin.reconcile(reconcile_request(second, name="two"), connection=conn), second, name="two")
        assert conn.sock is sock, "the second request needed a new connection"
        status, _, body = plugin.call("GET", "/healthz", connection=conn)
        assert (status, body, conn.sock) == (200, b"ok\n", sock)
    finally:
        conn.close()


def test_pipelined_requests_on_one_socket(plugin):
    body = json.dumps(reconcile_request(None)).encode()
    request = (b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
               + str(len(body)).encode() + b"\r\n\r\n" + body)
    closing = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data, closed = plugin.raw(request + request + closing)
    assert closed, "the server did not close after Connection: close"
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 3, data
    assert data.count(b'{"actions":[]}') == 2, data


def test_chunked_body_is_refused_without_hanging(plugin):
    body = json.dumps(reconcile_request(None)).encode()
    request = (b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    started = time.monotonic()
    data, closed = plugin.raw(request)
    assert time.monotonic() - started < 4
    status = int(data.split(b" ", 2)[1])
    assert 400 <= status < 500, data
    assert closed, "the connection stayed open after a body that cannot be framed"


def test_chunked_body_with_http_client(plugin):
    conn = plugin.connection()
    try:
        conn.request("POST", "/reconcile", body=iter([b'{"key":', b'{"name":"x"}}']),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        response = conn.getresponse()
        assert 400 <= response.status < 500
        response.read()
    finally:
        conn.close()


def test_body_over_16_mib_is_413(plugin):
    # Only the head is sent: the answer must come without the 16 MiB.
    head = b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16777217\r\n\r\n"
    data, closed = plugin.raw(head)
    assert data.startswith(b"HTTP/1.1 413 "), data
    assert closed


def test_incomplete_body_does_not_block_others(plugin):
    with socket.create_connection(("127.0.0.1", plugin.port), timeout=5) as stalled:
        stalled.sendall(b"POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert plugin.reconcile(reconcile_request(None)) == {"actions": []}


def test_concurrent_connections(plugin):
    errors = []

    def worker(index):
        try:
            conn = plugin.connection()
            for round_ in range(10):
                obj = config_map(name=f"cm-{index}", data={"round": str(round_), "index": str(index)})
                answer = plugin.reconcile(reconcile_request(obj, name=f"cm-{index}"), connection=conn)
                assert_checksum_actions(answer, obj, name=f"cm-{index}")
            conn.close()
        except Exception as error:  # reported below with its thread
            errors.append((index, repr(error)))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
