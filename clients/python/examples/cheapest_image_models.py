#!/usr/bin/env python3
"""Prints the three cheapest image models: one ListModels call that filters, orders and pages.

    clients/generate.sh python
    PYTHONPATH=clients/python /usr/bin/python3 clients/python/examples/cheapest_image_models.py \
        --server=localhost:50051

Prints one line per model (id, price per image, display name), cheapest first, ties in id
order, and on stderr how many image models the catalog has.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402

import modelcatalog_client as mc  # noqa: E402

# Models that produce images, whatever their pricing method; models without a price per image
# come last in this order.
IMAGE_MODELS = "capabilities.output:image"
BY_PRICE = "pricing.cost_per_image"


def cheapest_image_models(stub, count=3, timeout=10):
    """The first page of the image models in price order: a ListModelsResponse with `count`
    models in BASIC view (no description or request schema) and `total_size` image models."""
    return stub.ListModels(
        mc.pb.ListModelsRequest(filter=IMAGE_MODELS, order_by=BY_PRICE, page_size=count,
                                view=mc.pb.MODEL_VIEW_BASIC),
        timeout=timeout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("CATALOGCTL_SERVER", "localhost:50051"),
                        help="host:port of catalog-server (default: %(default)s)")
    parser.add_argument("--count", type=int, default=3, help="how many models (default: 3)")
    args = parser.parse_args()

    with mc.connect(args.server) as channel:
        try:
            response = cheapest_image_models(mc.catalog_stub(channel), args.count)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    for model in response.models:
        price = (f"{model.pricing.cost_per_image:g}"
                 if model.pricing.HasField("cost_per_image") else "-")
        print(f"{model.id:45} {price:8} {model.display_name}")
    print(f"{len(response.models)} of {response.total_size} image models", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
