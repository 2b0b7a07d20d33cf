// Paper tests for the Raft core: one test per protocol rule, each named after
// the section that states it —
//   "Sec5_x"    Ongaro & Ousterhout, "In Search of an Understandable
//               Consensus Algorithm" (extended version), §5.1–§5.4 and §7;
//   "Thesis_x"  Ongaro, "Consensus: Bridging Theory and Practice" (2014).
// Everything is driven by logical ticks and explicit message delivery through
// the public Peer API; there are no sleeps and no threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/peer.h"

namespace dragonboat::raft {
namespace {

using Members = std::map<uint64_t, std::string>;
using MT = MessageType;

Members members_of(const std::vector<uint64_t>& ids) {
  Members m;
  for (uint64_t id : ids) m[id] = "addr" + std::to_string(id);
  return m;
}

Message make_msg(MessageType type, uint64_t from, uint64_t to, uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.cluster_id = 1;
  m.term = term;
  return m;
}

Entry make_entry(uint64_t index, uint64_t term, const std::string& cmd = "x") {
  Entry e;
  e.index = index;
  e.term = term;
  e.cmd = cmd;
  return e;
}

Entry proposal(const std::string& cmd, uint64_t key) {
  Entry e;
  e.cmd = cmd;
  e.key = key;
  return e;
}

std::vector<Message> of_type(const std::vector<Message>& msgs, MessageType t) {
  std::vector<Message> out;
  for (const auto& m : msgs)
    if (m.type == t) out.push_back(m);
  return out;
}

// One node: its storage, its random source and what its caller observed.
struct Node {
  uint64_t id = 0;
  MemoryLog log;
  std::unique_ptr<SeededRandom> rng;
  std::unique_ptr<Peer> peer;
  std::vector<Entry> applied;
  std::vector<ReadyToRead> reads;
  std::vector<uint64_t> dropped;
  std::vector<ReadCtx> dropped_reads;
  std::vector<Status> cc_results;  // apply_config_change results, in order
};

// A small cluster with a hand-driven network. `voters` bootstrap the group;
// only the ids in `live` (all of them when empty) get a Peer, so a test can
// talk to one real node while playing the others by hand.
class Cluster {
 public:
  using Tweak = std::function<void(Config&)>;

  explicit Cluster(const std::vector<uint64_t>& voters, Tweak tweak = nullptr,
                   std::vector<uint64_t> live = {})
      : tweak_(std::move(tweak)) {
    if (live.empty()) live = voters;
    for (uint64_t id : live) launch(id, members_of(voters), false, false, false);
    for (uint64_t id : live) drain(id);  // persist and apply the bootstrap entries
  }

  Config config(uint64_t id, bool observer, bool witness) const {
    Config c;
    c.cluster_id = 1;
    c.node_id = id;
    c.election_rtt = 10;
    c.heartbeat_rtt = 1;
    c.pre_vote = false;
    c.is_observer = observer;
    c.is_witness = witness;
    if (tweak_) tweak_(c);
    return c;
  }

  void launch(uint64_t id, const Members& initial, bool join, bool observer, bool witness,
              uint64_t seed = 0) {
    auto n = std::make_unique<Node>();
    n->id = id;
    n->rng = std::make_unique<SeededRandom>(seed != 0 ? seed : id * 7919);
    Status s = Peer::launch(config(id, observer, witness), &n->log, n->rng.get(), initial, join,
                            &n->peer);
    ASSERT_TRUE(s.ok()) << s.to_string();
    nodes_[id] = std::move(n);
  }
  // A new node that starts empty and waits for a config change to add it.
  void add_joiner(uint64_t id, bool observer = false, bool witness = false) {
    launch(id, {}, true, observer, witness);
  }

  Node& node(uint64_t id) { return *nodes_.at(id); }
  Peer& peer(uint64_t id) { return *node(id).peer; }
  Raft& raft(uint64_t id) { return peer(id).raft(); }

  // Carries out one Update of `id` as the Update contract asks: persist,
  // send (queue on the network unless `queue` is false), apply, acknowledge.
  Update process(uint64_t id, bool queue = true) {
    Node& n = node(id);
    Update u = n.peer->get_update(true);
    if (!u.snapshot.empty()) n.log.apply_snapshot(u.snapshot);
    n.log.append(u.entries_to_save);
    if (!u.state.empty()) n.log.set_hard_state(u.state);
    if (queue) net_.insert(net_.end(), u.messages.begin(), u.messages.end());
    for (const Entry& e : u.committed_entries) {
      if (e.type == EntryType::kConfigChange) {
        ConfigChange cc;
        EXPECT_TRUE(decode_config_change(e.cmd, &cc));
        n.cc_results.push_back(n.peer->apply_config_change(cc, e.index));
      }
      n.applied.push_back(e);
    }
    n.reads.insert(n.reads.end(), u.ready_to_reads.begin(), u.ready_to_reads.end());
    n.dropped.insert(n.dropped.end(), u.dropped_entries.begin(), u.dropped_entries.end());
    n.dropped_reads.insert(n.dropped_reads.end(), u.dropped_read_indexes.begin(),
                           u.dropped_read_indexes.end());
    n.peer->commit_update(u);
    return u;
  }

  // Processes every pending Update of `id`; returns the messages it produced
  // without putting them on the network.
  std::vector<Message> drain(uint64_t id) {
    std::vector<Message> out;
    while (peer(id).has_update(true)) {
      Update u = process(id, false);
      out.insert(out.end(), u.messages.begin(), u.messages.end());
    }
    return out;
  }

  // Steps a network message into `to`; returns what `to` sent as a result.
  std::vector<Message> step(uint64_t to, const Message& m) {
    Status s = peer(to).step(m);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return drain(to);
  }
  // Feeds a local message (kElection, kCheckQuorum, ...) into the core.
  std::vector<Message> step_local(uint64_t id, MessageType t) {
    Message m;
    m.type = t;
    (void)raft(id).step(m);
    return drain(id);
  }
  // Ticks `id` `n` times, draining after each tick; returns all messages.
  std::vector<Message> tick(uint64_t id, uint64_t n = 1) {
    std::vector<Message> out;
    for (uint64_t i = 0; i < n; ++i) {
      peer(id).tick();
      std::vector<Message> ms = drain(id);
      out.insert(out.end(), ms.begin(), ms.end());
    }
    return out;
  }

  // --- network ---
  void send(const std::vector<Message>& msgs) { net_.insert(net_.end(), msgs.begin(), msgs.end()); }
  void isolate(uint64_t id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }
  bool cut(const Message& m) const {
    return nodes_.count(m.to) == 0 || isolated_.count(m.to) != 0 ||
           isolated_.count(m.from) != 0 || (drop && drop(m));
  }

  // Processes Updates and delivers messages until nothing moves.
  void stabilize() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& [id, n] : nodes_) {
        while (n->peer->has_update(true)) {
          process(id);
          moved = true;
        }
      }
      std::vector<Message> msgs;
      msgs.swap(net_);
      for (const Message& m : msgs) {
        moved = true;
        if (cut(m)) continue;
        delivered.push_back(m);
        Status s = peer(m.to).step(m);
        EXPECT_TRUE(s.ok()) << s.to_string();
        if (m.type == MT::kInstallSnapshot && nodes_.count(m.from) != 0) {
          peer(m.from).report_snapshot_status(m.to, false);  // transport feedback
        }
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "cluster did not stabilize";
  }

  // Ticks every node once and lets the cluster settle, `n` times.
  void tick_all(uint64_t n = 1) {
    for (uint64_t i = 0; i < n; ++i) {
      for (auto& [id, nd] : nodes_) nd->peer->tick();
      stabilize();
    }
  }

  // Forces `id` to campaign and lets the election finish.
  void elect(uint64_t id) {
    Message m;
    m.type = MT::kElection;
    (void)raft(id).step(m);
    stabilize();
    ASSERT_TRUE(peer(id).is_leader()) << "node " << id << " did not win";
  }

  Status propose(uint64_t id, const std::string& cmd, uint64_t key) {
    return peer(id).propose({proposal(cmd, key)});
  }

  std::function<bool(const Message&)> drop;  // extra network fault rule
  std::vector<Message> delivered;            // every message stabilize() delivered

 private:
  Tweak tweak_;
  std::map<uint64_t, std::unique_ptr<Node>> nodes_;
  std::vector<Message> net_;
  std::set<uint64_t> isolated_;
};

// Makes node 1 (the only live node of {1,2,3}) leader of term 2 by hand.
void make_solo_leader(Cluster& c) {
  c.step_local(1, MT::kElection);
  ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
  Message grant = make_msg(MT::kRequestVoteResp, 2, 1, c.raft(1).term());
  c.step(1, grant);
  ASSERT_TRUE(c.peer(1).is_leader());
}

// ============================== §5.1 ======================================

// §5.1 (Figure 2, "Rules for Servers"): a follower that sees a higher term
// adopts it (persisting it) and follows.
TEST(RaftPaper, Sec5_1_FollowerAdoptsHigherTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  ASSERT_EQ(c.raft(1).term(), 1u);
  c.step(1, make_msg(MT::kHeartbeat, 2, 1, 5));
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
  Message resp = make_msg(MT::kRequestVoteResp, 2, 1, 3);
  resp.reject = true;
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
  c.step(1, make_msg(MT::kHeartbeatResp, 3, 1, 7));
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 7u);
  EXPECT_EQ(c.raft(1).leader_id(), kNoNode);
  EXPECT_TRUE(of_type(c.tick(1, 3), MT::kHeartbeat).empty());
}

// §5.1: a request with a stale term is rejected, and the reply carries our
// (newer) term so the stale candidate can catch up.
TEST(RaftPaper, Sec5_1_StaleRequestVoteRejectedWithOurTerm) {
  Cluster c({1, 2, 3}, nullptr, {1});
  c.step(1, make_msg(MT::kHeartbeat, 2, 1, 5));
  Message req = make_msg(MT::kRequestVote, 3, 1, 3);
  req.log_index = 100;
  req.log_term = 4;
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
    c.step(1, make_msg(MT::kHeartbeat, 2, 1, 5));
    Message rep = make_msg(MT::kReplicate, 3, 1, 4);
    rep.log_index = 3;
    rep.log_term = 1;
    rep.entries = {make_entry(4, 4)};
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
  Message m;
  m.type = MT::kElection;
  (void)c.raft(1).step(m);
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
    c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, 2));
    EXPECT_TRUE(c.peer(1).is_leader());
  }
  {
    Cluster c({1, 2, 3, 4, 5}, nullptr, {1});
    c.step_local(1, MT::kElection);
    c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, 2));
    c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, 2));  // duplicate
    EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
    c.step(1, make_msg(MT::kRequestVoteResp, 4, 1, 2));
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
    Message m = make_msg(type, 2, 1, 2);
    m.log_index = 3;
    m.log_term = 1;
    m.commit = 3;
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
  auto request = [](uint64_t from) {
    Message r = make_msg(MT::kRequestVote, from, 1, 2);
    r.log_index = 3;
    r.log_term = 1;
    return r;
  };
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
  Node& n = c.node(1);
  ASSERT_TRUE(Peer::launch(c.config(1, false, false), &n.log, n.rng.get(), members_of({1, 2, 3}),
                           false, &n.peer)
                  .ok());
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

// ============================== §5.3 ======================================

std::vector<Entry> log_entries(const Raft& r) {
  std::vector<Entry> out;
  Status s = r.log().slice(r.log().first_index(), r.log().last_index() + 1, kNoLimit, &out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

std::vector<std::string> applied_cmds(const Node& n) {
  std::vector<std::string> out;
  for (const Entry& e : n.applied)
    if (e.type == EntryType::kApplication && !e.cmd.empty()) out.push_back(e.cmd);
  return out;
}

// §5.3: AppendEntries consistency check — a follower refuses entries when
// its log has no entry at prevLogIndex with term prevLogTerm.
TEST(RaftPaper, Sec5_3_FollowerRejectsReplicateWithMismatchedPrev) {
  Cluster c({1, 2, 3}, nullptr, {1});  // log: 1..3 at term 1
  auto replicate = [](uint64_t prev, uint64_t prev_term) {
    Message m = make_msg(MT::kReplicate, 2, 1, 2);
    m.log_index = prev;
    m.log_term = prev_term;
    m.entries = {make_entry(prev + 1, 2)};
    return m;
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
  Message m = make_msg(MT::kReplicate, 2, 1, 2);
  m.log_index = 3;
  m.log_term = 1;
  m.commit = 3;
  for (uint64_t i = 4; i <= 7; ++i) m.entries.push_back(make_entry(i, 2, "old" + std::to_string(i)));
  c.step(1, m);
  ASSERT_EQ(c.node(1).log.last_index(), 7u);
}

// §5.3: if an existing entry conflicts with a new one (same index,
// different term), the follower deletes it and all that follow it, then
// appends the leader's entries.
TEST(RaftPaper, Sec5_3_ConflictingSuffixTruncatedAndReplaced) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);
  Message m = make_msg(MT::kReplicate, 3, 1, 3);
  m.log_index = 4;
  m.log_term = 2;
  m.commit = 4;
  m.entries = {make_entry(5, 3, "new5")};
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
  Message old = make_msg(MT::kReplicate, 2, 1, 2);
  old.log_index = 3;
  old.log_term = 1;
  old.commit = 3;
  old.entries = {make_entry(4, 2, "old4")};
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

// ============================== §5.4 ======================================

Message vote_request(uint64_t from, uint64_t term, uint64_t last_index, uint64_t last_term) {
  Message r = make_msg(MT::kRequestVote, from, 1, term);
  r.log_index = last_index;
  r.log_term = last_term;
  return r;
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
  c.step(1, make_msg(MT::kNoOp, 2, 1, 3));  // deposed
  c.step_local(1, MT::kElection);           // term 4
  c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, 4));
  ASSERT_TRUE(c.peer(1).is_leader());
  ASSERT_EQ(c.raft(1).log().last_index(), 6u);  // no-op of term 4
  c.drain(1);
  Message ack = make_msg(MT::kReplicateResp, 2, 1, 4);
  ack.log_index = 5;  // 1 and 2 now hold the term-2 entry: a majority
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

// ========================== thesis §10.2.1 ================================

// Thesis §10.2.1: the leader writes to its disk in parallel with replicating;
// its own copy counts toward the commit quorum only once persisted, i.e.
// after commit_update() for the Update that carried the entry.
TEST(RaftPaper, Thesis10_2_1_LeaderCountsItselfOnlyAfterPersist) {
  Cluster c({1, 2, 3}, nullptr, {1});
  make_solo_leader(c);
  c.drain(1);
  Message ack = make_msg(MT::kReplicateResp, 2, 1, 2);
  ack.log_index = 4;
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
    Message ack = make_msg(MT::kReplicateResp, from, 1, 2);
    ack.log_index = 4;
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
  Message rep = make_msg(MT::kReplicate, 2, 1, 2);
  rep.log_index = 3;
  rep.log_term = 1;
  rep.entries = {make_entry(4, 2)};
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

// =========================== thesis §9.6 ==================================

// Thesis §9.6: a pre-candidate asks whether it could win without touching
// its term or vote; only a granted pre-vote quorum starts a real election.
TEST(RaftPaper, Thesis9_6_PreCandidateDoesNotBumpTerm) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.pre_vote = true; }, {1});
  Message m;
  m.type = MT::kElection;
  (void)c.raft(1).step(m);
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
  std::vector<Message> out = c.step(1, make_msg(MT::kRequestPreVoteResp, 2, 1, 2));
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
  Message req = make_msg(MT::kRequestVote, 3, 2, term + 1);
  req.log_index = c.raft(3).log().last_index();
  req.log_term = c.raft(3).log().last_term();
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
  Message ack = make_msg(MT::kReplicateResp, 2, 1, 2);
  ack.log_index = 4;
  out = c.step(1, ack);
  ASSERT_EQ(c.raft(1).log().committed(), 4u);
  EXPECT_TRUE(c.node(1).reads.empty());
  std::vector<Message> hbs = of_type(out, MT::kHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_EQ(hbs[0].hint, 9u);
  Message hb_resp = make_msg(MT::kHeartbeatResp, 2, 1, 2);
  hb_resp.hint = 9;
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
  c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, 2));
  ASSERT_TRUE(c.peer(1).is_leader());
  Message ack = make_msg(MT::kReplicateResp, 2, 1, 2);
  ack.log_index = 4;
  c.step(1, ack);
  ASSERT_TRUE(c.peer(1).read_index(ReadCtx{8, 0}).ok());  // awaiting heartbeat acks
  c.drain(1);
  c.step(1, make_msg(MT::kHeartbeatResp, 3, 1, 9));  // deposed
  ASSERT_EQ(c.node(1).dropped_reads.size(), 3u);
  EXPECT_EQ(c.node(1).dropped_reads[2], (ReadCtx{8, 0}));
  EXPECT_TRUE(c.node(1).reads.empty());
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

// ========================= membership (thesis §4) =========================

ConfigChange make_cc(ConfigChangeType type, uint64_t node, uint64_t ccid) {
  ConfigChange cc;
  cc.type = type;
  cc.node_id = node;
  cc.address = "addr" + std::to_string(node);
  cc.config_change_id = ccid;
  return cc;
}

// Proposes a change on `leader`, quoting the current config change id.
Status propose_cc(Cluster& c, uint64_t leader, ConfigChangeType type, uint64_t node,
                  uint64_t key) {
  uint64_t ccid = c.peer(leader).membership().config_change_id;
  return c.peer(leader).propose_config_change(make_cc(type, node, ccid), key);
}

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
  Entry a, b;
  a.type = b.type = EntryType::kConfigChange;
  a.key = 103;
  b.key = 104;
  uint64_t ccid = c.peer(1).membership().config_change_id;
  a.cmd = encode_config_change(make_cc(ConfigChangeType::kAddObserver, 6, ccid));
  b.cmd = encode_config_change(make_cc(ConfigChangeType::kAddObserver, 7, ccid));
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

// Starts `id` empty as an observer (or witness) and has leader 1 add it.
void add_non_voter(Cluster& c, uint64_t id, bool witness) {
  c.add_joiner(id, !witness, witness);
  auto type = witness ? ConfigChangeType::kAddWitness : ConfigChangeType::kAddObserver;
  ASSERT_TRUE(propose_cc(c, 1, type, id, 1000 + id).ok());
  c.stabilize();
  c.tick_all(1);
  ASSERT_EQ(c.raft(id).role(), witness ? Role::kWitness : Role::kObserver);
  ASSERT_EQ(c.raft(id).log().last_index(), c.raft(1).log().last_index());
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
  c.step(1, make_msg(MT::kNoOp, 2, 1, c.raft(1).term() + 1));
  c.step_local(1, MT::kElection);
  ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
  uint64_t t = c.raft(1).term();
  c.step(1, make_msg(MT::kRequestVoteResp, 3, 1, t));
  EXPECT_EQ(c.raft(1).role(), Role::kCandidate);
  c.step(1, make_msg(MT::kRequestVoteResp, 2, 1, t));
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
  Message req;  // and refused by the core when asked directly
  req.type = MT::kLeaderTransfer;
  req.hint = 3;
  (void)c.raft(1).step(req);
  std::vector<Message> out = c.drain(1);
  EXPECT_TRUE(of_type(out, MT::kTimeoutNow).empty());
  EXPECT_EQ(c.raft(1).leader_transfer_target(), kNoNode);
  uint64_t term = c.raft(3).term();
  out = c.step(3, make_msg(MT::kTimeoutNow, 1, 3, term));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(c.raft(3).role(), Role::kObserver);
  EXPECT_EQ(c.raft(3).term(), term);
  EXPECT_TRUE(c.peer(1).is_leader());
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
  Snapshot ss;
  ss.index = idx;
  ss.term = c.raft(1).log().term_or_zero(idx);
  ss.membership = c.peer(1).membership();
  ss.data = "state@" + std::to_string(idx);
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
  Message report = make_msg(MT::kRateLimit, 2, 1, c.raft(1).term());
  report.hint = 5000;
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

// ======================= further rules of §5 / §6.4 =======================

// §5.2: a candidate that a majority refuses cannot win this term: it goes
// back to follower (keeping its term) instead of waiting for the timeout.
TEST(RaftPaper, Sec5_2_CandidateLosesOnMajorityRejection) {
  Cluster c({1, 2, 3, 4, 5}, nullptr, {1});
  c.step_local(1, MT::kElection);
  Message no = make_msg(MT::kRequestVoteResp, 2, 1, 2);
  no.reject = true;
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

// §5.3 (Figure 2): a follower sets commitIndex = min(leaderCommit, index of
// last new entry) — never past what the leader's message proved to match,
// even if its own (stale) log is longer.
TEST(RaftPaper, Sec5_3_FollowerCommitLimitedToLastNewEntry) {
  Cluster c({1, 2, 3}, nullptr, {1});
  give_term2_suffix(c);  // 4..7 at term 2, commit 3
  Message probe = make_msg(MT::kReplicate, 3, 1, 3);
  probe.log_index = 3;
  probe.log_term = 1;
  probe.commit = 7;  // the new leader's 4..7 are not these entries
  std::vector<Message> out = c.step(1, probe);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(c.raft(1).log().committed(), 3u);
  probe.entries = {make_entry(4, 3, "leader4")};
  c.step(1, probe);
  EXPECT_EQ(c.raft(1).log().last_index(), 4u);
  EXPECT_EQ(c.raft(1).log().committed(), 4u);
  EXPECT_EQ(applied_cmds(c.node(1)), (std::vector<std::string>{"leader4"}));
}

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

}  // namespace
}  // namespace dragonboat::raft
