// Where the memory of a catalog goes: the heap in use grows by this much for
// the catalog held as parsed models (which a sync no longer does), then, as a
// sync builds it, for the entries of the parsed models and for the snapshot
// built from them.
// Not a timing: one iteration, figures reported as counters (KiB, and bytes
// per byte of the hub's JSON). The figures count what is allocated, not what
// the allocator keeps resident besides (the server's VmRSS shows that).
#include <malloc.h>

#include <string>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "clients/hub/model_json.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::bench {
namespace {

// Heap bytes in use (small chunks and mmapped blocks). The resident size
// would also count memory freed earlier in this process that the allocator
// still holds, which the next allocations reuse without growing it.
double HeapKib() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd) / 1024;
}

void BM_CatalogMemory(benchmark::State& state, int models) {
  const std::string& json = CatalogJson(models);
  for (auto _ : state) {
    const double base = HeapKib();
    // What the catalog would take held as messages, for comparison: a sync
    // does not hold them (see below).
    double with_models = 0;
    {
      absl::StatusOr<hub::ParsedModelList> parsed = hub::ParseModelList(json);
      if (!parsed.ok()) {
        state.SkipWithError("the catalog did not parse");
        break;
      }
      with_models = HeapKib();
    }
    // As a sync builds it: the models parsed one at a time into the builder's
    // entries, then ordered and indexed into the snapshot.
    catalog::CatalogSnapshot::Builder builder;
    absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub::ParseModelList(
        json, [&builder](const modelcatalog::v1::Model& model) { builder.Add(model); });
    if (!rejected.ok()) {
      state.SkipWithError("the catalog did not parse");
      break;
    }
    const double with_entries = HeapKib();
    std::shared_ptr<const catalog::CatalogSnapshot> snapshot =
        std::move(builder).Build(1, absl::Now());
    const double with_snapshot = HeapKib();
    benchmark::DoNotOptimize(snapshot.get());
    snapshot.reset();
    malloc_trim(0);
    const double json_kib = static_cast<double>(json.size()) / 1024;
    state.counters["json_kib"] = json_kib;
    state.counters["parsed_models_kib"] = with_models - base;
    state.counters["entries_kib"] = with_entries - base;
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
