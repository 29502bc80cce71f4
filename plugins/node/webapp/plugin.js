// webapp: turns a WebApp (example.plugboard.dev/v1) into a Deployment and a Service.
//
// For each WebApp the answer is, in order:
//   apply Deployment <name>   (apps/v1; label app=<name>; spec.replicas; one container "app"
//                              running spec.image on spec.port)
//   apply Service <name>      (v1; port 80 → spec.port; selector app=<name>)
//   status                    (observedGeneration, ready replicas, url, a Ready condition)
//   event Normal Reconciled   (only while the Deployment does not exist yet)
// Both children get a controller owner reference from the host (they are `owns` kinds),
// so deleting the WebApp deletes them by garbage collection: on deletion there is nothing to do.
//
// Run by hand: PLUGBOARD_PORT=8080 node plugin.js
"use strict";

const plugboard = require("../plugboard-plugin.js");

const DEFAULT_REPLICAS = 1;
const DEFAULT_PORT = 8080;

function deployment(name, namespace, spec) {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "app", image: spec.image, ports: [{ name: "http", containerPort: spec.port }] }],
        },
      },
    },
  };
}

function service(name, namespace, spec) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      selector: { app: name },
      ports: [{ name: "http", port: 80, targetPort: spec.port, protocol: "TCP" }],
    },
  };
}

// The Ready condition: true once the Deployment exists and has all its replicas ready.
function readyCondition(existing, desired, ready) {
  if (!existing) {
    return { type: "Ready", status: "False", reason: "DeploymentCreating", message: "the Deployment is being created" };
  }
  if (ready >= desired) {
    return { type: "Ready", status: "True", reason: "ReplicasReady", message: `${ready}/${desired} replicas ready` };
  }
  return { type: "Ready", status: "False", reason: "ReplicasNotReady", message: `${ready}/${desired} replicas ready` };
}

function reconcile(request) {
  const webapp = request.object;
  // Gone, or going: the children carry owner references and are garbage collected.
  if (webapp === null || request.deleting) return { actions: [] };

  const { name, namespace } = webapp.metadata;
  const given = webapp.spec || {};
  const generation = webapp.metadata.generation;
  if (typeof given.image !== "string" || given.image === "") {
    // The CRD requires spec.image; this is for servers that do not check. Retrying will not help, so no error.
    return {
      actions: [plugboard.status({
        observedGeneration: generation,
        replicas: 0,
        url: `http://${name}.${namespace}.svc:80`,
        conditions: [{ type: "Ready", status: "False", reason: "InvalidSpec", message: "spec.image is required" }],
      })],
    };
  }
  const spec = {
    image: given.image,
    replicas: Number.isInteger(given.replicas) ? given.replicas : DEFAULT_REPLICAS,
    port: Number.isInteger(given.port) ? given.port : DEFAULT_PORT,
  };

  const existing = plugboard.children(request, "apps/v1", "Deployment").find((d) => d.metadata.name === name);
  const ready = (existing && existing.status && existing.status.readyReplicas) || 0;
  const actions = [
    plugboard.apply(deployment(name, namespace, spec)),
    plugboard.apply(service(name, namespace, spec)),
    plugboard.status({
      observedGeneration: generation,
      replicas: ready,
      url: `http://${name}.${namespace}.svc:80`,
      conditions: [readyCondition(existing, spec.replicas, ready)],
    }),
  ];
  if (!existing) {
    actions.push(plugboard.event("Normal", "Reconciled", `created Deployment and Service ${name}`));
  }
  return { actions };
}

module.exports = { reconcile };

if (require.main === module) {
  plugboard.serve(reconcile, { name: "webapp" });
}
