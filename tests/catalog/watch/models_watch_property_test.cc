// WatchModels' promise, checked on random histories: a client that applies
// the events it reads holds exactly the filtered catalog in its view, however
// slowly it reads (merged changes) and on whichever replica it resumes with
// the versions it holds; and every CHANGED event's `previous` and
// `changed_fields` describe the state the client held.
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "services/catalog/watch/model_diff.h"
#include "services/catalog/watch/models_projection.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::Model;

constexpr int kModelIds = 12;
constexpr absl::Time kEpoch = absl::FromUnixSeconds(1764000000);

// A client of one stream: applies every event to what it holds, checking it.
class Client : public WatchSink {
 public:
  Client(const std::string& filter, modelcatalog::v1::ModelView view) : stream_(this) {
    Start(filter, view, {});
  }
  // Resumes what `previous` held, with its versions.
  Client(const Client& previous, const std::string& filter, modelcatalog::v1::ModelView view)
      : stream_(this), held_(previous.held_), versions_(previous.versions_) {
    google::protobuf::Map<std::string, std::string> versions(versions_.begin(), versions_.end());
    Start(filter, view, versions);
  }

  WatchStream* watch() { return &stream_; }
  const std::map<std::string, Model>& held() const { return held_; }
  const std::map<std::string, std::string>& versions() const { return versions_; }
  bool saw_marker() const { return saw_marker_; }

  // Reads up to `n` events.
  void Read(int n) {
    for (int i = 0; i < n; ++i) {
      EncodedEvent bytes;
      {
        absl::MutexLock lock(&mu_);
        if (in_flight_ == nullptr) return;
        bytes = std::move(in_flight_);
      }
      ModelEvent event;
      ASSERT_TRUE(event.ParseFromString(*bytes));
      Apply(event);
      stream_.OnEventWritten(true);
    }
  }

 private:
  void Start(const std::string& filter, modelcatalog::v1::ModelView view,
             const google::protobuf::Map<std::string, std::string>& versions) {
    auto projection = ModelsProjection::Create(*Filter::Parse(filter), view, versions);
    ASSERT_TRUE(projection.ok()) << projection.status();
    stream_.SetProjection(*std::move(projection));
  }

  void Apply(const ModelEvent& event) {
    const std::string& id = event.model_id();
    switch (event.type()) {
      case modelcatalog::v1::WATCH_EVENT_TYPE_ADDED:
        EXPECT_EQ(held_.count(id), 0u) << "ADDED for a model the client holds: " << id;
        [[fallthrough]];
      case modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL:
        held_[id] = event.model();
        versions_[id] = event.model_version();
        break;
      case modelcatalog::v1::WATCH_EVENT_TYPE_CHANGED: {
        auto it = held_.find(id);
        ASSERT_NE(it, held_.end()) << "CHANGED for a model the client does not hold: " << id;
        if (event.has_previous()) {
          std::vector<std::string> paths(event.changed_fields().paths().begin(),
                                         event.changed_fields().paths().end());
          EXPECT_EQ(paths, ChangedFields(it->second, event.model())) << id;
          EXPECT_EQ(OnlyFields(it->second, paths).SerializeAsString(),
                    event.previous().SerializeAsString())
              << id;
        }
        EXPECT_NE(versions_[id], event.model_version()) << "a CHANGED event changing nothing";
        it->second = event.model();
        versions_[id] = event.model_version();
        break;
      }
      case modelcatalog::v1::WATCH_EVENT_TYPE_REMOVED:
        EXPECT_EQ(held_.erase(id), 1u) << "REMOVED for a model the client does not hold: " << id;
        versions_.erase(id);
        break;
      case modelcatalog::v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE:
        EXPECT_FALSE(event.resync());
        saw_marker_ = true;
        break;
      default:
        break;
    }
  }

  void StartEventWrite(EncodedEvent event) override {
    absl::MutexLock lock(&mu_);
    in_flight_ = std::move(event);
  }
  void FinishStream(const absl::Status& status) override {}

  WatchStream stream_;
  absl::Mutex mu_;
  EncodedEvent in_flight_;
  std::map<std::string, Model> held_;
  std::map<std::string, std::string> versions_;
  bool saw_marker_ = false;
};

// A random model `id`: prices, a description, deployments, a name.
Model RandomModel(const std::string& id, std::mt19937* random) {
  auto pick = [random](int n) { return static_cast<int>((*random)() % n); };
  Model model = testing::MakeModel(id, pick(4) == 0 ? "Renamed " + id : "");
  if (pick(3) == 0) {
    model.mutable_pricing()->set_method_raw("per_image");
    model.mutable_pricing()->set_cost_per_image(0.01 * (1 + pick(4)));
  } else {
    model.mutable_pricing()->set_method_raw("token");
    model.mutable_pricing()->set_input_cost_per_token(0.000001 * (1 + pick(4)));
  }
  if (pick(2) == 0) model.set_description("Version " + std::to_string(pick(3)));
  if (pick(3) == 0) {
    static const char* const kStatuses[] = {"active", "inactive", "deploying"};
    model.add_deployments()->set_status_raw(kStatuses[pick(3)]);
  }
  return model;
}

std::shared_ptr<const CatalogSnapshot> RandomCatalog(int64_t revision, std::mt19937* random) {
  std::vector<Model> models;
  for (int i = 0; i < kModelIds; ++i) {
    if ((*random)() % 4 != 0) models.push_back(RandomModel("m" + std::to_string(i), random));
  }
  return CatalogSnapshot::Build(models, revision, kEpoch);
}

// What a client of `filter` in `view` must hold once it caught up on `snapshot`.
std::map<std::string, std::string> Expected(const CatalogSnapshot& snapshot,
                                            const std::string& filter, bool basic) {
  const Filter parsed = *Filter::Parse(filter);
  std::map<std::string, std::string> versions;
  for (size_t i = 0; i < snapshot.size(); ++i) {
    const CatalogEntry& entry = snapshot.entry(i);
    if (parsed.Matches(entry)) versions[entry.id] = FormatVersion(ViewVersion(entry, basic));
  }
  return versions;
}

ChangeFeedOptions Replica(uint64_t instance) {
  ChangeFeedOptions options;
  options.instance = instance;
  options.history_size = 8;  // small: resumes often find their states gone
  options.clock = [] { return kEpoch; };
  return options;
}

TEST(ModelsWatchPropertyTest, ClientsHoldTheFilteredCatalogWhateverTheirPaceAndReplica) {
  const std::vector<std::string> filters = {"", "pricing.cost_per_image > 0",
                                            "pricing.input_cost_per_token < 0.000003",
                                            "deployments.status = active OR display_name:Renamed*"};
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 random(seed);
    const std::string filter = filters[seed % filters.size()];
    const auto view =
        seed % 3 == 0 ? modelcatalog::v1::MODEL_VIEW_BASIC : modelcatalog::v1::MODEL_VIEW_FULL;
    const bool basic = view == modelcatalog::v1::MODEL_VIEW_BASIC;
    // Two replicas see the same catalogs, as two replicas of one hub do.
    ChangeFeed one(Replica(1));
    ChangeFeed two(Replica(2));
    std::shared_ptr<const CatalogSnapshot> served = RandomCatalog(1, &random);
    one.Publish(served, {});
    two.Publish(served, {});
    auto client = std::make_unique<Client>(filter, view);
    ChangeFeed* on = &one;
    ASSERT_TRUE(on->Subscribe(client->watch(), "").ok());
    for (int64_t step = 2; step < 40; ++step) {
      SCOPED_TRACE(::testing::Message() << "seed " << seed << " step " << step);
      std::shared_ptr<const CatalogSnapshot> next = RandomCatalog(step, &random);
      std::vector<ModelChange> changes = DiffModels(served.get(), *next, kEpoch);
      one.Publish(next, changes);
      two.Publish(next, std::move(changes));
      served = next;
      client->Read(static_cast<int>(random() % 4));  // a slow reader, or a stalled one
      if (random() % 6 == 0) {  // before its marker too: it holds what it was sent
        // The replica goes away; the client resumes on the other with its versions.
        on->Unsubscribe(client->watch());
        on = on == &one ? &two : &one;
        auto resumed = std::make_unique<Client>(*client, filter, view);
        client = std::move(resumed);
        ASSERT_TRUE(on->Subscribe(client->watch(), "").ok());
      }
    }
    client->Read(1000);
    EXPECT_EQ(client->versions(), Expected(*served, filter, basic))
        << "seed " << seed << " filter " << filter;
    on->Unsubscribe(client->watch());
  }
}

}  // namespace
}  // namespace modelcatalog::catalog
