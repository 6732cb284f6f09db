// The hub emulator's request handling: the hub's /api/ai model API, and the
// /_control API tests use to shape what it serves (see README.md). Transport
// free: HubEmulator::Handle maps one http::HttpRequest to one response, so the
// logic is tested without sockets and served by http::HttpServer.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_EMULATOR_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_EMULATOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "services/hub_emulator/catalog.h"
#include "services/hub_emulator/http/http_message.h"

namespace modelcatalog {
namespace hub_emulator {

struct HubEmulatorOptions {
  // The only bearer key /api/ai accepts; empty means no authentication.
  std::string api_key;
  // How long activation (deploying -> active) and deactivation
  // (deactivating -> inactive) take.
  absl::Duration deploy_delay = absl::Seconds(3);
  // The time source for those transitions; absl::Now when empty. Tests inject
  // a fake clock to step through a lifecycle without sleeping.
  std::function<absl::Time()> clock;
};

// The /api/ai endpoints, as counted by /_control/stats and matched by faults.
enum class Endpoint { kList, kSearch, kRetrieve, kActivate, kDeactivate };

class HubEmulator {
 public:
  HubEmulator(std::vector<CatalogModel> initial_catalog, HubEmulatorOptions options);

  HubEmulator(const HubEmulator&) = delete;
  HubEmulator& operator=(const HubEmulator&) = delete;

  // Serves one request; thread-safe.
  http::HttpResponse Handle(const http::HttpRequest& request);

 private:
  enum class FaultKind {
    kHttpError,
    kRateLimit,
    kMalformedJson,
    kWrongShape,
    kEmptyBody,
    kTruncated,
    kSlow,
    kHang,
    kEndlessBody,
    kHugeBody,
  };
  struct Fault {
    FaultKind kind = FaultKind::kHttpError;
    std::string name;       // as given: "http_error", ...
    std::string endpoint;   // "any" or an endpoint name
    int64_t remaining = 1;  // requests it still applies to
    int status = 500;
    std::string message;
    int64_t retry_after_seconds = 1;
    int64_t delay_ms = 0;
    int64_t content_length = 0;  // announced by huge_body
  };
  // A pending lifecycle step: at `deadline`, every deployment of the model
  // gets `status`.
  struct Transition {
    absl::Time deadline;
    std::string status;
  };
  struct RequestCounts {
    int64_t list = 0;
    int64_t search = 0;
    int64_t retrieve = 0;
    int64_t retrieve_live = 0;
    int64_t activate = 0;
    int64_t deactivate = 0;
  };

  absl::Time Now() const;

  http::HttpResponse HandleApi(const http::HttpRequest& request,
                               const std::vector<std::string>& segments);
  http::HttpResponse HandleControl(const http::HttpRequest& request,
                                   const std::vector<std::string>& segments);
  // The /api/ai response without faults.
  http::HttpResponse ServeEndpoint(Endpoint endpoint, const http::HttpRequest& request,
                                   const std::string& id);
  http::HttpResponse List(const http::HttpRequest& request);
  http::HttpResponse Search(const http::HttpRequest& request);
  http::HttpResponse Retrieve(const std::string& id);
  http::HttpResponse ChangeActivation(const std::string& id, bool activate);
  http::HttpResponse FaultResponse(const Fault& fault, Endpoint endpoint);
  static absl::StatusOr<Fault> ParseFault(absl::string_view body);
  // Makes `response` a body that never ends, of the endpoint's shape.
  void EndlessBodyLocked(Endpoint endpoint, http::HttpResponse* response) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Control API operations.
  http::HttpResponse PutModel(const std::string& id, absl::string_view body);
  http::HttpResponse PatchModel(const std::string& id, absl::string_view body);
  http::HttpResponse DeleteModel(const std::string& id);
  http::HttpResponse SetStatus(const std::string& id, absl::string_view body);
  http::HttpResponse ReplaceCatalog(absl::string_view body);

  // Completes every transition whose deadline has passed. Called before any
  // read of the catalog, which makes the flip visible to every request made
  // after the deadline without timers.
  void ApplyDueTransitionsLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Parses model `index`, lets `edit` change it, and stores the result.
  absl::Status EditModelLocked(size_t index, const std::function<void(rapidjson::Document&)>& edit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RebuildIndexLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const CatalogModel* FindLocked(const std::string& id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Takes one use of the first queued fault matching `endpoint`.
  bool TakeFaultLocked(Endpoint endpoint, Fault* fault) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string StatsJsonLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string FaultsJsonLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const HubEmulatorOptions options_;
  // The catalog at start-up, restored by /_control/reset. Immutable.
  const std::vector<CatalogModel> initial_catalog_;

  // One mutex guards all state. It is never held while a response is delayed
  // or hangs: those happen in the HTTP server after Handle() returns.
  mutable absl::Mutex mu_;
  std::vector<CatalogModel> models_ ABSL_GUARDED_BY(mu_);                // catalog order
  absl::flat_hash_map<std::string, size_t> index_ ABSL_GUARDED_BY(mu_);  // id -> models_ index
  absl::flat_hash_map<std::string, Transition> transitions_ ABSL_GUARDED_BY(mu_);  // by id
  std::deque<Fault> faults_ ABSL_GUARDED_BY(mu_);
  RequestCounts counts_ ABSL_GUARDED_BY(mu_);
  // Hung requests (the `hang` fault) whose client closed the connection.
  int64_t hangs_abandoned_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_EMULATOR_H_
