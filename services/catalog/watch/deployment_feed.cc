#include "services/catalog/watch/deployment_feed.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/catalog/model/proto_time.h"
#include "services/catalog/model/token_encoding.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::DeploymentStatus;

// A model's status as watchers see it: its first deployment's, as the hub's
// own examples read it. The full list travels in every event.
void SetStatus(const Deployments& deployments, DeploymentStatus* status, std::string* raw) {
  if (deployments.empty()) {
    *status = modelcatalog::v1::DEPLOYMENT_STATUS_UNSPECIFIED;
    raw->clear();
    return;
  }
  *status = deployments[0].status();
  *raw = deployments[0].status_raw();
}

// Resume token layout, little-endian: version u8 | instance u64 | revision i64 | checksum u32.
constexpr uint8_t kResumeTokenVersion = 1;
constexpr size_t kResumeTokenSize = 1 + 8 + 8 + 4;

// The event of a change for a stream whose client last knew `first_before`,
// from a change of kind `first_kind`, now that `latest` is the newest change of
// the model. The caller has dropped a model added and removed meanwhile.
void BuildChangeEvent(FeedChange::Kind first_kind, const Deployments& first_before,
                      const FeedChange& latest, uint64_t instance, WatchEvent* event) {
  DeploymentStatus status;
  if (latest.kind == FeedChange::Kind::kRemoved) {
    event->set_type(modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED);
  } else {
    event->set_type(first_kind == FeedChange::Kind::kAdded
                        ? modelcatalog::v1::WATCH_EVENT_TYPE_ADDED
                        : modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED);
    SetStatus(latest.after, &status, event->mutable_status_raw());
    event->set_status(status);
    *event->mutable_deployments() = latest.after;
  }
  if (first_kind != FeedChange::Kind::kAdded) {
    SetStatus(first_before, &status, event->mutable_previous_status_raw());
    event->set_previous_status(status);
  }
  event->set_model_id(latest.model_id);
  ToProtoTimestamp(latest.observed_at, event->mutable_observe_time());
  event->set_revision(latest.revision);
  event->set_resume_token(EncodeResumeToken({instance, latest.revision}));
}

EncodedEvent Serialize(const WatchEvent& event) {
  return std::make_shared<const std::string>(event.SerializeAsString());
}

uint64_t RandomInstance() {
  std::random_device random;
  uint64_t instance = 0;
  while (instance == 0) instance = (static_cast<uint64_t>(random()) << 32) | random();
  return instance;
}

}  // namespace

bool DeploymentStatusesDiffer(const Deployments& a, const Deployments& b) {
  if (a.size() != b.size()) return true;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].status_raw() != b[i].status_raw() || a[i].status() != b[i].status()) return true;
  }
  return false;
}

std::string EncodeResumeToken(const ResumePoint& point) {
  std::string raw;
  raw.reserve(kResumeTokenSize);
  raw.push_back(static_cast<char>(kResumeTokenVersion));
  PutLittleEndian(point.instance, 8, &raw);
  PutLittleEndian(static_cast<uint64_t>(point.revision), 8, &raw);
  PutLittleEndian(StableChecksum(raw), 4, &raw);
  return absl::WebSafeBase64Escape(raw);
}

EncodedEvent EncodeChange(const FeedChange& change, uint64_t instance) {
  WatchEvent event;
  BuildChangeEvent(change.kind, change.before, change, instance, &event);
  return Serialize(event);
}

absl::StatusOr<ResumePoint> DecodeResumeToken(absl::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() != kResumeTokenSize ||
      static_cast<uint8_t>(raw[0]) != kResumeTokenVersion ||
      GetLittleEndian(raw.data() + kResumeTokenSize - 4, 4) !=
          StableChecksum(absl::string_view(raw.data(), kResumeTokenSize - 4))) {
    return absl::InvalidArgumentError(
        "resume_token is not a valid resume token: pass the resume_token of an event unchanged");
  }
  ResumePoint point;
  point.instance = GetLittleEndian(raw.data() + 1, 8);
  point.revision = static_cast<int64_t>(GetLittleEndian(raw.data() + 9, 8));
  return point;
}

// --- WatchStream ---

namespace {
std::vector<std::string> SortedUnique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}
}  // namespace

WatchStream::WatchStream(const std::vector<std::string>& model_ids, size_t shard)
    : shard_(shard),
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

bool WatchStream::Watches(const FeedChange& change) const {
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

void WatchStream::BeginReplay(const std::vector<std::shared_ptr<const FeedChange>>& missed,
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

void WatchStream::Offer(const std::shared_ptr<const FeedChange>& change,
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

void WatchStream::AddPendingLocked(const std::shared_ptr<const FeedChange>& change,
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
  DeploymentStatus status;
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

    const FeedChange& latest = *pending.latest;
    // Appeared and vanished while the client lagged: it never knew the model.
    if (latest.kind == FeedChange::Kind::kRemoved &&
        pending.first_kind == FeedChange::Kind::kAdded) {
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
  if (event->type() != modelcatalog::v1::WATCH_EVENT_TYPE_PROGRESS &&
      !event->has_observe_time()) {
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
  if (out.write != nullptr) StartEventWrite(std::move(out.write));
  if (out.finish) FinishStream(*out.finish);
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

// --- DeploymentFeed ---

DeploymentFeed::DeploymentFeed(DeploymentFeedOptions options)
    : options_(std::move(options)),
      instance_(options_.instance != 0 ? options_.instance : RandomInstance()) {
  const size_t shards = std::max<size_t>(1, options_.shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
  absl::MutexLock lock(&mu_);
  undelivered_.resize(shards);
}

DeploymentFeed::~DeploymentFeed() {
  if (!stop_ticker_.HasBeenNotified()) stop_ticker_.Notify();
  if (ticker_.joinable()) ticker_.join();
}

void DeploymentFeed::Publish(std::shared_ptr<const CatalogSnapshot> snapshot,
                             std::vector<FeedChange> changes) {
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(snapshot);
    for (FeedChange& change : changes) {
      change.revision = ++revision_;
      auto shared = std::make_shared<const FeedChange>(std::move(change));
      history_.push_back(shared);
      if (history_.size() > options_.history_size) history_.pop_front();
      for (Changes& undelivered : undelivered_) undelivered.push_back(shared);
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

void DeploymentFeed::DeliverShard(size_t index) {
  Shard& shard = *shards_[index];
  // Held while offering, so two deliveries of one shard (two publishers
  // delivering their own changes) offer in revision order.
  absl::MutexLock streams_lock(&shard.streams_mu);
  Changes changes;
  {
    absl::MutexLock lock(&mu_);
    changes.swap(undelivered_[index]);
  }
  for (const auto& change : changes) {
    // Serialized once, on the first stream that watches the model.
    EncodedEvent encoded;
    for (WatchStream* stream : shard.streams) {
      if (encoded == nullptr && stream->Watches(*change)) encoded = EncodeChange(*change, instance_);
      stream->Offer(change, encoded);
    }
  }
}

absl::Status DeploymentFeed::Subscribe(WatchStream* stream, absl::string_view resume_token) {
  absl::optional<ResumePoint> resume;
  if (!resume_token.empty()) {
    absl::StatusOr<ResumePoint> point = DecodeResumeToken(resume_token);
    if (!point.ok()) return point.status();
    resume = *point;
  }
  if (stream->shard() >= shards_.size()) {
    return absl::InternalError(absl::StrCat("watch stream of shard ", stream->shard(),
                                            " on a feed of ", shards_.size()));
  }
  Shard& shard = *shards_[stream->shard()];
  absl::MutexLock streams_lock(&shard.streams_mu);
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("the server is shutting down");
  if (current_ == nullptr) {
    return absl::UnavailableError("the catalog has not been loaded from the hub yet: retry shortly");
  }
  if (options_.max_streams != 0 && stream_count_ >= options_.max_streams) {
    stats_.streams_refused.fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many watchers: this server streams to at most ", options_.max_streams,
        " at once; retry later or on another replica"));
  }
  // Resumable when the token is this feed's and every change after it is retained.
  const int64_t oldest_retained = history_.empty() ? revision_ + 1 : history_.front()->revision;
  const bool resumable = resume && resume->instance == instance_ &&
                         resume->revision <= revision_ && resume->revision + 1 >= oldest_retained;
  if (resumable) {
    std::vector<std::shared_ptr<const FeedChange>> missed;
    for (const auto& change : history_) {
      if (change->revision > resume->revision) missed.push_back(change);
    }
    stream->BeginReplay(missed, instance_, revision_, options_.clock, &stats_);
  } else {
    stream->BeginInitial(current_, instance_, revision_, /*resync=*/resume.has_value(),
                         options_.clock, &stats_);
  }
  shard.streams.insert(stream);
  ++stream_count_;
  return absl::OkStatus();
}

void DeploymentFeed::Unsubscribe(WatchStream* stream) {
  if (stream->shard() >= shards_.size()) return;
  Shard& shard = *shards_[stream->shard()];
  absl::MutexLock streams_lock(&shard.streams_mu);
  if (shard.streams.erase(stream) == 0) return;
  absl::MutexLock lock(&mu_);
  --stream_count_;
}

void DeploymentFeed::SendProgress() {
  const absl::Time now = options_.clock();
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->streams_mu);
    for (WatchStream* stream : shard->streams) {
      stream->MaybeSendProgress(now, options_.progress_interval);
    }
  }
}

void DeploymentFeed::StartProgressTicker() {
  if (ticker_.joinable()) return;
  ticker_ = std::thread([this] {
    // A few ticks per interval keep a stream's progress within a quarter
    // interval of due, whatever its phase.
    const absl::Duration tick = options_.progress_interval / 4;
    while (!stop_ticker_.WaitForNotificationWithTimeout(tick)) SendProgress();
  });
}

void DeploymentFeed::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;  // from here Subscribe refuses, so no stream joins a shard ended below
  }
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->streams_mu);
    for (WatchStream* stream : shard->streams) {
      stream->End(absl::UnavailableError("the server is shutting down"));
    }
  }
}

int64_t DeploymentFeed::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

size_t DeploymentFeed::stream_count() const {
  absl::MutexLock lock(&mu_);
  return stream_count_;
}

}  // namespace modelcatalog::catalog
