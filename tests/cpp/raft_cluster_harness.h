// raft_cluster_harness.h — the hand-driven Raft cluster shared by the
// raft_paper_*_test.cc files: the message and entry builders of
// message_builder.h (msg, local_msg, entry, proposal, snap), `Node` (a
// sim::Replica — the peer, its in-memory storage and random source, see
// sim/replica.h — and what its caller observed) and `Cluster` (a few of
// them with a network the test delivers by hand), plus the setup steps more
// than one topic needs. Logical ticks and explicit message delivery only:
// no sleeps, no threads.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "message_builder.h"
#include "raft/peer.h"
#include "sim/replica.h"

namespace dragonboat::raft::test {

using Members = std::map<uint64_t, std::string>;
using MT = MessageType;

inline Members members_of(const std::vector<uint64_t>& ids) {
  Members m;
  for (uint64_t id : ids) m[id] = "addr" + std::to_string(id);
  return m;
}

// The builders (message_builder.h); msg() messages are in group 1, the
// group of every Cluster.
using dragonboat::test::entry;
using dragonboat::test::local_msg;
using dragonboat::test::msg;
using dragonboat::test::proposal;
using dragonboat::test::snap;
static_assert(dragonboat::test::kTestClusterID == 1, "Cluster::config uses group 1");

inline std::vector<Message> of_type(const std::vector<Message>& msgs, MessageType t) {
  std::vector<Message> out;
  for (const auto& m : msgs)
    if (m.type == t) out.push_back(m);
  return out;
}

// One node: its replica (peer, storage, random source) and what its caller
// observed.
struct Node {
  Node(uint64_t node_id, uint64_t seed) : Node(node_id, std::make_unique<sim::MemoryStorage>(), seed) {}

  uint64_t id = 0;
  MemoryLog& log;        // the replica's storage: what the peer persisted
  sim::Replica replica;  // carries out the peer's Updates
  std::vector<Entry> applied;
  std::vector<ReadyToRead> reads;
  std::vector<uint64_t> dropped;
  std::vector<ReadCtx> dropped_reads;
  std::vector<Status> cc_results;  // apply_config_change results, in order

 private:
  Node(uint64_t node_id, std::unique_ptr<sim::MemoryStorage> storage, uint64_t seed)
      : id(node_id), log(storage->log()), replica(std::move(storage), seed) {}
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
    auto n = std::make_unique<Node>(id, seed != 0 ? seed : id * 7919);
    Status s = n->replica.launch(config(id, observer, witness), initial, join);
    ASSERT_TRUE(s.ok()) << s.to_string();
    nodes_[id] = std::move(n);
  }
  // A new node that starts empty and waits for a config change to add it.
  void add_joiner(uint64_t id, bool observer = false, bool witness = false) {
    launch(id, {}, true, observer, witness);
  }

  Node& node(uint64_t id) { return *nodes_.at(id); }
  Peer& peer(uint64_t id) { return node(id).replica.peer(); }
  Raft& raft(uint64_t id) { return peer(id).raft(); }

  // Carries out one Update of `id` as the Update contract asks (persist,
  // apply, acknowledge: sim::Replica::process), recording what was applied,
  // read and dropped; its messages go on the network unless `queue` is false.
  Update process(uint64_t id, bool queue = true) {
    Node& n = node(id);
    sim::Hooks h;
    h.apply = [&n](const Entry& e, const sim::AppliedChange* change) {
      if (change != nullptr) {
        EXPECT_TRUE(change->decoded);
        n.cc_results.push_back(change->status);
      }
      n.applied.push_back(e);
    };
    h.after_apply = [&n](const Update& u) {
      n.reads.insert(n.reads.end(), u.ready_to_reads.begin(), u.ready_to_reads.end());
      n.dropped.insert(n.dropped.end(), u.dropped_entries.begin(), u.dropped_entries.end());
      n.dropped_reads.insert(n.dropped_reads.end(), u.dropped_read_indexes.begin(),
                             u.dropped_read_indexes.end());
    };
    Update u;
    std::vector<Message> out = n.replica.process(h, &u);
    if (queue) send(out);
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
    (void)raft(id).step(local_msg(t));
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
        while (n->replica.peer().has_update(true)) {
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
      for (auto& [id, nd] : nodes_) nd->replica.peer().tick();
      stabilize();
    }
  }

  // Forces `id` to campaign and lets the election finish.
  void elect(uint64_t id) {
    (void)raft(id).step(local_msg(MT::kElection));
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
inline void make_solo_leader(Cluster& c) {
  c.step_local(1, MT::kElection);
  ASSERT_EQ(c.raft(1).role(), Role::kCandidate);
  c.step(1, msg(MT::kRequestVoteResp, 2, 1, c.raft(1).term()));
  ASSERT_TRUE(c.peer(1).is_leader());
}

// What `r` holds in its log, first to last index.
inline std::vector<Entry> log_entries(const Raft& r) {
  std::vector<Entry> out;
  Status s = r.log().slice(r.log().first_index(), r.log().last_index() + 1, kNoLimit, &out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

// The application commands `n` applied (no-ops and config changes left out).
inline std::vector<std::string> applied_cmds(const Node& n) {
  std::vector<std::string> out;
  for (const Entry& e : n.applied)
    if (e.type == EntryType::kApplication && !e.cmd.empty()) out.push_back(e.cmd.str());
  return out;
}

// A config change of `type` for `node` (address "addr<node>"), quoting `ccid`.
inline ConfigChange make_cc(ConfigChangeType type, uint64_t node, uint64_t ccid) {
  ConfigChange cc;
  cc.type = type;
  cc.node_id = node;
  cc.address = "addr" + std::to_string(node);
  cc.config_change_id = ccid;
  return cc;
}

// Proposes a change on `leader`, quoting the current config change id.
inline Status propose_cc(Cluster& c, uint64_t leader, ConfigChangeType type, uint64_t node,
                         uint64_t key) {
  uint64_t ccid = c.peer(leader).membership().config_change_id;
  return c.peer(leader).propose_config_change(make_cc(type, node, ccid), key);
}

// Starts `id` empty as an observer (or witness) and has leader 1 add it.
inline void add_non_voter(Cluster& c, uint64_t id, bool witness) {
  c.add_joiner(id, !witness, witness);
  auto type = witness ? ConfigChangeType::kAddWitness : ConfigChangeType::kAddObserver;
  ASSERT_TRUE(propose_cc(c, 1, type, id, 1000 + id).ok());
  c.stabilize();
  c.tick_all(1);
  ASSERT_EQ(c.raft(id).role(), witness ? Role::kWitness : Role::kObserver);
  ASSERT_EQ(c.raft(id).log().last_index(), c.raft(1).log().last_index());
}

}  // namespace dragonboat::raft::test
