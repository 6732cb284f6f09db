#include "services/catalog/watch/watch_stream.h"

#include <algorithm>
#include <utility>

#include "services/catalog/model/proto_time.h"
#include "services/catalog/watch/resume_token.h"

namespace modelcatalog::catalog {

namespace {
std::vector<std::string> SortedUnique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}
}  // namespace

WatchStream::WatchStream(WatchSink* sink, const std::vector<std::string>& model_ids, size_t shard)
    : sink_(sink),
      shard_(shard),
      model_ids_(SortedUnique(model_ids)),
      model_id_set_(model_ids_.begin(), model_ids_.end()) {}

void WatchStream::SetWatchedModels(const std::vector<std::string>& model_ids) {
  model_ids_ = SortedUnique(model_ids);
  model_id_set_ = absl::flat_hash_set<std::string>(model_ids_.begin(), model_ids_.end());
}

size_t WatchStream::pending_count() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

bool WatchStream::Watches(const ModelChange& change) const {
  // The feed carries every change of a model; this stream tells deployments.
  if (!change.deployments_changed) return false;
  if (!model_id_set_.empty()) return model_id_set_.contains(change.model_id);
  // Watching everything means every model with deployments.
  return !change.before.empty() || !change.after.empty();
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
      if (Watches(*change)) AddPendingLocked(change, EncodedEvent());
    }
    PumpLocked();
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::Offer(const std::shared_ptr<const ModelChange>& change,
                        const EncodedEvent& encoded) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    // Delivered from a thread, a change can reach a stream that started after it
    // was published, with it in its initial state or replay.
    if (change->revision <= seen_revision_) return;
    seen_revision_ = change->revision;
    if (!Watches(*change)) return;
    AddPendingLocked(change, encoded);
    PumpLocked();
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::AddPendingLocked(const std::shared_ptr<const ModelChange>& change,
                                   EncodedEvent encoded) {
  auto it = pending_.find(change->model_id);
  if (it == pending_.end()) {
    pending_.emplace(change->model_id,
                     Pending{change->kind, change->before, change, std::move(encoded)});
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
    WatchEvent event;
    event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE);
    event.set_revision(start_revision_);
    event.set_resume_token(TokenLocked(start_revision_));
    event.set_resync(resync_);
    marker_sent_ = true;
    WriteLocked(&event);
    return;
  }
  NextPendingLocked();
}

bool WatchStream::NextInitialLocked() {
  const CatalogSnapshot& snapshot = *initial_;
  const CatalogEntry* entry = nullptr;
  if (!model_ids_.empty()) {
    while (entry == nullptr && next_initial_ < model_ids_.size()) {
      entry = snapshot.Find(model_ids_[next_initial_++]);  // absent ids come as ADDED later
    }
  } else {
    while (entry == nullptr && next_initial_ < snapshot.size()) {
      const CatalogEntry& candidate = snapshot.entry(next_initial_++);
      if (!candidate.deployments.empty()) entry = &candidate;
    }
  }
  if (entry == nullptr) {
    initial_.reset();
    return false;
  }
  WatchEvent event;
  event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL);
  event.set_model_id(entry->id);
  modelcatalog::v1::DeploymentStatus status;
  SetStatus(entry->deployments, &status, event.mutable_status_raw());
  event.set_status(status);
  *event.mutable_deployments() = entry->deployments;
  event.set_revision(start_revision_);
  event.set_resync(resync_);
  WriteLocked(&event);
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

    const ModelChange& latest = *pending.latest;
    // Appeared and vanished while the client lagged: it never knew the model.
    if (latest.kind == ModelChange::Kind::kRemoved &&
        pending.first_kind == ModelChange::Kind::kAdded) {
      stats_->changes_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (pending.encoded != nullptr) {  // the change as it was published: shared bytes
      WriteEncodedLocked(std::move(pending.encoded), clock_());
      return true;
    }
    WatchEvent event;
    BuildChangeEvent(pending.first_kind, pending.first_before, latest, instance_, &event);
    WriteLocked(&event);
    return true;
  }
  return false;
}

void WatchStream::MaybeSendProgress(absl::Time now, absl::Duration interval) {
  Outgoing out;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || write_in_flight_ || finish_after_write_ || initial_ != nullptr ||
        !marker_sent_ || !pending_order_.empty()) {
      return;
    }
    if (now - last_write_time_ < interval) return;
    WatchEvent event;
    event.set_type(modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS);
    event.set_revision(seen_revision_);
    event.set_resume_token(TokenLocked(seen_revision_));
    ToProtoTimestamp(now, event.mutable_observe_time());
    WriteLocked(&event);
    out = TakeOutgoingLocked();
  }
  Send(std::move(out));
}

void WatchStream::WriteLocked(WatchEvent* event) {
  const absl::Time now = clock_();
  if (event->type() != modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS && !event->has_observe_time()) {
    ToProtoTimestamp(now, event->mutable_observe_time());
  }
  WriteEncodedLocked(Serialize(*event), now);
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

void WatchStream::Send(Outgoing out) {
  // After FinishStream the transport may free the stream: nothing follows it.
  if (out.write != nullptr) sink_->StartEventWrite(std::move(out.write));
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
