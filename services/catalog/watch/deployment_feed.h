// The change feed behind WatchDeployments.
//
// The hub has no change feed; this service makes one. Every change of a
// model's deployments that the service observes (a sync, a live look-up, an
// activation, a poll) becomes a FeedChange with the next revision. The feed
// keeps the latest changes for resuming streams and hands every change to
// every open stream without blocking: a stream that cannot keep up merges its
// pending changes per model (see WatchStream), so the publisher never waits
// for a reader and memory per stream stays bounded by the models it watches.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENT_FEED_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENT_FEED_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

using WatchEvent = modelcatalog::v1::WatchDeploymentsResponse;
// A WatchEvent as written to the wire: its serialization. A change that reaches
// many streams unmerged is serialized once and the same bytes go to all of them.
using EncodedEvent = std::shared_ptr<const std::string>;

// One observed change of one model's deployments.
struct FeedChange {
  enum class Kind { kAdded, kChanged, kRemoved };
  Kind kind = Kind::kChanged;
  std::string model_id;
  int64_t revision = 0;  // assigned by DeploymentFeed::Publish
  absl::Time observed_at;
  Deployments before;  // empty for kAdded
  Deployments after;   // empty for kRemoved
};

// True when two deployment lists differ in a way watchers are told about: the
// number of deployments or any status.
bool DeploymentStatusesDiffer(const Deployments& a, const Deployments& b);

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

// Where a stream can resume: a revision of one feed instance (one process).
struct ResumePoint {
  uint64_t instance = 0;
  int64_t revision = 0;
};
std::string EncodeResumeToken(const ResumePoint& point);
// INVALID_ARGUMENT naming `resume_token` when the text is not one of ours.
absl::StatusOr<ResumePoint> DecodeResumeToken(absl::string_view token);

// One watcher's queue, independent of the transport. A subclass writes events
// out (the gRPC stream, or a recorder in tests) and reports back when each
// write is done; only then is the next event built, so at most one event per
// stream exists at a time besides its pending changes.
//
// Order of a stream: INITIAL events (or replayed changes when resuming), the
// INITIAL_STATE_COMPLETE marker, then changes in revision order. While a write
// is in flight, new changes wait in a per-model pending set ordered by their
// latest revision; a second change of a model merges into its entry and moves
// it to the back. So revisions only grow along a stream, and once a client has
// a token for revision R it has every change up to R.
class WatchStream {
 public:
  // `model_ids`: the models to watch; empty for every model with deployments.
  // `shard`: the feed's shard this stream belongs to (see DeploymentFeedOptions::shards).
  explicit WatchStream(const std::vector<std::string>& model_ids, size_t shard = 0);
  virtual ~WatchStream() = default;

  // Takes mu_ once. A transport that frees the stream once its last callback has returned
  // (StreamCall counts them) still has other threads that reached it under mu_ (the feed's
  // fan-out, the progress ticker); a final step that starts with this orders their work before
  // the stream is freed, for ThreadSanitizer too. No one holds mu_ by then.
  void SyncWithCallbacks() const ABSL_LOCKS_EXCLUDED(mu_) { absl::MutexLock lock(&mu_); }

  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // For tests and metrics: changes waiting to be written.
  size_t pending_count() const ABSL_LOCKS_EXCLUDED(mu_);

  size_t shard() const { return shard_; }

 protected:
  // Starts writing `event` (a serialized WatchEvent, possibly shared with other
  // streams: never modified). Called without the stream's lock (so a transport
  // that reports the write done on another thread at once does not find it
  // held), at most one write at a time; must not block.
  virtual void StartEventWrite(EncodedEvent event) = 0;
  // Ends the stream. Called once, without the lock, never during a write.
  virtual void FinishStream(const absl::Status& status) = 0;

  // Sets the models to watch, for a transport that learns them after making the
  // stream (a request that arrives later). Only before Subscribe: from then on
  // the feed reads them without a lock.
  void SetWatchedModels(const std::vector<std::string>& model_ids);

  // The transport reports a finished write; `ok` false means the client is gone.
  void OnEventWritten(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // The transport reports that the client cancelled.
  void OnStreamCancelled() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the stream with `status` (after the write in flight, if any): the
  // feed at shutdown, or the transport refusing a stream. Once; later calls
  // and cancellations change nothing.
  void End(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class DeploymentFeed;

  // What a step taken under the lock leaves for the transport, done once the
  // lock is released: a write to start or the stream to end (never both).
  struct Outgoing {
    EncodedEvent write;
    absl::optional<absl::Status> finish;
  };

  struct Pending {
    FeedChange::Kind first_kind;
    Deployments first_before;  // what the client last knew
    std::shared_ptr<const FeedChange> latest;
    // The change's own event (see EncodeChange) while nothing merged into it.
    EncodedEvent encoded;
  };

  // Called by DeploymentFeed with its lock held (so the stream outlives them:
  // its OnDone unsubscribes first).
  void BeginInitial(std::shared_ptr<const CatalogSnapshot> snapshot, uint64_t instance,
                    int64_t revision, bool resync, std::function<absl::Time()> clock,
                    FeedStats* stats) ABSL_LOCKS_EXCLUDED(mu_);
  void BeginReplay(const std::vector<std::shared_ptr<const FeedChange>>& missed,
                   uint64_t instance, int64_t revision, std::function<absl::Time()> clock,
                   FeedStats* stats) ABSL_LOCKS_EXCLUDED(mu_);
  // `encoded`: the change's event as EncodeChange makes it, or null.
  void Offer(const std::shared_ptr<const FeedChange>& change, const EncodedEvent& encoded)
      ABSL_LOCKS_EXCLUDED(mu_);
  void MaybeSendProgress(absl::Time now, absl::Duration interval) ABSL_LOCKS_EXCLUDED(mu_);

  bool Watches(const FeedChange& change) const;
  void AddPendingLocked(const std::shared_ptr<const FeedChange>& change, EncodedEvent encoded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the next event, if any and if no write is in flight.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextInitialLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Serializes `event` (its observe_time set to now unless set) and writes it.
  void WriteLocked(WatchEvent* event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteEncodedLocked(EncodedEvent event, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string TokenLocked(int64_t revision) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Outgoing TakeOutgoingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands `out` to the transport. Called without the lock.
  void Send(Outgoing out) ABSL_LOCKS_EXCLUDED(mu_);

  const size_t shard_;
  // Sorted ids of an explicit watch; empty when watching every model. Set
  // before the stream is subscribed, read-only after.
  std::vector<std::string> model_ids_;
  absl::flat_hash_set<std::string> model_id_set_;

  mutable absl::Mutex mu_;
  std::function<absl::Time()> clock_ ABSL_GUARDED_BY(mu_);  // the feed's
  FeedStats* stats_ ABSL_GUARDED_BY(mu_) = nullptr;          // the feed's
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

struct DeploymentFeedOptions {
  // Changes kept for resuming streams.
  size_t history_size = 10000;
  // A stream that sent nothing for this long gets a PROGRESS event.
  absl::Duration progress_interval = absl::Seconds(10);
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Identifies this feed in resume tokens; random when 0.
  uint64_t instance = 0;
  // Streams open at once; 0: no limit.
  size_t max_streams = 0;
  // Streams are split into this many shards (a stream says which it belongs
  // to); each shard is offered every change, in revision order, by one thread
  // at a time. The gRPC layer has a shard per stream queue, so a change is
  // written to a stream by the thread that also drains that stream's
  // completions.
  size_t shards = 1;
  // Who offers published changes to the streams. By default Publish does,
  // before it returns. With `schedule_delivery`, Publish returns once the
  // changes are recorded (revision, history, the state new streams start
  // from) and calls it for each shard, without holding a lock; its owner then
  // calls DeliverShard(shard) soon, on a thread of its choosing. So a
  // publisher (a live look-up answering its caller) does not wait for the
  // fan-out to thousands of streams.
  std::function<void(size_t shard)> schedule_delivery;
};

// The event a stream sends for `change` when nothing merged into it: the same
// bytes for every stream of the feed instance `instance`.
EncodedEvent EncodeChange(const FeedChange& change, uint64_t instance);

class DeploymentFeed {
 public:
  explicit DeploymentFeed(DeploymentFeedOptions options = {});
  ~DeploymentFeed();  // Stops the progress ticker.

  // Records `snapshot` as the state new streams start from, gives each of
  // `changes` the next revision, keeps it for resuming and has it offered to
  // every stream (see DeploymentFeedOptions for by whom). Never blocks on a
  // stream.
  void Publish(std::shared_ptr<const CatalogSnapshot> snapshot, std::vector<FeedChange> changes)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Offers the changes published so far and not yet offered to the streams of
  // `shard`, in revision order. Called by Publish, or by the owner of
  // `schedule_delivery`.
  void DeliverShard(size_t shard) ABSL_LOCKS_EXCLUDED(mu_);

  // Starts `stream` (in its shard): with the current state, or after
  // `resume_token` when the changes since are retained, or with a resync.
  // INVALID_ARGUMENT for a token that is not ours; UNAVAILABLE before the
  // first snapshot or after Shutdown; RESOURCE_EXHAUSTED when max_streams are open.
  absl::Status Subscribe(WatchStream* stream, absl::string_view resume_token)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets `stream`; after this the feed never touches it again.
  void Unsubscribe(WatchStream* stream);

  // Sends PROGRESS to every stream idle for the progress interval.
  void SendProgress();
  // Calls SendProgress on a background thread, a few times per interval.
  void StartProgressTicker();

  // Ends every stream with UNAVAILABLE "the server is shutting down" and
  // refuses new ones. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  int64_t revision() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t stream_count() const;
  size_t shard_count() const { return shards_.size(); }
  uint64_t instance() const { return instance_; }
  const FeedStats& stats() const { return stats_; }

 private:
  using Changes = std::vector<std::shared_ptr<const FeedChange>>;

  // The streams of one shard. Lock order: a shard's streams_mu, then mu_.
  // Offering changes to a shard holds its streams_mu only, so Publish (mu_)
  // never waits for a fan-out in progress.
  struct Shard {
    mutable absl::Mutex streams_mu;
    absl::flat_hash_set<WatchStream*> streams ABSL_GUARDED_BY(streams_mu);
  };

  const DeploymentFeedOptions options_;
  const uint64_t instance_;
  std::vector<std::unique_ptr<Shard>> shards_;  // options_.shards of them, at least one

  mutable absl::Mutex mu_;
  std::shared_ptr<const CatalogSnapshot> current_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<const FeedChange>> history_ ABSL_GUARDED_BY(mu_);
  size_t stream_count_ ABSL_GUARDED_BY(mu_) = 0;  // over every shard, for max_streams
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Per shard: published changes not yet offered to its streams.
  std::vector<Changes> undelivered_ ABSL_GUARDED_BY(mu_);

  FeedStats stats_;
  absl::Notification stop_ticker_;
  std::thread ticker_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENT_FEED_H_
