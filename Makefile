# model-catalog: the two commands of the Quick start, and the steps behind them.
#   make run    install what is missing, build, start the service on its embedded default
#   make test   install what is missing, build, run every test
#   make bench  build, then the measurements of BENCHMARKS.md (BENCH_QUICK=1: a short smoke run)
BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)

.PHONY: all deps configure build test run bench lint clean

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

bench: build
	scripts/bench.sh $(BUILD_DIR)

lint: deps
	npx --no-install buf lint

clean:
	rm -rf $(BUILD_DIR)
