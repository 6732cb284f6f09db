#include "services/catalog/watch/watch_events.h"

#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/model/proto_time.h"

namespace modelcatalog::catalog {

EncodedEvent Serialize(const google::protobuf::MessageLite& event) {
  return std::make_shared<const std::string>(event.SerializeAsString());
}

// Written as WatchDeploymentsResponse: WatchModelsResponse numbers type,
// observe_time, revision, resume_token and resync the same, so the bytes are
// one event of either.
EncodedEvent EncodeMarker(int64_t revision, const std::string& resume_token, bool resync,
                          absl::Time now) {
  modelcatalog::v1::WatchDeploymentsResponse event;
  event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE);
  event.set_revision(revision);
  event.set_resume_token(resume_token);
  event.set_resync(resync);
  ToProtoTimestamp(now, event.mutable_observe_time());
  return Serialize(event);
}

EncodedEvent EncodeProgress(int64_t revision, const std::string& resume_token, absl::Time now) {
  modelcatalog::v1::WatchDeploymentsResponse event;
  event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS);
  event.set_revision(revision);
  event.set_resume_token(resume_token);
  ToProtoTimestamp(now, event.mutable_observe_time());
  return Serialize(event);
}

}  // namespace modelcatalog::catalog
