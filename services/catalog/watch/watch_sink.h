// Where a watch stream's events go: the transport (a gRPC stream, or a
// recorder in tests) implements this, and reports back to its WatchStream
// when each write ends (WatchStream::OnEventWritten). The feed and the stream
// never see the transport beyond these calls.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_SINK_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_SINK_H_

#include "absl/status/status.h"
#include "services/catalog/watch/watch_events.h"

namespace modelcatalog::catalog {

// The connection a stream's events travel on, shared by every stream of one
// client connection. A change reaches thousands of streams in one delivery
// pass; the feed writes to the streams of one connection together, between
// BeginWrites and EndWrites (from the first write of the pass to its end), so
// the transport can send those events in a few packets instead of one each.
// A connection may be in several passes at once (one per feed shard): it
// counts them. Called without any stream's lock.
class SinkConnection {
 public:
  virtual void BeginWrites() = 0;
  virtual void EndWrites() = 0;

 protected:
  ~SinkConnection() = default;
};

// The writes of one delivery pass to the streams of one connection: begins
// the connection's writes at the first of them and ends them with the pass.
class WriteBurst {
 public:
  explicit WriteBurst(SinkConnection* connection) : connection_(connection) {}
  ~WriteBurst() {
    if (begun_) connection_->EndWrites();
  }
  WriteBurst(const WriteBurst&) = delete;
  WriteBurst& operator=(const WriteBurst&) = delete;

  void BeforeWrite() {
    if (begun_ || connection_ == nullptr) return;
    connection_->BeginWrites();
    begun_ = true;
  }
  bool begun() const { return begun_; }

 private:
  SinkConnection* const connection_;
  bool begun_ = false;
};

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
