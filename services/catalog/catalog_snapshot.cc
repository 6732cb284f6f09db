#include "services/catalog/catalog_snapshot.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/catalog/text_fold.h"

namespace modelcatalog::catalog {

uint64_t ModelFingerprint(const modelcatalog::v1::Model& model) {
  // Structs are maps, whose wire order is unspecified unless deterministic
  // serialization is asked for.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    model.SerializeToCodedStream(&coded);
  }
  return absl::Hash<std::string>{}(bytes);
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::Build(
    std::vector<modelcatalog::v1::Model> models, int64_t revision, absl::Time fetched_at) {
  std::shared_ptr<CatalogSnapshot> snapshot(new CatalogSnapshot());
  snapshot->revision_ = revision;
  snapshot->fetched_at_ = fetched_at;

  // Stable sort keeps the hub's order among equal ids, so "first record wins" holds.
  std::stable_sort(models.begin(), models.end(),
                   [](const auto& a, const auto& b) { return a.id() < b.id(); });
  auto& entries = snapshot->entries_;
  entries.reserve(models.size());
  for (auto& model : models) {
    if (!entries.empty() && entries.back().model.id() == model.id()) {
      snapshot->duplicate_ids_.push_back(model.id());
      continue;
    }
    CatalogEntry& entry = entries.emplace_back();
    entry.model = std::move(model);
    entry.folded_id = FoldCase(entry.model.id());
    entry.folded_display_name = FoldCase(entry.model.display_name());
    entry.fingerprint = ModelFingerprint(entry.model);
  }

  snapshot->by_id_.reserve(entries.size());
  uint64_t fingerprint = entries.size();
  for (uint32_t i = 0; i < entries.size(); ++i) {
    const modelcatalog::v1::Model& model = entries[i].model;
    snapshot->by_id_.emplace(model.id(), i);
    // Entries are in id order, so the combination is independent of the hub's order.
    fingerprint = absl::Hash<std::pair<uint64_t, uint64_t>>{}({fingerprint, entries[i].fingerprint});
    if (model.has_developer()) {
      snapshot->by_developer_[FoldCase(model.developer().name())].push_back(i);
    }
    if (model.has_fine_tuning()) {
      const auto& actions = model.fine_tuning().actions();
      for (int a = 0; a < actions.size(); ++a) {
        // An action listed twice must not list the model twice.
        if (std::find(actions.begin(), actions.begin() + a, actions[a]) != actions.begin() + a) {
          continue;
        }
        snapshot->by_action_[actions[a]].push_back(i);
      }
    }
  }
  snapshot->fingerprint_ = fingerprint;
  return snapshot;
}

const CatalogEntry* CatalogSnapshot::Find(absl::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &entries_[it->second];
}

size_t CatalogSnapshot::UpperBound(absl::string_view id) const {
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), id,
      [](absl::string_view key, const CatalogEntry& e) { return key < absl::string_view(e.model.id()); });
  return static_cast<size_t>(it - entries_.begin());
}

absl::Span<const uint32_t> CatalogSnapshot::WithDeveloper(
    absl::string_view folded_developer_name) const {
  auto it = by_developer_.find(folded_developer_name);
  if (it == by_developer_.end()) return {};
  return it->second;
}

absl::Span<const uint32_t> CatalogSnapshot::WithAction(absl::string_view action) const {
  auto it = by_action_.find(action);
  if (it == by_action_.end()) return {};
  return it->second;
}

}  // namespace modelcatalog::catalog
