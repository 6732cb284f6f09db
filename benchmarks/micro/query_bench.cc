// The query language (services/catalog/query) over the generated catalog: what
// the first request of a query costs on a new catalog revision (parse, then
// evaluate the filter on every model or sort every model), and what a page
// costs once the snapshot has memoized the query's result.
#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/query/order.h"
#include "services/catalog/sync/sync_status.h"

namespace modelcatalog::bench {
namespace {

using modelcatalog::v1::ListModelsRequest;

constexpr char kSelectiveFilter[] = R"(capabilities.input:image AND endpoint="/chat/completions")";
constexpr char kPriceFilter[] =
    "pricing.cost_per_image < 0.03 OR (pricing.input_cost_per_token <= 3e-6 AND "
    "NOT deployments.status:error)";
constexpr char kOrder[] = "pricing.input_cost_per_token";

// Parse and evaluate on every model: a query's first request on a revision.
void BM_FilterScan(benchmark::State& state, int models, const char* text) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  size_t matched = 0;
  for (auto _ : state) {
    absl::StatusOr<catalog::Filter> filter = catalog::Filter::Parse(text);
    if (!filter.ok()) {
      state.SkipWithError("the filter does not parse");
      break;
    }
    matched = 0;
    for (size_t i = 0; i < snapshot->size(); ++i) matched += filter->Matches(snapshot->entry(i));
    benchmark::DoNotOptimize(matched);
  }
  state.counters["matches"] = static_cast<double>(matched);
  state.counters["ns_per_model"] = benchmark::Counter(
      static_cast<double>(models),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Parse and sort every model: an ordering's first request on a revision.
void BM_OrderSort(benchmark::State& state, int models) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  std::vector<uint32_t> positions(snapshot->size());
  for (auto _ : state) {
    absl::StatusOr<catalog::Ordering> ordering = catalog::Ordering::Parse(kOrder);
    if (!ordering.ok()) {
      state.SkipWithError("the order does not parse");
      break;
    }
    std::iota(positions.begin(), positions.end(), 0);
    ordering->Sort(*snapshot, &positions);
    benchmark::DoNotOptimize(positions.data());
  }
}

// Every page token of `shape`; "" first.
std::vector<std::string> PageTokens(const catalog::CatalogServiceImpl& impl,
                                    const ListModelsRequest& shape) {
  std::vector<std::string> tokens = {""};
  for (;;) {
    ListModelsRequest request = shape;
    request.set_page_token(tokens.back());
    absl::StatusOr<catalog::ModelPage> page = impl.ListPage(request);
    if (!page.ok() || page->next_page_token.empty()) break;
    tokens.push_back(page->next_page_token);
  }
  return tokens;
}

// A random page of a query the snapshot has memoized, as ListModels serves it
// (positions, then the bytes gRPC sends).
void BM_QueryPage(benchmark::State& state, const catalog::CatalogServiceImpl& impl,
                  const ListModelsRequest& shape) {
  const std::vector<std::string> tokens = PageTokens(impl, shape);
  std::mt19937_64 random(7);
  ListModelsRequest request = shape;
  size_t bytes = 0;
  for (auto _ : state) {
    request.set_page_token(tokens[random() % tokens.size()]);
    absl::StatusOr<catalog::ModelPage> page = impl.ListPage(request);
    if (!page.ok()) {
      state.SkipWithError("ListPage failed");
      break;
    }
    // Sized first, as the gRPC layer writes a page: one allocation.
    size_t size = 0;
    for (uint32_t position : page->positions) {
      size += catalog::ModelSize(page->snapshot->entry(position), page->view) + 6;
    }
    std::string wire;
    wire.reserve(size);
    for (uint32_t position : page->positions) {
      catalog::AppendModel(page->snapshot->entry(position), page->view, &wire);
    }
    bytes += wire.size();
    benchmark::DoNotOptimize(wire.data());
  }
  state.counters["pages"] = static_cast<double>(tokens.size());
  state.counters["response_bytes"] =
      state.iterations() > 0 ? static_cast<double>(bytes) / state.iterations() : 0;
}

struct Service {
  explicit Service(int models) : status("bench"), impl(&store, &status) {
    store.Publish(CatalogSnapshotOf(models));
  }
  catalog::CatalogStore store;
  catalog::SyncStatusRecorder status;
  catalog::CatalogServiceImpl impl;
};

}  // namespace

void RegisterQueryBenchmarks() {
  for (int models : SelectedSizes()) {
    const std::string n = std::to_string(models);
    benchmark::RegisterBenchmark(("Filter::Parse+scan/" + n + "/selective").c_str(), BM_FilterScan,
                                 models, kSelectiveFilter)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Filter::Parse+scan/" + n + "/prices").c_str(), BM_FilterScan,
                                 models, kPriceFilter)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Ordering::Parse+sort/" + n + "/input_price").c_str(),
                                 BM_OrderSort, models)
        ->Unit(benchmark::kMillisecond);
  }
  const int models = LargestSize();
  const std::string n = std::to_string(models);
  struct Shape {
    const char* name;
    const char* filter;
    const char* order_by;
    modelcatalog::v1::ModelView view;
  };
  static const Shape kShapes[] = {
      {"full", "", "", modelcatalog::v1::MODEL_VIEW_FULL},
      {"basic", "", "", modelcatalog::v1::MODEL_VIEW_BASIC},
      {"basic/selective_filter", kSelectiveFilter, "", modelcatalog::v1::MODEL_VIEW_BASIC},
      {"basic/order_by_input_price", "", kOrder, modelcatalog::v1::MODEL_VIEW_BASIC},
  };
  for (const Shape& shape : kShapes) {
    benchmark::RegisterBenchmark(
        ("CatalogServiceImpl::ListPage+write/" + n + "/page:100/" + shape.name).c_str(),
        [models, &shape](benchmark::State& state) {
          static Service* service = new Service(models);  // built once, when first run
          ListModelsRequest request;
          request.set_page_size(100);
          request.set_filter(shape.filter);
          request.set_order_by(shape.order_by);
          request.set_view(shape.view);
          BM_QueryPage(state, service->impl, request);
        })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace modelcatalog::bench
