// What one watch stream tells of the catalog's changes, and in which message.
//
// The change feed and its streams (ChangeFeed, WatchStream) are the same for
// every watch method: they order, merge, replay and pace changes of whole
// models. A projection makes a stream WatchDeployments' (deployment statuses of
// some models) or WatchModels' (whole models matching a filter, in a view): it
// says which changes the stream tells and writes their events.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_PROJECTION_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_PROJECTION_H_

#include <cstdint>
#include <deque>
#include <memory>

#include "absl/time/time.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/model_change.h"
#include "services/catalog/watch/watch_events.h"

namespace modelcatalog::catalog {

// Where the events of a stream's start stand (see WatchProjection::NextStartEvent).
struct StartStamp {
  int64_t revision = 0;  // the feed's when the stream started
  bool resync = false;
  absl::Time now;
};

class WatchProjection {
 public:
  // Classify's answer for a change the stream does not tell.
  static constexpr int kNotTold = -1;

  virtual ~WatchProjection() = default;

  // Whether the stream tells `change` (kNotTold if not) and, if it does, the
  // key of its event: streams whose projections give a change the same key
  // send the same bytes for it, serialized once (when nothing merged into it).
  // Called for every change on every stream, without the stream's lock: reads
  // only what was set before the stream subscribed, and is quick.
  virtual int Classify(const ModelChange& change) const = 0;

  // The event telling a client that last knew the model as `known` (null: not
  // at all) its state after `latest`, the newest of its changes; null when
  // there is nothing to tell (a model that came and went while the client
  // lagged, or whose state in the stream's view is what the client knew).
  virtual EncodedEvent EncodeChange(const CatalogEntry* known, const ModelChange& latest,
                                    uint64_t instance) const = 0;

  // Whether the client holds a state of its own (WatchModels' known_versions):
  // a stream that cannot be resumed from its token then starts with what
  // differs from that state instead of a resync.
  virtual bool HoldsKnownState() const { return false; }
  // Before the stream starts from the feed's current state, the changes the
  // feed retains: a projection holding the client's state finds there the
  // states it holds, to tell what changed since them. Called with the feed's
  // lock held: quick.
  virtual void AdoptRetained(const std::deque<std::shared_ptr<const ModelChange>>& history) {}
  // The stream resumes from its token instead (with the feed's lock held):
  // the client's known state will not be needed.
  virtual void Resumed() {}

  // The next event of the stream's start, from position `*cursor` of
  // `snapshot` on (advanced past what it used): INITIAL events, or the
  // differences from the client's known state; null once it is complete.
  // Called under the stream's lock, one event at a time.
  virtual EncodedEvent NextStartEvent(const CatalogSnapshot& snapshot, size_t* cursor,
                                      const StartStamp& stamp) = 0;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_PROJECTION_H_
