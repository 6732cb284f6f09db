"""Python client of model-catalog's ModelCatalogService.

    import modelcatalog_client as mc

    channel = mc.connect("localhost:50051")
    stub = mc.catalog_stub(channel)
    for model in mc.iter_models(stub, developer_name="anthropic"):
        print(model.id, model.display_name)
    for model in mc.iter_models(stub, filter="capabilities.output:image",
                                order_by="pricing.cost_per_image", view=mc.pb.MODEL_VIEW_FULL):
        print(model.id, model.pricing.cost_per_image)
    models = mc.batch_get_models(stub, ["flux-2-dev", "qwen-image-max"])  # in this order
    for event in mc.watch(stub, ["acme-support-bot"]):
        print(mc.pb.WatchEventType.Name(event.type), event.model_id, event.status_raw)
    models = mc.watch_models(stub, filter="capabilities.output:image")
    for event in models:  # reconnects with its resume token and the versions it holds
        print(mc.pb.WatchEventType.Name(event.type), event.model_id, event.model_version)
    print(models.known_versions)  # {model id: model_version}: persist it to start from it
    [estimate] = mc.estimate_cost(stub, ["claude-sonnet-4-6"], input_tokens=1_000_000)
    print(mc.total(estimate))  # Decimal('3'): exact
    cheapest = next(mc.iter_cheapest(stub, "capabilities.output:image", images=4))
    answer = mc.validate_request(stub, "flux-2-dev", {"prompt": "a fox", "num_images": 9})
    for v in answer.violations:
        print(v.pointer, v.keyword, v.message)  # /num_images maximum must be at most 4, got 9

The message and service stubs are generated from proto/ by clients/generate.sh into
`modelcatalog_client._gen` and re-exported here as `pb` (messages) and `pb_grpc`
(stubs); `health_pb` and `health_pb_grpc` are the standard gRPC health protocol.
Needs grpcio and protobuf (Debian: python3-grpcio, python3-protobuf).
"""

import collections
import collections.abc
import decimal
import json
import os
import time

import grpc

from modelcatalog_client._gen.grpc.health.v1 import health_pb2 as health_pb
from modelcatalog_client._gen.grpc.health.v1 import health_pb2_grpc as health_pb_grpc
from modelcatalog_client._gen.modelcatalog.v1 import catalog_service_pb2 as pb
from modelcatalog_client._gen.modelcatalog.v1 import catalog_service_pb2_grpc as pb_grpc
from modelcatalog_client._gen.modelcatalog.v1 import model_pb2 as model_pb

__all__ = [
    "SERVICE_CONFIG", "batch_get_models", "catalog_stub", "connect", "estimate_cost", "health_pb",
    "health_pb_grpc", "iter_cheapest", "iter_models", "iter_search", "model_pb", "pb", "pb_grpc",
    "total", "validate_request", "wait_for_serving", "watch", "watch_models", "ModelWatch",
]


def _load_service_config():
    """The clients' shared gRPC service config: clients/service_config.json.

    Looked for beside this package (an installed copy) and then in the repository.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "service_config.json"),
                 os.path.join(here, "..", "..", "service_config.json")):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.dumps(json.load(f))
    raise FileNotFoundError("service_config.json not found beside modelcatalog_client")


# Per-method timeouts, retries of reads on UNAVAILABLE, round-robin balancing over every
# address the name resolves to (a headless Service's pods with target "dns:///name:50051").
SERVICE_CONFIG = _load_service_config()


class _CallDetails(
        collections.namedtuple(
            "_CallDetails",
            ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Sends `authorization: Bearer <token>` with every call (servers run with
    --auth_tokens_file require it)."""

    def __init__(self, token):
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, details):
        return _CallDetails(details.method, details.timeout,
                            list(details.metadata or ()) + [self._header], details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)


def connect(target, credentials=None, options=(), token=None):
    """Returns a channel to `target` ("host:port", "dns:///host:port") with SERVICE_CONFIG.

    Plaintext unless `credentials` (grpc.ssl_channel_credentials(...)) are given; `options`
    are extra channel arguments and win over the defaults. `token` is sent as a bearer
    token with every call (in the clear on a plaintext channel: use TLS beyond the pod
    network).
    """
    channel_options = dict([
        ("grpc.service_config", SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
    ])
    channel_options.update(dict(options))
    channel_options = list(channel_options.items())
    if credentials is None:
        channel = grpc.insecure_channel(target, options=channel_options)
    else:
        channel = grpc.secure_channel(target, credentials, options=channel_options)
    if token:
        channel = grpc.intercept_channel(channel, _BearerToken(token))
    return channel


def catalog_stub(channel):
    """A ModelCatalogService stub on `channel`."""
    return pb_grpc.ModelCatalogServiceStub(channel)


def wait_for_serving(channel, timeout=30.0, service=""):
    """Waits until the server's health is SERVING (it is NOT_SERVING until its first
    catalog loads); raises TimeoutError after `timeout` seconds."""
    health = health_pb_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"server not SERVING after {timeout}s (last: {last})")
        try:
            response = health.Check(health_pb.HealthCheckRequest(service=service),
                                    timeout=min(remaining, 2.0), wait_for_ready=True)
            if response.status == health_pb.HealthCheckResponse.SERVING:
                return
            last = health_pb.HealthCheckResponse.ServingStatus.Name(response.status)
        except grpc.RpcError as e:
            last = e.code()
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def iter_models(stub, page_size=0, timeout=None, **filters):
    """Yields every model ListModels returns, following next_page_token to the last page.

    `filters` are the other ListModelsRequest fields, sent with every page: developer_name,
    action, filter (AIP-160, e.g. "capabilities.input:image AND pricing.cost_per_image < 0.03"),
    order_by (AIP-132, e.g. "pricing.cost_per_image" or "created desc"; default "id") and
    view (pb.MODEL_VIEW_BASIC, the default, or pb.MODEL_VIEW_FULL). `page_size` 0 is the
    server's default (50); `timeout` bounds each page's call.
    """
    token = ""
    while True:
        response = stub.ListModels(
            pb.ListModelsRequest(page_size=page_size, page_token=token, **filters), timeout=timeout)
        yield from response.models
        token = response.next_page_token
        if not token:
            return


def iter_search(stub, query, page_size=0, timeout=None, **filters):
    """Yields every model SearchModels ranks for `query`, best match first, over all pages.

    `filters` are the other SearchModelsRequest fields, sent with every page: filter (AIP-160)
    and view (pb.MODEL_VIEW_BASIC, the default, or pb.MODEL_VIEW_FULL).
    """
    token = ""
    while True:
        response = stub.SearchModels(
            pb.SearchModelsRequest(query=query, page_size=page_size, page_token=token, **filters),
            timeout=timeout)
        yield from response.models
        token = response.next_page_token
        if not token:
            return


def batch_get_models(stub, ids, timeout=None, **fields):
    """Returns the models with these ids (1 to 1,000; an id may come twice) in the order
    asked, from one BatchGetModels call, so from one catalog snapshot.

    `fields` are the other BatchGetModelsRequest fields: view (pb.MODEL_VIEW_FULL, the
    default, or pb.MODEL_VIEW_BASIC). All or nothing: an id the catalog does not have raises
    grpc.RpcError NOT_FOUND "Model not found: <id>"; no ids or more than 1,000 raise
    INVALID_ARGUMENT.
    """
    return list(stub.BatchGetModels(pb.BatchGetModelsRequest(ids=list(ids), **fields),
                                    timeout=timeout).models)


def estimate_cost(stub, model_ids, timeout=None, **usage):
    """Returns the CostEstimate of each model (in the order asked) for one call with this usage,
    from one EstimateCost call.

    `usage` is the Usage fields: input_tokens, output_tokens, seconds, images,
    video_output_seconds, high_res, with_audio. Amounts are exact decimal strings: read them
    with total() or decimal.Decimal, not float. A model the usage cannot be priced on raises
    grpc.RpcError FAILED_PRECONDITION naming the missing price; a negative quantity
    INVALID_ARGUMENT naming the field; an unknown id NOT_FOUND.
    """
    request = pb.EstimateCostRequest(model_ids=list(model_ids), usage=pb.Usage(**usage))
    return list(stub.EstimateCost(request, timeout=timeout).estimates)


def iter_cheapest(stub, filter, page_size=0, timeout=None, **usage):
    """Yields the CostEstimate of every model matching `filter` (AIP-160) that the usage can
    be priced on, cheapest first (ties by id), following next_page_token to the last page.
    Models that cannot be priced for this usage are left out."""
    token = ""
    while True:
        response = stub.EstimateCost(
            pb.EstimateCostRequest(filter=filter, usage=pb.Usage(**usage), page_size=page_size,
                                   page_token=token),
            timeout=timeout)
        yield from response.estimates
        token = response.next_page_token
        if not token:
            return


def total(estimate_or_amount):
    """A CostEstimate's total (or any amount string of one) as an exact decimal.Decimal."""
    text = getattr(estimate_or_amount, "total", estimate_or_amount)
    return decimal.Decimal(text)


def validate_request(stub, model_id, parameters, timeout=None):
    """Checks `parameters` (a dict, sent as JSON so integers stay integers, or JSON text)
    against the model's request_schema; returns the ValidateRequestResponse: `valid`, and
    `violations` each with a JSON Pointer, the keyword and a message. A model without a
    schema is valid with a note; text that is not JSON raises INVALID_ARGUMENT."""
    text = parameters if isinstance(parameters, str) else json.dumps(parameters)
    return stub.ValidateRequest(
        pb.ValidateRequestRequest(model_id=model_id, parameters_json=text), timeout=timeout)


def watch(stub, model_ids=(), resume_token=None, max_backoff=5.0, initial_backoff=0.2,
          sleep=time.sleep):
    """Yields WatchDeploymentsResponse events of `model_ids` (empty: every model with
    deployments), reconnecting when the stream ends with UNAVAILABLE (a server restart,
    a lost connection, a replica shutting down).

    A reconnect resumes after the last event that carried a resume token, so the server
    replays exactly what was missed, or, if it no longer can, starts over with a fresh
    initial state whose events have `resync` set: the caller then replaces what it knew.
    Any other error is raised. Stop by leaving the loop (or closing the generator); the
    stream is cancelled then.
    """
    token = resume_token or ""
    backoff = initial_backoff
    while True:
        call = stub.WatchDeployments(
            pb.WatchDeploymentsRequest(model_ids=list(model_ids), resume_token=token))
        try:
            for event in call:
                backoff = initial_backoff
                if event.resume_token:
                    token = event.resume_token
                yield event
            # A stream the server ends without an error is over: so is the watch.
            return
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        finally:
            call.cancel()
        sleep(backoff)
        backoff = min(backoff * 2, max_backoff)


# The events that carry a model's state (and, outside a start, a resume token).
_STATE_EVENTS = frozenset((pb.WATCH_EVENT_TYPE_INITIAL, pb.WATCH_EVENT_TYPE_ADDED,
                           pb.WATCH_EVENT_TYPE_CHANGED, pb.WATCH_EVENT_TYPE_REMOVED))


class ModelWatch:
    """A WatchModels stream that survives reconnects: iterate it for the events; see
    watch_models().

    `known_versions` is a copy of {model id: model_version} of the models the events so far
    hold (INITIAL, ADDED and CHANGED set an id's version, REMOVED drops it, a resync replaces
    them all); `resume_token` is the token a reconnect sends ("" when there is none).
    """

    def __init__(self, stub, filter="", view=pb.MODEL_VIEW_UNSPECIFIED, resume_token="",
                 known_versions=None, max_backoff=5.0, initial_backoff=0.2, sleep=time.sleep):
        if not isinstance(filter, str):
            raise TypeError(f"filter must be a str, not {type(filter).__name__}")
        if not isinstance(resume_token, str):
            raise TypeError(f"resume_token must be a str, not {type(resume_token).__name__}")
        if known_versions is not None and not isinstance(known_versions,
                                                         collections.abc.Mapping):
            raise TypeError("known_versions must map model ids to model_version strings, "
                            f"not be a {type(known_versions).__name__}")
        versions = dict(known_versions or {})
        for model_id, version in versions.items():
            if not isinstance(model_id, str) or not isinstance(version, str):
                raise TypeError("known_versions must map model ids to model_version strings, "
                                f"not {model_id!r}: {version!r}")
        self._stub = stub
        self._filter = filter
        self._view = view
        self._token = resume_token
        self._versions = versions
        self._max_backoff = max_backoff
        self._initial_backoff = initial_backoff
        self._sleep = sleep
        self._call = None
        self._closed = False
        self._events = self._run()

    @property
    def known_versions(self):
        return dict(self._versions)

    @property
    def resume_token(self):
        return self._token

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._events)

    def close(self):
        """Cancels the stream; iterating ends, also on another thread that is waiting for an
        event."""
        self._closed = True
        call = self._call
        if call is not None:
            call.cancel()
        try:
            self._events.close()
        except ValueError:
            pass  # iterating on another thread: the cancelled call ends it there

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _request(self):
        return pb.WatchModelsRequest(filter=self._filter, view=self._view,
                                     resume_token=self._token, known_versions=self._versions)

    def _apply(self, event, replacing):
        """Updates the versions and the token from one event; returns whether the stream's
        state is (still) replacing everything held."""
        if not replacing and (event.type == pb.WATCH_EVENT_TYPE_INITIAL or event.resync):
            # INITIAL events are the whole state, as are the events of a resync (a resync of
            # no models is its marker alone): the first of them replaces what was held.
            self._versions.clear()
            replacing = True
        if event.type == pb.WATCH_EVENT_TYPE_REMOVED:
            self._versions.pop(event.model_id, None)
        elif event.type in _STATE_EVENTS and event.model_version:
            self._versions[event.model_id] = event.model_version
        if event.resume_token:
            self._token = event.resume_token
        elif event.type in _STATE_EVENTS:
            # A state the token does not lead to (a start, or what differs from the versions
            # held): replaying from the token could repeat or undo it, while the versions say
            # exactly where the caller stands.
            self._token = ""
        return replacing

    def _run(self):
        backoff = self._initial_backoff
        while not self._closed:
            call = self._call = self._stub.WatchModels(self._request())
            replacing = False
            try:
                for event in call:
                    backoff = self._initial_backoff
                    replacing = self._apply(event, replacing)
                    yield event
                # A stream the server ends without an error is over: so is the watch.
                return
            except grpc.RpcError as e:
                if self._closed:
                    return
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
            finally:
                call.cancel()
            self._sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)


def watch_models(stub, filter="", view=pb.MODEL_VIEW_UNSPECIFIED, resume_token="",
                 known_versions=None, max_backoff=5.0, initial_backoff=0.2, sleep=time.sleep):
    """Watches the models matching `filter` (AIP-160; empty: every model) in `view`
    (pb.MODEL_VIEW_BASIC, or FULL, the default): returns a ModelWatch, an iterator of
    WatchModelsResponse events that reconnects when the stream ends with UNAVAILABLE (a
    server restarting or killed, a lost connection, a replica shutting down).

    It keeps the model_version of every model the events hold and the last resume token, and
    a reconnect sends both. The replica that sent the token replays exactly what was missed;
    any other replica (or one that no longer retains the changes) sends only what differs from
    the versions held: ADDED, CHANGED and REMOVED events, then the marker, with no repeated
    INITIAL events and no resync. A stream without either starts with INITIAL events; one
    whose events have `resync` set replaces everything the caller held.

    `known_versions` ({model id: model_version}, e.g. saved from an earlier watch's
    `known_versions`) and `resume_token` start from what the caller already holds. Any error
    but UNAVAILABLE is raised (INVALID_ARGUMENT for a filter that does not parse or a version
    that is not 16 hexadecimal digits). Stop by leaving the loop and calling close() (or with
    `with`); the stream is cancelled then.
    """
    return ModelWatch(stub, filter=filter, view=view, resume_token=resume_token,
                      known_versions=known_versions, max_backoff=max_backoff,
                      initial_backoff=initial_backoff, sleep=sleep)
