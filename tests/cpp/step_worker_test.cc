// Step workers: three hosts, each running one StepWorker over four groups
// (each group replicated on all three hosts). Every group elects and commits,
// and the worker persists the updates of several groups per LogDB save —
// one fsync serving many groups.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "engine/step_worker.h"
#include "logdb/logdb.h"
#include "recording_handler.h"
#include "test_state_machines.h"
#include "test_util.h"
#include "transport/inproc_transport.h"

namespace dragonboat::engine {
namespace {

// The checker kind (test_state_machines.h): an entry applied twice or
// skipped shows in its count and hash.
using dragonboat::test::CheckerSM;

constexpr uint64_t kGroups = 4;

struct Host : transport::MessageHandler {
  Host(uint64_t id, transport::InProcNetwork* net, transport::NodeRegistry* reg)
      : db(logdb::new_mem_logdb(1)), t("host" + std::to_string(id), net, reg, this), worker(db.get()) {
    for (uint64_t c = 1; c <= kGroups; ++c) {
      NodeOptions o;
      o.raft.cluster_id = c;
      o.raft.node_id = id;
      o.raft.election_rtt = 20;
      o.raft.heartbeat_rtt = 2;
      o.initial_members = {{1, "host1"}, {2, "host2"}, {3, "host3"}};
      wrapped[c] = rsm::ManagedSM::borrow(&sms[c]);
      std::unique_ptr<Node> n;
      EXPECT_TRUE(Node::open(o, db.get(), &t, nullptr, wrapped[c].get(), &n).ok());
      nodes[c] = std::move(n);
      all.push_back(nodes[c]);
    }
    EXPECT_TRUE(t.start().ok());
    loop = std::thread([this] {
      while (running) {
        if (!worker.run_pass(all).ok()) return;
        for (auto& n : all) (void)n->apply_pending();  // this thread is also the apply worker
        std::this_thread::yield();
      }
    });
    ticker = std::thread([this] {
      while (running) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the tick thread's RTT
        for (auto& [c, n] : nodes) n->tick();
      }
    });
  }
  void pause() {
    running = false;
    if (loop.joinable()) loop.join();
    if (ticker.joinable()) ticker.join();
  }
  ~Host() {
    pause();
    for (auto& [c, n] : nodes) n->stop();
    t.stop();
  }
  void handle_messages(std::vector<raft::Message> msgs) override {
    for (auto& m : msgs) {
      auto it = nodes.find(m.cluster_id);
      if (it != nodes.end()) it->second->deliver(std::move(m));
    }
  }
  void handle_unreachable(uint64_t, uint64_t) override {}
  void handle_snapshot_status(uint64_t, uint64_t, uint64_t, bool) override {}

  std::unique_ptr<logdb::LogDB> db;
  transport::InProcTransport t;
  std::map<uint64_t, CheckerSM> sms;
  std::map<uint64_t, std::unique_ptr<rsm::ManagedSM>> wrapped;
  std::map<uint64_t, std::shared_ptr<Node>> nodes;
  std::vector<std::shared_ptr<Node>> all;
  StepWorker worker;
  std::atomic<bool> running{true};
  std::thread loop, ticker;
};

TEST(StepWorker, ManyGroupsCommitAndShareSaves) {
  transport::InProcNetwork net;
  transport::NodeRegistry reg;
  for (uint64_t c = 1; c <= kGroups; ++c)
    for (uint64_t id = 1; id <= 3; ++id) reg.add(c, id, "host" + std::to_string(id));
  std::vector<std::unique_ptr<Host>> hosts;
  for (uint64_t id = 1; id <= 3; ++id) hosts.push_back(std::make_unique<Host>(id, &net, &reg));
  // Every group accepts writes proposed on host 1 (forwarded to its leader).
  for (uint64_t c = 1; c <= kGroups; ++c) {
    Node& n = *hosts[0]->nodes[c];
    ASSERT_TRUE(dragonboat::test::eventually([&] { return n.leader_id() != 0; }))
        << "group " << c << " elected no leader";
    int completed = 0;
    for (int attempt = 0; attempt < 50 && completed < 20; ++attempt) {
      std::vector<RequestStatePtr> batch;
      for (int i = completed; i < 20; ++i) {
        RequestStatePtr rs;
        if (n.propose("inc", 300, &rs).ok()) batch.push_back(rs);
      }
      for (auto& rs : batch) {
        RequestResult r;
        ASSERT_TRUE(rs->wait_for(std::chrono::seconds(30), &r));
        if (r.completed()) ++completed;
      }
    }
    EXPECT_EQ(completed, 20) << "group " << c;
  }
  // Batching: at least one save persisted several groups' updates at once.
  // (Workers paused first: their stats are theirs alone while running.)
  for (auto& h : hosts) h->pause();
  for (auto& h : hosts) {
    StepWorkerStats st = h->worker.stats();
    EXPECT_GT(st.saves, 0u);
    EXPECT_GT(st.node_updates, st.saves) << "one fsync must serve several groups";
  }
}

// A pass takes in a budget of entry bytes; a node the budget cut short goes
// FIRST in the next pass, whatever order the wake-ups gave the batch, so no
// group waits behind the others for more than a pass (one starved that way
// for seconds under load timed its requests out). Single-member groups, one
// LogDB, logical ticks, the passes run in the test's thread.
TEST(StepWorker, NodeCutShortByThePassBudgetGoesFirstInTheNextPass) {
  constexpr uint64_t kNodes = 4;
  constexpr int kProposals = 100;
  const std::string cmd = "inc" + std::string(4093, 'x');  // 4 KiB: 100 per node, 1.6 MB, over the 1 MiB budget
  auto db = logdb::new_mem_logdb(1);
  transport::InProcNetwork net;
  transport::NodeRegistry reg;
  dragonboat::test::RecordingHandler sink;  // nothing is sent: single-member groups
  transport::InProcTransport t("solo", &net, &reg, &sink);
  std::map<uint64_t, CheckerSM> sms;
  std::map<uint64_t, std::unique_ptr<rsm::ManagedSM>> wrapped;
  std::vector<std::shared_ptr<Node>> all;  // the batch order of every pass below
  for (uint64_t c = 1; c <= kNodes; ++c) {
    NodeOptions o;
    o.raft.cluster_id = c;
    o.raft.node_id = 1;
    o.initial_members = {{1, "solo"}};
    wrapped[c] = rsm::ManagedSM::borrow(&sms[c]);
    std::unique_ptr<Node> n;
    ASSERT_TRUE(Node::open(o, db.get(), &t, nullptr, wrapped[c].get(), &n).ok());
    all.push_back(std::move(n));
  }
  StepWorker worker(db.get());  // not started: passes run here
  for (int i = 0; i < 99; ++i) {
    for (auto& n : all) n->tick();
    ASSERT_TRUE(worker.run_pass(all).ok());
  }
  for (auto& n : all) ASSERT_TRUE(n->is_leader());
  ASSERT_EQ(worker.pass_budget(), StepWorker::kInitialPassEntryBytes);
  std::vector<RequestStatePtr> requests;
  auto propose = [&](size_t node) {
    for (int i = 0; i < kProposals; ++i) {
      RequestStatePtr rs;
      ASSERT_TRUE(all[node]->propose(cmd, 1000, &rs).ok());
      requests.push_back(rs);
    }
  };
  std::vector<uint64_t> start;
  for (size_t i = 0; i < kNodes; ++i) {
    start.push_back(all[i]->commit_index());
    propose(i);
  }
  auto taken = [&](size_t i) { return all[i]->commit_index() - start[i]; };
  ASSERT_TRUE(worker.run_pass(all).ok());
  // Groups 1 and 2 took all theirs, group 3 what was left, group 4 one.
  EXPECT_EQ(taken(0), uint64_t(kProposals));
  EXPECT_EQ(taken(1), uint64_t(kProposals));
  ASSERT_LT(taken(3), uint64_t(kProposals)) << "the budget must cut this pass short";
  // Groups 1 and 2 have as much again; groups 3 and 4 still go first.
  propose(0);
  propose(1);
  ASSERT_TRUE(worker.run_pass(all).ok());
  EXPECT_EQ(taken(2), uint64_t(kProposals)) << "group 3 waited one pass, not more";
  EXPECT_EQ(taken(3), uint64_t(kProposals)) << "group 4 waited one pass, not more";
  // The rest follows, in order, each applied once.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(worker.run_pass(all).ok());
    for (auto& n : all) (void)n->apply_pending();
  }
  for (auto& rs : requests) {
    RequestResult r;
    ASSERT_TRUE(rs->wait_for(std::chrono::seconds(5), &r));
    EXPECT_TRUE(r.completed());
  }
  EXPECT_EQ(sms[1].state().count, uint64_t(2 * kProposals));
  EXPECT_EQ(sms[2].state().count, uint64_t(2 * kProposals));
  EXPECT_EQ(sms[3].state().count, uint64_t(kProposals));
  EXPECT_EQ(sms[4].state().count, uint64_t(kProposals));
  for (auto& n : all) n->stop();
}

}  // namespace
}  // namespace dragonboat::engine
