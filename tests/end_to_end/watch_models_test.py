"""WatchModels across replicas, end to end: the Python client's watch_models helper on one
channel to two catalog-server replicas of one hub emulator (round robin), the replica that
carries the stream killed, the hub's catalog changed meanwhile.

Every test starts its own hub emulator and replicas (real processes on free ports), finds
the replica that carries the stream from the modelcatalog_watchers gauge of each replica's
/metrics, and kills it with SIGKILL: no goodbye, the connection just drops. catalogctl
watch-models is driven the same way, against one replica.

Run by ctest with MODEL_CATALOG_BIN_DIR and PYTHONPATH (the client package, built with its
stubs into the build tree).
"""

import json
import os
import queue
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

import grpc

import modelcatalog_client as mc

BIN_DIR = os.environ["MODEL_CATALOG_BIN_DIR"]
PRICED = "flux-2-dev"  # an image model of the sample catalog, priced per image
PRICE_PATH = "pricing.cost_per_image"
EVENT_TIMEOUT_S = 20

INITIAL = mc.pb.WATCH_EVENT_TYPE_INITIAL
MARKER = mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE
CHANGED = mc.pb.WATCH_EVENT_TYPE_CHANGED
PROGRESS = mc.pb.WATCH_EVENT_TYPE_PROGRESS


class Process:
    """A binary that prints '<name> listening on <address>' once bound (catalog-server then
    prints the URL of its metrics)."""

    def __init__(self, argv):
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline()
        if " listening on " not in line:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        self.address = line.strip().split(" listening on ", 1)[1]
        self.metrics = None
        if any(a.startswith("--metrics_listen=127") for a in argv):
            self.metrics = self.process.stdout.readline().strip().split(" metrics on ", 1)[1]

    @property
    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


def hub_request(hub, method, path, body=None):
    request = urllib.request.Request(
        f"{hub.address}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def watchers(server):
    """The modelcatalog_watchers gauge of a replica: the watch streams it serves."""
    with urllib.request.urlopen(server.metrics, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("modelcatalog_watchers "):
                return int(float(line.split()[1]))
    raise AssertionError(f"no modelcatalog_watchers on {server.metrics}")


class Watcher:
    """Runs watch_models on a thread of its own and hands its events over a queue, so the
    test can act between them."""

    def __init__(self, stub, **options):
        self.watch = mc.watch_models(stub, initial_backoff=0.05, max_backoff=0.5, **options)
        self.events = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for event in self.watch:
                self.events.put(event)
        except grpc.RpcError as e:
            self.events.put(e)

    def next(self, timeout=EVENT_TIMEOUT_S):
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(event, grpc.RpcError):
            raise AssertionError(f"the watch failed: {event.code()} {event.details()}")
        return event

    def until(self, predicate, what, timeout=EVENT_TIMEOUT_S):
        """The events up to and including the first that satisfies predicate."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            event = self.next(timeout=max(0.0, deadline - time.monotonic()))
            if event is None:
                raise AssertionError(f"no {what} within {timeout}s; got "
                                     f"{[mc.pb.WatchEventType.Name(e.type) for e in got]}")
            got.append(event)
            if predicate(event):
                return got

    def drain(self, seconds):
        """The events of the next `seconds`."""
        got, deadline = [], time.monotonic() + seconds
        while (event := self.next(timeout=max(0.0, deadline - time.monotonic()))) is not None:
            got.append(event)
        return got

    def close(self):
        self.watch.close()


def describe(events):
    return [(mc.pb.WatchEventType.Name(e.type), e.model_id, bool(e.resume_token), e.resync)
            for e in events]


class TwoReplicasTest(unittest.TestCase):
    def start_replicas(self, *sync_intervals):
        self.hub = Process([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
        self.addCleanup(self.hub.stop)
        replicas = []
        for interval in sync_intervals:
            server = Process([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                              f"--hub_url={self.hub.address}/api/ai",
                              f"--sync_interval={interval}", "--watch_progress_interval=1s",
                              "--shutdown_grace=1s", "--metrics_listen=127.0.0.1:0",
                              "--http_listen="])
            self.addCleanup(server.stop)
            with mc.connect(f"127.0.0.1:{server.port}") as channel:
                mc.wait_for_serving(channel, timeout=30)
            replicas.append(server)
        # One target naming every replica; the clients' service config balances round robin.
        self.assertEqual(json.loads(mc.SERVICE_CONFIG)["loadBalancingConfig"],
                         [{"round_robin": {}}])
        channel = mc.connect("ipv4:" + ",".join(f"127.0.0.1:{r.port}" for r in replicas))
        self.addCleanup(channel.close)
        return replicas, mc.catalog_stub(channel)

    def carrier(self, replicas):
        """The replica serving the one open stream, once exactly one serves it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            counts = [watchers(r) if r.process.poll() is None else 0 for r in replicas]
            if sorted(counts) == [0] * (len(replicas) - 1) + [1]:
                return replicas[counts.index(1)]
            time.sleep(0.05)
        raise AssertionError(f"no single replica serves the stream: {counts}")

    def price(self, model_id):
        return hub_request(self.hub, "GET", f"/_control/models/{model_id}")["pricing"]["cost_per_image"]

    def set_price(self, model_id, price):
        hub_request(self.hub, "PATCH", f"/_control/models/{model_id}",
                    {"pricing": {"cost_per_image": price}})

    def assert_one_price_change(self, events, old, new):
        """Among events: exactly one CHANGED, of PRICED's price, and PROGRESS events."""
        changes = [e for e in events if e.type == CHANGED]
        self.assertEqual([e.model_id for e in changes], [PRICED], describe(events))
        [change] = changes
        self.assertIn(PRICE_PATH, change.changed_fields.paths)
        self.assertEqual(change.previous.pricing.cost_per_image, old)
        self.assertEqual(change.model.pricing.cost_per_image, new)
        self.assertEqual(len(change.model_version), 16)
        others = [e for e in events if e.type not in (CHANGED, MARKER, PROGRESS)]
        self.assertEqual(others, [], describe(events))
        return change

    def test_the_stream_moves_to_the_other_replica_with_exactly_the_change(self):
        replicas, stub = self.start_replicas("1s", "1s")
        old, new = self.price(PRICED), 0.02
        self.assertNotEqual(old, new)
        watcher = Watcher(stub)
        self.addCleanup(watcher.close)
        start = watcher.until(lambda e: e.type == MARKER, "first marker")
        self.assertEqual({e.model_id for e in start[:-1]}, set(watcher.watch.known_versions))
        self.assertIn(PRICED, watcher.watch.known_versions)
        killed = self.carrier(replicas)
        killed.kill()
        self.set_price(PRICED, new)
        # The other replica may or may not have synced the price when the client comes: the
        # change arrives either as a difference from the versions held, before the marker,
        # or live after it. Either way exactly once.
        events = watcher.until(
            lambda e: e.type == MARKER, "the other replica's marker")
        if not any(e.type == CHANGED for e in events):
            events += watcher.until(lambda e: e.type == CHANGED, "the price change")
        # Two more sync intervals: nothing repeats it.
        events += watcher.drain(2.5)
        self.assertFalse(any(e.resync for e in start + events), describe(events))
        self.assertEqual([e.type for e in events].count(MARKER), 1, describe(events))
        change = self.assert_one_price_change(events, old, new)
        survivor = next(r for r in replicas if r is not killed)
        self.assertEqual(watchers(survivor), 1)
        self.assertEqual(watcher.watch.known_versions[PRICED], change.model_version)

    def test_a_change_the_other_replica_already_has_comes_from_the_versions(self):
        # The carrier never syncs again; the other replica syncs every second. The stream is
        # opened until it lands on the one that never syncs.
        replicas, stub = self.start_replicas("1h", "1s")
        frozen, syncing = replicas
        old, new = self.price(PRICED), 0.02
        for _ in range(6):
            watcher = Watcher(stub)
            watcher.until(lambda e: e.type == MARKER, "first marker")
            if self.carrier(replicas) is frozen:
                break
            watcher.close()
            deadline = time.monotonic() + 10
            while watchers(syncing) and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            self.fail("every stream landed on the same replica: not round robin")
        self.addCleanup(watcher.close)
        self.set_price(PRICED, new)
        with mc.connect(f"127.0.0.1:{syncing.port}") as channel:
            direct = mc.catalog_stub(channel)
            deadline = time.monotonic() + 10
            while mc.batch_get_models(direct, [PRICED])[0].pricing.cost_per_image != new:
                self.assertLess(time.monotonic(), deadline, "the syncing replica never synced")
                time.sleep(0.1)
        frozen.kill()
        events = watcher.until(lambda e: e.type == MARKER, "the other replica's marker")
        events += watcher.drain(2.5)
        change = self.assert_one_price_change(events, old, new)
        # Before the marker, without a token: told from the versions held.
        self.assertLess(events.index(change), [e.type for e in events].index(MARKER))
        self.assertEqual(change.resume_token, "")
        self.assertFalse(any(e.resync for e in events), describe(events))

    def test_a_client_holding_the_whole_catalog_gets_only_the_marker(self):
        replicas, stub = self.start_replicas("1s", "1s")
        watcher = Watcher(stub)
        self.addCleanup(watcher.close)
        start = watcher.until(lambda e: e.type == MARKER, "first marker")
        catalog = hub_request(self.hub, "GET", "/_control/models")["data"]
        self.assertEqual(sorted(watcher.watch.known_versions), sorted(m["id"] for m in catalog))
        self.assertEqual([e.type for e in start].count(INITIAL), len(catalog))
        self.carrier(replicas).kill()
        events = watcher.until(lambda e: e.type == MARKER, "the other replica's marker")
        events += watcher.drain(2.5)
        self.assertEqual({e.type for e in events}, {MARKER, PROGRESS}, describe(events))
        self.assertEqual(events[0].type, MARKER, describe(events))
        self.assertFalse(events[0].resync)
        self.assertTrue(events[0].resume_token)


class CatalogctlWatchModelsTest(unittest.TestCase):
    def test_prints_a_price_change_field_by_field(self):
        hub = Process([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
        self.addCleanup(hub.stop)
        server = Process([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                          f"--hub_url={hub.address}/api/ai", "--sync_interval=1s",
                          "--metrics_listen=", "--http_listen="])
        self.addCleanup(server.stop)
        with mc.connect(f"127.0.0.1:{server.port}") as channel:
            mc.wait_for_serving(channel, timeout=30)
            images = [m.id for m in mc.iter_models(mc.catalog_stub(channel),
                                                    filter="capabilities.output:image")]
        old = hub_request(hub, "GET", f"/_control/models/{PRICED}")["pricing"]["cost_per_image"]
        watch = subprocess.Popen(
            [os.path.join(BIN_DIR, "catalogctl"), f"--server=127.0.0.1:{server.port}",
             "watch-models", "--filter=capabilities.output:image", "--view=basic"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(watch.stdout.readline(),
                             f"initial state: {len(images)} models; watching for changes\n")
            hub_request(hub, "PATCH", f"/_control/models/{PRICED}",
                        {"pricing": {"cost_per_image": 0.02}, "display_name": "FLUX.2 [dev] «new»"})
            lines = sorted([watch.stdout.readline(), watch.stdout.readline()])
            self.assertEqual(lines, [
                f'{PRICED} display_name "FLUX.2 [dev]" → "FLUX.2 [dev] «new»"\n',
                f"{PRICED} {PRICE_PATH} {old} → 0.02\n",
            ])
            # Out of the filter: REMOVED; back in: ADDED.
            hub_request(hub, "PATCH", f"/_control/models/{PRICED}",
                        {"capabilities": {"output": ["text"]}})
            self.assertEqual(watch.stdout.readline(), f"{PRICED} removed\n")
        finally:
            watch.terminate()
            watch.wait(timeout=10)
            watch.stdout.close()
            watch.stderr.close()

    def test_prints_the_hubs_other_fields_with_their_keys_in_order(self):
        # Fields the hub adds that the API does not know land in the model's extra_fields, a
        # Struct: a map, whose keys protobuf's JSON printer writes in hash order unless told
        # otherwise, so both sides of the arrow would list the same keys differently.
        hub = Process([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
        self.addCleanup(hub.stop)
        server = Process([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                          f"--hub_url={hub.address}/api/ai", "--sync_interval=1s",
                          "--metrics_listen=", "--http_listen="])
        self.addCleanup(server.stop)
        with mc.connect(f"127.0.0.1:{server.port}") as channel:
            mc.wait_for_serving(channel, timeout=30)
        watch = subprocess.Popen(
            [os.path.join(BIN_DIR, "catalogctl"), f"--server=127.0.0.1:{server.port}",
             "watch-models", f'--filter=id:"{PRICED}"', "--view=full"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(watch.stdout.readline(),
                             "initial state: 1 model; watching for changes\n")
            keys = ["zeta", "alpha", "mike", "bravo", "kilo", "echo", "golf", "delta"]
            hub_request(hub, "PATCH", f"/_control/models/{PRICED}",
                        {key: i for i, key in enumerate(keys)})
            before = ",".join(f'"{key}":{keys.index(key)}' for key in sorted(keys))
            self.assertEqual(watch.stdout.readline(),
                             f"{PRICED} extra_fields (unset) → {{{before}}}\n")
            hub_request(hub, "PATCH", f"/_control/models/{PRICED}", {"zeta": 100})
            after = before.replace('"zeta":0', '"zeta":100')
            self.assertEqual(watch.stdout.readline(),
                             f"{PRICED} extra_fields {{{before}}} → {{{after}}}\n")
        finally:
            watch.terminate()
            watch.wait(timeout=10)
            watch.stdout.close()
            watch.stderr.close()

    def test_a_filter_that_does_not_parse_is_an_error(self):
        result = subprocess.run(
            [os.path.join(BIN_DIR, "catalogctl"), "--server=127.0.0.1:1", "watch-models", "extra"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage: catalogctl watch-models", result.stderr)
        hub = Process([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
        self.addCleanup(hub.stop)
        server = Process([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                          f"--hub_url={hub.address}/api/ai", "--metrics_listen=",
                          "--http_listen="])
        self.addCleanup(server.stop)
        with mc.connect(f"127.0.0.1:{server.port}") as channel:
            mc.wait_for_serving(channel, timeout=30)
        result = subprocess.run(
            [os.path.join(BIN_DIR, "catalogctl"), f"--server=127.0.0.1:{server.port}",
             "watch-models", "--filter=pricing.cost_per_image <"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("error: INVALID_ARGUMENT: filter: "), result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
