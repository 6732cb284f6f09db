"""watch_models() against an in-process gRPC server that plays a script of streams.

Each stream the helper opens gets the next entry of the script: the events to send, then how
the stream ends (a status code, or held open until the client cancels). The server records
every request, so the tests see what each reconnect carried.

    /usr/bin/python3 -m unittest discover -s clients/python/tests -t clients/python
"""

import concurrent.futures
import os
import sys
import threading
import time
import unittest

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import modelcatalog_client as mc  # noqa: E402

Event = mc.pb.WatchModelsResponse
INITIAL = mc.pb.WATCH_EVENT_TYPE_INITIAL
MARKER = mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE
ADDED = mc.pb.WATCH_EVENT_TYPE_ADDED
CHANGED = mc.pb.WATCH_EVENT_TYPE_CHANGED
REMOVED = mc.pb.WATCH_EVENT_TYPE_REMOVED
PROGRESS = mc.pb.WATCH_EVENT_TYPE_PROGRESS

HELD = "held open until the client cancels"

V1 = "00000000000000a1"
V2 = "00000000000000a2"


def model_event(type_, model_id, version="", token="", resync=False):
    return Event(type=type_, model_id=model_id, model=mc.model_pb.Model(id=model_id),
                 model_version=version, resume_token=token, resync=resync)


def marker(token, resync=False):
    return Event(type=MARKER, resume_token=token, resync=resync)


class ScriptedCatalog(mc.pb_grpc.ModelCatalogServiceServicer):
    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.cancelled = threading.Event()

    def WatchModels(self, request, context):
        copy = mc.pb.WatchModelsRequest()
        copy.CopyFrom(request)
        self.requests.append(copy)
        if not self.script:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the script is over")
        events, end = self.script.pop(0)
        if end == HELD:
            # Before the events: a stream cancelled while its last event is in flight is not
            # asked for more, so code after the last `yield` may never run.
            context.add_callback(self.cancelled.set)
        yield from events
        if end == HELD:
            self.cancelled.wait(10)
            return
        if end != grpc.StatusCode.OK:
            context.abort(end, f"scripted {end.name}")


class WatchModelsTest(unittest.TestCase):
    def serve(self, script):
        catalog = ScriptedCatalog(script)
        server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
        mc.pb_grpc.add_ModelCatalogServiceServicer_to_server(catalog, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self.addCleanup(server.stop, None)
        channel = mc.connect(f"127.0.0.1:{port}")
        self.addCleanup(channel.close)
        return catalog, mc.catalog_stub(channel)

    def test_reconnects_with_the_token_and_the_versions_held(self):
        catalog, stub = self.serve([
            # A fresh start, then a live change; the replica goes away.
            ([model_event(INITIAL, "a", V1), model_event(INITIAL, "b", V1), marker("t1"),
              model_event(CHANGED, "a", V2, token="t2")], grpc.StatusCode.UNAVAILABLE),
            # Another replica: what differs from the versions held, without tokens, then
            # its marker.
            ([model_event(REMOVED, "b"), model_event(ADDED, "c", V1), marker("t3")],
             grpc.StatusCode.UNAVAILABLE),
            # Nothing at all: the backoff grows.
            ([], grpc.StatusCode.UNAVAILABLE),
            ([Event(type=PROGRESS, resume_token="t4"), model_event(CHANGED, "c", V2, token="t5")],
             grpc.StatusCode.INVALID_ARGUMENT),
        ])
        sleeps, seen = [], []
        watch = mc.watch_models(stub, filter="capabilities.output:image",
                                view=mc.pb.MODEL_VIEW_BASIC, sleep=sleeps.append)
        with self.assertRaises(grpc.RpcError) as caught:
            for event in watch:
                seen.append((event.type, event.model_id, dict(watch.known_versions),
                             watch.resume_token))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(seen, [
            (INITIAL, "a", {"a": V1}, ""),
            (INITIAL, "b", {"a": V1, "b": V1}, ""),
            (MARKER, "", {"a": V1, "b": V1}, "t1"),
            (CHANGED, "a", {"a": V2, "b": V1}, "t2"),
            # t2 leads elsewhere than the state these events make: only the versions tell it.
            (REMOVED, "b", {"a": V2}, ""),
            (ADDED, "c", {"a": V2, "c": V1}, ""),
            (MARKER, "", {"a": V2, "c": V1}, "t3"),
            (PROGRESS, "", {"a": V2, "c": V1}, "t4"),
            (CHANGED, "c", {"a": V2, "c": V2}, "t5"),
        ])
        requests = [(r.resume_token, dict(r.known_versions)) for r in catalog.requests]
        self.assertEqual(requests, [
            ("", {}),
            ("t2", {"a": V2, "b": V1}),
            ("t3", {"a": V2, "c": V1}),
            ("t3", {"a": V2, "c": V1}),
        ])
        self.assertTrue(all(r.filter == "capabilities.output:image" for r in catalog.requests))
        self.assertTrue(all(r.view == mc.pb.MODEL_VIEW_BASIC for r in catalog.requests))
        self.assertEqual(sleeps, [0.2, 0.2, 0.4])

    def test_a_stream_cut_before_its_marker_resumes_from_the_versions_it_got(self):
        catalog, stub = self.serve([
            ([model_event(INITIAL, "a", V1), model_event(INITIAL, "b", V1)],
             grpc.StatusCode.UNAVAILABLE),
            ([model_event(ADDED, "c", V1), marker("t1")], HELD),
        ])
        watch = mc.watch_models(stub, sleep=lambda _: None)
        for event in watch:
            if event.type == MARKER:
                break
        watch.close()
        self.assertTrue(catalog.cancelled.wait(10), "closing did not cancel the stream")
        self.assertEqual([(r.resume_token, dict(r.known_versions)) for r in catalog.requests],
                         [("", {}), ("", {"a": V1, "b": V1})])
        self.assertEqual(watch.known_versions, {"a": V1, "b": V1, "c": V1})
        self.assertEqual(watch.resume_token, "t1")

    def test_starts_from_the_callers_versions_and_token(self):
        catalog, stub = self.serve([([model_event(CHANGED, "a", V2), marker("t9")], HELD)])
        held = {"a": V1, "b": V1}
        with mc.watch_models(stub, resume_token="t0", known_versions=held) as watch:
            events = [next(watch), next(watch)]
        self.assertEqual([e.type for e in events], [CHANGED, MARKER])
        self.assertEqual((catalog.requests[0].resume_token, dict(catalog.requests[0].known_versions)),
                         ("t0", {"a": V1, "b": V1}))
        self.assertEqual(watch.known_versions, {"a": V2, "b": V1})
        self.assertEqual(held, {"a": V1, "b": V1}, "the caller's dict was changed")
        self.assertTrue(catalog.cancelled.wait(10))

    def test_a_resync_replaces_everything_held(self):
        catalog, stub = self.serve([
            ([model_event(INITIAL, "x", V1, resync=True), model_event(INITIAL, "y", V1, resync=True),
              marker("t1", resync=True)], grpc.StatusCode.UNAVAILABLE),
            # A resync of no models at all: its marker alone.
            ([marker("t2", resync=True)], grpc.StatusCode.OK),
        ])
        watch = mc.watch_models(stub, resume_token="old", known_versions={"a": V1, "b": V2},
                                sleep=lambda _: None)
        after = [(e.type, watch.known_versions) for e in watch]
        self.assertEqual(after, [
            (INITIAL, {"x": V1}),
            (INITIAL, {"x": V1, "y": V1}),
            (MARKER, {"x": V1, "y": V1}),
            (MARKER, {}),
        ])
        self.assertEqual([dict(r.known_versions) for r in catalog.requests],
                         [{"a": V1, "b": V2}, {"x": V1, "y": V1}])

    def test_close_on_another_thread_ends_the_iteration(self):
        catalog, stub = self.serve([([marker("t1")], HELD)])
        watch = mc.watch_models(stub)
        got = []
        reader = threading.Thread(target=lambda: got.extend(watch))
        reader.start()
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        watch.close()
        reader.join(10)
        self.assertFalse(reader.is_alive(), "iterating went on after close()")
        self.assertEqual([e.type for e in got], [MARKER])
        self.assertTrue(catalog.cancelled.wait(10))

    def test_bad_arguments_are_refused_before_any_call(self):
        for bad, message in (({"known_versions": [("a", V1)]}, "not be a list"),
                             ({"known_versions": {"a": 1}}, "not 'a': 1"),
                             ({"filter": None}, "filter must be a str"),
                             ({"resume_token": b"t"}, "resume_token must be a str")):
            with self.assertRaises(TypeError) as caught:
                mc.watch_models(None, **bad)
            self.assertIn(message, str(caught.exception))


if __name__ == "__main__":
    unittest.main()
