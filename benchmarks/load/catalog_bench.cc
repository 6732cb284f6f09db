// catalog-bench: load and latency measurements of a running catalog-server.
// See BENCHMARKS.md for the method; scripts/bench.sh runs it.
//
//   catalog-bench --server=127.0.0.1:PORT --server_pid=PID --hub_url=http://127.0.0.1:HUBPORT
//                 [--scenarios=memory,health,get_model,...] [--json_out=results.jsonl]
//
// Every scenario runs on gRPC's callback client API over several TCP
// connections. Throughput counts OK calls only; every other status is counted
// under its code. Each RPC's throughput is also given as a ratio to
// grpc.health.v1.Health/Check measured in the same run, the figure that is
// compared across machines.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/load/bench_context.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/results.h"
#include "benchmarks/load/scenarios.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "catalog-server's gRPC address, host:port");
ABSL_FLAG(int, server_pid, 0,
          "the server's process id, to read its resident memory and CPU time; 0: not measured");
ABSL_FLAG(std::string, hub_url, "",
          "the hub emulator's root URL (http://host:port), for its control API; needed by the "
          "memory, watch and sync scenarios");
ABSL_FLAG(std::string, label, "run", "names this run in the table and the JSON lines");
ABSL_FLAG(
    std::string, scenarios,
    "memory,health,get_model,list_models,list_models_basic,list_filtered,list_ordered,batch_get,"
    "search_models,search_typo,estimate_cost,estimate_filtered,validate_request,health_latency,"
    "get_model_latency,watch",
    "comma-separated scenarios to run, in this order: memory, health, get_model, "
    "list_models (FULL pages), list_models_basic, list_filtered (--list_filter), list_ordered "
    "(--list_order_by), batch_get (--batch_ids ids), search_models (2-6 characters), "
    "search_typo (two words, one with a typo), estimate_cost (one model), estimate_filtered "
    "(--estimate_filter, first page of 50), validate_request (ten parameters), health_latency, "
    "get_model_latency, watch, watch_models (the same, as WatchModels streams), watch_etcd (the "
    "watch scenario against etcd's watch), sync, "
    "live_during_sync (*_latency: one connection, one call at a time)");
ABSL_FLAG(int, connections, 4, "connections of the closed-loop scenarios");
ABSL_FLAG(int, outstanding, 16, "calls kept outstanding per connection (closed loop)");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "load before each measured window, not counted");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured window of each load scenario");
ABSL_FLAG(int, rounds, 1,
          "times the throughput scenarios (health, get_model, list_models, search_models) run, "
          "interleaved; ratios to Health.Check are the median of the per-round ratios");
ABSL_FLAG(absl::Duration, latency_duration, absl::Seconds(10),
          "measured window of the *_latency scenarios (one connection, one call at a time)");
ABSL_FLAG(int, list_page_size, 100, "page_size of list_models");
ABSL_FLAG(int, search_page_size, 50, "page_size of search_models");
ABSL_FLAG(std::string, estimate_filter, "id = \"gen-image-*\"",
          "filter of estimate_filtered: the generated catalog's base image models, a tenth of it");
ABSL_FLAG(std::string, list_filter, R"(capabilities.input:image AND endpoint="/chat/completions")",
          "list_filtered: the filter of its BASIC pages");
ABSL_FLAG(std::string, list_order_by, "pricing.input_cost_per_token",
          "list_ordered: the order_by of its BASIC pages");
ABSL_FLAG(int, batch_ids, 20, "batch_get: ids per BatchGetModels call, drawn at random");
ABSL_FLAG(int64_t, expect_models, 0,
          "wait until GetSyncStatus reports this many models before starting; 0: until any");
ABSL_FLAG(absl::Duration, wait_timeout, absl::Minutes(5), "how long to wait for the catalog");
ABSL_FLAG(int, watchers, 10000, "watch: WatchDeployments streams to open");
ABSL_FLAG(int, watch_connections, 16,
          "watch: connections the streams are spread over (the server allows "
          "--max_concurrent_streams, 1000 by default, per connection)");
ABSL_FLAG(int, watch_rounds, 3, "watch: deployment status changes to deliver");
ABSL_FLAG(int, watch_client_queues, 0,
          "watch, watch_etcd: completion queues of catalog-bench the streams read on, each "
          "drained by one thread; 0: one per connection");
ABSL_FLAG(std::string, watch_decode, "message",
          "watch, watch_models, watch_etcd: how the client reads each event: 'message' (parsed "
          "into its generated message, as a service would) or 'fields' (only the type and the "
          "watched id or key decoded from the bytes, for every target alike, so the client's "
          "parsing does not stand in for the server's fan-out)");
ABSL_FLAG(std::string, watch_client, "http2",
          "watch, watch_models, watch_etcd: what reads the streams: 'grpc' (gRPC's C++ client, "
          "on completion queues) or 'http2' (catalog-bench's own HTTP/2 reader, one thread, "
          "fields decoded: it spends a fraction of what gRPC's client spends per message, so "
          "the fan-out figures are the server's rather than the client's)");
ABSL_FLAG(std::string, etcd, "",
          "watch_etcd: a running etcd's client address, host:port; empty: catalog-bench starts "
          "one (--etcd_binary) and stops it after the scenario");
ABSL_FLAG(int, etcd_pid, 0, "watch_etcd: the process id of --etcd, to read its memory");
ABSL_FLAG(std::string, etcd_binary, "etcd", "watch_etcd: the etcd to start");
ABSL_FLAG(int, etcd_cpu, -1,
          "watch_etcd: the CPU the started etcd is pinned to (the catalog server's); -1: none");
ABSL_FLAG(std::string, etcd_log, "", "watch_etcd: file for the started etcd's log");
ABSL_FLAG(int, etcd_value_bytes, 80,
          "watch_etcd: size of the value each Put writes; 80 makes etcd's event message the size "
          "of WatchDeployments' CHANGED event of the generated catalog (164 bytes)");
ABSL_FLAG(double, sync_rate, 2000, "sync: GetModel calls per second (open loop)");
ABSL_FLAG(int, sync_connections, 4, "sync: connections the open-loop calls are spread over");
ABSL_FLAG(int, sync_count, 3, "sync: complete syncs to observe under load");
ABSL_FLAG(absl::Duration, sync_max_duration, absl::Seconds(180), "sync: give up after this long");
ABSL_FLAG(int, live_spin_cpu, -1,
          "live_during_sync: the server's CPU, kept busy by a thread at nice 19; -1: not pinned");
ABSL_FLAG(std::string, json_out, "", "append one JSON object per scenario to this file");
ABSL_FLAG(uint64_t, seed, 1, "seed of the random choice of ids, pages and queries");

namespace modelcatalog::bench {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::modelcatalog::v1::BatchGetModelsRequest;
using ::modelcatalog::v1::BatchGetModelsResponse;
using ::modelcatalog::v1::EstimateCostRequest;
using ::modelcatalog::v1::EstimateCostResponse;
using ::modelcatalog::v1::GetModelRequest;
using ::modelcatalog::v1::GetModelResponse;
using ::modelcatalog::v1::ListModelsRequest;
using ::modelcatalog::v1::ListModelsResponse;
using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::SearchModelsRequest;
using ::modelcatalog::v1::SearchModelsResponse;
using ::modelcatalog::v1::ValidateRequestRequest;
using ::modelcatalog::v1::ValidateRequestResponse;

// ---- the calls of the closed-loop scenarios ----
//
// The load calls go through a generic stub with raw request and response
// bytes: the benchmark never parses a response on its hot path, so its own
// cost per call is the same for every RPC, whatever the response holds. (A
// client that parsed 100 models per ListModels page would measure itself.)
// Every 1024th OK response of each slot, and its first, is parsed and
// checked; a wrong one is counted as UNKNOWN, never as a success.

// Checks a response against the request that produced it.
using ResponseCheck = std::function<bool(const std::string& request, const std::string& response)>;

class RawUnaryCall : public SlotCall {
 public:
  RawUnaryCall(grpc::GenericStub* stub, std::string method,
               const std::vector<std::string>* requests, const ResponseCheck* check, uint64_t seed)
      : stub_(stub),
        method_(std::move(method)),
        requests_(requests),
        check_(check),
        random_(seed) {}

  void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) override {
    request_index_ = requests_->size() == 1 ? 0 : random_() % requests_->size();
    const std::string& bytes = (*requests_)[request_index_];
    grpc::Slice slice(bytes);
    request_ = grpc::ByteBuffer(&slice, 1);
    response_.Clear();
    stub_->UnaryCall(context, method_, grpc::StubOptions(), &request_, &response_, std::move(done));
  }

  bool Finished(const grpc::Status& status) override {
    if (!status.ok() || (calls_++ % 1024) != 0) return true;
    std::vector<grpc::Slice> slices;
    if (!response_.Dump(&slices).ok()) return false;
    std::string bytes;
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    const bool ok = (*check_)((*requests_)[request_index_], bytes);
    if (!ok && !reported_) {
      reported_ = true;
      std::fprintf(stderr, "catalog-bench: %s answered OK with a wrong response\n",
                   method_.c_str());
    }
    return ok;
  }

  size_t ResponseBytes() const override { return response_.Length(); }

 private:
  grpc::GenericStub* const stub_;
  const std::string method_;
  const std::vector<std::string>* const requests_;
  const ResponseCheck* const check_;
  std::mt19937_64 random_;
  size_t request_index_ = 0;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  uint64_t calls_ = 0;
  bool reported_ = false;
};

// Serialized requests and the check of their responses, per scenario.
struct RawScenario {
  std::string method;
  std::vector<std::string> requests;
  ResponseCheck check;
};

RawScenario HealthScenario() {
  RawScenario s;
  s.method = "/grpc.health.v1.Health/Check";
  s.requests.push_back(HealthCheckRequest().SerializeAsString());  // service "": the server
  s.check = [](const std::string&, const std::string& bytes) {
    HealthCheckResponse response;
    return response.ParseFromString(bytes) && response.status() == HealthCheckResponse::SERVING;
  };
  return s;
}

RawScenario GetModelScenario(const std::vector<std::string>& ids) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/GetModel";
  for (const std::string& id : ids) {
    GetModelRequest request;
    request.set_id(id);
    s.requests.push_back(request.SerializeAsString());
  }
  s.check = [](const std::string& request_bytes, const std::string& bytes) {
    GetModelRequest request;
    GetModelResponse response;
    return request.ParseFromString(request_bytes) && response.ParseFromString(bytes) &&
           response.model().id() == request.id();
  };
  return s;
}

// The pages of one ListModels query (`shape`: filter, order, view, page size):
// the token of every page, the first being "", and how many models match.
struct QueryPages {
  ListModelsRequest shape;
  std::vector<std::string> tokens;
  int32_t total_size = 0;
};

// A random page of a query: the first page or the page after any other
// page's end, from the tokens collected when the query was read.
RawScenario ListModelsScenario(const QueryPages& pages) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/ListModels";
  for (const std::string& token : pages.tokens) {
    ListModelsRequest request = pages.shape;
    request.set_page_token(token);
    s.requests.push_back(request.SerializeAsString());
  }
  const int page_size = pages.shape.page_size();
  const int32_t total = pages.total_size;
  const bool full = pages.shape.view() == modelcatalog::v1::MODEL_VIEW_FULL;
  s.check = [page_size, total, full](const std::string&, const std::string& bytes) {
    ListModelsResponse response;
    if (!response.ParseFromString(bytes) || response.models_size() == 0) return false;
    if (response.total_size() != total) return false;
    // BASIC leaves out the description and the request schema.
    const auto& first = response.models(0);
    if (!full && (first.has_request_schema() || first.has_description())) return false;
    // Full pages but the last.
    return response.models_size() == page_size ||
           (response.next_page_token().empty() && response.models_size() == total % page_size);
  };
  return s;
}

// `count` BatchGetModels requests of `ids_per_call` random ids each.
RawScenario BatchGetScenario(const std::vector<std::string>& ids, int ids_per_call, size_t count,
                             uint64_t seed) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/BatchGetModels";
  std::mt19937_64 random(seed);
  for (size_t i = 0; i < count; ++i) {
    BatchGetModelsRequest request;
    for (int j = 0; j < ids_per_call; ++j) request.add_ids(ids[random() % ids.size()]);
    s.requests.push_back(request.SerializeAsString());
  }
  s.check = [](const std::string& request_bytes, const std::string& bytes) {
    BatchGetModelsRequest request;
    BatchGetModelsResponse response;
    if (!request.ParseFromString(request_bytes) || !response.ParseFromString(bytes) ||
        response.models_size() != request.ids_size()) {
      return false;
    }
    for (int i = 0; i < request.ids_size(); ++i) {
      if (response.models(i).id() != request.ids(i)) return false;
    }
    return true;
  };
  return s;
}

RawScenario SearchModelsScenario(const std::vector<std::string>& queries, int page_size) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/SearchModels";
  for (const std::string& query : queries) {
    SearchModelsRequest request;
    request.set_query(query);
    request.set_page_size(page_size);
    s.requests.push_back(request.SerializeAsString());
  }
  // Every query is made of some model's words: it finds at least one.
  s.check = [](const std::string&, const std::string& bytes) {
    SearchModelsResponse response;
    return response.ParseFromString(bytes) && response.models_size() > 0;
  };
  return s;
}

// EstimateCost of one model, a random one of `ids` each call, for a usage
// that every pricing method bills. Models whose prices are null at the hub
// (the generated "chat-lite" ones) cannot be priced: they are not asked.
RawScenario EstimateCostScenario(const std::vector<std::string>& ids) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/EstimateCost";
  for (const std::string& id : ids) {
    if (absl::StrContains(id, "chat-lite")) continue;
    EstimateCostRequest request;
    request.add_model_ids(id);
    modelcatalog::v1::Usage* usage = request.mutable_usage();
    usage->set_input_tokens(1000000);
    usage->set_output_tokens(200000);
    usage->set_seconds(12.5);
    usage->set_images(2);
    usage->set_video_output_seconds(10);
    s.requests.push_back(request.SerializeAsString());
  }
  s.check = [](const std::string& request_bytes, const std::string& bytes) {
    EstimateCostRequest request;
    EstimateCostResponse response;
    return request.ParseFromString(request_bytes) && response.ParseFromString(bytes) &&
           response.estimates_size() == 1 &&
           response.estimates(0).model_id() == request.model_ids(0) &&
           !response.estimates(0).total().empty();
  };
  return s;
}

// EstimateCost over a filter, the first page of `page_size`, cheapest first.
RawScenario EstimateFilteredScenario(const std::string& filter, int page_size) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/EstimateCost";
  EstimateCostRequest request;
  request.set_filter(filter);
  request.mutable_usage()->set_images(1);
  request.set_page_size(page_size);
  s.requests.push_back(request.SerializeAsString());
  s.check = [page_size](const std::string&, const std::string& bytes) {
    EstimateCostResponse response;
    return response.ParseFromString(bytes) &&
           response.estimates_size() == std::min(page_size, response.total_size());
  };
  return s;
}

// ValidateRequest of a typical chat request, ten parameters as a Struct,
// against the generated chat models' schema (prompt, temperature and the
// eight of ChatParameters in the hub emulator's generator), which the first
// call of each model compiles.
RawScenario ValidateRequestScenario(const std::vector<std::string>& ids) {
  RawScenario s;
  s.method = "/modelcatalog.v1.ModelCatalogService/ValidateRequest";
  for (const std::string& id : ids) {
    // The generated chat models with a schema: gen-chat-NNNNNN with NNNNNN a multiple of 30.
    int index = 0;
    if (!absl::StartsWith(id, "gen-chat-") || !absl::SimpleAtoi(id.substr(9), &index) ||
        index % 3 != 0) {
      continue;
    }
    ValidateRequestRequest request;
    request.set_model_id(id);
    auto& fields = *request.mutable_parameters()->mutable_fields();
    fields["prompt"].set_string_value("Write a haiku about the sea at night.");
    fields["temperature"].set_number_value(0.7);
    fields["top_p"].set_number_value(0.9);
    fields["max_tokens"].set_number_value(512);
    fields["presence_penalty"].set_number_value(0);
    fields["frequency_penalty"].set_number_value(0.5);
    fields["n"].set_number_value(1);
    fields["seed"].set_number_value(42);
    fields["stream"].set_bool_value(false);
    auto* stop = fields["stop"].mutable_list_value();
    stop->add_values()->set_string_value("\n\n");
    s.requests.push_back(request.SerializeAsString());
  }
  s.check = [](const std::string&, const std::string& bytes) {
    ValidateRequestResponse response;
    return response.ParseFromString(bytes) && response.valid() && response.notes().empty();
  };
  return s;
}

// ---- set-up ----

// Byte offsets at which the UTF-8 code points of `text` start, and its size.
std::vector<size_t> CodePointStarts(const std::string& text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  return starts;
}

// The words of `text` as a person sees them: runs of letters and digits
// (any byte of a multi-byte code point counts as a letter).
std::vector<std::string> WordsOf(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    const bool part =
        std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
    if (part) {
      word.push_back(c);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// `count` queries of 2 to 6 characters (code points), lengths equally likely,
// as a person types them: the start of a word of a random model's id or
// display name ("gen", "custo", "0012"), or the whole word when it is shorter.
std::vector<std::string> MakeQueries(const CatalogSample& catalog, size_t count, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::string> queries;
  while (queries.size() < count) {
    const size_t model = random() % catalog.ids.size();
    const std::string& text = random() % 2 == 0 ? catalog.ids[model] : catalog.display_names[model];
    const std::vector<std::string> words = WordsOf(text);
    if (words.empty()) continue;
    const std::string& word = words[random() % words.size()];
    const std::vector<size_t> starts = CodePointStarts(word);
    const size_t code_points = starts.size() - 1;
    const size_t length = std::min<size_t>(2 + random() % 5, code_points);
    if (length < 2) continue;
    queries.push_back(word.substr(0, starts[length]));
  }
  return queries;
}

// `count` queries of two neighbouring words of a random model's display name
// or id, one of them (of four to seven letters, so one edit is allowed) with
// a typo: two neighbours swapped, a letter dropped or a letter doubled
// ("genreated chat", "custom imge").
std::vector<std::string> MakeTypoQueries(const CatalogSample& catalog, size_t count,
                                         uint64_t seed) {
  std::mt19937_64 random(seed);
  const auto letters_only = [](const std::string& w) {
    return std::all_of(w.begin(), w.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
  };
  std::vector<std::string> queries;
  for (size_t attempts = 0; queries.size() < count && attempts < count * 100; ++attempts) {
    const size_t model = random() % catalog.ids.size();
    const std::string& text = random() % 2 == 0 ? catalog.display_names[model] : catalog.ids[model];
    std::vector<std::string> words = WordsOf(text);
    if (words.size() < 2) continue;
    const size_t first = random() % (words.size() - 1);
    const size_t typo = first + random() % 2;
    std::string& word = words[typo];
    if (word.size() < 4 || word.size() > 7 || !letters_only(word)) continue;
    const size_t at = 1 + random() % (word.size() - 2);  // never the first letter
    // A dropped letter must leave four: no typo is allowed in a shorter term.
    switch (random() % (word.size() > 4 ? 3 : 2)) {
      case 0:
        std::swap(word[at], word[at + 1]);
        break;
      case 1:
        word.insert(at, 1, word[at]);
        break;
      default:
        word.erase(at, 1);
        break;
    }
    queries.push_back(words[first] + " " + words[first + 1]);
  }
  return queries;
}

bool WaitForCatalog(BenchContext& context, int64_t expect, absl::Duration timeout) {
  auto stub = ModelCatalogService::NewStub(context.control);
  auto health = Health::NewStub(context.control);
  const absl::Time deadline = absl::Now() + timeout;
  int64_t last_count = -1;
  while (absl::Now() < deadline) {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    modelcatalog::v1::GetSyncStatusResponse status;
    grpc::Status result = stub->GetSyncStatus(&call, {}, &status);
    if (result.ok()) {
      last_count = status.model_count();
      grpc::ClientContext health_call;
      HealthCheckResponse serving;
      const bool up = health->Check(&health_call, {}, &serving).ok() &&
                      serving.status() == HealthCheckResponse::SERVING;
      if (up && status.revision() > 0 && (expect == 0 || status.model_count() == expect)) {
        return true;
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  std::fprintf(stderr, "catalog-bench: the server did not load %lld models in %s (it has %lld)\n",
               static_cast<long long>(expect), absl::FormatDuration(timeout).c_str(),
               static_cast<long long>(last_count));
  return false;
}

// Reads the whole catalog page by page: ids, display names, the page tokens
// list_models draws from, and the custom models the watch scenario can use.
bool ReadCatalog(BenchContext& context, int page_size) {
  auto stub = ModelCatalogService::NewStub(context.control);
  CatalogSample& catalog = context.catalog;
  std::string token;
  do {
    catalog.page_tokens.push_back(token);
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    ListModelsRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    ListModelsResponse response;
    grpc::Status status = stub->ListModels(&call, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "catalog-bench: ListModels failed while reading the catalog: %s %s\n",
                   StatusCodeName(status.error_code()), status.error_message().c_str());
      return false;
    }
    for (const auto& model : response.models()) {
      catalog.ids.push_back(model.id());
      catalog.display_names.push_back(model.display_name());
      if (model.model_type_raw() == "custom" && model.deployments_size() > 0) {
        const std::string& status_raw = model.deployments(0).status_raw();
        if (status_raw != "deploying" && status_raw != "deactivating") {
          catalog.custom_ids.push_back(model.id());
          catalog.custom_statuses.push_back(status_raw);
        }
      }
    }
    token = response.next_page_token();
  } while (!token.empty());
  // The last page carries no token, so every collected token opens a page with models.
  grpc::ClientContext call;
  modelcatalog::v1::GetSyncStatusResponse status;
  if (stub->GetSyncStatus(&call, {}, &status).ok()) catalog.revision = status.revision();
  return !catalog.ids.empty();
}

// Pages through `shape` to the end, keeping each page's token.
bool ReadQueryPages(BenchContext& context, QueryPages* pages) {
  auto stub = ModelCatalogService::NewStub(context.control);
  std::string token;
  do {
    pages->tokens.push_back(token);
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    ListModelsRequest request = pages->shape;
    request.set_page_token(token);
    ListModelsResponse response;
    grpc::Status status = stub->ListModels(&call, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "catalog-bench: ListModels{%s} failed: %s %s\n",
                   pages->shape.ShortDebugString().c_str(), StatusCodeName(status.error_code()),
                   status.error_message().c_str());
      return false;
    }
    if (response.models_size() == 0) {
      std::fprintf(stderr, "catalog-bench: ListModels{%s} matches no model\n",
                   pages->shape.ShortDebugString().c_str());
      return false;
    }
    pages->total_size = response.total_size();
    token = response.next_page_token();
  } while (!token.empty());
  return true;
}

ScenarioResult RunUnary(BenchContext& context, const std::string& name, const std::string& rpc,
                        size_t connections, int outstanding, absl::Duration duration,
                        const SlotCallFactory& factory) {
  std::fprintf(stderr, "catalog-bench: %s (%zu connections x %d outstanding, %s)...\n",
               name.c_str(), connections, outstanding, absl::FormatDuration(duration).c_str());
  ClosedLoopOptions options;
  options.connections = connections;
  options.outstanding_per_connection = outstanding;
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.duration = duration;
  options.server_pid = context.server_pid;
  ScenarioResult result = RunClosedLoop(options, factory);
  result.name = name;
  result.rpc = rpc;
  return result;
}

// Merges the rounds of one throughput scenario: calls, codes and latencies
// of every round together; CPU averaged; the ratio to Health.Check is the
// median of the per-round ratios (round i against health's round i), and the
// CPU-normalized ratio compares OK calls per CPU-second of the server.
ScenarioResult MergeRounds(std::vector<ScenarioResult>& rounds,
                           std::vector<ScenarioResult>* health) {
  ScenarioResult merged;
  merged.name = rounds.front().name;
  merged.rpc = rounds.front().rpc;
  merged.connections = rounds.front().connections;
  merged.outstanding = rounds.front().outstanding;
  double server_cpu_seconds = 0, client_cpu_seconds = 0;
  bool server_known = true, client_known = true;
  std::vector<double> per_round_rates, per_round_ratios;
  double response_bytes = 0;
  for (size_t i = 0; i < rounds.size(); ++i) {
    ScenarioResult& r = rounds[i];
    merged.seconds += r.seconds;
    for (int c = 0; c < kStatusCodes; ++c) merged.codes[c] += r.codes[c];
    merged.latencies.Append(r.latencies);
    server_known = server_known && r.server_cpu >= 0;
    client_known = client_known && r.client_cpu >= 0;
    server_cpu_seconds += r.server_cpu * r.seconds;
    client_cpu_seconds += r.client_cpu * r.seconds;
    per_round_rates.push_back(r.ok_per_second());
    for (const auto& [key, value] : r.extra) {
      if (key == "response_bytes_per_call") response_bytes += std::stod(value) * r.ok();
    }
    if (health != nullptr && i < health->size() && (*health)[i].ok() > 0) {
      per_round_ratios.push_back(r.ok_per_second() / (*health)[i].ok_per_second());
    }
  }
  if (server_known && merged.seconds > 0) merged.server_cpu = server_cpu_seconds / merged.seconds;
  if (client_known && merged.seconds > 0) merged.client_cpu = client_cpu_seconds / merged.seconds;
  for (const auto& [key, value] : rounds.front().extra) {
    if (key != "response_bytes_per_call") merged.extra.emplace_back(key, value);
  }
  if (merged.ok() > 0) merged.AddExtra("response_bytes_per_call", response_bytes / merged.ok());
  merged.AddExtra("rounds", static_cast<int64_t>(rounds.size()));
  std::string rates = "[";
  for (size_t i = 0; i < per_round_rates.size(); ++i) {
    absl::StrAppend(&rates, i ? "," : "", absl::StrFormat("%.0f", per_round_rates[i]));
  }
  merged.extra.emplace_back("ok_per_second_by_round", rates + "]");
  if (!per_round_ratios.empty()) {
    std::sort(per_round_ratios.begin(), per_round_ratios.end());
    const size_t n = per_round_ratios.size();
    merged.ratio_to_health = n % 2 ? per_round_ratios[n / 2]
                                   : (per_round_ratios[n / 2 - 1] + per_round_ratios[n / 2]) / 2;
  }
  // OK calls per CPU-second of the server, against Health.Check's: the cost
  // ratio, steadier than throughput when the server's core is shared.
  if (health != nullptr && server_known && server_cpu_seconds > 0) {
    double health_ok = 0, health_cpu = 0;
    for (const ScenarioResult& h : *health) {
      health_ok += h.ok();
      health_cpu += h.server_cpu * h.seconds;
    }
    if (health_ok > 0 && health_cpu > 0) {
      merged.AddExtra("ok_per_server_cpu_second", merged.ok() / server_cpu_seconds);
      merged.AddExtra("cpu_normalized_ratio_to_health",
                      (merged.ok() / server_cpu_seconds) / (health_ok / health_cpu));
    }
  }
  return merged;
}

// The streams, connections, rounds and reader of every watch scenario alike.
WatchOptions WatchOptionsFromFlags() {
  WatchOptions options;
  options.watchers = absl::GetFlag(FLAGS_watchers);
  options.connections = absl::GetFlag(FLAGS_watch_connections);
  options.rounds = absl::GetFlag(FLAGS_watch_rounds);
  options.client_queues = absl::GetFlag(FLAGS_watch_client_queues);
  options.decode_fields = absl::GetFlag(FLAGS_watch_decode) == "fields";
  options.client =
      absl::GetFlag(FLAGS_watch_client) == "http2" ? WatchClient::kHttp2 : WatchClient::kGrpc;
  return options;
}

EtcdWatchOptions EtcdWatchOptionsFromFlags() {
  EtcdWatchOptions options;
  options.watch = WatchOptionsFromFlags();
  options.address = absl::GetFlag(FLAGS_etcd);
  options.pid = absl::GetFlag(FLAGS_etcd_pid);
  options.process.binary = absl::GetFlag(FLAGS_etcd_binary);
  options.process.cpu = absl::GetFlag(FLAGS_etcd_cpu);
  options.process.log_path = absl::GetFlag(FLAGS_etcd_log);
  options.value_bytes = static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_etcd_value_bytes)));
  return options;
}

// Prints and writes the results; the exit code.
int Report(std::vector<ScenarioResult>& results, bool unknown) {
  const std::string label = absl::GetFlag(FLAGS_label);
  PrintTable(label, results);
  PrintExtras(results);
  const std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (!json_out.empty() && !AppendJsonLines(json_out, label, results)) {
    std::fprintf(stderr, "catalog-bench: cannot write %s\n", json_out.c_str());
    return 1;
  }

  int exit_code = unknown ? 2 : 0;
  for (const ScenarioResult& r : results) {
    if (!r.rpc.empty() && r.ok() == 0) {
      std::fprintf(stderr, "catalog-bench: scenario %s had no successful call\n", r.name.c_str());
      exit_code = 1;
    }
  }
  return exit_code;
}

int Run() {
  BenchContext context;
  context.server = absl::GetFlag(FLAGS_server);
  context.server_pid = absl::GetFlag(FLAGS_server_pid);
  if (!absl::GetFlag(FLAGS_hub_url).empty()) {
    context.hub = std::make_unique<HubControl>(absl::GetFlag(FLAGS_hub_url));
  }
  const std::vector<std::string> scenarios =
      absl::StrSplit(absl::GetFlag(FLAGS_scenarios), ',', absl::SkipEmpty());
  const int connections = absl::GetFlag(FLAGS_connections);
  const int outstanding = absl::GetFlag(FLAGS_outstanding);
  if (connections < 1 || outstanding < 1) {
    std::fprintf(stderr, "catalog-bench: --connections and --outstanding must be at least 1\n");
    return 2;
  }

  // etcd's watch alone needs no catalog-server.
  if (scenarios == std::vector<std::string>{"watch_etcd"}) {
    std::vector<ScenarioResult> results = {RunEtcdWatchScenario(EtcdWatchOptionsFromFlags())};
    return Report(results, false);
  }

  context.control = MakeConnection(context.server, 1 << 20);
  if (!Connect(context.control, absl::Seconds(30))) {
    std::fprintf(stderr, "catalog-bench: cannot connect to %s\n", context.server.c_str());
    return 1;
  }
  if (!WaitForCatalog(context, absl::GetFlag(FLAGS_expect_models),
                      absl::GetFlag(FLAGS_wait_timeout))) {
    return 1;
  }
  const int list_page_size = absl::GetFlag(FLAGS_list_page_size);
  const absl::Time read_start = absl::Now();
  if (!ReadCatalog(context, list_page_size)) return 1;
  std::fprintf(stderr, "catalog-bench: read %zu models (%zu pages of %d) in %s\n",
               context.catalog.ids.size(), context.catalog.page_tokens.size(), list_page_size,
               absl::FormatDuration(absl::Now() - read_start).c_str());
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const std::vector<std::string> queries = MakeQueries(context.catalog, 10000, seed);
  const std::vector<std::string> typo_queries = MakeTypoQueries(context.catalog, 10000, seed);

  for (int i = 0; i < connections; ++i) {
    context.channels.push_back(MakeConnection(context.server, i));
    if (!Connect(context.channels.back(), absl::Seconds(30))) {
      std::fprintf(stderr, "catalog-bench: connection %d did not connect\n", i);
      return 1;
    }
  }
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_stubs;
  for (const auto& channel : context.channels) {
    generic_stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
  }

  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int search_page_size = absl::GetFlag(FLAGS_search_page_size);
  std::map<std::string, RawScenario> raw;
  raw["health"] = HealthScenario();
  raw["get_model"] = GetModelScenario(context.catalog.ids);
  raw["get_model_latency"] = raw["get_model"];
  raw["health_latency"] = raw["health"];
  raw["search_models"] = SearchModelsScenario(queries, search_page_size);
  raw["search_typo"] = SearchModelsScenario(typo_queries, search_page_size);
  raw["estimate_cost"] = EstimateCostScenario(context.catalog.ids);
  raw["estimate_filtered"] = EstimateFilteredScenario(absl::GetFlag(FLAGS_estimate_filter), 50);
  raw["validate_request"] = ValidateRequestScenario(context.catalog.ids);
  raw["batch_get"] =
      BatchGetScenario(context.catalog.ids, absl::GetFlag(FLAGS_batch_ids), 10000, seed);
  // The list scenarios: each query's pages are read once, before any load.
  std::map<std::string, QueryPages> list_queries;
  {
    ListModelsRequest shape;
    shape.set_page_size(list_page_size);
    shape.set_view(modelcatalog::v1::MODEL_VIEW_FULL);
    list_queries["list_models"].shape = shape;
    shape.set_view(modelcatalog::v1::MODEL_VIEW_BASIC);
    list_queries["list_models_basic"].shape = shape;
    shape.set_filter(absl::GetFlag(FLAGS_list_filter));
    list_queries["list_filtered"].shape = shape;
    shape.clear_filter();
    shape.set_order_by(absl::GetFlag(FLAGS_list_order_by));
    list_queries["list_ordered"].shape = shape;
  }
  for (auto& [name, pages] : list_queries) {
    if (std::find(scenarios.begin(), scenarios.end(), name) == scenarios.end()) continue;
    if (!ReadQueryPages(context, &pages)) return 1;
    std::fprintf(stderr, "catalog-bench: %s: %zu pages, %d models match {%s}\n", name.c_str(),
                 pages.tokens.size(), pages.total_size, pages.shape.ShortDebugString().c_str());
    raw[name] = ListModelsScenario(pages);
  }
  // One closed-loop scenario, once.
  const auto run_raw = [&](const std::string& scenario) {
    const RawScenario& load = raw.at(scenario);
    const bool latency = absl::EndsWith(scenario, "_latency");
    ScenarioResult result = RunUnary(
        context, scenario, load.method.substr(1), latency ? 1 : connections,
        latency ? 1 : outstanding, latency ? absl::GetFlag(FLAGS_latency_duration) : duration,
        [&](size_t c, uint64_t s) {
          return std::make_unique<RawUnaryCall>(generic_stubs[c].get(), load.method, &load.requests,
                                                &load.check, seed * 1000003 + s);
        });
    if (list_queries.count(scenario)) {
      const QueryPages& pages = list_queries.at(scenario);
      result.AddExtra("page_size", static_cast<int64_t>(list_page_size));
      result.AddExtra("pages", static_cast<int64_t>(pages.tokens.size()));
      result.AddExtra("matches", static_cast<int64_t>(pages.total_size));
      result.AddExtraString(
          "view", pages.shape.view() == modelcatalog::v1::MODEL_VIEW_FULL ? "FULL" : "BASIC");
      if (!pages.shape.filter().empty()) result.AddExtraString("filter", pages.shape.filter());
      if (!pages.shape.order_by().empty()) {
        result.AddExtraString("order_by", pages.shape.order_by());
      }
    } else if (scenario == "batch_get") {
      result.AddExtra("ids_per_call", static_cast<int64_t>(absl::GetFlag(FLAGS_batch_ids)));
    } else if (scenario == "search_models" || scenario == "search_typo") {
      const std::vector<std::string>& asked = scenario == "search_models" ? queries : typo_queries;
      result.AddExtra("page_size", static_cast<int64_t>(search_page_size));
      result.AddExtra("queries", static_cast<int64_t>(asked.size()));
      result.AddExtra(
          "distinct_queries",
          static_cast<int64_t>(std::set<std::string>(asked.begin(), asked.end()).size()));
    }
    return result;
  };
  const auto progress = [](ScenarioResult& r) {
    if (r.rpc.empty()) return;
    std::fprintf(stderr, "catalog-bench: %s: %.0f ok/s, p50 %.1f us, p99 %.1f us, %llu failed\n",
                 r.name.c_str(), r.ok_per_second(), r.latencies.PercentileMicros(0.5),
                 r.latencies.PercentileMicros(0.99), static_cast<unsigned long long>(r.failed()));
  };

  // The throughput scenarios (health and the closed-loop RPCs) run as one
  // block, where the first of them is listed, `--rounds` times over,
  // interleaved: every RPC is measured close in time to Health.Check, so a
  // machine whose other load drifts during the run skews them alike. Each
  // ratio to Health.Check is the median of the per-round ratios.
  const std::vector<std::string> throughput_names = {
      "health",        "get_model",     "list_models",       "list_models_basic",
      "list_filtered", "list_ordered",  "batch_get",         "search_models",
      "search_typo",   "estimate_cost", "estimate_filtered", "validate_request"};
  std::vector<std::string> block;
  for (const std::string& scenario : scenarios) {
    if (std::find(throughput_names.begin(), throughput_names.end(), scenario) !=
        throughput_names.end()) {
      block.push_back(scenario);
    }
  }
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));

  std::vector<ScenarioResult> results;
  bool unknown = false, block_done = false;
  for (const std::string& scenario : scenarios) {
    if (scenario == "memory") {
      results.push_back(RunMemoryScenario(context));
    } else if (std::find(block.begin(), block.end(), scenario) != block.end()) {
      if (block_done) continue;
      block_done = true;
      std::map<std::string, std::vector<ScenarioResult>> runs;
      for (int round = 0; round < rounds; ++round) {
        for (const std::string& name : block) {
          runs[name].push_back(run_raw(name));
          progress(runs[name].back());
        }
      }
      for (const std::string& name : block) {
        ScenarioResult merged =
            MergeRounds(runs[name], runs.count("health") ? &runs["health"] : nullptr);
        results.push_back(std::move(merged));
      }
      continue;
    } else if (raw.count(scenario)) {
      results.push_back(run_raw(scenario));
    } else if (scenario == "watch" || scenario == "watch_models") {
      results.push_back(RunWatchScenario(
          context, WatchOptionsFromFlags(),
          scenario == "watch" ? WatchMethod::kWatchDeployments : WatchMethod::kWatchModels));
    } else if (scenario == "watch_etcd") {
      results.push_back(RunEtcdWatchScenario(EtcdWatchOptionsFromFlags()));
    } else if (scenario == "sync") {
      SyncOptions options;
      options.rate = absl::GetFlag(FLAGS_sync_rate);
      options.connections = static_cast<size_t>(absl::GetFlag(FLAGS_sync_connections));
      options.syncs = absl::GetFlag(FLAGS_sync_count);
      options.warmup = absl::GetFlag(FLAGS_warmup);
      options.max_duration = absl::GetFlag(FLAGS_sync_max_duration);
      for (ScenarioResult& r : RunSyncScenario(context, options)) results.push_back(std::move(r));
    } else if (scenario == "live_during_sync") {
      LiveDuringSyncOptions options;
      options.spin_cpu = absl::GetFlag(FLAGS_live_spin_cpu);
      options.syncs = absl::GetFlag(FLAGS_sync_count);
      options.warmup = absl::GetFlag(FLAGS_warmup);
      options.max_duration = absl::GetFlag(FLAGS_sync_max_duration);
      for (ScenarioResult& r : RunLiveDuringSyncScenario(context, options)) {
        results.push_back(std::move(r));
      }
    } else {
      std::fprintf(stderr, "catalog-bench: unknown scenario \"%s\"\n", scenario.c_str());
      unknown = true;
      continue;
    }
    progress(results.back());
  }

  return Report(results, unknown);
}

}  // namespace
}  // namespace modelcatalog::bench

int main(int argc, char** argv) {
  // As in catalog-server: Debian's abseil tracks every mutex acquisition for
  // deadlock detection, and gRPC's locks are abseil's. Left on, the client
  // would spend a share of every event it reads on that bookkeeping, the same
  // share whichever server it measures, and hide the servers' difference.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "Measures a running catalog-server: throughput and latency per RPC, as ratios to "
      "Health.Check; memory; watch fan-out; latency during a sync. See BENCHMARKS.md.");
  absl::ParseCommandLine(argc, argv);
  const std::string decode = absl::GetFlag(FLAGS_watch_decode);
  if (decode != "message" && decode != "fields") {
    std::fprintf(stderr, "catalog-bench: --watch_decode must be message or fields, not '%s'\n",
                 decode.c_str());
    return 2;
  }
  const std::string client = absl::GetFlag(FLAGS_watch_client);
  if (client != "grpc" && client != "http2") {
    std::fprintf(stderr, "catalog-bench: --watch_client must be grpc or http2, not '%s'\n",
                 client.c_str());
    return 2;
  }
  return modelcatalog::bench::Run();
}
