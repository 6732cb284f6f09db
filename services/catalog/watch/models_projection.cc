#include "services/catalog/watch/models_projection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/catalog/model/proto_time.h"
#include "services/catalog/watch/model_diff.h"
#include "services/catalog/watch/resume_token.h"
#include "services/common/proto_wire.h"
#include "services/common/stable_hash.h"

namespace modelcatalog::catalog {
namespace {

using modelcatalog::v1::WatchEventType;

constexpr int kModelField = 3;  // WatchModelsResponse.model

// Classify's keys: one per view and event type, after DeploymentsProjection's 0.
constexpr int kAddedKey = 1;
constexpr int kChangedKey = 2;
constexpr int kRemovedKey = 3;
constexpr int kBasicKeyOffset = 3;

bool ParseVersion(absl::string_view text, uint64_t* version) {
  if (text.size() != 16) return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  *version = value;
  return true;
}

}  // namespace

uint64_t ViewVersion(const CatalogEntry& entry, bool basic_view) {
  // The FULL view is the stored serialization, whose hash the entry keeps.
  return basic_view ? StableHash64(entry.basic_wire()) : entry.fingerprint;
}

std::string FormatVersion(uint64_t version) { return absl::StrFormat("%016x", version); }

absl::StatusOr<std::unique_ptr<ModelsProjection>> ModelsProjection::Create(
    Filter filter, modelcatalog::v1::ModelView view,
    const google::protobuf::Map<std::string, std::string>& known_versions) {
  std::unique_ptr<ModelsProjection> projection(
      new ModelsProjection(std::move(filter), view == modelcatalog::v1::MODEL_VIEW_BASIC));
  projection->known_versions_.reserve(known_versions.size());
  for (const auto& [id, text] : known_versions) {
    uint64_t version = 0;
    if (!ParseVersion(text, &version)) {
      return absl::InvalidArgumentError(
          absl::StrCat("known_versions[\"", absl::CHexEscape(id), "\"] is \"",
                       absl::CHexEscape(text.substr(0, 64)),
                       "\", not a model_version (16 hexadecimal digits, as events carry them)"));
    }
    projection->known_versions_.emplace(id, version);
  }
  projection->start_with_versions_ = !projection->known_versions_.empty();
  return projection;
}

ModelsProjection::ModelsProjection(Filter filter, bool basic_view)
    : filter_(std::move(filter)), basic_view_(basic_view) {}

int ModelsProjection::Classify(const ModelChange& change) const {
  const bool was = InView(change.before_entry.get());
  const bool is = InView(change.after_entry.get());
  const int offset = basic_view_ ? kBasicKeyOffset : 0;
  if (!was) return is ? kAddedKey + offset : kNotTold;
  if (!is) return kRemovedKey + offset;
  // The FULL view is the whole model, and every change changes it.
  if (basic_view_ && !change.basic_view_changed) return kNotTold;
  return kChangedKey + offset;
}

namespace {

// What one event of a WatchModels stream says.
struct EventParts {
  WatchEventType type = modelcatalog::v1::WATCH_EVENT_TYPE_UNSPECIFIED;
  absl::string_view model_id;
  const CatalogEntry* model = nullptr;     // written in the view
  bool with_version = false;               // model_version of `model`
  const CatalogEntry* previous = nullptr;  // the state last sent, for a CHANGED event
  int64_t revision = 0;
  std::string resume_token;
  absl::Time observe_time;
  bool resync = false;
};

absl::string_view ViewWire(const CatalogEntry& entry, bool basic_view) {
  return basic_view ? entry.basic_wire() : absl::string_view(entry.wire);
}

modelcatalog::v1::Model ViewModel(const CatalogEntry& entry, bool basic_view) {
  const absl::string_view wire = ViewWire(entry, basic_view);
  modelcatalog::v1::Model model;
  model.ParseFromArray(wire.data(), static_cast<int>(wire.size()));
  return model;
}

EncodedEvent Encode(const EventParts& parts, bool basic_view) {
  ModelEvent event;
  event.set_type(parts.type);
  event.set_model_id(std::string(parts.model_id));
  if (parts.previous != nullptr && parts.model != nullptr) {
    const modelcatalog::v1::Model before = ViewModel(*parts.previous, basic_view);
    const std::vector<std::string> paths =
        ChangedFields(before, ViewModel(*parts.model, basic_view));
    for (const std::string& path : paths) event.mutable_changed_fields()->add_paths(path);
    *event.mutable_previous() = OnlyFields(before, paths);
  }
  if (parts.model != nullptr && parts.with_version) {
    event.set_model_version(FormatVersion(ViewVersion(*parts.model, basic_view)));
  }
  ToProtoTimestamp(parts.observe_time, event.mutable_observe_time());
  event.set_revision(parts.revision);
  event.set_resume_token(parts.resume_token);
  event.set_resync(parts.resync);
  std::string bytes = event.SerializeAsString();
  // The model as stored, rather than parsed into the message and serialized again.
  if (parts.model != nullptr) {
    AppendLengthDelimited(kModelField, ViewWire(*parts.model, basic_view), &bytes);
  }
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace

EncodedEvent ModelsProjection::EncodeChange(const CatalogEntry* known, const ModelChange& latest,
                                            uint64_t instance) const {
  const CatalogEntry* now = latest.after_entry.get();
  const bool was = InView(known);
  const bool is = InView(now);
  if (!was && !is) return nullptr;
  EventParts parts;
  parts.model_id = latest.model_id;
  parts.revision = latest.revision;
  parts.resume_token = EncodeResumeToken({instance, latest.revision});
  parts.observe_time = latest.observed_at;
  if (!was) {
    parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_ADDED;
    parts.model = now;
    parts.with_version = true;
  } else if (!is) {
    // The state that no longer matches, or the last one the client had.
    parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED;
    parts.model = now != nullptr ? now : known;
  } else {
    // Changed and changed back while the client lagged, or changed outside the view.
    if (ViewVersion(*known, basic_view_) == ViewVersion(*now, basic_view_)) return nullptr;
    parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED;
    parts.model = now;
    parts.with_version = true;
    parts.previous = known;
  }
  return Encode(parts, basic_view_);
}

void ModelsProjection::AdoptRetained(
    const std::deque<std::shared_ptr<const ModelChange>>& history) {
  if (known_versions_.empty()) return;
  // Every state of a model that a retained change replaced is the change's
  // `before_entry`; the states still current are in the snapshot.
  for (const auto& change : history) {
    const std::shared_ptr<const CatalogEntry>& state = change->before_entry;
    if (state == nullptr) continue;
    auto held = known_versions_.find(state->id);
    if (held != known_versions_.end() && held->second == ViewVersion(*state, basic_view_)) {
      known_states_[state->id] = state;
    }
  }
}

void ModelsProjection::Resumed() {
  known_versions_ = {};
  known_states_ = {};
}

EncodedEvent ModelsProjection::NextStartEvent(const CatalogSnapshot& snapshot, size_t* cursor,
                                              const StartStamp& stamp) {
  if (start_with_versions_) return NextKnownDifference(snapshot, cursor, stamp);
  while (*cursor < snapshot.size()) {
    const CatalogEntry& entry = snapshot.entry((*cursor)++);
    if (!filter_.Matches(entry)) continue;
    EventParts parts;
    parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL;
    parts.model_id = entry.id;
    parts.model = &entry;
    parts.with_version = true;
    parts.revision = stamp.revision;
    parts.observe_time = stamp.now;
    parts.resync = stamp.resync;
    return Encode(parts, basic_view_);
  }
  return nullptr;
}

EncodedEvent ModelsProjection::NextKnownDifference(const CatalogSnapshot& snapshot, size_t* cursor,
                                                   const StartStamp& stamp) {
  // Like INITIAL events these carry the stream's start revision and no token.
  EventParts parts;
  parts.revision = stamp.revision;
  parts.observe_time = stamp.now;
  while (*cursor < snapshot.size()) {
    const CatalogEntry& entry = snapshot.entry((*cursor)++);
    parts.model_id = entry.id;
    parts.model = &entry;
    const bool in_view = filter_.Matches(entry);
    auto held = known_versions_.find(entry.id);
    if (held == known_versions_.end()) {
      if (!in_view) continue;
      parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_ADDED;
      parts.with_version = true;
      return Encode(parts, basic_view_);
    }
    const uint64_t held_version = held->second;
    known_versions_.erase(held);
    if (!in_view) {
      parts.type =
          modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED;  // with the state that no longer matches
      return Encode(parts, basic_view_);
    }
    if (held_version == ViewVersion(entry, basic_view_)) continue;
    parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED;
    parts.with_version = true;
    auto state = known_states_.find(entry.id);
    if (state != known_states_.end()) parts.previous = state->second.get();
    EncodedEvent event = Encode(parts, basic_view_);
    if (state != known_states_.end()) known_states_.erase(state);
    return event;
  }
  if (!scanned_) {
    // What is left of the held ids is no longer in the catalog: REMOVED in id order.
    scanned_ = true;
    gone_.reserve(known_versions_.size());
    for (const auto& [id, version] : known_versions_) gone_.push_back(id);
    std::sort(gone_.begin(), gone_.end(), std::greater<>());
    known_versions_ = {};
  }
  if (gone_.empty()) {
    known_states_ = {};
    return nullptr;
  }
  const std::string id = std::move(gone_.back());
  gone_.pop_back();
  parts.type = modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED;
  parts.model_id = id;
  parts.model = nullptr;
  auto state = known_states_.find(id);  // its last state, when this replica saw it
  if (state != known_states_.end()) parts.model = state->second.get();
  return Encode(parts, basic_view_);
}

}  // namespace modelcatalog::catalog
