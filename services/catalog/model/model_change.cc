#include "services/catalog/model/model_change.h"

namespace modelcatalog::catalog {
namespace {

const Deployments& NoDeployments() {
  static const Deployments* const none = new Deployments();
  return *none;
}

}  // namespace

const Deployments& ModelChange::before() const {
  return before_entry != nullptr ? before_entry->deployments : NoDeployments();
}

const Deployments& ModelChange::after() const {
  return after_entry != nullptr ? after_entry->deployments : NoDeployments();
}

bool DeploymentStatusesDiffer(const Deployments& a, const Deployments& b) {
  if (a.size() != b.size()) return true;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].status_raw() != b[i].status_raw() || a[i].status() != b[i].status()) return true;
  }
  return false;
}

absl::optional<ModelChange> ChangeOf(std::shared_ptr<const CatalogEntry> before,
                                     std::shared_ptr<const CatalogEntry> after,
                                     absl::Time observed_at) {
  if (before == nullptr && after == nullptr) return absl::nullopt;
  if (before != nullptr && after != nullptr &&
      (before == after ||
       (before->fingerprint == after->fingerprint && before->wire == after->wire))) {
    return absl::nullopt;
  }
  ModelChange change;
  change.kind = before == nullptr  ? ModelChange::Kind::kAdded
                : after == nullptr ? ModelChange::Kind::kRemoved
                                   : ModelChange::Kind::kChanged;
  change.model_id = (after != nullptr ? after : before)->id;
  change.observed_at = observed_at;
  if (change.kind == ModelChange::Kind::kChanged) {
    change.deployments_changed = DeploymentStatusesDiffer(before->deployments, after->deployments);
    change.basic_view_changed = before->basic_wire() != after->basic_wire();
  }
  change.before_entry = std::move(before);
  change.after_entry = std::move(after);
  return change;
}

std::vector<ModelChange> DiffModels(const CatalogSnapshot* before, const CatalogSnapshot& after,
                                    absl::Time observed_at) {
  std::vector<ModelChange> changes;
  if (before == nullptr) return changes;
  // Both snapshots are in id order: one merge pass finds additions, removals
  // and changes without a hash look-up per model.
  size_t i = 0, j = 0;
  const auto emit = [&](std::shared_ptr<const CatalogEntry> old_entry,
                        std::shared_ptr<const CatalogEntry> new_entry) {
    absl::optional<ModelChange> change =
        ChangeOf(std::move(old_entry), std::move(new_entry), observed_at);
    if (change) changes.push_back(*std::move(change));
  };
  while (i < before->size() || j < after.size()) {
    const CatalogEntry* old_entry = i < before->size() ? &before->entry(i) : nullptr;
    const CatalogEntry* new_entry = j < after.size() ? &after.entry(j) : nullptr;
    if (new_entry == nullptr || (old_entry != nullptr && old_entry->id < new_entry->id)) {
      emit(before->shared_entry(i), nullptr);
      ++i;
    } else if (old_entry == nullptr || new_entry->id < old_entry->id) {
      emit(nullptr, after.shared_entry(j));
      ++j;
    } else {
      // Shared entries (a sync that found the model unchanged) are the same
      // by construction; the rest are compared by content.
      if (old_entry != new_entry) emit(before->shared_entry(i), after.shared_entry(j));
      ++i;
      ++j;
    }
  }
  return changes;
}

}  // namespace modelcatalog::catalog
