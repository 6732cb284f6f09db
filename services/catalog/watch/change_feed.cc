#include "services/catalog/watch/change_feed.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"

namespace modelcatalog::catalog {
namespace {

uint64_t RandomInstance() {
  std::random_device random;
  uint64_t instance = 0;
  while (instance == 0) instance = (static_cast<uint64_t>(random()) << 32) | random();
  return instance;
}

// Calls `visit` on each of `streams` in turn, having the streams a few places
// ahead loaded into the cache first (WatchStream::PrefetchSelf, PrefetchParts).
template <typename Visit>
void ForEachPrefetched(const std::vector<WatchStream*>& streams, Visit visit) {
  constexpr size_t kSelfAhead = 8;
  constexpr size_t kPartsAhead = 4;
  const size_t n = streams.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kSelfAhead < n) streams[i + kSelfAhead]->PrefetchSelf();
    if (i + kPartsAhead < n) streams[i + kPartsAhead]->PrefetchParts();
    visit(streams[i]);
  }
}

}  // namespace

ChangeFeed::ChangeFeed(ChangeFeedOptions options)
    : options_(std::move(options)),
      instance_(options_.instance != 0 ? options_.instance : RandomInstance()) {
  const size_t shards = std::max<size_t>(1, options_.shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
  absl::MutexLock lock(&mu_);
  undelivered_.resize(shards);
  progress_due_.resize(shards, false);
  shard_busy_.resize(shards, false);
}

ChangeFeed::~ChangeFeed() {
  if (!stop_ticker_.HasBeenNotified()) stop_ticker_.Notify();
  if (ticker_.joinable()) ticker_.join();
}

void ChangeFeed::Publish(std::shared_ptr<const CatalogSnapshot> snapshot,
                         std::vector<ModelChange> changes) {
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(snapshot);
    for (ModelChange& change : changes) {
      change.revision = ++revision_;
      auto shared = std::make_shared<const ModelChange>(std::move(change));
      history_.push_back(shared);
      if (history_.size() > options_.history_size) history_.pop_front();
      for (Changes& undelivered : undelivered_) undelivered.push_back(shared);
    }
    if (!changes.empty()) {
      for (size_t shard = 0; shard < shard_busy_.size(); ++shard) {
        if (!shard_busy_[shard]) ++busy_shards_;
        shard_busy_[shard] = true;
      }
    }
  }
  for (size_t shard = 0; shard < shards_.size(); ++shard) {
    if (options_.schedule_delivery) {
      options_.schedule_delivery(shard);
    } else {
      DeliverShard(shard);
    }
  }
}

void ChangeFeed::DeliverShard(size_t index) {
  Shard& shard = *shards_[index];
  bool end_held_bursts = false;
  {
    // Held while offering, so two deliveries of one shard (two publishers
    // delivering their own changes) offer in revision order.
    absl::MutexLock streams_lock(&shard.streams_mu);
    Changes changes;
    bool progress_due = false;
    {
      absl::MutexLock lock(&mu_);
      changes.swap(undelivered_[index]);
      progress_due = progress_due_[index];
      progress_due_[index] = false;
    }
    if (!changes.empty()) {
      // Each event of a change is serialized once, by the first stream that sends it.
      std::vector<SharedEvents> shared(changes.size());
      // Connection by connection, so each one's writes of the pass go together;
      // every stream still sees the changes in revision order.
      std::vector<WatchStream*> group;
      for (const auto& [connection, streams] : shard.by_connection) {
        auto burst = std::make_unique<WriteBurst>(connection);
        group.assign(streams.begin(), streams.end());
        for (size_t i = 0; i < changes.size(); ++i) {
          ForEachPrefetched(group, [&](WatchStream* stream) {
            stream->Offer(changes[i], &shared[i], burst.get());
          });
        }
        // Kept open past the pass (a connection already held keeps the older
        // one; this one ends at once, nested in it).
        if (burst->begun()) shard.held_bursts.try_emplace(connection, std::move(burst));
      }
    }
    if (progress_due) SendProgressLocked(shard);
    // The last shard to finish the changes published so far ends every
    // shard's held bursts: the change leaves for all connections together.
    absl::MutexLock lock(&mu_);
    if (shard_busy_[index] && undelivered_[index].empty()) {
      shard_busy_[index] = false;
      --busy_shards_;
    }
    if (!shard.held_bursts.empty() && bursts_held_since_ == absl::InfiniteFuture()) {
      bursts_held_since_ = options_.clock();
    }
    if (bursts_held_since_ != absl::InfiniteFuture() &&
        (busy_shards_ == 0 || options_.clock() - bursts_held_since_ >= options_.max_burst_hold)) {
      bursts_held_since_ = absl::InfiniteFuture();
      end_held_bursts = true;
    }
  }
  if (end_held_bursts) EndHeldBursts();
}

void ChangeFeed::EndHeldBursts() {
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->streams_mu);
    shard->held_bursts.clear();
  }
}

absl::Status ChangeFeed::Subscribe(WatchStream* stream, absl::string_view resume_token) {
  absl::optional<ResumePoint> resume;
  if (!resume_token.empty()) {
    absl::StatusOr<ResumePoint> point = DecodeResumeToken(resume_token);
    if (!point.ok()) return point.status();
    resume = *point;
  }
  if (!stream->has_projection()) return absl::InternalError("watch stream without a projection");
  if (stream->shard() >= shards_.size()) {
    return absl::InternalError(
        absl::StrCat("watch stream of shard ", stream->shard(), " on a feed of ", shards_.size()));
  }
  Shard& shard = *shards_[stream->shard()];
  absl::MutexLock streams_lock(&shard.streams_mu);
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("the server is shutting down");
  if (current_ == nullptr) {
    return absl::UnavailableError(
        "the catalog has not been loaded from the hub yet: retry shortly");
  }
  if (options_.max_streams != 0 && stream_count_ >= options_.max_streams) {
    stats_.streams_refused.fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(
        absl::StrCat("too many watchers: this server streams to at most ", options_.max_streams,
                     " at once; retry later or on another replica"));
  }
  // Resumable when the token is this feed's and every change after it is retained.
  const int64_t oldest_retained = history_.empty() ? revision_ + 1 : history_.front()->revision;
  const bool resumable = resume && resume->instance == instance_ && resume->revision <= revision_ &&
                         resume->revision + 1 >= oldest_retained;
  if (resumable) {
    std::vector<std::shared_ptr<const ModelChange>> missed;
    for (const auto& change : history_) {
      if (change->revision > resume->revision) missed.push_back(change);
    }
    stream->projection().Resumed();
    stream->BeginReplay(missed, instance_, revision_, options_.clock, &stats_);
  } else {
    // A client that holds a state of its own is told what differs from it:
    // no resync, whichever replica its token came from.
    const bool holds_state = stream->projection().HoldsKnownState();
    if (holds_state) stream->projection().AdoptRetained(history_);
    stream->BeginInitial(current_, instance_, revision_,
                         /*resync=*/resume.has_value() && !holds_state, options_.clock, &stats_);
  }
  shard.by_connection[stream->connection()].insert(stream);
  ++stream_count_;
  return absl::OkStatus();
}

void ChangeFeed::Unsubscribe(WatchStream* stream) {
  if (stream->shard() >= shards_.size()) return;
  Shard& shard = *shards_[stream->shard()];
  absl::MutexLock streams_lock(&shard.streams_mu);
  auto group = shard.by_connection.find(stream->connection());
  if (group == shard.by_connection.end() || group->second.erase(stream) == 0) return;
  if (group->second.empty()) {
    // The connection may go with its last stream: its held burst ends now.
    shard.held_bursts.erase(stream->connection());
    shard.by_connection.erase(group);
  }
  absl::MutexLock lock(&mu_);
  --stream_count_;
}

void ChangeFeed::SendProgressLocked(Shard& shard) {
  const absl::Time now = options_.clock();
  for (const auto& [connection, streams] : shard.by_connection) {
    WriteBurst burst(connection);
    for (WatchStream* stream : streams) {
      stream->MaybeSendProgress(now, options_.progress_interval, &burst);
    }
  }
}

void ChangeFeed::SendProgress() {
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->streams_mu);
    SendProgressLocked(*shard);
  }
}

void ChangeFeed::StartProgressTicker() {
  if (ticker_.joinable()) return;
  ticker_ = std::thread([this] {
    // A few ticks per interval keep a stream's progress within a quarter
    // interval of due, whatever its phase.
    const absl::Duration tick = options_.progress_interval / 4;
    while (!stop_ticker_.WaitForNotificationWithTimeout(tick)) {
      {
        absl::MutexLock lock(&mu_);
        std::fill(progress_due_.begin(), progress_due_.end(), true);
      }
      for (size_t shard = 0; shard < shards_.size(); ++shard) {
        if (options_.schedule_delivery) {
          options_.schedule_delivery(shard);
        } else {
          DeliverShard(shard);
        }
      }
    }
  });
}

void ChangeFeed::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;  // from here Subscribe refuses, so no stream joins a shard ended below
  }
  EndHeldBursts();
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->streams_mu);
    for (const auto& [connection, streams] : shard->by_connection) {
      for (WatchStream* stream : streams) {
        stream->End(absl::UnavailableError("the server is shutting down"));
      }
    }
  }
}

int64_t ChangeFeed::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

size_t ChangeFeed::stream_count() const {
  absl::MutexLock lock(&mu_);
  return stream_count_;
}

}  // namespace modelcatalog::catalog
