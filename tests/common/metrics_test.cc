#include "services/common/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryTest, RendersCountersGaugesAndHistograms) {
  Registry registry;
  registry.GetCounter("calls_total", "Calls.", {{"method", "Get"}, {"code", "OK"}})->Increment(2);
  registry.GetGauge("size", "Size.")->Set(17);
  Histogram* latency = registry.GetHistogram("latency_seconds", "Latency.", {}, {0.1, 1});
  latency->Observe(0.05);
  latency->Observe(0.5);
  latency->Observe(5);
  registry.AddComputedGauge("computed", "Computed.", [] { return 1.5; });
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP calls_total Calls.\n# TYPE calls_total counter\n"
                              "calls_total{method=\"Get\",code=\"OK\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE size gauge\nsize 17\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.1\"} 1\n"
                              "latency_seconds_bucket{le=\"1\"} 2\n"
                              "latency_seconds_bucket{le=\"+Inf\"} 3\n"
                              "latency_seconds_sum 5.55\n"
                              "latency_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("computed 1.5\n"));
}

// A series that appeared only at its first increment would hide that
// increment from rate() and increase(): every series made is rendered.
TEST(RegistryTest, SeriesAtZeroAreRendered) {
  Registry registry;
  registry.GetCounter("calls_total", "Calls.", {{"code", "NOT_FOUND"}});
  registry.GetHistogram("wait_seconds", "Wait.", {}, {1});
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE calls_total counter\ncalls_total{code=\"NOT_FOUND\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("wait_seconds_bucket{le=\"1\"} 0\nwait_seconds_bucket{le=\"+Inf\"} 0\n"
                        "wait_seconds_sum 0\nwait_seconds_count 0\n"));
}

TEST(RegistryTest, TheSameNameAndLabelsGiveTheSameSeries) {
  Registry registry;
  Counter* a = registry.GetCounter("c", "C.", {{"k", "v"}});
  EXPECT_EQ(a, registry.GetCounter("c", "C.", {{"k", "v"}}));
  EXPECT_NE(a, registry.GetCounter("c", "C.", {{"k", "w"}}));
}

TEST(RegistryTest, EscapesLabelValuesAndHelpText) {
  Registry registry;
  registry.GetCounter("c", "A \\ backslash\nand a line feed.", {{"path", "a\"b\\c\nd"}})
      ->Increment();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("c{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
  // In HELP only the backslash and the line feed are escaped; a quote stays.
  EXPECT_THAT(text, HasSubstr("# HELP c A \\\\ backslash\\nand a line feed.\n# TYPE c counter\n"));
}

TEST(RegistryDeathTest, AFamilyHasOneTypeAndOneSetOfLabelNames) {
  EXPECT_DEATH(
      {
        Registry registry;
        registry.GetCounter("x", "X.");
        registry.GetGauge("x", "X.");
      },
      "metrics: x: a gauge of a counter family");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.GetCounter("x", "X.", {{"a", "1"}});
        registry.GetCounter("x", "X.", {{"b", "1"}});
      },
      "metrics: x: series of one family with different label names");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.GetCounter("x", "X.");
        registry.AddComputedGauge("x", "X.", [] { return 0.0; });
      },
      "metrics: x: a gauge of a counter family");
}

TEST(RegistryDeathTest, NamesTheTextFormatCannotCarryAreRefused) {
  EXPECT_DEATH(Registry().GetCounter("9lives", "X."), "metrics: 9lives: not a metric name");
  EXPECT_DEATH(Registry().GetCounter("a-b", "X."), "metrics: a-b: not a metric name");
  EXPECT_DEATH(Registry().GetCounter("x", "X.", {{"a:b", "1"}}),
               "metrics: x: label name \"a:b\" is not allowed");
  EXPECT_DEATH(Registry().GetCounter("x", "X.", {{"__name", "1"}}),
               "metrics: x: label name \"__name\" is not allowed");
  EXPECT_DEATH(Registry().GetHistogram("x", "X.", {{"le", "1"}}, {1}),
               "metrics: x: a histogram's label named le");
}

// Threads counting the same series lose no update (each writes a cell of its
// own, and reading adds the cells up).
TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  Counter* counter = registry.GetCounter("c", "C.");
  Histogram* histogram = registry.GetHistogram("h_seconds", "H.", {}, {0.5});
  constexpr int kThreads = 4;
  constexpr int kEach = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        counter->Increment();
        histogram->Observe(0.25);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter->value(), uint64_t{kThreads} * kEach);
  EXPECT_EQ(histogram->count(), uint64_t{kThreads} * kEach);
  EXPECT_DOUBLE_EQ(histogram->sum(), 0.25 * kThreads * kEach);
  EXPECT_EQ(histogram->bucket_counts()[0], uint64_t{kThreads} * kEach);
}

}  // namespace
}  // namespace modelcatalog::metrics
