"""configmap-propagator: copies labelled ConfigMaps of plugboard-system into opted-in namespaces.

Primary:  a ConfigMap in plugboard-system labelled plugboard.dev/propagate=true.
Related:  Namespaces labelled plugboard.dev/propagate-to=true (the targets), and the
          copies themselves: ConfigMaps labelled plugboard.dev/propagated-from (any value),
          so the plugin can find copies to remove.
Answer:   keep the finalizer on the primary, apply one copy per target namespace, delete
          copies in namespaces that are no longer targets; on deletion, delete every copy,
          then release the finalizer.

Run by hand: PLUGBOARD_PORT=8080 python3 plugin.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import plugboard_plugin as pb  # noqa: E402

FINALIZER = "plugboard.dev/propagator"
SOURCE_LABEL = "plugboard.dev/propagated-from"


def source_id(namespace, name):
    """The value of the propagated-from label: `<namespace>.<name>`."""
    return f"{namespace}.{name}"


def existing_copies(request, origin):
    """The copies of this primary the host sent in `related`, sorted by namespace."""
    copies = [cm for cm in pb.related(request, "v1", "ConfigMap")
              if (cm["metadata"].get("labels") or {}).get(SOURCE_LABEL) == origin]
    return sorted(copies, key=lambda cm: cm["metadata"].get("namespace", ""))


def delete_copy(copy):
    meta = copy["metadata"]
    return pb.delete("v1", "ConfigMap", meta["name"], namespace=meta["namespace"], uid=meta.get("uid"))


def copy_of(primary, namespace, origin):
    meta = primary["metadata"]
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": meta["name"], "namespace": namespace, "labels": {SOURCE_LABEL: origin}},
    }
    for field in ("data", "binaryData"):
        if field in primary:
            obj[field] = primary[field]
    # ConfigMap is not an owned kind, so no owner reference would be added anyway; say so
    # explicitly: an owner in another namespace is not allowed.
    return pb.apply(obj, owner_reference=False)


def reconcile(request):
    key = request["key"]
    origin = source_id(key["namespace"], key["name"])
    copies = existing_copies(request, origin)
    primary = request["object"]

    if primary is None:
        # Gone without our finalizer (it was removed by hand, or never added): clean up what is left.
        return {"actions": [delete_copy(copy) for copy in copies]}

    finalizers = primary["metadata"].get("finalizers") or []
    if request["deleting"]:
        actions = [delete_copy(copy) for copy in copies]
        if FINALIZER in finalizers:
            actions.append(pb.remove_finalizer(FINALIZER))
        return {"actions": actions}

    actions = []
    if FINALIZER not in finalizers:
        # Before the first copy exists, so that no copy can outlive the primary.
        actions.append(pb.add_finalizer(FINALIZER))
    targets = sorted(ns["metadata"]["name"] for ns in pb.related(request, "v1", "Namespace")
                     if ns["metadata"].get("deletionTimestamp") is None and ns["metadata"]["name"] != key["namespace"])
    actions += [copy_of(primary, namespace, origin) for namespace in targets]
    actions += [delete_copy(copy) for copy in copies if copy["metadata"]["namespace"] not in targets]
    return {"actions": actions}


if __name__ == "__main__":
    pb.serve(reconcile, name="configmap-propagator")
