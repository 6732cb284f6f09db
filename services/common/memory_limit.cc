#include "services/common/memory_limit.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace modelcatalog {
namespace {

// cgroup v1 reports "no limit" as the largest page-aligned signed 64-bit
// number; anything from 2^62 up is no limit any machine has.
constexpr uint64_t kNoLimitAbove = uint64_t{1} << 62;

absl::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::nullopt;
  std::string text;
  std::getline(file, text, '\0');
  if (text.size() > 4096) return absl::nullopt;  // not a cgroup file
  return text;
}

// A limit file's value; nullopt for "max", unreadable or absurd values.
absl::optional<uint64_t> ReadLimit(const std::string& path) {
  absl::optional<std::string> text = ReadSmallFile(path);
  if (!text.has_value()) return absl::nullopt;
  uint64_t limit = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &limit)) return absl::nullopt;
  if (limit == 0 || limit >= kNoLimitAbove) return absl::nullopt;
  return limit;
}

// The first of the limit files that holds a limit.
absl::optional<uint64_t> FirstLimit(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (absl::optional<uint64_t> limit = ReadLimit(path)) return limit;
  }
  return absl::nullopt;
}

}  // namespace

absl::optional<uint64_t> CgroupMemoryLimit(const std::string& cgroup_root,
                                           const std::string& proc_self_cgroup) {
  absl::optional<std::string> groups = ReadSmallFile(proc_self_cgroup);
  if (!groups.has_value()) return absl::nullopt;
  for (absl::string_view line : absl::StrSplit(*groups, '\n', absl::SkipEmpty())) {
    // hierarchy-ID:controller-list:path
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    std::string path(fields[2]);
    if (path == "/") path.clear();
    if (fields[0] == "0" && fields[1].empty()) {  // v2, the unified hierarchy
      if (absl::optional<uint64_t> limit =
              FirstLimit({cgroup_root + path + "/memory.max", cgroup_root + "/memory.max"})) {
        return limit;
      }
      continue;
    }
    for (absl::string_view controller : absl::StrSplit(fields[1], ',')) {
      if (controller != "memory") continue;
      if (absl::optional<uint64_t> limit =
              FirstLimit({cgroup_root + "/memory" + path + "/memory.limit_in_bytes",
                          cgroup_root + "/memory/memory.limit_in_bytes"})) {
        return limit;
      }
    }
  }
  return absl::nullopt;
}

}  // namespace modelcatalog
