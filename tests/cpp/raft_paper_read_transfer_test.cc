// Paper tests for the Raft core — linearizable reads by read index (thesis
// §6.4) and leadership transfer (thesis §3.10). One test per protocol rule,
// each named after the section that states it —
//   "Sec5_x"    Ongaro & Ousterhout, "In Search of an Understandable
//               Consensus Algorithm" (extended version), §5 and §7;
//   "Thesis_x"  Ongaro, "Consensus: Bridging Theory and Practice" (2014).
// Everything is driven by logical ticks and explicit message delivery through
// the public Peer API; there are no sleeps and no threads. The hand-driven
// cluster is raft_cluster_harness.h; the other topics are
// raft_paper_{election,replication,membership}_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "raft_cluster_harness.h"

namespace dragonboat::raft {
namespace {

using namespace test;  // raft_cluster_harness.h

// =========================== thesis §6.4 ==================================

// Thesis §6.4: the leader records its commit index as the read index and
// answers only after a heartbeat round acknowledged by a majority.
TEST(RaftPaper, Thesis6_4_ReadIndexAnsweredAfterQuorumAck) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.tick_all(1);
  uint64_t commit = c.raft(1).log().committed();
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{7, 0}).ok());
  std::vector<Message> hbs = of_type(c.drain(1), MT::kHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_EQ(hbs[0].hint, 7u);
  EXPECT_TRUE(c.node(1).reads.empty());
  const Message& to2 = hbs[0].to == 2 ? hbs[0] : hbs[1];
  std::vector<Message> resp = of_type(c.step(2, to2), MT::kHeartbeatResp);
  ASSERT_EQ(resp.size(), 1u);
  c.step(1, resp[0]);  // leader + node 2: a majority
  ASSERT_EQ(c.node(1).reads.size(), 1u);
  EXPECT_EQ(c.node(1).reads[0].ctx, (ReadCtx{7, 0}));
  EXPECT_EQ(c.node(1).reads[0].index, commit);
}

// Thesis §6.4 step 1: a new leader does not know the latest commit index
// until an entry of its own term commits; reads wait for that, and then use
// the new commit index.
TEST(RaftPaper, Thesis6_4_ReadIndexDeferredUntilCurrentTermCommit) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);  // no-op at 4 not yet committed
  c.drain(1);
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{9, 0}).ok());
  std::vector<Message> out = c.drain(1);
  for (const Message& m : out) EXPECT_NE(m.hint, 9u) << message_type_name(m.type);
  Message ack = msg(MT::kReplicateResp, 2, 1, 2).with_log(4);
  out = c.step(1, ack);
  ASSERT_EQ(c.raft(1).log().committed(), 4u);
  EXPECT_TRUE(c.node(1).reads.empty());
  std::vector<Message> hbs = of_type(out, MT::kHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_EQ(hbs[0].hint, 9u);
  Message hb_resp = msg(MT::kHeartbeatResp, 2, 1, 2).with_hint(9);
  c.step(1, hb_resp);
  ASSERT_EQ(c.node(1).reads.size(), 1u);
  EXPECT_EQ(c.node(1).reads[0].index, 4u);
}

// Thesis §6.4: a follower forwards the read to the leader and receives the
// leader's commit index as its read index.
TEST(RaftPaper, Thesis6_4_FollowerForwardsReadIndex) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.tick_all(1);
  ASSERT_TRUE(c.peer(2).read_index(ReadCtx{11, 0}).ok());
  std::vector<Message> out = c.drain(2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MT::kReadIndex);
  EXPECT_EQ(out[0].to, 1u);
  EXPECT_TRUE(c.node(2).reads.empty());
  c.send(out);
  c.stabilize();
  ASSERT_EQ(c.node(2).reads.size(), 1u);
  EXPECT_EQ(c.node(2).reads[0].ctx, (ReadCtx{11, 0}));
  EXPECT_EQ(c.node(2).reads[0].index, c.raft(1).log().committed());
  EXPECT_TRUE(c.node(1).reads.empty());
}

// Thesis §6.4: without a known leader a read cannot be served: it is
// dropped (the client retries) — on a leaderless follower, on a candidate,
// and for reads pending on a leader that loses its leadership.
TEST(RaftPaper, Thesis6_4_ReadIndexDroppedWithoutLeader) {
  Cluster c({1, 2, 3}, nullptr, {1});
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{5, 0}).ok());
  c.drain(1);
  ASSERT_EQ(c.node(1).dropped_reads.size(), 1u);
  EXPECT_EQ(c.node(1).dropped_reads[0], (ReadCtx{5, 0}));
  c.step_local(1, MT::kElection);
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{6, 0}).ok());
  c.drain(1);
  ASSERT_EQ(c.node(1).dropped_reads.size(), 2u);
  EXPECT_EQ(c.node(1).dropped_reads[1], (ReadCtx{6, 0}));
  c.step(1, msg(MT::kRequestVoteResp, 2, 1, 2));
  ASSERT_TRUE(c.peer(1).is_leader());
  Message ack = msg(MT::kReplicateResp, 2, 1, 2).with_log(4);
  c.step(1, ack);
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{8, 0}).ok());  // awaiting heartbeat acks
  c.drain(1);
  c.step(1, msg(MT::kHeartbeatResp, 3, 1, 9));  // deposed
  ASSERT_EQ(c.node(1).dropped_reads.size(), 3u);
  EXPECT_EQ(c.node(1).dropped_reads[2], (ReadCtx{8, 0}));
  EXPECT_TRUE(c.node(1).reads.empty());
}

// Thesis §6.4: the heartbeat round must be acknowledged by a majority of
// the *voters*; an observer's acknowledgement does not confirm leadership.
TEST(RaftPaper, Thesis6_4_ObserverAckDoesNotConfirmRead) {
  Cluster c({1, 2});
  c.elect(1);
  add_non_voter(c, 3, false);
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{21, 0}).ok());
  std::vector<Message> hbs = of_type(c.drain(1), MT::kHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  for (uint64_t via : {3, 2}) {
    for (const Message& hb : hbs) {
      if (hb.to != via) continue;
      for (const Message& r : of_type(c.step(via, hb), MT::kHeartbeatResp)) c.step(1, r);
    }
    if (via == 3) {
      EXPECT_TRUE(c.node(1).reads.empty());
    }
  }
  ASSERT_EQ(c.node(1).reads.size(), 1u);
  EXPECT_EQ(c.node(1).reads[0].ctx, (ReadCtx{21, 0}));
}

// =========================== thesis §3.10 =================================

// Thesis §3.10: when the target's log is up to date the leader sends it
// TimeoutNow; the target campaigns at once (bypassing the check-quorum
// lease of the other followers) and wins a new term.
TEST(RaftPaper, Thesis3_10_TransferSendsTimeoutNowToCaughtUpTarget) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.check_quorum = true; });
  c.elect(1);
  c.tick_all(1);
  uint64_t term = c.raft(1).term();
  ASSERT_TRUE(c.peer(1).request_leader_transfer(2).ok());
  std::vector<Message> out = c.drain(1);
  ASSERT_EQ(of_type(out, MT::kTimeoutNow).size(), 1u);
  EXPECT_EQ(of_type(out, MT::kTimeoutNow)[0].to, 2u);
  c.send(out);
  c.stabilize();
  EXPECT_TRUE(c.peer(2).is_leader());
  EXPECT_EQ(c.raft(2).term(), term + 1);
  EXPECT_EQ(c.raft(1).leader_id(), 2u);
}

// Thesis §3.10: a lagging target is first brought up to date; TimeoutNow is
// sent only once its log matches the leader's.
TEST(RaftPaper, Thesis3_10_LaggingTargetCaughtUpBeforeTimeoutNow) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (uint64_t k = 1; k <= 3; ++k) ASSERT_TRUE(c.propose(1, "v" + std::to_string(k), k).ok());
  c.stabilize();
  c.heal();
  ASSERT_LT(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  ASSERT_TRUE(c.peer(1).request_leader_transfer(3).ok());
  std::vector<Message> out = c.drain(1);
  EXPECT_TRUE(of_type(out, MT::kTimeoutNow).empty());
  int timeout_now = 0;
  bool caught_up = false;
  c.drop = [&](const Message& m) {
    if (m.type == MT::kTimeoutNow) {
      ++timeout_now;
      caught_up = c.raft(3).log().last_index() == c.raft(1).log().last_index();
    }
    return false;
  };
  c.send(out);
  c.tick_all(3);
  EXPECT_EQ(timeout_now, 1);
  EXPECT_TRUE(caught_up);
  EXPECT_TRUE(c.peer(3).is_leader());
}

// Leaves leader 1 with a transfer to node 2 that cannot complete.
void start_stuck_transfer(Cluster& c) {
  c.elect(1);
  c.isolate(2);
  ASSERT_TRUE(c.peer(1).request_leader_transfer(2).ok());
  c.stabilize();  // the TimeoutNow is lost
  ASSERT_EQ(c.raft(1).leader_transfer_target(), 2u);
}

// Thesis §3.10: while a transfer is in progress the leader stops accepting
// client requests (they are dropped for the client to retry).
TEST(RaftPaper, Thesis3_10_ProposalsDroppedDuringTransfer) {
  Cluster c({1, 2, 3});
  start_stuck_transfer(c);
  uint64_t last = c.raft(1).log().last_index();
  ASSERT_TRUE(c.propose(1, "late", 42).ok());
  c.drain(1);
  EXPECT_EQ(c.node(1).dropped, (std::vector<uint64_t>{42}));
  EXPECT_EQ(c.raft(1).log().last_index(), last);
}

// Thesis §3.10: a transfer that does not complete within an election
// timeout is aborted and the leader accepts requests again.
TEST(RaftPaper, Thesis3_10_TransferAbortedAfterElectionTimeout) {
  Cluster c({1, 2, 3});
  start_stuck_transfer(c);
  c.tick(1, 9);
  EXPECT_EQ(c.raft(1).leader_transfer_target(), 2u);
  c.tick(1);
  EXPECT_EQ(c.raft(1).leader_transfer_target(), kNoNode);
  EXPECT_TRUE(c.peer(1).is_leader());
  uint64_t last = c.raft(1).log().last_index();
  ASSERT_TRUE(c.propose(1, "again", 43).ok());
  c.drain(1);
  EXPECT_TRUE(c.node(1).dropped.empty());
  EXPECT_EQ(c.raft(1).log().last_index(), last + 1);
}

// Thesis §3.10: leadership is transferred only to a full voter: a request
// naming an observer is refused, and an observer ignores TimeoutNow.
TEST(RaftPaper, Thesis3_10_TransferToObserverRefused) {
  Cluster c({1, 2});
  c.elect(1);
  add_non_voter(c, 3, false);
  Status s = c.peer(1).request_leader_transfer(3);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), ErrorCode::kInvalidTarget);  // refused up front by the API
  }
  // and refused by the core when asked directly
  (void)c.raft(1).step(local_msg(MT::kLeaderTransfer).with_hint(3));
  std::vector<Message> out = c.drain(1);
  EXPECT_TRUE(of_type(out, MT::kTimeoutNow).empty());
  EXPECT_EQ(c.raft(1).leader_transfer_target(), kNoNode);
  uint64_t term = c.raft(3).term();
  out = c.step(3, msg(MT::kTimeoutNow, 1, 3, term));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(c.raft(3).role(), Role::kObserver);
  EXPECT_EQ(c.raft(3).term(), term);
  EXPECT_TRUE(c.peer(1).is_leader());
}

}  // namespace
}  // namespace dragonboat::raft
