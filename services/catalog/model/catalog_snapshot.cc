#include "services/catalog/model/catalog_snapshot.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/catalog/model/text_fold.h"
#include "services/common/stable_hash.h"

namespace modelcatalog::catalog {
namespace {

std::shared_ptr<const CatalogEntry> NewEntry(const modelcatalog::v1::Model& model, std::string wire,
                                             uint32_t basic_size, uint64_t fingerprint) {
  auto entry = std::make_shared<CatalogEntry>();
  entry->id = model.id();
  entry->folded_id = FoldCase(model.id());
  entry->folded_display_name = FoldCase(model.display_name());
  entry->model_type = model.model_type();
  entry->deployments = model.deployments();
  entry->wire = std::move(wire);
  entry->fingerprint = fingerprint;
  entry->fields = FieldsOf(model, basic_size);
  return entry;
}

}  // namespace

std::string DeterministicWire(const modelcatalog::v1::Model& model) {
  // Structs are maps, whose wire order is unspecified unless deterministic
  // serialization is asked for. The size is computed once (walking a Struct
  // tree is not free) and the bytes are written straight into a string of
  // exactly that size.
  const size_t size = model.ByteSizeLong();
  std::string bytes(size, '\0');
  {
    google::protobuf::io::ArrayOutputStream array(bytes.data(), static_cast<int>(size));
    google::protobuf::io::CodedOutputStream coded(&array);
    coded.SetSerializationDeterministic(true);
    model.SerializeWithCachedSizes(&coded);
  }
  return bytes;
}

std::shared_ptr<const CatalogEntry> MakeEntry(const modelcatalog::v1::Model& model) {
  uint32_t basic_size = 0;
  std::string wire = StoredWire(model, &basic_size);
  const uint64_t fingerprint = StableHash64(wire);
  return NewEntry(model, std::move(wire), basic_size, fingerprint);
}

std::string ModelVersion(const CatalogEntry& entry) {
  return absl::StrFormat("%016x", entry.fingerprint);
}

uint64_t FingerprintTerm(uint64_t model_fingerprint) {
  // SplitMix64's finalizer: every bit of the input reaches every bit of the output.
  uint64_t x = model_fingerprint + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::shared_ptr<const CatalogEntry> PatchedEntry(
    const CatalogEntry& entry,
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments) {
  auto patched = std::make_shared<CatalogEntry>(entry);
  modelcatalog::v1::Model model = entry.model();
  *model.mutable_deployments() = deployments;
  patched->deployments = deployments;
  uint32_t basic_size = 0;
  patched->wire = StoredWire(model, &basic_size);
  patched->fingerprint = StableHash64(patched->wire);
  patched->fields = FieldsOf(model, basic_size);
  return patched;
}

struct CatalogSnapshot::Memo {
  struct Result {
    std::string key;
    std::shared_ptr<const std::vector<uint32_t>> positions;
    bool reads_deployments;
  };
  absl::Mutex mu;
  std::list<Result> results ABSL_GUARDED_BY(mu);  // most recently used first
  absl::flat_hash_map<std::string, std::list<Result>::iterator> by_key ABSL_GUARDED_BY(mu);
  size_t positions ABSL_GUARDED_BY(mu) = 0;

  // Adds `result` as the most recently used, then drops the least recently
  // used ones past kMemoPositions or kMemoResults.
  void Add(Result result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    positions += result.positions->size();
    results.push_front(std::move(result));
    by_key.emplace(results.front().key, results.begin());
    while (positions > kMemoPositions || results.size() > kMemoResults) {
      positions -= results.back().positions->size();
      by_key.erase(results.back().key);
      results.pop_back();
    }
  }
};

CatalogSnapshot::CatalogSnapshot() : memo_(std::make_shared<Memo>()) {}

std::shared_ptr<const std::vector<uint32_t>> CatalogSnapshot::Memoized(
    const std::string& key, bool reads_deployments,
    const std::function<std::vector<uint32_t>()>& compute) const {
  {
    absl::MutexLock lock(&memo_->mu);
    auto it = memo_->by_key.find(key);
    if (it != memo_->by_key.end()) {
      memo_->results.splice(memo_->results.begin(), memo_->results, it->second);
      return it->second->positions;
    }
  }
  // Computed without the lock: two callers asking at once may both compute it.
  auto result = std::make_shared<const std::vector<uint32_t>>(compute());
  if (result->size() > kMemoPositions) return result;
  absl::MutexLock lock(&memo_->mu);
  if (memo_->by_key.contains(key)) return result;
  memo_->Add({key, result, reads_deployments});
  return result;
}

EntryTable::EntryTable(const std::vector<std::shared_ptr<const CatalogEntry>>& entries)
    : size_(entries.size()) {
  chunks_.reserve((entries.size() + kChunkSize - 1) / kChunkSize);
  for (size_t begin = 0; begin < entries.size(); begin += kChunkSize) {
    const size_t end = std::min(entries.size(), begin + kChunkSize);
    chunks_.push_back(
        std::make_shared<const Chunk>(entries.begin() + begin, entries.begin() + end));
  }
}

EntryTable EntryTable::With(size_t i, std::shared_ptr<const CatalogEntry> entry) const {
  EntryTable copy = *this;  // the chunk table: one pointer per chunk
  auto chunk = std::make_shared<Chunk>(*chunks_[i >> kChunkBits]);
  (*chunk)[i & (kChunkSize - 1)] = std::move(entry);
  copy.chunks_[i >> kChunkBits] = std::move(chunk);
  return copy;
}

modelcatalog::v1::Model CatalogEntry::model() const {
  modelcatalog::v1::Model model;
  // The bytes were serialized by this process from a valid message.
  model.ParseFromString(wire);
  return model;
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::Build(
    std::vector<modelcatalog::v1::Model> models, int64_t revision, absl::Time fetched_at) {
  Builder builder;
  for (auto& model : models) {
    builder.Add(model);
    model = modelcatalog::v1::Model();  // the entry holds what is needed; free the message
  }
  return std::move(builder).Build(revision, fetched_at);
}

uint32_t CatalogSnapshot::Builder::DeveloperRef(const std::string& name) {
  auto known = developer_by_name_.find(name);
  if (known != developer_by_name_.end()) return known->second;
  // Names that differ only in case share the folded name's list.
  std::string folded = FoldCase(name);
  auto [it, inserted] =
      developer_by_folded_name_.try_emplace(folded, static_cast<uint32_t>(developers_.size()));
  if (inserted) developers_.push_back(std::move(folded));
  developer_by_name_.emplace(name, it->second);
  return it->second;
}

uint32_t CatalogSnapshot::Builder::ActionRef(const std::string& action) {
  auto [it, inserted] = action_by_name_.try_emplace(action, static_cast<uint32_t>(actions_.size()));
  if (inserted) actions_.push_back(action);
  return it->second;
}

CatalogSnapshot::Builder::Builder(std::shared_ptr<const CatalogSnapshot> served)
    : served_(std::move(served)) {
  if (served_ != nullptr) served_seen_.resize(served_->size());
}

std::shared_ptr<const CatalogEntry> CatalogSnapshot::Builder::Unchanged(const std::string& id,
                                                                        const std::string& wire,
                                                                        uint64_t fingerprint) {
  if (served_ == nullptr) return nullptr;
  const absl::optional<size_t> position = served_->PositionOf(id);
  if (!position) return nullptr;
  const std::shared_ptr<const CatalogEntry>& entry = served_->shared_entry(*position);
  // Everything else in an entry is derived from the model, which `wire` is.
  if (entry->fingerprint != fingerprint || entry->wire != wire) return nullptr;
  if (!served_seen_[*position]) {
    served_seen_[*position] = true;
    ++served_repeated_;
  }
  return entry;
}

void CatalogSnapshot::Builder::Add(const modelcatalog::v1::Model& model) {
  Added& added = added_.emplace_back();
  uint32_t basic_size = 0;
  std::string wire = StoredWire(model, &basic_size);
  const uint64_t fingerprint = StableHash64(wire);
  added.entry = Unchanged(model.id(), wire, fingerprint);
  if (added.entry == nullptr)
    added.entry = NewEntry(model, std::move(wire), basic_size, fingerprint);
  if (model.has_developer()) added.developer = DeveloperRef(model.developer().name());
  added.actions_begin = static_cast<uint32_t>(action_refs_.size());
  if (model.has_fine_tuning()) {
    for (const std::string& action : model.fine_tuning().actions()) {
      const uint32_t ref = ActionRef(action);
      // An action listed twice must not list the model twice.
      const auto begin = action_refs_.begin() + added.actions_begin;
      if (std::find(begin, action_refs_.end(), ref) == action_refs_.end()) {
        action_refs_.push_back(ref);
      }
    }
  }
  added.actions_end = static_cast<uint32_t>(action_refs_.size());
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::Builder::Build(int64_t revision,
                                                                       absl::Time fetched_at) && {
  std::shared_ptr<CatalogSnapshot> snapshot(new CatalogSnapshot());
  snapshot->revision_ = revision;
  snapshot->fetched_at_ = fetched_at;

  // Stable sort keeps the order of addition among equal ids, so "first record
  // wins" holds. The records sorted are a pointer and three numbers each.
  std::stable_sort(added_.begin(), added_.end(),
                   [](const Added& a, const Added& b) { return a.entry->id < b.entry->id; });
  auto indexes = std::make_shared<Indexes>();
  std::vector<std::shared_ptr<const CatalogEntry>> entries;
  entries.reserve(added_.size());
  indexes->ids.reserve(added_.size());
  std::vector<std::vector<uint32_t>> with_developer(developers_.size());
  std::vector<std::vector<uint32_t>> with_action(actions_.size());
  for (Added& added : added_) {
    if (!indexes->ids.empty() && indexes->ids.back() == added.entry->id) {
      snapshot->duplicate_ids_.push_back(added.entry->id);
      continue;
    }
    const uint32_t i = static_cast<uint32_t>(entries.size());
    indexes->ids.push_back(added.entry->id);
    entries.push_back(std::move(added.entry));
    if (added.developer != kNoDeveloper) with_developer[added.developer].push_back(i);
    for (uint32_t a = added.actions_begin; a < added.actions_end; ++a) {
      with_action[action_refs_[a]].push_back(i);
    }
  }
  added_.clear();
  added_.shrink_to_fit();
  // Only keys of models kept (not of duplicates dropped) get a list.
  for (size_t d = 0; d < developers_.size(); ++d) {
    if (!with_developer[d].empty()) {
      indexes->by_developer.emplace(std::move(developers_[d]), std::move(with_developer[d]));
    }
  }
  for (size_t a = 0; a < actions_.size(); ++a) {
    if (!with_action[a].empty()) {
      indexes->by_action.emplace(std::move(actions_[a]), std::move(with_action[a]));
    }
  }

  indexes->by_id.reserve(entries.size());
  // A sum: independent of the order models came in, and updated for one
  // model by a patch without visiting the others.
  uint64_t fingerprint = FingerprintTerm(entries.size());
  for (uint32_t i = 0; i < entries.size(); ++i) {
    indexes->by_id.emplace(indexes->ids[i], i);
    fingerprint += FingerprintTerm(entries[i]->fingerprint);
  }
  snapshot->fingerprint_ = fingerprint;
  snapshot->indexes_ = std::move(indexes);
  // The search index maps text to positions: when every position holds the
  // same id, name and developer name as in the served catalog (edits of prices, statuses,
  // descriptions), the served index is this one.
  snapshot->search_index_ = served_ != nullptr && SameSearchText(entries, *served_)
                                ? served_->search_index_
                                : SearchIndex::Build(entries);
  snapshot->entries_ = EntryTable(entries);
  return snapshot;
}

bool CatalogSnapshot::Builder::SameSearchText(
    const std::vector<std::shared_ptr<const CatalogEntry>>& entries,
    const CatalogSnapshot& served) {
  if (entries.size() != served.size()) return false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const CatalogEntry& entry = *entries[i];
    const CatalogEntry& before = served.entry(i);
    if (&entry == &before) continue;  // shared: the same by construction
    if (entry.fields.text(ModelFields::kSearchWords) !=
        before.fields.text(ModelFields::kSearchWords)) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<CatalogSnapshot> CatalogSnapshot::ShareWithRevision(int64_t revision,
                                                                    KeepMemo keep) const {
  std::shared_ptr<CatalogSnapshot> copy(new CatalogSnapshot());
  {
    // The results themselves are shared; least recently used added first, so
    // the copy keeps their order.
    absl::MutexLock lock(&memo_->mu);
    absl::MutexLock copy_lock(&copy->memo_->mu);
    for (auto it = memo_->results.rbegin(); it != memo_->results.rend(); ++it) {
      if (keep == KeepMemo::kAll || !it->reads_deployments) copy->memo_->Add(*it);
    }
  }
  copy->revision_ = revision;
  copy->fetched_at_ = fetched_at_;
  copy->fingerprint_ = fingerprint_;
  copy->indexes_ = indexes_;
  copy->search_index_ = search_index_;
  copy->duplicate_ids_ = duplicate_ids_;
  copy->entries_ = entries_;  // the chunk table: the entries themselves are shared
  return copy;
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::WithRevision(int64_t revision) const {
  return ShareWithRevision(revision, KeepMemo::kAll);
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::WithDeployments(
    size_t position,
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments,
    int64_t revision) const {
  return WithEntry(position, PatchedEntry(entry(position), deployments), revision);
}

std::shared_ptr<const CatalogSnapshot> CatalogSnapshot::WithEntry(
    size_t position, std::shared_ptr<const CatalogEntry> entry, int64_t revision) const {
  // Deployments change no index, nor any memoized result that does not read
  // them; only the fingerprint's term of this model.
  std::shared_ptr<CatalogSnapshot> patched =
      ShareWithRevision(revision, KeepMemo::kNotReadingDeployments);
  patched->fingerprint_ = fingerprint_ - FingerprintTerm(entries_[position].fingerprint) +
                          FingerprintTerm(entry->fingerprint);
  patched->entries_ = entries_.With(position, std::move(entry));
  return patched;
}

const CatalogEntry* CatalogSnapshot::Find(absl::string_view id) const {
  auto it = indexes_->by_id.find(id);
  return it == indexes_->by_id.end() ? nullptr : &entries_[it->second];
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
