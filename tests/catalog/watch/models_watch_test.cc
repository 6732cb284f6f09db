// WatchModels streams on the change feed: a filtered, viewed projection of
// every change of the catalog, and the start from the versions a client holds.
#include <algorithm>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "services/catalog/watch/deployments_projection.h"
#include "services/catalog/watch/models_projection.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::modelcatalog::v1::Model;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A watch stream whose client reads when the test says so, parsing its events as `Event`.
template <typename Event>
class Recorder : public WatchSink {
 public:
  explicit Recorder(std::unique_ptr<WatchProjection> projection) : stream_(this) {
    stream_.SetProjection(std::move(projection));
  }

  WatchStream* watch() { return &stream_; }

  bool Read() {
    EncodedEvent bytes;
    {
      absl::MutexLock lock(&mu_);
      if (in_flight_ == nullptr) return false;
      bytes = std::move(in_flight_);
    }
    Event event;
    EXPECT_TRUE(event.ParseFromString(*bytes));
    events.push_back(event);
    written.push_back(bytes);
    stream_.OnEventWritten(true);
    return true;
  }
  void ReadAll() {
    while (Read()) {
    }
  }
  // The events read since the last call (their bytes stay in `written` until then).
  std::vector<Event> TakeEvents() {
    ReadAll();
    written.clear();
    return std::exchange(events, {});
  }

  std::vector<Event> events;
  std::vector<EncodedEvent> written;

 private:
  void StartEventWrite(EncodedEvent event) override {
    absl::MutexLock lock(&mu_);
    in_flight_ = std::move(event);
  }
  void FinishStream(const absl::Status& status) override {}

  WatchStream stream_;
  absl::Mutex mu_;
  EncodedEvent in_flight_;
};

std::unique_ptr<WatchProjection> ModelsWatch(const std::string& filter,
                                             modelcatalog::v1::ModelView view,
                                             const std::map<std::string, std::string>& known) {
  google::protobuf::Map<std::string, std::string> versions(known.begin(), known.end());
  auto parsed = Filter::Parse(filter);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto projection = ModelsProjection::Create(*std::move(parsed), view, versions);
  EXPECT_TRUE(projection.ok()) << projection.status();
  return *std::move(projection);
}

// A WatchModels stream of `filter` in `view`, its client holding `known`.
class ModelsStream : public Recorder<ModelEvent> {
 public:
  explicit ModelsStream(const std::string& filter, modelcatalog::v1::ModelView view = {},
                        const std::map<std::string, std::string>& known = {})
      : Recorder(ModelsWatch(filter, view, known)) {}
};

// "TYPE id [paths]" per event, "@revision" and flags at the end.
std::vector<std::string> Describe(const std::vector<ModelEvent>& events) {
  std::vector<std::string> out;
  for (const ModelEvent& e : events) {
    std::string text = modelcatalog::v1::WatchEventType_Name(e.type()).substr(17);
    if (!e.model_id().empty()) text += " " + e.model_id();
    for (const std::string& path : e.changed_fields().paths()) text += " " + path;
    text += " @" + std::to_string(e.revision());
    if (e.resync()) text += " resync";
    out.push_back(text);
  }
  return out;
}

Model Image(const std::string& id, double cost_per_image) {
  Model model = MakeModel(id);
  model.mutable_pricing()->set_method_raw("image");
  model.mutable_pricing()->set_cost_per_image(cost_per_image);
  return model;
}

Model Chat(const std::string& id, double input_cost, const std::string& description = "") {
  Model model = MakeModel(id);
  model.mutable_pricing()->set_method_raw("token");
  model.mutable_pricing()->set_input_cost_per_token(input_cost);
  if (!description.empty()) model.set_description(description);
  return model;
}

constexpr char kCheap[] = "pricing.input_cost_per_token < 0.000002";

class ModelsWatchTest : public ::testing::Test {
 protected:
  ModelsWatchTest() : feed_(Options(1)) { Publish(Catalog()); }

  static ChangeFeedOptions Options(uint64_t instance) {
    ChangeFeedOptions options;
    options.instance = instance;
    options.history_size = 100;
    options.clock = [] { return absl::FromUnixSeconds(1764000000); };
    return options;
  }

  // The catalog the tests start from; each test edits a copy.
  static std::map<std::string, Model> Catalog() {
    return {{"flux", Image("flux", 0.025)},
            {"gpt", Chat("gpt", 0.000001)},
            {"claude", Chat("claude", 0.000003, "Writes well.")}};
  }

  // Publishes `models` as the next catalog, with its changes from the last one.
  void Publish(const std::map<std::string, Model>& models, ChangeFeed* feed = nullptr) {
    std::vector<Model> list;
    for (const auto& [id, model] : models) list.push_back(model);
    auto snapshot = CatalogSnapshot::Build(list, ++revision_, absl::FromUnixSeconds(1764000000));
    std::vector<ModelChange> changes =
        DiffModels(served_.get(), *snapshot, absl::FromUnixSeconds(1764000000 + revision_));
    (feed != nullptr ? feed : &feed_)->Publish(snapshot, std::move(changes));
    served_ = snapshot;
  }

  std::string VersionOf(const std::string& id, bool basic = false) const {
    return FormatVersion(ViewVersion(*served_->Find(id), basic));
  }

  ChangeFeed feed_;
  std::shared_ptr<const CatalogSnapshot> served_;
  int64_t revision_ = 0;
};

TEST_F(ModelsWatchTest, StartsWithTheMatchingModelsInTheirViewThenTheMarker) {
  ModelsStream cheap(kCheap);
  ASSERT_TRUE(feed_.Subscribe(cheap.watch(), "").ok());
  const std::vector<ModelEvent> events = cheap.TakeEvents();
  EXPECT_THAT(Describe(events), ElementsAre("INITIAL gpt @0", "INITIAL_STATE_COMPLETE @0"));
  EXPECT_EQ(events[0].model().id(), "gpt");
  EXPECT_DOUBLE_EQ(events[0].model().pricing().input_cost_per_token(), 0.000001);
  EXPECT_EQ(events[0].model_version(), VersionOf("gpt"));
  EXPECT_THAT(events[0].resume_token(), IsEmpty());
  EXPECT_THAT(events[1].resume_token(), Not(IsEmpty()));

  ModelsStream basic("", modelcatalog::v1::MODEL_VIEW_BASIC);
  ASSERT_TRUE(feed_.Subscribe(basic.watch(), "").ok());
  const std::vector<ModelEvent> all = basic.TakeEvents();
  ASSERT_THAT(Describe(all), ElementsAre("INITIAL claude @0", "INITIAL flux @0", "INITIAL gpt @0",
                                         "INITIAL_STATE_COMPLETE @0"));
  EXPECT_FALSE(all[0].model().has_description());  // BASIC leaves it out
  EXPECT_EQ(all[0].model_version(), VersionOf("claude", /*basic=*/true));
  EXPECT_NE(all[0].model_version(), VersionOf("claude"));
}

TEST_F(ModelsWatchTest, APriceChangeArrivesFieldByFieldWithThePreviousValue) {
  ModelsStream all("");
  ASSERT_TRUE(feed_.Subscribe(all.watch(), "").ok());
  all.TakeEvents();
  auto catalog = Catalog();
  catalog["flux"] = Image("flux", 0.02);
  Publish(catalog);
  const std::vector<ModelEvent> events = all.TakeEvents();
  ASSERT_THAT(Describe(events), ElementsAre("CHANGED flux pricing.cost_per_image @1"));
  const ModelEvent& changed = events[0];
  EXPECT_DOUBLE_EQ(changed.model().pricing().cost_per_image(), 0.02);
  EXPECT_DOUBLE_EQ(changed.previous().pricing().cost_per_image(), 0.025);
  EXPECT_THAT(changed.previous().display_name(), IsEmpty());  // only the changed fields
  EXPECT_EQ(changed.model_version(), VersionOf("flux"));
  EXPECT_THAT(changed.resume_token(), Not(IsEmpty()));
  EXPECT_EQ(changed.observe_time().seconds(), 1764000000 + 2);
}

TEST_F(ModelsWatchTest, AFilteredStreamSeesModelsComeAndGoAsTheyStartAndStopMatching) {
  ModelsStream cheap(kCheap);
  ASSERT_TRUE(feed_.Subscribe(cheap.watch(), "").ok());
  cheap.TakeEvents();
  auto catalog = Catalog();
  catalog["claude"] = Chat("claude", 0.000001, "Writes well.");  // now under the threshold
  catalog["gpt"] = Chat("gpt", 0.000005);                        // now over it
  catalog["flux"] = Image("flux", 0.01);                         // never matched
  Publish(catalog);
  std::vector<ModelEvent> events = cheap.TakeEvents();
  ASSERT_THAT(Describe(events), ElementsAre("ADDED claude @1", "REMOVED gpt @3"));
  EXPECT_EQ(events[0].model_version(), VersionOf("claude"));
  // REMOVED carries the state that no longer matches, and no version.
  EXPECT_DOUBLE_EQ(events[1].model().pricing().input_cost_per_token(), 0.000005);
  EXPECT_THAT(events[1].model_version(), IsEmpty());

  // A model that leaves the catalog while not matching is no news; one that
  // matched goes with its last state.
  catalog.erase("gpt");
  catalog.erase("claude");
  Publish(catalog);
  events = cheap.TakeEvents();
  ASSERT_THAT(Describe(events), ElementsAre("REMOVED claude @4"));
  EXPECT_EQ(events[0].model().description(), "Writes well.");
}

TEST_F(ModelsWatchTest, TheBasicViewIsNotToldOfChangesOutsideIt) {
  ModelsStream basic("", modelcatalog::v1::MODEL_VIEW_BASIC);
  ModelsStream full("");
  ASSERT_TRUE(feed_.Subscribe(basic.watch(), "").ok());
  ASSERT_TRUE(feed_.Subscribe(full.watch(), "").ok());
  basic.TakeEvents();
  full.TakeEvents();
  auto catalog = Catalog();
  catalog["claude"].set_description("Writes very well.");
  Publish(catalog);
  EXPECT_THAT(basic.TakeEvents(), IsEmpty());
  EXPECT_THAT(Describe(full.TakeEvents()), ElementsAre("CHANGED claude description @1"));
  catalog["claude"].set_display_name("Claude");
  Publish(catalog);
  std::vector<ModelEvent> events = basic.TakeEvents();
  ASSERT_THAT(Describe(events), ElementsAre("CHANGED claude display_name @2"));
  EXPECT_EQ(events[0].previous().display_name(), "claude");
  EXPECT_FALSE(events[0].model().has_description());
}

TEST_F(ModelsWatchTest, ASlowReaderGetsOneEventPerModelAgainstWhatItWasLastSent) {
  ModelsStream slow("");
  ASSERT_TRUE(feed_.Subscribe(slow.watch(), "").ok());
  slow.ReadAll();
  slow.events.clear();
  // The client holds a write in flight (nothing is read) while three syncs land.
  auto catalog = Catalog();
  catalog["gpt"] = Chat("gpt", 0.000002);
  Publish(catalog);  // written at once: the stream was idle
  catalog["flux"] = Image("flux", 0.02);
  Publish(catalog);
  catalog["flux"] = Image("flux", 0.015);
  catalog["flux"].set_display_name("FLUX");
  Publish(catalog);
  catalog["gpt"] = Chat("gpt", 0.000003);
  Publish(catalog);
  catalog["gpt"] = Chat("gpt", 0.000002);  // back to what the client was sent
  Publish(catalog);
  const std::vector<ModelEvent> events = slow.TakeEvents();
  ASSERT_THAT(Describe(events), ElementsAre("CHANGED gpt pricing.input_cost_per_token @1",
                                            "CHANGED flux display_name pricing.cost_per_image @3"));
  EXPECT_DOUBLE_EQ(events[1].previous().pricing().cost_per_image(), 0.025);
  EXPECT_EQ(events[1].previous().display_name(), "flux");
  EXPECT_DOUBLE_EQ(events[1].model().pricing().cost_per_image(), 0.015);
}

TEST_F(ModelsWatchTest, ResumingWithKnownVersionsSendsOnlyWhatDiffers) {
  // What a client held: flux one price ago (a state this feed saw), gpt as
  // it is, claude (which its filter now excludes), and a model since removed.
  auto catalog = Catalog();
  catalog["gone"] = Chat("gone", 0.000001);
  Publish(catalog);
  const std::map<std::string, std::string> held = {
      {"flux", VersionOf("flux")}, {"gpt", VersionOf("gpt")}, {"gone", VersionOf("gone")}};
  catalog.erase("gone");
  catalog["flux"] = Image("flux", 0.02);
  catalog["fresh"] = Image("fresh", 0.01);
  Publish(catalog);

  // A token of another replica: not resumable here, and no resync either.
  ChangeFeed other(Options(2));
  Publish(catalog, &other);
  ModelsStream other_stream("");
  ASSERT_TRUE(other.Subscribe(other_stream.watch(), "").ok());
  other_stream.ReadAll();
  const std::string foreign_token = other_stream.events.back().resume_token();

  ModelsStream resumed("pricing.cost_per_image > 0 OR id = \"gpt\" OR id = \"gone\"", {}, held);
  ASSERT_TRUE(feed_.Subscribe(resumed.watch(), foreign_token).ok());
  const std::vector<ModelEvent> events = resumed.TakeEvents();
  ASSERT_THAT(Describe(events),
              ElementsAre("CHANGED flux pricing.cost_per_image @4", "ADDED fresh @4",
                          "REMOVED gone @4", "INITIAL_STATE_COMPLETE @4"));
  EXPECT_DOUBLE_EQ(events[0].previous().pricing().cost_per_image(), 0.025);
  EXPECT_EQ(events[0].model_version(), VersionOf("flux"));
  EXPECT_EQ(events[2].model().id(), "gone");  // its last state, retained here
  for (const ModelEvent& e : events) {
    EXPECT_FALSE(e.resync()) << e.ShortDebugString();
    if (e.type() != modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) {
      EXPECT_THAT(e.resume_token(), IsEmpty()) << "a cut stream resumes with its versions";
    }
  }
}

TEST_F(ModelsWatchTest, AClientHoldingTheCatalogGetsTheMarkerAloneOnAnotherReplica) {
  std::map<std::string, std::string> held;
  for (const auto& [id, model] : Catalog()) held[id] = VersionOf(id);
  // Replica two built its catalog itself, from the same models.
  ChangeFeed other(Options(2));
  served_.reset();
  Publish(Catalog(), &other);
  ModelsStream resumed("", {}, held);
  ASSERT_TRUE(other.Subscribe(resumed.watch(), "").ok());
  EXPECT_THAT(Describe(resumed.TakeEvents()), ElementsAre("INITIAL_STATE_COMPLETE @0"));
}

TEST_F(ModelsWatchTest,
       KnownVersionsOfStatesNeverSeenHereChangeWithoutFieldsAndHeldIdsThatStopMatchingGo) {
  const std::map<std::string, std::string> held = {{"flux", "00000000000000ff"},
                                                   {"claude", VersionOf("claude")}};
  ModelsStream resumed("pricing.cost_per_image > 0", {}, held);
  ASSERT_TRUE(feed_.Subscribe(resumed.watch(), "").ok());
  const std::vector<ModelEvent> events = resumed.TakeEvents();
  ASSERT_THAT(Describe(events),
              ElementsAre("REMOVED claude @0", "CHANGED flux @0", "INITIAL_STATE_COMPLETE @0"));
  EXPECT_EQ(events[0].model().id(), "claude");  // the state that no longer matches
  EXPECT_FALSE(events[1].has_previous());
  EXPECT_DOUBLE_EQ(events[1].model().pricing().cost_per_image(), 0.025);
}

TEST_F(ModelsWatchTest, AResumeTokenOfThisReplicaReplaysExactlyTheMissedChanges) {
  ModelsStream first("");
  ASSERT_TRUE(feed_.Subscribe(first.watch(), "").ok());
  first.ReadAll();
  const std::string token = first.events.back().resume_token();
  feed_.Unsubscribe(first.watch());
  auto catalog = Catalog();
  catalog["flux"] = Image("flux", 0.02);
  Publish(catalog);
  // Versions too, as helpers send them: the token wins where it can.
  ModelsStream resumed("", {}, {{"flux", "0000000000000001"}});
  ASSERT_TRUE(feed_.Subscribe(resumed.watch(), token).ok());
  EXPECT_THAT(Describe(resumed.TakeEvents()),
              ElementsAre("CHANGED flux pricing.cost_per_image @1", "INITIAL_STATE_COMPLETE @1"));
}

TEST_F(ModelsWatchTest, WithoutVersionsAForeignTokenGetsAResync) {
  ChangeFeed other(Options(2));
  served_.reset();
  Publish(Catalog(), &other);
  ModelsStream stream(kCheap);
  ASSERT_TRUE(other.Subscribe(stream.watch(), EncodeResumeToken({1, 0})).ok());
  EXPECT_THAT(Describe(stream.TakeEvents()),
              ElementsAre("INITIAL gpt @0 resync", "INITIAL_STATE_COMPLETE @0 resync"));
}

TEST_F(ModelsWatchTest, OneFeedServesBothMethodsAndStreamsShareTheBytesOfAnEvent) {
  auto catalog = Catalog();
  Model custom = MakeModel("tuned");
  custom.add_deployments()->set_status_raw("active");
  catalog["tuned"] = custom;
  Publish(catalog);
  ModelsStream one("");
  ModelsStream two("pricing.cost_per_image > 0 OR id = \"tuned\"");
  Recorder<DeploymentEvent> deployments(
      std::make_unique<DeploymentsProjection>(std::vector<std::string>()));
  ASSERT_TRUE(feed_.Subscribe(deployments.watch(), "").ok());
  deployments.TakeEvents();
  ASSERT_TRUE(feed_.Subscribe(one.watch(), "").ok());
  ASSERT_TRUE(feed_.Subscribe(two.watch(), "").ok());
  one.TakeEvents();
  two.TakeEvents();
  catalog["flux"] = Image("flux", 0.02);
  catalog["tuned"].mutable_deployments(0)->set_status_raw("inactive");
  Publish(catalog);
  one.ReadAll();
  two.ReadAll();
  EXPECT_THAT(Describe(one.events), ElementsAre("CHANGED flux pricing.cost_per_image @2",
                                                "CHANGED tuned deployments @3"));
  EXPECT_THAT(Describe(two.events), ElementsAre("CHANGED flux pricing.cost_per_image @2",
                                                "CHANGED tuned deployments @3"));
  EXPECT_EQ(one.written[0].get(), two.written[0].get());
  EXPECT_EQ(one.written[1].get(), two.written[1].get());
  // The deployment watcher, on the same feed, hears of the status alone.
  const std::vector<DeploymentEvent> statuses = deployments.TakeEvents();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].model_id(), "tuned");
  EXPECT_EQ(statuses[0].previous_status_raw(), "active");
  EXPECT_EQ(statuses[0].status_raw(), "inactive");
  EXPECT_EQ(statuses[0].revision(), 3);
}

TEST(ModelsProjectionTest, RefusesVersionsThatAreNotVersions) {
  google::protobuf::Map<std::string, std::string> known;
  known["flux"] = "not-a-version";
  auto projection = ModelsProjection::Create(Filter(), modelcatalog::v1::MODEL_VIEW_FULL, known);
  EXPECT_EQ(projection.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(projection.status().message(),
              HasSubstr("known_versions[\"flux\"] is \"not-a-version\", not a model_version"));
  known["flux"] = "0123456789abcdef";
  EXPECT_TRUE(ModelsProjection::Create(Filter(), modelcatalog::v1::MODEL_VIEW_FULL, known).ok());
}

TEST(ModelsProjectionTest, VersionsDependOnContentAloneAndDifferByView) {
  Model model = Chat("gpt", 0.000001, "Answers.");
  const auto a = MakeEntry(model);
  const auto b = MakeEntry(model);
  EXPECT_EQ(ViewVersion(*a, false), ViewVersion(*b, false));
  model.set_description("Answers briefly.");
  const auto c = MakeEntry(model);
  EXPECT_NE(ViewVersion(*a, false), ViewVersion(*c, false));
  EXPECT_EQ(ViewVersion(*a, true), ViewVersion(*c, true));  // description is not BASIC
  EXPECT_EQ(FormatVersion(0xabc), "0000000000000abc");
}

}  // namespace
}  // namespace modelcatalog::catalog
