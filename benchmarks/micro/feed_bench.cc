// Fanning one model change out to many watch streams (ChangeFeed), as
// WatchDeployments and WatchModels streams.
// The streams' transport is a no-op that takes each event at once: what is
// measured is the feed and the streams' own work, publish to last event built.
#include <algorithm>
#include <atomic>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/watch/change_feed.h"
#include "services/catalog/watch/deployments_projection.h"
#include "services/catalog/watch/models_projection.h"

namespace modelcatalog::bench {
extern int g_watchers;  // micro_main.cc
namespace {

using catalog::Deployments;
using catalog::ModelChange;

// Which watch method the streams are.
enum class Method { kWatchDeployments, kWatchModels };

std::unique_ptr<catalog::WatchProjection> ProjectionOf(Method method, const std::string& id) {
  if (method == Method::kWatchDeployments) {
    return std::make_unique<catalog::DeploymentsProjection>(std::vector<std::string>{id});
  }
  auto filter = catalog::Filter::Parse("id = \"" + id + "\"");
  return *catalog::ModelsProjection::Create(*std::move(filter), modelcatalog::v1::MODEL_VIEW_FULL,
                                            {});
}

// A stream whose client reads everything at once: a write is taken as soon as
// Complete() is called.
class InstantStream : public catalog::WatchSink {
 public:
  explicit InstantStream(std::unique_ptr<catalog::WatchProjection> projection) : stream_(this) {
    stream_.SetProjection(std::move(projection));
  }

  catalog::WatchStream* watch() { return &stream_; }

  // Completes the write in flight; false when there is none.
  bool Complete() {
    if (!in_flight_.exchange(false, std::memory_order_acq_rel)) return false;
    stream_.OnEventWritten(true);
    return true;
  }
  void CompleteAll() {
    while (Complete()) {
    }
  }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }

 private:
  void StartEventWrite(catalog::EncodedEvent event) override {
    written_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.store(true, std::memory_order_release);
  }
  void FinishStream(const absl::Status& status) override {}

  catalog::WatchStream stream_;
  std::atomic<bool> in_flight_{false};
  std::atomic<uint64_t> written_{0};
};

Deployments WithStatus(const Deployments& base, const std::string& status) {
  Deployments deployments = base;
  if (deployments.empty()) deployments.Add();
  for (auto& deployment : deployments) {
    deployment.set_status_raw(status);
    deployment.set_status(status == "error" ? modelcatalog::v1::DEPLOYMENT_STATUS_ERROR
                                            : modelcatalog::v1::DEPLOYMENT_STATUS_ACTIVE);
  }
  return deployments;
}

// `watchers` streams of `method`, each watching one model; every stream
// watches the changed model, so each iteration delivers `watchers` events.
void BM_FanOut(benchmark::State& state, Method method, int models, int watchers) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  // A custom model with a deployment, from the middle of the catalog.
  const std::vector<modelcatalog::v1::Model>& models_in = CatalogModels(models);
  size_t position = models_in.size() / 2;
  while (models_in[position].deployments().empty()) ++position;
  const modelcatalog::v1::Model& model = models_in[position];

  catalog::ChangeFeed feed;
  feed.Publish(snapshot, {});
  std::vector<std::unique_ptr<InstantStream>> streams;
  for (int i = 0; i < watchers; ++i) {
    streams.push_back(std::make_unique<InstantStream>(ProjectionOf(method, model.id())));
    if (!feed.Subscribe(streams.back()->watch(), "").ok()) {
      state.SkipWithError("Subscribe failed");
      return;
    }
    streams.back()->CompleteAll();  // the INITIAL event and the marker
  }
  modelcatalog::v1::Model changed = model;
  *changed.mutable_deployments() = WithStatus(model.deployments(), "error");
  const std::shared_ptr<const catalog::CatalogEntry> error = catalog::MakeEntry(changed);
  *changed.mutable_deployments() = WithStatus(model.deployments(), "active");
  const std::shared_ptr<const catalog::CatalogEntry> active = catalog::MakeEntry(changed);
  bool to_error = true;
  uint64_t before = 0;
  for (const auto& stream : streams) before += stream->written();
  for (auto _ : state) {
    ModelChange change;
    change.kind = ModelChange::Kind::kChanged;
    change.model_id = model.id();
    change.observed_at = absl::Now();
    change.before_entry = to_error ? active : error;
    change.after_entry = to_error ? error : active;
    to_error = !to_error;
    std::vector<ModelChange> changes;
    changes.push_back(std::move(change));
    feed.Publish(snapshot, std::move(changes));
    for (const auto& stream : streams) stream->CompleteAll();
  }
  uint64_t after = 0;
  for (const auto& stream : streams) after += stream->written();
  state.counters["events_per_iteration"] =
      state.iterations() > 0 ? static_cast<double>(after - before) / state.iterations() : 0;
  state.SetItemsProcessed(static_cast<int64_t>(after - before));
  for (const auto& stream : streams) feed.Unsubscribe(stream->watch());
}

}  // namespace

void RegisterFeedBenchmarks() {
  const int models = *std::min_element(SelectedSizes().begin(), SelectedSizes().end());
  const std::string watchers = std::to_string(g_watchers);
  benchmark::RegisterBenchmark(("ChangeFeed::Publish+deliver/watchers:" + watchers).c_str(),
                               BM_FanOut, Method::kWatchDeployments, models, g_watchers)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark(
      ("ChangeFeed::Publish+deliver/WatchModels/watchers:" + watchers).c_str(), BM_FanOut,
      Method::kWatchModels, models, g_watchers)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace modelcatalog::bench
