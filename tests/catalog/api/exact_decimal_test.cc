#include "services/catalog/api/exact_decimal.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

std::string Text(double value) {
  absl::StatusOr<ExactDecimal> d = ExactDecimal::FromDouble(value);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? d->ToString() : "";
}

ExactDecimal Parsed(absl::string_view text) {
  absl::StatusOr<ExactDecimal> d = ExactDecimal::Parse(text);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.value_or(ExactDecimal());
}

TEST(ExactDecimalTest, ReadsADoubleAsTheDecimalItWasWrittenAs) {
  EXPECT_EQ(Text(3e-6), "0.000003");
  EXPECT_EQ(Text(1.5e-5), "0.000015");
  EXPECT_EQ(Text(0.025), "0.025");
  EXPECT_EQ(Text(0.1), "0.1");
  EXPECT_EQ(Text(2.5), "2.5");
  EXPECT_EQ(Text(1e20), "100000000000000000000");
  EXPECT_EQ(Text(0), "0");
  EXPECT_EQ(Text(-0.0), "0");
}

TEST(ExactDecimalTest, ProductsAndSumsAreExactWhereDoublesAreNot) {
  const auto times = [](double price, uint64_t quantity) {
    return ExactDecimal::FromDouble(price)->Times(ExactDecimal::FromInteger(quantity));
  };
  EXPECT_EQ(times(3e-6, 1000000)->ToString(), "3");
  // In doubles: 0.00030849999999999996, 0.07500000000000001 and 0.6499999999999999.
  ASSERT_NE(1234 * 2.5e-7, 0.0003085);
  EXPECT_EQ(times(2.5e-7, 1234)->ToString(), "0.0003085");
  ASSERT_NE(3 * 0.025, 0.075);
  EXPECT_EQ(times(0.025, 3)->ToString(), "0.075");
  ASSERT_NE(200000 * 2e-6 + 1e6 * 2.5e-7, 0.65);
  EXPECT_EQ(times(2e-6, 200000)->Plus(*times(2.5e-7, 1000000))->ToString(), "0.65");
}

TEST(ExactDecimalTest, SumsAlignTheirPlaces) {
  const absl::optional<ExactDecimal> sum = Parsed("3").Plus(Parsed("0.000015"));
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->ToString(), "3.000015");
  EXPECT_EQ(Parsed("0.1").Plus(Parsed("0.2"))->ToString(), "0.3");
  EXPECT_EQ(Parsed("0.5").Plus(Parsed("0.5"))->ToString(), "1");
}

TEST(ExactDecimalTest, ComparesExactlyWhateverTheScale) {
  EXPECT_EQ(Parsed("0.3").Compare(Parsed("0.30000")), 0);
  EXPECT_LT(Parsed("0.29999999999999999999").Compare(Parsed("0.3")), 0);
  EXPECT_GT(Parsed("1").Compare(Parsed("0.999999999999999999999999")), 0);
  // Scaling the whole number up to the other's places overflows: still larger.
  EXPECT_GT(Parsed("100000000000000000000").Compare(Parsed("1e-30")), 0);
  EXPECT_LT(Parsed("1e-30").Compare(Parsed("100000000000000000000")), 0);
}

TEST(ExactDecimalTest, ParsesWhatToStringWritesAndExponents) {
  for (absl::string_view text : {"0", "3", "0.000003", "6.75", "123456789.987654321"}) {
    EXPECT_EQ(Parsed(text).ToString(), text);
  }
  EXPECT_EQ(Parsed("3e-6").ToString(), "0.000003");
  EXPECT_EQ(Parsed("1.50E+2").ToString(), "150");
  EXPECT_EQ(Parsed("007.500").ToString(), "7.5");
}

TEST(ExactDecimalTest, RefusesWhatIsNotANumberOrDoesNotFit) {
  for (absl::string_view text : {"", ".", "abc", "1.2.3", "-1", "1e", "1e+", "0x10", "1 "}) {
    EXPECT_FALSE(ExactDecimal::Parse(text).ok()) << text;
  }
  EXPECT_FALSE(ExactDecimal::Parse("1e40").ok());
  for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(ExactDecimal::FromDouble(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ExactDecimalTest, OverflowIsReportedNotWrapped) {
  const ExactDecimal big = Parsed("100000000000000000000");  // 1e20
  EXPECT_FALSE(big.Times(big));                              // 1e40 > 2^128
  EXPECT_FALSE(Parsed("3e38").Plus(Parsed("3e38")));
  // Fits alone, not with 40 places after the point.
  EXPECT_FALSE(Parsed("1e30").Plus(Parsed("1e-10")));
  EXPECT_TRUE(Parsed("1e20").Times(Parsed("1e18")));
}

}  // namespace
}  // namespace modelcatalog::catalog
