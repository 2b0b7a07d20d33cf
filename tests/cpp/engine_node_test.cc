// Three replicas of one group, each an engine::Node with its own LogDB,
// connected by the in-process transport and driven by worker threads:
// proposals complete with their results, a follower's read is linearizable,
// forwarded proposals complete on their proposer, and stopping terminates.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <chrono>
#include <map>
#include <thread>

#include "delegating_logdb.h"
#include "engine/node.h"
#include "logdb/logdb.h"
#include "message_builder.h"
#include "test_state_machines.h"
#include "test_util.h"
#include "transport/inproc_transport.h"

namespace dragonboat::engine {
namespace {

using dragonboat::test::entry;  // message_builder.h
using dragonboat::test::KV;     // test_state_machines.h
using dragonboat::test::msg;

// One "NodeHost": LogDB, transport, one replica, a worker thread and a tick
// thread (1 tick per millisecond, the RTT unit).
struct Host : transport::MessageHandler {
  Host(uint64_t id, transport::InProcNetwork* net, transport::NodeRegistry* reg)
      : db(logdb::new_mem_logdb(1)), t("host" + std::to_string(id), net, reg, this) {
    NodeOptions o;
    o.raft.cluster_id = 1;
    o.raft.node_id = id;
    o.raft.election_rtt = 20;
    o.raft.heartbeat_rtt = 2;
    o.initial_members = {{1, "host1"}, {2, "host2"}, {3, "host3"}};
    sm = rsm::ManagedSM::borrow(&kv);
    EXPECT_TRUE(Node::open(o, db.get(), &t, nullptr, sm.get(), &node).ok());
    EXPECT_TRUE(t.start().ok());
  }
  void start() {
    worker = std::thread([this] {
      while (running) {
        if (!node->run_once().ok()) return;
        std::this_thread::yield();
      }
    });
    ticker = std::thread([this] {
      // The tick thread: logical time advances by one tick per millisecond.
      while (running) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        node->tick();
      }
    });
  }
  void stop() {
    running = false;
    if (worker.joinable()) worker.join();
    if (ticker.joinable()) ticker.join();
    node->stop();
    t.stop();
  }
  void handle_messages(std::vector<raft::Message> msgs) override {
    for (auto& m : msgs) node->deliver(std::move(m));
  }
  void handle_unreachable(uint64_t, uint64_t) override {}
  void handle_snapshot_status(uint64_t, uint64_t, uint64_t, bool) override {}

  std::unique_ptr<logdb::LogDB> db;
  KV kv;
  transport::InProcTransport t;
  std::unique_ptr<rsm::ManagedSM> sm;
  std::unique_ptr<Node> node;
  std::atomic<bool> running{true};
  std::thread worker, ticker;
};

class EngineNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t id = 1; id <= 3; ++id) reg_.add(1, id, "host" + std::to_string(id));
    for (uint64_t id = 1; id <= 3; ++id) hosts_.push_back(std::make_unique<Host>(id, &net_, &reg_));
    for (auto& h : hosts_) h->start();
  }
  void TearDown() override {
    for (auto& h : hosts_) h->stop();
  }
  // Waits until the host knows a leader (an election takes tens of ticks).
  bool knows_leader(Host& h) {
    return dragonboat::test::eventually([&] { return h.node->leader_id() != 0; });
  }
  // Proposes on a host until the write is applied there (retrying drops, as
  // a client would while leadership settles).
  RequestResult propose(Host& h, const std::string& cmd) {
    EXPECT_TRUE(knows_leader(h));
    for (int attempt = 0; attempt < 50; ++attempt) {
      RequestStatePtr rs;
      if (!h.node->propose(cmd, 200, &rs).ok()) continue;
      RequestResult r;
      EXPECT_TRUE(rs->wait_for(std::chrono::seconds(30), &r)) << "the engine completes every request";
      if (r.completed()) return r;
      // Dropped (no leader yet) or timed out: retry, as a client would.
    }
    return RequestResult{};
  }
  transport::InProcNetwork net_;
  transport::NodeRegistry reg_;
  std::vector<std::unique_ptr<Host>> hosts_;
};

TEST_F(EngineNodeTest, ProposalsCompleteAndFollowerReadsAreLinearizable) {
  Host& h1 = *hosts_[0];
  RequestResult r = propose(h1, "x=1");
  ASSERT_TRUE(r.completed());
  EXPECT_EQ(r.result.data, "x=1");
  // A write proposed on one node and a read-index read on another: the read
  // must see the write.
  Host& h3 = *hosts_[2];
  RequestResult w = propose(*hosts_[1], "y=2");
  ASSERT_TRUE(w.completed());
  ASSERT_TRUE(knows_leader(h3));
  RequestStatePtr rs;
  ASSERT_TRUE(h3.node->read_index(500, &rs).ok());
  RequestResult rr;
  ASSERT_TRUE(rs->wait_for(std::chrono::seconds(30), &rr));
  ASSERT_TRUE(rr.completed()) << request_result_code_name(rr.code);
  // The worker owns the state machine: pause it, then read h3's state. The
  // completed read index covers the write acknowledged before the read.
  h3.running = false;
  h3.worker.join();
  h3.ticker.join();
  std::string y;
  ASSERT_TRUE(h3.node->lookup("y", &y).ok());
  EXPECT_EQ(y, "2") << "a read-index read on a follower sees every acknowledged write";
}

TEST_F(EngineNodeTest, OversizedProposalIsRefusedAndStopTerminates) {
  Host& h = *hosts_[0];
  RequestStatePtr rs;
  EXPECT_EQ(h.node->propose(std::string(9 << 20, 'x'), 100, &rs).code(), ErrorCode::kPayloadTooBig);
  h.running = false;
  h.worker.join();
  h.ticker.join();
  // Queued but never processed: stopping terminates it.
  ASSERT_TRUE(h.node->propose("z=1", 1000, &rs).ok());
  h.node->stop();
  EXPECT_TRUE(rs->wait().terminated());
  EXPECT_EQ(h.node->propose("z=2", 1000, &rs).code(), ErrorCode::kClusterClosed);
}

// One replica driven by the test's own thread (run_once), with logical
// ticks: nothing runs unless the test says so.
struct Solo {
  struct Null : transport::MessageHandler {
    void handle_messages(std::vector<raft::Message>) override {}
    void handle_unreachable(uint64_t, uint64_t) override {}
    void handle_snapshot_status(uint64_t, uint64_t, uint64_t, bool) override {}
  };
  explicit Solo(logdb::LogDB* db, const std::function<void(NodeOptions*)>& tweak = {},
                std::map<uint64_t, std::string> members = {{1, "solo"}}) {
    o.raft.cluster_id = 1;
    o.raft.node_id = 1;
    o.initial_members = std::move(members);
    if (tweak) tweak(&o);
    EXPECT_TRUE(Node::open(o, db, &t, nullptr, sm.get(), &node).ok());
  }
  ~Solo() {
    if (node) node->stop();
  }
  // Logical time: ticks the single member into leadership.
  void elect() {
    for (int i = 0; i < 100 && !node->is_leader(); ++i) {
      node->tick();
      ASSERT_TRUE(node->run_once().ok());
    }
    ASSERT_TRUE(node->is_leader());
  }
  transport::InProcNetwork net;
  transport::NodeRegistry reg;
  Null sink;
  transport::InProcTransport t{"solo", &net, &reg, &sink};
  KV kv;
  std::unique_ptr<rsm::ManagedSM> sm = rsm::ManagedSM::borrow(&kv);
  NodeOptions o;
  std::unique_ptr<Node> node;
};

// A LogDB whose shard reports a write stall on demand (everything else is
// the in-memory LogDB).
class StallingLogDB : public test::DelegatingLogDB {
 public:
  std::atomic<bool> stalled{false};
  std::string name() const override { return "stalling"; }
  bool busy(uint64_t) const override { return stalled.load(); }
};

TEST(EngineNode, StallingLogDBRefusesProposalsWithSystemBusy) {
  StallingLogDB db;
  Solo solo(&db);
  auto& node = solo.node;
  ASSERT_TRUE(node);
  ASSERT_NO_FATAL_FAILURE(solo.elect());
  db.stalled = true;
  ASSERT_TRUE(node->run_once().ok());  // the worker reads the stall once a pass
  RequestStatePtr rs;
  Status s = node->propose("a=1", 100, &rs);
  EXPECT_EQ(s.code(), ErrorCode::kSystemBusy) << s.to_string();
  EXPECT_TRUE(is_temp_error(s.code()));
  db.stalled = false;
  ASSERT_TRUE(node->run_once().ok());
  ASSERT_TRUE(node->propose("a=1", 100, &rs).ok());
  for (int i = 0; i < 10 && !rs->done(); ++i) ASSERT_TRUE(node->run_once().ok());
  EXPECT_TRUE(rs->wait().completed());
  node->stop();
}

TEST(EngineNode, QuiescedIdleGroupNeedsNoSteps) {
  auto db = logdb::new_mem_logdb(1);
  Solo solo(db.get(), [](NodeOptions* o) { o->raft.quiesce_ticks = 30; });
  auto& node = solo.node;
  ASSERT_TRUE(node);
  // Logical ticks: elect, then idle past the quiesce threshold.
  int ticks = 0;
  while (node->tick() && ticks < 1000) {
    ++ticks;
    ASSERT_TRUE(node->run_once().ok());
  }
  ASSERT_TRUE(node->quiesced()) << "still ticking after " << ticks << " ticks";
  EXPECT_FALSE(node->tick()) << "an idle quiesced group is not stepped";
  // A request with a deadline makes ticks count again (its timeout needs them).
  RequestStatePtr rs;
  ASSERT_TRUE(node->propose("a=1", 100, &rs).ok());
  EXPECT_TRUE(node->tick());
  for (int i = 0; i < 10 && !rs->done(); ++i) ASSERT_TRUE(node->run_once().ok());
  EXPECT_TRUE(rs->wait().completed());
  EXPECT_FALSE(node->quiesced()) << "activity ends quiesce";
  node->stop();
}

TEST(EngineNode, ReceiveQueueIsBoundedByMaxReceiveQueueSize) {
  auto db = logdb::new_mem_logdb(1);
  Solo solo(db.get(), [](NodeOptions* o) { o->max_receive_queue_bytes = 4096; }, {{1, "solo"}, {2, "n2"}});
  auto& node = solo.node;
  ASSERT_TRUE(node);
  raft::Message m = msg(raft::MessageType::kReplicate, 2, 1, 0)
                        .with_entries(std::vector<raft::Entry>(4, entry(0, 0, std::string(256, 'x'))));
  for (int i = 0; i < 10; ++i) node->deliver(m);  // ~1.3 KiB each, nothing stepped
  EXPECT_GT(node->counters.messages_dropped.load(), 0u);
  EXPECT_LT(node->counters.messages_dropped.load(), 10u) << "the queue holds what fits";
  ASSERT_TRUE(node->run_once().ok());  // stepping empties the queue: room again
  uint64_t dropped = node->counters.messages_dropped.load();
  node->deliver(m);
  EXPECT_EQ(node->counters.messages_dropped.load(), dropped);
  node->stop();
}

// A follower whose step side fell behind (its worker busy with a long save)
// must judge the leader by when its messages ARRIVED, not by when they were
// stepped: ticks and messages are stepped in arrival order (§5.2). Logical
// ticks, nothing runs unless the test says so.
TEST(EngineNode, LateStepCountsTicksBetweenMessagesNotBeforeThem) {
  auto db = logdb::new_mem_logdb(1);
  // Without pre-vote a timeout is visible at once: the term moves.
  Solo solo(db.get(), [](NodeOptions* o) {
    o->raft.election_rtt = 10;
    o->raft.pre_vote = false;
  }, {{1, "solo"}, {2, "n2"}, {3, "n3"}});
  auto& node = solo.node;
  ASSERT_TRUE(node);
  const raft::Message heartbeat = msg(raft::MessageType::kHeartbeat, 2, 1, 2);
  node->deliver(heartbeat);
  ASSERT_TRUE(node->run_once().ok());
  ASSERT_EQ(node->leader_id(), 2u);
  // Ten heartbeats, five ticks apart, all queued before the next step: 50
  // ticks in all, more than twice the longest randomized election timeout.
  for (int i = 0; i < 10; ++i) {
    for (int t = 0; t < 5; ++t) ASSERT_TRUE(node->tick());
    node->deliver(heartbeat);
  }
  ASSERT_TRUE(node->run_once().ok());
  EXPECT_EQ(node->leader_id(), 2u) << "the leader spoke every 5 ticks: no election";
  EXPECT_EQ(node->term(), 2u);
  // Silence does count: 50 ticks without a message start an election.
  for (int t = 0; t < 50; ++t) ASSERT_TRUE(node->tick());
  ASSERT_TRUE(node->run_once().ok());
  EXPECT_NE(node->leader_id(), 2u);
  EXPECT_GT(node->term(), 2u);
}

// Backpressure at the door: proposals queued for the step side are bounded
// by bytes; a caller over the bound gets kSystemBusy (a temporary error) and
// nothing accepted is dropped.
TEST(EngineNode, QueuedProposalBytesAreBoundedWithSystemBusy) {
  auto db = logdb::new_mem_logdb(1);
  Solo solo(db.get(), [](NodeOptions* o) { o->max_queued_proposal_bytes = 100; });
  auto& node = solo.node;
  ASSERT_TRUE(node);
  ASSERT_NO_FATAL_FAILURE(solo.elect());
  const std::string cmd = "k=" + std::string(58, 'v');  // 60 bytes
  RequestStatePtr first, refused, second, big;
  ASSERT_TRUE(node->propose(cmd, 100, &first).ok());
  Status s = node->propose(cmd, 100, &refused);
  EXPECT_EQ(s.code(), ErrorCode::kSystemBusy) << s.to_string();
  EXPECT_TRUE(is_temp_error(s.code()));
  EXPECT_EQ(node->counters.proposals_refused_busy.load(), 1u);
  ASSERT_TRUE(node->run_once().ok());  // the step side took the queue
  ASSERT_TRUE(node->propose(cmd, 100, &second).ok());
  ASSERT_TRUE(node->run_once().ok());
  // One proposal larger than the bound still enters an empty queue.
  ASSERT_TRUE(node->propose("k=" + std::string(300, 'w'), 100, &big).ok());
  for (int i = 0; i < 10 && !big->done(); ++i) ASSERT_TRUE(node->run_once().ok());
  // The count result shows each accepted proposal applied once, in order.
  EXPECT_EQ(first->wait().result.value, 1u);
  EXPECT_EQ(second->wait().result.value, 2u);
  EXPECT_EQ(big->wait().result.value, 3u);
  EXPECT_EQ(solo.kv.updates, 3u);
}

// A step pass takes in only its budget of entry bytes (at least one
// proposal); the rest waits in order for the next pass, and is neither
// dropped nor reordered.
TEST(EngineNode, StepPassTakesProposalsWithinItsBudget) {
  auto db = logdb::new_mem_logdb(1);
  Solo solo(db.get());
  auto& node = solo.node;
  ASSERT_TRUE(node);
  ASSERT_NO_FATAL_FAILURE(solo.elect());
  std::vector<RequestStatePtr> rs(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(node->propose("k" + std::to_string(i) + "=" + std::string(40000, 'x'), 100, &rs[i]).ok());
  uint64_t budget = 50000;  // one 40 KB proposal fits, a second does not
  ASSERT_TRUE(node->step_inputs(&budget).ok());
  raft::Update u;
  logdb::NodeUpdate nu;
  ASSERT_TRUE(node->prepare(&u, &nu));
  ASSERT_EQ(nu.entries.size(), 1u);
  EXPECT_EQ(nu.entries[0].key, rs[0]->key());
  ASSERT_TRUE(db->save({nu}).ok());
  ASSERT_TRUE(node->finish(&u, &nu, true).ok());
  node->after_pass();
  for (int i = 0; i < 10 && !rs[2]->done(); ++i) ASSERT_TRUE(node->run_once().ok());
  for (int i = 0; i < 3; ++i) {
    RequestResult r = rs[i]->wait();
    ASSERT_TRUE(r.completed()) << i;
    EXPECT_EQ(r.result.value, uint64_t(i + 1)) << "applied once each, in proposal order";
  }
}

}  // namespace
}  // namespace dragonboat::engine
