"""A plugin process started by a test, and a plain HTTP client for it (the example plugins' unit tests)."""
import http.client
import json
import os
import socket
import subprocess

from conftest import free_port, wait_for


class RunningPlugin:
    """Starts `argv` on a free loopback port (PLUGBOARD_PORT) and waits for its health check.

    `check_response(answer)` is called on every reconcile answer; subclasses or callers choose how strict it is.
    """

    def __init__(self, name, argv, log_path, cwd=None, env=None, headers=None, check_response=lambda answer: None):
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.headers = headers or {"Content-Type": "application/json"}
        self.check_response = check_response
        self.process = subprocess.Popen(argv, cwd=str(cwd) if cwd else None, env={**(env or os.environ), "PLUGBOARD_PORT": str(self.port)},
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.healthy, timeout=15, message=f"{name} health on port {self.port}")

    def healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_path.read_text()}")
        try:
            status, _, body = self.call("GET", "/healthz")
            return status == 200 and body == b"ok\n"
        except OSError:
            return False

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def call(self, method, path, body=None, headers=None, connection=None):
        own = connection is None
        conn = connection or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if own:
                conn.close()

    def reconcile(self, request, connection=None):
        status, headers, payload = self.call("POST", "/reconcile", body=json.dumps(request).encode(), headers=self.headers,
                                             connection=connection)
        assert status == 200, payload
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Content-Length"]) == len(payload)
        answer = json.loads(payload)
        self.check_response(answer)
        return answer

    def raw(self, data, timeout=5):
        """Sends bytes on a fresh socket; returns what comes back until the server closes or goes quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return b"".join(chunks), True
                    chunks.append(chunk)
            except socket.timeout:
                return b"".join(chunks), False

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
