// sim/simulator_checks.cc — processing each node's Raft updates through its
// sim::Replica (sim/replica.h) with the simulation's hooks (send before and
// after persist, crash between them, check, apply, serve reads), the
// simulated state machine (a hash chain over applied entries, compared across
// nodes), acting on applied membership changes, and the safety invariants:
// one leader per term, leader completeness, log matching, commit indexes that
// never move back, reads that see every acknowledged write, identical applied
// histories and config-change outcomes. Part of the Simulation declared in
// simulator_internal.h.
#include <algorithm>

#include "sim/simulator_internal.h"

namespace dragonboat::sim::detail {
namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}
uint64_t hash_str(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
uint64_t entry_digest(const Entry& e) {
  return mix(mix(mix(mix(hash_str(e.cmd.str()), e.term), e.index), static_cast<uint64_t>(e.type)), e.key);
}

}  // namespace

using raft::ConfigChangeType;
using raft::EntryType;

// ------------------------------------------------------------ updates --
void Simulation::process_all() {
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    for (auto& [id, n] : nodes_) {
      if (!alive(n) || !n.r.peer().has_update(true)) continue;
      any = true;
      process_update(n);
    }
    if (!any) return;
  }
}

void Simulation::process_update(Node& n) {
  Hooks h;
  h.on_update = [&](const raft::Update& u) {
    if (u.leader_changed && u.leader.leader_id == n.id) on_became_leader(n, u.leader.term);
  };
  // Thesis §10.2.1: the leader's Replicates go out before its own persist.
  h.send = [this](const Message& m) { send(m); };
  h.before_persist = [&](const raft::Update& u) {
    // Sometimes crash right here: sent, not persisted.
    if (!healing_ && !u.entries_to_save.empty() && rng_.uniform(400) == 0) {
      crash(n, "between send and persist");
      return false;
    }
    if (!u.state.empty() && u.state.commit < n.r.log().hard_state().commit) {
      violation("persisted commit moved back on node " + std::to_string(n.id));
    }
    return true;
  };
  h.after_persist = [&](const raft::Update& u, const Status& ps) {
    if (!ps.ok()) violation("persist failed on node " + std::to_string(n.id) + ": " + ps.to_string());
    if (!u.snapshot.empty()) restore_sm(n, u.snapshot);
    check_log_matching(n, u.entries_to_save);
  };
  h.apply = [&](const Entry& e, const AppliedChange* change) { apply(n, e, change); };
  h.after_apply = [&](const raft::Update& u) { serve_reads(n, u); };
  (void)n.r.process(h);  // stops early if the node crashed or removed itself
}

void Simulation::serve_reads(Node& n, const raft::Update& u) {
  for (const auto& r : u.ready_to_reads) {
    auto it = n.reads.find(r.ctx);
    if (it == n.reads.end()) continue;
    if (r.index < it->second.watermark) {
      violation("read index " + std::to_string(r.index) + " on node " + std::to_string(n.id) +
                " misses acknowledged write at " + std::to_string(it->second.watermark));
    }
    n.confirmed.push_back({r, it->second});
    n.reads.erase(it);
  }
  for (uint64_t key : u.dropped_entries) n.proposals.erase(key);
  for (const auto& c : u.dropped_read_indexes) n.reads.erase(c);
  // Serve reads whose index is applied.
  std::vector<std::pair<raft::ReadyToRead, PendingRead>> rest;
  for (auto& c : n.confirmed) {
    if (n.r.applied() >= c.first.index) {
      ++result_.stats.reads_confirmed;
    } else {
      rest.push_back(c);
    }
  }
  n.confirmed.swap(rest);
}

// `change`: the config change the replica applied to the peer, if `e` is one.
// The replica's applied index moves to `e` after this.
void Simulation::apply(Node& n, const Entry& e, const AppliedChange* change) {
  if (e.index != n.r.applied() + 1) {
    violation("node " + std::to_string(n.id) + " applies " + std::to_string(e.index) +
              " after " + std::to_string(n.r.applied()));
  }
  if (change != nullptr) {
    if (!change->decoded) {
      violation("undecodable config change");
      return;
    }
    bool ok = change->status.ok();
    auto rec = cc_outcome_.find(e.index);
    if (rec == cc_outcome_.end()) {
      cc_outcome_[e.index] = ok;
      if (ok) on_config_change_applied(change->cc);
    } else if (rec->second != ok) {
      violation("config change at " + std::to_string(e.index) + " decided differently");
    }
  }
  if (n.witness) return;  // a witness holds no state machine
  if (e.type == EntryType::kMetadata) {
    violation("non-witness node " + std::to_string(n.id) + " got a metadata entry");
  }
  n.sm_hash = mix(n.sm_hash, entry_digest(e));
  ++n.sm_count;
  auto it = chain_.find(e.index);
  if (it == chain_.end()) {
    chain_[e.index] = n.sm_hash;
    committed_term_[e.index] = e.term;
  } else if (it->second != n.sm_hash) {
    violation("node " + std::to_string(n.id) + " applied a different history at index " +
              std::to_string(e.index));
  }
  auto p = n.proposals.find(e.key);
  if (e.key != 0 && p != n.proposals.end() && e.type == EntryType::kApplication) {
    n.proposals.erase(p);
    ++result_.stats.writes_acked;
    acked_max_ = std::max(acked_max_, e.index);
    last_ack_step_ = now_;
  }
}

void Simulation::on_config_change_applied(const ConfigChange& cc) {
  ++result_.stats.config_changes;
  log("config change applied: type=%d node=%llu", int(cc.type), (unsigned long long)cc.node_id);
  if (cc.initialize) return;
  switch (cc.type) {
    case ConfigChangeType::kAddNode:
      if (!nodes_.count(cc.node_id)) start_node(cc.node_id, true, false, false);
      break;
    case ConfigChangeType::kAddObserver:
      if (!nodes_.count(cc.node_id)) start_node(cc.node_id, true, true, false);
      break;
    case ConfigChangeType::kAddWitness:
      if (!nodes_.count(cc.node_id)) start_node(cc.node_id, true, false, true);
      break;
    case ConfigChangeType::kRemoveNode: {
      auto it = nodes_.find(cc.node_id);
      if (it != nodes_.end()) {
        // The operator stops a node once its removal is committed.
        it->second.removed = true;
        it->second.r.stop();
        log("node %llu removed and stopped", (unsigned long long)cc.node_id);
      }
      break;
    }
  }
}

// ---------------------------------------------------------- invariants --
void Simulation::on_became_leader(Node& n, uint64_t term) {
  ++result_.stats.leader_elections;
  log("node %llu became leader in term %llu", (unsigned long long)n.id, (unsigned long long)term);
  auto it = leaders_.find(term);
  if (it != leaders_.end() && it->second != n.id) {
    violation("two leaders in term " + std::to_string(term) + ": " + std::to_string(it->second) +
              " and " + std::to_string(n.id));
  }
  leaders_[term] = n.id;
  // Leader completeness (§5.4): every entry applied anywhere must be in
  // the new leader's log (or under its snapshot).
  const raft::RaftLog& lg = n.r.peer().raft().log();
  for (auto c = committed_term_.lower_bound(lg.first_index()); c != committed_term_.end(); ++c) {
    uint64_t t = 0;
    if (c->first > lg.last_index() || !lg.term(c->first, &t).ok() || t != c->second) {
      violation("leader " + std::to_string(n.id) + " of term " + std::to_string(term) +
                " lacks committed entry " + std::to_string(c->first));
      break;
    }
  }
}

void Simulation::check_log_matching(const Node& n, const std::vector<Entry>& ents) {
  // Log matching (§5.3): same index and term => same entry and same
  // preceding term (which by induction means identical prefixes).
  for (size_t i = 0; i < ents.size(); ++i) {
    const Entry& e = ents[i];
    uint64_t prev_term = 0;
    if (i > 0) {
      prev_term = ents[i - 1].term;
    } else if (e.index > 1) {
      dragonboat::Status s = n.r.log().term(e.index - 1, &prev_term);
      if (!s.ok()) prev_term = UINT64_MAX;  // below the snapshot: unknown
    }
    uint64_t digest = n.witness || e.type == EntryType::kMetadata ? 0 : entry_digest(e);
    auto key = std::make_pair(e.index, e.term);
    auto it = log_record_.find(key);
    if (it == log_record_.end()) {
      log_record_[key] = {digest, prev_term};
      continue;
    }
    auto& [d, pt] = it->second;
    if (digest != 0 && d != 0 && d != digest) {
      violation("two different entries at index " + std::to_string(e.index) + " term " +
                std::to_string(e.term));
    }
    if (d == 0) d = digest;
    if (prev_term != UINT64_MAX && pt != UINT64_MAX && prev_term != pt) {
      violation("log matching broken before index " + std::to_string(e.index));
    }
    if (pt == UINT64_MAX) pt = prev_term;
  }
}

void Simulation::check_step_invariants() {
  for (auto& [id, n] : nodes_) {
    if (!alive(n)) continue;
    uint64_t c = n.r.peer().raft().log().committed();
    if (c < n.last_commit) violation("commit index moved back on node " + std::to_string(id));
    n.last_commit = c;
    if (n.r.peer().is_leader()) {
      auto it = leaders_.find(n.r.peer().term());
      if (it != leaders_.end() && it->second != id) {
        violation("two leaders in term " + std::to_string(n.r.peer().term()));
      }
    }
  }
}

}  // namespace dragonboat::sim::detail
