// The service logic behind the RPCs (CatalogServiceImpl), without gRPC: a
// List page of 100, GetModel, SearchModels; each on random inputs.
//
// Two families:
// - ListModels / GetModel / SearchModels fill response messages.
// - ListPage / FindModel / SearchPage, where the service has them, answer with
//   positions in a snapshot, for a gRPC layer that writes each model's stored
//   serialization instead of copying messages. They are detected at compile
//   time, so these benchmarks build against either shape of the service.
#include <random>
#include <type_traits>
#include <utility>

#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/sync/sync_status.h"

namespace modelcatalog::bench {
namespace {

using modelcatalog::v1::GetModelRequest;
using modelcatalog::v1::ListModelsRequest;
using modelcatalog::v1::SearchModelsRequest;

template <typename T, typename = void>
struct HasPageApi : std::false_type {};
template <typename T>
struct HasPageApi<T, std::void_t<decltype(std::declval<const T&>().ListPage(
                                     std::declval<const ListModelsRequest&>())),
                                 decltype(std::declval<const T&>().FindModel(
                                     std::declval<const GetModelRequest&>())),
                                 decltype(std::declval<const T&>().SearchPage(
                                     std::declval<const SearchModelsRequest&>()))>>
    : std::true_type {};

// A service over the generated catalog of `models` models.
struct Service {
  explicit Service(int models) : status("bench"), impl(&store, &status) {
    store.Publish(CatalogSnapshotOf(models));
  }
  catalog::CatalogStore store;
  catalog::SyncStatusRecorder status;
  catalog::CatalogServiceImpl impl;
};

// Every page token of the unfiltered list at `page_size`; "" first.
std::vector<std::string> PageTokens(const catalog::CatalogServiceImpl& impl, int page_size) {
  std::vector<std::string> tokens = {""};
  for (;;) {
    ListModelsRequest request;
    request.set_page_size(page_size);
    request.set_page_token(tokens.back());
    modelcatalog::v1::ListModelsResponse response;
    if (!impl.ListModels(request, &response).ok() || response.next_page_token().empty()) break;
    tokens.push_back(response.next_page_token());
  }
  return tokens;
}

void BM_ListModels(benchmark::State& state, int models, int page_size) {
  Service service(models);
  const std::vector<std::string> tokens = PageTokens(service.impl, page_size);
  std::mt19937_64 random(3);
  ListModelsRequest request;
  request.set_page_size(page_size);
  for (auto _ : state) {
    request.set_page_token(tokens[random() % tokens.size()]);
    modelcatalog::v1::ListModelsResponse response;
    if (!service.impl.ListModels(request, &response).ok()) {
      state.SkipWithError("ListModels failed");
      break;
    }
    benchmark::DoNotOptimize(response.models_size());
  }
}

// ListModels and the serialization gRPC then does of its response.
void BM_ListModelsSerialized(benchmark::State& state, int models, int page_size) {
  Service service(models);
  const std::vector<std::string> tokens = PageTokens(service.impl, page_size);
  std::mt19937_64 random(3);
  ListModelsRequest request;
  request.set_page_size(page_size);
  size_t bytes = 0;
  for (auto _ : state) {
    request.set_page_token(tokens[random() % tokens.size()]);
    modelcatalog::v1::ListModelsResponse response;
    if (!service.impl.ListModels(request, &response).ok()) {
      state.SkipWithError("ListModels failed");
      break;
    }
    std::string wire = response.SerializeAsString();
    bytes += wire.size();
    benchmark::DoNotOptimize(wire.data());
  }
  state.counters["response_bytes"] =
      state.iterations() > 0 ? static_cast<double>(bytes) / state.iterations() : 0;
}

void BM_GetModel(benchmark::State& state, int models) {
  Service service(models);
  const std::vector<modelcatalog::v1::Model>& all = CatalogModels(models);
  std::mt19937_64 random(5);
  GetModelRequest request;
  for (auto _ : state) {
    request.set_id(all[random() % all.size()].id());
    modelcatalog::v1::GetModelResponse response;
    if (!service.impl.GetModel(request, &response).ok()) {
      state.SkipWithError("GetModel failed");
      break;
    }
    benchmark::DoNotOptimize(response.model().id().data());
  }
}

void BM_SearchModels(benchmark::State& state, int models, int page_size) {
  Service service(models);
  const std::vector<std::string> queries = WordStartQueries(CatalogModels(models), 1000, 0, 11);
  SearchModelsRequest request;
  request.set_page_size(page_size);
  size_t next = 0;
  for (auto _ : state) {
    request.set_query(queries[next++ % queries.size()]);
    modelcatalog::v1::SearchModelsResponse response;
    if (!service.impl.SearchModels(request, &response).ok()) {
      state.SkipWithError("SearchModels failed");
      break;
    }
    benchmark::DoNotOptimize(response.models_size());
  }
}

// The position-returning calls, when the service has them.
template <typename Impl>
void BM_Pages(benchmark::State& state, const Impl& impl, int models, int which) {
  if constexpr (HasPageApi<Impl>::value) {
    const std::vector<std::string> tokens = PageTokens(impl, 100);
    const std::vector<std::string> queries = WordStartQueries(CatalogModels(models), 1000, 0, 11);
    const std::vector<modelcatalog::v1::Model>& all = CatalogModels(models);
    std::mt19937_64 random(9);
    ListModelsRequest list;
    list.set_page_size(100);
    SearchModelsRequest search;
    search.set_page_size(50);
    GetModelRequest get;
    size_t next = 0;
    for (auto _ : state) {
      bool ok = false;
      if (which == 0) {
        list.set_page_token(tokens[random() % tokens.size()]);
        auto page = impl.ListPage(list);
        ok = page.ok();
        benchmark::DoNotOptimize(&page);
      } else if (which == 1) {
        get.set_id(all[random() % all.size()].id());
        auto found = impl.FindModel(get);
        ok = found.ok();
        benchmark::DoNotOptimize(&found);
      } else {
        search.set_query(queries[next++ % queries.size()]);
        auto page = impl.SearchPage(search);
        ok = page.ok();
        benchmark::DoNotOptimize(&page);
      }
      if (!ok) {
        state.SkipWithError("the call failed");
        break;
      }
    }
  } else {
    state.SkipWithError("this CatalogServiceImpl has no ListPage/FindModel/SearchPage");
  }
}

template <typename Impl>
void RegisterPageBenchmarks(int models) {
  if constexpr (HasPageApi<Impl>::value) {
    const std::string n = std::to_string(models);
    const char* names[] = {"ListPage", "FindModel", "SearchPage"};
    const char* suffix[] = {"/page:100", "", "/chars:2-6/page:50"};
    for (int which = 0; which < 3; ++which) {
      benchmark::RegisterBenchmark(
          (std::string("CatalogServiceImpl::") + names[which] + "/" + n + suffix[which]).c_str(),
          [models, which](benchmark::State& state) {
            static Service* service = new Service(models);  // built once, when first run
            BM_Pages<Impl>(state, service->impl, models, which);
          })
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

void RegisterServiceBenchmarks() {
  const int models = LargestSize();
  const std::string n = std::to_string(models);
  benchmark::RegisterBenchmark(("CatalogServiceImpl::ListModels/" + n + "/page:100").c_str(),
                               BM_ListModels, models, 100)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(
      ("CatalogServiceImpl::ListModels+Serialize/" + n + "/page:100").c_str(),
      BM_ListModelsSerialized, models, 100)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(("CatalogServiceImpl::GetModel/" + n).c_str(), BM_GetModel, models)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(
      ("CatalogServiceImpl::SearchModels/" + n + "/chars:2-6/page:50").c_str(), BM_SearchModels,
      models, 50)
      ->Unit(benchmark::kMicrosecond);
  RegisterPageBenchmarks<catalog::CatalogServiceImpl>(models);
}

}  // namespace modelcatalog::bench
