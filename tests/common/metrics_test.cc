#include "services/common/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryTest, RendersCountersGaugesAndHistograms) {
  Registry registry;
  registry.GetCounter("calls_total", "Calls.", {{"method", "Get"}, {"code", "OK"}})->Increment(2);
  registry.GetCounter("calls_total", "Calls.", {{"method", "Get"}, {"code", "NOT_FOUND"}});  // zero
  registry.GetGauge("size", "Size.")->Set(17);
  Histogram* latency = registry.GetHistogram("latency_seconds", "Latency.", {}, {0.1, 1});
  latency->Observe(0.05);
  latency->Observe(0.5);
  latency->Observe(5);
  registry.AddComputedGauge("computed", "Computed.", [] { return 1.5; });
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP calls_total Calls.\n# TYPE calls_total counter\n"
                              "calls_total{method=\"Get\",code=\"OK\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("NOT_FOUND")));
  EXPECT_THAT(text, HasSubstr("# TYPE size gauge\nsize 17\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.1\"} 1\n"
                              "latency_seconds_bucket{le=\"1\"} 2\n"
                              "latency_seconds_bucket{le=\"+Inf\"} 3\n"
                              "latency_seconds_sum 5.55\n"
                              "latency_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("computed 1.5\n"));
}

TEST(RegistryTest, TheSameNameAndLabelsGiveTheSameSeries) {
  Registry registry;
  Counter* a = registry.GetCounter("c", "C.", {{"k", "v"}});
  EXPECT_EQ(a, registry.GetCounter("c", "C.", {{"k", "v"}}));
  EXPECT_NE(a, registry.GetCounter("c", "C.", {{"k", "w"}}));
}

TEST(RegistryTest, EscapesLabelValues) {
  Registry registry;
  registry.GetCounter("c", "C.", {{"path", "a\"b\\c\nd"}})->Increment();
  EXPECT_THAT(registry.Render(), HasSubstr("c{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

}  // namespace
}  // namespace modelcatalog::metrics
