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

}  // namespace
}  // namespace dragonboat::engine
