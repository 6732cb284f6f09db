#include "services/common/memory_limit.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace modelcatalog {
namespace {

// A cgroup file system of the test's own, written file by file.
class FakeCgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/memory_limit_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Write(const std::string& relative, const std::string& text) {
    const std::filesystem::path path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  absl::optional<uint64_t> Limit() {
    return CgroupMemoryLimit((root_ / "sys").string(), (root_ / "self_cgroup").string());
  }

  std::filesystem::path root_;
};

TEST_F(FakeCgroups, ReadsCgroupV2MemoryMaxOfTheProcesssGroup) {
  Write("self_cgroup", "0::/kubepods/pod1/c1\n");
  Write("sys/kubepods/pod1/c1/memory.max", "536870912\n");
  EXPECT_EQ(Limit(), absl::optional<uint64_t>(536870912));
}

TEST_F(FakeCgroups, ReadsTheRootFilesInAContainersOwnNamespace) {
  Write("self_cgroup", "0::/\n");
  Write("sys/memory.max", "268435456\n");
  EXPECT_EQ(Limit(), absl::optional<uint64_t>(268435456));
}

TEST_F(FakeCgroups, MaxMeansNoLimit) {
  Write("self_cgroup", "0::/\n");
  Write("sys/memory.max", "max\n");
  EXPECT_EQ(Limit(), absl::nullopt);
}

TEST_F(FakeCgroups, ReadsCgroupV1LimitInBytes) {
  Write("self_cgroup", "5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n");
  Write("sys/memory/docker/abc/memory.limit_in_bytes", "1073741824\n");
  EXPECT_EQ(Limit(), absl::optional<uint64_t>(1073741824));
}

TEST_F(FakeCgroups, CgroupV1sHugeNumberMeansNoLimit) {
  Write("self_cgroup", "4:memory:/\n");
  Write("sys/memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(Limit(), absl::nullopt);
}

TEST_F(FakeCgroups, NoCgroupFilesMeansNoLimit) {
  EXPECT_EQ(Limit(), absl::nullopt);
  Write("self_cgroup", "0::/somewhere\n");
  EXPECT_EQ(Limit(), absl::nullopt);
  Write("sys/memory.max", "garbage\n");
  EXPECT_EQ(Limit(), absl::nullopt);
}

}  // namespace
}  // namespace modelcatalog
