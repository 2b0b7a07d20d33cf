// Plugin::load and Plugin::start_cluster (dragonboat/plugin.h): loading
// errors name the path and the reason; a loaded plugin starts replicas of
// each kind it reports, which apply commands (the checker plugin counts them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "dragonboat/plugin.h"
#include "nodehost_fixture.h"

namespace dragonboat::test {
namespace {

using namespace std::chrono_literals;

TEST(PluginTest, LoadNamesTheMissingFile) {
  Plugin p;
  Status s = Plugin::load("/nonexistent/libnothing.so", &p);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(s.message().find("/nonexistent/libnothing.so"), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("cannot be loaded"), std::string::npos) << s.to_string();
}

TEST(PluginTest, LoadRefusesAFileThatIsNotASharedObject) {
  const std::string dir = temp_dir("plugin");
  const std::string path = dir + "/libjunk.so";
  std::ofstream(path) << "not an ELF file";
  Plugin p;
  Status s = Plugin::load(path, &p);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.to_string();
  std::filesystem::remove_all(dir);
}

TEST(PluginTest, LoadRefusesASharedObjectWithoutThePluginSymbols) {
  Plugin p;
  Status s = Plugin::load("libc.so.6", &p);  // loads; exports neither symbol
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(s.message().find("does not export"), std::string::npos) << s.to_string();
}

TEST(PluginTest, AnUnloadedPluginStartsNothing) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  Status s = Plugin().start_cluster(tc.hosts[0].get(), tc.members(), false, TestCluster::config(3, 1));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
}

TEST(PluginTest, StartsAReplicaOfEveryKindItReports) {
  const std::string checker_dir = temp_dir("checker");
  ::setenv("DRAGONBOAT_CHECKER_DIR", checker_dir.c_str(), 1);
  Plugin p;
  ASSERT_TRUE(Plugin::load(DRAGONBOAT_CHECKER_PLUGIN, &p).ok());
  Plugin again;  // a second load of the same path is the same plugin
  ASSERT_TRUE(Plugin::load(DRAGONBOAT_CHECKER_PLUGIN, &again).ok());
  EXPECT_EQ(again.path(), p.path());
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  NodeHost& nh = *tc.hosts[0];
  // The checker plugin's kind follows cluster_id % 3: 0 regular, 1 concurrent, 2 on-disk.
  for (uint64_t c : {3, 4, 5}) {
    ASSERT_TRUE(p.start_cluster(&nh, tc.members(), false, TestCluster::config(c, 1)).ok()) << c;
    for (uint64_t i = 1; i <= 3; ++i) {
      Result r;
      ASSERT_TRUE(tc.propose(0, nh.get_noop_session(c), "cmd" + std::to_string(i), &r).ok()) << c;
      EXPECT_EQ(r.value, i) << "cluster " << c << ": the checker returns its count";
    }
    std::string state;
    ASSERT_TRUE(nh.stale_read(c, "state", &state).ok());
    EXPECT_EQ(state.substr(0, 2), "3 ") << c << ": " << state;
    // The same group again: the engine's error, and the new state machine is freed.
    EXPECT_EQ(p.start_cluster(&nh, tc.members(), false, TestCluster::config(c, 1)).code(),
              ErrorCode::kClusterAlreadyExist);
  }
  tc.hosts[0].reset();
  std::filesystem::remove_all(checker_dir);
}

}  // namespace
}  // namespace dragonboat::test
