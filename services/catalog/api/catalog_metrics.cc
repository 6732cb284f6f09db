#include "services/catalog/api/catalog_metrics.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace modelcatalog::catalog {
namespace {

constexpr const char* kRpcNames[] = {"ListModels",      "SearchModels",     "GetModel",
                                     "GetSyncStatus",   "WatchDeployments", "ActivateModel",
                                     "DeactivateModel", "BatchGetModels",   "EstimateCost",
                                     "ValidateRequest", "WatchModels"};
static_assert(sizeof(kRpcNames) / sizeof(kRpcNames[0]) == kRpcCount);
constexpr const char* kSyncOutcomes[] = {"success", "failure", "suspect"};
constexpr const char* kHubEndpoints[] = {"list", "search", "retrieve", "activate", "deactivate"};

constexpr char kHubRequestsName[] = "modelcatalog_hub_requests_total";
constexpr char kHubRequestsHelp[] =
    "Requests to the hub, by endpoint and HTTP status (0: no answer).";

template <size_t N>
size_t IndexOf(const char* const (&names)[N], absl::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return i;
  }
  return N;
}

}  // namespace

CatalogMetrics::CatalogMetrics() {
  // Every (method, code) series exists from the start: the hot path only
  // increments an atomic, never looks a series up.
  for (int r = 0; r < kRpcCount; ++r) {
    for (int c = 0; c < kStatusCodeCount; ++c) {
      calls_[r][c] = registry_.GetCounter(
          "modelcatalog_rpc_calls_total", "Calls handled, by method and status code.",
          {{"method", kRpcNames[r]},
           {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(c))}});
    }
    latency_[r] =
        registry_.GetHistogram("modelcatalog_rpc_latency_seconds",
                               "Time from a call's arrival to its answer, by method "
                               "(for WatchDeployments and WatchModels, the stream's lifetime).",
                               {{"method", kRpcNames[r]}}, metrics::LatencyBounds());
  }
  for (size_t o = 0; o < syncs_.size(); ++o) {
    syncs_[o] =
        registry_.GetCounter("modelcatalog_syncs_total", "Full syncs with the hub, by outcome.",
                             {{"outcome", kSyncOutcomes[o]}});
  }
  sync_duration_ = registry_.GetHistogram(
      "modelcatalog_sync_duration_seconds", "Time a full sync took, retries and applying included.",
      {}, {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120});
  for (size_t e = 0; e < hub_duration_.size(); ++e) {
    hub_duration_[e] = registry_.GetHistogram(
        "modelcatalog_hub_request_duration_seconds", "Time hub requests took, by endpoint.",
        {{"endpoint", kHubEndpoints[e]}}, metrics::LatencyBounds());
    // The statuses a healthy hub answers with, from the start (others appear
    // when first seen).
    for (const char* status : {"200", "0"}) {
      registry_.GetCounter(kHubRequestsName, kHubRequestsHelp,
                           {{"endpoint", kHubEndpoints[e]}, {"status", status}});
    }
  }
}

void CatalogMetrics::RecordCall(Rpc rpc, int code, absl::Duration latency) {
  const int r = static_cast<int>(rpc);
  if (code < 0 || code >= kStatusCodeCount) code = static_cast<int>(absl::StatusCode::kUnknown);
  calls_[r][code]->Increment();
  latency_[r]->Observe(absl::ToDoubleSeconds(latency));
}

void CatalogMetrics::RecordSync(absl::string_view outcome, absl::Duration took) {
  const size_t o = IndexOf(kSyncOutcomes, outcome);
  if (o < syncs_.size()) syncs_[o]->Increment();
  sync_duration_->Observe(absl::ToDoubleSeconds(took));
}

void CatalogMetrics::RecordHubResponse(absl::string_view endpoint, int http_status,
                                       absl::Duration took) {
  registry_
      .GetCounter(kHubRequestsName, kHubRequestsHelp,
                  {{"endpoint", std::string(endpoint)}, {"status", absl::StrCat(http_status)}})
      ->Increment();
  const size_t e = IndexOf(kHubEndpoints, endpoint);
  if (e < hub_duration_.size()) hub_duration_[e]->Observe(absl::ToDoubleSeconds(took));
}

}  // namespace modelcatalog::catalog
