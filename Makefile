# model-catalog: the two commands of the Quick start, and the steps behind them.
#   make run    install what is missing, build, start the service on its embedded default
#   make test   install what is missing, build, run every test
#   make bench  build, then the measurements of BENCHMARKS.md (BENCH_QUICK=1: a short smoke run)
#   make clients | chart | image   the shipping checks CI runs (image: as root, with buildah)
#   make api-compat                buf breaking: proto/ against the base on main and the last tag
BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)

.PHONY: all deps configure build test run bench clients chart image lint api-compat clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

run: build
	scripts/run.sh $(BUILD_DIR)

# The peers measured beside the project (scripts/install-deps.sh --bench) are found when
# the build is configured again.
bench: deps
	@scripts/install-deps.sh --bench
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)
	scripts/bench.sh $(BUILD_DIR)

clients: build
	MODEL_CATALOG_BIN_DIR=$(BUILD_DIR)/bin scripts/ci/clients.sh

chart:
	scripts/ci/helm.sh

image:
	scripts/ci/image.sh

lint: deps
	npx --no-install buf lint

api-compat: deps
	scripts/ci/api-compat.sh

clean:
	rm -rf $(BUILD_DIR)
