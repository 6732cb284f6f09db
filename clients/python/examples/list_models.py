#!/usr/bin/env python3
"""Lists the catalog's models, every page, optionally filtered.

    clients/generate.sh python
    PYTHONPATH=clients/python /usr/bin/python3 clients/python/examples/list_models.py \
        --server=localhost:50051 --developer_name=anthropic
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402

import modelcatalog_client as mc  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("CATALOGCTL_SERVER", "localhost:50051"),
                        help="host:port of catalog-server (default: %(default)s)")
    parser.add_argument("--developer_name", default="", help="only this developer's models")
    parser.add_argument("--action", default="", help="only models fine-tunable with this action")
    parser.add_argument("--search", default="", help="search instead of listing")
    args = parser.parse_args()

    with mc.connect(args.server) as channel:
        stub = mc.catalog_stub(channel)
        try:
            if args.search:
                models = mc.iter_search(stub, args.search)
            else:
                models = mc.iter_models(stub, developer_name=args.developer_name,
                                        action=args.action)
            count = 0
            for model in models:
                status = model.deployments[0].status_raw if model.deployments else "-"
                print(f"{model.id:45} {model.display_name:32} {model.model_type_raw:7} {status}")
                count += 1
            print(f"{count} models", file=sys.stderr)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
