"""A plugin for the host's end-to-end tests whose behaviour each primary chooses.

The primary is a ConfigMap; its `data.mode` says how to answer:
  ok         apply a child ConfigMap `<name>-child` (owned) with the primary's data.value
  sleep      answer after `data.seconds` (default 30): the host's timeout fires
  crash      exit the process at once (the host restarts it) while the attempt is at most
             `data.crashes` (default 2), then as `ok`
  status500  answer 500
  garbage    answer 200 with a body that is not JSON
  shape      answer 200 with an action of an unknown type
  forbidden  a valid apply of the child, then an apply of a Secret (not permitted): nothing may be applied
  throttle   answer 429 with Retry-After: 1 the first time for this object, then as `ok`
  error      apply the child, and report an error
Each request is appended to the file named by SCRIPTED_LOG (one JSON line: key, attempt, mode).
Standard library only.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = os.environ.get("SCRIPTED_LOG")
lock = threading.Lock()
throttled = set()


def child(request):
    key = request["key"]
    primary = request["object"]
    return {"type": "apply", "object": {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": key["name"] + "-child", "namespace": key["namespace"]},
        "data": {"value": (primary.get("data") or {}).get("value", "")},
    }}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200 if self.path == "/healthz" else 404, {"ok": self.path == "/healthz"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        primary = request.get("object")
        mode = ((primary or {}).get("data") or {}).get("mode", "ok")
        if LOG:
            with lock, open(LOG, "a") as log:
                log.write(json.dumps({"key": request["key"], "attempt": request["attempt"], "mode": mode,
                                      "children": {k: len(v) for k, v in request["children"].items()},
                                      "auth": self.headers.get("Authorization")}) + "\n")
        if primary is None or request["deleting"]:
            return self.reply(200, {})
        name = request["key"]["name"]
        if mode == "sleep":
            time.sleep(float(primary["data"].get("seconds", "30")))
            return self.reply(200, {})
        if mode == "crash" and request["attempt"] <= int(primary["data"].get("crashes", "2")):
            print(f"crashing on {name} as asked", flush=True)
            os._exit(3)
        if mode == "status500":
            return self.reply(500, {"message": "internal trouble"})
        if mode == "garbage":
            return self.reply(200, b"<html>not json</html>")
        if mode == "shape":
            return self.reply(200, {"actions": [{"type": "explode"}]})
        if mode == "forbidden":
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": request["key"]["namespace"]}}
            return self.reply(200, {"actions": [child(request), {"type": "apply", "object": secret}]})
        if mode == "throttle":
            with lock:
                first = name not in throttled
                throttled.add(name)
            if first:
                return self.reply(429, {"message": "slow down"}, headers=[("Retry-After", "1")])
        if mode == "error":
            return self.reply(200, {"actions": [child(request)], "error": "could not finish: upstream unavailable"})
        self.reply(200, {"actions": [child(request)]})


def main():
    port = int(os.environ.get("PLUGBOARD_PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"scripted plugin on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
