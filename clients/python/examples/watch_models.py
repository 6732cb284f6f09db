#!/usr/bin/env python3
"""Watches the catalog's models, keeping what it holds in a file across runs.

    clients/generate.sh python
    PYTHONPATH=clients/python /usr/bin/python3 clients/python/examples/watch_models.py \
        --server=localhost:50051 --filter=capabilities.output:image --versions=held.json

Prints one line per event that changes what it holds (`INITIAL id version`, `ADDED id
version`, `CHANGED id version path...`, `REMOVED id`), and on stderr, at each marker, how many
models it holds. --versions names a JSON file {model id: model_version}: read at the start
(the server then sends only what differs from it), written at each marker and each change
after it, so a second run that finds nothing changed prints nothing on stdout.
--until_current stops at the first marker. Ctrl-C stops.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402

import modelcatalog_client as mc  # noqa: E402


def load_versions(path):
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_versions(path, versions):
    if path:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(versions, f, sort_keys=True)
        os.replace(path + ".tmp", path)


def event_line(event):
    name = mc.pb.WatchEventType.Name(event.type).removeprefix("WATCH_EVENT_TYPE_")
    if event.type == mc.pb.WATCH_EVENT_TYPE_REMOVED:
        return f"{name} {event.model_id}"
    return " ".join([name, event.model_id, event.model_version, *event.changed_fields.paths])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("CATALOGCTL_SERVER", "localhost:50051"),
                        help="host:port of catalog-server, or a list: ipv4:HOST:PORT,HOST:PORT")
    parser.add_argument("--filter", default="", help="only models matching this expression")
    parser.add_argument("--versions", help="JSON file of the versions held, read and written")
    parser.add_argument("--until_current", action="store_true", help="stop at the first marker")
    args = parser.parse_args()

    with mc.connect(args.server) as channel:
        watch = mc.watch_models(mc.catalog_stub(channel), filter=args.filter,
                                known_versions=load_versions(args.versions))
        current = False  # past the first marker: each change is saved as it comes
        try:
            for event in watch:
                if event.type == mc.pb.WATCH_EVENT_TYPE_PROGRESS:
                    continue
                if event.type == mc.pb.WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
                    current = True
                    resync = " (resync)" if event.resync else ""
                    print(f"{len(watch.known_versions)} models held{resync}", file=sys.stderr)
                else:
                    print(event_line(event), flush=True)
                if current:
                    save_versions(args.versions, watch.known_versions)
                if args.until_current and current:
                    return 0
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            watch.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
