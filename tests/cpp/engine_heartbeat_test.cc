// Heartbeats that do not wait for a step pass (engine/node_heartbeats.cc):
// a follower answers its leader's heartbeat when it arrives, a leader whose
// pass is busy heartbeats from the tick thread, and neither ever speaks for
// a term the replica has left. Logical ticks; nothing runs unless the test
// says so, and a recording transport shows what the node sent.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "engine/node.h"
#include "logdb/logdb.h"
#include "message_builder.h"
#include "test_state_machines.h"
#include "transport/transport.h"

namespace dragonboat::engine {
namespace {

using dragonboat::test::KV;
using dragonboat::test::msg;
using MT = raft::MessageType;

// Keeps every message the node sends.
class RecordingTransport : public transport::Transport {
 public:
  Status start() override { return Status::OK(); }
  void stop() override {}
  bool send(raft::Message m) override {
    std::lock_guard<std::mutex> g(mu_);
    sent_.push_back(std::move(m));
    return true;
  }
  bool send_snapshot(raft::Message) override { return false; }
  const std::string& address() const override { return address_; }
  // The messages of `type` sent since the last take (all others are kept out).
  std::vector<raft::Message> take(MT type) {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<raft::Message> out;
    for (auto& m : sent_)
      if (m.type == type) out.push_back(m);
    sent_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<raft::Message> sent_;
  std::string address_ = "n1";
};

// Replica 1 of {1, 2, 3}; heartbeat every 2 ticks, no pre-vote (a vote
// moves the term at once).
struct Replica {
  Replica() {
    o.raft.cluster_id = 1;
    o.raft.node_id = 1;
    o.raft.heartbeat_rtt = 2;
    o.raft.election_rtt = 20;
    o.raft.pre_vote = false;
    o.initial_members = {{1, "n1"}, {2, "n2"}, {3, "n3"}};
    EXPECT_TRUE(Node::open(o, db.get(), &t, nullptr, sm.get(), &node).ok());
  }
  ~Replica() {
    if (node) node->stop();
  }
  // Steps the inbox and persists, as a pass with nothing else to do.
  void pass() { ASSERT_TRUE(node->run_once().ok()); }
  // Makes the replica a follower of node 2 in term 2 (a heartbeat stepped
  // by a pass) and clears what it sent.
  void follow_2() {
    node->deliver(msg(MT::kHeartbeat, 2, 1, 2));
    pass();
    (void)t.take(MT::kHeartbeatResp);
  }

  std::unique_ptr<logdb::LogDB> db = logdb::new_mem_logdb(1);
  RecordingTransport t;
  KV kv;
  std::unique_ptr<rsm::ManagedSM> sm = rsm::ManagedSM::borrow(&kv);
  NodeOptions o;
  std::unique_ptr<Node> node;
};

// A follower answers its leader's heartbeat on arrival, with the read
// context it carries (a ReadIndex confirmation, thesis §6.4), before any
// step pass; the pass that steps it later does not answer again.
TEST(EngineHeartbeat, FollowerAnswersItsLeaderOnArrivalOnce) {
  Replica r;
  ASSERT_TRUE(r.node);
  r.node->deliver(msg(MT::kHeartbeat, 2, 1, 2));
  r.pass();
  ASSERT_EQ(r.node->leader_id(), 2u);
  ASSERT_EQ(r.t.take(MT::kHeartbeatResp).size(), 1u);  // answered by the pass: nothing published yet

  r.node->deliver(msg(MT::kHeartbeat, 2, 1, 2).with_hint(7, 8));
  std::vector<raft::Message> early = r.t.take(MT::kHeartbeatResp);
  ASSERT_EQ(early.size(), 1u) << "answered before any pass";
  EXPECT_EQ(early[0].to, 2u);
  EXPECT_EQ(early[0].from, 1u);
  EXPECT_EQ(early[0].term, 2u);
  EXPECT_EQ(early[0].hint, 7u);
  EXPECT_EQ(early[0].hint_high, 8u);
  EXPECT_EQ(r.node->counters.heartbeats_answered_on_arrival.load(), 1u);
  r.pass();
  EXPECT_TRUE(r.t.take(MT::kHeartbeatResp).empty()) << "not answered twice";
  EXPECT_EQ(r.node->leader_id(), 2u);

  // Not the leader it follows, or not its term: left to the core.
  r.node->deliver(msg(MT::kHeartbeat, 3, 1, 2));
  r.node->deliver(msg(MT::kHeartbeat, 2, 1, 1));
  EXPECT_TRUE(r.t.take(MT::kHeartbeatResp).empty());
  EXPECT_EQ(r.node->counters.heartbeats_answered_on_arrival.load(), 1u);
}

// The safety rule: once the pass has stepped a vote for a newer term, the
// old leader's heartbeats are no longer answered on arrival, although the
// vote itself only goes out after the pass's save. A later pass steps the
// stale heartbeat and tells the old leader the newer term.
TEST(EngineHeartbeat, NoAnswerOnArrivalOnceAVoteForANewerTermWasStepped) {
  Replica r;
  ASSERT_TRUE(r.node);
  r.follow_2();

  r.node->deliver(msg(MT::kRequestVote, 3, 1, 3).with_log(100, 3));
  ASSERT_TRUE(r.node->step_inputs().ok());  // the pass stepped the vote; its save is still to come
  r.node->deliver(msg(MT::kHeartbeat, 2, 1, 2));
  EXPECT_TRUE(r.t.take(MT::kHeartbeatResp).empty()) << "term 2 was left for term 3";
  raft::Update u;
  logdb::NodeUpdate nu;
  ASSERT_TRUE(r.node->prepare(&u, &nu));
  ASSERT_TRUE(r.db->save({nu}).ok());
  ASSERT_TRUE(r.node->finish(&u, &nu, true).ok());
  r.node->after_pass();
  EXPECT_EQ(r.t.take(MT::kRequestVoteResp).size(), 1u) << "the vote, after the save";
  r.pass();
  std::vector<raft::Message> stale = r.t.take(MT::kNoOp);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].to, 2u);
  EXPECT_EQ(stale[0].term, 3u);
  EXPECT_EQ(r.node->counters.heartbeats_answered_on_arrival.load(), 0u);
}

// A leader whose step pass has not taken its ticks for more than half an
// election timeout (a long save) heartbeats every peer from the tick thread,
// then once per heartbeat interval, with no commit index and no read
// context; once a pass takes the ticks, the core heartbeats again and the
// tick thread stops. A pass that is only slower than a heartbeat interval
// gets no help (it costs messages on a loaded worker).
TEST(EngineHeartbeat, LeaderWithABusyPassHeartbeatsFromTheTickThread) {
  Replica r;
  ASSERT_TRUE(r.node);
  for (int i = 0; i < 100 && r.t.take(MT::kRequestVote).empty(); ++i) {
    ASSERT_TRUE(r.node->tick());
    r.pass();
  }
  const uint64_t term = r.node->term();
  r.node->deliver(msg(MT::kRequestVoteResp, 2, 1, term));
  r.pass();
  ASSERT_TRUE(r.node->is_leader());
  (void)r.t.take(MT::kHeartbeat);

  // Ticks 1-10 (election_rtt 20): the pass is late, but not by half an election timeout.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.node->tick());
  EXPECT_TRUE(r.t.take(MT::kHeartbeat).empty());
  // Tick 11: now it is; then one round every heartbeat interval (13, 15).
  std::vector<size_t> per_tick;
  for (int i = 11; i <= 16; ++i) {
    ASSERT_TRUE(r.node->tick());
    std::vector<raft::Message> beats = r.t.take(MT::kHeartbeat);
    per_tick.push_back(beats.size());
    for (const auto& m : beats) {
      EXPECT_TRUE(m.to == 2 || m.to == 3);
      EXPECT_EQ(m.from, 1u);
      EXPECT_EQ(m.term, term);
      EXPECT_EQ(m.commit, 0u);
      EXPECT_EQ(m.hint, 0u);
    }
  }
  EXPECT_EQ(per_tick, (std::vector<size_t>{2, 0, 2, 0, 2, 0}));
  EXPECT_EQ(r.node->counters.heartbeats_for_busy_pass.load(), 6u);

  r.pass();  // the core steps the 16 ticks (and sends its own heartbeats)
  (void)r.t.take(MT::kHeartbeat);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.node->tick());
  EXPECT_TRUE(r.t.take(MT::kHeartbeat).empty()) << "the pass keeps up: the core heartbeats";
  EXPECT_EQ(r.node->counters.heartbeats_for_busy_pass.load(), 6u);
}

// A follower never heartbeats on a busy pass's behalf.
TEST(EngineHeartbeat, FollowerSendsNoHeartbeats) {
  Replica r;
  ASSERT_TRUE(r.node);
  r.follow_2();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.node->tick());
  EXPECT_TRUE(r.t.take(MT::kHeartbeat).empty());
  EXPECT_EQ(r.node->counters.heartbeats_for_busy_pass.load(), 0u);
}

}  // namespace
}  // namespace dragonboat::engine
