#include "services/catalog/watch/watch_stream.h"

#include <algorithm>
#include <utility>

#include "services/catalog/model/proto_time.h"
#include "services/catalog/watch/resume_token.h"

namespace modelcatalog::catalog {

WatchStream::WatchStream(WatchSink* sink, size_t shard) : sink_(sink), shard_(shard) {}

void WatchStream::SetProjection(std::unique_ptr<WatchProjection> projection) {
  projection_ = std::move(projection);
}

size_t WatchStream::pending_count() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

void WatchStream::BeginInitial(std::shared_ptr<const CatalogSnapshot> snapshot, uint64_t instance,
                               int64_t revision, bool resync, std::function<absl::Time()> clock,
                               FeedStats* stats) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    clock_ = std::move(clock);
    stats_ = stats;
    instance_ = instance;
    start_revision_ = revision;
    seen_revision_ = revision;
    resync_ = resync;
    initial_ = std::move(snapshot);
    next_initial_ = 0;
    PumpLocked();
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::BeginReplay(const std::vector<std::shared_ptr<const ModelChange>>& missed,
                              uint64_t instance, int64_t revision,
                              std::function<absl::Time()> clock, FeedStats* stats) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    clock_ = std::move(clock);
    stats_ = stats;
    instance_ = instance;
    start_revision_ = revision;
    seen_revision_ = revision;
    for (const auto& change : missed) {
      if (projection_->Classify(*change) != WatchProjection::kNotTold) {
        AddPendingLocked(change, EncodedEvent());
      }
    }
    PumpLocked();
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::Offer(const std::shared_ptr<const ModelChange>& change, SharedEvents* shared,
                        WriteBurst* burst) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    // Delivered from a thread, a change can reach a stream that started after it
    // was published, with it in its initial state or replay.
    if (change->revision <= seen_revision_) return;
    seen_revision_ = change->revision;
    const int key = projection_->Classify(*change);
    if (key == WatchProjection::kNotTold) return;
    // Built by the first stream of the shard that tells the change with this
    // key; the others write the same bytes.
    const uint64_t instance = instance_;
    const EncodedEvent& encoded = shared->Get(key, [&] {
      return projection_->EncodeChange(change->before_entry.get(), *change, instance);
    });
    if (IdleLocked()) {
      // The common case of a fan-out: a stream with nothing queued writes the
      // shared event at once, without a trip through its pending set.
      if (encoded == nullptr) {
        stats_->changes_dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      WriteEncodedLocked(encoded, clock_());
    } else {
      AddPendingLocked(change, encoded);
      PumpLocked();
    }
    out = TakeOutgoingLocked();
  }
  Send(std::move(out), burst);
}

bool WatchStream::IdleLocked() const {
  return marker_sent_ && !write_in_flight_ && !finish_after_write_ && initial_ == nullptr &&
         pending_order_.empty();
}

void WatchStream::AddPendingLocked(const std::shared_ptr<const ModelChange>& change,
                                   EncodedEvent encoded) {
  auto it = pending_.find(change->model_id);
  if (it == pending_.end()) {
    pending_.emplace(change->model_id, Pending{change->before_entry, change, std::move(encoded)});
  } else {
    // Merge: keep what the client last knew, take the newest state, and move
    // the entry behind every change older than this one. The event is this
    // stream's own from now on.
    pending_order_.erase(it->second.latest->revision);
    it->second.latest = change;
    it->second.encoded.reset();
    stats_->changes_coalesced.fetch_add(1, std::memory_order_relaxed);
  }
  pending_order_.emplace(change->revision, change->model_id);
}

void WatchStream::PumpLocked() {
  if (finished_ || write_in_flight_) return;
  if (finish_after_write_) {
    FinishLocked(*finish_after_write_);
    return;
  }
  if (initial_ != nullptr && NextInitialLocked()) return;
  if (!marker_sent_) {
    // Replayed changes come before the marker; live ones after it.
    if (NextPendingLocked()) return;
    marker_sent_ = true;
    const absl::Time now = clock_();
    WriteEncodedLocked(EncodeMarker(start_revision_, TokenLocked(start_revision_), resync_, now),
                       now);
    return;
  }
  NextPendingLocked();
}

bool WatchStream::NextInitialLocked() {
  const absl::Time now = clock_();
  EncodedEvent event =
      projection_->NextStartEvent(*initial_, &next_initial_, {start_revision_, resync_, now});
  if (event == nullptr) {
    initial_.reset();
    return false;
  }
  WriteEncodedLocked(std::move(event), now);
  return true;
}

bool WatchStream::NextPendingLocked() {
  while (!pending_order_.empty()) {
    auto first = pending_order_.begin();
    if (!marker_sent_ && first->first > start_revision_) return false;
    auto it = pending_.find(first->second);
    Pending pending = std::move(it->second);
    pending_.erase(it);
    pending_order_.erase(first);

    if (pending.encoded != nullptr) {  // the change as it was published: shared bytes
      WriteEncodedLocked(std::move(pending.encoded), clock_());
      return true;
    }
    EncodedEvent event = projection_->EncodeChange(pending.known.get(), *pending.latest, instance_);
    if (event == nullptr) {
      // Nothing left to tell: a model added and removed while the client
      // lagged, or changed and changed back.
      stats_->changes_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    WriteEncodedLocked(std::move(event), clock_());
    return true;
  }
  return false;
}

void WatchStream::MaybeSendProgress(absl::Time now, absl::Duration interval, WriteBurst* burst) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || write_in_flight_ || finish_after_write_ || initial_ != nullptr ||
        !marker_sent_ || !pending_order_.empty()) {
      return;
    }
    if (now - last_write_time_ < interval) return;
    WriteEncodedLocked(EncodeProgress(seen_revision_, TokenLocked(seen_revision_), now), now);
    out = TakeOutgoingLocked();
  }
  Send(std::move(out), burst);
}

void WatchStream::WriteEncodedLocked(EncodedEvent event, absl::Time now) {
  write_in_flight_ = true;
  last_write_time_ = now;
  stats_->events_sent.fetch_add(1, std::memory_order_relaxed);
  outgoing_.write = std::move(event);
}

std::string WatchStream::TokenLocked(int64_t revision) const {
  return EncodeResumeToken({instance_, revision});
}

WatchStream::Outgoing WatchStream::TakeOutgoingLocked() { return std::exchange(outgoing_, {}); }

void WatchStream::Send(Outgoing out, WriteBurst* burst) {
  // After FinishStream the transport may free the stream: nothing follows it.
  if (out.write != nullptr) {
    if (burst != nullptr) burst->BeforeWrite();
    sink_->StartEventWrite(std::move(out.write));
  }
  if (out.finish) sink_->FinishStream(*out.finish);
}

void WatchStream::OnEventWritten(bool ok) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) {
      FinishLocked(absl::CancelledError("the client went away"));
    } else {
      PumpLocked();
    }
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::OnStreamCancelled() {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    FinishLocked(absl::CancelledError("the client cancelled the stream"));
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::End(const absl::Status& status) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::FinishLocked(const absl::Status& status) {
  if (finished_) return;
  if (write_in_flight_) {  // A stream is finished only between writes.
    if (!finish_after_write_) finish_after_write_ = status;
    return;
  }
  finished_ = true;
  pending_.clear();
  pending_order_.clear();
  initial_.reset();
  outgoing_.finish = status;
}

}  // namespace modelcatalog::catalog
