#include "services/catalog/sync/live_operations.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace modelcatalog::catalog {

LiveOperations::LiveOperations(CatalogSource* source, const CatalogStore* store,
                               CatalogUpdater* updater, DeploymentPoller* poller,
                               LiveOperationsOptions options)
    : source_(source),
      store_(store),
      updater_(updater),
      poller_(poller),
      runner_(options.threads, options.max_queued) {}

LiveOperations::~LiveOperations() { Stop(); }

void LiveOperations::Stop() {
  runner_.Stop();  // the hub calls in flight answer their callers
  timers_.Stop();
}

absl::Status LiveOperations::CheckLoaded() const {
  if (store_->Current() == nullptr) {
    return absl::UnavailableError(
        "the catalog has not been loaded from the hub yet: retry shortly");
  }
  return absl::OkStatus();
}

void LiveOperations::GetLive(const std::string& id, absl::Time deadline, Done done) {
  if (id.empty()) return done(absl::InvalidArgumentError("id must not be empty"));
  if (absl::Status loaded = CheckLoaded(); !loaded.ok()) return done(loaded);
  if (deadline <= absl::Now()) {
    return done(absl::DeadlineExceededError("the caller's deadline has passed"));
  }
  std::shared_ptr<LiveLookup> lookup;
  bool start = false;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<LiveLookup>& slot = lookups_[id];
    // Join the call in flight, which then lives until this caller's deadline
    // too; unless its deadline has passed (it is ending): then a call of its own.
    if (slot == nullptr || !slot->deadline.ExtendTo(deadline)) {
      slot = std::make_shared<LiveLookup>(id, deadline);
      start = true;
    }
    lookup = slot;
    const uint64_t waiter = next_waiter_++;
    LiveLookup::Waiter& entry = lookup->waiters[waiter];
    entry.done = std::move(done);
    if (deadline != absl::InfiniteFuture()) {
      entry.timer =
          timers_.Schedule(deadline, [this, lookup, waiter] { ExpireWaiter(lookup, waiter); });
    }
  }
  if (!start) return;
  absl::Status posted = runner_.Post([this, lookup] { RunLookup(lookup); });
  if (!posted.ok()) FinishLookup(lookup, posted);
}

void LiveOperations::RunLookup(const std::shared_ptr<LiveLookup>& lookup) {
  const absl::Time asked_at = absl::Now();
  absl::StatusOr<modelcatalog::v1::Model> result = source_->FetchLive(lookup->id, lookup->deadline);
  if (result.ok()) {
    // The caller gets the hub's model as is; the catalog takes its deployments
    // (the rest arrives with the next sync). A model the catalog does not
    // have yet is still what the caller asked for.
    updater_->ApplyLive(*result, asked_at).IgnoreError();
    if (InTransition(*result)) poller_->Track(lookup->id);
  }
  FinishLookup(lookup, result);
}

void LiveOperations::FinishLookup(const std::shared_ptr<LiveLookup>& lookup,
                                  const absl::StatusOr<modelcatalog::v1::Model>& result) {
  std::vector<LiveLookup::Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = lookups_.find(lookup->id);
    if (it != lookups_.end() && it->second == lookup) lookups_.erase(it);
    for (auto& [id, waiter] : lookup->waiters) waiters.push_back(std::move(waiter));
    lookup->waiters.clear();
  }
  for (LiveLookup::Waiter& waiter : waiters) {
    if (waiter.timer != 0) timers_.Cancel(waiter.timer);
    waiter.done(result);
  }
}

void LiveOperations::ExpireWaiter(const std::shared_ptr<LiveLookup>& lookup, uint64_t waiter) {
  Done done;
  {
    absl::MutexLock lock(&mu_);
    auto it = lookup->waiters.find(waiter);
    if (it == lookup->waiters.end()) return;  // answered meanwhile
    done = std::move(it->second.done);
    lookup->waiters.erase(it);
  }
  done(absl::DeadlineExceededError(
      absl::StrCat("the hub did not answer about ", lookup->id, " before the caller's deadline")));
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
  if (absl::Status loaded = CheckLoaded(); !loaded.ok()) return done(loaded);
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  const CatalogEntry* entry = snapshot->Find(id);
  if (entry == nullptr) return done(absl::NotFoundError(absl::StrCat("Model not found: ", id)));
  if (entry->model_type == modelcatalog::v1::MODEL_TYPE_BASE) {
    return done(absl::FailedPreconditionError(
        absl::StrCat(id, " is a base model: base models are always active and cannot be ",
                     which == Switch::kActivate ? "activated" : "deactivated")));
  }
  // Shared so that a task the runner refuses still leaves the callback here.
  auto shared_done = std::make_shared<Done>(std::move(done));
  absl::Status posted = runner_.Post([this, which, id, deadline, shared_done] {
    const absl::Time asked_at = absl::Now();
    // The caller's deadline bounds the hub call: no work for an answer nobody waits for.
    absl::StatusOr<modelcatalog::v1::Model> result = which == Switch::kActivate
                                                         ? source_->Activate(id, deadline)
                                                         : source_->Deactivate(id, deadline);
    if (result.ok()) {
      updater_->ApplyLive(*result, asked_at).IgnoreError();
      poller_->Track(id);
    }
    (*shared_done)(std::move(result));
  });
  if (!posted.ok()) (*shared_done)(posted);
}

}  // namespace modelcatalog::catalog
