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

The message and service stubs are generated from proto/ by clients/generate.sh into
`modelcatalog_client._gen` and re-exported here as `pb` (messages) and `pb_grpc`
(stubs); `health_pb` and `health_pb_grpc` are the standard gRPC health protocol.
Needs grpcio and protobuf (Debian: python3-grpcio, python3-protobuf).
"""

import collections
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
    "SERVICE_CONFIG", "batch_get_models", "catalog_stub", "connect", "health_pb", "health_pb_grpc",
    "iter_models", "iter_search", "model_pb", "pb", "pb_grpc", "wait_for_serving", "watch",
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
