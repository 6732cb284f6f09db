// An immutable, complete view of the catalog at one sync.
//
// A sync builds a new snapshot from the full list the hub returned and swaps it
// in whole (see CatalogStore): readers hold a shared_ptr to the snapshot they
// started with, so they never wait for a sync and never see half of one.
// Everything a read needs is precomputed here, once per sync: models in id
// order (the List order and the pagination key), the id index, the filter
// postings, and the folded text search matches against.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_SNAPSHOT_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "modelcatalog/v1/model.pb.h"
#include "services/catalog/model/model_fields.h"
#include "services/catalog/model/search_index.h"

namespace modelcatalog::catalog {

using Deployments = google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>;

// One model, kept as its serialization plus the few fields the read paths
// look at. The serialization is written as is into responses, so each model
// is serialized once per snapshot, not once per call; and a catalog held as
// bytes takes a fraction of the memory of the same models held as messages
// (a request_schema Struct is a tree of small heap objects).
struct CatalogEntry {
  std::string id;
  std::string folded_id;            // FoldCase(id)
  std::string folded_display_name;  // FoldCase(display_name)
  modelcatalog::v1::ModelType model_type = modelcatalog::v1::MODEL_TYPE_UNSPECIFIED;
  Deployments deployments;
  std::string wire;  // the model's serialization: StoredWire (BASIC view first)
  // StableHash64 of `wire`: the same for the same model in every process and
  // on every replica (a content version), unlike absl::Hash.
  uint64_t fingerprint = 0;
  ModelFields fields;  // what queries read, and the BASIC view's size

  // The whole model, read back from `wire`: for the paths that need a message
  // (the hot ones write `wire` directly).
  modelcatalog::v1::Model model() const;
  // The serialization of the model's BASIC view: the start of `wire`.
  absl::string_view basic_wire() const { return absl::string_view(wire.data(), fields.basic_size); }
};

// The entries of a snapshot in id order, held in chunks of a few hundred:
// a snapshot patched for one model (a live status) copies the chunk table and
// one chunk, a few hundred pointers whatever the catalog's size, rather than a
// pointer per model. Everything is shared between the copies.
class EntryTable {
 public:
  static constexpr size_t kChunkBits = 8;
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;

  EntryTable() = default;
  explicit EntryTable(const std::vector<std::shared_ptr<const CatalogEntry>>& entries);

  size_t size() const { return size_; }
  const CatalogEntry& operator[](size_t i) const { return *shared(i); }
  const std::shared_ptr<const CatalogEntry>& shared(size_t i) const {
    return (*chunks_[i >> kChunkBits])[i & (kChunkSize - 1)];
  }
  // A copy in which entry `i` is `entry`.
  EntryTable With(size_t i, std::shared_ptr<const CatalogEntry> entry) const;

 private:
  using Chunk = std::vector<std::shared_ptr<const CatalogEntry>>;
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  size_t size_ = 0;
};

class CatalogSnapshot {
 public:
  class Builder;

  // Builds a snapshot from `models` in any order. Ids are unique in a snapshot:
  // when the hub repeats an id the first record wins and the id is reported in
  // duplicate_ids(). For catalogs already held as messages; a sync adds each
  // model to a Builder as it is parsed instead.
  static std::shared_ptr<const CatalogSnapshot> Build(std::vector<modelcatalog::v1::Model> models,
                                                      int64_t revision, absl::Time fetched_at);

  // Grows by one each time a sync changes the catalog's content.
  int64_t revision() const { return revision_; }
  // When this content was first fetched from the hub. A later sync that finds
  // the same content keeps the snapshot (and this time) and only updates the
  // sync status.
  absl::Time fetched_at() const { return fetched_at_; }
  // Order-independent hash of every model: equal catalogs have equal
  // fingerprints. A sum of one term per model, so a patched copy updates it
  // for the model it changed alone.
  uint64_t fingerprint() const { return fingerprint_; }

  size_t size() const { return entries_.size(); }
  // The i-th model in ascending id order.
  const CatalogEntry& entry(size_t i) const { return entries_[i]; }
  // The same, shared: for a caller that keeps the entry past the snapshot.
  const std::shared_ptr<const CatalogEntry>& shared_entry(size_t i) const {
    return entries_.shared(i);
  }

  // The entry with this exact id, or nullptr.
  const CatalogEntry* Find(absl::string_view id) const;
  // The position of the model with this exact id, or nullopt.
  absl::optional<size_t> PositionOf(absl::string_view id) const;
  // Position of the first entry whose id sorts after `id` (keyset pagination).
  size_t UpperBound(absl::string_view id) const;

  // Positions (ascending) of the models whose developer name folds to
  // `folded_developer_name`; empty when none.
  absl::Span<const uint32_t> WithDeveloper(absl::string_view folded_developer_name) const;
  // Positions (ascending) of the models whose fine-tuning actions include `action`.
  absl::Span<const uint32_t> WithAction(absl::string_view action) const;

  const std::vector<std::string>& duplicate_ids() const { return duplicate_ids_; }

  // The search candidate lists of this snapshot's ids and display names.
  const SearchIndex& search_index() const { return *search_index_; }

  // A copy of this snapshot with another revision; everything else is shared.
  std::shared_ptr<const CatalogSnapshot> WithRevision(int64_t revision) const;

  // The result of a query on this snapshot, as positions in the query's own
  // order: computed by `compute` the first time `key` is asked for, then kept
  // for the requests that repeat it (a query's next pages, the same question
  // from another caller). At most kMemoPositions positions and kMemoResults
  // results are kept in all; the least recently used results go first.
  // Thread-safe.
  //
  // A result that does not read deployments (`reads_deployments` false) stays
  // valid in the snapshots patched from this one for a deployment's status
  // (WithDeployments, WithEntry), which inherit it: a live status change does
  // not make every query start over.
  static constexpr size_t kMemoPositions = size_t{4} << 20;
  static constexpr size_t kMemoResults = size_t{1} << 16;
  std::shared_ptr<const std::vector<uint32_t>> Memoized(
      const std::string& key, bool reads_deployments,
      const std::function<std::vector<uint32_t>()>& compute) const;

  // A copy of this snapshot in which the model at `position` has `deployments`
  // and the revision is `revision`. Everything else, indexes included, is
  // shared with this snapshot, so a live status change costs the one model's
  // serialization and a chunk of pointers (see EntryTable), not a rebuild.
  std::shared_ptr<const CatalogSnapshot> WithDeployments(
      size_t position,
      const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments,
      int64_t revision) const;
  // The same with the entry already made (PatchedEntry): for a caller that
  // builds it before taking a lock.
  std::shared_ptr<const CatalogSnapshot> WithEntry(size_t position,
                                                   std::shared_ptr<const CatalogEntry> entry,
                                                   int64_t revision) const;

 private:
  struct Memo;
  CatalogSnapshot();
  CatalogSnapshot(const CatalogSnapshot&) = delete;
  CatalogSnapshot& operator=(const CatalogSnapshot&) = delete;
  // A copy sharing everything, under another revision; with the memoized
  // results, or only those that do not read deployments.
  enum class KeepMemo { kAll, kNotReadingDeployments };
  std::shared_ptr<CatalogSnapshot> ShareWithRevision(int64_t revision, KeepMemo keep) const;

  // What depends only on ids, developers and actions: shared by every snapshot
  // patched from the same sync.
  struct Indexes {
    std::vector<std::string> ids;                            // ascending; ids[i] is entry(i)'s id
    absl::flat_hash_map<absl::string_view, uint32_t> by_id;  // keys point into `ids`
    absl::flat_hash_map<std::string, std::vector<uint32_t>> by_developer;
    absl::flat_hash_map<std::string, std::vector<uint32_t>> by_action;
  };

  int64_t revision_ = 0;
  absl::Time fetched_at_;
  uint64_t fingerprint_ = 0;
  EntryTable entries_;
  std::shared_ptr<const Indexes> indexes_;
  std::shared_ptr<const SearchIndex> search_index_;  // shared like indexes_
  std::vector<std::string> duplicate_ids_;
  const std::shared_ptr<Memo> memo_;  // this snapshot's own
};

// Collects the models of a snapshot, one at a time, in the hub's order. Each
// model becomes its entry as it is added (serialization, folded text,
// fingerprint, deployments, and the keys of the developer and action
// indexes), so the caller can drop or reuse the message at once: a sync never
// holds its whole catalog as messages, whose Struct trees take more than twice
// the JSON's bytes. Build() then only orders the entries and indexes them.
//
// Most syncs find most models as they were. A builder given the snapshot
// served shares the entry of every model whose serialization is unchanged
// rather than building it again (folding, query fields: most of a model's
// cost, and its memory twice while both snapshots live), and tells when the
// models added are exactly the served ones, so that nothing at all is built.
class CatalogSnapshot::Builder {
 public:
  Builder() = default;
  explicit Builder(std::shared_ptr<const CatalogSnapshot> served);

  // Adds `model`. Among models with the same id the first added wins.
  void Add(const modelcatalog::v1::Model& model);
  // How many models were added, duplicates included.
  size_t size() const { return added_.size(); }
  // Whether the models added are those of `snapshot`, each unchanged, once
  // each: true only for the snapshot given at construction.
  bool Repeats(const CatalogSnapshot* snapshot) const {
    return snapshot != nullptr && snapshot == served_.get() &&
           served_repeated_ == snapshot->size() && added_.size() == served_repeated_;
  }
  // The snapshot of every model added. Consumes the builder.
  std::shared_ptr<const CatalogSnapshot> Build(int64_t revision, absl::Time fetched_at) &&;

 private:
  static constexpr uint32_t kNoDeveloper = ~uint32_t{0};
  struct Added {
    std::shared_ptr<const CatalogEntry> entry;
    uint32_t developer = kNoDeveloper;  // index into developers_
    // The model's distinct actions: action_refs_[actions_begin, actions_end).
    uint32_t actions_begin = 0;
    uint32_t actions_end = 0;
  };
  // Index keys are few (developers, actions) and each is shared by many
  // models: every distinct key is stored once and models refer to it.
  uint32_t DeveloperRef(const std::string& name);
  uint32_t ActionRef(const std::string& action);
  // The served entry of this id when its serialization is `wire`, or nullptr.
  std::shared_ptr<const CatalogEntry> Unchanged(const std::string& id, const std::string& wire,
                                                uint64_t fingerprint);
  // Whether `entries`, in id order, have the ids and names of `served`'s, position by position.
  static bool SameSearchText(const std::vector<std::shared_ptr<const CatalogEntry>>& entries,
                             const CatalogSnapshot& served);

  std::shared_ptr<const CatalogSnapshot> served_;  // may be nullptr
  std::vector<bool> served_seen_;                  // by position in served_
  size_t served_repeated_ = 0;                     // how many of served_seen_ are true
  std::vector<Added> added_;
  std::vector<std::string> developers_;  // folded names
  absl::flat_hash_map<std::string, uint32_t> developer_by_folded_name_;
  absl::flat_hash_map<std::string, uint32_t> developer_by_name_;  // saves folding each time
  std::vector<std::string> actions_;
  absl::flat_hash_map<std::string, uint32_t> action_by_name_;
  std::vector<uint32_t> action_refs_;
};

// The deterministic serialization of a model: equal for equal content,
// whatever the map order inside its Structs.
std::string DeterministicWire(const modelcatalog::v1::Model& model);

// The model's content version: its fingerprint as 16 hex digits. Replicas of
// one release that hold the same model compute the same version.
std::string ModelVersion(const CatalogEntry& entry);

// A model's term in its catalog's fingerprint (a strong mix of the model's own,
// so that the sum of the terms tells catalogs apart).
uint64_t FingerprintTerm(uint64_t model_fingerprint);

// The entry of `model` alone, as a snapshot would hold it: for a change of a
// model that no snapshot holds (tests, benchmarks).
std::shared_ptr<const CatalogEntry> MakeEntry(const modelcatalog::v1::Model& model);

// `entry` with `deployments` instead of its own: serialization and
// fingerprint made anew, the rest copied.
std::shared_ptr<const CatalogEntry> PatchedEntry(
    const CatalogEntry& entry,
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_SNAPSHOT_H_
