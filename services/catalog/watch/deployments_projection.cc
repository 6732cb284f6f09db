#include "services/catalog/watch/deployments_projection.h"

#include <algorithm>
#include <utility>

#include "services/catalog/model/proto_time.h"
#include "services/catalog/watch/resume_token.h"

namespace modelcatalog::catalog {
namespace {

std::vector<std::string> SortedUnique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

void SetStatus(const Deployments& deployments, modelcatalog::v1::DeploymentStatus* status,
               std::string* raw) {
  if (deployments.empty()) {
    *status = modelcatalog::v1::DEPLOYMENT_STATUS_UNSPECIFIED;
    raw->clear();
    return;
  }
  *status = deployments[0].status();
  *raw = deployments[0].status_raw();
}

DeploymentsProjection::DeploymentsProjection(std::vector<std::string> model_ids)
    : model_ids_(SortedUnique(std::move(model_ids))),
      model_id_set_(model_ids_.begin(), model_ids_.end()) {}

int DeploymentsProjection::Classify(const ModelChange& change) const {
  // The feed carries every change of a model; this stream tells deployments.
  if (!change.deployments_changed) return kNotTold;
  if (!model_id_set_.empty()) return model_id_set_.contains(change.model_id) ? 0 : kNotTold;
  // Watching everything means every model with deployments.
  return !change.before().empty() || !change.after().empty() ? 0 : kNotTold;
}

EncodedEvent DeploymentsProjection::EncodeChange(const CatalogEntry* known,
                                                 const ModelChange& latest,
                                                 uint64_t instance) const {
  const bool removed = latest.kind == ModelChange::Kind::kRemoved;
  // Appeared and vanished while the client lagged: it never knew the model.
  if (removed && known == nullptr) return nullptr;
  DeploymentEvent event;
  modelcatalog::v1::DeploymentStatus status;
  if (removed) {
    event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED);
  } else {
    event.set_type(known == nullptr ? modelcatalog::v1::WATCH_EVENT_TYPE_ADDED
                                    : modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED);
    SetStatus(latest.after(), &status, event.mutable_status_raw());
    event.set_status(status);
    *event.mutable_deployments() = latest.after();
  }
  if (known != nullptr) {
    SetStatus(known->deployments, &status, event.mutable_previous_status_raw());
    event.set_previous_status(status);
  }
  event.set_model_id(latest.model_id);
  ToProtoTimestamp(latest.observed_at, event.mutable_observe_time());
  event.set_revision(latest.revision);
  event.set_resume_token(EncodeResumeToken({instance, latest.revision}));
  return Serialize(event);
}

EncodedEvent DeploymentsProjection::NextStartEvent(const CatalogSnapshot& snapshot, size_t* cursor,
                                                   const StartStamp& stamp) {
  const CatalogEntry* entry = nullptr;
  if (!model_ids_.empty()) {
    while (entry == nullptr && *cursor < model_ids_.size()) {
      entry = snapshot.Find(model_ids_[(*cursor)++]);  // absent ids come as ADDED later
    }
  } else {
    while (entry == nullptr && *cursor < snapshot.size()) {
      const CatalogEntry& candidate = snapshot.entry((*cursor)++);
      if (!candidate.deployments.empty()) entry = &candidate;
    }
  }
  if (entry == nullptr) return nullptr;
  DeploymentEvent event;
  event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL);
  event.set_model_id(entry->id);
  modelcatalog::v1::DeploymentStatus status;
  SetStatus(entry->deployments, &status, event.mutable_status_raw());
  event.set_status(status);
  *event.mutable_deployments() = entry->deployments;
  event.set_revision(stamp.revision);
  event.set_resync(stamp.resync);
  ToProtoTimestamp(stamp.now, event.mutable_observe_time());
  return Serialize(event);
}

}  // namespace modelcatalog::catalog
