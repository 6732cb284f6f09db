// The events of watch streams as written to the wire: serialized once, shared
// by every stream that sends the same event, never modified. The marker and
// PROGRESS are the same bytes for WatchDeployments and WatchModels, whose
// responses number their common fields alike.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"

namespace modelcatalog::catalog {

// A serialized event: shared, never modified.
using EncodedEvent = std::shared_ptr<const std::string>;

EncodedEvent Serialize(const google::protobuf::MessageLite& event);

// INITIAL_STATE_COMPLETE at `revision`.
EncodedEvent EncodeMarker(int64_t revision, const std::string& resume_token, bool resync,
                          absl::Time now);
// PROGRESS at `revision`.
EncodedEvent EncodeProgress(int64_t revision, const std::string& resume_token, absl::Time now);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_
