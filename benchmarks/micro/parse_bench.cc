// Parsing the hub's JSON list into models (clients/hub/model_json.h).
// ParseModelList/N: model by model, as a sync reads the list;
// ParseModelList(all models)/N: into one vector holding every model.
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "clients/hub/model_json.h"

namespace modelcatalog::bench {
namespace {

// As a sync parses: each model handed over as it is read (and dropped here),
// the text parsed in place in a copy, as the fetched body would be.
void BM_ParseModelList(benchmark::State& state, int models) {
  const std::string& json = CatalogJson(models);
  for (auto _ : state) {
    size_t read = 0;
    absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub::ParseModelList(
        json, [&read](const modelcatalog::v1::Model& model) {
          benchmark::DoNotOptimize(&model);
          ++read;
        });
    if (!rejected.ok() || read != static_cast<size_t>(models)) {
      state.SkipWithError("the catalog did not parse whole");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(json.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
  state.counters["json_bytes"] = static_cast<double>(json.size());
}

void BM_ParseModelListAll(benchmark::State& state, int models) {
  const std::string& json = CatalogJson(models);
  for (auto _ : state) {
    absl::StatusOr<hub::ParsedModelList> parsed = hub::ParseModelList(json);
    if (!parsed.ok() || parsed->models.size() != static_cast<size_t>(models)) {
      state.SkipWithError("the catalog did not parse whole");
      break;
    }
    benchmark::DoNotOptimize(parsed->models.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(json.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
}

}  // namespace

void RegisterParseBenchmarks() {
  for (int models : SelectedSizes()) {
    benchmark::RegisterBenchmark(("ParseModelList/" + std::to_string(models)).c_str(),
                                 BM_ParseModelList, models)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("ParseModelList(all models)/" + std::to_string(models)).c_str(),
                                 BM_ParseModelListAll, models)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace modelcatalog::bench
