// External snapshot files end to end: a follower that fell behind the
// leader's compacted log gets the snapshot streamed, files included, and
// its state machine recovers from the files (a hash-chain checker, so a
// lost, doubled or skipped entry shows).
#include <gtest/gtest.h>

#include <atomic>

#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::FileSnapshotChecker;
using test::TestCluster;

TEST(SnapshotFiles, AFollowerBehindTheCompactedLogRecoversFromStreamedFiles) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  std::atomic<FileSnapshotChecker*> latest[3] = {};
  auto factory = [&](size_t host) {
    return [&, host](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
      auto sm = std::make_unique<FileSnapshotChecker>(tc.dirs[host] + "/sm-files");
      latest[host] = sm.get();
      return sm;
    };
  };
  auto config = [](uint64_t node) {
    Config c = TestCluster::config(1, node);
    c.snapshot_entries = 20;
    c.compaction_overhead = 5;
    return c;
  };
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, factory(i), config(i + 1)).ok());
  int leader = tc.leader(1);
  ASSERT_GE(leader, 0);
  const size_t f = (static_cast<size_t>(leader) + 1) % 3;
  test::CheckerLoad load{&tc, static_cast<size_t>(leader)};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(load.write(i).ok());
  tc.hosts[f].reset();  // falls behind
  for (int i = 10; i < 120; ++i) ASSERT_TRUE(load.write(i).ok());
  ASSERT_TRUE(tc.start_host(f).ok());
  ASSERT_TRUE(tc.hosts[f]->start_cluster({}, false, factory(f), config(f + 1)).ok());
  std::string st;  // a ReadIndex read: the follower has applied every write acknowledged before it
  ASSERT_TRUE(tc.read(f, 1, "state", &st).ok());
  EXPECT_EQ(st, load.want.summary());
  EXPECT_GE(latest[f].load()->recovered_files.load(), 1) << "the follower caught up through a snapshot with its file";
}

}  // namespace
}  // namespace dragonboat
