"""Tests of modelcatalog_client against real servers.

Starts build/bin/hub-emulator (the bundled sample catalog) and build/bin/catalog-server on
free ports, then drives them through the client's helpers. MODEL_CATALOG_BIN_DIR names the
folder of the binaries (default: build/bin of the repository).

    /usr/bin/python3 -m unittest discover -s clients/python/tests -t clients/python
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import modelcatalog_client as mc  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIN_DIR = os.environ.get("MODEL_CATALOG_BIN_DIR", os.path.join(REPO, "build", "bin"))


class Process:
    """A server binary that prints '<name> listening on <address>' once bound."""

    def __init__(self, argv, env=None):
        # Logs go to a file: read only when the process fails to start.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self.log, text=True,
            env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        if " listening on " not in line:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            self.log.seek(0)
            raise RuntimeError(f"{argv[0]} did not start: {line!r} {self.log.read()[-2000:]}")
        self.address = line.strip().split(" listening on ", 1)[1]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            self.process.stdout.close()
            self.log.close()


def start_catalog_server(hub_address, key_file, listen="127.0.0.1:0", extra_args=()):
    return Process(
        [os.path.join(BIN_DIR, "catalog-server"), f"--listen={listen}",
         f"--hub_url={hub_address}/api/ai", f"--hub_api_key_file={key_file}",
         "--sync_interval=1h", "--watch_progress_interval=1s", "--shutdown_grace=1s",
         *extra_args],
        # A free port for the metrics listener, not the default 9090 every server would share.
        env={"MODEL_CATALOG_METRICS_LISTEN": "127.0.0.1:0",
             "MODEL_CATALOG_HTTP_LISTEN": "127.0.0.1:0"})


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.key_file = os.path.join(cls.tmp.name, "hub.key")
        with open(cls.key_file, "w") as f:
            f.write("python-client-test-key\n")
        cls.hub = Process([os.path.join(BIN_DIR, "hub-emulator"), "--listen=127.0.0.1:0",
                           f"--api_key_file={cls.key_file}", "--deploy_delay=300ms"])
        cls.server = start_catalog_server(cls.hub.address, cls.key_file)
        cls.target = "127.0.0.1:" + cls.server.address.rsplit(":", 1)[1]
        cls.channel = mc.connect(cls.target)
        mc.wait_for_serving(cls.channel, timeout=30)
        cls.stub = mc.catalog_stub(cls.channel)
        with urllib.request.urlopen(f"{cls.hub.address}/_control/models") as response:
            cls.hub_models = json.load(response)["data"]
        cls.hub_ids = sorted(m["id"] for m in cls.hub_models)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        cls.hub.stop()
        cls.tmp.cleanup()

    def test_service_config_is_valid_json_with_every_method(self):
        config = json.loads(mc.SERVICE_CONFIG)
        methods = {n["method"] for c in config["methodConfig"] for n in c["name"]}
        service = mc.pb.DESCRIPTOR.services_by_name["ModelCatalogService"]
        self.assertTrue({m.name for m in service.methods} <= methods)

    def test_iter_models_follows_every_page(self):
        calls = []

        class CountingStub:
            def ListModels(_, request, timeout=None):
                calls.append(request.page_token)
                return self.stub.ListModels(request, timeout=timeout)

        ids = [m.id for m in mc.iter_models(CountingStub(), page_size=3, timeout=5)]
        self.assertEqual(ids, self.hub_ids)
        self.assertEqual(len(calls), -(-len(self.hub_ids) // 3))
        self.assertEqual(calls[0], "")

    def test_iter_models_passes_filters(self):
        expected = sorted(m["id"] for m in self.hub_models
                          if (m.get("developer") or {}).get("name", "").lower() == "anthropic")
        self.assertTrue(expected)
        ids = [m.id for m in mc.iter_models(self.stub, page_size=1, developer_name="ANTHROPIC")]
        self.assertEqual(ids, expected)

    def test_iter_search_ranks_across_pages_with_unicode_folding(self):
        everything = [m.id for m in mc.iter_search(self.stub, "a", page_size=1000)]
        paged = [m.id for m in mc.iter_search(self.stub, "a", page_size=2)]
        self.assertEqual(paged, everything)
        self.assertGreater(len(paged), 2)
        found = [m.display_name for m in mc.iter_search(self.stub, "ÜBER")]
        self.assertIn("Über Coder", found)

    def test_get_model_not_found_keeps_the_hubs_message(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.GetModel(mc.pb.GetModelRequest(id="no-such-model"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(caught.exception.details(), "Model not found: no-such-model")

    # The image models of the hub emulator's sample catalog, and their order by price.
    IMAGE_MODELS = "capabilities.output:image"
    BY_PRICE = "pricing.cost_per_image"

    def full_listing(self):
        """Every model in FULL view, from an unfiltered listing."""
        models = list(mc.iter_models(self.stub, page_size=1000, view=mc.pb.MODEL_VIEW_FULL))
        self.assertEqual([m.id for m in models], self.hub_ids)
        return models

    @staticmethod
    def by_price_then_id(model):
        # Models without a price per image come after every model with one.
        has = model.pricing.HasField("cost_per_image")
        return (not has, model.pricing.cost_per_image if has else 0.0, model.id)

    def image_models_by_price(self):
        """The image models in FULL view, cheapest first, computed here from a full listing."""
        images = [m for m in self.full_listing() if "image" in m.capabilities.output]
        return sorted(images, key=self.by_price_then_id)

    def batch(self, ids):
        return mc.batch_get_models(self.stub, ids, timeout=10)

    def test_the_three_cheapest_image_models(self):
        expected = self.image_models_by_price()
        self.assertGreater(len(expected), 3)
        # The BASIC view below has something to leave out.
        self.assertTrue(any(m.HasField("description") for m in expected[:3]))
        self.assertTrue(any(m.HasField("request_schema") for m in expected[:3]))
        response = self.stub.ListModels(
            mc.pb.ListModelsRequest(filter=self.IMAGE_MODELS, order_by=self.BY_PRICE, page_size=3,
                                    view=mc.pb.MODEL_VIEW_BASIC), timeout=10)
        self.assertEqual([m.id for m in response.models], [m.id for m in expected[:3]])
        self.assertEqual(response.total_size, len(expected))
        self.assertTrue(response.next_page_token)
        for model, full in zip(response.models, expected):
            self.assertFalse(model.HasField("description"), model.id)
            self.assertFalse(model.HasField("request_schema"), model.id)
            self.assertEqual(model.pricing, full.pricing)
            self.assertEqual(model.display_name, full.display_name)

    def test_cheapest_image_models_example(self):
        expected = self.image_models_by_price()
        result = subprocess.run(
            [sys.executable, os.path.join(HERE, "..", "examples", "cheapest_image_models.py"),
             f"--server={self.target}"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([line.split()[0] for line in result.stdout.splitlines()],
                         [m.id for m in expected[:3]])
        self.assertIn(f"3 of {len(expected)} image models", result.stderr)

    def test_iter_models_passes_filter_order_and_view_to_every_page(self):
        expected = self.image_models_by_price()
        models = list(mc.iter_models(self.stub, page_size=2, filter=self.IMAGE_MODELS,
                                     order_by=self.BY_PRICE, view=mc.pb.MODEL_VIEW_FULL))
        self.assertEqual([m.id for m in models], [m.id for m in expected])
        self.assertEqual(models, expected)  # FULL: every field, description included

    def test_a_page_token_is_only_valid_for_its_query(self):
        first = self.stub.ListModels(mc.pb.ListModelsRequest(
            filter=self.IMAGE_MODELS, order_by=self.BY_PRICE, page_size=2))
        self.assertTrue(first.next_page_token)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ListModels(mc.pb.ListModelsRequest(
                order_by=self.BY_PRICE, page_size=2, page_token=first.next_page_token))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_iter_search_passes_filter_and_view_to_every_page(self):
        ranked = list(mc.iter_search(self.stub, "a", page_size=1000, view=mc.pb.MODEL_VIEW_FULL))
        expected = [m for m in ranked if "image" in m.capabilities.output]
        self.assertGreater(len(expected), 2)
        self.assertLess(len(expected), len(ranked))
        self.assertTrue(any(m.HasField("description") for m in expected))
        models = list(mc.iter_search(self.stub, "a", page_size=1, filter=self.IMAGE_MODELS,
                                     view=mc.pb.MODEL_VIEW_FULL))
        self.assertEqual(models, expected)  # relevance order, FULL view
        basic = list(mc.iter_search(self.stub, "a", page_size=1, filter=self.IMAGE_MODELS))
        self.assertEqual([m.id for m in basic], [m.id for m in expected])
        self.assertFalse(any(m.HasField("description") for m in basic))

    def test_batch_get_models_keeps_the_order_asked(self):
        full = {m.id: m for m in self.full_listing()}
        ids = ["qwen-image-max", "flux-2-dev", "acme-support-bot", "qwen-image-max"]
        models = self.batch(ids)
        self.assertEqual([m.id for m in models], ids)
        self.assertEqual(models, [full[i] for i in ids])  # FULL by default
        self.assertTrue(models[1].HasField("description"))
        basic = mc.batch_get_models(self.stub, ids, view=mc.pb.MODEL_VIEW_BASIC)
        self.assertEqual([m.id for m in basic], ids)
        self.assertFalse(any(m.HasField("description") or m.HasField("request_schema")
                             for m in basic))

    def test_batch_get_models_is_all_or_nothing(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.batch(["flux-2-dev", "no-such-model", "nor-this-one"])
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(caught.exception.details(), "Model not found: no-such-model")
        with self.assertRaises(grpc.RpcError) as caught:
            self.batch([])
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_a_filter_that_does_not_parse_is_invalid_argument(self):
        calls = {
            "ListModels": lambda f: self.stub.ListModels(mc.pb.ListModelsRequest(filter=f)),
            "iter_models": lambda f: list(mc.iter_models(self.stub, filter=f)),
            "iter_search": lambda f: list(mc.iter_search(self.stub, "a", filter=f)),
        }
        for name, call in calls.items():
            with self.subTest(name):
                with self.assertRaises(grpc.RpcError) as caught:
                    call("capabilities.output:image AND (")
                self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertTrue(caught.exception.details().startswith("filter: "),
                                caught.exception.details())

    def test_example_lists_every_model(self):
        result = subprocess.run(
            [sys.executable, os.path.join(HERE, "..", "examples", "list_models.py"),
             f"--server={self.target}"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([line.split()[0] for line in result.stdout.splitlines()], self.hub_ids)
        self.assertIn(f"{len(self.hub_ids)} models", result.stderr)

    def test_watch_starts_with_initial_events_and_a_marker(self):
        events = []
        stream = mc.watch(self.stub, ["acme-support-bot", "acme-illustrator"])
        for event in stream:
            events.append(event)
            if event.type == mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
                break
        stream.close()
        initial = [e for e in events if e.type == mc.pb.WATCH_EVENT_TYPE_INITIAL]
        self.assertEqual(sorted(e.model_id for e in initial),
                         ["acme-illustrator", "acme-support-bot"])
        self.assertTrue(all(not e.resume_token for e in initial))
        self.assertEqual(events[-1].type, mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE)
        self.assertTrue(events[-1].resume_token)

    def test_watch_reconnects_after_a_server_restart(self):
        # A server of its own, restarted on the same port while a watch is open.
        server = start_catalog_server(self.hub.address, self.key_file)
        port = server.address.rsplit(":", 1)[1]
        channel = mc.connect(f"127.0.0.1:{port}")
        try:
            mc.wait_for_serving(channel, timeout=30)
            stub = mc.catalog_stub(channel)
            stream = mc.watch(stub, ["acme-support-bot"], initial_backoff=0.1)
            markers, resyncs = 0, 0
            for event in stream:
                if event.resync:
                    resyncs += 1
                if event.type != mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
                    continue
                markers += 1
                if markers == 1:
                    self.assertEqual(server.stop(), 0)
                    server = start_catalog_server(self.hub.address, self.key_file,
                                                  listen=f"127.0.0.1:{port}")
                else:
                    break
            stream.close()
            # The token of the first server means nothing to the second: a resync.
            self.assertEqual(markers, 2)
            self.assertGreaterEqual(resyncs, 2)
        finally:
            channel.close()
            server.stop()

    def test_bearer_token_is_sent_with_every_call(self):
        tokens = os.path.join(self.tmp.name, "tokens")
        with open(tokens, "w") as f:
            f.write("full-token\nread-token read\n")
        server = start_catalog_server(self.hub.address, self.key_file,
                                      extra_args=[f"--auth_tokens_file={tokens}"])
        target = "127.0.0.1:" + server.address.rsplit(":", 1)[1]
        try:
            with mc.connect(target) as anonymous:
                mc.wait_for_serving(anonymous, timeout=30)  # health stays open
                with self.assertRaises(grpc.RpcError) as caught:
                    list(mc.iter_models(mc.catalog_stub(anonymous)))
                self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            with mc.connect(target, token="full-token") as channel:
                stub = mc.catalog_stub(channel)
                self.assertEqual(sorted(m.id for m in mc.iter_models(stub, page_size=5)),
                                 self.hub_ids)
                events = mc.watch(stub, ["acme-support-bot"])
                self.assertEqual(next(events).type, mc.pb.WATCH_EVENT_TYPE_INITIAL)
                events.close()
            with mc.connect(target, token="read-token") as channel:
                with self.assertRaises(grpc.RpcError) as caught:
                    mc.catalog_stub(channel).ActivateModel(
                        mc.pb.ActivateModelRequest(id="acme-illustrator"))
                self.assertEqual(caught.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_activate_is_seen_by_a_watch(self):
        stream = mc.watch(self.stub, ["acme-illustrator"])
        seen = []
        for event in stream:
            if event.type == mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
                before = [e.status for e in seen]
                self.stub.ActivateModel(mc.pb.ActivateModelRequest(id="acme-illustrator"))
            seen.append(event)
            if event.type == mc.pb.WATCH_EVENT_TYPE_CHANGED and \
                    event.status == mc.model_pb.DEPLOYMENT_STATUS_ACTIVE:
                break
        stream.close()
        self.assertNotIn(mc.model_pb.DEPLOYMENT_STATUS_ACTIVE, before)

    # EstimateCost and ValidateRequest through the helpers.

    def test_estimate_cost_is_exact(self):
        [claude, mini] = mc.estimate_cost(self.stub, ["claude-sonnet-4-6", "gpt-5-mini"],
                                          input_tokens=1_000_000, output_tokens=200_000, timeout=5)
        self.assertEqual(mc.total(claude), mc.decimal.Decimal("6"))
        # In floats 0.6499999999999999.
        self.assertEqual(mc.total(mini), mc.decimal.Decimal("0.65"))
        self.assertEqual([line.amount for line in mini.lines], ["0.25", "0.4"])

    def test_iter_cheapest_orders_by_total(self):
        found = [(e.model_id, e.total) for e in
                 mc.iter_cheapest(self.stub, "capabilities.output:image", page_size=1, images=4)]
        self.assertEqual(found[0], ("flux-2-dev", "0.1"))
        totals = [mc.total(t) for _, t in found]
        self.assertEqual(totals, sorted(totals))

    def test_estimate_cost_refusals_name_the_field(self):
        with self.assertRaises(grpc.RpcError) as missing:
            mc.estimate_cost(self.stub, ["gemini-2-5-flash"], input_tokens=10)
        self.assertEqual(missing.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("pricing.input_cost_per_token", missing.exception.details())
        with self.assertRaises(grpc.RpcError) as negative:
            mc.estimate_cost(self.stub, ["flux-2-dev"], images=-1)
        self.assertEqual(negative.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("usage.images", negative.exception.details())

    def test_validate_request_reports_pointer_keyword_and_message(self):
        answer = mc.validate_request(self.stub, "flux-2-dev", {"prompt": "a fox", "num_images": 9})
        self.assertFalse(answer.valid)
        self.assertEqual([(v.pointer, v.keyword, v.message) for v in answer.violations],
                         [("/num_images", "maximum", "must be at most 4, got 9")])
        self.assertTrue(mc.validate_request(self.stub, "flux-2-dev", {"prompt": "a fox"}).valid)
        with self.assertRaises(grpc.RpcError) as bad:
            mc.validate_request(self.stub, "flux-2-dev", "{not json")
        self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


class WatchReconnectUnitTest(unittest.TestCase):
    """watch() against a scripted stub: which token each reconnect carries."""

    class Unavailable(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.UNAVAILABLE

    class Call:
        def __init__(self, events, error):
            self.events, self.error, self.cancelled = events, error, False

        def __iter__(self):
            yield from self.events
            if self.error:
                raise self.error

        def cancel(self):
            self.cancelled = True

    def test_reconnects_with_the_last_token_and_raises_other_errors(self):
        ev = mc.pb.WatchDeploymentsResponse
        initial = mc.pb.WATCH_EVENT_TYPE_INITIAL
        marker = mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE
        changed = mc.pb.WATCH_EVENT_TYPE_CHANGED

        class Denied(grpc.RpcError):
            def code(self):
                return grpc.StatusCode.INVALID_ARGUMENT

        script = [
            ([ev(type=initial, model_id="m"), ev(type=marker, resume_token="t1"),
              ev(type=changed, model_id="m", resume_token="t2")], self.Unavailable()),
            ([], self.Unavailable()),
            ([ev(type=changed, model_id="m", resume_token="t3")], Denied()),
        ]
        requests, calls = [], []

        class Stub:
            def WatchDeployments(_, request):
                requests.append(request)
                calls.append(self.Call(*script[len(requests) - 1]))
                return calls[-1]

        sleeps = []
        got = []
        with self.assertRaises(Denied):
            for event in mc.watch(Stub(), ["m"], resume_token="t0", sleep=sleeps.append):
                got.append(event.resume_token)
        self.assertEqual([r.resume_token for r in requests], ["t0", "t2", "t2"])
        self.assertEqual(list(requests[0].model_ids), ["m"])
        self.assertEqual(got, ["", "t1", "t2", "t3"])
        self.assertEqual(sleeps, [0.2, 0.4])
        self.assertTrue(all(c.cancelled for c in calls))


if __name__ == "__main__":
    unittest.main()
