// sim/simulator_internal.h — the Simulation behind run_simulation()
// (simulator.h), whose member functions three files define: simulator.cc (the
// per-seed configuration, starting and restarting nodes, the chaos and
// liveness loops, the final dump), simulator_faults.cc (the simulated network
// and the workload and fault actions: proposals, reads, membership changes,
// snapshots, crashes) and simulator_checks.cc (the hooks through which each
// node's sim::Replica carries out its Raft updates, applying entries to the
// hash-chain state machine and the safety invariants). Also the records of a
// simulated node and of a message in flight, and the state machine's
// snapshot encoding. Not part of the simulator's interface.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "logdb/logdb.h"
#include "raft/peer.h"
#include "sim/replica.h"
#include "sim/simulator.h"
#include "sim/storage.h"

namespace dragonboat::sim::detail {

using raft::ConfigChange;
using raft::Entry;
using raft::Message;
using raft::ReadCtx;
using raft::SeededRandom;
using raft::Snapshot;

// A state machine snapshot's data: the hash chain and the entry count.
inline std::string encode_sm(uint64_t hash, uint64_t count) {
  std::string s(16, '\0');
  for (int i = 0; i < 8; ++i) {
    s[i] = static_cast<char>(hash >> (8 * i));
    s[8 + i] = static_cast<char>(count >> (8 * i));
  }
  return s;
}
inline void decode_sm(const std::string& s, uint64_t* hash, uint64_t* count) {
  *hash = *count = 0;
  if (s.size() != 16) return;
  for (int i = 0; i < 8; ++i) {
    *hash |= uint64_t(static_cast<uint8_t>(s[i])) << (8 * i);
    *count |= uint64_t(static_cast<uint8_t>(s[8 + i])) << (8 * i);
  }
}

struct PendingRead {
  uint64_t watermark = 0;  // highest acknowledged write index at read start
  uint64_t started = 0;
};

struct Node {
  uint64_t id = 0;
  bool join = false;
  bool observer = false;
  bool witness = false;
  // Its peer (down while crashed or after removal), the storage that
  // survives a crash, its random source and applied index.
  Replica r;
  bool removed = false;
  uint64_t restart_at = 0;
  // Volatile state machine: a hash chain over applied entries.
  uint64_t sm_hash = 0;
  uint64_t sm_count = 0;
  uint64_t last_commit = 0;  // commit index seen in this incarnation
  std::map<ReadCtx, PendingRead> reads;
  std::vector<std::pair<raft::ReadyToRead, PendingRead>> confirmed;  // awaiting apply
  std::map<uint64_t, uint64_t> proposals;  // key -> step proposed
};

struct InFlight {
  uint64_t at;
  uint64_t seq;
  Message m;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o);

  SimResult run();

 private:
  // ------------------------------------------------ setup (simulator.cc) --
  static std::string addr(uint64_t id) { return "node-" + std::to_string(id); }

  template <typename... Args>
  void log(const char* fmt, Args... args) {
    if (!opt_.verbose) return;
    std::printf("[%6llu] ", (unsigned long long)now_);
    std::printf(fmt, args...);
    std::printf("\n");
  }

  void violation(const std::string& what);
  void start_node(uint64_t id, bool join, bool observer, bool witness);
  void launch(Node& n);
  void restore_sm(Node& n, const Snapshot& ss);
  bool alive(const Node& n) const { return n.r.alive(); }

  // --------------------------------------- network (simulator_faults.cc) --
  bool link_cut(uint64_t a, uint64_t b) const;
  void send(const Message& m);
  void snapshot_feedback(const Message& m, bool failed);
  void deliver_due();

  // --------------------------------------- updates (simulator_checks.cc) --
  void process_all();
  void process_update(Node& n);
  void apply(Node& n, const Entry& e, const AppliedChange* change);
  void serve_reads(Node& n, const raft::Update& u);
  void on_config_change_applied(const ConfigChange& cc);

  // ------------------------------------ invariants (simulator_checks.cc) --
  void on_became_leader(Node& n, uint64_t term);
  void check_log_matching(const Node& n, const std::vector<Entry>& ents);
  void check_step_invariants();

  // ----------------------------------------- chaos (simulator_faults.cc) --
  Node* random_alive(bool voters_only = false);
  Node* leader();
  void propose(Node& n);
  void read(Node& n);
  void membership_change();
  void take_snapshot(Node& n);
  void crash(Node& n, const char* why);
  void restart_due();

  // ------------------------------------------------ loops (simulator.cc) --
  void chaos_step();
  void heal_and_check_liveness();
  void dump();

  SimOptions opt_;
  SeededRandom rng_;
  std::unique_ptr<logdb::LogDB> logdb_;  // declared before nodes_: outlives them
  raft::Config cfg_;
  double loss_ = 0, dup_ = 0;
  bool healing_ = false;  // faults have stopped (liveness phase)
  uint64_t max_delay_ = 0;
  std::map<uint64_t, std::string> initial_;
  std::map<uint64_t, Node> nodes_;
  std::vector<InFlight> net_;
  std::set<uint64_t> partition_;
  uint64_t now_ = 0, seq_ = 0, key_seq_ = 0, read_seq_ = 0, next_id_ = 0;
  uint64_t acked_max_ = 0, last_ack_step_ = 0;
  std::map<uint64_t, uint64_t> leaders_;         // term -> leader
  std::map<uint64_t, uint64_t> chain_;           // index -> state hash after it
  std::map<uint64_t, uint64_t> committed_term_;  // index -> term (applied somewhere)
  std::map<uint64_t, bool> cc_outcome_;          // index -> accepted?
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> log_record_;
  SimResult result_;
};

}  // namespace dragonboat::sim::detail
