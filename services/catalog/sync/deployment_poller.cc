#include "services/catalog/sync/deployment_poller.h"

#include <algorithm>

#include "services/common/log.h"

namespace modelcatalog::catalog {

bool InTransition(const Deployments& deployments) {
  for (const auto& deployment : deployments) {
    if (deployment.status() == modelcatalog::v1::DEPLOYMENT_STATUS_DEPLOYING ||
        deployment.status() == modelcatalog::v1::DEPLOYMENT_STATUS_DEACTIVATING) {
      return true;
    }
  }
  return false;
}

DeploymentPoller::DeploymentPoller(CatalogSource* source, const CatalogStore* store,
                                   CatalogUpdater* updater, DeploymentPollerOptions options)
    : source_(source), store_(store), updater_(updater), options_(std::move(options)) {}

DeploymentPoller::~DeploymentPoller() { Stop(); }

void DeploymentPoller::Track(const std::string& id) {
  absl::MutexLock lock(&mu_);
  tracked_until_[id] = options_.clock() + options_.track_for;
}

std::vector<std::string> DeploymentPoller::Due() {
  std::vector<std::string> due;
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) return due;
  const absl::Time now = options_.clock();
  absl::MutexLock lock(&mu_);
  for (auto it = tracked_until_.begin(); it != tracked_until_.end();) {
    const CatalogEntry* entry = snapshot->Find(it->first);
    if (entry == nullptr || (now >= it->second && !InTransition(entry->deployments))) {
      tracked_until_.erase(it++);  // gone, or settled after its grace period
      continue;
    }
    due.push_back(it->first);
    ++it;
  }
  std::sort(due.begin(), due.end());
  if (due.size() >= options_.max_per_round) {
    due.resize(options_.max_per_round);
    return due;
  }
  // The rest of the round goes to other models in transition, in id order
  // from where the last round stopped, wrapping around. A scan of the
  // snapshot is a few microseconds per thousand models, far below one hub call.
  const size_t start = snapshot->UpperBound(resume_after_);
  for (size_t k = 0; k < snapshot->size() && due.size() < options_.max_per_round; ++k) {
    const CatalogEntry& entry = snapshot->entry((start + k) % snapshot->size());
    if (!InTransition(entry.deployments) || tracked_until_.contains(entry.id)) continue;
    due.push_back(entry.id);
    resume_after_ = entry.id;
  }
  return due;
}

void DeploymentPoller::PollOnce() {
  for (const std::string& id : Due()) {
    if (stop_.HasBeenNotified()) return;
    const absl::Time asked_at = options_.clock();
    // Bounded by the source's own timeout: nobody waits on a poll.
    const hub::RequestDeadline no_deadline;
    absl::StatusOr<modelcatalog::v1::Model> live = source_->FetchLive(id, no_deadline);
    if (!live.ok()) {
      Log(LogLevel::kWarning, "deployment_poll_failed",
          {{"id", id}, {"error", ErrorText(live.status())}});
      continue;
    }
    absl::StatusOr<modelcatalog::v1::Model> applied = updater_->ApplyLive(*live, asked_at);
    if (!applied.ok()) {
      Log(LogLevel::kDebug, "deployment_poll_not_applied",
          {{"id", id}, {"error", ErrorText(applied.status())}});
    }
  }
}

void DeploymentPoller::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.interval)) PollOnce();
  });
}

void DeploymentPoller::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace modelcatalog::catalog
