#include "services/catalog/watch/watch_events.h"

#include "services/catalog/model/proto_time.h"
#include "services/catalog/watch/resume_token.h"

namespace modelcatalog::catalog {

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

void BuildChangeEvent(ModelChange::Kind first_kind, const Deployments& first_before,
                      const ModelChange& latest, uint64_t instance, WatchEvent* event) {
  modelcatalog::v1::DeploymentStatus status;
  if (latest.kind == ModelChange::Kind::kRemoved) {
    event->set_type(modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED);
  } else {
    event->set_type(first_kind == ModelChange::Kind::kAdded
                        ? modelcatalog::v1::WATCH_EVENT_TYPE_ADDED
                        : modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED);
    SetStatus(latest.after, &status, event->mutable_status_raw());
    event->set_status(status);
    *event->mutable_deployments() = latest.after;
  }
  if (first_kind != ModelChange::Kind::kAdded) {
    SetStatus(first_before, &status, event->mutable_previous_status_raw());
    event->set_previous_status(status);
  }
  event->set_model_id(latest.model_id);
  ToProtoTimestamp(latest.observed_at, event->mutable_observe_time());
  event->set_revision(latest.revision);
  event->set_resume_token(EncodeResumeToken({instance, latest.revision}));
}

EncodedEvent Serialize(const WatchEvent& event) {
  return std::make_shared<const std::string>(event.SerializeAsString());
}

EncodedEvent EncodeChange(const ModelChange& change, uint64_t instance) {
  WatchEvent event;
  BuildChangeEvent(change.kind, change.before, change, instance, &event);
  return Serialize(event);
}

}  // namespace modelcatalog::catalog
