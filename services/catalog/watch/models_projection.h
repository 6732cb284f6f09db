// WatchModels' projection of the catalog's changes: whole models matching a
// filter, in a view, with what changed field by field; and the start of a
// stream whose client already holds models (known_versions), which tells only
// what differs from them, on any replica.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODELS_PROJECTION_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODELS_PROJECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/watch/watch_projection.h"

namespace modelcatalog::catalog {

using ModelEvent = modelcatalog::v1::WatchModelsResponse;

// The model's content version in a view: StableHash64 of its serialization in
// that view, as 16 hexadecimal digits. The same on every replica of a release.
uint64_t ViewVersion(const CatalogEntry& entry, bool basic_view);
std::string FormatVersion(uint64_t version);

class ModelsProjection final : public WatchProjection {
 public:
  // `known_versions`: model id -> model_version the client holds.
  // INVALID_ARGUMENT naming the entry for a version that is not 16 hexadecimal digits.
  static absl::StatusOr<std::unique_ptr<ModelsProjection>> Create(
      Filter filter, modelcatalog::v1::ModelView view,
      const google::protobuf::Map<std::string, std::string>& known_versions);

  int Classify(const ModelChange& change) const override;
  EncodedEvent EncodeChange(const CatalogEntry* known, const ModelChange& latest,
                            uint64_t instance) const override;
  bool HoldsKnownState() const override { return !known_versions_.empty(); }
  void AdoptRetained(const std::deque<std::shared_ptr<const ModelChange>>& history) override;
  void Resumed() override;
  EncodedEvent NextStartEvent(const CatalogSnapshot& snapshot, size_t* cursor,
                              const StartStamp& stamp) override;

 private:
  ModelsProjection(Filter filter, bool basic_view);

  bool InView(const CatalogEntry* entry) const {
    return entry != nullptr && filter_.Matches(*entry);
  }
  // The differences from known_versions_ that a start sends, from *cursor on.
  EncodedEvent NextKnownDifference(const CatalogSnapshot& snapshot, size_t* cursor,
                                   const StartStamp& stamp);

  const Filter filter_;
  const bool basic_view_;
  // Of a start with versions, consumed by it: what the client holds, and the
  // states it holds that this replica retains (for changed_fields).
  absl::flat_hash_map<std::string, uint64_t> known_versions_;
  absl::flat_hash_map<std::string, std::shared_ptr<const CatalogEntry>> known_states_;
  bool start_with_versions_ = false;
  std::vector<std::string> gone_;  // held ids the catalog no longer has, once the scan is done
  bool scanned_ = false;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODELS_PROJECTION_H_
