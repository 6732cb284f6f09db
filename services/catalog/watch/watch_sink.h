// Where a watch stream's events go: the transport (a gRPC stream, or a
// recorder in tests) implements this, and reports back to its WatchStream
// when each write ends (WatchStream::OnEventWritten). The feed and the stream
// never see the transport beyond these two calls.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_SINK_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_SINK_H_

#include "absl/status/status.h"
#include "services/catalog/watch/watch_events.h"

namespace modelcatalog::catalog {

class WatchSink {
 public:
  // Starts writing `event` (a serialized WatchEvent, possibly shared with
  // other streams: never modified). At most one write at a time; called
  // without the stream's lock, so a transport that reports the write done at
  // once, on another thread, does not find it held. Must not block.
  virtual void StartEventWrite(EncodedEvent event) = 0;
  // Ends the stream with `status`. Once, never during a write, without the
  // stream's lock; the transport may free the stream once this returns.
  virtual void FinishStream(const absl::Status& status) = 0;

 protected:
  ~WatchSink() = default;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_SINK_H_
