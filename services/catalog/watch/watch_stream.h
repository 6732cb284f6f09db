// One watcher of the change feed: its queue of events, independent of the
// transport (see WatchSink) and of what it watches (see WatchProjection), and
// the rules of what it sends when.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_STREAM_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/model_change.h"
#include "services/catalog/watch/watch_events.h"
#include "services/catalog/watch/watch_projection.h"
#include "services/catalog/watch/watch_sink.h"

namespace modelcatalog::catalog {

// What the feed's streams did, for metrics. Relaxed atomics: counts only.
struct FeedStats {
  std::atomic<uint64_t> events_sent{0};
  // A change merged into a pending change of the same model (a slow reader).
  std::atomic<uint64_t> changes_coalesced{0};
  // Pending changes that cancelled out (a model added and removed while a
  // reader lagged) and were never sent.
  std::atomic<uint64_t> changes_dropped{0};
  std::atomic<uint64_t> streams_refused{0};  // over the cap
};

// The events of one change for the streams of one shard, each built the first
// time a stream asks for it, once per key (see WatchProjection::Classify).
class SharedEvents {
 public:
  template <typename Build>
  const EncodedEvent& Get(int key, Build build) {
    for (const auto& [k, event] : events_) {
      if (k == key) return event;
    }
    events_.emplace_back(key, build());
    return events_.back().second;
  }

 private:
  absl::InlinedVector<std::pair<int, EncodedEvent>, 2> events_;
};

// One watcher's queue, independent of the transport. It hands events to its
// WatchSink one at a time, and the transport reports back when each write is
// done (OnEventWritten); only then is the next event built, so at most one
// event per stream exists at a time besides its pending changes.
//
// Order of a stream: INITIAL events (or replayed changes when resuming), the
// INITIAL_STATE_COMPLETE marker, then changes in revision order. While a write
// is in flight, new changes wait in a per-model pending set ordered by their
// latest revision; a second change of a model merges into its entry and moves
// it to the back. So revisions only grow along a stream, and once a client has
// a token for revision R it has every change up to R.
class WatchStream final {
 public:
  // `sink` receives the events. `shard`: the feed's shard this stream belongs
  // to (see ChangeFeedOptions::shards). What it watches is set before it
  // subscribes (SetProjection).
  explicit WatchStream(WatchSink* sink, size_t shard = 0);

  // Takes mu_ once. A transport that frees the stream once its last callback has returned
  // (StreamCall counts them) still has other threads that reached it under mu_ (the feed's
  // fan-out); a final step that starts with this orders their work before the stream is
  // freed, for ThreadSanitizer too. No one holds mu_ by then.
  void SyncWithCallbacks() const ABSL_LOCKS_EXCLUDED(mu_) { absl::MutexLock lock(&mu_); }

  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // For tests and metrics: changes waiting to be written.
  size_t pending_count() const ABSL_LOCKS_EXCLUDED(mu_);

  size_t shard() const { return shard_; }
  // Moves the stream to another feed shard; only before Subscribe.
  void SetShard(size_t shard) { shard_ = shard; }

  // Start loading what Offer reads, for a fan-out that reaches this stream a
  // few streams later: the stream itself, then (once that is in the cache)
  // its projection and its sink. Thousands of streams, each read once per
  // change, would otherwise each wait on memory several times over.
  void PrefetchSelf() const {
    __builtin_prefetch(this);
    __builtin_prefetch(reinterpret_cast<const char*>(this) + 64);
  }
  void PrefetchParts() const {
    __builtin_prefetch(projection_.get());
    __builtin_prefetch(sink_);
  }

  // Sets what the stream watches and how its events read, for a transport that
  // learns it after making the stream (a request that arrives later). Only
  // before Subscribe: from then on the feed reads it without a lock.
  void SetProjection(std::unique_ptr<WatchProjection> projection);
  bool has_projection() const { return projection_ != nullptr; }
  // The client connection the stream's events travel on (see SinkConnection),
  // shared with the other streams of that connection; null: none known. Only
  // before Subscribe, like the projection; it must outlive the subscription.
  void SetConnection(SinkConnection* connection) { connection_ = connection; }
  SinkConnection* connection() const { return connection_; }

  // The transport reports a finished write; `ok` false means the client is gone.
  void OnEventWritten(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // The transport reports that the client cancelled.
  void OnStreamCancelled() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the stream with `status` (after the write in flight, if any): the
  // feed at shutdown, or the transport refusing a stream. Once; later calls
  // and cancellations change nothing.
  void End(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class ChangeFeed;

  // What a step taken under the lock leaves for the transport, done once the
  // lock is released: a write to start or the stream to end (never both).
  struct Outgoing {
    EncodedEvent write;
    absl::optional<absl::Status> finish;
  };

  struct Pending {
    // The model as the client last knew it: the state before the first of its
    // pending changes (null when the first added it).
    std::shared_ptr<const CatalogEntry> known;
    std::shared_ptr<const ModelChange> latest;
    // The change's own event, shared with other streams, while nothing merged into it.
    EncodedEvent encoded;
  };

  // Called by ChangeFeed with its lock held (so the stream outlives them:
  // its OnDone unsubscribes first).
  void BeginInitial(std::shared_ptr<const CatalogSnapshot> snapshot, uint64_t instance,
                    int64_t revision, bool resync, std::function<absl::Time()> clock,
                    FeedStats* stats) ABSL_LOCKS_EXCLUDED(mu_);
  void BeginReplay(const std::vector<std::shared_ptr<const ModelChange>>& missed, uint64_t instance,
                   int64_t revision, std::function<absl::Time()> clock, FeedStats* stats)
      ABSL_LOCKS_EXCLUDED(mu_);
  // `shared`: the change's events, shared by the streams of the shard.
  // `burst`: the pass's writes to this stream's connection.
  void Offer(const std::shared_ptr<const ModelChange>& change, SharedEvents* shared,
             WriteBurst* burst) ABSL_LOCKS_EXCLUDED(mu_);
  void MaybeSendProgress(absl::Time now, absl::Duration interval, WriteBurst* burst)
      ABSL_LOCKS_EXCLUDED(mu_);

  WatchProjection& projection() const { return *projection_; }
  // Nothing to send before a new change: started, no write in flight, nothing pending.
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddPendingLocked(const std::shared_ptr<const ModelChange>& change, EncodedEvent encoded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the next event, if any and if no write is in flight.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextInitialLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteEncodedLocked(EncodedEvent event, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string TokenLocked(int64_t revision) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Outgoing TakeOutgoingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands `out` to the transport, its write within `burst` when there is one.
  // Called without the lock.
  void Send(Outgoing out, WriteBurst* burst = nullptr) ABSL_LOCKS_EXCLUDED(mu_);

  WatchSink* const sink_;
  size_t shard_;  // set before the stream is subscribed
  // Set before the stream is subscribed. Classify and EncodeChange read it
  // without mu_ (they read what never changes after); the start's events are
  // made under mu_.
  std::unique_ptr<WatchProjection> projection_;
  SinkConnection* connection_ = nullptr;  // set before the stream is subscribed

  mutable absl::Mutex mu_;
  std::function<absl::Time()> clock_ ABSL_GUARDED_BY(mu_);  // the feed's
  FeedStats* stats_ ABSL_GUARDED_BY(mu_) = nullptr;         // the feed's
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  Outgoing outgoing_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::optional<absl::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  absl::Time last_write_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  uint64_t instance_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t start_revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t seen_revision_ ABSL_GUARDED_BY(mu_) = 0;  // the latest change offered, watched or not
  bool resync_ ABSL_GUARDED_BY(mu_) = false;
  bool marker_sent_ ABSL_GUARDED_BY(mu_) = false;

  // Initial state still to send: positions in `initial_` from `next_initial_`.
  std::shared_ptr<const CatalogSnapshot> initial_ ABSL_GUARDED_BY(mu_);
  size_t next_initial_ ABSL_GUARDED_BY(mu_) = 0;

  absl::flat_hash_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::string> pending_order_ ABSL_GUARDED_BY(mu_);  // latest revision -> id
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_WATCH_STREAM_H_
