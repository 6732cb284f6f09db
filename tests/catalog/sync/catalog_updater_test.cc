#include "services/catalog/sync/catalog_updater.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

modelcatalog::v1::Model Custom(const std::string& id, const std::string& status,
                               const std::string& display_name = "") {
  modelcatalog::v1::Model model = MakeModel(id, display_name);
  model.add_deployments()->set_status_raw(status);
  return model;
}

std::vector<std::string> Describe(const std::vector<ModelChange>& changes) {
  std::vector<std::string> out;
  for (const ModelChange& c : changes) {
    const char* kind = c.kind == ModelChange::Kind::kAdded     ? "added"
                       : c.kind == ModelChange::Kind::kRemoved ? "removed"
                                                               : "changed";
    std::string from = c.before().empty() ? "-" : c.before()[0].status_raw();
    std::string to = c.after().empty() ? "-" : c.after()[0].status_raw();
    out.push_back(std::string(kind) + " " + c.model_id + " " + from + "->" + to +
                  (c.deployments_changed ? "" : " (content)"));
  }
  return out;
}

TEST(DiffModelsTest, FindsEveryChangeAndMarksThoseOfDeployments) {
  auto before = CatalogSnapshot::Build(
      {Custom("a", "active"), Custom("b", "inactive"), Custom("c", "deploying"), MakeModel("d")}, 1,
      absl::UnixEpoch());
  auto after = CatalogSnapshot::Build({Custom("a", "active", "Renamed"), Custom("c", "active"),
                                       MakeModel("d"), Custom("e", "deploying")},
                                      2, absl::UnixEpoch());
  const std::vector<ModelChange> changes = DiffModels(before.get(), *after, absl::UnixEpoch());
  // "a" renamed is a change of its content, not of its deployments; "d" is
  // the same.
  EXPECT_THAT(Describe(changes),
              ElementsAre("changed a active->active (content)", "removed b inactive->-",
                          "changed c deploying->active", "added e -->deploying"));
  // Each change holds the model's two states.
  EXPECT_EQ(changes[0].before_entry.get(), &before->entry(0));
  EXPECT_EQ(changes[0].after_entry.get(), &after->entry(0));
  EXPECT_EQ(changes[1].after_entry, nullptr);
  EXPECT_EQ(changes[3].before_entry, nullptr);
  EXPECT_TRUE(DiffModels(nullptr, *after, absl::UnixEpoch()).empty());
}

class CatalogUpdaterTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  CatalogStore store_;
  ChangeFeed feed_;
  CatalogUpdater updater_{&store_, {&feed_}, [this] { return now_; }};
};

TEST_F(CatalogUpdaterTest, SyncPublishesRevisionsAndFeedsChanges) {
  auto first = updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  EXPECT_TRUE(first.changed);
  EXPECT_EQ(first.revision, 1);
  EXPECT_EQ(feed_.revision(), 0);  // the first catalog is the initial state, not a change
  auto same = updater_.ApplySync({MakeModel("b"), Custom("a", "inactive")}, now_);
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.revision, 1);
  auto next = updater_.ApplySync({Custom("a", "deploying"), MakeModel("b"), MakeModel("c")}, now_);
  EXPECT_TRUE(next.changed);
  EXPECT_EQ(next.revision, 2);
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 2);  // a changed, c added
}

TEST_F(CatalogUpdaterTest, LiveObservationPatchesTheStoreAndFeedsOneChange) {
  updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  absl::StatusOr<modelcatalog::v1::Model> served =
      updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(1));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 1);

  // The same observation again changes nothing.
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(2)).ok());
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 1);

  absl::StatusOr<modelcatalog::v1::Model> missing =
      updater_.ApplyLive(Custom("zzz", "active"), now_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Model not found: zzz");
}

TEST_F(CatalogUpdaterTest, ASyncFetchedBeforeALiveObservationDoesNotUndoIt) {
  updater_.ApplySync({Custom("a", "inactive")}, now_);
  const absl::Time fetch_started = now_ + absl::Seconds(1);
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(2)).ok());
  // This sync's fetch began before the activation was observed: its
  // "inactive" is older news.
  updater_.ApplySync({Custom("a", "inactive", "Renamed")}, fetch_started);
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->Find("a")->model().display_name(), "Renamed");
  // A sync fetched after the observation is authoritative again.
  updater_.ApplySync({Custom("a", "active")}, now_ + absl::Seconds(3));
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "active");
}

TEST_F(CatalogUpdaterTest, ASyncThatFindsTheServedCatalogKeepsItAndItsRevision) {
  updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  const std::shared_ptr<const CatalogSnapshot> served = store_.Current();
  CatalogSnapshot::Builder fetched(served);
  fetched.Add(MakeModel("b"));
  fetched.Add(Custom("a", "inactive"));
  const CatalogUpdater::SyncResult result =
      updater_.ApplySync(std::move(fetched), now_ + absl::Seconds(1));
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(result.revision, 1);
  EXPECT_EQ(result.model_count, 2u);
  EXPECT_TRUE(result.duplicate_ids.empty());
  EXPECT_EQ(store_.Current(), served);
  EXPECT_EQ(store_.Current()->fetched_at(), now_);
}

// The builder compares with the snapshot served when the fetch began; a live
// update published since is not undone by the sync finding that catalog.
TEST_F(CatalogUpdaterTest, ASyncThatRepeatsAnOlderSnapshotKeepsALiveUpdateMadeSince) {
  updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  const absl::Time fetch_started = now_ + absl::Seconds(1);
  CatalogSnapshot::Builder fetched(store_.Current());
  fetched.Add(Custom("a", "inactive"));
  fetched.Add(MakeModel("b"));
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(2)).ok());
  const CatalogUpdater::SyncResult result = updater_.ApplySync(std::move(fetched), fetch_started);
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(result.revision, 2);
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "deploying");
  // A sync fetched after the observation, which finds it over, is applied.
  CatalogSnapshot::Builder later(store_.Current());
  later.Add(Custom("a", "active"));
  later.Add(MakeModel("b"));
  EXPECT_TRUE(updater_.ApplySync(std::move(later), now_ + absl::Seconds(3)).changed);
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "active");
  EXPECT_EQ(store_.Current()->revision(), 3);
}

// What the feed was told, in order: "<kind> <id> <before>-><after>".
class ChangeRecorder final : public CatalogListener {
 public:
  void OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                          const std::vector<ModelChange>& changes) override {
    for (const std::string& change : Describe(changes)) told.push_back(change);
  }
  std::vector<std::string> told;
};

// A sync does its work that grows with the catalog without the updater's
// lock; a live update that lands meanwhile is not lost: a live observation
// newer than the sync's fetch stays, and watchers hear of the change from
// what they were last told (the live state), not from what the sync began with.
TEST(CatalogUpdaterInterleavingTest, ALiveUpdateDuringASyncsWorkIsSettledUnderTheLock) {
  const absl::Time now = absl::FromUnixSeconds(1764000000);
  CatalogStore store;
  ChangeRecorder recorder;
  std::function<void()> meanwhile;
  bool armed = false;
  CatalogUpdater updater(
      &store, {&recorder}, [now] { return now; },
      [&] {
        if (!armed) return;
        armed = false;
        meanwhile();
      });
  updater.ApplySync({Custom("a", "inactive"), Custom("b", "inactive"), Custom("c", "active")}, now);
  // The sync below fetched at +1 s; while it works, "a" is observed deploying
  // at +2 s (newer: kept) and "b" error, asked at +0.5 s (older than the
  // fetch: the fetch wins).
  meanwhile = [&] {
    ASSERT_TRUE(updater.ApplyLive(Custom("a", "deploying"), now + absl::Seconds(2)).ok());
    ASSERT_TRUE(updater.ApplyLive(Custom("b", "error"), now + absl::Milliseconds(500)).ok());
  };
  recorder.told.clear();
  armed = true;
  const CatalogUpdater::SyncResult result =
      updater.ApplySync({Custom("a", "inactive"), Custom("b", "inactive"), Custom("c", "error")},
                        now + absl::Seconds(1));
  EXPECT_TRUE(result.changed);
  EXPECT_EQ(result.revision, 4);  // 1 the first sync, 2 and 3 the live updates
  EXPECT_EQ(store.Current()->revision(), 4);
  EXPECT_EQ(store.Current()->Find("a")->deployments[0].status_raw(), "deploying");
  EXPECT_EQ(store.Current()->Find("b")->deployments[0].status_raw(), "inactive");
  EXPECT_EQ(store.Current()->Find("c")->deployments[0].status_raw(), "error");
  EXPECT_THAT(recorder.told,
              ElementsAre("changed a inactive->deploying", "changed b inactive->error",
                          "changed b error->inactive", "changed c active->error"));
}

TEST_F(CatalogUpdaterTest, AnObservationThatConfirmsTheCatalogPublishesNothing) {
  updater_.ApplySync({Custom("a", "deploying")}, now_);
  const std::shared_ptr<const CatalogSnapshot> before = store_.Current();
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(1)).ok());
  EXPECT_EQ(store_.Current(), before);
  EXPECT_EQ(feed_.revision(), 0);
}

}  // namespace
}  // namespace modelcatalog::catalog
