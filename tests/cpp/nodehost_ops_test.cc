// NodeHost operations: membership changes, observers, witnesses and leader
// transfer, over real TCP and RocksDB (several NodeHosts in this process).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "dragonboat/tools.h"
#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::KV;
using test::TestCluster;
using namespace std::chrono_literals;

using test::make_kv;

Config node_config(uint64_t cid, uint64_t nid) {
  Config c = TestCluster::config(cid, nid);
  return c;
}

// A client writing k<i>=<i> in a loop through whichever listed host accepts,
// remembering every write that was acknowledged.
class Writer {
 public:
  Writer(TestCluster* tc, uint64_t cid) : tc_(tc), cid_(cid) {}
  ~Writer() { stop(); }
  void start(std::set<size_t> hosts) {
    set_hosts(std::move(hosts));
    thread_ = std::thread([this] { run(); });
  }
  void set_hosts(std::set<size_t> hosts) {
    std::lock_guard<std::mutex> g(mu_);
    hosts_ = std::move(hosts);
  }
  // Waits until at least n more writes were acknowledged.
  bool advance(uint64_t n) {
    uint64_t target = acked_count() + n;
    return test::eventually([&] { return acked_count() >= target; }, std::chrono::seconds(60));
  }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t acked_count() {
    std::lock_guard<std::mutex> g(mu_);
    return acked_.size();
  }
  std::vector<uint64_t> acked() {
    std::lock_guard<std::mutex> g(mu_);
    return acked_;
  }

 private:
  void run() {
    uint64_t i = 0;
    while (running_) {
      std::set<size_t> hosts;
      {
        std::lock_guard<std::mutex> g(mu_);
        hosts = hosts_;
      }
      ++i;
      for (size_t h : hosts) {
        NodeHost* nh = tc_->hosts[h].get();
        if (!nh) continue;
        Status s = nh->sync_propose(nh->get_noop_session(cid_), "k" + std::to_string(i) + "=" + std::to_string(i), 2s,
                                    nullptr);
        if (s.ok()) {
          std::lock_guard<std::mutex> g(mu_);
          acked_.push_back(i);
          break;
        }
      }
    }
  }
  TestCluster* tc_;
  uint64_t cid_;
  std::mutex mu_;
  std::set<size_t> hosts_;
  std::vector<uint64_t> acked_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

// Retries a sync membership change while the group is busy with another.
Status change(std::function<Status()> op) {
  Status s;
  test::eventually([&] {
    s = op();
    return s.ok() || !is_temp_error(s.code());
  }, std::chrono::seconds(60));
  return s;
}

std::map<uint64_t, std::string> first(const TestCluster& tc, size_t n) {
  std::map<uint64_t, std::string> m;
  for (size_t i = 0; i < n; ++i) m[i + 1] = tc.addresses[i];
  return m;
}

TEST(NodeHostMembership, ThreeToFiveToThreeUnderLoadLosesNoAcknowledgedWrite) {
  TestCluster tc(5);
  for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(first(tc, 3), false, make_kv, node_config(1, i + 1)).ok());
  ASSERT_GE(tc.leader(1), 0);
  Writer w(&tc, 1);
  w.start({0, 1, 2});
  ASSERT_TRUE(w.advance(20));
  // Grow: 4 and 5 are added, then started with join=true.
  for (size_t i = 3; i < 5; ++i) {
    ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_node(1, i + 1, tc.addresses[i], 0, 5s); }).ok());
    ASSERT_TRUE(tc.hosts[i]->start_cluster({}, true, make_kv, node_config(1, i + 1)).ok());
    ASSERT_TRUE(w.advance(20));
  }
  Membership m;
  ASSERT_TRUE(change([&] { return tc.hosts[3]->sync_get_cluster_membership(1, 5s, &m); }).ok());
  EXPECT_EQ(m.nodes.size(), 5u);
  w.set_hosts({2, 3, 4});
  // Shrink: 1 and 2 leave (one of them may be the leader).
  for (uint64_t id : {1u, 2u}) {
    ASSERT_TRUE(change([&] { return tc.hosts[4]->sync_request_delete_node(1, id, 0, 5s); }).ok());
    ASSERT_TRUE(w.advance(20));
  }
  w.stop();
  ASSERT_TRUE(change([&] { return tc.hosts[2]->sync_get_cluster_membership(1, 5s, &m); }).ok());
  EXPECT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.removed, (std::set<uint64_t>{1, 2}));
  EXPECT_EQ(m.nodes.count(4), 1u);
  // Every acknowledged write is there, on every remaining member.
  std::vector<uint64_t> acked = w.acked();
  ASSERT_GE(acked.size(), 100u);
  for (size_t h : {2u, 3u, 4u}) {
    std::string v;
    ASSERT_TRUE(tc.read(h, 1, "k" + std::to_string(acked.back()), &v).ok());
    for (uint64_t i : acked) {
      ASSERT_TRUE(tc.hosts[h]->stale_read(1, "k" + std::to_string(i), &v).ok());
      ASSERT_EQ(v, std::to_string(i)) << "acknowledged write " << i << " missing on host " << h;
    }
  }
  // A removed node ID never comes back.
  Status s = tc.hosts[2]->sync_request_add_node(1, 1, tc.addresses[0], 0, 5s);
  EXPECT_EQ(s.code(), ErrorCode::kRejected) << s.to_string();
}

TEST(NodeHostMembership, JoiningNodeCatchesUpBySnapshotUnderBandwidthLimits) {
  TestCluster tc(4);
  for (size_t i = 0; i < 4; ++i) {
    // Paced streams still complete.
    ASSERT_TRUE(tc.start_host(i, [&](NodeHostConfig* hc) {
                    hc->max_snapshot_send_bytes_per_second = 8 << 20;
                    hc->max_snapshot_recv_bytes_per_second = 8 << 20;
                  }).ok());
  }
  for (size_t i = 0; i < 3; ++i) {
    Config c = node_config(13, i + 1);
    c.snapshot_entries = 10;
    c.compaction_overhead = 2;
    ASSERT_TRUE(tc.hosts[i]->start_cluster(first(tc, 3), false, make_kv, c).ok());
  }
  ASSERT_GE(tc.leader(13), 0);
  const std::string big(16 << 10, 'v');
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(13), "b" + std::to_string(i) + "=" + big).ok());
  }
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_node(13, 4, tc.addresses[3], 0, 5s); }).ok());
  KV* joined = nullptr;
  Config c = node_config(13, 4);
  c.snapshot_entries = 10;
  c.compaction_overhead = 2;
  ASSERT_TRUE(tc.hosts[3]->start_cluster({}, true,
                                         [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
                                           auto kv = std::make_unique<KV>();
                                           joined = kv.get();
                                           return kv;
                                         },
                                         c).ok());
  std::string v;
  ASSERT_TRUE(tc.read(3, 13, "b59", &v).ok());
  EXPECT_EQ(v, big);
  std::lock_guard<std::mutex> g(joined->mu);
  EXPECT_EQ(joined->recoveries, 1) << "the log was compacted: the joiner started from a snapshot";
}

TEST(NodeHostMembership, ObserverReadsThenIsPromotedToVoter) {
  TestCluster tc(4);
  for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(first(tc, 3), false, make_kv, node_config(2, i + 1)).ok());
  ASSERT_GE(tc.leader(2), 0);
  ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(2), "a=1").ok());
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_observer(2, 4, tc.addresses[3], 0, 5s); }).ok());
  Config oc = node_config(2, 4);
  oc.is_observer = true;
  ASSERT_TRUE(tc.hosts[3]->start_cluster({}, true, make_kv, oc).ok());
  // The observer serves linearizable reads (through the leader) and stale ones.
  std::string v;
  ASSERT_TRUE(tc.read(3, 2, "a", &v).ok());
  EXPECT_EQ(v, "1");
  ASSERT_TRUE(tc.propose(3, tc.hosts[3]->get_noop_session(2), "b=2").ok());  // forwarded
  ASSERT_TRUE(tc.hosts[3]->stale_read(2, "b", &v).ok());
  EXPECT_EQ(v, "2");
  Membership m;
  ASSERT_TRUE(change([&] { return tc.hosts[3]->sync_get_cluster_membership(2, 5s, &m); }).ok());
  EXPECT_EQ(m.observers.count(4), 1u);
  EXPECT_EQ(m.nodes.count(4), 0u);
  // Promotion: adding the observer as a node.
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_node(2, 4, tc.addresses[3], 0, 5s); }).ok());
  ASSERT_TRUE(change([&] { return tc.hosts[3]->sync_get_cluster_membership(2, 5s, &m); }).ok());
  EXPECT_EQ(m.nodes.count(4), 1u);
  EXPECT_EQ(m.observers.count(4), 0u);
  // It now votes: with two of the original voters gone, 3 of 4 remain... stop
  // one original: the group still commits (quorum 3 of 4).
  tc.hosts[0].reset();
  size_t live = 1;
  ASSERT_TRUE(tc.propose(live, tc.hosts[live]->get_noop_session(2), "c=3").ok());
}

TEST(NodeHostMembership, WitnessKeepsTwoDataNodesAvailable) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(first(tc, 2), false, make_kv, node_config(3, i + 1)).ok());
  ASSERT_GE(tc.leader(3), 0);
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_witness(3, 3, tc.addresses[2], 0, 5s); }).ok());
  Config wc = node_config(3, 3);
  wc.is_witness = true;
  ASSERT_TRUE(tc.hosts[2]->start_cluster({}, true, make_kv, wc).ok());
  ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(3), "x=1").ok());
  // Proposals and reads on the witness are invalid operations.
  RequestStatePtr rs;
  std::string v;
  EXPECT_EQ(tc.hosts[2]->propose(tc.hosts[2]->get_noop_session(3), "y", 1s, &rs).code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(tc.hosts[2]->read_index(3, 1s, &rs).code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(tc.hosts[2]->stale_read(3, "x", &v).code(), ErrorCode::kInvalidOperation);
  // One data node stops: the other plus the witness still elect and commit.
  int leader = tc.leader(3);
  ASSERT_GE(leader, 0);
  size_t survivor = leader == 0 ? 1 : 0;
  if (leader == 2) survivor = 0;
  size_t victim = survivor == 0 ? 1 : 0;
  tc.hosts[victim].reset();
  ASSERT_TRUE(tc.propose(survivor, tc.hosts[survivor]->get_noop_session(3), "z=3").ok());
  ASSERT_TRUE(tc.read(survivor, 3, "x", &v).ok());
  EXPECT_EQ(v, "1");
}

TEST(NodeHostMembership, OrderedConfigChangeRejectsAStaleIndex) {
  TestCluster tc(4);
  for (size_t i = 0; i < 4; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) {
    Config c = node_config(4, i + 1);
    c.ordered_config_change = true;
    ASSERT_TRUE(tc.hosts[i]->start_cluster(first(tc, 3), false, make_kv, c).ok());
  }
  ASSERT_GE(tc.leader(4), 0);
  Membership m;
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_get_cluster_membership(4, 5s, &m); }).ok());
  Status s = change([&] { return tc.hosts[0]->sync_request_add_observer(4, 4, tc.addresses[3], m.config_change_id + 7, 5s); });
  EXPECT_EQ(s.code(), ErrorCode::kRejected) << s.to_string();
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_observer(4, 4, tc.addresses[3], m.config_change_id, 5s); }).ok());
  Membership after;
  ASSERT_TRUE(change([&] { return tc.hosts[1]->sync_get_cluster_membership(4, 5s, &after); }).ok());
  EXPECT_GT(after.config_change_id, m.config_change_id);
  EXPECT_EQ(after.observers.count(4), 1u);
  // Bad requests are refused before reaching the group.
  RequestStatePtr rs;
  EXPECT_EQ(tc.hosts[0]->request_add_node(4, 0, tc.addresses[3], 0, 1s, &rs).code(), ErrorCode::kInvalidOperation);
  EXPECT_EQ(tc.hosts[0]->request_add_node(4, 9, "nowhere", 0, 1s, &rs).code(), ErrorCode::kInvalidAddress);
  EXPECT_EQ(tc.hosts[0]->request_add_node(99, 9, tc.addresses[3], 0, 1s, &rs).code(), ErrorCode::kClusterNotFound);
}

TEST(NodeHostData, CompactionAndRemoveData) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) {
    Config c = node_config(6, i + 1);
    c.snapshot_entries = 10;
    c.compaction_overhead = 2;
    c.disable_auto_compactions = true;  // the space waits for request_compaction
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, c).ok());
  }
  ASSERT_GE(tc.leader(6), 0);
  RequestStatePtr rs;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(6), "k=" + std::to_string(i)).ok());
  uint64_t index = 0;
  ASSERT_TRUE(tc.hosts[0]->sync_request_snapshot(6, SnapshotOption{}, 5s, &index).ok());
  // Snapshots dropped log entries: their space can be reclaimed, once.
  ASSERT_TRUE(test::eventually([&] {
    Status s = tc.hosts[0]->request_compaction(6, 1, &rs);
    return s.ok();
  }));
  EXPECT_TRUE(rs->wait().completed());
  EXPECT_EQ(tc.hosts[0]->request_compaction(6, 2, &rs).code(), ErrorCode::kClusterNotFound);
  // Data of a running node cannot be removed.
  EXPECT_EQ(tc.hosts[2]->remove_data(6, 3).code(), ErrorCode::kClusterNotStopped);
  // Delete node 3 from the group, stop it, remove its data.
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_delete_node(6, 3, 0, 5s); }).ok());
  ASSERT_TRUE(tc.hosts[2]->stop_cluster(6).ok());
  EXPECT_TRUE(tc.hosts[2]->has_node_info(6, 3));
  ASSERT_TRUE(tc.hosts[2]->sync_remove_data(6, 3, 5s).ok());
  EXPECT_FALSE(tc.hosts[2]->has_node_info(6, 3));
  EXPECT_FALSE(std::filesystem::exists(tc.dirs[2] + "/snapshots/6-3"));
  // As the reference: a node whose data was removed is never started again.
  EXPECT_EQ(tc.hosts[2]->start_cluster({}, true, make_kv, node_config(6, 3)).code(), ErrorCode::kNodeRemoved);
  EXPECT_EQ(tc.hosts[2]->start_cluster(tc.members(), false, make_kv, node_config(6, 3)).code(),
            ErrorCode::kNodeRemoved);
  // The group goes on with two.
  ASSERT_TRUE(tc.propose(1, tc.hosts[1]->get_noop_session(6), "after=1").ok());
}

TEST(NodeHostRepair, ExportThenImportRestoresAGroupThatLostTwoOfThree) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, node_config(7, i + 1)).ok());
  ASSERT_GE(tc.leader(7), 0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(7), "r" + std::to_string(i) + "=" + std::to_string(i)).ok());
  std::string v;
  ASSERT_TRUE(tc.read(0, 7, "r29", &v).ok());
  std::string exported = test::temp_dir("export");
  SnapshotOption eo;
  eo.exported = true;
  eo.export_path = exported;
  uint64_t index = 0;
  ASSERT_TRUE(tc.hosts[0]->sync_request_snapshot(7, eo, 5s, &index).ok());
  // Hosts 1 and 2 are lost for good; host 0 is stopped.
  for (auto& h : tc.hosts) h.reset();
  for (size_t i = 1; i < 3; ++i) {
    std::filesystem::remove_all(tc.dirs[i]);
    std::filesystem::create_directories(tc.dirs[i]);
  }
  // The new group: node 1 on host 0 and new nodes 4 and 5 on fresh hosts
  // 1 and 2, every one importing the same snapshot with the same members.
  std::map<uint64_t, std::string> members = {{1, tc.addresses[0]}, {4, tc.addresses[1]}, {5, tc.addresses[2]}};
  const uint64_t ids[3] = {1, 4, 5};
  for (size_t i = 0; i < 3; ++i) {
    Status s = tools::import_snapshot(tc.host_config(i), exported, members, ids[i]);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  // Refused: a running NodeHost's directory, and a bad member list.
  ASSERT_TRUE(tc.start_host(0).ok());
  EXPECT_EQ(tools::import_snapshot(tc.host_config(0), exported, members, 1).code(), ErrorCode::kLockDirectory);
  EXPECT_EQ(tools::import_snapshot(tc.host_config(1), exported, members, 9).code(), ErrorCode::kInvalidOperation);
  for (size_t i = 1; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster({}, false, make_kv, node_config(7, ids[i])).ok());
  int leader = -1;
  ASSERT_TRUE(test::eventually([&] {
    for (size_t i = 0; i < 3; ++i) {
      uint64_t id = 0;
      bool valid = false;
      if (tc.hosts[i]->get_leader_id(7, &id, &valid).ok() && valid) leader = int(i);
    }
    return leader >= 0;
  }));
  ASSERT_TRUE(tc.propose(1, tc.hosts[1]->get_noop_session(7), "after=1").ok());
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.read(i, 7, "r29", &v).ok());
    EXPECT_EQ(v, "29") << "host " << i;
  }
  Membership m;
  ASSERT_TRUE(change([&] { return tc.hosts[2]->sync_get_cluster_membership(7, 5s, &m); }).ok());
  EXPECT_EQ(m.nodes, members);
  std::filesystem::remove_all(exported);
}

// Records every event it receives; the first leader_updated blocks until
// released (a slow listener).
class Recorder : public IRaftEventListener, public ISystemEventListener {
 public:
  explicit Recorder(std::shared_future<void> gate) : gate_(std::move(gate)) {}
  void leader_updated(const LeaderInfo& i) override {
    gate_.wait();
    note("leader_updated", i.cluster_id, i.leader_id);
  }
  void node_ready(const NodeEventInfo& i) override { note("node_ready", i.cluster_id, i.node_id); }
  void node_unloaded(const NodeEventInfo& i) override { note("node_unloaded", i.cluster_id, i.node_id); }
  void membership_changed(const NodeEventInfo& i) override { note("membership_changed", i.cluster_id, i.node_id); }
  void connection_established(const ConnectionInfo&) override { note("connection_established", 0, 0); }
  void snapshot_created(const SnapshotInfo& i) override { note("snapshot_created", i.cluster_id, i.index); }
  void log_compacted(const EntryInfo& i) override { note("log_compacted", i.cluster_id, i.index); }
  void logdb_compacted(const EntryInfo& i) override { note("logdb_compacted", i.cluster_id, i.index); }
  size_t count(const std::string& what) {
    std::lock_guard<std::mutex> g(mu_);
    size_t n = 0;
    for (auto& e : seen_) n += e.first == what;
    return n;
  }

 private:
  void note(const std::string& what, uint64_t a, uint64_t b) {
    std::lock_guard<std::mutex> g(mu_);
    seen_.push_back({what, {a, b}});
  }
  std::shared_future<void> gate_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> seen_;
};

TEST(NodeHostEvents, ListenersGetEventsOffTheHotPath) {
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  TestCluster tc(3);
  test::OpenOnExit release{&gate};  // after tc: opened before the hosts stop
  std::vector<std::shared_ptr<Recorder>> rec;
  for (size_t i = 0; i < 3; ++i) {
    rec.push_back(std::make_shared<Recorder>(open));
    ASSERT_TRUE(tc.start_host(i, [&](NodeHostConfig* hc) {
                    hc->raft_event_listener = rec.back();
                    hc->system_event_listener = rec.back();
                  }).ok());
  }
  for (size_t i = 0; i < 3; ++i) {
    Config c = node_config(8, i + 1);
    c.snapshot_entries = 10;
    c.compaction_overhead = 2;
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, c).ok());
  }
  int leader = tc.leader(8);
  ASSERT_GE(leader, 0);
  // The listeners are stuck in leader_updated; Raft is not.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(tc.propose(leader, tc.hosts[leader]->get_noop_session(8), "k=" + std::to_string(i)).ok());
  EXPECT_EQ(rec[leader]->count("leader_updated"), 0u);
  release.open();
  for (auto& r : rec) {
    ASSERT_TRUE(test::eventually([&] { return r->count("leader_updated") >= 1; }));
    EXPECT_EQ(r->count("node_ready"), 1u);
    ASSERT_TRUE(test::eventually([&] { return r->count("connection_established") >= 1; }));
    ASSERT_TRUE(test::eventually([&] { return r->count("snapshot_created") >= 2; }));
    ASSERT_TRUE(test::eventually([&] { return r->count("log_compacted") >= 2; }));
  }
  ASSERT_TRUE(change([&] { return tc.hosts[0]->sync_request_add_observer(8, 9, "127.0.0.1:1", 0, 5s); }).ok());
  for (auto& r : rec) ASSERT_TRUE(test::eventually([&] { return r->count("membership_changed") >= 1; }));
  // Snapshots reclaimed the dropped entries' space by themselves (automatic
  // compaction; requested ones: NodeHostData tests).
  ASSERT_TRUE(test::eventually([&] { return rec[0]->count("logdb_compacted") >= 1; }));
  ASSERT_TRUE(tc.hosts[1]->stop_cluster(8).ok());
  ASSERT_TRUE(test::eventually([&] { return rec[1]->count("node_unloaded") == 1; }));
}

TEST(NodeHostData, DisableAutoCompactionsDropsEntriesButReclaimsOnlyOnRequest) {
  std::promise<void> gate;
  gate.set_value();
  auto rec = std::make_shared<Recorder>(gate.get_future().share());
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0, [&](NodeHostConfig* hc) { hc->system_event_listener = rec; }).ok());
  Config c = node_config(9, 1);
  c.snapshot_entries = 10;
  c.compaction_overhead = 2;
  c.disable_auto_compactions = true;
  ASSERT_TRUE(tc.hosts[0]->start_cluster({{1, tc.addresses[0]}}, false, make_kv, c).ok());
  ASSERT_GE(tc.leader(9), 0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(9), "k=" + std::to_string(i)).ok());
  // Entries are still dropped after snapshots (the reference's meaning)...
  ASSERT_TRUE(test::eventually([&] { return rec->count("log_compacted") >= 2; }));
  // ...but their space is reclaimed only when asked: the one LogDB
  // compaction is the requested one.
  RequestStatePtr rs;
  ASSERT_TRUE(tc.hosts[0]->request_compaction(9, 1, &rs).ok());
  EXPECT_TRUE(rs->wait().completed());
  ASSERT_TRUE(test::eventually([&] { return rec->count("logdb_compacted") >= 1; }));
  EXPECT_EQ(rec->count("logdb_compacted"), 1u);
  // Nothing was dropped since: the next request has nothing to reclaim.
  EXPECT_EQ(tc.hosts[0]->request_compaction(9, 1, &rs).code(), ErrorCode::kRejected);
}

TEST(NodeHostConfigFields, NotifyCommitMarksProposalsCommittedBeforeApply) {
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  auto blocked = [open](uint64_t, uint64_t) {
    auto kv = std::make_unique<KV>();
    kv->before_update = [open](std::string_view cmd) {
      if (cmd == "slow") open.wait();
    };
    return kv;
  };
  TestCluster tc(3);
  test::OpenOnExit release{&gate};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(tc.start_host(i, [&](NodeHostConfig* hc) { hc->notify_commit = true; }).ok());
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, blocked, node_config(10, i + 1)).ok());
  }
  int leader = tc.leader(10);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(tc.propose(leader, tc.hosts[leader]->get_noop_session(10), "warm=1").ok());
  RequestStatePtr rs;
  ASSERT_TRUE(tc.hosts[leader]->propose(tc.hosts[leader]->get_noop_session(10), "slow", 30s, &rs).ok());
  // Committed (a quorum has it) while the state machine has not applied it.
  ASSERT_TRUE(rs->wait_committed(30s));
  EXPECT_TRUE(rs->committed());
  EXPECT_FALSE(rs->done());
  release.open();
  EXPECT_TRUE(rs->wait().completed());
}

TEST(NodeHostConfigFields, DeploymentIDsIsolateHosts) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) {
    // Host 2 belongs to another deployment.
    ASSERT_TRUE(tc.start_host(i, [&](NodeHostConfig* hc) { hc->deployment_id = i == 2 ? 2 : 1; }).ok());
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, node_config(11, i + 1)).ok());
  }
  // Hosts 0 and 1 are a quorum of the group; host 2 hears nothing from them.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(11), "d=" + std::to_string(i)).ok());
  std::string v;
  ASSERT_TRUE(tc.read(1, 11, "d", &v).ok());
  EXPECT_EQ(v, "19");
  // Host 2 refused the other deployment's traffic (counted) and has none of it.
  ASSERT_TRUE(test::eventually([&] {
    std::ostringstream m;
    tc.hosts[2]->write_health_metrics(m);
    return m.str().find("dragonboat_transport_deployment_mismatches_total 0\n") == std::string::npos;
  }));
  ASSERT_TRUE(tc.hosts[2]->stale_read(11, "d", &v).ok());
  EXPECT_EQ(v, "");
}

TEST(NodeHostLeaderTransfer, MovesLeadershipUnderLoad) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, node_config(5, i + 1)).ok());
  int leader = tc.leader(5);
  ASSERT_GE(leader, 0);
  Writer w(&tc, 5);
  w.start({0, 1, 2});
  ASSERT_TRUE(w.advance(20));
  uint64_t target = ((leader + 1) % 3) + 1;
  EXPECT_EQ(tc.hosts[0]->request_leader_transfer(5, 0).code(), ErrorCode::kInvalidTarget);
  EXPECT_EQ(tc.hosts[0]->request_leader_transfer(5, 77).code(), ErrorCode::kInvalidTarget);
  // Asked on a follower: forwarded to the leader.
  size_t follower = (leader + 2) % 3;
  ASSERT_TRUE(tc.hosts[follower]->request_leader_transfer(5, target).ok());
  ASSERT_TRUE(test::eventually([&] {
    uint64_t id = 0;
    bool valid = false;
    return tc.hosts[follower]->get_leader_id(5, &id, &valid).ok() && valid && id == target;
  }));
  ASSERT_TRUE(w.advance(20)) << "writes go on after the transfer";
  w.stop();
  std::vector<uint64_t> acked = w.acked();
  for (uint64_t i : acked) {
    std::string v;
    ASSERT_TRUE(tc.read(target - 1, 5, "k" + std::to_string(i), &v).ok());
    ASSERT_EQ(v, std::to_string(i));
  }
}


// The tick thread's active set: quiesced idle groups leave it (they cost no
// tick at all), a request brings the replica back at once, and a quiesced
// group whose leader's host died still elects a new leader once a request
// arrives (the request ends quiesce and the replica is ticked again).
double ticking(NodeHost& nh) {
  for (const MetricFamily& f : nh.get_health_metrics().families) {
    if (f.name == "dragonboat_replicas_ticking" && f.samples.size() == 1) return f.samples[0].value;
  }
  return -1;
}

TEST(NodeHostQuiesce, IdleGroupsLeaveTheTickSetAndRequestsBringThemBack) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  const uint64_t kGroups = 20;
  for (uint64_t g = 1; g <= kGroups; ++g) {
    for (size_t i = 0; i < 3; ++i) {
      Config c = TestCluster::config(g, i + 1);
      c.quiesce = true;   // after 10 election timeouts without activity:
      c.election_rtt = 20;  // 2 s here, the window the checks below have
      ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make_kv, c).ok());
    }
  }
  for (uint64_t g = 1; g <= kGroups; ++g) ASSERT_GE(tc.leader(g), 0);
  auto all_dormant = [&] {
    for (auto& h : tc.hosts) {
      if (h && ticking(*h) != 0) return false;
    }
    return true;
  };
  ASSERT_TRUE(test::eventually(all_dormant, 60s)) << "quiesced groups still ticked";
  // Requests with deadlines on dormant replicas: a read and a snapshot
  // request (served off the step side) complete.
  std::string v;
  ASSERT_TRUE(tc.read(0, 11, "nothing", &v).ok());
  uint64_t snapshot_index = 0;
  ASSERT_TRUE(tc.hosts[1]->sync_request_snapshot(12, SnapshotOption{}, 5s, &snapshot_index).ok());
  EXPECT_GT(snapshot_index, 0u);
  ASSERT_TRUE(test::eventually(all_dormant, 60s)) << "the groups did not quiesce again";
  // A write to a dormant group: its replicas come back and it commits.
  int l7 = tc.leader(7);
  ASSERT_GE(l7, 0);
  ASSERT_TRUE(tc.propose(l7, tc.hosts[l7]->get_noop_session(7), "k=v").ok());
  // Back in the active set (the metric is refreshed each tick; quiescing
  // again takes 10 election timeouts).
  EXPECT_TRUE(test::eventually([&] { return ticking(*tc.hosts[l7]) >= 1; }, 5s));
  ASSERT_TRUE(test::eventually(all_dormant, 60s)) << "the group did not quiesce again";
  // The leader's host of group 3 dies while everything is dormant; a write
  // on a surviving host ends quiesce there, and the group elects a leader.
  int dead = tc.leader(3);
  ASSERT_GE(dead, 0);
  tc.hosts[dead].reset();
  size_t survivor = (dead + 1) % 3;
  ASSERT_TRUE(tc.propose(survivor, tc.hosts[survivor]->get_noop_session(3), "after=1").ok());
  ASSERT_TRUE(tc.read(survivor, 3, "after", &v).ok());
  EXPECT_EQ(v, "1");
}

}  // namespace
}  // namespace dragonboat
