// Pluggable storage and transport (dragonboat/raftio.h, dragonboat/plugins.h):
// NodeHosts on the in-memory LogDB and the in-process transport run a group,
// catch a follower up by a snapshot copied into its own directory, and
// agree (a hash-chain checker); an application's own ILogDB is the one used;
// a directory keeps the LogDB it was made with; factory errors are named.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "delegating_logdb.h"
#include "dragonboat/plugins.h"
#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::CheckerSM;
using test::TestCluster;

std::unique_ptr<IStateMachine> make_checker(uint64_t, uint64_t) { return std::make_unique<CheckerSM>(); }

Config small_snapshots(uint64_t node) {
  Config c = TestCluster::config(1, node);
  c.snapshot_entries = 20;
  c.compaction_overhead = 5;
  return c;
}

TEST(Plugins, MemoryLogDBAndInProcessTransportRunAGroupAndStreamSnapshots) {
  plugins::InProcessNetwork net;
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.start_host(i, [&](NodeHostConfig* c) {
                    c->logdb_factory = plugins::memory_logdb();
                    c->transport_factory = net.transport_factory();
                  }).ok());
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_checker, small_snapshots(i + 1)).ok());
  }
  const int leader = tc.leader(1);
  ASSERT_GE(leader, 0);
  const size_t f = (static_cast<size_t>(leader) + 1) % 3;
  test::CheckerLoad load{&tc, static_cast<size_t>(leader)};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(load.write(i).ok());
  // The follower stops (its memory LogDB lives on with its host), falls
  // behind the leader's compacted log, and comes back.
  ASSERT_TRUE(tc.hosts[f]->stop_cluster(1).ok());
  for (int i = 10; i < 100; ++i) ASSERT_TRUE(load.write(i).ok());
  ASSERT_TRUE(tc.hosts[f]->start_cluster({}, false, make_checker, small_snapshots(f + 1)).ok());
  std::string st;  // ReadIndex: the follower has applied every acknowledged write
  ASSERT_TRUE(tc.read(f, 1, "state", &st).ok());
  EXPECT_EQ(st, load.want.summary());
  // The snapshot it caught up with is its own copy, in its own directory.
  std::vector<std::string> own;
  for (const auto& e : std::filesystem::directory_iterator(tc.dirs[f] + "/snapshots/1-" + std::to_string(f + 1))) {
    own.push_back(e.path().filename().string());
  }
  EXPECT_FALSE(own.empty());
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.read(i, 1, "state", &st).ok());
    EXPECT_EQ(st, load.want.summary()) << "host " << i;
  }
}

// The in-memory LogDB forgets everything with its host; the snapshots the
// earlier run left in the directory must not get in the new node's way.
TEST(Plugins, AHostRestartedOnTheMemoryLogDBStartsCleanInTheSameDirectory) {
  TestCluster tc(1);
  auto memory = [](NodeHostConfig* c) { c->logdb_factory = plugins::memory_logdb(); };
  Config c = small_snapshots(1);
  for (int run = 0; run < 2; ++run) {
    ASSERT_TRUE(tc.start_host(0, memory).ok());
    ASSERT_TRUE(tc.hosts[0]->start_cluster({{1, tc.addresses[0]}}, false, make_checker, c).ok());
    ASSERT_GE(tc.leader(1), 0);
    test::CheckerLoad load{&tc, 0};
    for (int i = 0; i < 45; ++i) ASSERT_TRUE(load.write(i).ok()) << "run " << run;
    uint64_t index = 0;
    ASSERT_TRUE(tc.hosts[0]->sync_request_snapshot(1, SnapshotOption{}, std::chrono::seconds(5), &index).ok());
    std::string st;
    ASSERT_TRUE(tc.read(0, 1, "state", &st).ok());
    EXPECT_EQ(st, load.want.summary()) << "run " << run << ": the same commands from an empty state";
    tc.hosts[0].reset();
  }
}

// An application's LogDB: the in-memory one, counting what the engine saves.
class CountingLogDB : public test::DelegatingLogDB {
 public:
  CountingLogDB(std::unique_ptr<raftio::ILogDB> inner, std::atomic<uint64_t>* saves)
      : DelegatingLogDB(std::move(inner)), saves_(saves) {}
  std::string name() const override { return "counting"; }
  Status save(const std::vector<raftio::NodeUpdate>& u) override {
    *saves_ += u.size();
    return DelegatingLogDB::save(u);
  }

 private:
  std::atomic<uint64_t>* saves_;
};

TEST(Plugins, TheApplicationsLogDBIsUsedAndTheDirectoryRemembersIt) {
  std::atomic<uint64_t> saves{0};
  raftio::LogDBArgs seen;
  TestCluster tc(1);
  auto counting = [&](NodeHostConfig* c) {
    c->logdb_factory = [&](const raftio::LogDBArgs& args, std::unique_ptr<raftio::ILogDB>* out) {
      seen = args;
      std::unique_ptr<raftio::ILogDB> inner;
      Status s = plugins::memory_logdb()(args, &inner);
      if (s.ok()) *out = std::make_unique<CountingLogDB>(std::move(inner), &saves);
      return s;
    };
  };
  ASSERT_TRUE(tc.start_host(0, counting).ok());
  EXPECT_EQ(seen.dir, tc.dirs[0] + "/logdb");
  ASSERT_TRUE(tc.hosts[0]->start_cluster({{1, tc.addresses[0]}}, false, make_checker, TestCluster::config(1, 1)).ok());
  ASSERT_GE(tc.leader(1), 0);
  ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(1), "x").ok());
  EXPECT_GT(saves.load(), 0u);
  tc.hosts[0].reset();
  // The directory was made by "counting": the RocksDB LogDB refuses it.
  Status s = tc.start_host(0);
  EXPECT_EQ(s.code(), ErrorCode::kHardSettingsChanged) << s.to_string();
  EXPECT_NE(s.message().find("counting"), std::string::npos) << s.to_string();
}

TEST(Plugins, FactoryErrorsAreNamed) {
  TestCluster tc(1);
  Status s = tc.start_host(0, [](NodeHostConfig* c) {
    c->logdb_factory = [](const raftio::LogDBArgs&, std::unique_ptr<raftio::ILogDB>*) {
      return Status(ErrorCode::kDirNotExist, "no such volume");
    };
  });
  EXPECT_EQ(s.code(), ErrorCode::kDirNotExist);
  EXPECT_NE(s.message().find("logdb_factory: no such volume"), std::string::npos) << s.to_string();
  s = tc.start_host(0, [](NodeHostConfig* c) {
    c->logdb_factory = plugins::memory_logdb();
    c->transport_factory = [](const raftio::TransportArgs&, std::unique_ptr<raftio::ITransport>*) {
      return Status::OK();  // and no transport
    };
  });
  EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation);
  EXPECT_NE(s.message().find("transport_factory"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace dragonboat
