#include "services/catalog/sync/live_operations.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/catalog/api/request_limits.h"

namespace modelcatalog::catalog {

LiveOperations::LiveOperations(CatalogSource* source, const CatalogStore* store,
                               CatalogUpdater* updater, DeploymentPoller* poller, int threads)
    : source_(source), store_(store), updater_(updater), poller_(poller), runner_(threads) {}

LiveOperations::~LiveOperations() { Stop(); }

absl::Status LiveOperations::CheckLoaded() const {
  if (store_->Current() == nullptr) {
    return absl::UnavailableError(
        "the catalog has not been loaded from the hub yet: retry shortly");
  }
  return absl::OkStatus();
}

void LiveOperations::GetLive(const std::string& id, Done done) {
  if (id.empty()) return done(absl::InvalidArgumentError("id must not be empty"));
  if (absl::Status s = CheckLength("id", id, kMaxIdBytes); !s.ok()) return done(s);
  if (absl::Status loaded = CheckLoaded(); !loaded.ok()) return done(loaded);
  {
    absl::MutexLock lock(&mu_);
    auto [it, first] = waiting_.try_emplace(id);
    it->second.push_back(std::move(done));
    if (!first) return;  // a hub call for this model is already on its way
  }
  runner_.Post([this, id] {
    const absl::Time asked_at = absl::Now();
    absl::StatusOr<modelcatalog::v1::Model> result = source_->FetchLive(id, absl::InfiniteFuture());
    if (result.ok()) {
      // The caller gets the hub's model as is; the catalog takes its deployments
      // (the rest arrives with the next sync). A model the catalog does not
      // have yet is still what the caller asked for.
      updater_->ApplyLive(*result, asked_at).IgnoreError();
      if (InTransition(*result)) poller_->Track(id);
    }
    std::vector<Done> callers;
    {
      absl::MutexLock lock(&mu_);
      callers = std::move(waiting_[id]);
      waiting_.erase(id);
    }
    for (Done& caller : callers) caller(result);
  });
}

void LiveOperations::Activate(const std::string& id, absl::Time deadline, Done done) {
  SwitchDeployment(Switch::kActivate, id, deadline, std::move(done));
}

void LiveOperations::Deactivate(const std::string& id, absl::Time deadline, Done done) {
  SwitchDeployment(Switch::kDeactivate, id, deadline, std::move(done));
}

void LiveOperations::SwitchDeployment(Switch which, const std::string& id, absl::Time deadline,
                                      Done done) {
  if (id.empty()) return done(absl::InvalidArgumentError("id must not be empty"));
  if (absl::Status s = CheckLength("id", id, kMaxIdBytes); !s.ok()) return done(s);
  if (absl::Status loaded = CheckLoaded(); !loaded.ok()) return done(loaded);
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  const CatalogEntry* entry = snapshot->Find(id);
  if (entry == nullptr) return done(absl::NotFoundError(absl::StrCat("Model not found: ", id)));
  if (entry->model_type == modelcatalog::v1::MODEL_TYPE_BASE) {
    return done(absl::FailedPreconditionError(
        absl::StrCat(id, " is a base model: base models are always active and cannot be ",
                     which == Switch::kActivate ? "activated" : "deactivated")));
  }
  runner_.Post([this, which, id, deadline, done = std::move(done)] {
    const absl::Time asked_at = absl::Now();
    // The caller's deadline bounds the hub call: no work for an answer nobody waits for.
    absl::StatusOr<modelcatalog::v1::Model> result = which == Switch::kActivate
                                                         ? source_->Activate(id, deadline)
                                                         : source_->Deactivate(id, deadline);
    if (result.ok()) {
      updater_->ApplyLive(*result, asked_at).IgnoreError();
      poller_->Track(id);
    }
    done(std::move(result));
  });
}

}  // namespace modelcatalog::catalog
