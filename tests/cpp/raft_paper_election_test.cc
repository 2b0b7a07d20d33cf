// Paper tests for the Raft core — elections: terms (§5.1), leader election
// (§5.2), pre-vote (thesis §9.6) and check-quorum (thesis §6.2). One test
// per protocol rule, each named after the section that states it —
//   "Sec5_x"    Ongaro & Ousterhout, "In Search of an Understandable
//               Consensus Algorithm" (extended version), §5 and §7;
//   "Thesis_x"  Ongaro, "Consensus: Bridging Theory and Practice" (2014).
// Everything is driven by logical ticks and explicit message delivery through
// the public Peer API; there are no sleeps and no threads. The hand-driven
// cluster is raft_cluster_harness.h; the other topics are
// raft_paper_{replication,read_transfer,membership}_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft_cluster_harness.h"

namespace dragonboat::raft {
namespace {

using namespace test;  // raft_cluster_harness.h

// ============================== §5.1 ======================================

// §5.1 (Figure 2, "Rules for Servers"): a follower that sees a higher term
// adopts it (persisting it) and follows.
TEST(RaftPaper, Sec5_1_FollowerAdoptsHigherTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  ASSERT_EQ(c.raft(1).term(), 1u);
  c.step(1, msg(MT::kHeartbeat, 2, 1, 5));
  EXPECT_EQ(c.raft(1).term(), 5u);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).leader_id(), 2u);
  EXPECT_EQ(c.node(1).log.hard_state().term, 5u);
}

// §5.1: a candidate that sees a higher term (here in a response) reverts to
// follower in that term, with no vote cast yet.
TEST(RaftPaper, Sec5_1_CandidateRevertsToFollowerOnHigherTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  c.step_local(1, MT::kElection);
  ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
  ASSERT_EQ(c.raft(1).term(), 2u);
  Message resp = msg(MT::kRequestVoteResp, 2, 1, 3).with_reject();
  c.step(1, resp);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 3u);
  EXPECT_EQ(c.raft(1).vote(), kNoNode);
  EXPECT_EQ(c.node(1).log.hard_state().term, 3u);
}

// §5.1: a leader that sees a higher term steps down and stops heartbeating.
TEST(RaftPaper, Sec5_1_LeaderStepsDownOnHigherTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);
  c.step(1, msg(MT::kHeartbeatResp, 3, 1, 7));
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 7u);
  EXPECT_EQ(c.raft(1).leader_id(), kNoNode);
  EXPECT_TRUE(of_type(c.tick(1, 3), MT::kHeartbeat).empty());
}

// §5.1: a request with a stale term is rejected, and the reply carries our
// (newer) term so the stale candidate can catch up.
TEST(RaftPaper, Sec5_1_StaleRequestVoteRejectedWithOurTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  c.step(1, msg(MT::kHeartbeat, 2, 1, 5));
  Message req = msg(MT::kRequestVote, 3, 1, 3).with_log(100, 4);
  std::vector<Message> out = c.step(1, req);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MT::kRequestVoteResp);
  EXPECT_EQ(out[0].to, 3u);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(out[0].term, 5u);
  EXPECT_EQ(c.raft(1).term(), 5u);
  EXPECT_EQ(c.raft(1).vote(), kNoNode);
}

// §5.1: AppendEntries from a stale leader is refused: the log is untouched.
// With pre-vote (thesis §9.6) the reply carries our term so that leader
// learns it is stale.
TEST(RaftPaper, Sec5_1_StaleReplicateRejected) {
  for (bool pre_vote : {false, true}) {
    SCOPED_TRACE(pre_vote ? "pre_vote" : "no pre_vote");
    Cluster c({1, 2, 3}, [pre_vote](Config& cfg) { cfg.pre_vote = pre_vote; }, {1});
    c.step(1, msg(MT::kHeartbeat, 2, 1, 5));
    Message rep = msg(MT::kReplicate, 3, 1, 4).with_log(3, 1).with_entries({entry(4, 4, "x")});
    std::vector<Message> out = c.step(1, rep);
    EXPECT_EQ(c.raft(1).log().last_index(), 3u);
    EXPECT_EQ(c.node(1).log.last_index(), 3u);
    EXPECT_TRUE(of_type(out, MT::kReplicateResp).empty());
    if (pre_vote) {
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].type, MT::kNoOp);
      EXPECT_EQ(out[0].term, 5u);
      EXPECT_EQ(out[0].to, 3u);
    }
  }
}

// ============================== §5.2 ======================================

// §5.2: a follower that hears nothing for its election timeout becomes a
// candidate (new term); a candidate whose election times out starts another.
TEST(RaftPaper, Sec5_2_ElectionTimeoutStartsElection) {
  Cluster c({1, 2, 3}, nullptr, {1});
  uint64_t timeout = c.raft(1).randomized_election_timeout();
  c.tick(1, timeout - 1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 1u);
  std::vector<Message> out = c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(c.raft(1).term(), 2u);
  EXPECT_EQ(of_type(out, MT::kRequestVote).size(), 2u);
  // Split vote: nobody answers, so the candidate times out and retries.
  uint64_t timeout2 = c.raft(1).randomized_election_timeout();
  c.tick(1, timeout2 - 1);
  EXPECT_EQ(c.raft(1).term(), 2u);
  out = c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(c.raft(1).term(), 3u);
  EXPECT_EQ(of_type(out, MT::kRequestVote).size(), 2u);
}

// §5.2: election timeouts are chosen randomly from a fixed interval, here
// [election_rtt, 2*election_rtt), and re-chosen for every election.
TEST(RaftPaper, Sec5_2_RandomizedElectionTimeoutInRange) {
  std::set<uint64_t> seen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    MemoryLog log;
    SeededRandom rng(seed);
    std::unique_ptr<Peer> p;
    Config cfg;
    cfg.cluster_id = 1;
    cfg.node_id = 1;
    cfg.election_rtt = 10;
    cfg.pre_vote = false;
    ASSERT_TRUE(Peer::launch(cfg, &log, &rng, members_of({1, 2, 3}), false, &p).ok());
    while (p->has_update(true)) {  // persist and apply the bootstrap entries
      Update u = p->get_update(true);
      log.append(u.entries_to_save);
      if (!u.state.empty()) log.set_hard_state(u.state);
      for (const Entry& e : u.committed_entries) {
        ConfigChange cc;
        ASSERT_TRUE(decode_config_change(e.cmd, &cc));
        ASSERT_TRUE(p->apply_config_change(cc, e.index).ok());
      }
      p->commit_update(u);
    }
    for (uint64_t term = 2; term <= 4; ++term) {  // first timeout, then two retries
      uint64_t ticks = 0;
      while (p->term() < term && ticks < 100) {
        p->tick();
        ++ticks;
      }
      EXPECT_GE(ticks, 10u);
      EXPECT_LT(ticks, 20u);
      seen.insert(ticks);
    }
  }
  // Randomized, not fixed: most of the ten possible values show up.
  EXPECT_GE(seen.size(), 8u);
}

// §5.2: a candidate increments its term, votes for itself (persisted before
// any request leaves) and sends RequestVote to every other voter, carrying
// its last log index and term (§5.4.1).
TEST(RaftPaper, Sec5_2_CandidateVotesForItselfAndRequestsAllVoters) {
  Cluster c({1, 2, 3, 4, 5}, nullptr, {1});
  (void)c.raft(1).step(local_msg(MT::kElection));
  Update u = c.process(1, false);
  EXPECT_EQ(c.raft(1).term(), 2u);
  EXPECT_EQ(c.raft(1).vote(), 1u);
  EXPECT_EQ(u.state.term, 2u);
  EXPECT_EQ(u.state.vote, 1u);
  std::set<uint64_t> to;
  for (const Message& r : of_type(u.messages, MT::kRequestVote)) {
    to.insert(r.to);
    EXPECT_EQ(r.term, 2u);
    EXPECT_EQ(r.log_index, 5u);
    EXPECT_EQ(r.log_term, 1u);
    EXPECT_FALSE(can_send_before_persist(r));
  }
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(of_type(u.messages, MT::kRequestVote).size(), 4u);
}

// §5.2: a candidate wins once votes from a majority of the servers arrive
// (2 of 3; 3 of 5), each server counted once.
TEST(RaftPaper, Sec5_2_CandidateWinsWithMajority) {
  {
    Cluster c({1, 2, 3}, nullptr, {1});
    c.step_local(1, MT::kElection);
    c.step(1, msg(MT::kRequestVoteResp, 2, 1, 2));
    EXPECT_TRUE(c.peer(1).is_leader());
  }
  {
    Cluster c({1, 2, 3, 4, 5}, nullptr, {1});
    c.step_local(1, MT::kElection);
    c.step(1, msg(MT::kRequestVoteResp, 2, 1, 2));
    c.step(1, msg(MT::kRequestVoteResp, 2, 1, 2));  // duplicate
    EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
    c.step(1, msg(MT::kRequestVoteResp, 4, 1, 2));
    EXPECT_TRUE(c.peer(1).is_leader());
    EXPECT_EQ(c.raft(1).term(), 2u);
    EXPECT_EQ(c.peer(1).leader_id(), 1u);
  }
}

// §5.2: a candidate that receives AppendEntries (or a heartbeat) from a
// leader whose term is at least its own returns to follower and answers it.
TEST(RaftPaper, Sec5_2_CandidateRevertsOnLeaderOfSameTerm) {
  for (MT type : {MT::kHeartbeat, MT::kReplicate}) {
    SCOPED_TRACE(message_type_name(type));
    Cluster c({1, 2, 3}, nullptr, {1});
    c.step_local(1, MT::kElection);
    ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
    Message m = msg(type, 2, 1, 2).with_log(3, 1).with_commit(3);
    std::vector<Message> out = c.step(1, m);
    EXPECT_EQ(c.raft(1).role(), Role::kFollower);
    EXPECT_EQ(c.raft(1).term(), 2u);
    EXPECT_EQ(c.raft(1).leader_id(), 2u);
    MT want = type == MT::kHeartbeat ? MT::kHeartbeatResp : MT::kReplicateResp;
    ASSERT_EQ(of_type(out, want).size(), 1u);
    EXPECT_FALSE(of_type(out, want)[0].reject);
  }
}

// §5.2: each server votes for at most one candidate per term, first come
// first served; the vote is persisted and survives a restart.
TEST(RaftPaper, Sec5_2_AtMostOneVotePerTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  auto request = [](uint64_t from) -> Message { return msg(MT::kRequestVote, from, 1, 2).with_log(3, 1); };
  std::vector<Message> out = c.step(1, request(2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.node(1).log.hard_state().vote, 2u);
  out = c.step(1, request(3));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].reject);
  out = c.step(1, request(2));  // a retransmitted request gets the same answer
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  // Restart over the same storage: the vote is remembered.
  ASSERT_TRUE(c.node(1).replica.launch(c.config(1, false, false), members_of({1, 2, 3}), false).ok());
  c.drain(1);
  EXPECT_EQ(c.raft(1).vote(), 2u);
  out = c.step(1, request(3));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].reject);
}

// §5.2: the leader sends heartbeats every heartbeat_rtt ticks to every
// follower.
TEST(RaftPaper, Sec5_2_LeaderHeartbeatsEveryHeartbeatRtt) {
  Cluster c({1, 2, 3}, [](Config& cfg) {
    cfg.heartbeat_rtt = 3;
    cfg.election_rtt = 30;
  });
  c.elect(1);
  for (uint64_t t = 1; t <= 12; ++t) {
    std::vector<Message> hb = of_type(c.tick(1), MT::kHeartbeat);
    if (t % 3 == 0) {
      ASSERT_EQ(hb.size(), 2u) << "tick " << t;
      EXPECT_NE(hb[0].to, hb[1].to);
      EXPECT_EQ(hb[0].term, c.raft(1).term());
    } else {
      EXPECT_TRUE(hb.empty()) << "tick " << t;
    }
  }
}

// §5.2: followers remain followers as long as valid heartbeats arrive.
TEST(RaftPaper, Sec5_2_HeartbeatsSuppressElections) {
  Cluster c({1, 2, 3});
  c.elect(1);
  uint64_t term = c.raft(1).term();
  c.tick_all(200);
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(c.raft(id).term(), term) << "node " << id;
    EXPECT_EQ(c.raft(id).leader_id(), 1u) << "node " << id;
  }
}

// §5.2: a candidate that a majority refuses cannot win this term: it goes
// back to follower (keeping its term) instead of waiting for the timeout.
TEST(RaftPaper, Sec5_2_CandidateLosesOnMajorityRejection) {
  Cluster c({1, 2, 3, 4, 5}, nullptr, {1});
  c.step_local(1, MT::kElection);
  Message no = msg(MT::kRequestVoteResp, 2, 1, 2).with_reject();
  c.step(1, no);
  no.from = 3;
  c.step(1, no);
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);  // 3 of 5 could still grant
  no.from = 4;
  c.step(1, no);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 2u);
  EXPECT_EQ(c.raft(1).vote(), 1u);  // still its vote in term 2
}

// =========================== thesis §9.6 ==================================

// Thesis §9.6: a pre-candidate asks whether it could win without touching
// its term or vote; only a granted pre-vote quorum starts a real election.
TEST(RaftPaper, Thesis9_6_PreCandidateDoesNotBumpTerm) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.pre_vote = true; }, {1});
  (void)c.raft(1).step(local_msg(MT::kElection));
  Update u = c.process(1, false);
  EXPECT_EQ(c.raft(1).role(), Role::kPreCandidate);
  EXPECT_EQ(c.raft(1).term(), 1u);
  EXPECT_EQ(c.raft(1).vote(), kNoNode);
  EXPECT_TRUE(u.state.empty());
  std::vector<Message> pre = of_type(u.messages, MT::kRequestPreVote);
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0].term, 2u);  // the term it would campaign in
  // Unanswered pre-campaigns, over many election timeouts, change nothing.
  c.tick(1, 100);
  EXPECT_EQ(c.raft(1).term(), 1u);
  EXPECT_EQ(c.node(1).log.hard_state().term, 1u);
  ASSERT_EQ(c.raft(1).role(), Role::kPreCandidate);
  std::vector<Message> out = c.step(1, msg(MT::kRequestPreVoteResp, 2, 1, 2));
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
  EXPECT_EQ(c.raft(1).term(), 2u);
  EXPECT_EQ(of_type(out, MT::kRequestVote).size(), 2u);
}

// Thesis §9.6: a server partitioned away and then reconnected cannot
// disrupt the leader when pre-vote is on: the group keeps its term. (The
// same scenario without pre-vote does disrupt it — shown as a contrast.)
TEST(RaftPaper, Thesis9_6_RejoiningNodeDoesNotDisruptLeader) {
  for (bool pre_vote : {true, false}) {
    SCOPED_TRACE(pre_vote ? "pre_vote" : "no pre_vote");
    Cluster c({1, 2, 3}, [pre_vote](Config& cfg) { cfg.pre_vote = pre_vote; });
    c.elect(1);
    uint64_t term = c.raft(1).term();
    c.isolate(3);
    c.tick_all(100);
    c.heal();
    c.tick_all(50);
    if (pre_vote) {
      EXPECT_EQ(c.raft(3).term(), term);
      for (uint64_t id : {1, 2, 3}) {
        EXPECT_EQ(c.raft(id).term(), term) << "node " << id;
        EXPECT_EQ(c.raft(id).leader_id(), 1u) << "node " << id;
      }
    } else {
      EXPECT_GT(c.raft(1).term(), term);
    }
  }
}

// =========================== thesis §6.2 ==================================

// Thesis §6.2: with check-quorum, a leader that has not heard from a
// majority within an election timeout steps down; a connected one does not.
TEST(RaftPaper, Thesis6_2_CheckQuorumIsolatedLeaderStepsDown) {
  auto cq = [](Config& cfg) { cfg.check_quorum = true; };
  Cluster c({1, 2, 3}, cq);
  c.elect(1);
  c.tick_all(50);  // connected: stays leader
  ASSERT_TRUE(c.peer(1).is_leader());
  c.isolate(1);
  uint64_t ticks = 0;
  while (c.peer(1).is_leader() && ticks < 100) {
    c.tick(1);  // its messages go nowhere
    ++ticks;
  }
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_GE(ticks, 10u);      // not before one full election timeout
  EXPECT_LE(ticks, 2 * 10u);  // and within two
  EXPECT_EQ(c.raft(1).leader_id(), kNoNode);
}

// Thesis §6.2 / §4.2.3: with check-quorum, a follower that recently heard
// from its leader ignores a RequestVote with a higher term (no term change,
// no vote) — unless the campaign comes from a leader transfer (§3.10).
TEST(RaftPaper, Thesis6_2_FollowerWithLiveLeaderIgnoresHigherTermVote) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.check_quorum = true; });
  c.elect(1);
  c.tick_all(1);
  uint64_t term = c.raft(2).term();
  Message req =
      msg(MT::kRequestVote, 3, 2, term + 1).with_log(c.raft(3).log().last_index(), c.raft(3).log().last_term());
  std::vector<Message> out = c.step(2, req);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(c.raft(2).term(), term);
  EXPECT_EQ(c.raft(2).leader_id(), 1u);
  req.hint = kTransferCampaign;
  out = c.step(2, req);
  ASSERT_EQ(of_type(out, MT::kRequestVoteResp).size(), 1u);
  EXPECT_FALSE(of_type(out, MT::kRequestVoteResp)[0].reject);
  EXPECT_EQ(c.raft(2).term(), term + 1);
  EXPECT_EQ(c.raft(2).vote(), 3u);
}

}  // namespace
}  // namespace dragonboat::raft
