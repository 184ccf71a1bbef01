"""Unit tests of the reference Gordon operator's reconcile, against an in-memory fake API.

Run: python3 -m unittest discover -s labs/solutions   (skips when `kubernetes` is not installed)
"""

import datetime
import itertools
import unittest

try:
    from kubernetes.client import V1ObjectMeta, V1OwnerReference, V1Pod, V1PodCondition, V1PodStatus
    from kubernetes.client.rest import ApiException
    import gordon_operator as op
except ImportError:  # pragma: no cover
    op = None


class FakeCore:
    def __init__(self):
        self.pods = {}
        self.events = []
        self.counter = itertools.count()

    def list_namespaced_pod(self, namespace, label_selector=""):
        key, _, value = label_selector.partition("=")

        class Result:
            items = [p for p in self.pods.values() if (p.metadata.labels or {}).get(key) == value]
        return Result()

    def create_namespaced_pod(self, namespace, body):
        meta = body["metadata"]
        name = meta["generateName"] + str(next(self.counter))
        refs = [V1OwnerReference(api_version=r["apiVersion"], kind=r["kind"], name=r["name"],
                                 uid=r["uid"], controller=r["controller"]) for r in meta["ownerReferences"]]
        pod = V1Pod(
            metadata=V1ObjectMeta(name=name, namespace=namespace, labels=meta["labels"], owner_references=refs,
                                  creation_timestamp=datetime.datetime.now(datetime.timezone.utc)),
            status=V1PodStatus(phase="Pending"),
        )
        self.pods[name] = pod
        return pod

    def delete_namespaced_pod(self, name, namespace):
        if name not in self.pods:
            raise ApiException(status=404)
        del self.pods[name]

    def create_namespaced_event(self, namespace, body):
        self.events.append(body["reason"])

    def run_all(self):
        for p in self.pods.values():
            p.status = V1PodStatus(phase="Running", conditions=[V1PodCondition(type="Ready", status="True")])


class FakeCustom:
    def __init__(self):
        self.gordons = {}

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        if name not in self.gordons:
            raise ApiException(status=404)
        return self.gordons[name]

    def patch_namespaced_custom_object_status(self, group, version, namespace, plural, name, body):
        self.gordons[name]["status"] = body["status"]


@unittest.skipIf(op is None, "the kubernetes package is not installed")
class ReconcileTest(unittest.TestCase):
    def setUp(self):
        self.operator = op.GordonOperator.__new__(op.GordonOperator)
        self.operator.namespace = "ns"
        self.operator.core = FakeCore()
        self.operator.custom = FakeCustom()
        self.gordon(3)

    def gordon(self, replicas):
        self.operator.custom.gordons["example"] = {
            "metadata": {"name": "example", "uid": "u1", "generation": replicas},
            "spec": {"gordon": {"replicas": replicas}},
        }

    def test_creates_pods_then_reports_ready(self):
        self.operator.reconcile("example")
        pods = self.operator.core.pods
        self.assertEqual(len(pods), 3)
        pod = next(iter(pods.values()))
        self.assertEqual(pod.metadata.labels, {op.LABEL: "example"})
        self.assertTrue(pod.metadata.owner_references[0].controller)
        status = self.operator.custom.gordons["example"]["status"]
        self.assertEqual((status["replicas"], status["readyReplicas"]), (3, 0))
        self.operator.core.run_all()
        self.operator.reconcile("example")
        status = self.operator.custom.gordons["example"]["status"]
        self.assertEqual(status["readyReplicas"], 3)
        self.assertEqual(status["conditions"][0]["status"], "True")
        self.assertEqual(status["observedGeneration"], 3)
        self.assertEqual(sorted(status["pods"]), sorted(pods))

    def test_repeated_reconciles_never_overshoot(self):
        for _ in range(5):
            self.operator.reconcile("example")
        self.assertEqual(len(self.operator.core.pods), 3)

    def test_scales_down_and_replaces_failed_and_deleted_pods(self):
        self.operator.reconcile("example")
        self.operator.core.run_all()
        victim = next(iter(self.operator.core.pods))
        del self.operator.core.pods[victim]
        failed = next(iter(self.operator.core.pods.values()))
        failed.status = V1PodStatus(phase="Failed")
        self.operator.reconcile("example")
        self.assertEqual(len(self.operator.core.pods), 3)
        self.assertNotIn(failed.metadata.name, self.operator.core.pods)
        self.gordon(1)
        self.operator.reconcile("example")
        self.assertEqual(len(self.operator.core.pods), 1)
        self.assertIn("PodDeleted", self.operator.core.events)

    def test_deleted_gordon_is_left_to_garbage_collection(self):
        del self.operator.custom.gordons["example"]
        self.operator.reconcile("example")
        self.assertEqual(self.operator.core.pods, {})


if __name__ == "__main__":
    unittest.main()
