// A tiny SDK for Plugboard plugins in Node.js (protocol plugboard.dev/v1alpha1).
//
// Only `node:http`; no packages. Copy this file next to your plugin, then:
//
//   const plugboard = require("../plugboard-plugin.js");
//   plugboard.serve((request) => {
//     if (request.object === null || request.deleting) return { actions: [] };
//     return { actions: [plugboard.event("Normal", "Seen", "hello")] };
//   });
//
// What `serve` does:
// - listens on 127.0.0.1:$PLUGBOARD_PORT (8080 when unset; 0 picks a free port),
//   HTTP/1.1 with keep-alive;
// - GET /healthz answers 200 "ok";
// - POST /reconcile parses the request, calls `reconcile(request)` (it may return
//   a Promise) and answers its result as JSON. Returning undefined or null means
//   "nothing to do" ({"actions": []}). A thrown error (or a rejected Promise) is
//   answered 200 {"actions": [], "error": "<message>"}: the host records the
//   message and retries the key with backoff;
// - refuses what the host never sends: a body that is not a JSON request → 400,
//   no Content-Length (chunked) → 411, a body over 16 MiB → 413, a wrong method
//   → 405, another path → 404, a wrong token (when PLUGBOARD_TOKEN is set) → 401.
//   Error bodies are {"error": "<message>"};
// - logs one line per request to standard error.
//
// The protocol is described in docs/plugin-protocol.md.
"use strict";

const http = require("node:http");
const crypto = require("node:crypto");
const path = require("node:path");

const PROTOCOL_VERSION = "plugboard.dev/v1alpha1";
const MAX_BODY_BYTES = 16 << 20;

// Building actions ----------------------------------------------------------------------------
// Each helper returns a plain object; you may also write the objects yourself. Optional fields
// left undefined are not sent, so the host's defaults apply (JSON.stringify drops them).

function apply(object, { force, ownerReference } = {}) {
  return { type: "apply", object, force, ownerReference };
}

function create(object, { ownerReference } = {}) {
  return { type: "create", object, ownerReference };
}

function update(object) {
  return { type: "update", object };
}

// `body` is an object (merge patch) or an array of operations (JSON patch).
function patch({ apiVersion, kind, namespace, name, patch: body, patchType }) {
  return { type: "patch", apiVersion, kind, namespace, name, patchType: patchType || (Array.isArray(body) ? "json" : "merge"), patch: body };
}

function del({ apiVersion, kind, namespace, name, uid }) {
  return { type: "delete", apiVersion, kind, namespace, name, uid };
}

function status(value) {
  return { type: "status", status: value };
}

// eventType "Normal" or "Warning"; reason UpperCamelCase.
function event(eventType, reason, message) {
  return { type: "event", eventType, reason, message };
}

function addFinalizer(finalizer) {
  return { type: "addFinalizer", finalizer };
}

function removeFinalizer(finalizer) {
  return { type: "removeFinalizer", finalizer };
}

// Reading requests -----------------------------------------------------------------------------

// The key of the children and related maps: `Kind.apiVersion`, such as `Deployment.apps/v1`.
function typeKey(apiVersion, kind) {
  return `${kind}.${apiVersion}`;
}

function children(request, apiVersion, kind) {
  return (request.children || {})[typeKey(apiVersion, kind)] || [];
}

function related(request, apiVersion, kind) {
  return (request.related || {})[typeKey(apiVersion, kind)] || [];
}

// The server ------------------------------------------------------------------------------------

class RequestError extends Error {
  constructor(status, message, close = false) {
    super(message);
    this.status = status;
    this.close = close;
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The decoded request, or a RequestError(400) when the body is not a reconcile request.
function checkRequest(body) {
  let request;
  try {
    request = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new RequestError(400, `the body is not JSON: ${error.message}`);
  }
  if (!isObject(request)) throw new RequestError(400, "the body must be a JSON object");
  const version = request.apiVersion ?? PROTOCOL_VERSION;
  if (version !== PROTOCOL_VERSION) {
    throw new RequestError(400, `unsupported protocol version ${JSON.stringify(version)}; this plugin speaks ${PROTOCOL_VERSION}`);
  }
  if ((request.kind ?? "ReconcileRequest") !== "ReconcileRequest") {
    throw new RequestError(400, `kind must be "ReconcileRequest", got ${JSON.stringify(request.kind)}`);
  }
  if (!isObject(request.key) || typeof request.key.name !== "string" || request.key.name === "") {
    throw new RequestError(400, "key.name is required");
  }
  if (request.object !== undefined && request.object !== null && !isObject(request.object)) {
    throw new RequestError(400, "object must be an object or null");
  }
  for (const field of ["children", "related"]) {
    const groups = request[field];
    if (groups === undefined || groups === null) {
      request[field] = {};
    } else if (!isObject(groups) || !Object.values(groups).every(Array.isArray)) {
      throw new RequestError(400, `${field} must map \`Kind.apiVersion\` to arrays of objects`);
    }
  }
  request.key.namespace ??= "";
  request.object ??= null;
  request.attempt ??= 1;
  request.deleting ??= false;
  return request;
}

function keyText(request) {
  const { namespace, name } = request.key;
  return namespace ? `${namespace}/${name}` : name;
}

function tokenMatches(given, token) {
  const a = Buffer.from(given || "");
  const b = Buffer.from(`Bearer ${token}`);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function serve(reconcile, options = {}) {
  const name = options.name || path.basename(process.argv[1] || "plugin");
  const host = options.host || "127.0.0.1";
  const port = options.port ?? Number(process.env.PLUGBOARD_PORT || 8080);
  const reconcilePath = options.reconcilePath || "/reconcile";
  const healthPath = options.healthPath || "/healthz";
  const token = options.token ?? (process.env.PLUGBOARD_TOKEN || null);

  function log(req, status, started, detail = "") {
    const millis = Number(process.hrtime.bigint() - started) / 1e6;
    process.stderr.write(`${name}: ${req.method} ${req.url} ${status} ${millis.toFixed(1)}ms${detail}\n`);
  }

  function send(req, res, status, body, { contentType = "application/json", headers = {}, close = false } = {}) {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const head = { "Content-Type": contentType, "Content-Length": data.length, ...headers };
    if (close) head.Connection = "close";
    res.writeHead(status, head);
    res.end(req.method === "HEAD" ? undefined : data);
  }

  function refuse(req, res, error, started, headers = {}) {
    send(req, res, error.status, { error: error.message }, { headers, close: error.close });
    log(req, error.status, started, ` error=${JSON.stringify(error.message)}`);
  }

  function readBody(req) {
    return new Promise((resolve, reject) => {
      if (req.headers["transfer-encoding"] !== undefined) {
        return reject(new RequestError(411, "send the body with a Content-Length, not chunked", true));
      }
      const lengthText = req.headers["content-length"];
      if (lengthText === undefined) return reject(new RequestError(411, "a Content-Length is required", true));
      const length = Number(lengthText);
      if (length > MAX_BODY_BYTES) {
        return reject(new RequestError(413, `the body is ${length} bytes; the limit is ${MAX_BODY_BYTES}`, true));
      }
      const chunks = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  async function handleReconcile(req, res, started) {
    let request;
    try {
      const body = await readBody(req);
      if (token !== null && !tokenMatches(req.headers.authorization, token)) {
        throw new RequestError(401, "missing or wrong Authorization header");
      }
      request = checkRequest(body);
    } catch (error) {
      if (error instanceof RequestError) return refuse(req, res, error, started);
      throw error;
    }
    let response;
    let data;
    try {
      response = await reconcile(request);
      if (response === undefined || response === null) response = { actions: [] };
      if (!isObject(response)) throw new TypeError(`reconcile must return an object, got ${typeof response}`);
      data = Buffer.from(JSON.stringify(response));
    } catch (error) {
      // The plugin's own failure: reported to the host, which retries the key with backoff.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      send(req, res, 200, { actions: [], error: message });
      log(req, 200, started, ` ${keyText(request)} attempt=${request.attempt} error=${JSON.stringify(message)}`);
      return;
    }
    send(req, res, 200, data);
    let detail = ` ${keyText(request)} attempt=${request.attempt} actions=${(response.actions || []).length}`;
    if (response.error) detail += ` error=${JSON.stringify(response.error)}`;
    log(req, 200, started, detail);
  }

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    // A body we do not read would be taken for the next request: close the connection instead.
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    if (req.url === reconcilePath && req.method === "POST") {
      handleReconcile(req, res, started).catch((error) => {
        refuse(req, res, new RequestError(500, String(error), true), started);
      });
    } else if (req.url === healthPath && (req.method === "GET" || req.method === "HEAD") && !hasBody) {
      send(req, res, 200, Buffer.from("ok\n"), { contentType: "text/plain; charset=utf-8" });
      log(req, 200, started);
    } else if (req.url === reconcilePath) {
      refuse(req, res, new RequestError(405, `use POST on ${reconcilePath}`, hasBody), started, { Allow: "POST" });
    } else if (req.url === healthPath) {
      refuse(req, res, new RequestError(405, `use GET on ${healthPath}`, hasBody), started, { Allow: "GET, HEAD" });
    } else {
      refuse(req, res, new RequestError(404, `no such path ${req.url}; the plugin serves ${reconcilePath} and ${healthPath}`, hasBody), started);
    }
  });
  // The host keeps one pooled connection per worker and reuses it; Node's default of 5s
  // would close idle connections under it. Keep them longer than the host's idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  server.listen(port, host, () => {
    process.stderr.write(`${name}: listening on http://${host}:${server.address().port} (POST ${reconcilePath}, GET ${healthPath})\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Idle keep-alive connections would hold `close` open; end them (Node 18.2+).
  process.on("SIGTERM", () => server.closeIdleConnections?.());
  process.on("SIGINT", () => server.closeIdleConnections?.());
  return server;
}

module.exports = {
  PROTOCOL_VERSION,
  serve,
  apply,
  create,
  update,
  patch,
  delete: del,
  status,
  event,
  addFinalizer,
  removeFinalizer,
  typeKey,
  children,
  related,
  checkRequest,
};
