#include "services/catalog/model/catalog_snapshot.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/common/stable_hash.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

std::vector<std::string> IdsOf(const CatalogSnapshot& s, absl::Span<const uint32_t> positions) {
  std::vector<std::string> ids;
  for (uint32_t p : positions) ids.push_back(s.entry(p).model().id());
  return ids;
}

TEST(CatalogSnapshotTest, OrdersByIdAndFindsById) {
  auto snapshot = CatalogSnapshot::Build(
      {MakeModel("gpt-5"), MakeModel("claude-sonnet-4-6"), MakeModel("flux-2-dev")}, 7,
      absl::FromUnixSeconds(100));
  ASSERT_EQ(snapshot->size(), 3u);
  EXPECT_EQ(snapshot->entry(0).model().id(), "claude-sonnet-4-6");
  EXPECT_EQ(snapshot->entry(2).model().id(), "gpt-5");
  EXPECT_EQ(snapshot->revision(), 7);
  EXPECT_EQ(snapshot->fetched_at(), absl::FromUnixSeconds(100));
  ASSERT_NE(snapshot->Find("flux-2-dev"), nullptr);
  EXPECT_EQ(snapshot->Find("flux-2-dev")->model().id(), "flux-2-dev");
  EXPECT_EQ(snapshot->Find("flux"), nullptr);
}

TEST(CatalogSnapshotTest, UpperBoundIsThePositionAfterAnId) {
  auto snapshot = CatalogSnapshot::Build({MakeModel("a"), MakeModel("c"), MakeModel("e")}, 1,
                                         absl::UnixEpoch());
  EXPECT_EQ(snapshot->UpperBound(""), 0u);
  EXPECT_EQ(snapshot->UpperBound("a"), 1u);
  EXPECT_EQ(snapshot->UpperBound("b"), 1u);  // an id that is gone still has a place
  EXPECT_EQ(snapshot->UpperBound("e"), 3u);
}

TEST(CatalogSnapshotTest, KeepsTheFirstOfRepeatedIdsAndReportsThem) {
  auto snapshot = CatalogSnapshot::Build(
      {MakeModel("m", "First"), MakeModel("x"), MakeModel("m", "Second")}, 1, absl::UnixEpoch());
  ASSERT_EQ(snapshot->size(), 2u);
  EXPECT_EQ(snapshot->Find("m")->model().display_name(), "First");
  EXPECT_THAT(snapshot->duplicate_ids(), ElementsAre("m"));
}

TEST(CatalogSnapshotTest, IndexesDevelopersCaseInsensitivelyAndActionsExactly) {
  auto snapshot = CatalogSnapshot::Build(
      {MakeModel("c", "", "Anthropic", {"text_generation"}), MakeModel("a", "", "anthropic"),
       MakeModel("b", "", "OpenAI", {"text_generation", "text_generation", "image_editing"})},
      1, absl::UnixEpoch());
  EXPECT_THAT(IdsOf(*snapshot, snapshot->WithDeveloper("anthropic")), ElementsAre("a", "c"));
  EXPECT_THAT(IdsOf(*snapshot, snapshot->WithDeveloper("openai")), ElementsAre("b"));
  EXPECT_TRUE(snapshot->WithDeveloper("Anthropic").empty());  // callers pass folded names
  EXPECT_THAT(IdsOf(*snapshot, snapshot->WithAction("text_generation")), ElementsAre("b", "c"));
  EXPECT_TRUE(snapshot->WithAction("Text_Generation").empty());
}

TEST(CatalogSnapshotTest, ABuilderIndexesOnlyTheRecordsItKeeps) {
  CatalogSnapshot::Builder builder;
  builder.Add(MakeModel("m", "First", "Acme", {"text_generation"}));
  builder.Add(MakeModel("b", "", "ACME"));
  builder.Add(MakeModel("m", "Second", "Other", {"image_editing"}));  // a repeated id: dropped
  EXPECT_EQ(builder.size(), 3u);
  auto snapshot = std::move(builder).Build(3, absl::FromUnixSeconds(5));
  ASSERT_EQ(snapshot->size(), 2u);
  EXPECT_EQ(snapshot->revision(), 3);
  EXPECT_EQ(snapshot->Find("m")->model().display_name(), "First");
  EXPECT_THAT(snapshot->duplicate_ids(), ElementsAre("m"));
  EXPECT_THAT(IdsOf(*snapshot, snapshot->WithDeveloper("acme")), ElementsAre("b", "m"));
  EXPECT_TRUE(snapshot->WithDeveloper("other").empty());
  EXPECT_THAT(IdsOf(*snapshot, snapshot->WithAction("text_generation")), ElementsAre("m"));
  EXPECT_TRUE(snapshot->WithAction("image_editing").empty());
  // The same models as messages give the same catalog.
  auto same = CatalogSnapshot::Build(
      {MakeModel("m", "First", "Acme", {"text_generation"}), MakeModel("b", "", "ACME")}, 1,
      absl::UnixEpoch());
  EXPECT_EQ(snapshot->fingerprint(), same->fingerprint());
}

TEST(CatalogSnapshotTest, ABuilderSharesTheServedEntryOfEachModelFoundUnchanged) {
  auto served =
      CatalogSnapshot::Build({MakeModel("a", "A"), MakeModel("b", "B")}, 4, absl::UnixEpoch());
  CatalogSnapshot::Builder builder(served);
  builder.Add(MakeModel("b", "B"));
  builder.Add(MakeModel("a", "A, edited"));
  builder.Add(MakeModel("c", "C"));
  EXPECT_FALSE(builder.Repeats(served.get()));
  auto next = std::move(builder).Build(5, absl::UnixEpoch());
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ(&next->entry(1), served->Find("b"));  // shared, not built again
  EXPECT_NE(&next->entry(0), served->Find("a"));
  EXPECT_EQ(next->entry(0).model().display_name(), "A, edited");
  EXPECT_EQ(next->entry(0).folded_display_name, "a, edited");
  // Shared or built, the catalog is the one the models make.
  auto built = CatalogSnapshot::Build(
      {MakeModel("b", "B"), MakeModel("a", "A, edited"), MakeModel("c", "C")}, 5,
      absl::UnixEpoch());
  EXPECT_EQ(next->fingerprint(), built->fingerprint());
}

TEST(CatalogSnapshotTest, ASyncThatKeepsEveryIdNameAndDeveloperKeepsTheSearchIndex) {
  auto served = CatalogSnapshot::Build({MakeModel("a", "Alpha"), MakeModel("b", "Beta")}, 4,
                                       absl::UnixEpoch());
  const auto next = [&served](modelcatalog::v1::Model a, modelcatalog::v1::Model b) {
    CatalogSnapshot::Builder builder(served);
    builder.Add(a);
    builder.Add(b);
    return std::move(builder).Build(5, absl::UnixEpoch());
  };
  modelcatalog::v1::Model described = MakeModel("a", "Alpha");
  described.set_description("now with a description");
  auto edited = next(described, MakeModel("b", "Beta"));
  EXPECT_EQ(&edited->search_index(), &served->search_index());
  EXPECT_EQ(edited->entry(0).model().description(), "now with a description");

  auto renamed = next(MakeModel("a", "Gamma"), MakeModel("b", "Beta"));
  EXPECT_NE(&renamed->search_index(), &served->search_index());
  const SearchIndex& renamed_index = renamed->search_index();
  ASSERT_TRUE(renamed_index.Find("gamma").has_value());
  EXPECT_THAT(renamed_index.Postings(*renamed_index.Find("gamma")), ElementsAre(0u));
  EXPECT_FALSE(renamed_index.Find("alpha").has_value());

  auto added = next(MakeModel("a", "Alpha"), MakeModel("c", "Beta"));
  EXPECT_NE(&added->search_index(), &served->search_index());
  ASSERT_TRUE(added->search_index().Find("c").has_value());
  EXPECT_THAT(added->search_index().Postings(*added->search_index().Find("c")), ElementsAre(1u));

  // The developer's name is searched too: a new one is a new index.
  modelcatalog::v1::Model developed = MakeModel("a", "Alpha", "Anthropic");
  auto redeveloped = next(developed, MakeModel("b", "Beta"));
  EXPECT_NE(&redeveloped->search_index(), &served->search_index());
  EXPECT_TRUE(redeveloped->search_index().Find("anthropic").has_value());
}

TEST(CatalogSnapshotTest, ABuilderRepeatsTheServedCatalogOnlyWhenEveryModelIsFoundOnceUnchanged) {
  auto served =
      CatalogSnapshot::Build({MakeModel("a", "A"), MakeModel("b", "B")}, 4, absl::UnixEpoch());
  const auto repeats = [&served](std::vector<modelcatalog::v1::Model> models) {
    CatalogSnapshot::Builder builder(served);
    for (const auto& model : models) builder.Add(model);
    return builder.Repeats(served.get());
  };
  EXPECT_TRUE(repeats({MakeModel("b", "B"), MakeModel("a", "A")}));
  EXPECT_FALSE(repeats({MakeModel("a", "A")}));                       // one gone
  EXPECT_FALSE(repeats({MakeModel("a", "A"), MakeModel("a", "A")}));  // repeated
  EXPECT_FALSE(repeats({MakeModel("a", "A"), MakeModel("b", "B"), MakeModel("a", "A")}));
  EXPECT_FALSE(repeats({MakeModel("a", "A"), MakeModel("b", "B!")}));  // edited
  EXPECT_FALSE(repeats({MakeModel("a", "A"), MakeModel("b", "B"), MakeModel("c", "C")}));
  // Only the snapshot it was given: another with the same models is not known to it.
  CatalogSnapshot::Builder builder(served);
  builder.Add(MakeModel("a", "A"));
  builder.Add(MakeModel("b", "B"));
  auto same =
      CatalogSnapshot::Build({MakeModel("a", "A"), MakeModel("b", "B")}, 4, absl::UnixEpoch());
  EXPECT_FALSE(builder.Repeats(same.get()));
  EXPECT_FALSE(CatalogSnapshot::Builder().Repeats(served.get()));
}

TEST(CatalogSnapshotTest, FoldsIdsAndNamesForSearch) {
  auto snapshot =
      CatalogSnapshot::Build({MakeModel("Élan-1", "ÉLAN Vision")}, 1, absl::UnixEpoch());
  EXPECT_EQ(snapshot->entry(0).folded_id, "élan-1");
  EXPECT_EQ(snapshot->entry(0).folded_display_name, "élan vision");
}

modelcatalog::v1::Model WithSchema(const std::string& id, const std::string& schema_json) {
  modelcatalog::v1::Model model = MakeModel(id);
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(schema_json, model.mutable_request_schema())
          .ok());
  return model;
}

TEST(CatalogSnapshotTest, FingerprintDependsOnContentOnly) {
  // Same content in a different order, and Struct keys inserted in another order.
  auto a = CatalogSnapshot::Build({WithSchema("x", R"({"a":1,"b":{"c":[1,2]}})"), MakeModel("y")},
                                  1, absl::UnixEpoch());
  auto b = CatalogSnapshot::Build({MakeModel("y"), WithSchema("x", R"({"b":{"c":[1,2]},"a":1})")},
                                  2, absl::FromUnixSeconds(5));
  EXPECT_EQ(a->fingerprint(), b->fingerprint());
  auto c = CatalogSnapshot::Build({WithSchema("x", R"({"a":1,"b":{"c":[1,3]}})"), MakeModel("y")},
                                  1, absl::UnixEpoch());
  EXPECT_NE(a->fingerprint(), c->fingerprint());
  auto d =
      CatalogSnapshot::Build({WithSchema("x", R"({"a":1,"b":{"c":[1,2]}})")}, 1, absl::UnixEpoch());
  EXPECT_NE(a->fingerprint(), d->fingerprint());
}

TEST(CatalogSnapshotTest, PatchingDeploymentsChangesOneModelAndKeepsTheOriginal) {
  modelcatalog::v1::Model custom = MakeModel("custom", "Custom", "Acme", {"text_generation"});
  custom.add_deployments()->set_status_raw("inactive");
  auto original = CatalogSnapshot::Build({MakeModel("base"), custom}, 4, absl::FromUnixSeconds(9));
  google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment> deployments;
  deployments.Add()->set_status_raw("deploying");
  const size_t position = *original->PositionOf("custom");
  auto patched = original->WithDeployments(position, deployments, 5);

  EXPECT_EQ(patched->revision(), 5);
  EXPECT_EQ(patched->fetched_at(), original->fetched_at());
  EXPECT_EQ(patched->Find("custom")->model().deployments(0).status_raw(), "deploying");
  EXPECT_EQ(patched->Find("custom")->model().display_name(), "Custom");
  EXPECT_EQ(original->Find("custom")->model().deployments(0).status_raw(), "inactive");
  EXPECT_EQ(&patched->entry(0), &original->entry(0));  // untouched models are shared
  EXPECT_NE(patched->fingerprint(), original->fingerprint());
  EXPECT_THAT(IdsOf(*patched, patched->WithDeveloper("acme")), ElementsAre("custom"));
  EXPECT_EQ(patched->PositionOf("nope"), absl::nullopt);

  // Patching back gives the fingerprint of the original content.
  auto restored =
      patched->WithDeployments(position, original->Find("custom")->model().deployments(), 6);
  EXPECT_EQ(restored->fingerprint(), original->fingerprint());
}

// A patch in a catalog of several chunks (EntryTable) copies one chunk: every
// other entry is the same object, and the fingerprint is the one a snapshot
// built from the patched models has.
TEST(CatalogSnapshotTest, APatchSharesEveryOtherModelAndKeepsTheFingerprintExact) {
  std::vector<modelcatalog::v1::Model> models;
  for (int i = 0; i < 1000; ++i) {
    modelcatalog::v1::Model model = MakeModel(absl::StrCat("m", 1000 + i));
    model.add_deployments()->set_status_raw("inactive");
    models.push_back(model);
  }
  auto original = CatalogSnapshot::Build(models, 1, absl::FromUnixSeconds(9));
  ASSERT_GT(original->size(), 3 * EntryTable::kChunkSize);
  google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment> active;
  active.Add()->set_status_raw("active");
  const size_t position = 2 * EntryTable::kChunkSize + 7;
  auto patched = original->WithDeployments(position, active, 2);
  for (size_t i = 0; i < original->size(); ++i) {
    if (i == position) continue;
    ASSERT_EQ(&patched->entry(i), &original->entry(i)) << i;
  }
  EXPECT_EQ(patched->entry(position).deployments[0].status_raw(), "active");
  models[position].mutable_deployments(0)->set_status_raw("active");
  EXPECT_EQ(patched->fingerprint(),
            CatalogSnapshot::Build(models, 2, absl::FromUnixSeconds(9))->fingerprint());
}

// A query's result is computed once per snapshot; a snapshot patched for a
// deployment keeps the results that do not read deployments and computes
// the others again; a copy under another revision keeps them all.
TEST(CatalogSnapshotTest, MemoizedResultsOutliveADeploymentPatchUnlessTheyReadDeployments) {
  modelcatalog::v1::Model custom = MakeModel("custom");
  custom.add_deployments()->set_status_raw("inactive");
  auto original = CatalogSnapshot::Build({MakeModel("base"), custom}, 1, absl::UnixEpoch());
  int computed = 0;
  const auto compute = [&computed] {
    ++computed;
    return std::vector<uint32_t>{1, 0};
  };
  EXPECT_THAT(*original->Memoized("prices", false, compute), ElementsAre(1, 0));
  original->Memoized("prices", false, compute);
  original->Memoized("statuses", true, compute);
  EXPECT_EQ(computed, 2);

  google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment> deployments;
  deployments.Add()->set_status_raw("deploying");
  auto patched = original->WithDeployments(*original->PositionOf("custom"), deployments, 2);
  EXPECT_THAT(*patched->Memoized("prices", false, compute), ElementsAre(1, 0));
  EXPECT_EQ(computed, 2);  // inherited
  patched->Memoized("statuses", true, compute);
  EXPECT_EQ(computed, 3);  // computed again: the status changed

  auto renumbered = patched->WithRevision(3);
  renumbered->Memoized("prices", false, compute);
  renumbered->Memoized("statuses", true, compute);
  EXPECT_EQ(computed, 3);
  // A new catalog starts with none.
  CatalogSnapshot::Build({MakeModel("base")}, 4, absl::UnixEpoch())
      ->Memoized("prices", false, compute);
  EXPECT_EQ(computed, 4);
}

}  // namespace
}  // namespace modelcatalog::catalog

namespace modelcatalog::catalog {
namespace {

TEST(ModelVersionTest, FollowsTheContentAlone) {
  modelcatalog::v1::Model model = ::modelcatalog::testing::MakeModel("flux-2-dev", "FLUX.2 [dev]");
  model.mutable_pricing()->set_cost_per_image(0.025);
  // Two catalogs built apart, with other models around it, agree.
  auto one = CatalogSnapshot::Build({model}, 1, absl::UnixEpoch());
  auto other = CatalogSnapshot::Build({::modelcatalog::testing::MakeModel("a"), model}, 9,
                                      absl::UnixEpoch() + absl::Hours(1));
  const std::string version = ModelVersion(one->entry(0));
  EXPECT_EQ(version.size(), 16u);
  EXPECT_EQ(ModelVersion(other->entry(*other->PositionOf("flux-2-dev"))), version);
  // It is the stable hash of what is served, not a per-process one.
  EXPECT_EQ(version, absl::StrFormat("%016x", StableHash64(one->entry(0).wire)));
  model.mutable_pricing()->set_cost_per_image(0.02);
  auto repriced = CatalogSnapshot::Build({model}, 2, absl::UnixEpoch());
  EXPECT_NE(ModelVersion(repriced->entry(0)), version);
}

}  // namespace
}  // namespace modelcatalog::catalog
