// Where the resident memory of a catalog goes: the process's RSS grows by
// this much for the parsed models, then for a snapshot built from them.
// Not a timing: one iteration, figures reported as counters (KiB, and bytes
// per byte of the hub's JSON). glibc's malloc_trim returns freed memory to
// the system between steps, so each figure is what is still held.
#include <malloc.h>

#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "clients/hub/model_json.h"
#include "services/catalog/catalog_snapshot.h"

namespace modelcatalog::bench {
namespace {

double RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

void BM_CatalogMemory(benchmark::State& state, int models) {
  const std::string& json = CatalogJson(models);
  for (auto _ : state) {
    malloc_trim(0);
    const double base = RssKib();
    absl::StatusOr<hub::ParsedModelList> parsed = hub::ParseModelList(json);
    if (!parsed.ok()) {
      state.SkipWithError("the catalog did not parse");
      break;
    }
    malloc_trim(0);
    const double with_models = RssKib();
    std::shared_ptr<const catalog::CatalogSnapshot> snapshot =
        catalog::CatalogSnapshot::Build(std::move(parsed->models), 1, absl::Now());
    parsed->models.clear();
    parsed->models.shrink_to_fit();
    malloc_trim(0);
    const double with_snapshot = RssKib();
    benchmark::DoNotOptimize(snapshot.get());
    snapshot.reset();
    malloc_trim(0);
    const double json_kib = static_cast<double>(json.size()) / 1024;
    state.counters["json_kib"] = json_kib;
    state.counters["parsed_models_kib"] = with_models - base;
    state.counters["snapshot_kib"] = with_snapshot - base;
    state.counters["snapshot_over_json"] = (with_snapshot - base) / json_kib;
    state.counters["snapshot_bytes_per_model"] = (with_snapshot - base) * 1024 / models;
  }
}

}  // namespace

void RegisterMemoryBenchmarks() {
  for (int models : SelectedSizes()) {
    benchmark::RegisterBenchmark(("CatalogMemory/" + std::to_string(models)).c_str(),
                                 BM_CatalogMemory, models)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace modelcatalog::bench
