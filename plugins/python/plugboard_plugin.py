"""A tiny SDK for Plugboard plugins in Python (protocol plugboard.dev/v1alpha1).

Standard library only. Copy this file next to your plugin, or put its
directory on PYTHONPATH, then:

    import plugboard_plugin

    def reconcile(request):
        obj = request["object"]
        if obj is None or request["deleting"]:
            return {"actions": []}
        return {"actions": [plugboard_plugin.event("Normal", "Seen", "hello")]}

    plugboard_plugin.serve(reconcile)

What `serve` does:

- listens on 127.0.0.1:$PLUGBOARD_PORT (8080 when unset; 0 picks a free port),
  HTTP/1.1 with keep-alive, one thread per connection;
- GET /healthz answers 200 "ok";
- POST /reconcile parses the request body, calls `reconcile(request)` with the
  decoded dict and answers its return value as JSON. Returning None means
  "nothing to do" ({"actions": []}). An exception raised by `reconcile` is
  answered 200 {"actions": [], "error": "<message>"}: the host records the
  message and retries the key with backoff;
- refuses what the host never sends: a body that is not a JSON request → 400,
  no Content-Length (chunked) → 411, a body over 16 MiB → 413, a wrong
  method → 405, another path → 404, a wrong token (when PLUGBOARD_TOKEN is
  set) → 401. Error bodies are {"error": "<message>"};
- logs one line per request to standard error.

The protocol is described in docs/plugin-protocol.md.
"""
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROTOCOL_VERSION = "plugboard.dev/v1alpha1"
MAX_BODY_BYTES = 16 << 20

__all__ = [
    "PROTOCOL_VERSION", "serve", "apply", "create", "update", "patch", "delete", "status", "event",
    "add_finalizer", "remove_finalizer", "children", "related", "type_key",
]


# Building actions ---------------------------------------------------------------------------
# Each helper returns a plain dict; you may also write the dicts yourself. Optional fields are
# left out when None, so the host's defaults apply.

def _without_none(action):
    return {key: value for key, value in action.items() if value is not None}


def apply(obj, force=None, owner_reference=None):
    """Server-side apply of a whole object (apiVersion, kind and metadata.name required)."""
    return _without_none({"type": "apply", "object": obj, "force": force, "ownerReference": owner_reference})


def create(obj, owner_reference=None):
    """Create; an object that already exists is not an error."""
    return _without_none({"type": "create", "object": obj, "ownerReference": owner_reference})


def update(obj):
    """Replace; put metadata.resourceVersion in the object for optimistic concurrency."""
    return {"type": "update", "object": obj}


def patch(api_version, kind, name, body, namespace=None, patch_type=None):
    """A merge patch (body is a dict) or a JSON patch (body is a list of operations)."""
    if patch_type is None:
        patch_type = "json" if isinstance(body, list) else "merge"
    return _without_none({"type": "patch", "apiVersion": api_version, "kind": kind, "namespace": namespace,
                          "name": name, "patchType": patch_type, "patch": body})


def delete(api_version, kind, name, namespace=None, uid=None):
    """Delete; an object that is already gone is not an error. `uid`: only that incarnation."""
    return _without_none({"type": "delete", "apiVersion": api_version, "kind": kind, "namespace": namespace,
                          "name": name, "uid": uid})


def status(value):
    """Server-side apply of the primary's .status."""
    return {"type": "status", "status": value}


def event(event_type, reason, message):
    """An Event on the primary: event_type "Normal" or "Warning", reason UpperCamelCase."""
    return {"type": "event", "eventType": event_type, "reason": reason, "message": message}


def add_finalizer(name):
    return {"type": "addFinalizer", "finalizer": name}


def remove_finalizer(name):
    return {"type": "removeFinalizer", "finalizer": name}


# Reading requests ---------------------------------------------------------------------------

def type_key(api_version, kind):
    """The key of the children and related maps: `Kind.apiVersion`, such as `Deployment.apps/v1`."""
    return f"{kind}.{api_version}"


def children(request, api_version, kind):
    """The primary's children of one kind ([] when there are none)."""
    return (request.get("children") or {}).get(type_key(api_version, kind), [])


def related(request, api_version, kind):
    """The related objects of one kind ([] when there are none)."""
    return (request.get("related") or {}).get(type_key(api_version, kind), [])


# The server ------------------------------------------------------------------------------------

class RequestError(Exception):
    """A request the SDK refuses: answered with `status` and {"error": message}."""

    def __init__(self, status, message, close=False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


def check_request(body):
    """The decoded request, or RequestError(400) when it is not a reconcile request."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(400, f"the body is not JSON: {error}")
    if not isinstance(request, dict):
        raise RequestError(400, f"the body must be a JSON object, got {type(request).__name__}")
    version = request.get("apiVersion", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise RequestError(400, f"unsupported protocol version {version!r}; this plugin speaks {PROTOCOL_VERSION}")
    if request.get("kind", "ReconcileRequest") != "ReconcileRequest":
        raise RequestError(400, f"kind must be \"ReconcileRequest\", got {request.get('kind')!r}")
    key = request.get("key")
    if not isinstance(key, dict) or not isinstance(key.get("name"), str) or not key["name"]:
        raise RequestError(400, "key.name is required")
    if request.get("object") is not None and not isinstance(request["object"], dict):
        raise RequestError(400, "object must be an object or null")
    for field in ("children", "related"):
        groups = request.get(field)
        if groups is None:
            request[field] = {}
        elif not isinstance(groups, dict) or not all(isinstance(v, list) for v in groups.values()):
            raise RequestError(400, f"{field} must map `Kind.apiVersion` to arrays of objects")
    key.setdefault("namespace", "")
    request.setdefault("object", None)
    request.setdefault("attempt", 1)
    request.setdefault("deleting", False)
    return request


def _key_text(request):
    key = request.get("key") or {}
    namespace = key.get("namespace") or ""
    return f"{namespace}/{key.get('name')}" if namespace else str(key.get("name"))


def make_handler(reconcile, name, reconcile_path, health_path, token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "plugboard-plugin-python"

        def log_message(self, format, *args):  # replaced by one line per request in `log`
            pass

        def log(self, status, started, detail=""):
            millis = (time.monotonic() - started) * 1000
            sys.stderr.write(f"{name}: {self.command} {self.path} {status} {millis:.1f}ms{detail}\n")
            sys.stderr.flush()

        def send(self, status, body, content_type="application/json", headers=(), close=False):
            data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for header, value in headers:
                self.send_header(header, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def refuse(self, error, started, headers=()):
            self.send(error.status, {"error": error.message}, headers=headers, close=error.close)
            self.log(error.status, started, f" error={error.message!r}")

        def has_body(self):
            return "Content-Length" in self.headers or "Transfer-Encoding" in self.headers

        def other_method(self):
            started = time.monotonic()
            # A body we do not read would be taken for the next request: close instead.
            close = self.has_body()
            if self.path == reconcile_path:
                self.refuse(RequestError(405, f"use POST on {reconcile_path}", close), started, [("Allow", "POST")])
            elif self.path == health_path:
                self.refuse(RequestError(405, f"use GET on {health_path}", close), started, [("Allow", "GET, HEAD")])
            else:
                self.refuse(RequestError(404, f"no such path {self.path}; the plugin serves {reconcile_path} and {health_path}", close), started)

        def do_GET(self):
            if self.path != health_path or self.has_body():
                return self.other_method()
            started = time.monotonic()
            self.send(200, b"ok\n", content_type="text/plain; charset=utf-8")
            self.log(200, started)

        do_HEAD = do_GET
        do_PUT = do_PATCH = do_DELETE = do_OPTIONS = other_method

        def read_body(self):
            if "Transfer-Encoding" in self.headers:
                raise RequestError(411, "send the body with a Content-Length, not chunked", close=True)
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                raise RequestError(411, "a Content-Length is required", close=True)
            try:
                length = int(length_text)
                if length < 0:
                    raise ValueError
            except ValueError:
                raise RequestError(400, f"bad Content-Length {length_text!r}", close=True)
            if length > MAX_BODY_BYTES:
                raise RequestError(413, f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}", close=True)
            return self.rfile.read(length)

        def do_POST(self):
            if self.path != reconcile_path:
                return self.other_method()
            started = time.monotonic()
            try:
                body = self.read_body()
                if token is not None:
                    given = self.headers.get("Authorization", "")
                    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                        raise RequestError(401, "missing or wrong Authorization header")
                request = check_request(body)
            except RequestError as error:
                return self.refuse(error, started)
            try:
                response = reconcile(request)
                if response is None:
                    response = {"actions": []}
                if not isinstance(response, dict):
                    raise TypeError(f"reconcile must return a dict, got {type(response).__name__}")
                data = json.dumps(response, separators=(",", ":")).encode()
            except Exception as error:  # the plugin's own failure: reported to the host, which retries
                message = f"{type(error).__name__}: {error}"
                self.send(200, {"actions": [], "error": message})
                self.log(200, started, f" {_key_text(request)} attempt={request.get('attempt')} error={message!r}")
                return
            self.send(200, data)
            actions = response.get("actions") or []
            detail = f" {_key_text(request)} attempt={request.get('attempt')} actions={len(actions)}"
            if response.get("error"):
                detail += f" error={response['error']!r}"
            self.log(200, started, detail)

    return Handler


def serve(reconcile, name=None, port=None, host="127.0.0.1", reconcile_path="/reconcile", health_path="/healthz",
          token=None):
    """Serves the plugin until SIGTERM or SIGINT.

    port: default $PLUGBOARD_PORT, else 8080. token: default $PLUGBOARD_TOKEN; when set, POSTs must carry
    `Authorization: Bearer <token>` (configure the host's `auth` with the same token).
    """
    name = name or os.path.basename(sys.argv[0] or "plugin")
    if port is None:
        port = int(os.environ.get("PLUGBOARD_PORT") or 8080)
    if token is None:
        token = os.environ.get("PLUGBOARD_TOKEN") or None
    server = ThreadingHTTPServer((host, port), make_handler(reconcile, name, reconcile_path, health_path, token))
    server.daemon_threads = True

    def stop(signum, frame):
        # serve_forever runs on this thread, so shut it down from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"{name}: listening on http://{host}:{server.server_address[1]} "
                     f"(POST {reconcile_path}, GET {health_path})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
