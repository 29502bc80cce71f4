"""Fixtures that run the real `plugboard dev` binary and talk to it over loopback.

Every test gets real processes and real HTTP: the dev API server started from
the built binary, the real kubectl, and the official Python client.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]


def plugboard_binary() -> Path:
    explicit = os.environ.get("PLUGBOARD_BIN")
    if explicit:
        return Path(explicit)
    for candidate in (ROOT / ".build" / "debug" / "plugboard", ROOT / ".build" / "release" / "plugboard"):
        if candidate.exists():
            return candidate
    raise RuntimeError("plugboard is not built: run `swift build` first (or set PLUGBOARD_BIN)")


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_metrics(text):
    """{(name, frozenset(labels)): value} and the families with their TYPE and HELP, from Prometheus text."""
    samples, types, helps = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("# HELP "):
            _, _, name, help_text = line.split(" ", 3)
            helps[name] = help_text
        elif line and not line.startswith("#"):
            match = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
            assert match, f"unparsable line in /metrics: {line!r}"
            labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples, types, helps


def wait_for(predicate, timeout=10.0, interval=0.02, message="condition"):
    """Waits for a condition with a deadline, instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {last!r})")


class DevServer:
    """A running `plugboard dev` process (`--api-only` unless `api_only=False`) and what a client needs to reach it."""

    def __init__(self, workdir: Path, extra_args=(), api_only=True, env=None):
        self.workdir = workdir
        if not api_only and "--metrics-address" not in extra_args:
            # The host's own server: a free port, so tests never collide on the default one.
            extra_args = [*extra_args, "--metrics-address", "127.0.0.1:0"]
        self.kubeconfig = workdir / "kubeconfig"
        self.log_path = workdir / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(plugboard_binary()), "dev", *(["--api-only"] if api_only else []), "--listen", "127.0.0.1:0",
             "--kubeconfig-out", str(self.kubeconfig), "--bookmark-interval", "1", "--log-level", "debug", *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=str(ROOT), env=env,
        )
        self.url = None
        self.dashboard_url = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("Dev API server:"):
                self.url = line.split(":", 1)[1].strip()
            if line.startswith("Dashboard:"):
                self.dashboard_url = line.split(":", 1)[1].strip().rstrip("/")
            if line.startswith("Kubeconfig:"):
                break
        if not self.url or not self.kubeconfig.exists():
            self.stop()
            raise RuntimeError(f"plugboard dev did not start; log:\n{self.log_path.read_text()}")
        config = yaml.safe_load(self.kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        self.token = user.get("token")
        self.ca_file = None
        if "certificate-authority-data" in cluster:
            self.ca_file = workdir / "ca.crt"
            self.ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace our CA
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.session.verify = str(self.ca_file) if self.ca_file else True

    # Raw HTTP helpers -------------------------------------------------------
    def request(self, method, path, **kwargs):
        return self.session.request(method, self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_json(self, path, body, **kwargs):
        return self.request("POST", path, json=body, **kwargs)

    def control(self, action, body=None, method="POST"):
        response = self.request(method, "/dev/" + action, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    # kubectl ------------------------------------------------------------------
    def kubectl(self, *args, input=None, check=True, timeout=60):
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        result = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def kubectl_json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def kubectl_popen(self, *args):
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        return subprocess.Popen(["kubectl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def dev_server(tmp_path):
    server = DevServer(tmp_path)
    yield server
    server.stop()
    assert server.process.returncode == 0, f"plugboard dev exited with {server.process.returncode}; log:\n{server.log_path.read_text()}"


@pytest.fixture(scope="session", autouse=True)
def require_tools():
    if shutil.which("kubectl") is None:
        raise RuntimeError("kubectl is not installed: pip install -r Tests/e2e/requirements.txt")
