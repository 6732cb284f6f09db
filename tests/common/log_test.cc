#include "services/common/log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(LogTest, KeyValueLinesQuoteWhatNeedsQuoting) {
  const std::string line = FormatLogLine(LogLevel::kWarning, "sync_failed",
                                         {{"error", "UNAVAILABLE: hub \"down\""}, {"models", 17},
                                          {"changed", false}},
                                         LogFormat::kKeyValue);
  EXPECT_THAT(line, StartsWith("ts="));
  EXPECT_THAT(line, EndsWith(" level=warning event=sync_failed error=\"UNAVAILABLE: hub \\\"down\\\"\" "
                             "models=17 changed=false"));
}

TEST(LogTest, JsonLinesAreJsonObjects) {
  const std::string line = FormatLogLine(LogLevel::kInfo, "started", {{"listen", "0.0.0.0:50051"}},
                                         LogFormat::kJson);
  EXPECT_THAT(line, StartsWith("{\"ts\":\""));
  EXPECT_THAT(line, EndsWith("\"level\":\"info\",\"event\":\"started\",\"listen\":\"0.0.0.0:50051\"}"));
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace modelcatalog
