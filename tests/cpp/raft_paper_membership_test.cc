// Paper tests for the Raft core — membership changes (thesis §4, and
// dragonboat's own "Membership_x" rules), rate limiting ("RateLimit_x") and
// quiescence ("Quiesce_x"). One test per protocol rule, each named after
// the section that states it —
//   "Sec5_x"    Ongaro & Ousterhout, "In Search of an Understandable
//               Consensus Algorithm" (extended version), §5 and §7;
//   "Thesis_x"  Ongaro, "Consensus: Bridging Theory and Practice" (2014).
// Everything is driven by logical ticks and explicit message delivery through
// the public Peer API; there are no sleeps and no threads. The hand-driven
// cluster is raft_cluster_harness.h; the other topics are
// raft_paper_{election,replication,read_transfer}_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "raft_cluster_harness.h"

namespace dragonboat::raft {
namespace {

using namespace test;  // raft_cluster_harness.h

// ========================= membership (thesis §4) =========================

// Thesis §4.1: single-server changes are safe only one at a time: a second
// change is refused while the first is not yet applied (even in one batch).
TEST(RaftPaper, Thesis4_1_OnePendingConfigChangeAtATime) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kAddObserver, 4, 100).ok());
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kAddObserver, 5, 101).ok());
  c.stabilize();
  EXPECT_EQ(c.node(1).dropped, (std::vector<uint64_t>{101}));
  EXPECT_TRUE(c.peer(1).membership().is_observer(4));
  EXPECT_FALSE(c.peer(1).membership().is_member(5));
  // The first one is applied: the next change is accepted.
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kAddObserver, 5, 102).ok());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).membership().is_observer(5));
  // Two changes in one batch: only the first is kept.
  uint64_t ccid = c.peer(1).membership().config_change_id;
  Entry a = proposal(encode_config_change(make_cc(ConfigChangeType::kAddObserver, 6, ccid)), 103)
                .with_type(EntryType::kConfigChange);
  Entry b = proposal(encode_config_change(make_cc(ConfigChangeType::kAddObserver, 7, ccid)), 104)
                .with_type(EntryType::kConfigChange);
  ASSERT_TRUE(c.peer(1).propose({a, b}).ok());
  c.stabilize();
  EXPECT_EQ(c.node(1).dropped, (std::vector<uint64_t>{101, 104}));
  EXPECT_TRUE(c.peer(1).membership().is_observer(6));
  EXPECT_FALSE(c.peer(1).membership().is_member(7));
}

// A removed node ID is never a member again: re-adding it is rejected
// deterministically on every replica (kRejected, membership unchanged).
TEST(RaftPaper, Membership_RemovedNodeNeverReAdded) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kRemoveNode, 3, 1).ok());
  c.stabilize();
  for (uint64_t id : {1, 2}) {
    ASSERT_TRUE(c.node(id).cc_results.back().ok()) << "node " << id;
    EXPECT_EQ(c.peer(id).membership().removed.count(3), 1u) << "node " << id;
  }
  for (auto type : {ConfigChangeType::kAddNode, ConfigChangeType::kAddObserver}) {
    ASSERT_TRUE(propose_cc(c, 1, type, 3, 2).ok());
    c.stabilize();
    c.tick_all(1);
    for (uint64_t id : {1, 2}) {
      EXPECT_EQ(c.node(id).cc_results.back().code(), ErrorCode::kRejected) << "node " << id;
      EXPECT_FALSE(c.peer(id).membership().is_member(3)) << "node " << id;
    }
  }
}

// Ordered config change: a change quoting a stale config_change_id (the
// membership moved on since the requester read it) is rejected.
TEST(RaftPaper, Membership_OrderedConfigChangeRejectsStaleId) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.ordered_config_change = true; });
  c.elect(1);
  uint64_t ccid0 = c.peer(1).membership().config_change_id;
  ASSERT_TRUE(c.peer(1).propose_config_change(make_cc(ConfigChangeType::kAddObserver, 4, ccid0), 1).ok());
  c.stabilize();
  c.tick_all(1);
  uint64_t ccid1 = c.peer(1).membership().config_change_id;
  ASSERT_GT(ccid1, ccid0);
  for (uint64_t id : {1, 2, 3}) {
    ASSERT_TRUE(c.node(id).cc_results.back().ok()) << "node " << id;
    EXPECT_TRUE(c.peer(id).membership().is_observer(4)) << "node " << id;
  }
  ASSERT_TRUE(c.peer(1).propose_config_change(make_cc(ConfigChangeType::kAddObserver, 5, ccid0), 2).ok());
  c.stabilize();
  c.tick_all(1);
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(c.node(id).cc_results.back().code(), ErrorCode::kRejected) << "node " << id;
    EXPECT_FALSE(c.peer(id).membership().is_member(5)) << "node " << id;
    EXPECT_EQ(c.peer(id).membership().config_change_id, ccid1) << "node " << id;
  }
}

// Thesis §4.2.1: a non-voting member (observer) receives the log but counts
// neither toward the commit quorum nor toward an election, and never
// campaigns.
TEST(RaftPaper, Thesis4_2_1_ObserverNotCountedInQuorum) {
  Cluster c({1, 2});
  c.elect(1);
  add_non_voter(c, 3, false);
  c.isolate(2);
  uint64_t committed = c.raft(1).log().committed();
  ASSERT_TRUE(c.propose(1, "x", 1).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(3).log().last_index(), committed + 1);  // replicated to 3
  EXPECT_EQ(c.raft(1).log().committed(), committed);       // but 1 of 2 voters
  c.heal();
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).log().committed(), committed + 1);
  // Never campaigns, however long it hears nothing.
  c.isolate(3);
  uint64_t term = c.raft(3).term();
  EXPECT_TRUE(of_type(c.tick(3, 100), MT::kRequestVote).empty());
  EXPECT_EQ(c.raft(3).term(), term);
  EXPECT_EQ(c.raft(3).role(), Role::kObserver);
  // Its vote does not count: 1 needs 2's vote, not 3's.
  c.step(1, msg(MT::kNoOp, 2, 1, c.raft(1).term() + 1));
  c.step_local(1, MT::kElection);
  ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
  uint64_t t = c.raft(1).term();
  c.step(1, msg(MT::kRequestVoteResp, 3, 1, t));
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
  c.step(1, msg(MT::kRequestVoteResp, 2, 1, t));
  EXPECT_TRUE(c.peer(1).is_leader());
}

// Thesis §4.2.1: an observer that has caught up is promoted by adding it as
// a node; from then on it is a voter in the commit quorum.
TEST(RaftPaper, Thesis4_2_1_ObserverPromotion) {
  Cluster c({1, 2});
  c.elect(1);
  add_non_voter(c, 3, false);
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kAddNode, 3, 2).ok());
  c.stabilize();
  c.tick_all(1);
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_TRUE(c.peer(id).membership().is_voter(3)) << "node " << id;
    EXPECT_FALSE(c.peer(id).membership().is_observer(3)) << "node " << id;
  }
  EXPECT_EQ(c.raft(3).role(), Role::kFollower);
  c.isolate(2);  // 1 and 3 are now a majority of 3 voters
  uint64_t committed = c.raft(1).log().committed();
  ASSERT_TRUE(c.propose(1, "x", 1).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().committed(), committed + 1);
}

// Witnesses (a dragonboat extension beyond the paper): a voting member
// that stores only index and term — application entries reach it as
// kMetadata, config changes whole — counts toward commit, and never
// campaigns.
TEST(RaftPaper, Membership_WitnessGetsMetadataAndNeverCampaigns) {
  Cluster c({1, 2});
  c.elect(1);
  add_non_voter(c, 3, true);
  c.isolate(2);
  uint64_t committed = c.raft(1).log().committed();
  ASSERT_TRUE(c.propose(1, "payload", 1).ok());
  c.stabilize();
  c.tick_all(1);
  EXPECT_EQ(c.raft(1).log().committed(), committed + 1);  // leader + witness
  std::vector<Entry> log = log_entries(c.raft(3));
  bool saw_cc = false;
  for (const Entry& e : log) {
    EXPECT_NE(e.type, EntryType::kApplication) << "index " << e.index;
    EXPECT_EQ(e.term, c.raft(1).log().term_or_zero(e.index)) << "index " << e.index;
    if (e.type == EntryType::kMetadata) {
      EXPECT_TRUE(e.cmd.empty());
    }
    saw_cc |= e.type == EntryType::kConfigChange;
  }
  EXPECT_TRUE(saw_cc);
  EXPECT_EQ(log.back().index, committed + 1);
  EXPECT_EQ(log.back().type, EntryType::kMetadata);
  c.isolate(3);
  uint64_t term = c.raft(3).term();
  std::vector<Message> out = c.tick(3, 100);
  EXPECT_TRUE(of_type(out, MT::kRequestVote).empty());
  EXPECT_TRUE(of_type(out, MT::kRequestPreVote).empty());
  EXPECT_EQ(c.raft(3).term(), term);
  EXPECT_EQ(c.raft(3).role(), Role::kWitness);
}

// ========================= rate limit / quiesce ===========================

// Rate limiting (dragonboat's MaxInMemLogSize): once the bytes of entries
// not yet applied exceed the limit — the leader's own, or a follower's
// report — proposals fail with kSystemBusy until entries are applied.
TEST(RaftPaper, RateLimit_ProposeReturnsSystemBusy) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_in_mem_log_size = 2000; });
  c.elect(1);
  c.isolate(2);
  c.isolate(3);
  std::string big(200, 'b');
  int accepted = 0;
  Status s;
  for (int i = 0; i < 50; ++i) {
    s = c.propose(1, big, 100 + i);
    if (!s.ok()) break;
    c.stabilize();
    ++accepted;
  }
  EXPECT_EQ(s.code(), ErrorCode::kSystemBusy);
  EXPECT_GE(accepted, 5);
  EXPECT_LE(accepted, 10);
  c.heal();
  c.tick_all(3);  // everything commits and is applied
  EXPECT_TRUE(c.propose(1, "ok", 1).ok());
  c.stabilize();
  // A follower reporting a large in-memory log limits the group as well.
  Message report = msg(MT::kRateLimit, 2, 1, c.raft(1).term()).with_hint(5000);
  c.step(1, report);
  EXPECT_EQ(c.propose(1, "x", 2).code(), ErrorCode::kSystemBusy);
}

// Quiesce: a group idle for quiesce_ticks stops heartbeating altogether
// (leader and followers), without anyone starting an election.
TEST(RaftPaper, Quiesce_HeartbeatsStopWhenIdle) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.quiesce_ticks = 20; });
  c.elect(1);
  uint64_t term = c.raft(1).term();
  c.tick_all(30);
  for (uint64_t id : {1, 2, 3}) EXPECT_TRUE(c.peer(id).quiesced()) << "node " << id;
  c.delivered.clear();
  c.tick_all(100);
  EXPECT_TRUE(c.delivered.empty()) << c.delivered.size() << " messages while quiesced";
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(c.raft(id).term(), term) << "node " << id;
    EXPECT_EQ(c.raft(id).leader_id(), 1u) << "node " << id;
  }
}

// Quiesce: a proposal wakes the leader, its Replicate wakes the followers,
// the entry commits and heartbeats resume.
TEST(RaftPaper, Quiesce_ProposalWakesGroup) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.quiesce_ticks = 20; });
  c.elect(1);
  c.tick_all(30);
  ASSERT_TRUE(c.peer(1).quiesced());
  uint64_t last = c.raft(1).log().last_index();
  ASSERT_TRUE(c.propose(1, "wake", 1).ok());
  EXPECT_FALSE(c.peer(1).quiesced());
  c.stabilize();
  for (uint64_t id : {2, 3}) EXPECT_FALSE(c.peer(id).quiesced()) << "node " << id;
  EXPECT_EQ(c.raft(1).log().committed(), last + 1);
  c.delivered.clear();
  c.tick_all(2);
  EXPECT_FALSE(of_type(c.delivered, MT::kHeartbeat).empty());
  for (uint64_t id : {2, 3}) EXPECT_EQ(c.raft(id).log().committed(), last + 1) << "node " << id;
}

}  // namespace
}  // namespace dragonboat::raft
