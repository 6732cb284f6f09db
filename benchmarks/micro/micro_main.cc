// catalog-micro-bench: Google Benchmark micro-benchmarks of catalog-server's
// hot paths, on the hub emulator's synthetic catalog, in-process.
//
//   catalog-micro-bench [--models=10000,100000] [--watchers=10000]
//                       [--mutex_deadlock_detection=off] [--benchmark_* flags]
//
// --models picks the catalog sizes (search and the service calls run on the
// largest); --watchers the number of streams of the fan-out benchmark;
// --mutex_deadlock_detection=off turns off abseil's Mutex deadlock detection,
// which an abseil built without NDEBUG (Debian's) runs on every lock. Every
// other flag is Google Benchmark's (--benchmark_filter, --benchmark_format=json, ...).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"

namespace modelcatalog::bench {
int g_watchers = 10000;  // read by feed_bench.cc
}  // namespace modelcatalog::bench

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strncmp(arg, "--models=", 9) == 0) {
      std::vector<int> sizes;
      for (absl::string_view part : absl::StrSplit(arg + 9, ',', absl::SkipEmpty())) {
        int n = 0;
        if (!absl::SimpleAtoi(part, &n) || n < 10) {
          std::fprintf(stderr, "--models: bad size \"%s\"\n", std::string(part).c_str());
          return 2;
        }
        sizes.push_back(n);
      }
      if (sizes.empty()) {
        std::fprintf(stderr, "--models: no size given\n");
        return 2;
      }
      modelcatalog::bench::SetSelectedSizes(sizes);
    } else if (std::strcmp(arg, "--mutex_deadlock_detection=off") == 0) {
      absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    } else if (std::strncmp(arg, "--watchers=", 11) == 0) {
      if (!absl::SimpleAtoi(arg + 11, &modelcatalog::bench::g_watchers) ||
          modelcatalog::bench::g_watchers < 1) {
        std::fprintf(stderr, "--watchers: bad count \"%s\"\n", arg + 11);
        return 2;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) return 2;
  // Benchmarks run in this order. The fan-out goes first, on a heap that holds
  // only the 10,000-model fixture: after the 100,000-model benchmarks it
  // measured up to three times slower, from the allocator's state alone.
  modelcatalog::bench::RegisterFeedBenchmarks();
  modelcatalog::bench::RegisterMetricsBenchmarks();
  modelcatalog::bench::RegisterParseBenchmarks();
  modelcatalog::bench::RegisterSnapshotBenchmarks();
  modelcatalog::bench::RegisterSearchBenchmarks();
  modelcatalog::bench::RegisterServiceBenchmarks();
  modelcatalog::bench::RegisterQueryBenchmarks();
  modelcatalog::bench::RegisterSyncBenchmarks();
  modelcatalog::bench::RegisterMemoryBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
