"""End-to-end tests over real processes and sockets.

Starts the real hub-emulator and catalog-server binaries on free ports, then
talks to the server the ways its users do: a Python program with stubs
generated from proto/, catalogctl, and a reflection client that has no .proto
files (buf curl, which resolves every type through server reflection like
grpcurl does).

Run by ctest with MODEL_CATALOG_BIN_DIR, PYTHONPATH (generated stubs) and BUF set.
"""

import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

import grpc
from prometheus_client.parser import text_string_to_metric_families

import health_pb2
import health_pb2_grpc
from modelcatalog.v1 import catalog_service_pb2 as catalog_pb2
from modelcatalog.v1 import catalog_service_pb2_grpc as catalog_grpc

BIN_DIR = os.environ["MODEL_CATALOG_BIN_DIR"]
BUF = os.environ["BUF"]
STARTUP_TIMEOUT_S = 10


class Server:
    """A child process that prints '<name> listening on <address>' once bound."""

    def __init__(self, argv, env=None):
        if os.path.basename(argv[0]) == "catalog-server":
            # Tests run side by side: free ports rather than the defaults every server shares.
            for flag in ("--metrics_listen", "--http_listen"):
                if not any(a.startswith(flag) for a in argv):
                    argv = [*argv, f"{flag}=127.0.0.1:0"]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        if " listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"{argv[0]} did not start: {line!r} {self.process.stderr.read()}")
        self.address = line.strip().split(" listening on ")[1]
        # catalog-server then names its HTTP listeners, one line each:
        # "catalog-server metrics on URL", "catalog-server JSON view on URL".
        self.urls = {}
        if os.path.basename(argv[0]) == "catalog-server":
            listeners = sum(1 for a in argv if a.split("=", 1)[0] in ("--metrics_listen",
                                                                      "--http_listen")
                            and not a.endswith("="))
            for _ in range(listeners):
                what, url = self.process.stdout.readline().strip().split(" on ", 1)
                self.urls[what.replace("catalog-server ", "")] = url

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=15)
            self.stderr_text = self.process.stderr.read()
            return code
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


def split_json_documents(text):
    """The JSON documents written one after another (catalogctl --json --all: one per page)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        _, end = decoder.raw_decode(text, at)
        documents.append(text[at:end])
        at = end
    return documents


def wait_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
        if status == health_pb2.HealthCheckResponse.SERVING:
            return
        time.sleep(0.05)
    raise AssertionError("catalog-server never became SERVING")


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        key_file = os.path.join(cls.tmp.name, "hub.key")
        with open(key_file, "w") as f:
            f.write("end-to-end-secret-key\n")
        cls.hub = Server([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0",
                          f"--api_key_file={key_file}"])
        cls.server = Server(
            [os.path.join(BIN_DIR, "catalog-server"),
             f"--hub_url={cls.hub.address}/api/ai", f"--hub_api_key_file={key_file}"],
            # Flags may come from the environment, as in Kubernetes.
            env={"MODEL_CATALOG_LISTEN": "127.0.0.1:0", "MODEL_CATALOG_SYNC_INTERVAL": "1h"})
        cls.port = cls.server.address.rsplit(":", 1)[1]
        cls.target = f"127.0.0.1:{cls.port}"
        cls.channel = grpc.insecure_channel(cls.target)
        wait_serving(cls.channel)
        cls.stub = catalog_grpc.ModelCatalogServiceStub(cls.channel)
        with urllib.request.urlopen(f"{cls.hub.address}/_control/models") as response:
            cls.hub_ids = sorted(m["id"] for m in json.load(response)["data"])

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        cls.hub.stop()
        cls.tmp.cleanup()

    # --- Python client with generated stubs ---

    def test_python_client_lists_every_model_across_pages(self):
        ids, token, pages = [], "", 0
        while True:
            response = self.stub.ListModels(
                catalog_pb2.ListModelsRequest(page_size=4, page_token=token), timeout=5)
            ids += [m.id for m in response.models]
            pages += 1
            token = response.next_page_token
            if not token:
                break
        self.assertEqual(ids, self.hub_ids)
        self.assertGreater(pages, 1)

    def test_python_client_sees_not_found_like_the_hub(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.GetModel(catalog_pb2.GetModelRequest(id="no-such-model"), timeout=5)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(caught.exception.details(), "Model not found: no-such-model")

    def test_python_client_gets_a_model_with_its_fields(self):
        model = self.stub.GetModel(catalog_pb2.GetModelRequest(id=self.hub_ids[0]), timeout=5).model
        self.assertEqual(model.id, self.hub_ids[0])
        self.assertEqual(model.object, "model")

    def test_sync_status_names_the_source(self):
        status = self.stub.GetSyncStatus(catalog_pb2.GetSyncStatusRequest(), timeout=5)
        self.assertEqual(status.source, f"{self.hub.address}/api/ai")
        self.assertEqual(status.model_count, len(self.hub_ids))
        self.assertGreaterEqual(status.revision, 1)  # other tests change deployments

    # --- the metrics exposition, read by Prometheus' own Python client ---

    def test_metrics_follow_the_text_exposition_format(self):
        """/metrics, parsed by prometheus_client (an independent implementation
        of the format), and checked against the format's rules it does not
        enforce: HELP and TYPE before a family's samples, each family's samples
        together, no series twice, counters never negative, histograms whose
        buckets grow to their count."""
        self.stub.ListModels(catalog_pb2.ListModelsRequest(), timeout=5)
        with urllib.request.urlopen(self.server.urls["metrics"], timeout=5) as response:
            self.assertIn("text/plain; version=0.0.4", response.headers["Content-Type"])
            text = response.read().decode("utf-8")
        families = list(text_string_to_metric_families(text))
        names = [f.name for f in families]
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("modelcatalog_rpc_calls", names)  # the parser drops _total
        by_name = {f.name: f for f in families}
        calls = by_name["modelcatalog_rpc_calls"]
        self.assertEqual(calls.type, "counter")
        self.assertEqual(len(calls.samples), 11 * 17)  # every method and code, zeros included
        listed = [s for s in calls.samples
                  if s.labels == {"method": "ListModels", "code": "OK"}]
        self.assertGreaterEqual(listed[0].value, 1)

        seen_series, current, described, done = set(), None, {}, set()
        for line in text.splitlines():
            if line.startswith("# HELP ") or line.startswith("# TYPE "):
                kind, name = line.split(" ")[1:3]
                described.setdefault(name, set()).add(kind)
                self.assertNotIn(name, done, f"{name} is described after its samples")
                continue
            self.assertFalse(line.startswith("#"), line)
            series, value = line.rsplit(" ", 1)
            self.assertNotIn(series, seen_series, f"{series} twice")
            seen_series.add(series)
            family = next(n for n in sorted(described, key=len, reverse=True)
                          if series.split("{")[0] in (n, n + "_bucket", n + "_sum", n + "_count"))
            self.assertEqual(described[family], {"HELP", "TYPE"}, family)
            if family != current:
                self.assertNotIn(family, done, f"the samples of {family} are not together")
                if current:
                    done.add(current)
                current = family
        for family in families:
            if family.type == "counter":
                self.assertTrue(all(s.value >= 0 for s in family.samples), family.name)
            if family.type != "histogram":
                continue
            series = {}
            for s in family.samples:
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, []).append(s)
            for key, samples in series.items():
                buckets = [s for s in samples if s.name.endswith("_bucket")]
                counts = [s.value for s in buckets]
                self.assertEqual(counts, sorted(counts), f"{family.name} {key}")
                self.assertEqual(buckets[-1].labels["le"], "+Inf")
                count = next(s.value for s in samples if s.name.endswith("_count"))
                self.assertEqual(buckets[-1].value, count, f"{family.name} {key}")

    # --- reflection: a client with no .proto files ---

    def buf_curl(self, *args):
        return subprocess.run(
            [BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args],
            capture_output=True, text=True, timeout=60)

    def test_reflection_lists_every_service(self):
        result = self.buf_curl("--list-services", f"http://{self.target}")
        self.assertEqual(result.returncode, 0, result.stderr)
        services = set(result.stdout.split())
        self.assertTrue({"modelcatalog.v1.ModelCatalogService", "grpc.health.v1.Health",
                         "grpc.reflection.v1alpha.ServerReflection"} <= services, services)

    def test_reflection_v1_lists_and_calls_with_no_fallback(self):
        # buf curl asks for exactly the protocol named: v1 must answer by itself.
        listed = self.buf_curl("--reflect-protocol", "grpc-v1", "--list-services",
                               f"http://{self.target}")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertTrue({"modelcatalog.v1.ModelCatalogService", "grpc.health.v1.Health",
                         "grpc.reflection.v1.ServerReflection",
                         "grpc.reflection.v1alpha.ServerReflection"} <= set(listed.stdout.split()),
                        listed.stdout)
        got = self.buf_curl("--reflect-protocol", "grpc-v1", "-d", json.dumps({"id": self.hub_ids[0]}),
                            f"http://{self.target}/modelcatalog.v1.ModelCatalogService/GetModel")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(json.loads(got.stdout)["model"]["id"], self.hub_ids[0])

    def test_reflection_describes_and_calls_health_check(self):
        result = self.buf_curl(f"http://{self.target}/grpc.health.v1.Health/Check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), {"status": "SERVING"})

    def test_reflection_calls_every_catalog_method(self):
        base = f"http://{self.target}/modelcatalog.v1.ModelCatalogService"
        listed = self.buf_curl("-d", '{"page_size": 2}', f"{base}/ListModels")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(len(json.loads(listed.stdout)["models"]), 2)
        searched = self.buf_curl("-d", json.dumps({"query": self.hub_ids[0]}), f"{base}/SearchModels")
        self.assertEqual(searched.returncode, 0, searched.stderr)
        self.assertEqual(json.loads(searched.stdout)["models"][0]["id"], self.hub_ids[0])
        got = self.buf_curl("-d", json.dumps({"id": self.hub_ids[0]}), f"{base}/GetModel")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(json.loads(got.stdout)["model"]["id"], self.hub_ids[0])
        status = self.buf_curl(f"{base}/GetSyncStatus")
        self.assertEqual(status.returncode, 0, status.stderr)
        missing = self.buf_curl("-d", '{"id": "nope"}', f"{base}/GetModel")
        self.assertNotEqual(missing.returncode, 0)
        error = json.loads(missing.stderr)
        self.assertEqual(error["code"], "not_found")
        self.assertEqual(error["message"], "Model not found: nope")

    # --- catalogctl ---

    def catalogctl(self, *args):
        return subprocess.run([os.path.join(BIN_DIR, "catalogctl"), f"--server={self.target}", *args],
                              capture_output=True, text=True, timeout=30)

    def test_catalogctl_lists_a_table(self):
        result = self.catalogctl("list", "--all", "--page_size=5")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith("ID"))
        self.assertEqual(sorted(line.split()[0] for line in lines[1:] if line), self.hub_ids)

    def test_catalogctl_lists_with_a_filter_and_an_order(self):
        result = self.catalogctl("--json", "list", "--all", "--page_size=2",
                                 "--filter=capabilities.output:image", "--order_by=pricing.cost_per_image desc")
        self.assertEqual(result.returncode, 0, result.stderr)
        pages = [json.loads(page) for page in split_json_documents(result.stdout)]
        listed = [m for page in pages for m in page.get("models", [])]
        self.assertGreater(len(pages), 1)  # --all followed the tokens
        self.assertEqual({page["total_size"] for page in pages}, {len(listed)})
        # What the server should have answered, worked out here from every model.
        everything = self.stub.ListModels(catalog_pb2.ListModelsRequest(page_size=1000)).models
        image_models = [m for m in everything if "image" in m.capabilities.output]
        with_price = sorted((m for m in image_models if m.pricing.HasField("cost_per_image")),
                            key=lambda m: (-m.pricing.cost_per_image, m.id))
        without = sorted(m.id for m in image_models if not m.pricing.HasField("cost_per_image"))
        self.assertEqual([m["id"] for m in listed], [m.id for m in with_price] + without)
        self.assertNotIn("request_schema", listed[0])  # BASIC, the list's default

    def test_catalogctl_prices_by_id_and_by_filter(self):
        result = self.catalogctl("cost", "claude-sonnet-4-6", "gpt-5-mini",
                                 "--input_tokens=1000000", "--output_tokens=200000")
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split()[:2] for line in result.stdout.splitlines()[1:] if line]
        self.assertEqual(rows, [["claude-sonnet-4-6", "6"], ["gpt-5-mini", "0.65"]])
        result = self.catalogctl("--json", "cost", "--filter=capabilities.output:image", "--images=4",
                                 "--page_size=1", "--all")
        self.assertEqual(result.returncode, 0, result.stderr)
        pages = [json.loads(page) for page in split_json_documents(result.stdout)]
        totals = [e["total"] for page in pages for e in page.get("estimates", [])]
        self.assertEqual(totals[0], "0.1")
        self.assertEqual(totals, sorted(totals, key=float))
        missing = self.catalogctl("cost", "gemini-2-5-flash", "--input_tokens=5")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("FAILED_PRECONDITION", missing.stderr)
        self.assertIn("pricing.input_cost_per_token", missing.stderr)
        self.assertEqual(self.catalogctl("cost", "--input_tokens=5").returncode, 2)

    def test_catalogctl_validates_and_exits_1_when_not_valid(self):
        bad = self.catalogctl("validate", "flux-2-dev", '{"prompt": "a fox", "num_images": 9}')
        self.assertEqual(bad.returncode, 1, bad.stderr)
        self.assertIn("not valid", bad.stdout)
        self.assertIn("/num_images", bad.stdout)
        self.assertIn("must be at most 4, got 9", bad.stdout)
        good = self.catalogctl("validate", "flux-2-dev", '{"prompt": "a fox"}')
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertEqual(good.stdout.splitlines()[0], "valid")

    def test_catalogctl_gets_several_models_in_one_call(self):
        ids = [self.hub_ids[-1], self.hub_ids[0], self.hub_ids[-1]]
        result = self.catalogctl("--json", "get", *ids)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([m["id"] for m in json.loads(result.stdout)["models"]], ids)
        missing = self.catalogctl("get", self.hub_ids[0], "nope")
        self.assertEqual(missing.returncode, 1)
        self.assertEqual(missing.stderr, "error: NOT_FOUND: Model not found: nope\n")

    def test_catalogctl_names_the_problem_in_a_filter(self):
        result = self.catalogctl("list", "--filter=pricing.cost > 1")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr,
                         'error: INVALID_ARGUMENT: filter: unknown field "pricing.cost" at offset 0\n')

    def test_catalogctl_output_json_on_every_command(self):
        for args, key in ((["list", "--page_size=2"], "models"), (["search", self.hub_ids[0]], "models"),
                          (["get", self.hub_ids[0]], "model"), (["get", *self.hub_ids[:2]], "models"),
                          (["status"], "model_count")):
            result = self.catalogctl("--output=json", *args)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn(key, json.loads(result.stdout), args)
            table = self.catalogctl("--output=table", *args)
            self.assertEqual(table.returncode, 0, table.stderr)
            self.assertRaises(json.JSONDecodeError, json.loads, table.stdout)

    def test_catalogctl_refuses_an_unknown_output(self):
        result = self.catalogctl("--output=yaml", "status")
        self.assertEqual(result.returncode, 2)
        self.assertIn('--output must be table or json, not "yaml"', result.stderr)

    def test_binaries_print_the_version(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "VERSION"), encoding="utf-8") as f:
            version = f.read().strip()
        for binary in ("catalog-server", "catalogctl"):
            result = subprocess.run([os.path.join(BIN_DIR, binary), "--version"],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, f"{binary} {version}\n")

    def test_catalogctl_gets_json(self):
        result = self.catalogctl("--json", "get", self.hub_ids[-1])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["model"]["id"], self.hub_ids[-1])

    def test_catalogctl_activates_and_watches(self):
        watch = subprocess.Popen(
            [os.path.join(BIN_DIR, "catalogctl"), f"--server={self.target}", "--json", "watch",
             "acme-illustrator"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            initial = json.loads(watch.stdout.readline())
            self.assertEqual(initial["type"], "WATCH_EVENT_TYPE_INITIAL")
            self.assertEqual(initial["model_id"], "acme-illustrator")
            marker = json.loads(watch.stdout.readline())
            self.assertEqual(marker["type"], "WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE")
            activated = self.catalogctl("activate", "acme-illustrator")
            self.assertEqual(activated.returncode, 0, activated.stderr)
            self.assertEqual(activated.stdout.strip(), "acme-illustrator: deploying")
            changed = json.loads(watch.stdout.readline())
            self.assertEqual(changed["type"], "WATCH_EVENT_TYPE_CHANGED")
            self.assertEqual(changed["status_raw"], "deploying")
        finally:
            watch.terminate()
            watch.wait(timeout=10)
            watch.stdout.close()
            watch.stderr.close()

    def test_catalogctl_refuses_to_activate_a_base_model(self):
        result = self.catalogctl("activate", "claude-sonnet-4-6")
        self.assertEqual(result.returncode, 1)
        self.assertIn("base models are always active", result.stderr)

    def test_catalogctl_reports_errors_with_exit_status_1(self):
        result = self.catalogctl("get", "nope")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "error: NOT_FOUND: Model not found: nope\n")
        usage = self.catalogctl("frobnicate")
        self.assertEqual(usage.returncode, 2)


class HubKeySecrecyTest(unittest.TestCase):
    """The hub key never shows: not in logs, not in statuses, not in errors."""

    KEY = "hub-key-3f9a2c71d5e84b06"

    def test_the_hub_key_never_appears_in_logs_or_answers(self):
        with tempfile.TemporaryDirectory() as tmp:
            hub_key_file = os.path.join(tmp, "hub.key")
            with open(hub_key_file, "w") as f:
                f.write("the-key-the-hub-expects\n")
            hub = Server([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0",
                          f"--api_key_file={hub_key_file}"])
            # The service holds a key the hub refuses, so every hub call fails.
            server = Server(
                [os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                 f"--hub_url={hub.address}/api/ai", "--sync_interval=1h", "--log_level=debug"],
                env={"OXEN_API_KEY": self.KEY})
            answers = []
            try:
                channel = grpc.insecure_channel(server.address)
                stub = catalog_grpc.ModelCatalogServiceStub(channel)
                deadline = time.monotonic() + STARTUP_TIMEOUT_S
                status = stub.GetSyncStatus(catalog_pb2.GetSyncStatusRequest(), timeout=5)
                while not status.last_error and time.monotonic() < deadline:
                    time.sleep(0.05)
                    status = stub.GetSyncStatus(catalog_pb2.GetSyncStatusRequest(), timeout=5)
                self.assertIn("unauthenticated", status.last_error)
                answers.append(str(status))
                # A hub that echoes the key back in an error is redacted too.
                fault = json.dumps({"fault": "http_error", "status": 503, "count": 10,
                                    "message": f"upstream rejected key {self.KEY}"})
                request = urllib.request.Request(f"{hub.address}/_control/faults", data=fault.encode(),
                                                 method="POST", headers={"content-type": "application/json"})
                urllib.request.urlopen(request).close()
                for call in (lambda: stub.GetModel(catalog_pb2.GetModelRequest(id="x", live=True), timeout=5),
                             lambda: stub.ActivateModel(catalog_pb2.ActivateModelRequest(id="x"), timeout=5)):
                    try:
                        answers.append(str(call()))
                    except grpc.RpcError as error:
                        answers.append(f"{error.code()} {error.details()}")
                channel.close()
            finally:
                server.stop()
                hub.stop()
            for text in answers:
                self.assertNotIn(self.KEY, text)
            self.assertNotIn(self.KEY, server.stderr_text)
            self.assertIn("sync_failed", server.stderr_text)  # the logs were captured


def memory_kib(pid):
    """VmRSS and VmHWM (the peak) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


class BoundedMemoryTest(unittest.TestCase):
    """A hub that never stops sending costs the server no more than its response limit."""

    LIMIT = 32 << 20  # --max_hub_response_bytes
    MODELS = 20000

    def wait_for_sync(self, stub, done, what):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = stub.GetSyncStatus(catalog_pb2.GetSyncStatusRequest(), timeout=5)
            if done(status):
                return status
            time.sleep(0.02)
        raise AssertionError(f"no sync {what} within 60 s")

    def test_endless_and_huge_bodies_fail_the_sync_within_the_limit(self):
        hub = Server([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0",
                      f"--generate_models={self.MODELS}"])
        server = Server([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                         f"--hub_url={hub.address}/api/ai", "--sync_interval=1s",
                         f"--max_hub_response_bytes={self.LIMIT}"])
        try:
            channel = grpc.insecure_channel(server.address)
            wait_serving(channel)
            stub = catalog_grpc.ModelCatalogServiceStub(channel)
            # A few syncs of the same catalog: the memory at rest is that of a server that syncs.
            first = self.wait_for_sync(stub, lambda s: s.model_count == self.MODELS, "of the catalog")
            self.wait_for_sync(
                stub, lambda s: s.last_attempt_time.ToNanoseconds()
                > first.last_attempt_time.ToNanoseconds() + 2 * 10**9, "after the first")
            at_rest = memory_kib(server.process.pid)["VmRSS"]

            for fault in ({"fault": "endless_body", "endpoint": "list"},
                          {"fault": "huge_body", "endpoint": "list"}):  # 50 GiB announced
                request = urllib.request.Request(
                    f"{hub.address}/_control/faults", data=json.dumps(fault).encode(),
                    method="POST", headers={"content-type": "application/json"})
                urllib.request.urlopen(request).close()
                failed = self.wait_for_sync(
                    stub, lambda s: "larger than max_response_bytes" in s.last_error,
                    f"failing on {fault['fault']}")
                self.assertIn(f"response larger than max_response_bytes ({self.LIMIT})",
                              failed.last_error)
                # The last good catalog is kept, and served.
                self.assertEqual(failed.model_count, self.MODELS)
                self.assertEqual(failed.revision, first.revision)
                page = stub.ListModels(catalog_pb2.ListModelsRequest(page_size=10), timeout=5)
                self.assertEqual(len(page.models), 10)
                # And the next sync succeeds again.
                self.wait_for_sync(stub, lambda s: not s.last_error, f"after {fault['fault']}")

            peak = memory_kib(server.process.pid)["VmHWM"]
            if os.environ.get("MODEL_CATALOG_SANITIZE"):
                # AddressSanitizer keeps freed memory in quarantine and adds its shadow:
                # resident memory says nothing about the server's own there.
                return
            self.assertLess(peak, at_rest + self.LIMIT // 1024,
                            f"peak {peak} KiB, at rest {at_rest} KiB, limit {self.LIMIT // 1024} KiB")
            channel.close()
        finally:
            server.stop()
            hub.stop()


class CatalogctlAuthTest(unittest.TestCase):
    def test_catalogctl_sends_its_token(self):
        with tempfile.TemporaryDirectory() as tmp:
            tokens = os.path.join(tmp, "tokens")
            with open(tokens, "w") as f:
                f.write("ctl-token read\n")
            hub = Server([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
            server = Server([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                             f"--hub_url={hub.address}/api/ai", f"--auth_tokens_file={tokens}"])
            try:
                wait_serving(grpc.insecure_channel(server.address))
                ctl = [os.path.join(BIN_DIR, "catalogctl"), f"--server={server.address}", "status"]
                refused = subprocess.run(ctl, capture_output=True, text=True, timeout=30)
                self.assertEqual(refused.returncode, 1)
                self.assertIn("missing bearer token", refused.stderr)
                allowed = subprocess.run(ctl, capture_output=True, text=True, timeout=30,
                                         env={**os.environ, "CATALOGCTL_TOKEN": "ctl-token"})
                self.assertEqual(allowed.returncode, 0, allowed.stderr)
                self.assertIn("revision", allowed.stdout)
            finally:
                server.stop()
                hub.stop()


class ShutdownTest(unittest.TestCase):
    # --- make run ---

    def test_make_run_serves_until_interrupted_and_leaves_nothing_running(self):
        """scripts/run.sh, behind `make run`: it starts the hub emulator and
        catalog-server, stays in the foreground while they serve, and Ctrl-C
        stops both and exits 0."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "MODEL_CATALOG_LISTEN": "127.0.0.1:0",
               "MODEL_CATALOG_METRICS_LISTEN": "127.0.0.1:0",
               "MODEL_CATALOG_HTTP_LISTEN": "127.0.0.1:0"}
        env.pop("OXEN_API_KEY", None)
        # A session of its own: whatever it starts can be found by session id.
        script = subprocess.Popen([os.path.join(root, "scripts", "run.sh"),
                                   os.path.dirname(BIN_DIR)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, start_new_session=True)

        def session_processes():
            found = []
            for entry in os.listdir("/proc"):
                if not entry.isdigit() or int(entry) == script.pid:
                    continue
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    with open(f"/proc/{entry}/comm") as f:
                        name = f.read().strip()
                except OSError:
                    continue  # gone meanwhile
                if int(fields[3]) == script.pid and fields[0] != "Z":  # session id, not a zombie
                    found.append(name)
            return sorted(found)

        try:
            address = None
            for line in script.stdout:
                if line.startswith("catalog-server listening on "):
                    address = line.split(" listening on ")[1].strip()
                if line.startswith("Ctrl-C stops it."):
                    break
            self.assertIsNotNone(address, "run.sh printed no address")
            with grpc.insecure_channel(f"127.0.0.1:{address.rsplit(':', 1)[1]}") as channel:
                wait_serving(channel)
                models = catalog_grpc.ModelCatalogServiceStub(channel).ListModels(
                    catalog_pb2.ListModelsRequest(page_size=1000), timeout=5).models
                with open(os.path.join(root, "services", "hub_emulator", "sample_catalog.json")) as f:
                    sample_ids = sorted(m["id"] for m in json.load(f)["data"])
                self.assertEqual(sorted(m.id for m in models), sample_ids)  # the bundled catalog
            self.assertIsNone(script.poll(), "run.sh returned while its servers were running")
            self.assertEqual(session_processes(), ["catalog-server", "hub-emulator"])

            script.send_signal(signal.SIGINT)
            self.assertEqual(script.wait(timeout=30), 0, script.stderr.read())
            deadline = time.monotonic() + 10
            while session_processes() and time.monotonic() < deadline:
                time.sleep(0.05)  # the children finish their own shutdown
            self.assertEqual(session_processes(), [], "run.sh left processes running")
        finally:
            if script.poll() is None:
                script.kill()
            for entry in os.listdir("/proc"):  # never leave the servers behind a failed test
                try:
                    if entry.isdigit() and os.getsid(int(entry)) == script.pid:
                        os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
            script.stdout.close()
            script.stderr.close()

    def test_sigterm_stops_the_server_cleanly(self):
        server = Server([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                         "--hub_url=http://127.0.0.1:9/api/ai"])
        self.assertEqual(server.stop(), 0)

    def test_sigterm_ends_open_watch_streams_with_a_clear_status(self):
        hub = Server([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0"])
        server = Server([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                         f"--hub_url={hub.address}/api/ai"])
        try:
            channel = grpc.insecure_channel(server.address.replace("0.0.0.0", "127.0.0.1"))
            wait_serving(channel)
            stub = catalog_grpc.ModelCatalogServiceStub(channel)
            stream = stub.WatchDeployments(catalog_pb2.WatchDeploymentsRequest())
            for event in stream:
                if event.type == catalog_pb2.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
                    break
            server.process.send_signal(signal.SIGTERM)
            with self.assertRaises(grpc.RpcError) as caught:
                for _ in stream:
                    pass
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertEqual(caught.exception.details(), "the server is shutting down")
            self.assertEqual(server.process.wait(timeout=15), 0)
            channel.close()
        finally:
            server.stop()
            hub.stop()

    def test_json_logs_are_one_object_per_line(self):
        server = Server([os.path.join(BIN_DIR, "catalog-server"), "--listen=127.0.0.1:0",
                         "--hub_url=http://127.0.0.1:9/api/ai", "--log_format=json"])
        self.assertEqual(server.stop(), 0)
        lines = [line for line in server.stderr_text.splitlines() if line.strip()]
        self.assertTrue(lines)
        events = [json.loads(line) for line in lines]
        self.assertIn("started", [e["event"] for e in events])
        self.assertTrue(all({"ts", "level", "event"} <= set(e) for e in events))

    def test_bad_configuration_is_fatal_with_a_message(self):
        result = subprocess.run([os.path.join(BIN_DIR, "catalog-server"), "--sync_interval=0s",
                                 "--metrics_listen=", "--http_listen="],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--sync_interval must be positive", result.stderr)
        env = {**os.environ, "MODEL_CATALOG_SYNC_INTERVAL": "soon"}
        result = subprocess.run([os.path.join(BIN_DIR, "catalog-server"), "--metrics_listen=",
                                 "--http_listen="], env=env,
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("MODEL_CATALOG_SYNC_INTERVAL", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
