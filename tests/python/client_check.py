"""The Python kubernetes client, with its default settings, against the oplab sandbox.

Run by tests/sandbox/python.rs with KUBECONFIG pointing at an in-process sandbox. Exits non-zero on failure.
"""
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config()
core = client.CoreV1Api()
custom = client.CustomObjectsApi()
ext = client.ApiextensionsV1Api()

NS = "py"
core.create_namespace({"metadata": {"name": NS}})

# Pods: create, list, watch until Running.
pod = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p1", "labels": {"app": "py"}},
    "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
}
created = core.create_namespaced_pod(NS, pod)
assert created.metadata.name == "p1", created.metadata.name
listed = core.list_namespaced_pod(NS, label_selector="app=py")
assert [p.metadata.name for p in listed.items] == ["p1"], listed.items

w = watch.Watch()
running = False
for event in w.stream(core.list_namespaced_pod, NS, timeout_seconds=10):
    if event["object"].status.phase == "Running":
        running = True
        w.stop()
assert running, "pod never reported Running through the watch"

# Custom resources: a CRD, create, list, watch, patch, patch status.
crd = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.py.oplab.dev"},
    "spec": {
        "group": "py.oplab.dev",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
            }}},
        }],
    },
}
ext.create_custom_resource_definition(crd)
for _ in range(100):
    conds = ext.read_custom_resource_definition("gadgets.py.oplab.dev").status.conditions or []
    if any(c.type == "Established" and c.status == "True" for c in conds):
        break
    time.sleep(0.05)
else:
    sys.exit("CRD never Established")

gadget = {"apiVersion": "py.oplab.dev/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 1}}
custom.create_namespaced_custom_object("py.oplab.dev", "v1", NS, "gadgets", gadget)
items = custom.list_namespaced_custom_object("py.oplab.dev", "v1", NS, "gadgets")["items"]
assert [i["metadata"]["name"] for i in items] == ["g1"], items

seen = []


def watcher():
    w2 = watch.Watch()
    for event in w2.stream(custom.list_namespaced_custom_object, "py.oplab.dev", "v1", NS, "gadgets", timeout_seconds=10):
        seen.append((event["type"], event["object"]["spec"].get("size")))
        if event["object"]["spec"].get("size") == 5:
            w2.stop()


t = threading.Thread(target=watcher)
t.start()
time.sleep(0.5)
# A dict body is sent as a merge patch for custom objects.
custom.patch_namespaced_custom_object("py.oplab.dev", "v1", NS, "gadgets", "g1", {"spec": {"size": 5}})
t.join(15)
assert ("ADDED", 1) in seen and ("MODIFIED", 5) in seen, seen

patched = custom.patch_namespaced_custom_object_status("py.oplab.dev", "v1", NS, "gadgets", "g1", {"status": {"phase": "Ready"}})
assert patched["status"]["phase"] == "Ready", patched
# The status write left spec alone, and a main-resource write leaves status alone.
again = custom.get_namespaced_custom_object("py.oplab.dev", "v1", NS, "gadgets", "g1")
assert again["spec"]["size"] == 5 and again["status"]["phase"] == "Ready", again

# A schema violation is a 422 naming the field.
try:
    custom.create_namespaced_custom_object("py.oplab.dev", "v1", NS, "gadgets",
        {"apiVersion": "py.oplab.dev/v1", "kind": "Gadget", "metadata": {"name": "bad"}, "spec": {"size": "big"}})
    sys.exit("an invalid Gadget was accepted")
except ApiException as e:
    assert e.status == 422 and "spec.size" in e.body, (e.status, e.body)

# Deleting a pod (the client sends no Content-Type) is accepted.
core.delete_namespaced_pod("p1", NS)
print("python client: all checks passed")
