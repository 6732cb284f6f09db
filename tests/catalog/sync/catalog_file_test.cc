#include "services/catalog/sync/catalog_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::HasSubstr;

class CatalogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/catalog_file_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/catalog.bin";
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  std::shared_ptr<const CatalogSnapshot> Sample() {
    modelcatalog::v1::Model custom = MakeModel("custom", "Custom", "Acme", {"text_generation"});
    custom.add_deployments()->set_status_raw("active");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                    R"({"type":"object","required":["prompt"]})", custom.mutable_request_schema())
                    .ok());
    return CatalogSnapshot::Build({MakeModel("base", "Base"), custom}, 42,
                                  absl::FromUnixNanos(1764000000123456789));
  }

  std::string Read() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void Write(const std::string& data) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << data;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(CatalogFileTest, RoundTripsModelsRevisionAndFetchTime) {
  auto snapshot = Sample();
  ASSERT_TRUE(WriteCatalogFile(path_, *snapshot).ok());
  absl::StatusOr<StoredCatalog> stored = ReadCatalogFile(path_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->revision, 42);
  EXPECT_EQ(stored->fetched_at, absl::FromUnixNanos(1764000000123456789));
  ASSERT_EQ(stored->models.size(), 2u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(stored->models[1],
                                                                 snapshot->entry(1).model()));
  // No temporary file is left behind.
  EXPECT_NE(::access(absl::StrCat(path_, ".tmp.", ::getpid()).c_str(), F_OK), 0);
}

// The reading a server restores from: one model at a time, in the stored
// order, straight into a snapshot builder.
TEST_F(CatalogFileTest, HandsOverModelsOneAtATimeInStoredOrder) {
  auto snapshot = Sample();
  ASSERT_TRUE(WriteCatalogFile(path_, *snapshot).ok());
  std::vector<std::string> ids;
  CatalogSnapshot::Builder builder;
  absl::StatusOr<CatalogFileHeader> header =
      ReadCatalogFile(path_, [&](const modelcatalog::v1::Model& model) {
        ids.push_back(model.id());
        builder.Add(model);
      });
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->revision, 42);
  EXPECT_EQ(ids, (std::vector<std::string>{snapshot->entry(0).id, snapshot->entry(1).id}));
  std::shared_ptr<const CatalogSnapshot> restored =
      std::move(builder).Build(header->revision, header->fetched_at);
  EXPECT_EQ(restored->fingerprint(), snapshot->fingerprint());
}

TEST_F(CatalogFileTest, AMissingFileIsNotFound) {
  absl::StatusOr<StoredCatalog> stored = ReadCatalogFile(path_);
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kNotFound);
}

// The file is read whole: one larger than the server may hold is refused before its buffer
// is allocated, and nothing of it is handed over.
TEST_F(CatalogFileTest, AFileLargerThanTheLimitIsRefusedUnread) {
  ASSERT_TRUE(WriteCatalogFile(path_, *Sample()).ok());
  const size_t size = std::filesystem::file_size(path_);
  int handed_over = 0;
  absl::StatusOr<CatalogFileHeader> header = ReadCatalogFile(
      path_, [&](const modelcatalog::v1::Model&) { ++handed_over; }, size - 1);
  EXPECT_EQ(header.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      std::string(header.status().message()),
      absl::StrCat(path_, " is ", size, " bytes, more than the catalog may take (", size - 1, ")"));
  EXPECT_EQ(handed_over, 0);
  EXPECT_TRUE(ReadCatalogFile(path_, size).ok());
}

TEST_F(CatalogFileTest, RefusesEveryKindOfDamage) {
  ASSERT_TRUE(WriteCatalogFile(path_, *Sample()).ok());
  const std::string good = Read();
  struct Case {
    std::string name;
    std::string data;
    std::string why;
  };
  std::string flipped = good;
  flipped[good.size() - 10] ^= 0x40;
  const std::vector<Case> cases = {
      {"empty", "", "it does not start with a catalog file header"},
      {"garbage", "this is not a catalog file at all, just text",
       "it does not start with a catalog file header"},
      {"truncated", good.substr(0, good.size() - 7), "(truncated or appended to)"},
      {"appended", good + "extra", "(truncated or appended to)"},
      {"flipped bit", flipped, "its checksum does not match its contents"},
  };
  for (const Case& c : cases) {
    Write(c.data);
    absl::StatusOr<StoredCatalog> stored = ReadCatalogFile(path_);
    ASSERT_FALSE(stored.ok()) << c.name;
    EXPECT_EQ(stored.status().code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_THAT(std::string(stored.status().message()), HasSubstr(c.why)) << c.name;
    EXPECT_THAT(std::string(stored.status().message()), HasSubstr(path_)) << c.name;
  }
}

TEST_F(CatalogFileTest, AFailedWriteLeavesTheOldFileIntact) {
  ASSERT_TRUE(WriteCatalogFile(path_, *Sample()).ok());
  const std::string before = Read();
  // The temporary file cannot be created (a directory holds its name), which
  // fails the write for any user, root included.
  const std::string temporary = absl::StrCat(path_, ".tmp.", ::getpid());
  ASSERT_EQ(::mkdir(temporary.c_str(), 0755), 0);
  absl::Status status = WriteCatalogFile(path_, *CatalogSnapshot::Build({}, 1, absl::UnixEpoch()));
  ::rmdir(temporary.c_str());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot create"));
  EXPECT_EQ(Read(), before);
}

TEST_F(CatalogFileTest, AFailedRenameLeavesTheOldFileIntact) {
  // Writing over a directory fails at the rename, after the temporary file is
  // complete: the temporary file must be gone and nothing else touched.
  ASSERT_EQ(::mkdir(path_.c_str(), 0755), 0);
  absl::Status status = WriteCatalogFile(path_, *Sample());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot rename"));
  EXPECT_NE(::access(absl::StrCat(path_, ".tmp.", ::getpid()).c_str(), F_OK), 0);
}

TEST_F(CatalogFileTest, WritesWhatChangedAndFlushesOnStop) {
  CatalogStore store;
  CatalogFile file(path_, &store, absl::Milliseconds(10));
  file.Start();
  std::shared_ptr<const CatalogSnapshot> sample = Sample();
  store.Publish(sample);
  file.OnCatalogPublished(sample, {});
  file.Stop();
  absl::StatusOr<StoredCatalog> stored = ReadCatalogFile(path_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->revision, 42);
}

TEST_F(CatalogFileTest, RestoresThroughTheUpdaterAndDoesNotWriteBackWhatItRead) {
  ASSERT_TRUE(WriteCatalogFile(path_, *Sample()).ok());
  struct stat before;
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  CatalogStore store;
  CatalogFile file(path_, &store, absl::Milliseconds(10));
  CatalogUpdater updater(&store, {&file});
  SyncStatusRecorder status("hub");
  file.Restore(&updater, &status);
  ASSERT_NE(store.Current(), nullptr);
  EXPECT_EQ(store.Current()->revision(), 42);
  EXPECT_EQ(status.Get().origin, SyncStatus::Origin::kSnapshotFile);
  file.Start();
  file.Stop();
  struct stat after;
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the file was rewritten";
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_F(CatalogFileTest, AnUnusableFileIsIgnored) {
  Write("not a catalog");
  CatalogStore store;
  CatalogFile file(path_, &store);
  CatalogUpdater updater(&store, {&file});
  SyncStatusRecorder status("hub");
  file.Restore(&updater, &status);
  EXPECT_EQ(store.Current(), nullptr);
  EXPECT_EQ(status.Get().origin, SyncStatus::Origin::kNone);
}

}  // namespace
}  // namespace modelcatalog::catalog
