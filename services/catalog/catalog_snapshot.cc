#include "services/catalog/catalog_snapshot.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/catalog/text_fold.h"

namespace modelcatalog::catalog {

std::string DeterministicWire(const modelcatalog::v1::Model& model) {
  // Structs are maps, whose wire order is unspecified unless deterministic
  // serialization is asked for.
  std::string bytes;
  bytes.reserve(model.ByteSizeLong());
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    model.SerializeToCodedStream(&coded);
  }
  return bytes;
}

uint64_t CombineFingerprints(uint64_t accumulated, uint64_t model_fingerprint) {
  return absl::Hash<std::pair<uint64_t, uint64_t>>{}({accumulated, model_fingerprint});
}

modelcatalog::v1::Model CatalogEntry::model() const {
  modelcatalog::v1::Model model;
  // The bytes were serialized by this process from a valid message.
  model.ParseFromString(wire);
  return model;
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::Build(
    std::vector<modelcatalog::v1::Model> models, int64_t revision, absl::Time fetched_at) {
  std::shared_ptr<CatalogSnapshot> snapshot(new CatalogSnapshot());
  snapshot->revision_ = revision;
  snapshot->fetched_at_ = fetched_at;

  // Stable sort keeps the hub's order among equal ids, so "first record wins" holds.
  std::stable_sort(models.begin(), models.end(),
                   [](const auto& a, const auto& b) { return a.id() < b.id(); });
  auto indexes = std::make_shared<Indexes>();
  auto& entries = snapshot->entries_;
  entries.reserve(models.size());
  indexes->ids.reserve(models.size());
  for (auto& model : models) {
    if (!indexes->ids.empty() && indexes->ids.back() == model.id()) {
      snapshot->duplicate_ids_.push_back(model.id());
      continue;
    }
    const uint32_t i = static_cast<uint32_t>(entries.size());
    indexes->ids.push_back(model.id());
    auto entry = std::make_shared<CatalogEntry>();
    entry->id = model.id();
    entry->folded_id = FoldCase(model.id());
    entry->folded_display_name = FoldCase(model.display_name());
    entry->model_type = model.model_type();
    entry->deployments = model.deployments();
    entry->wire = DeterministicWire(model);
    entry->fingerprint = absl::Hash<std::string>{}(entry->wire);
    entries.push_back(std::move(entry));
    if (model.has_developer()) {
      indexes->by_developer[FoldCase(model.developer().name())].push_back(i);
    }
    if (model.has_fine_tuning()) {
      const auto& actions = model.fine_tuning().actions();
      for (int a = 0; a < actions.size(); ++a) {
        // An action listed twice must not list the model twice.
        if (std::find(actions.begin(), actions.begin() + a, actions[a]) != actions.begin() + a) {
          continue;
        }
        indexes->by_action[actions[a]].push_back(i);
      }
    }
    model.Clear();  // the bytes are kept; the message is not needed any more
  }

  indexes->by_id.reserve(entries.size());
  uint64_t fingerprint = entries.size();
  for (uint32_t i = 0; i < entries.size(); ++i) {
    indexes->by_id.emplace(indexes->ids[i], i);
    // Entries are in id order, so the combination is independent of the hub's order.
    fingerprint = CombineFingerprints(fingerprint, entries[i]->fingerprint);
  }
  snapshot->fingerprint_ = fingerprint;
  snapshot->indexes_ = std::move(indexes);
  snapshot->search_index_ = SearchIndex::Build(entries);
  return snapshot;
}

std::shared_ptr<CatalogSnapshot> CatalogSnapshot::ShareWithRevision(int64_t revision) const {
  std::shared_ptr<CatalogSnapshot> copy(new CatalogSnapshot());
  copy->revision_ = revision;
  copy->fetched_at_ = fetched_at_;
  copy->fingerprint_ = fingerprint_;
  copy->indexes_ = indexes_;
  copy->search_index_ = search_index_;
  copy->duplicate_ids_ = duplicate_ids_;
  copy->entries_ = entries_;  // pointers: the entries themselves are shared
  return copy;
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::WithRevision(int64_t revision) const {
  return ShareWithRevision(revision);
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::WithDeployments(
    size_t position,
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments,
    int64_t revision) const {
  std::shared_ptr<CatalogSnapshot> patched = ShareWithRevision(revision);
  auto entry = std::make_shared<CatalogEntry>(*entries_[position]);
  modelcatalog::v1::Model model = entry->model();
  *model.mutable_deployments() = deployments;
  entry->deployments = deployments;
  entry->wire = DeterministicWire(model);
  entry->fingerprint = absl::Hash<std::string>{}(entry->wire);
  patched->entries_[position] = std::move(entry);
  // Deployments change no index; only the fingerprint needs the new content.
  uint64_t fingerprint = patched->entries_.size();
  for (const auto& e : patched->entries_) fingerprint = CombineFingerprints(fingerprint, e->fingerprint);
  patched->fingerprint_ = fingerprint;
  return patched;
}

const CatalogEntry* CatalogSnapshot::Find(absl::string_view id) const {
  auto it = indexes_->by_id.find(id);
  return it == indexes_->by_id.end() ? nullptr : entries_[it->second].get();
}

absl::optional<size_t> CatalogSnapshot::PositionOf(absl::string_view id) const {
  auto it = indexes_->by_id.find(id);
  if (it == indexes_->by_id.end()) return absl::nullopt;
  return it->second;
}

size_t CatalogSnapshot::UpperBound(absl::string_view id) const {
  const std::vector<std::string>& ids = indexes_->ids;
  auto it = std::upper_bound(ids.begin(), ids.end(), id,
                             [](absl::string_view key, const std::string& e) { return key < e; });
  return static_cast<size_t>(it - ids.begin());
}

absl::Span<const uint32_t> CatalogSnapshot::WithDeveloper(
    absl::string_view folded_developer_name) const {
  auto it = indexes_->by_developer.find(folded_developer_name);
  if (it == indexes_->by_developer.end()) return {};
  return it->second;
}

absl::Span<const uint32_t> CatalogSnapshot::WithAction(absl::string_view action) const {
  auto it = indexes_->by_action.find(action);
  if (it == indexes_->by_action.end()) return {};
  return it->second;
}

}  // namespace modelcatalog::catalog
