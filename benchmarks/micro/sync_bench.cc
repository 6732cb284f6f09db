// The sync pipeline, fetch excluded: parse the hub's list into a
// CatalogSnapshot::Builder, model by model, then CatalogUpdater::ApplySync (build the snapshot and
// its indexes, diff against the catalog served, publish: swap and feed), as one step. The catalog
// served is the previous iteration's, which differs in one model, so every
// iteration publishes a new revision.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "clients/hub/model_json.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/watch/change_feed.h"

namespace modelcatalog::bench {
namespace {

// The catalog with the first description edited.
std::string Edited(const std::string& json) {
  std::string edited = json;
  const std::string from = "for scale tests.";
  const size_t at = edited.find(from);
  if (at != std::string::npos) edited.replace(at, from.size(), "for scale tests!");
  return edited;
}

// `changes`: each sync finds one model edited (the catalog's description of
// it), or the catalog as served, the common case between two hub edits.
void BM_SyncPipeline(benchmark::State& state, int models, bool changes) {
  const std::string& original = CatalogJson(models);
  const std::string edited = Edited(original);
  catalog::CatalogStore store;
  catalog::ChangeFeed feed;
  catalog::CatalogUpdater updater(&store, {&feed});
  {
    absl::StatusOr<hub::ParsedModelList> first = hub::ParseModelList(original);
    updater.ApplySync(std::move(first->models), absl::Now());
  }
  bool use_edited = true;
  for (auto _ : state) {
    // As the server syncs: each model parsed goes straight into the builder.
    // Parsing in place consumes a copy of the text, as the fetched body would be.
    catalog::CatalogSnapshot::Builder builder(store.Current());
    absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub::ParseModelList(
        use_edited && changes ? edited : original,
        [&builder](const modelcatalog::v1::Model& model) { builder.Add(model); });
    use_edited = !use_edited;
    if (!rejected.ok()) {
      state.SkipWithError("the catalog did not parse");
      break;
    }
    const catalog::CatalogUpdater::SyncResult result =
        updater.ApplySync(std::move(builder), absl::Now());
    if (result.changed != changes || result.model_count != static_cast<size_t>(models)) {
      state.SkipWithError(changes ? "the sync was not applied" : "an unchanged sync published");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
}

// ApplySync alone: the models are already parsed (copying them is not timed).
void BM_ApplySync(benchmark::State& state, int models) {
  const std::vector<modelcatalog::v1::Model>& parsed = CatalogModels(models);
  std::vector<modelcatalog::v1::Model> edited = parsed;
  edited.front().set_description(edited.front().description() + " (edited)");
  catalog::CatalogStore store;
  catalog::ChangeFeed feed;
  catalog::CatalogUpdater updater(&store, {&feed});
  updater.ApplySync(parsed, absl::Now());
  bool use_edited = true;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<modelcatalog::v1::Model> input = use_edited ? edited : parsed;
    use_edited = !use_edited;
    state.ResumeTiming();
    const catalog::CatalogUpdater::SyncResult result =
        updater.ApplySync(std::move(input), absl::Now());
    if (!result.changed) {
      state.SkipWithError("the sync was not applied");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
}

}  // namespace

void RegisterSyncBenchmarks() {
  for (int models : SelectedSizes()) {
    const std::string n = std::to_string(models);
    benchmark::RegisterBenchmark(("SyncPipeline(parse+ApplySync)/" + n).c_str(), BM_SyncPipeline,
                                 models, /*changes=*/true)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("SyncPipeline(parse+ApplySync)/unchanged/" + n).c_str(),
                                 BM_SyncPipeline, models, /*changes=*/false)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("CatalogUpdater::ApplySync/" + n).c_str(), BM_ApplySync, models)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace modelcatalog::bench
