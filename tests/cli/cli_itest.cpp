// End to end: the built dsv3 binary, its version, help and exit codes.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

using dsv3::test::run_dsv3;

TEST(Cli, VersionPrintsVersionAndGitHash) {
  auto r = run_dsv3({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dsv3 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("git "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("git unknown"), std::string::npos) << r.out;
}

TEST(Cli, HelpExitsZero) {
  auto r = run_dsv3({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsBadInput) {
  auto r = run_dsv3({"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dsv3: error:"), std::string::npos) << r.err;
}

TEST(Cli, MissingSubcommandIsBadInput) {
  auto r = run_dsv3({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dsv3: error:"), std::string::npos) << r.err;
}
