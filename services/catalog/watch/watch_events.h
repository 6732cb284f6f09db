// The events of WatchDeployments streams, built and serialized once: a change
// that reaches many streams unmerged is serialized once and the same bytes go
// to all of them.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/model/model_change.h"

namespace modelcatalog::catalog {

using WatchEvent = modelcatalog::v1::WatchDeploymentsResponse;
// A WatchEvent as written to the wire: its serialization, shared and never modified.
using EncodedEvent = std::shared_ptr<const std::string>;

// A model's status as watchers see it: its first deployment's (the hub's own
// examples read it so); UNSPECIFIED and "" without deployments. The full list
// travels in every event.
void SetStatus(const Deployments& deployments, modelcatalog::v1::DeploymentStatus* status,
               std::string* raw);

// The event of a change for a stream whose client last knew `first_before`,
// from a change of kind `first_kind`, now that `latest` is the newest change of
// the model. The caller has dropped a model added and removed meanwhile.
void BuildChangeEvent(ModelChange::Kind first_kind, const Deployments& first_before,
                      const ModelChange& latest, uint64_t instance, WatchEvent* event);

// The event a stream sends for `change` when nothing merged into it: the same
// bytes for every stream of the feed instance `instance`.
EncodedEvent EncodeChange(const ModelChange& change, uint64_t instance);

EncodedEvent Serialize(const WatchEvent& event);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_EVENTS_H_
