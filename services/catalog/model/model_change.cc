#include "services/catalog/model/model_change.h"

namespace modelcatalog::catalog {

bool DeploymentStatusesDiffer(const Deployments& a, const Deployments& b) {
  if (a.size() != b.size()) return true;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].status_raw() != b[i].status_raw() || a[i].status() != b[i].status()) return true;
  }
  return false;
}

std::vector<ModelChange> DiffModels(const CatalogSnapshot* before, const CatalogSnapshot& after,
                                    absl::Time observed_at) {
  std::vector<ModelChange> changes;
  if (before == nullptr) return changes;
  // Both snapshots are in id order: one merge pass finds additions, removals
  // and changes without a hash look-up per model.
  size_t i = 0, j = 0;
  const auto emit = [&](ModelChange::Kind kind, const CatalogEntry* old_entry,
                        const CatalogEntry* new_entry) {
    ModelChange& change = changes.emplace_back();
    change.kind = kind;
    change.model_id = (new_entry != nullptr ? new_entry : old_entry)->id;
    change.observed_at = observed_at;
    if (old_entry != nullptr) change.before = old_entry->deployments;
    if (new_entry != nullptr) change.after = new_entry->deployments;
  };
  while (i < before->size() || j < after.size()) {
    const CatalogEntry* old_entry = i < before->size() ? &before->entry(i) : nullptr;
    const CatalogEntry* new_entry = j < after.size() ? &after.entry(j) : nullptr;
    if (new_entry == nullptr || (old_entry != nullptr && old_entry->id < new_entry->id)) {
      emit(ModelChange::Kind::kRemoved, old_entry, nullptr);
      ++i;
    } else if (old_entry == nullptr || new_entry->id < old_entry->id) {
      emit(ModelChange::Kind::kAdded, nullptr, new_entry);
      ++j;
    } else {
      if (old_entry != new_entry && old_entry->fingerprint != new_entry->fingerprint &&
          DeploymentStatusesDiffer(old_entry->deployments, new_entry->deployments)) {
        emit(ModelChange::Kind::kChanged, old_entry, new_entry);
      }
      ++i;
      ++j;
    }
  }
  return changes;
}

}  // namespace modelcatalog::catalog
