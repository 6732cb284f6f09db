#!/usr/bin/env python3
"""Generates the package's message and service stubs from proto/ into a folder.

    generate_stubs.py OUT_DIR      writes OUT_DIR/modelcatalog/v1/*_pb2*.py and
                                   OUT_DIR/grpc/health/v1/health_pb2*.py, importable as
                                   modelcatalog_client._gen.<...>

Used by the build of the distribution (setup.py, into the wheel) and by clients/generate.sh
(into modelcatalog_client/_gen, for running from the repository). Needs the protos
(MODEL_CATALOG_PROTO_DIR, default the repository's proto/), the standard health proto
(MODEL_CATALOG_GRPC_PROTO_DIR, default /usr/share/grpc-proto: Debian's grpc-proto) and a
compiler: protoc with grpc_python_plugin (Debian's protobuf-compiler and
protobuf-compiler-grpc), or where protoc is missing grpc_tools (python3-grpc-tools).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.environ.get("MODEL_CATALOG_PROTO_DIR",
                           os.path.normpath(os.path.join(HERE, "..", "..", "proto")))
GRPC_PROTO_DIR = os.environ.get("MODEL_CATALOG_GRPC_PROTO_DIR", "/usr/share/grpc-proto")
PROTOS = ["modelcatalog/v1/model.proto", "modelcatalog/v1/catalog_service.proto"]
HEALTH_PROTO = "grpc/health/v1/health.proto"
PACKAGE = "modelcatalog_client._gen"


def _compile(out_dir):
    args = ["-I", PROTO_DIR, "-I", GRPC_PROTO_DIR, f"--python_out={out_dir}", *PROTOS,
            HEALTH_PROTO]
    plugin = shutil.which("grpc_python_plugin")
    if shutil.which("protoc") is not None and plugin is not None:
        subprocess.run(["protoc", f"--plugin=protoc-gen-grpc={plugin}", f"--grpc_out={out_dir}",
                        *args], check=True)
        return
    try:
        from grpc_tools import protoc  # noqa: PLC0415: the fallback where protoc is missing
    except ImportError:
        raise RuntimeError("generating the stubs needs protoc with grpc_python_plugin "
                           "(protobuf-compiler, protobuf-compiler-grpc) or grpc_tools "
                           "(python3-grpc-tools)") from None
    # The first argument is the program's name.
    if protoc.main(["protoc", f"--grpc_python_out={out_dir}", *args]) != 0:
        raise RuntimeError("grpc_tools.protoc failed")


def generate(out_dir):
    """Writes the stubs into out_dir (replaced whole), with imports inside PACKAGE."""
    for path in (os.path.join(PROTO_DIR, PROTOS[0]), os.path.join(GRPC_PROTO_DIR, HEALTH_PROTO)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found (MODEL_CATALOG_PROTO_DIR, "
                                    "MODEL_CATALOG_GRPC_PROTO_DIR)")
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".gen-")
    try:
        _compile(tmp)
        # The compiler writes absolute imports of the proto packages
        # (`from modelcatalog.v1 import ...`); inside this package they live under PACKAGE.
        imports = re.compile(r"^from (modelcatalog|grpc\.health)\.v1 import ", re.MULTILINE)
        for root, _, files in os.walk(tmp):
            with open(os.path.join(root, "__init__.py"), "w", encoding="utf-8") as f:
                f.write('"""Generated from proto/ by generate_stubs.py: do not edit."""\n'
                        if root == tmp else "")
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(imports.sub(rf"from {PACKAGE}.\1.v1 import ", text))
        shutil.rmtree(out_dir, ignore_errors=True)
        os.rename(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    generate(sys.argv[1])
