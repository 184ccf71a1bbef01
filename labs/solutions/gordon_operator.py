#!/usr/bin/env python3
"""A level-triggered Gordon operator: the reference solution of chapter 3 of oplab.

For every Gordon (operator.prgcont.cz/v1) in one namespace it keeps spec.gordon.replicas pods
running, labelled operator.prgcont.cz/gordon=<name> and owned by the Gordon, and reports what it
sees through the status subresource.

Design:
- Two watch threads (Gordons, and pods with the Gordon label) and a checker thread that queues
  every Gordon once a second put Gordon names on a work queue. A name is queued at most once.
- One worker takes names off the queue and reconciles: it reads the Gordon and its pods from the
  API server *now*, creates what is missing, deletes what is too much or has failed, and patches
  the status. It never relies on remembered counts, so missed or repeated events do no harm.
- Deleting a Gordon needs no code: the garbage collector removes pods through their ownerReference.

Usage: python3 gordon_operator.py --namespace NS [--kubeconfig FILE] [--context NAME]
Needs only the `kubernetes` package. Stops cleanly on SIGTERM or Ctrl-C.
"""

import argparse
import datetime
import logging
import queue
import signal
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP = "operator.prgcont.cz"
VERSION = "v1"
PLURAL = "gordons"
KIND = "Gordon"
LABEL = "operator.prgcont.cz/gordon"
DEFAULT_IMAGE = "prgcont/gordon:v1.0"
RESYNC_SECONDS = 1.0
WATCH_TIMEOUT_SECONDS = 30

log = logging.getLogger("gordon-operator")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class WorkQueue:
    """A FIFO of Gordon names in which each name is waiting at most once."""

    def __init__(self):
        self._queue = queue.Queue()
        self._waiting = set()
        self._lock = threading.Lock()

    def add(self, name):
        with self._lock:
            if name in self._waiting:
                return
            self._waiting.add(name)
        self._queue.put(name)

    def get(self, timeout):
        name = self._queue.get(timeout=timeout)
        with self._lock:
            self._waiting.discard(name)
        return name


class GordonOperator:
    def __init__(self, namespace, api_client=None):
        self.namespace = namespace
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.queue = WorkQueue()
        self.stop = threading.Event()

    # ---- sources of work -------------------------------------------------------------------

    def watch_gordons(self):
        """Queues a Gordon on every event about it (ADDED, MODIFIED, DELETED alike)."""
        while not self.stop.is_set():
            try:
                stream = watch.Watch().stream(
                    self.custom.list_namespaced_custom_object,
                    GROUP, VERSION, self.namespace, PLURAL,
                    timeout_seconds=WATCH_TIMEOUT_SECONDS,
                )
                for event in stream:
                    if self.stop.is_set():
                        return
                    name = event["object"].get("metadata", {}).get("name")
                    if name:
                        self.queue.add(name)
            except Exception as err:  # the watch broke: log, wait a moment, watch again
                log.warning("watch on gordons ended: %s", err)
                self.stop.wait(1)

    def watch_pods(self):
        """Queues the owning Gordon on every event about one of its pods."""
        while not self.stop.is_set():
            try:
                stream = watch.Watch().stream(
                    self.core.list_namespaced_pod,
                    self.namespace,
                    label_selector=LABEL,
                    timeout_seconds=WATCH_TIMEOUT_SECONDS,
                )
                for event in stream:
                    if self.stop.is_set():
                        return
                    labels = event["object"].metadata.labels or {}
                    if labels.get(LABEL):
                        self.queue.add(labels[LABEL])
            except Exception as err:
                log.warning("watch on pods ended: %s", err)
                self.stop.wait(1)

    def checker(self):
        """Every second, queue every Gordon: repairs whatever the watches may have missed."""
        while not self.stop.wait(RESYNC_SECONDS):
            try:
                gordons = self.custom.list_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURAL)
                for gordon in gordons.get("items", []):
                    self.queue.add(gordon["metadata"]["name"])
            except Exception as err:
                log.warning("checker could not list gordons: %s", err)

    # ---- the reconcile loop ------------------------------------------------------------------

    def worker(self):
        while not self.stop.is_set():
            try:
                name = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.reconcile(name)
            except Exception as err:
                log.error("[%s] reconcile failed, will retry: %s", name, err)
                self.stop.wait(0.5)
                self.queue.add(name)

    def reconcile(self, name):
        try:
            gordon = self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name)
        except ApiException as err:
            if err.status == 404:
                return  # deleted: its pods go through garbage collection
            raise
        meta = gordon["metadata"]
        if meta.get("deletionTimestamp"):
            return
        spec = gordon.get("spec", {}).get("gordon", {})
        wanted = int(spec.get("replicas", 0))
        image = spec.get("image") or DEFAULT_IMAGE
        uid = meta["uid"]

        pods = self.core.list_namespaced_pod(
            self.namespace, label_selector="%s=%s" % (LABEL, name)).items
        owned = [p for p in pods if self.is_owned_by(p, uid)]
        alive = []
        for pod in owned:
            if pod.metadata.deletion_timestamp:
                continue  # already going away
            if pod.status and pod.status.phase in ("Failed", "Succeeded"):
                self.delete_pod(gordon, pod, "its phase is %s" % pod.status.phase)
                continue
            alive.append(pod)

        if len(alive) < wanted:
            for _ in range(wanted - len(alive)):
                alive.append(self.create_pod(gordon, image))
        elif len(alive) > wanted:
            # Remove pods that are not ready first, and the newest first among equals.
            alive.sort(key=lambda p: (self.is_ready(p), -self.created_at(p)))
            surplus, alive = alive[: len(alive) - wanted], alive[len(alive) - wanted:]
            for pod in surplus:
                self.delete_pod(gordon, pod, "scaled down to %d" % wanted)

        self.patch_status(gordon, wanted, alive)

    @staticmethod
    def is_owned_by(pod, uid):
        refs = pod.metadata.owner_references or []
        return any(r.uid == uid and r.controller for r in refs)

    @staticmethod
    def created_at(pod):
        ts = pod.metadata.creation_timestamp
        return ts.timestamp() if ts else time.time()

    @staticmethod
    def is_ready(pod):
        status = pod.status
        if not status or status.phase != "Running":
            return False
        return any(c.type == "Ready" and c.status == "True" for c in (status.conditions or []))

    def create_pod(self, gordon, image):
        name = gordon["metadata"]["name"]
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": name + "-",
                "namespace": self.namespace,
                "labels": {LABEL: name},
                "ownerReferences": [{
                    "apiVersion": "%s/%s" % (GROUP, VERSION),
                    "kind": KIND,
                    "name": name,
                    "uid": gordon["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }],
            },
            "spec": {"containers": [{"name": "gordon", "image": image}]},
        }
        pod = self.core.create_namespaced_pod(namespace=self.namespace, body=body)
        log.info("[%s] created pod %s", name, pod.metadata.name)
        self.event(gordon, "PodCreated", "Created pod %s" % pod.metadata.name)
        return pod

    def delete_pod(self, gordon, pod, why):
        name = gordon["metadata"]["name"]
        try:
            self.core.delete_namespaced_pod(name=pod.metadata.name, namespace=self.namespace)
        except ApiException as err:
            if err.status != 404:
                raise
        log.info("[%s] deleted pod %s: %s", name, pod.metadata.name, why)
        self.event(gordon, "PodDeleted", "Deleted pod %s: %s" % (pod.metadata.name, why))

    def patch_status(self, gordon, wanted, pods):
        ready = sum(1 for p in pods if self.is_ready(p))
        is_ready = "True" if ready == wanted else "False"
        old = {c.get("type"): c for c in gordon.get("status", {}).get("conditions", [])}
        previous = old.get("Ready", {})
        condition = {
            "type": "Ready",
            "status": is_ready,
            "reason": "AllPodsReady" if is_ready == "True" else "PodsNotReady",
            "message": "%d of %d pods ready" % (ready, wanted),
            "lastTransitionTime": previous.get("lastTransitionTime")
            if previous.get("status") == is_ready else now_rfc3339(),
        }
        status = {
            "replicas": len(pods),
            "readyReplicas": ready,
            "pods": sorted(p.metadata.name for p in pods),
            "observedGeneration": gordon["metadata"].get("generation", 0),
            "conditions": [condition],
        }
        if gordon.get("status") == status:
            return
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, self.namespace, PLURAL, gordon["metadata"]["name"], {"status": status})

    def event(self, gordon, reason, message):
        meta = gordon["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": meta["name"] + ".", "namespace": self.namespace},
            "involvedObject": {
                "apiVersion": "%s/%s" % (GROUP, VERSION),
                "kind": KIND,
                "name": meta["name"],
                "namespace": self.namespace,
                "uid": meta["uid"],
            },
            "reason": reason,
            "message": message,
            "type": "Normal",
            "source": {"component": "gordon-operator-py"},
            "firstTimestamp": now_rfc3339(),
            "lastTimestamp": now_rfc3339(),
            "count": 1,
        }
        try:
            self.core.create_namespaced_event(namespace=self.namespace, body=body)
        except ApiException as err:  # events are a courtesy; never fail a reconcile on them
            log.debug("could not record event: %s", err)

    # ---- running -----------------------------------------------------------------------------

    def run(self):
        threads = [
            threading.Thread(target=self.watch_gordons, name="watch-gordons", daemon=True),
            threading.Thread(target=self.watch_pods, name="watch-pods", daemon=True),
            threading.Thread(target=self.checker, name="checker", daemon=True),
            threading.Thread(target=self.worker, name="worker", daemon=True),
        ]
        for t in threads:
            t.start()
        log.info("watching gordons in namespace %s", self.namespace)
        while not self.stop.wait(0.2):
            pass
        log.info("stopping")
        # The worker finishes the reconcile it is in; watches end with their timeout (daemons).
        threads[3].join(timeout=5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--namespace", default="default", help="namespace to manage")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context to use")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if args.kubeconfig or args.context:
        config.load_kube_config(config_file=args.kubeconfig, context=args.context)
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()

    operator = GordonOperator(args.namespace)

    def on_signal(signum, _frame):
        log.info("received signal %d", signum)
        operator.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    operator.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
