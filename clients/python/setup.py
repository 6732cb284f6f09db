"""Builds the modelcatalog-client distribution (pyproject.toml holds its metadata).

The stubs are generated from proto/ while the package is built (generate_stubs.py) and go into
the wheel with the shared service config; the version is the project's, from VERSION.
Built from the repository, offline:

    pip wheel --no-deps --no-build-isolation clients/python -w dist/
"""

import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the build backend runs this file without its folder on the path

import generate_stubs  # noqa: E402
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def project_version():
    with open(os.path.join(REPO, "VERSION"), encoding="utf-8") as f:
        return f.read().strip()


class BuildWithStubs(build_py):
    """build_py, plus the generated stubs and the service config beside the package."""

    def run(self):
        super().run()
        package = os.path.join(self.build_lib, "modelcatalog_client")
        generate_stubs.generate(os.path.join(package, "_gen"))
        shutil.copyfile(os.path.join(REPO, "clients", "service_config.json"),
                        os.path.join(package, "service_config.json"))


setup(version=project_version(), cmdclass={"build_py": BuildWithStubs})
