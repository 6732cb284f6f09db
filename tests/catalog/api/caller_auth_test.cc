#include "services/catalog/api/caller_auth.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

TEST(ParseTokensFileTest, ReadsTokensRolesAndSkipsComments) {
  absl::StatusOr<std::vector<TokenGrant>> grants =
      ParseTokensFile("# comment\n\n  alpha  \nbeta read\ngamma write\n");
  ASSERT_TRUE(grants.ok()) << grants.status();
  ASSERT_EQ(grants->size(), 3u);
  EXPECT_EQ((*grants)[0].token, "alpha");
  EXPECT_EQ((*grants)[0].access, Access::kWrite);
  EXPECT_EQ((*grants)[1].access, Access::kRead);
  EXPECT_EQ((*grants)[2].access, Access::kWrite);
}

TEST(ParseTokensFileTest, RefusesMalformedLinesNamingThem) {
  EXPECT_EQ(ParseTokensFile("ok\nbad admin\n").status().message(),
            "tokens file line 2: expected '<token>' or '<token> read|write'");
  EXPECT_EQ(ParseTokensFile("a read extra").status().message(),
            "tokens file line 1: expected '<token>' or '<token> read|write'");
  EXPECT_EQ(ParseTokensFile("# nothing\n").status().message(), "tokens file holds no token");
}

}  // namespace
}  // namespace modelcatalog::catalog
