// ValidateRequest's validator (CompiledRequestSchema: valijson behind the
// project's own compile and validate) against the official
// JSON-Schema-Test-Suite, every test of draft 7, the draft the hub's schemas
// are read by, optional ones included. Prints the pass rate per keyword (the
// suite's file) and fails when a keyword passes fewer tests than its recorded
// baseline (json_schema_conformance_baseline.txt). With
// MODEL_CATALOG_CONFORMANCE_BASELINE_OUT set, writes the measured table there:
// how the baseline is brought up to date after an improvement.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "services/catalog/api/request_schema.h"

namespace modelcatalog::catalog {
namespace {

namespace fs = std::filesystem;

constexpr char kSuiteDir[] = "/usr/share/json-schema-test-suite/tests/draft7";
constexpr char kBaseline[] =
    MODEL_CATALOG_SOURCE_DIR "/tests/catalog/api/json_schema_conformance_baseline.txt";

struct Tally {
  int passed = 0;
  int total = 0;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs one file of the suite: groups of a schema and tests of data.
Tally RunFile(const fs::path& path, std::vector<std::string>* failures) {
  Tally tally;
  rapidjson::Document groups;
  groups.Parse(ReadFile(path).c_str());
  EXPECT_FALSE(groups.HasParseError()) << path;
  if (groups.HasParseError() || !groups.IsArray()) return tally;
  for (const rapidjson::Value& group : groups.GetArray()) {
    const std::shared_ptr<const CompiledRequestSchema> schema =
        CompiledRequestSchema::Compile(group["schema"]);
    for (const rapidjson::Value& test : group["tests"].GetArray()) {
      ++tally.total;
      rapidjson::Document data;
      data.CopyFrom(test["data"], data.GetAllocator());
      google::protobuf::RepeatedPtrField<v1::Violation> violations;
      const bool valid = schema->error().empty() && schema->Validate(&data, &violations);
      if (schema->error().empty() && valid == test["valid"].GetBool()) {
        ++tally.passed;
      } else {
        failures->push_back(
            absl::StrCat(path.filename().string(), ": ", group["description"].GetString(), " / ",
                         test["description"].GetString(),
                         schema->error().empty() ? "" : " (" + schema->error() + ")"));
      }
    }
  }
  return tally;
}

std::map<std::string, Tally> ReadBaseline() {
  std::map<std::string, Tally> baseline;
  std::ifstream in(kBaseline);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string keyword;
    Tally tally;
    if (fields >> keyword >> tally.passed >> tally.total) baseline[keyword] = tally;
  }
  return baseline;
}

TEST(JsonSchemaConformanceTest, Draft7PassRatesHoldTheirBaseline) {
  ASSERT_TRUE(fs::is_directory(kSuiteDir))
      << kSuiteDir << " is missing: scripts/install-deps.sh installs json-schema-test-suite";
  std::map<std::string, Tally> measured;
  std::vector<std::string> failures;
  for (const fs::directory_entry& file : fs::recursive_directory_iterator(kSuiteDir)) {
    if (!file.is_regular_file() || file.path().extension() != ".json") continue;
    // The keyword: the file's path in the suite, "maximum" or "optional/format/date".
    std::string keyword = fs::relative(file.path(), kSuiteDir).replace_extension().string();
    measured[keyword] = RunFile(file.path(), &failures);
  }
  ASSERT_FALSE(measured.empty());

  Tally required, optional;
  std::string table = "# keyword passed total (draft 7, json-schema-test-suite)\n";
  for (const auto& [keyword, tally] : measured) {
    absl::StrAppendFormat(&table, "%s %d %d\n", keyword, tally.passed, tally.total);
    Tally& sum = keyword.rfind("optional/", 0) == 0 ? optional : required;
    sum.passed += tally.passed;
    sum.total += tally.total;
  }
  std::printf("%s", table.c_str());
  std::printf("required: %d of %d (%.1f%%); optional: %d of %d (%.1f%%)\n", required.passed,
              required.total, 100.0 * required.passed / required.total, optional.passed,
              optional.total, 100.0 * optional.passed / optional.total);
  for (const std::string& failure : failures) std::printf("  fails: %s\n", failure.c_str());
  if (const char* out = std::getenv("MODEL_CATALOG_CONFORMANCE_BASELINE_OUT")) {
    std::ofstream(out) << table;
  }

  const std::map<std::string, Tally> baseline = ReadBaseline();
  ASSERT_FALSE(baseline.empty()) << "no baseline in " << kBaseline;
  for (const auto& [keyword, expected] : baseline) {
    const auto it = measured.find(keyword);
    ASSERT_NE(it, measured.end()) << keyword << " is no longer in the suite";
    EXPECT_GE(it->second.passed, expected.passed)
        << keyword << ": " << it->second.passed << " of " << it->second.total
        << " pass, the baseline is " << expected.passed << " of " << expected.total;
  }
}

}  // namespace
}  // namespace modelcatalog::catalog
