// The reference's error semantics, produced where the reference produces
// them (docs/cpp.md, "Which failures are temporary"): one membership change
// and one leader transfer at a time per replica, requests on a replica that
// applied its own removal, requests and reads on a joining replica the
// leader has not reached, an on-disk state machine's open() giving up when
// the host stops, and which codes are temporary.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::KV;
using test::TestCluster;
using namespace std::chrono_literals;

using test::make_kv;

// Three hosts running group `cid`; returns the leader's host index.
int start_group(TestCluster& tc, uint64_t cid) {
  for (size_t i = 0; i < tc.hosts.size(); ++i) {
    if (!tc.hosts[i] && !tc.start_host(i).ok()) return -1;
  }
  for (size_t i = 0; i < 3; ++i) {
    if (!tc.hosts[i]->start_cluster(tc.members(), false, make_kv, TestCluster::config(cid, i + 1)).ok()) return -1;
  }
  return tc.leader(cid);
}

TEST(NodeHostErrors, TemporaryCodesAreTheReferences) {
  for (ErrorCode c : {ErrorCode::kSystemBusy, ErrorCode::kClusterClosed, ErrorCode::kClusterNotInitialized,
                      ErrorCode::kClusterNotReady, ErrorCode::kTimeout, ErrorCode::kPendingConfigChangeExist,
                      ErrorCode::kPendingSnapshotRequestExist, ErrorCode::kPendingLeaderTransferExist,
                      ErrorCode::kDropped}) {
    EXPECT_TRUE(is_temp_error(c)) << error_code_name(c);
  }
  for (ErrorCode c : {ErrorCode::kNodeRemoved, ErrorCode::kClusterNotFound, ErrorCode::kRejected,
                      ErrorCode::kCanceled, ErrorCode::kInvalidTarget, ErrorCode::kSystemStopped,
                      ErrorCode::kPayloadTooBig, ErrorCode::kFatal}) {
    EXPECT_FALSE(is_temp_error(c)) << error_code_name(c);
  }
}

TEST(NodeHostErrors, ASecondMembershipChangeWhileOneWaitsIsRefused) {
  TestCluster tc(3);
  int leader = start_group(tc, 5);
  ASSERT_GE(leader, 0);
  // The two followers stop: the first change cannot commit and stays pending.
  for (size_t i = 0; i < 3; ++i)
    if (static_cast<int>(i) != leader) tc.hosts[i].reset();
  RequestStatePtr first, second;
  ASSERT_TRUE(tc.hosts[leader]->request_add_node(5, 4, "127.0.0.1:1", 0, 30s, &first).ok());
  Status s = tc.hosts[leader]->request_add_node(5, 5, "127.0.0.1:2", 0, 30s, &second);
  EXPECT_EQ(s.code(), ErrorCode::kPendingConfigChangeExist) << s.to_string();
  s = tc.hosts[leader]->request_delete_node(5, 2, 0, 30s, &second);
  EXPECT_EQ(s.code(), ErrorCode::kPendingConfigChangeExist) << s.to_string();
  // Proposals are not membership changes: they still queue.
  RequestStatePtr p;
  EXPECT_TRUE(tc.hosts[leader]->propose(tc.hosts[leader]->get_noop_session(5), "a=1", 30s, &p).ok());
  // Once the first one is done (here: the replica stops), the next may go.
  ASSERT_TRUE(tc.hosts[leader]->stop_cluster(5).ok());
  RequestResult r;
  ASSERT_TRUE(first->wait_for(5s, &r));
  EXPECT_TRUE(r.terminated());
}

TEST(NodeHostErrors, ASecondLeaderTransferWhileOneIsUnderWayIsRefused) {
  TestCluster tc(3);
  int leader = start_group(tc, 6);
  ASSERT_GE(leader, 0);
  // The target is down: the transfer waits for it (until an election timeout).
  size_t target = (leader + 1) % 3;
  tc.hosts[target].reset();
  ASSERT_TRUE(tc.hosts[leader]->request_leader_transfer(6, target + 1).ok());
  Status s = tc.hosts[leader]->request_leader_transfer(6, target + 1);
  EXPECT_EQ(s.code(), ErrorCode::kPendingLeaderTransferExist) << s.to_string();
  EXPECT_TRUE(is_temp_error(s.code()));
  // After the transfer is given up (an election timeout, 10 ticks), a new one is accepted.
  EXPECT_TRUE(test::eventually([&] { return tc.hosts[leader]->request_leader_transfer(6, target + 1).ok(); }));
}

TEST(NodeHostErrors, ARemovedReplicaRefusesRequestsWithNodeRemoved) {
  TestCluster tc(3);
  int leader = start_group(tc, 7);
  ASSERT_GE(leader, 0);
  NodeHost& nh = *tc.hosts[leader];
  ASSERT_TRUE(tc.propose(leader, nh.get_noop_session(7), "a=1").ok());
  // The leader removes itself: it applies the removal (it commits it).
  Status s;
  ASSERT_TRUE(test::eventually([&] {
    s = nh.sync_request_delete_node(7, leader + 1, 0, 5s);
    return s.ok() || !is_temp_error(s.code());
  }));
  ASSERT_TRUE(s.ok()) << s.to_string();
  RequestStatePtr rs;
  EXPECT_TRUE(test::eventually([&] {
    return nh.propose(nh.get_noop_session(7), "b=2", 5s, &rs).code() == ErrorCode::kNodeRemoved;
  }));
  EXPECT_EQ(nh.read_index(7, 5s, &rs).code(), ErrorCode::kNodeRemoved);
  EXPECT_EQ(nh.request_leader_transfer(7, (leader + 1) % 3 + 1).code(), ErrorCode::kNodeRemoved);
  EXPECT_FALSE(is_temp_error(ErrorCode::kNodeRemoved));
  // The other two carry on.
  size_t other = (leader + 1) % 3;
  EXPECT_TRUE(tc.propose(other, tc.hosts[other]->get_noop_session(7), "c=3").ok());
}

TEST(NodeHostErrors, AJoiningReplicaIsNotInitializedUntilTheLeaderReachesIt) {
  TestCluster tc(4);
  int leader = start_group(tc, 8);
  ASSERT_GE(leader, 0);
  // Host 3 joins a group that has not added it: it never hears from a leader.
  ASSERT_TRUE(tc.hosts[3]->start_cluster({}, true, make_kv, TestCluster::config(8, 4)).ok());
  std::string v;
  Status s = tc.hosts[3]->stale_read(8, "a", &v);
  EXPECT_EQ(s.code(), ErrorCode::kClusterNotInitialized) << s.to_string();
  RequestStatePtr rs;
  EXPECT_EQ(tc.hosts[3]->read_index(8, 5s, &rs).code(), ErrorCode::kClusterNotInitialized);
  EXPECT_EQ(tc.hosts[3]->propose(tc.hosts[3]->get_noop_session(8), "a=1", 5s, &rs).code(),
            ErrorCode::kClusterNotInitialized);
  // Once added, the leader reaches it and it serves.
  ASSERT_TRUE(test::eventually([&] {
    Status c = tc.hosts[leader]->sync_request_add_node(8, 4, tc.addresses[3], 0, 5s);
    return c.ok() || !is_temp_error(c.code());
  }));
  ASSERT_TRUE(tc.propose(leader, tc.hosts[leader]->get_noop_session(8), "a=1").ok());
  ASSERT_TRUE(tc.read(3, 8, "a", &v).ok());
  EXPECT_EQ(v, "1");
}

// Abandons its next snapshot save when asked (the reference's
// ErrSnapshotAborted).
class AbortingKV : public KV {
 public:
  explicit AbortingKV(std::atomic<bool>* abort_next) : abort_next_(abort_next) {}
  Status save_snapshot(ISnapshotWriter* w) override {
    if (abort_next_->exchange(false)) return Status(ErrorCode::kSnapshotAborted, "not now");
    return KV::save_snapshot(w);
  }

 private:
  std::atomic<bool>* abort_next_;
};

TEST(NodeHostErrors, AStateMachineMayAbortASnapshotSaveAndTheReplicaGoesOn) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  std::atomic<bool> abort_next{true};
  auto factory = [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
    return std::make_unique<AbortingKV>(&abort_next);
  };
  ASSERT_TRUE(tc.hosts[0]->start_cluster({{1, tc.addresses[0]}}, false, factory, TestCluster::config(9, 1)).ok());
  ASSERT_GE(tc.leader(9), 0);
  NodeHost& nh = *tc.hosts[0];
  ASSERT_TRUE(tc.propose(0, nh.get_noop_session(9), "a=1").ok());
  RequestStatePtr rs;
  ASSERT_TRUE(nh.request_snapshot(9, SnapshotOption{}, 5s, &rs).ok());
  RequestResult r = rs->wait();
  EXPECT_TRUE(r.aborted()) << request_result_code_name(r.code);
  EXPECT_EQ(r.status().code(), ErrorCode::kCanceled);
  // The replica goes on: it takes writes, and the next snapshot is made.
  ASSERT_TRUE(tc.propose(0, nh.get_noop_session(9), "b=2").ok());
  uint64_t index = 0;
  ASSERT_TRUE(nh.sync_request_snapshot(9, SnapshotOption{}, 5s, &index).ok());
  EXPECT_GT(index, 0u);
}

// ErrOpenStopped: a slow open() polls its stop signal; stopping the host
// fires it (before stop waits for the start in progress), the open gives
// up, and start_on_disk_cluster reports kOpenStopped.
TEST(OpenStopped, AnOpenThatGivesUpWhenTheHostStopsFailsTheStart) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  std::promise<void> entered;
  std::atomic<bool> saw_stop{false};
  auto make = [&](uint64_t, uint64_t) -> std::unique_ptr<IOnDiskStateMachine> {
    auto sm = std::make_unique<test::OnDiskCounter>(tc.dirs[0] + "/counter");
    sm->on_open = [&](const StopSignal& stop) {
      EXPECT_FALSE(stop.stopped());
      entered.set_value();
      while (!stop.stopped()) std::this_thread::yield();  // a long recovery, polling
      saw_stop = true;
      return Status(ErrorCode::kOpenStopped, "gave up opening");
    };
    return sm;
  };
  Status start;
  std::thread starter([&] {
    start = tc.hosts[0]->start_on_disk_cluster({{1, tc.addresses[0]}}, false, make, TestCluster::config(1, 1));
  });
  entered.get_future().wait();
  tc.hosts[0]->stop();
  starter.join();
  EXPECT_TRUE(saw_stop.load());
  EXPECT_EQ(start.code(), ErrorCode::kOpenStopped) << start.to_string();
  EXPECT_FALSE(is_temp_error(ErrorCode::kOpenStopped));
}

}  // namespace
}  // namespace dragonboat
