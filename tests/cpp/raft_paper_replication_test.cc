// Paper tests for the Raft core — the log: replication (§5.3), safety
// (§5.4), lost messages (§5.5), persisting in parallel (thesis §10.2.1) and
// snapshots (§7). One test per protocol rule, each named after the
// section that states it —
//   "Sec5_x"    Ongaro & Ousterhout, "In Search of an Understandable
//               Consensus Algorithm" (extended version), §5 and §7;
//   "Thesis_x"  Ongaro, "Consensus: Bridging Theory and Practice" (2014).
// Everything is driven by logical ticks and explicit message delivery through
// the public Peer API; there are no sleeps and no threads. The hand-driven
// cluster is raft_cluster_harness.h; the other topics are
// raft_paper_{election,read_transfer,membership}_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft_cluster_harness.h"

namespace dragonboat::raft {
namespace {

using namespace test;  // raft_cluster_harness.h

// ============================== §5.3 ======================================

// §5.3: AppendEntries consistency check — a follower refuses entries when
// its log has no entry at prevLogIndex with term prevLogTerm.
TEST(RaftPaper, Sec5_3_FollowerRejectsReplicateWithMismatchedPrev) {
  Cluster c({1, 2, 3}, nullptr, {1});  // log: 1..3 at term 1
  auto replicate = [](uint64_t prev, uint64_t prev_term) -> Message {
    return msg(MT::kReplicate, 2, 1, 2).with_log(prev, prev_term).with_entries({entry(prev + 1, 2, "x")});
  };
  for (auto [prev, prev_term] : {std::pair<uint64_t, uint64_t>{3, 2}, {5, 2}}) {
    SCOPED_TRACE("prev " + std::to_string(prev) + "/" + std::to_string(prev_term));
    std::vector<Message> out = c.step(1, replicate(prev, prev_term));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, MT::kReplicateResp);
    EXPECT_TRUE(out[0].reject);
    EXPECT_EQ(out[0].log_index, prev);
    EXPECT_LE(out[0].hint, 3u);  // where the leader may retry
    EXPECT_EQ(c.raft(1).log().last_index(), 3u);
  }
  std::vector<Message> out = c.step(1, replicate(3, 1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].log_index, 4u);
  EXPECT_EQ(c.node(1).log.last_index(), 4u);
}

// Gives live node 1 of {1,2,3} the log 1..3@1, 4..7@2 from leader 2.
void give_term2_suffix(Cluster& c) {
  Message m = msg(MT::kReplicate, 2, 1, 2).with_log(3, 1).with_commit(3);
  for (uint64_t i = 4; i <= 7; ++i) m.entries.push_back(entry(i, 2, "old" + std::to_string(i)));
  c.step(1, m);
  ASSERT_EQ(c.node(1).log.last_index(), 7u);
}

// §5.3: if an existing entry conflicts with a new one (same index,
// different term), the follower deletes it and all that follow it, then
// appends the leader's entries.
TEST(RaftPaper, Sec5_3_ConflictingSuffixTruncatedAndReplaced) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);
  Message m = msg(MT::kReplicate, 3, 1, 3).with_log(4, 2).with_commit(4).with_entries({entry(5, 3, "new5")});
  std::vector<Message> out = c.step(1, m);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].log_index, 5u);
  const MemoryLog& log = c.node(1).log;
  EXPECT_EQ(c.raft(1).log().last_index(), 5u);
  ASSERT_EQ(log.last_index(), 5u);
  uint64_t t = 0;
  ASSERT_TRUE(log.term(4, &t).ok());
  EXPECT_EQ(t, 2u);  // the matching prefix is kept
  ASSERT_TRUE(log.term(5, &t).ok());
  EXPECT_EQ(t, 3u);
  std::vector<Entry> e5;
  ASSERT_TRUE(log.entries(5, 6, kNoLimit, &e5).ok());
  EXPECT_EQ(e5.at(0).cmd, "new5");
}

// §5.3 (and thesis §3.5): only a *conflicting* entry truncates. A delayed
// duplicate AppendEntries carrying a prefix of what the follower holds must
// not cut the entries after it.
TEST(RaftPaper, Sec5_3_StaleDuplicateReplicateDoesNotTruncate) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);
  Message old = msg(MT::kReplicate, 2, 1, 2).with_log(3, 1).with_commit(3).with_entries({entry(4, 2, "old4")});
  std::vector<Message> out = c.step(1, old);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.raft(1).log().last_index(), 7u);
  EXPECT_EQ(c.node(1).log.last_index(), 7u);
  EXPECT_EQ(c.raft(1).log().term_or_zero(7), 2u);
}

// §5.3: an entry is committed once the leader has replicated it on a
// majority; not before.
TEST(RaftPaper, Sec5_3_EntryCommittedOnceOnMajority) {
  Cluster c({1, 2, 3, 4, 5});
  c.elect(1);
  uint64_t base = c.raft(1).log().committed();
  c.isolate(4);
  c.isolate(5);
  ASSERT_TRUE(c.propose(1, "a", 1).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().committed(), base + 1);  // 1, 2, 3 of 5
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "b", 2).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().last_index(), base + 2);
  EXPECT_EQ(c.raft(1).log().committed(), base + 1);  // only 1 and 2 hold "b"
  c.heal();
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).log().committed(), base + 2);
}

// §5.3: once a follower learns an entry is committed (leaderCommit), it
// applies it; every state machine applies the same commands in log order.
TEST(RaftPaper, Sec5_3_FollowersApplyCommittedEntriesInOrder) {
  Cluster c({1, 2, 3});
  c.elect(1);
  for (uint64_t k = 1; k <= 5; ++k) ASSERT_TRUE(c.propose(1, "cmd" + std::to_string(k), k).ok());
  c.stabilize();
  c.tick_all(1);  // a heartbeat carries the final commit index
  std::vector<std::string> want = {"cmd1", "cmd2", "cmd3", "cmd4", "cmd5"};
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(applied_cmds(c.node(id)), want) << "node " << id;
    EXPECT_EQ(c.raft(id).log().committed(), c.raft(1).log().last_index()) << "node " << id;
  }
}

// §5.3: after a rejection the leader decrements nextIndex (here a whole
// term at a time) until the logs match, then overwrites the follower's
// divergent suffix with its own (Figure 7).
TEST(RaftPaper, Sec5_3_LeaderBacksUpAndRepairsDivergentFollower) {
  Cluster c({1, 2, 3});
  c.elect(2);  // term 2, no-op at 4
  c.isolate(2);
  for (uint64_t k = 1; k <= 3; ++k) ASSERT_TRUE(c.propose(2, "stale" + std::to_string(k), k).ok());
  c.stabilize();  // 2 holds 5..7 at term 2, uncommitted
  ASSERT_EQ(c.raft(2).log().last_index(), 7u);
  ASSERT_EQ(c.raft(2).log().term_or_zero(7), 2u);
  c.elect(1);     // term 3: no-op at 5, then 6..7
  ASSERT_TRUE(c.propose(1, "a", 10).ok());
  ASSERT_TRUE(c.propose(1, "b", 11).ok());
  c.stabilize();
  c.elect(3);  // term 4: its next for 2 starts at 8, where 2 diverges
  ASSERT_EQ(c.raft(3).term(), 4u);
  c.heal();
  c.delivered.clear();
  c.tick_all(3);
  bool rejected = false;
  for (const Message& m : c.delivered)
    rejected |= m.type == MT::kReplicateResp && m.from == 2 && m.reject;
  EXPECT_TRUE(rejected) << "the leader never had to back up";
  std::vector<Entry> want = log_entries(c.raft(3));
  for (uint64_t id : {1, 2}) {
    std::vector<Entry> got = log_entries(c.raft(id));
    ASSERT_EQ(got.size(), want.size()) << "node " << id;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].term, want[i].term) << "node " << id << " index " << want[i].index;
      EXPECT_EQ(got[i].cmd, want[i].cmd) << "node " << id << " index " << want[i].index;
    }
  }
  EXPECT_EQ(applied_cmds(c.node(2)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.raft(2).log().committed(), c.raft(3).log().committed());
}

// §5.3 (Figure 2): a follower sets commitIndex = min(leaderCommit, index of
// last new entry) — never past what the leader's message proved to match,
// even if its own (stale) log is longer.
TEST(RaftPaper, Sec5_3_FollowerCommitLimitedToLastNewEntry) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);  // 4..7 at term 2, commit 3
  // The new leader's 4..7 are not these entries.
  Message probe = msg(MT::kReplicate, 3, 1, 3).with_log(3, 1).with_commit(7);
  std::vector<Message> out = c.step(1, probe);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.raft(1).log().committed(), 3u);
  probe.entries = {entry(4, 3, "leader4")};
  c.step(1, probe);
  EXPECT_EQ(c.raft(1).log().last_index(), 4u);
  EXPECT_EQ(c.raft(1).log().committed(), 4u);
  EXPECT_EQ(applied_cmds(c.node(1)), (std::vector<std::string>{"leader4"}));
}

// ============================== §5.4 ======================================

Message vote_request(uint64_t from, uint64_t term, uint64_t last_index, uint64_t last_term) {
  return msg(MT::kRequestVote, from, 1, term).with_log(last_index, last_term);
}

// §5.4.1: the voter denies its vote if its own log is more up-to-date; logs
// are compared by last term first: a later last term wins whatever the length.
TEST(RaftPaper, Sec5_4_1_VoteDeniedToCandidateWithOlderLastTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);  // last entry 7 at term 2
  std::vector<Message> out = c.step(1, vote_request(2, 3, 100, 1));  // longer, older term
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(c.raft(1).vote(), kNoNode);
  out = c.step(1, vote_request(3, 4, 2, 3));  // shorter, newer term
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.raft(1).vote(), 3u);
}

// §5.4.1: with equal last terms, the longer log is more up-to-date.
TEST(RaftPaper, Sec5_4_1_VoteDeniedToCandidateWithShorterLog) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);
  std::vector<Message> out = c.step(1, vote_request(2, 3, 6, 2));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].reject);
  out = c.step(1, vote_request(3, 3, 7, 2));  // as long: granted, same term
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.raft(1).vote(), 3u);
}

// §5.4.2 (Figure 8): a leader never commits an entry from a previous term
// by counting replicas; it becomes committed only together with an entry of
// the leader's current term.
TEST(RaftPaper, Sec5_4_2_PreviousTermEntryNotCommittedByCounting) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);  // term 2, no-op at 4
  c.drain(1);
  ASSERT_TRUE(c.propose(1, "x", 1).ok());  // index 5, term 2: never acked
  c.drain(1);
  ASSERT_EQ(c.raft(1).log().committed(), 3u);
  c.step(1, msg(MT::kNoOp, 2, 1, 3));  // deposed
  c.step_local(1, MT::kElection);       // term 4
  c.step(1, msg(MT::kRequestVoteResp, 2, 1, 4));
  ASSERT_TRUE(c.peer(1).is_leader());
  ASSERT_EQ(c.raft(1).log().last_index(), 6u);  // no-op of term 4
  c.drain(1);
  Message ack = msg(MT::kReplicateResp, 2, 1, 4).with_log(5);  // 1 and 2 now hold the term-2 entry: a majority
  c.step(1, ack);
  EXPECT_EQ(c.raft(1).log().committed(), 3u);
  ack.log_index = 6;
  c.step(1, ack);
  EXPECT_EQ(c.raft(1).log().committed(), 6u);
  EXPECT_EQ(applied_cmds(c.node(1)), (std::vector<std::string>{"x"}));
}

// §5.4.2 / §8: a new leader appends a no-op of its own term, which commits
// everything before it.
TEST(RaftPaper, Sec5_4_2_NewLeaderAppendsNoop) {
  Cluster c({1, 2, 3});
  c.elect(1);
  const RaftLog& log = c.raft(1).log();
  std::vector<Entry> last;
  ASSERT_TRUE(log.slice(log.last_index(), log.last_index() + 1, kNoLimit, &last).ok());
  ASSERT_EQ(last.size(), 1u);
  EXPECT_TRUE(last[0].is_noop());
  EXPECT_EQ(last[0].term, c.raft(1).term());
  EXPECT_EQ(log.committed(), log.last_index());
  c.tick_all(1);
  for (uint64_t id : {2, 3}) {
    EXPECT_EQ(c.raft(id).log().last_index(), log.last_index()) << "node " << id;
    EXPECT_EQ(c.raft(id).log().committed(), log.last_index()) << "node " << id;
  }
}

// ============================== §5.5 ======================================

// §5.5: if an AppendEntries is lost the leader retries (driven by later
// heartbeats) until the followers hold the entry and it commits.
TEST(RaftPaper, Sec5_5_LeaderRetriesLostReplicate) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.tick_all(1);
  int lost = 0;
  c.drop = [&lost](const Message& m) {
    if (m.type == MT::kReplicate && !m.entries.empty() && lost < 2) {
      ++lost;
      return true;
    }
    return false;
  };
  uint64_t committed = c.raft(1).log().committed();
  ASSERT_TRUE(c.propose(1, "retry", 1).ok());
  c.stabilize();
  ASSERT_EQ(lost, 2);
  EXPECT_EQ(c.raft(1).log().committed(), committed);
  c.tick_all(3);
  EXPECT_EQ(c.raft(1).log().committed(), committed + 1);
  for (uint64_t id : {2, 3}) {
    EXPECT_EQ(applied_cmds(c.node(id)), (std::vector<std::string>{"retry"})) << "node " << id;
  }
}

// ========================== thesis §10.2.1 ================================

// Thesis §10.2.1: the leader writes to its disk in parallel with replicating;
// its own copy counts toward the commit quorum only once persisted, i.e.
// after commit_update() for the Update that carried the entry.
TEST(RaftPaper, Thesis10_2_1_LeaderCountsItselfOnlyAfterPersist) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);
  c.drain(1);
  Message ack = msg(MT::kReplicateResp, 2, 1, 2).with_log(4);
  c.step(1, ack);
  ASSERT_EQ(c.raft(1).log().committed(), 4u);
  ASSERT_TRUE(c.propose(1, "x", 1).ok());
  Update u = c.peer(1).get_update(true);
  ASSERT_EQ(u.entries_to_save.size(), 1u);
  ack.log_index = 5;
  (void)c.peer(1).step(ack);  // follower 2 holds it; the leader has not persisted it
  EXPECT_EQ(c.raft(1).log().committed(), 4u);
  c.node(1).log.append(u.entries_to_save);
  if (!u.state.empty()) c.node(1).log.set_hard_state(u.state);
  c.peer(1).commit_update(u);
  EXPECT_EQ(c.raft(1).log().committed(), 5u);
}

// Thesis §10.2.1: the leader's Replicate messages for new entries are in the
// same Update that asks to persist them and may leave before the write; a
// follower's acknowledgement and a vote may not (they promise durable state).
TEST(RaftPaper, Thesis10_2_1_ReplicateMayBeSentBeforePersist) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);
  c.drain(1);
  for (uint64_t from : {2, 3}) {  // both followers caught up: pipelining on
    Message ack = msg(MT::kReplicateResp, from, 1, 2).with_log(4);
    c.step(1, ack);
  }
  ASSERT_TRUE(c.propose(1, "x", 1).ok());
  Update u = c.process(1, false);
  ASSERT_EQ(u.entries_to_save.size(), 1u);
  std::set<uint64_t> to;
  for (const Message& m : of_type(u.messages, MT::kReplicate)) {
    EXPECT_TRUE(can_send_before_persist(m));
    ASSERT_FALSE(m.entries.empty());
    EXPECT_EQ(m.entries.back().index, u.entries_to_save.back().index);
    to.insert(m.to);
  }
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3}));

  Cluster f({1, 2, 3}, nullptr, {1});
  Message rep = msg(MT::kReplicate, 2, 1, 2).with_log(3, 1).with_entries({entry(4, 2, "x")});
  (void)f.peer(1).step(rep);
  Update fu = f.process(1, false);
  ASSERT_EQ(fu.entries_to_save.size(), 1u);
  ASSERT_EQ(of_type(fu.messages, MT::kReplicateResp).size(), 1u);
  EXPECT_FALSE(can_send_before_persist(of_type(fu.messages, MT::kReplicateResp)[0]));
  (void)f.peer(1).step(vote_request(3, 3, 4, 2));
  Update vu = f.process(1, false);
  ASSERT_EQ(of_type(vu.messages, MT::kRequestVoteResp).size(), 1u);
  EXPECT_EQ(vu.state.vote, 3u);
  EXPECT_FALSE(can_send_before_persist(of_type(vu.messages, MT::kRequestVoteResp)[0]));
}

// Thesis §3.8: what must be durable before acting is the log and the term
// and vote; a commit index that moved alone needs no sync (a lost one is
// learned again from the leader), so the leader's commit costs no fsync.
TEST(RaftPaper, Thesis3_8_OnlyEntriesTermAndVoteNeedSync) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);
  c.drain(1);
  ASSERT_TRUE(c.propose(1, "x", 1).ok());
  Update u = c.process(1, false);
  ASSERT_EQ(u.entries_to_save.size(), 1u);
  EXPECT_TRUE(u.must_sync);  // new entries
  const uint64_t index = u.entries_to_save.back().index;
  (void)c.peer(1).step(msg(MT::kReplicateResp, 2, 1, 2).with_log(index));
  Update cu = c.process(1, false);
  ASSERT_EQ(cu.state.commit, index);
  ASSERT_FALSE(cu.committed_entries.empty());
  EXPECT_TRUE(cu.entries_to_save.empty());
  EXPECT_FALSE(cu.must_sync);  // the commit index alone moved

  Cluster f({1, 2, 3}, nullptr, {1});
  (void)f.peer(1).step(vote_request(3, 3, 4, 2));
  Update vu = f.process(1, false);
  ASSERT_EQ(vu.state.vote, 3u);
  EXPECT_TRUE(vu.must_sync);  // a vote is a promise
}

// Thesis §10.2.2: with pipelining, a follower that answers heartbeats but
// whose pipeline stays full is alive and slow (its disk is behind): a
// heartbeat reply lets ONE more Replicate out, continuing after what is in
// flight; it does not fall back to probing and re-send the whole pipeline.
TEST(RaftPaper, Thesis10_2_2_HeartbeatReplyToFullPipelineSendsOneMoreNotItAllAgain) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_inflight = 2; }, {1});
  make_solo_leader(c);
  c.drain(1);
  for (uint64_t from : {2, 3}) c.step(1, msg(MT::kReplicateResp, from, 1, 2).with_log(4));
  auto replicates_to_2 = [](const std::vector<Message>& out) {
    std::vector<Message> r;
    for (const Message& m : of_type(out, MT::kReplicate))
      if (m.to == 2) r.push_back(m);
    return r;
  };
  std::vector<uint64_t> sent_last;
  for (const char* cmd : {"a", "b", "c"}) {
    ASSERT_TRUE(c.propose(1, cmd, 1).ok());
    for (const Message& m : replicates_to_2(c.process(1, false).messages)) sent_last.push_back(m.entries.back().index);
  }
  ASSERT_EQ(sent_last, (std::vector<uint64_t>{5, 6}));  // two in flight; "c" (7) waits
  std::vector<Message> out = replicates_to_2(c.step(1, msg(MT::kHeartbeatResp, 2, 1, 2)));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_FALSE(out[0].entries.empty());
  EXPECT_EQ(out[0].entries.front().index, 7u);  // after the in-flight ones, not from match 4
  EXPECT_EQ(c.raft(1).progress().at(2).state(), Progress::State::kReplicate);
}

// A heartbeat the engine answered when it arrived (its step pass was busy
// saving, engine/node_heartbeats.cc) still does the rest of a heartbeat's
// work when stepped: the commit index moves and the election timer restarts
// (§5.2). It is not answered a second time.
TEST(RaftPaper, Sec5_2_HeartbeatAnsweredOnArrivalCommitsAndResetsTimerWithoutSecondAnswer) {
  Cluster c({1, 2, 3}, nullptr, {1});
  c.step(1, msg(MT::kHeartbeat, 2, 1, 5));
  ASSERT_EQ(c.raft(1).leader_id(), 2u);
  const uint64_t timeout = c.raft(1).randomized_election_timeout();
  for (uint64_t i = 0; i + 1 < timeout; ++i) c.tick(1, 1);
  Message hb = msg(MT::kHeartbeat, 2, 1, 5);
  hb.commit = 3;
  hb.answered = true;
  std::vector<Message> out = c.step(1, hb);
  EXPECT_TRUE(of_type(out, MT::kHeartbeatResp).empty()) << "answered once, on arrival";
  EXPECT_EQ(c.raft(1).log().committed(), 3u);
  // The timer restarted at the heartbeat: another timeout minus one tick passes quietly.
  for (uint64_t i = 0; i + 1 < timeout; ++i) EXPECT_TRUE(of_type(c.tick(1, 1), MT::kRequestVote).empty());
  EXPECT_EQ(c.raft(1).term(), 5u);
  EXPECT_EQ(c.raft(1).leader_id(), 2u);
  // Unmarked, the same heartbeat is answered.
  hb.answered = false;
  EXPECT_EQ(of_type(c.step(1, hb), MT::kHeartbeatResp).size(), 1u);
}

// ============================== §7 ========================================

// §7: when the leader has compacted away entries a follower still needs, it
// sends InstallSnapshot; the follower replaces its log with the snapshot
// (including the membership it records) and then resumes normal replication.
TEST(RaftPaper, Sec7_LaggingFollowerInstallsSnapshotAndResumes) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (uint64_t k = 1; k <= 5; ++k) ASSERT_TRUE(c.propose(1, "v" + std::to_string(k), k).ok());
  ASSERT_TRUE(propose_cc(c, 1, ConfigChangeType::kAddObserver, 4, 50).ok());  // 3 misses it
  c.stabilize();
  c.tick_all(1);
  uint64_t idx = c.raft(1).log().committed();
  ASSERT_EQ(idx, c.raft(1).log().last_index());
  Snapshot ss = snap(idx, c.raft(1).log().term_or_zero(idx))
                    .with_membership(c.peer(1).membership())
                    .with_data("state@" + std::to_string(idx));
  c.node(1).log.save_snapshot(ss);
  ASSERT_TRUE(c.node(1).log.compact(idx).ok());
  c.heal();
  c.delivered.clear();
  c.tick_all(3);
  int snapshots = 0;
  for (const Message& m : c.delivered) {
    if (m.type != MT::kInstallSnapshot) continue;
    ++snapshots;
    EXPECT_EQ(m.to, 3u);
    EXPECT_EQ(m.snapshot.index, idx);
  }
  EXPECT_EQ(snapshots, 1);
  EXPECT_EQ(c.node(3).log.snapshot().index, idx);
  EXPECT_EQ(c.node(3).log.snapshot().data, ss.data);
  EXPECT_EQ(c.raft(3).log().committed(), idx);
  EXPECT_TRUE(c.peer(3).membership() == ss.membership);
  EXPECT_TRUE(c.peer(3).membership().is_observer(4));
  ASSERT_TRUE(c.propose(1, "after", 9).ok());
  c.stabilize();
  c.tick_all(1);
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(3).log().committed(), c.raft(1).log().committed());
  EXPECT_EQ(applied_cmds(c.node(3)), (std::vector<std::string>{"after"}));
}

}  // namespace
}  // namespace dragonboat::raft
