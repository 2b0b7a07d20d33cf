// sim/simulator.cc — the deterministic simulation's frame (simulator.h):
// the per-seed configuration derived from the seed, starting, launching and
// restarting simulated nodes (and restoring their state machine from a
// snapshot), recording violations, the chaos loop that picks one random event
// per step, the heal phase that checks liveness, the final state dump, and
// the public entry points. The Simulation class is declared in
// simulator_internal.h; the network and fault actions are in
// simulator_faults.cc, update processing and invariants in
// simulator_checks.cc.
#include "sim/simulator.h"

#include <iterator>
#include <sstream>

#include "sim/simulator_internal.h"

namespace dragonboat::sim {
namespace detail {

Simulation::Simulation(const SimOptions& o) : opt_(o), rng_(o.seed * 7919 + 17) {
  cfg_.election_rtt = 10;
  cfg_.heartbeat_rtt = 2;
  cfg_.check_quorum = rng_.uniform(2) == 0;
  cfg_.pre_vote = rng_.uniform(4) != 0;
  cfg_.ordered_config_change = rng_.uniform(2) == 0;
  cfg_.max_replicate_bytes = 64 + rng_.uniform(4096);
  cfg_.max_inflight = 1 + rng_.uniform(8);
  cfg_.max_apply_bytes = 256 + rng_.uniform(8192);
  cfg_.quiesce_ticks = rng_.uniform(4) == 0 ? 40 + rng_.uniform(40) : 0;
  cfg_.max_in_mem_log_size = rng_.uniform(4) == 0 ? 4096 + rng_.uniform(16384) : 0;
  loss_ = rng_.real() * 0.3;
  dup_ = rng_.real() * 0.1;
  max_delay_ = rng_.uniform(3);
  // Half the seeds persist through the real storage stack (NodeLog over a
  // LogDB shared by all nodes, as on a NodeHost), so crashes also test
  // LogDB restart.
  if (rng_.uniform(2) == 0) logdb_ = logdb::new_mem_logdb(2);
  uint64_t n = 3 + rng_.uniform(3);
  for (uint64_t i = 1; i <= n; ++i) initial_[i] = addr(i);
  next_id_ = n + 1;
  std::ostringstream s;
  s << "peers=" << n << " loss=" << loss_ << " dup=" << dup_ << " delay=" << max_delay_
    << " pre_vote=" << cfg_.pre_vote << " check_quorum=" << cfg_.check_quorum
    << " ordered_cc=" << cfg_.ordered_config_change << " quiesce=" << cfg_.quiesce_ticks
    << " max_in_mem=" << cfg_.max_in_mem_log_size << " inflight=" << cfg_.max_inflight
    << " storage=" << (logdb_ ? "logdb" : "memory");
  result_.settings = s.str();
  for (const auto& [id, a] : initial_) start_node(id, false, false, false);
}

SimResult Simulation::run() {
  log("settings: %s", result_.settings.c_str());
  for (now_ = 1; now_ <= opt_.steps && result_.violations.empty(); ++now_) {
    chaos_step();
  }
  if (result_.violations.empty()) heal_and_check_liveness();
  result_.stats.steps = now_;
  return result_;
}

void Simulation::violation(const std::string& what) {
  std::ostringstream s;
  s << "seed " << opt_.seed << " step " << now_ << ": " << what;
  if (result_.violations.size() < 10) result_.violations.push_back(s.str());
  log("VIOLATION %s", what.c_str());
}

void Simulation::start_node(uint64_t id, bool join, bool observer, bool witness) {
  auto& n = nodes_[id];
  n.id = id;
  n.join = join;
  n.observer = observer;
  n.witness = witness;
  uint64_t seed = rng_.next();
  n.r = Replica(logdb_ ? new_logdb_storage(logdb_.get(), 1, id) : new_memory_storage(), seed);
  launch(n);
}

void Simulation::launch(Node& n) {
  Status s = n.r.launch(replica_config(cfg_, n.id, n.observer, n.witness),
                        n.join ? decltype(initial_){} : initial_, n.join);
  if (!s.ok()) {
    violation("launch failed: " + s.to_string());
    return;
  }
  // The replica's applied index restarts at its stored snapshot.
  n.sm_hash = 0;
  n.sm_count = 0;
  n.last_commit = 0;
  n.reads.clear();
  n.confirmed.clear();
  n.proposals.clear();
  Snapshot ss = n.r.log().snapshot();
  if (!ss.empty()) restore_sm(n, ss);
  log("node %llu started (join=%d observer=%d witness=%d) last=%llu", (unsigned long long)n.id,
      n.join, n.observer, n.witness, (unsigned long long)n.r.log().last_index());
}

// The replica's applied index is already the snapshot's.
void Simulation::restore_sm(Node& n, const Snapshot& ss) {
  if (ss.witness) {
    n.sm_hash = 0;
    n.sm_count = 0;
    return;
  }
  decode_sm(ss.data, &n.sm_hash, &n.sm_count);
  auto it = chain_.find(ss.index);
  if (it != chain_.end() && it->second != n.sm_hash) {
    violation("snapshot state differs from the applied history at " + std::to_string(ss.index));
  }
}

// -------------------------------------------------------------- chaos --
void Simulation::chaos_step() {
  deliver_due();
  process_all();
  restart_due();
  uint64_t r = rng_.uniform(1000);
  if (r < 500) {
    for (auto& [id, n] : nodes_)
      if (alive(n)) n.r.peer().tick();
  } else if (r < 720) {
    if (Node* n = random_alive()) propose(*n);
  } else if (r < 840) {
    if (Node* n = random_alive()) read(*n);
  } else if (r < 860) {
    if (Node* l = leader()) {
      const auto& m = l->r.peer().membership();
      auto it = m.addresses.begin();
      std::advance(it, rng_.uniform(m.addresses.size()));
      ++result_.stats.transfers;
      (void)l->r.peer().request_leader_transfer(it->first);
    }
  } else if (r < 880) {
    membership_change();
  } else if (r < 920) {
    if (Node* n = random_alive()) take_snapshot(*n);
  } else if (r < 935) {
    uint64_t down = 0;
    for (auto& [id, n] : nodes_) down += !alive(n) && !n.removed;
    if (down < 2)
      if (Node* n = random_alive()) crash(*n, "kill -9");
  } else if (r < 950) {
    if (partition_.empty()) {
      if (Node* n = random_alive()) {
        partition_.insert(n->id);
        if (rng_.uniform(2) == 0)
          if (Node* o = random_alive()) partition_.insert(o->id);
        log("partition: %zu node(s) cut off", partition_.size());
      }
    } else {
      partition_.clear();
      log("partition healed");
    }
  }
  process_all();
  check_step_invariants();
}

void Simulation::heal_and_check_liveness() {
  // Faults stop; everything that crashed comes back.
  healing_ = true;
  partition_.clear();
  loss_ = 0;
  dup_ = 0;
  for (auto& [id, n] : nodes_)
    if (!alive(n) && !n.removed) launch(n);
  log("healed; checking that progress resumes");
  // Liveness: within a bounded number of ticks a new write is acknowledged
  // and every live member applies it.
  const uint64_t limit = 60 * cfg_.election_rtt;
  uint64_t start_acks = result_.stats.writes_acked;
  uint64_t marker_index = 0;
  for (uint64_t t = 0; t < limit; ++t) {
    ++now_;
    deliver_due();
    process_all();
    for (auto& [id, n] : nodes_)
      if (alive(n)) n.r.peer().tick();
    if (result_.stats.writes_acked == start_acks && t % 5 == 0) {
      if (Node* n = random_alive(true)) propose(*n);
    }
    process_all();
    check_step_invariants();
    if (!result_.violations.empty()) return;
    if (result_.stats.writes_acked > start_acks && marker_index == 0) marker_index = acked_max_;
    if (marker_index) {
      bool all = true;
      for (auto& [id, n] : nodes_)
        if (alive(n) && n.r.applied() < marker_index) all = false;
      if (all) return;
    }
  }
  violation("no progress within " + std::to_string(limit) + " ticks after the faults healed");
  dump();
}

void Simulation::dump() {
  for (auto& [id, n] : nodes_) {
    if (!alive(n)) {
      log("node %llu: down (removed=%d)", (unsigned long long)id, n.removed);
      continue;
    }
    const raft::Raft& r = n.r.peer().raft();
    std::string members;
    for (const auto& [v, a] : r.membership().addresses) members += std::to_string(v) + " ";
    for (const auto& [v, a] : r.membership().observers) members += "o" + std::to_string(v) + " ";
    for (const auto& [v, a] : r.membership().witnesses) members += "w" + std::to_string(v) + " ";
    log("node %llu: %s term=%llu leader=%llu vote=%llu commit=%llu processed=%llu last=%llu "
        "first=%llu applied=%llu quiesced=%d limited=%d inmem=%llu members=[%s]",
        (unsigned long long)id, raft::role_name(r.role()), (unsigned long long)r.term(),
        (unsigned long long)r.leader_id(), (unsigned long long)r.vote(),
        (unsigned long long)r.log().committed(), (unsigned long long)r.log().processed(),
        (unsigned long long)r.log().last_index(), (unsigned long long)r.log().first_index(),
        (unsigned long long)n.r.applied(), r.quiesced(), n.r.peer().rate_limited(), (unsigned long long)r.in_mem_log_bytes(), members.c_str());
    for (const auto& [pid, pr] : r.progress()) {
      log("    -> %llu %s match=%llu next=%llu paused=%d", (unsigned long long)pid,
          raft::progress_state_name(pr.state()), (unsigned long long)pr.match(),
          (unsigned long long)pr.next(), pr.is_paused());
    }
  }
}

}  // namespace detail

SimResult run_simulation(const SimOptions& options) { return detail::Simulation(options).run(); }

std::string replay_command(uint64_t seed, uint64_t steps) {
  return "build/dev/dragonboat-sim --seed " + std::to_string(seed) + " --steps " +
         std::to_string(steps) + " --verbose";
}

}  // namespace dragonboat::sim
