#include "services/catalog/sync/catalog_updater.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace modelcatalog::catalog {
namespace {

// Deployments equal field by field (the maps of their extra fields in any order).
bool SameDeployments(const Deployments& a, const Deployments& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

CatalogUpdater::CatalogUpdater(CatalogStore* store, std::vector<CatalogListener*> listeners,
                               std::function<absl::Time()> clock,
                               std::function<void()> before_settling)
    : store_(store),
      listeners_(std::move(listeners)),
      clock_(std::move(clock)),
      before_settling_(std::move(before_settling)) {}

CatalogUpdater::SyncResult CatalogUpdater::ApplySync(std::vector<modelcatalog::v1::Model> models,
                                                     absl::Time fetch_started,
                                                     const std::vector<std::string>& rejected_ids) {
  CatalogSnapshot::Builder builder;
  for (auto& model : models) {
    builder.Add(model);
    model = modelcatalog::v1::Model();  // the builder keeps what it needs
  }
  return ApplySync(std::move(builder), fetch_started, rejected_ids);
}

CatalogUpdater::SyncResult CatalogUpdater::ApplySync(CatalogSnapshot::Builder models,
                                                     absl::Time fetch_started,
                                                     const std::vector<std::string>& rejected_ids) {
  SyncResult result;
  // Everything that grows with the catalog happens here, before the lock, on
  // the catalog served now (`base`): building the snapshot, keeping live
  // observations newer than the fetch, diffing. The sync may run at idle CPU
  // priority, and whatever it did under the lock would hold up every live
  // update for as long as it waits for the CPU. Under the lock it only
  // settles what live updates published since `base` was read: O(changes).
  const std::shared_ptr<const CatalogSnapshot> base = store_->Current();
  // A record that could not be read says nothing about the model: keep its
  // last good version rather than dropping it from the catalog.
  for (const std::string& id : rejected_ids) {
    const CatalogEntry* kept = base ? base->Find(id) : nullptr;
    if (kept == nullptr) continue;
    models.Add(kept->model());  // after the hub's records: a valid one wins
    result.kept_previous.push_back(id);
  }
  // The common sync finds the catalog as it is served: then nothing is built
  // (and the served snapshot keeps its revision and fetch time, as below).
  const bool repeats_base = models.Repeats(base.get());
  std::shared_ptr<const CatalogSnapshot> next =
      repeats_base ? base : std::move(models).Build(/*revision=*/0, fetch_started);
  if (!repeats_base) result.duplicate_ids = next->duplicate_ids();
  result.model_count = next->size();

  // Live observations newer than the fetch win over it: the ones already in
  // `base` are applied here.
  std::vector<std::string> newer_than_fetch;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, observed] : observed_live_) {
      if (observed.at > fetch_started) newer_than_fetch.push_back(id);
    }
  }
  for (const std::string& id : newer_than_fetch) {
    const absl::optional<size_t> position = next->PositionOf(id);
    const CatalogEntry* live = base ? base->Find(id) : nullptr;
    if (position && live != nullptr) next = next->WithDeployments(*position, live->deployments, 0);
  }
  const int64_t base_revision = base ? base->revision() : 0;
  std::vector<ModelChange> changes;
  if (base == nullptr || base->fingerprint() != next->fingerprint()) {
    next = next->WithRevision(base_revision + 1);
    changes = DiffModels(base.get(), *next, clock_());
  }

  if (before_settling_) before_settling_();
  // Declared before the lock, so released after it: freeing the replaced
  // catalog must not hold up a live update waiting for the lock.
  std::shared_ptr<const CatalogSnapshot> retired;
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<const CatalogSnapshot> current = store_->Current();
  retired = current;
  if (current != base) {
    // Since `base` only live updates published (syncs are one at a time, a
    // restore comes before the first): each of their models is in
    // observed_live_ with the revision it published. Their state now is
    // current's; a live observation newer than the fetch stays, and the
    // watchers' change is counted from what they were last told.
    for (const auto& [id, observed] : observed_live_) {
      if (observed.published_revision <= base_revision) continue;
      const absl::optional<size_t> position = next->PositionOf(id);
      const CatalogEntry* live = current->Find(id);
      if (position && live != nullptr && observed.at > fetch_started) {
        next = next->WithDeployments(*position, live->deployments, 0);
      }
      const absl::optional<size_t> current_position = current->PositionOf(id);
      ReplaceChange(id, current_position ? current->shared_entry(*current_position) : nullptr,
                    position ? next->shared_entry(*position) : nullptr, &changes);
    }
  }
  // Forget live observations the fetch has caught up with, and models gone.
  for (auto it = observed_live_.begin(); it != observed_live_.end();) {
    if (it->second.at <= fetch_started || !next->PositionOf(it->first)) {
      observed_live_.erase(it++);
    } else {
      ++it;
    }
  }
  result.changed = current == nullptr || current->fingerprint() != next->fingerprint();
  if (!result.changed) {
    result.revision = current->revision();
    return result;
  }
  result.revision = current ? current->revision() + 1 : 1;
  if (next->revision() != result.revision) next = next->WithRevision(result.revision);
  PublishLocked(std::move(next), changes);
  return result;
}

void CatalogUpdater::ReplaceChange(const std::string& id,
                                   std::shared_ptr<const CatalogEntry> before,
                                   std::shared_ptr<const CatalogEntry> after,
                                   std::vector<ModelChange>* changes) const {
  // `changes` are in id order (DiffModels).
  auto it = std::lower_bound(
      changes->begin(), changes->end(), id,
      [](const ModelChange& change, const std::string& key) { return change.model_id < key; });
  if (it != changes->end() && it->model_id == id) it = changes->erase(it);
  absl::optional<ModelChange> change = ChangeOf(std::move(before), std::move(after), clock_());
  if (change) changes->insert(it, *std::move(change));
}

void CatalogUpdater::Restore(std::vector<modelcatalog::v1::Model> models, int64_t revision,
                             absl::Time fetched_at) {
  CatalogSnapshot::Builder builder;
  for (auto& model : models) {
    builder.Add(model);
    model = modelcatalog::v1::Model();  // the builder keeps what it needs
  }
  Restore(std::move(builder), revision, fetched_at);
}

void CatalogUpdater::Restore(CatalogSnapshot::Builder models, int64_t revision,
                             absl::Time fetched_at) {
  std::shared_ptr<const CatalogSnapshot> snapshot = std::move(models).Build(revision, fetched_at);
  absl::MutexLock lock(&mu_);
  if (store_->Current() != nullptr) return;  // a sync got there first: it is newer
  PublishLocked(std::move(snapshot), {});
}

absl::StatusOr<modelcatalog::v1::Model> CatalogUpdater::ApplyLive(
    const modelcatalog::v1::Model& model, absl::Time observed_at) {
  std::shared_ptr<const CatalogEntry> served;      // read back after the lock
  std::shared_ptr<const CatalogSnapshot> retired;  // released after the lock
  {
    absl::MutexLock lock(&mu_);
    const std::shared_ptr<const CatalogSnapshot> current = store_->Current();
    retired = current;
    const absl::optional<size_t> position =
        current ? current->PositionOf(model.id()) : absl::nullopt;
    if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", model.id()));
    LiveObservation& observed = observed_live_[model.id()];
    observed.at = observed_at;
    const std::shared_ptr<const CatalogEntry>& entry = current->shared_entry(*position);
    // Most observations (polls of a deployment still deploying) confirm what
    // the catalog says: that is found out before anything is built.
    if (SameDeployments(entry->deployments, model.deployments())) {
      served = entry;
    } else {
      std::shared_ptr<const CatalogSnapshot> next =
          current->WithDeployments(*position, model.deployments(), current->revision() + 1);
      served = next->shared_entry(*position);
      // Every change of the served model reaches the feed; WatchDeployments
      // tells only those of statuses.
      std::vector<ModelChange> changes;
      if (absl::optional<ModelChange> change = ChangeOf(entry, served, observed_at)) {
        changes.push_back(*std::move(change));
      }
      observed.published_revision = next->revision();
      PublishLocked(std::move(next), changes);
    }
  }
  return served->model();
}

void CatalogUpdater::PublishLocked(std::shared_ptr<const CatalogSnapshot> snapshot,
                                   const std::vector<ModelChange>& changes) {
  store_->Publish(snapshot);
  for (CatalogListener* listener : listeners_) listener->OnCatalogPublished(snapshot, changes);
}

}  // namespace modelcatalog::catalog
