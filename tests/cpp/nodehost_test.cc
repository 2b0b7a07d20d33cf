// NodeHost end to end: three NodeHosts in this process, real RocksDB in
// temporary directories, real TCP on loopback ports. Every wait is on a
// RequestState (or a polled condition with a deadline), never a sleep.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::ConcurrentCheckerSM;
using test::ConcurrentCounter;
using test::GatedSave;
using test::KV;
using test::OnDiskCounter;
using test::TestCluster;
using namespace std::chrono_literals;

using test::make_kv;

// Starts cluster `cid` with members 1..n on every running host.
void start_group(TestCluster& tc, uint64_t cid, Config proto = TestCluster::config(0, 0)) {
  for (size_t i = 0; i < tc.hosts.size(); ++i) {
    if (!tc.hosts[i]) continue;
    Config c = proto;
    c.cluster_id = cid;
    c.node_id = i + 1;
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, c).ok());
  }
}

class NodeHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc_.start_host(i).ok());
  }
  TestCluster tc_{3};
  RequestStatePtr last_;
};

TEST_F(NodeHostTest, ElectsProposesAndReadsLinearizablyFromAFollower) {
  start_group(tc_, 1);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  size_t follower = (leader + 1) % 3;
  Session noop = tc_.hosts[follower]->get_noop_session(1);
  Result r;
  // Proposed on a follower: forwarded to the leader, completed when applied here.
  ASSERT_TRUE(tc_.propose(follower, noop, "x=1", &r).ok());
  EXPECT_EQ(r.data, "x=1");
  // A write acknowledged on one host is visible to a linearizable read on another.
  ASSERT_TRUE(tc_.propose(leader, noop, "y=2").ok());
  size_t other = (leader + 2) % 3;
  std::string v;
  ASSERT_TRUE(tc_.read(other, 1, "y", &v).ok());
  EXPECT_EQ(v, "2");
  // ReadIndex + ReadLocalNode, the asynchronous way.
  RequestStatePtr rs;
  ASSERT_TRUE(tc_.hosts[follower]->read_index(1, 2s, &rs).ok());
  RequestResult rr = rs->wait();
  ASSERT_TRUE(rr.completed());
  ASSERT_TRUE(tc_.hosts[follower]->read_local_node(rs, "x", &v).ok());
  EXPECT_EQ(v, "1");
  // Callbacks fire exactly once with the outcome.
  std::atomic<int> calls{0};
  std::promise<RequestResult> done;
  ASSERT_TRUE(tc_.hosts[leader]->propose(noop, "z=3", 2s, &rs).ok());
  rs->on_complete([&](const RequestResult& res) {
    if (calls++ == 0) done.set_value(res);
  });
  EXPECT_TRUE(done.get_future().get().completed());
  EXPECT_EQ(calls.load(), 1);
  // Information calls.
  NodeHostInfo info = tc_.hosts[leader]->get_node_host_info();
  ASSERT_EQ(info.cluster_info.size(), 1u);
  EXPECT_TRUE(info.cluster_info[0].is_leader);
  EXPECT_EQ(info.cluster_info[0].nodes.size(), 3u);
  EXPECT_EQ(info.cluster_info[0].state_machine_type, StateMachineType::kRegular) << "as started";
  EXPECT_EQ(info.raft_address, tc_.addresses[leader]);
  EXPECT_TRUE(tc_.hosts[0]->has_node_info(1, 1));
  EXPECT_FALSE(tc_.hosts[0]->has_node_info(1, 2));
  std::shared_ptr<NodeUser> user;
  ASSERT_TRUE(tc_.hosts[leader]->get_node_user(1, &user).ok());
  ASSERT_TRUE(user->propose(noop, "w=4", 2s, &rs).ok());
  EXPECT_TRUE(rs->wait().completed());
}

TEST_F(NodeHostTest, SessionsApplyARetriedProposalOnceAndRejectEvictedSessions) {
  start_group(tc_, 1);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  NodeHost& nh = *tc_.hosts[leader];
  Session s;
  ASSERT_TRUE(nh.sync_get_session(1, 5s, &s).ok());
  Result first, retry;
  ASSERT_TRUE(nh.sync_propose(s, "k=1", 5s, &first).ok());
  // The client did not see the answer (say it timed out) and retries the
  // same series: the state machine is not updated again, the cached result
  // comes back.
  ASSERT_TRUE(nh.sync_propose(s, "k=1", 5s, &retry).ok());
  EXPECT_EQ(retry, first);
  s.proposal_completed();
  Result second;
  ASSERT_TRUE(nh.sync_propose(s, "k=2", 5s, &second).ok());
  EXPECT_EQ(second.value, first.value + 1) << "exactly one update for the retried series";
  // 4096 newer sessions evict ours (least recently used first).
  std::vector<RequestStatePtr> regs;
  for (uint64_t i = 0; i < 4096; ++i) {
    Session other = Session::make(1, 1'000'000 + i);
    RequestStatePtr rs;
    ASSERT_TRUE(tc_.hosts[leader]->propose_session(other, 10s, &rs).ok());
    regs.push_back(rs);
    if (regs.size() == 1000) {
      for (auto& r : regs) ASSERT_TRUE(r->wait().completed());
      regs.clear();
    }
  }
  for (auto& r : regs) ASSERT_TRUE(r->wait().completed());
  s.proposal_completed();
  EXPECT_EQ(nh.sync_propose(s, "k=3", 5s, nullptr).code(), ErrorCode::kRejected) << "evicted session";
  // Close is refused for the evicted session too; a fresh one works.
  Session fresh;
  ASSERT_TRUE(nh.sync_get_session(1, 5s, &fresh).ok());
  ASSERT_TRUE(nh.sync_propose(fresh, "k=4", 5s, nullptr).ok());
  ASSERT_TRUE(nh.sync_close_session(fresh, 5s).ok());
  fresh.proposal_completed();
  EXPECT_EQ(nh.sync_propose(fresh, "k=5", 5s, nullptr).code(), ErrorCode::kRejected) << "closed session";
}

TEST_F(NodeHostTest, LeaderHostStopsThenANewLeaderServesEveryAcknowledgedWrite) {
  start_group(tc_, 1);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  Session noop = tc_.hosts[leader]->get_noop_session(1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(tc_.propose(leader, noop, "a" + std::to_string(i) + "=" + std::to_string(i)).ok());
  tc_.hosts[leader]->stop();
  tc_.hosts[leader].reset();
  int next = tc_.leader(1);
  ASSERT_GE(next, 0) << "no new leader";
  EXPECT_NE(next, leader);
  for (int i = 0; i < 50; ++i) {
    std::string v;
    ASSERT_TRUE(tc_.read(next, 1, "a" + std::to_string(i), &v).ok());
    EXPECT_EQ(v, std::to_string(i)) << "acknowledged write " << i << " lost";
  }
  // The group keeps accepting writes with two of three.
  ASSERT_TRUE(tc_.propose(next, noop, "after=1").ok());
}

TEST_F(NodeHostTest, RestartedHostRebuildsFromSnapshotAndLog) {
  Config c = TestCluster::config(0, 0);
  c.snapshot_entries = 20;
  c.compaction_overhead = 5;
  start_group(tc_, 1, c);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  Session noop = tc_.hosts[leader]->get_noop_session(1);
  for (int i = 0; i < 55; ++i) ASSERT_TRUE(tc_.propose(leader, noop, "k" + std::to_string(i) + "=" + std::to_string(i)).ok());
  size_t victim = (leader + 1) % 3;
  // Wait until the victim applied everything, so the restart must rebuild it.
  std::string v;
  ASSERT_TRUE(tc_.read(victim, 1, "k54", &v).ok());
  tc_.hosts[victim].reset();  // stop(): the data stays on disk
  ASSERT_TRUE(tc_.start_host(victim).ok());
  Config rc = c;
  rc.cluster_id = 1;
  rc.node_id = victim + 1;
  KV* restarted = nullptr;
  auto capture = [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
    auto kv = std::make_unique<KV>();
    restarted = kv.get();
    return kv;
  };
  ASSERT_TRUE(tc_.hosts[victim]->start_cluster({}, false, capture, rc).ok());  // restart: no members
  {
    std::lock_guard<std::mutex> g(restarted->mu);
    EXPECT_EQ(restarted->recoveries, 1) << "state comes back from the latest snapshot";
    EXPECT_GE(restarted->updates, 30u) << "the snapshot (at log index >= 40) covers most of the writes";
  }
  std::string got;
  // stale_read straight after the restart: the snapshot plus the replayed log.
  ASSERT_TRUE(test::eventually([&] {
    return tc_.hosts[victim]->stale_read(1, "k54", &got).ok() && got == "54";
  }));
  for (int i = 0; i < 55; ++i) {
    ASSERT_TRUE(tc_.hosts[victim]->stale_read(1, "k" + std::to_string(i), &got).ok());
    EXPECT_EQ(got, std::to_string(i));
  }
  // Restarting with another state machine kind is refused.
  ASSERT_TRUE(tc_.hosts[victim]->stop_cluster(1).ok());
  auto ondisk = [](uint64_t, uint64_t) -> std::unique_ptr<IOnDiskStateMachine> { return nullptr; };
  EXPECT_EQ(tc_.hosts[victim]->start_on_disk_cluster({}, false, ondisk, rc).code(), ErrorCode::kInvalidClusterSettings);
}

TEST_F(NodeHostTest, LaggingNodeCatchesUpBySnapshotAfterCompaction) {
  Config c = TestCluster::config(0, 0);
  c.snapshot_entries = 10;
  c.compaction_overhead = 2;
  start_group(tc_, 1, c);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  size_t lagging = (leader + 1) % 3;
  ASSERT_TRUE(tc_.hosts[lagging]->stop_cluster(1).ok());
  Session noop = tc_.hosts[leader]->get_noop_session(1);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(tc_.propose(leader, noop, "s" + std::to_string(i) + "=" + std::to_string(i)).ok());
  // The leader's log no longer holds what the lagging node misses: snapshots
  // were taken and the log compacted (a requested snapshot on top).
  uint64_t index = 0;
  ASSERT_TRUE(tc_.hosts[leader]->sync_request_snapshot(1, SnapshotOption{}, 5s, &index).ok());
  EXPECT_GT(index, 60u);
  Config rc = c;
  rc.cluster_id = 1;
  rc.node_id = lagging + 1;
  KV* restarted = nullptr;
  auto capture = [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
    auto kv = std::make_unique<KV>();
    restarted = kv.get();
    return kv;
  };
  ASSERT_TRUE(tc_.hosts[lagging]->start_cluster({}, false, capture, rc).ok());
  std::string v;
  ASSERT_TRUE(tc_.read(lagging, 1, "s59", &v).ok());
  EXPECT_EQ(v, "59");
  // It got there through a snapshot streamed from the leader (it had no
  // snapshot of its own: it stopped before the 10th entry).
  std::lock_guard<std::mutex> g(restarted->mu);
  EXPECT_EQ(restarted->recoveries, 1);
  // A second request at the same applied index is rejected (one exists).
  Status s = tc_.hosts[leader]->sync_request_snapshot(1, SnapshotOption{}, 5s, &index);
  EXPECT_EQ(s.code(), ErrorCode::kRejected);
  // Exported snapshots go where asked.
  std::string exp = test::temp_dir("export");
  SnapshotOption eo;
  eo.exported = true;
  eo.export_path = exp;
  ASSERT_TRUE(tc_.hosts[leader]->sync_request_snapshot(1, eo, 5s, &index).ok());
  EXPECT_FALSE(std::filesystem::is_empty(exp));
  std::filesystem::remove_all(exp);
}

TEST_F(NodeHostTest, OnDiskStateMachineRestartsFromItsOwnAppliedIndex) {
  std::atomic<uint64_t> updates[3] = {};
  auto start = [&](size_t i, std::map<uint64_t, std::string> members) {
    Config c = TestCluster::config(7, i + 1);
    std::string path = tc_.dirs[i] + "/ondisk.sm";
    return tc_.hosts[i]->start_on_disk_cluster(
        members, false,
        [path, u = &updates[i]](uint64_t, uint64_t) { return std::make_unique<OnDiskCounter>(path, u); }, c);
  };
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(start(i, tc_.members()).ok());
  int leader = tc_.leader(7);
  ASSERT_GE(leader, 0);
  Session noop = tc_.hosts[leader]->get_noop_session(7);
  for (int i = 1; i <= 30; ++i) ASSERT_TRUE(tc_.propose(leader, noop, std::to_string(i)).ok());
  // A registered session is refused by an on-disk state machine.
  Session s;
  EXPECT_EQ(tc_.hosts[leader]->sync_get_session(7, 2s, &s).code(), ErrorCode::kInvalidOperation);
  size_t victim = (leader + 1) % 3;
  std::string sum;
  ASSERT_TRUE(tc_.read(victim, 7, "", &sum).ok());
  EXPECT_EQ(sum, "465");
  uint64_t before = updates[victim];
  EXPECT_EQ(before, 30u);
  tc_.hosts[victim].reset();
  ASSERT_TRUE(tc_.start_host(victim).ok());
  ASSERT_TRUE(start(victim, {}).ok());
  ASSERT_TRUE(tc_.propose(leader, noop, "35").ok());
  ASSERT_TRUE(tc_.read(victim, 7, "", &sum).ok());
  EXPECT_EQ(sum, "500");
  EXPECT_EQ(updates[victim].load(), before + 1) << "entries already in the store were replayed";
  NodeHostInfo info = tc_.hosts[victim]->get_node_host_info();
  ASSERT_EQ(info.cluster_info.size(), 1u);
  EXPECT_EQ(info.cluster_info[0].state_machine_type, StateMachineType::kOnDisk) << "as started";
}

TEST_F(NodeHostTest, ConcurrentStateMachineReceivesBatches) {
  ConcurrentCounter* sms[3] = {};
  for (size_t i = 0; i < 3; ++i) {
    Config c = TestCluster::config(9, i + 1);
    c.snapshot_entries = 50;
    ASSERT_TRUE(tc_.hosts[i]->start_concurrent_cluster(tc_.members(), false,
                                                      [&sms, i](uint64_t, uint64_t) {
                                                        auto sm = std::make_unique<ConcurrentCounter>();
                                                        sms[i] = sm.get();
                                                        return sm;
                                                      },
                                                      c).ok());
  }
  int leader = tc_.leader(9);
  ASSERT_GE(leader, 0);
  Session noop = tc_.hosts[leader]->get_noop_session(9);
  std::set<uint64_t> values;
  ASSERT_NO_FATAL_FAILURE(test::propose_increments(*tc_.hosts[leader], noop, 500, &values));
  EXPECT_EQ(values.size(), 500u) << "every entry applied once, each with its own result";
  EXPECT_GT(sms[leader]->max_batch.load(), 1u) << "entries arrive in batches, not one call each";
  std::string v;
  ASSERT_TRUE(tc_.read((leader + 1) % 3, 9, "", &v).ok());
  EXPECT_EQ(v, "500");
  NodeHostInfo info = tc_.hosts[leader]->get_node_host_info();
  ASSERT_EQ(info.cluster_info.size(), 1u);
  EXPECT_EQ(info.cluster_info[0].state_machine_type, StateMachineType::kConcurrent) << "as started";
}

// A concurrent state machine whose snapshot save waits for a gate: the
// checker kind, so an entry applied twice or skipped meanwhile shows.
using SlowSaver = GatedSave<ConcurrentCheckerSM>;

TEST_F(NodeHostTest, ConcurrentStateMachineKeepsApplyingWhileItsSnapshotIsSaved) {
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  SlowSaver* sms[3] = {};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc_.hosts[i]->start_concurrent_cluster(tc_.members(), false,
                                                      [&sms, i, open](uint64_t, uint64_t) {
                                                        auto sm = std::make_unique<SlowSaver>(open);
                                                        sms[i] = sm.get();
                                                        return sm;
                                                      },
                                                      TestCluster::config(11, i + 1)).ok());
  }
  int leader = tc_.leader(11);
  ASSERT_GE(leader, 0);
  NodeHost& nh = *tc_.hosts[leader];
  Session noop = nh.get_noop_session(11);
  ASSERT_TRUE(tc_.propose(leader, noop, "+1").ok());
  RequestStatePtr snap;
  ASSERT_TRUE(nh.request_snapshot(11, SnapshotOption{}, 30s, &snap).ok());
  ASSERT_TRUE(test::eventually([&] { return sms[leader]->saving.load(); }));
  // The save is stuck in the state machine; updates go on regardless.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(nh.sync_propose(noop, "+1", 5s, nullptr).ok());
  EXPECT_FALSE(snap->done());
  RequestStatePtr second;
  EXPECT_EQ(nh.request_snapshot(11, SnapshotOption{}, 30s, &second).code(), ErrorCode::kPendingSnapshotRequestExist);
  gate.set_value();
  RequestResult r = snap->wait();
  ASSERT_TRUE(r.completed());
  EXPECT_GE(r.snapshot_index, 4u);
  EXPECT_LT(r.snapshot_index, 4u + 20u) << "the snapshot is of the state when it was requested";
}

TEST_F(NodeHostTest, OnDiskStateMachineKeepsMetadataOnlySnapshotsAndStreamsItsStateToALaggingNode) {
  std::atomic<uint64_t> updates[3] = {}, saves[3] = {};
  OnDiskCounter* sms[3] = {};
  auto start = [&](size_t i, std::map<uint64_t, std::string> members) {
    Config c = TestCluster::config(8, i + 1);
    c.snapshot_entries = 10;
    c.compaction_overhead = 2;
    std::string path = tc_.dirs[i] + "/ondisk.sm";
    return tc_.hosts[i]->start_on_disk_cluster(
        members, false,
        [path, &sms, i, u = &updates[i], sv = &saves[i]](uint64_t, uint64_t) {
          auto sm = std::make_unique<OnDiskCounter>(path, u, sv);
          sms[i] = sm.get();
          return sm;
        },
        c);
  };
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(start(i, tc_.members()).ok());
  int leader = tc_.leader(8);
  ASSERT_GE(leader, 0);
  size_t lagging = (leader + 1) % 3;
  ASSERT_TRUE(tc_.hosts[lagging]->stop_cluster(8).ok());
  Session noop = tc_.hosts[leader]->get_noop_session(8);
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE(tc_.propose(leader, noop, std::to_string(i)).ok());
  uint64_t index = 0;
  ASSERT_TRUE(tc_.hosts[leader]->sync_request_snapshot(8, SnapshotOption{}, 5s, &index).ok());
  // Snapshots were taken (and the log compacted) without asking the state
  // machine for its state: it keeps that itself.
  EXPECT_EQ(saves[leader].load(), 0u);
  ASSERT_TRUE(start(lagging, {}).ok());
  std::string sum;
  ASSERT_TRUE(tc_.read(lagging, 8, "", &sum).ok());
  EXPECT_EQ(sum, "1275");
  EXPECT_EQ(sms[lagging]->recoveries.load(), 1) << "caught up from a streamed full snapshot";
  EXPECT_EQ(saves[leader].load(), 1u) << "made once, for the follower that needed it";
  EXPECT_LT(updates[lagging].load(), 50u) << "most entries arrived inside the snapshot";
}

TEST_F(NodeHostTest, FailingStateMachineStopsItsReplicaOnly) {
  // Host 0's replica fails on "boom"; the others apply it.
  for (size_t i = 0; i < 3; ++i) {
    auto factory = [i](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
      if (i == 0) return std::make_unique<KV>("boom");
      return std::make_unique<KV>();
    };
    ASSERT_TRUE(tc_.hosts[i]->start_cluster(tc_.members(), false, factory, TestCluster::config(12, i + 1)).ok());
  }
  ASSERT_GE(tc_.leader(12), 0);
  ASSERT_TRUE(tc_.propose(1, tc_.hosts[1]->get_noop_session(12), "before=1").ok());
  ASSERT_TRUE(tc_.propose(1, tc_.hosts[1]->get_noop_session(12), "boom").ok());
  // Host 0's replica stopped at the entry (never skipping it): its requests
  // now fail with kClusterClosed; the group goes on with the other two.
  Status s;
  EXPECT_TRUE(test::eventually([&] {
    s = tc_.hosts[0]->propose(tc_.hosts[0]->get_noop_session(12), "x=1", 1s, &last_);
    return s.code() == ErrorCode::kClusterClosed;
  })) << s.to_string();
  std::string v;
  EXPECT_EQ(tc_.hosts[0]->stale_read(12, "before", &v).code(), ErrorCode::kClusterClosed);
  ASSERT_TRUE(tc_.propose(2, tc_.hosts[2]->get_noop_session(12), "after=1").ok());
  ASSERT_TRUE(tc_.read(1, 12, "after", &v).ok());
  EXPECT_EQ(v, "1");
  // The stopped replica can be stopped (closed) by the application.
  EXPECT_TRUE(tc_.hosts[0]->stop_cluster(12).ok());
}

TEST_F(NodeHostTest, HundredGroupsOverThreeHostsAllMakeProgress) {
  constexpr uint64_t kGroups = 100;
  for (uint64_t g = 1; g <= kGroups; ++g) start_group(tc_, 100 + g);
  std::vector<std::pair<uint64_t, RequestStatePtr>> inflight;
  std::set<uint64_t> done;
  // Propose one write to every group from host 0, retrying until all complete.
  ASSERT_TRUE(test::eventually([&] {
    inflight.clear();
    for (uint64_t g = 1; g <= kGroups; ++g) {
      if (done.count(g)) continue;
      RequestStatePtr rs;
      if (tc_.hosts[0]->propose(tc_.hosts[0]->get_noop_session(100 + g), "g=" + std::to_string(g), 3s, &rs).ok())
        inflight.emplace_back(g, rs);
    }
    for (auto& [g, rs] : inflight)
      if (rs->wait().completed()) done.insert(g);
    return done.size() == kGroups;
  }, std::chrono::seconds(60)));
  for (uint64_t g = 1; g <= kGroups; g += 33) {
    std::string v;
    ASSERT_TRUE(tc_.read(2, 100 + g, "g", &v).ok());
    EXPECT_EQ(v, std::to_string(g));
  }
}

TEST_F(NodeHostTest, ErrorPaths) {
  start_group(tc_, 1);
  int leader = tc_.leader(1);
  ASSERT_GE(leader, 0);
  NodeHost& nh = *tc_.hosts[leader];
  Session noop = nh.get_noop_session(1);
  RequestStatePtr rs;
  std::string v;
  EXPECT_EQ(nh.propose(nh.get_noop_session(99), "x", 1s, &rs).code(), ErrorCode::kClusterNotFound);
  EXPECT_EQ(nh.sync_read(99, "x", 1s, &v).code(), ErrorCode::kClusterNotFound);
  EXPECT_EQ(nh.stale_read(99, "x", &v).code(), ErrorCode::kClusterNotFound);
  EXPECT_EQ(nh.stop_cluster(99).code(), ErrorCode::kClusterNotFound);
  EXPECT_EQ(nh.check_local_read(99).code(), ErrorCode::kClusterNotFound);
  EXPECT_TRUE(nh.check_local_read(1).ok());
  EXPECT_EQ(nh.propose(noop, std::string((8 << 20) + 1, 'x'), 1s, &rs).code(), ErrorCode::kPayloadTooBig);
  EXPECT_EQ(nh.propose(noop, "x", 1ms, &rs).code(), ErrorCode::kTimeoutTooSmall);
  EXPECT_EQ(nh.propose(noop, "x", 0ms, &rs).code(), ErrorCode::kInvalidDeadline);
  // Refused at once: it would be a leader's no-op, never applied nor completed.
  EXPECT_EQ(nh.propose(noop, "", 1s, &rs).code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(nh.start_cluster(tc_.members(), false, make_kv, TestCluster::config(1, leader + 1)).code(),
            ErrorCode::kClusterAlreadyExist);
  Config bad = TestCluster::config(2, 0);
  Status s = nh.start_cluster(tc_.members(), false, make_kv, bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidClusterSettings);
  EXPECT_NE(s.message().find("node_id"), std::string::npos) << s.to_string();
  EXPECT_EQ(nh.start_cluster({}, false, make_kv, TestCluster::config(3, 1)).code(), ErrorCode::kClusterNotBootstrapped);
  EXPECT_EQ(nh.read_local_node(nullptr, "x", &v).code(), ErrorCode::kInvalidOperation);
  // Config validation names the field.
  NodeHostConfig hc = tc_.host_config(0);
  hc.rtt_millisecond = 0;
  std::unique_ptr<NodeHost> other;
  s = NodeHost::create(hc, &other);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidClusterSettings);
  EXPECT_NE(s.message().find("rtt_millisecond"), std::string::npos);
  hc = tc_.host_config(0);
  hc.raft_address = "nonsense";
  EXPECT_EQ(NodeHost::create(hc, &other).code(), ErrorCode::kInvalidAddress);
  // The directory is locked by the running host.
  EXPECT_EQ(NodeHost::create(tc_.host_config(0), &other).code(), ErrorCode::kLockDirectory);
  // Busy: a state machine that does not return keeps proposals pending
  // until max_pending_per_node (4096) are waiting; then kSystemBusy.
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  auto blocked = [open](uint64_t, uint64_t) {
    auto kv = std::make_unique<KV>();
    kv->before_update = [open](std::string_view) { open.wait(); };
    return kv;
  };
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc_.hosts[i]->start_cluster(tc_.members(), false, blocked, TestCluster::config(5, i + 1)).ok());
  }
  ASSERT_GE(tc_.leader(5), 0);
  Status busy;
  std::vector<RequestStatePtr> waiting;
  for (int i = 0; i < 5000 && busy.ok(); ++i) {
    busy = nh.propose(nh.get_noop_session(5), "b", 30s, &rs);
    if (busy.ok()) waiting.push_back(rs);
  }
  EXPECT_EQ(busy.code(), ErrorCode::kSystemBusy);
  EXPECT_EQ(waiting.size(), 4096u);
  gate.set_value();
  for (auto& w : waiting) EXPECT_TRUE(w->wait().completed());
  // max_in_mem_log_size: a leader whose entries cannot commit (its
  // followers stopped) refuses proposals with kSystemBusy once over the bound.
  for (size_t i = 0; i < 3; ++i) {
    Config c = TestCluster::config(6, i + 1);
    c.check_quorum = false;  // keep the lone leader leading
    c.max_in_mem_log_size = 1024;
    ASSERT_TRUE(tc_.hosts[i]->start_cluster(tc_.members(), false, make_kv, c).ok());
  }
  int l6 = tc_.leader(6);
  ASSERT_GE(l6, 0);
  ASSERT_TRUE(tc_.propose(l6, tc_.hosts[l6]->get_noop_session(6), "first=1").ok());
  for (size_t i = 0; i < 3; ++i) {
    if (int(i) != l6) {
      ASSERT_TRUE(tc_.hosts[i]->stop_cluster(6).ok());
    }
  }
  // Timeout: the lone leader (no check-quorum) appends but cannot commit.
  s = tc_.hosts[l6]->sync_propose(tc_.hosts[l6]->get_noop_session(6), "late=1", 200ms, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kTimeout) << s.to_string();
  EXPECT_TRUE(is_temp_error(s.code()));
  Status limited;
  EXPECT_TRUE(test::eventually([&] {
    limited = tc_.hosts[l6]->propose(tc_.hosts[l6]->get_noop_session(6), std::string(100, 'x'), 30s, &rs);
    return limited.code() == ErrorCode::kSystemBusy;
  })) << limited.to_string();
  EXPECT_NE(limited.message().find("max_in_mem_log_size"), std::string::npos) << limited.to_string();
  // No quorum: the proposal is appended but never commits; it times out or,
  // once check-quorum deposes the leader, is dropped.
  size_t f1 = (leader + 1) % 3, f2 = (leader + 2) % 3;
  tc_.hosts[f1].reset();
  tc_.hosts[f2].reset();
  Result r;
  s = nh.sync_propose(noop, "lost=1", 300ms, &r);
  EXPECT_TRUE(s.code() == ErrorCode::kTimeout || s.code() == ErrorCode::kClusterNotReady) << s.to_string();
  ASSERT_TRUE(nh.propose(noop, "pending", 30s, &rs).ok());
  waiting = {rs};
  // Stopping the host terminates everything waiting; later calls fail.
  nh.stop();
  for (auto& w : waiting) EXPECT_TRUE(w->wait().terminated() || w->wait().dropped());
  EXPECT_EQ(nh.propose(noop, "x", 1s, &rs).code(), ErrorCode::kSystemStopped);
  EXPECT_EQ(nh.sync_read(1, "x", 1s, &v).code(), ErrorCode::kSystemStopped);
}

// logdb_shards = 0 (the default) is automatic: a new directory gets one
// shard per 4 hardware threads; an existing one keeps the count it recorded
// at its first start (a group's shard is cluster_id % shards), and an
// explicit different count is refused without touching the data.
TEST(NodeHostShards, AutomaticCountKeepsTheRecordedOneAndExplicitMismatchIsRefused) {
  TestCluster tc(1);
  NodeHostConfig fresh = tc.host_config(0);
  ASSERT_EQ(fresh.logdb_shards, 0u);
  uint64_t expected = std::clamp<uint64_t>(std::thread::hardware_concurrency() / 4, 1, 16);
  EXPECT_EQ(fresh.resolved_logdb_shards(), expected);
  // A recorded count the automatic one would not give on this machine.
  const uint64_t recorded = expected == 3 ? 5 : 3;
  ASSERT_TRUE(tc.start_host(0, [&](NodeHostConfig* c) { c->logdb_shards = recorded; }).ok());
  start_group(tc, 1);
  ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(1), "k=v").ok());
  tc.hosts[0].reset();
  // Restart with the default: the directory's count, the data is there.
  EXPECT_EQ(tc.host_config(0).resolved_logdb_shards(), recorded);
  ASSERT_TRUE(tc.start_host(0).ok());
  start_group(tc, 1);
  std::string v;
  EXPECT_TRUE(test::eventually([&] { return tc.hosts[0]->stale_read(1, "k", &v).ok() && v == "v"; }));
  tc.hosts[0].reset();
  EXPECT_EQ(tc.start_host(0, [&](NodeHostConfig* c) { c->logdb_shards = recorded + 1; }).code(),
            ErrorCode::kHardSettingsChanged);
  ASSERT_TRUE(tc.start_host(0).ok());
}

}  // namespace
}  // namespace dragonboat
