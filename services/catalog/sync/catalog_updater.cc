#include "services/catalog/sync/catalog_updater.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace modelcatalog::catalog {

CatalogUpdater::CatalogUpdater(CatalogStore* store, std::vector<CatalogListener*> listeners,
                               std::function<absl::Time()> clock)
    : store_(store), listeners_(std::move(listeners)), clock_(std::move(clock)) {}

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
  // A record that could not be read says nothing about the model: keep its
  // last good version rather than dropping it from the catalog.
  if (!rejected_ids.empty()) {
    const std::shared_ptr<const CatalogSnapshot> previous = store_->Current();
    for (const std::string& id : rejected_ids) {
      const CatalogEntry* kept = previous ? previous->Find(id) : nullptr;
      if (kept == nullptr) continue;
      models.Add(kept->model());  // after the hub's records: a valid one wins
      result.kept_previous.push_back(id);
    }
  }
  // The expensive part, building the snapshot, runs before taking the lock so
  // live updates are not held up by it; its revision is settled under the lock.
  std::shared_ptr<const CatalogSnapshot> built =
      std::move(models).Build(/*revision=*/0, fetch_started);

  // Declared before the lock, so destroyed after it is released: freeing the
  // replaced catalog, one entry at a time, must not hold up a live update
  // waiting for the lock.
  std::shared_ptr<const CatalogSnapshot> retired;
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<const CatalogSnapshot> previous = store_->Current();
  retired = previous;
  result.duplicate_ids = built->duplicate_ids();
  result.model_count = built->size();

  // Keep live observations newer than this fetch; forget older ones.
  std::shared_ptr<const CatalogSnapshot> next = built;
  for (auto it = observed_live_.begin(); it != observed_live_.end();) {
    const absl::optional<size_t> position = next->PositionOf(it->first);
    const CatalogEntry* live = previous ? previous->Find(it->first) : nullptr;
    if (it->second <= fetch_started || !position || live == nullptr) {
      observed_live_.erase(it++);
      continue;
    }
    next = next->WithDeployments(*position, live->deployments, 0);
    ++it;
  }

  result.changed = previous == nullptr || previous->fingerprint() != next->fingerprint();
  if (!result.changed) {
    result.revision = previous->revision();
    return result;
  }
  result.revision = previous ? previous->revision() + 1 : 1;
  next = next->WithRevision(result.revision);
  std::vector<DeploymentChange> changes = DiffDeployments(previous.get(), *next, clock_());
  PublishLocked(std::move(next), std::move(changes));
  return result;
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
  absl::MutexLock lock(&mu_);
  const std::shared_ptr<const CatalogSnapshot> current = store_->Current();
  const absl::optional<size_t> position = current ? current->PositionOf(model.id()) : absl::nullopt;
  if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", model.id()));
  observed_live_[model.id()] = observed_at;
  const CatalogEntry& entry = current->entry(*position);
  std::shared_ptr<const CatalogSnapshot> next =
      current->WithDeployments(*position, model.deployments(), current->revision() + 1);
  const CatalogEntry& updated = next->entry(*position);
  if (updated.fingerprint == entry.fingerprint) return entry.model();  // nothing new

  std::vector<DeploymentChange> changes;
  if (DeploymentStatusesDiffer(entry.deployments, model.deployments())) {
    DeploymentChange& change = changes.emplace_back();
    change.kind = DeploymentChange::Kind::kChanged;
    change.model_id = model.id();
    change.observed_at = observed_at;
    change.before = entry.deployments;
    change.after = model.deployments();
  }
  modelcatalog::v1::Model served = updated.model();
  PublishLocked(std::move(next), std::move(changes));
  return served;
}

void CatalogUpdater::PublishLocked(std::shared_ptr<const CatalogSnapshot> snapshot,
                                   const std::vector<DeploymentChange>& changes) {
  store_->Publish(snapshot);
  for (CatalogListener* listener : listeners_) listener->OnCatalogPublished(snapshot, changes);
}

}  // namespace modelcatalog::catalog
