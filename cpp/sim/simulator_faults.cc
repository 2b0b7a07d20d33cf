// sim/simulator_faults.cc — what the simulated group suffers and is asked to
// do: the network model (loss, duplication, bounded delay with reordering,
// partitioned links, with snapshot-status and unreachable feedback to the
// sender) and the workload and fault actions the chaos loop picks from:
// proposals, ReadIndex reads, membership changes (including ones that must be
// rejected), local snapshots with compaction, crashes and due restarts.
// (Ticks, leader transfers and cutting/healing partitions are inline in the
// chaos loop, simulator.cc.) Part of the Simulation declared in
// simulator_internal.h.
#include <algorithm>

#include "sim/simulator_internal.h"

namespace dragonboat::sim::detail {

using raft::ConfigChangeType;
using raft::MessageType;

// ------------------------------------------------------------ network --
bool Simulation::link_cut(uint64_t a, uint64_t b) const {
  if (partition_.empty()) return false;
  return partition_.count(a) != partition_.count(b);
}

void Simulation::send(const Message& m) {
  ++result_.stats.messages;
  if (link_cut(m.from, m.to) || rng_.real() < loss_) {
    ++result_.stats.dropped_messages;
    if (m.type == MessageType::kInstallSnapshot) snapshot_feedback(m, true);
    return;
  }
  int copies = rng_.real() < dup_ ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    uint64_t at = now_ + (max_delay_ ? rng_.uniform(max_delay_ + 1) : 0);
    net_.push_back(InFlight{at, seq_++, m});
  }
}

void Simulation::snapshot_feedback(const Message& m, bool failed) {
  auto it = nodes_.find(m.from);
  if (it == nodes_.end() || !alive(it->second)) return;
  it->second.r.peer().report_snapshot_status(m.to, failed);
}

void Simulation::deliver_due() {
  std::vector<InFlight> due, keep;
  for (auto& f : net_) (f.at <= now_ ? due : keep).push_back(std::move(f));
  net_.swap(keep);
  std::sort(due.begin(), due.end(), [](const InFlight& a, const InFlight& b) {
    return a.at != b.at ? a.at < b.at : a.seq < b.seq;
  });
  for (auto& f : due) {
    auto it = nodes_.find(f.m.to);
    bool ok = it != nodes_.end() && alive(it->second) && !link_cut(f.m.from, f.m.to);
    if (!ok) {
      ++result_.stats.dropped_messages;
      if (f.m.type == MessageType::kInstallSnapshot) snapshot_feedback(f.m, true);
      auto s = nodes_.find(f.m.from);
      if (s != nodes_.end() && alive(s->second) && rng_.uniform(4) == 0) {
        s->second.r.peer().report_unreachable(f.m.to);
      }
      continue;
    }
    if (f.m.type == MessageType::kInstallSnapshot) {
      ++result_.stats.snapshots_installed;
      snapshot_feedback(f.m, false);
    }
    (void)it->second.r.peer().step(f.m);
  }
}

// -------------------------------------------------------------- chaos --
Node* Simulation::random_alive(bool voters_only) {
  std::vector<Node*> c;
  for (auto& [id, n] : nodes_)
    if (alive(n) && (!voters_only || n.r.peer().membership().is_voter(n.id))) c.push_back(&n);
  if (c.empty()) return nullptr;
  return c[rng_.uniform(c.size())];
}

Node* Simulation::leader() {
  Node* best = nullptr;
  for (auto& [id, n] : nodes_) {
    if (alive(n) && n.r.peer().is_leader() && (!best || n.r.peer().term() > best->r.peer().term())) {
      best = &n;
    }
  }
  return best;
}

void Simulation::propose(Node& n) {
  uint64_t key = (n.id << 40) | ++key_seq_;
  Entry e;
  e.key = key;
  e.cmd = "w" + std::to_string(key_seq_);
  Status s = n.r.peer().propose({e});
  if (s.ok()) n.proposals[key] = now_;
  log("node %llu propose key %llu: %s", (unsigned long long)n.id, (unsigned long long)key,
      s.to_string().c_str());
}

void Simulation::read(Node& n) {
  ReadCtx ctx{n.id, ++read_seq_};
  if (n.r.peer().read_index(ctx).ok()) n.reads[ctx] = PendingRead{acked_max_, now_};
}

void Simulation::membership_change() {
  Node* l = leader();
  if (!l) return;
  const raft::Membership& m = l->r.peer().membership();
  ConfigChange cc;
  cc.config_change_id = m.config_change_id;
  // Occasionally quote a stale ID to exercise the ordered rejection.
  if (cfg_.ordered_config_change && rng_.uniform(10) == 0 && cc.config_change_id > 0) {
    cc.config_change_id--;
  }
  std::vector<uint64_t> voters;
  for (const auto& [id, a] : m.addresses) voters.push_back(id);
  switch (rng_.uniform(6)) {
    case 0:
      if (voters.size() >= 5) return;
      cc.type = ConfigChangeType::kAddNode;
      cc.node_id = next_id_++;
      break;
    case 1: {
      if (voters.size() <= 3) return;
      cc.type = ConfigChangeType::kRemoveNode;
      cc.node_id = voters[rng_.uniform(voters.size())];
      break;
    }
    case 2:
      if (m.observers.size() >= 2) return;
      cc.type = ConfigChangeType::kAddObserver;
      cc.node_id = next_id_++;
      break;
    case 3:
      if (m.observers.empty() || voters.size() >= 5) return;
      cc.type = ConfigChangeType::kAddNode;  // promote an observer
      cc.node_id = m.observers.begin()->first;
      break;
    case 4:
      if (!m.witnesses.empty() || voters.size() < 3 || voters.size() % 2 == 1) return;
      cc.type = ConfigChangeType::kAddWitness;
      cc.node_id = next_id_++;
      break;
    default:
      // A removed ID must never come back: try to re-add one.
      if (m.removed.empty()) return;
      cc.type = ConfigChangeType::kAddNode;
      cc.node_id = *m.removed.begin();
      break;
  }
  cc.address = addr(cc.node_id);
  (void)l->r.peer().propose_config_change(cc, (l->id << 40) | ++key_seq_);
  log("propose config change type=%d node=%llu", int(cc.type), (unsigned long long)cc.node_id);
}

void Simulation::take_snapshot(Node& n) {
  const raft::LogReader& r = n.r.log();
  uint64_t applied = n.r.applied();
  if (n.witness || applied == 0 || applied <= r.snapshot().index) return;
  if (applied > r.last_index()) return;
  Snapshot ss;
  ss.index = applied;
  if (!r.term(applied, &ss.term).ok()) return;
  ss.membership = n.r.peer().membership();
  ss.data = encode_sm(n.sm_hash, n.sm_count);
  Status s = n.r.storage().save_snapshot(ss);
  if (!s.ok()) violation("saving a snapshot failed: " + s.to_string());
  ++result_.stats.snapshots;
  uint64_t keep = rng_.uniform(20);
  if (ss.index > keep + r.first_index()) {
    s = n.r.storage().compact(ss.index - keep);
    if (!s.ok()) violation("compaction failed: " + s.to_string());
  }
  log("node %llu snapshot at %llu", (unsigned long long)n.id, (unsigned long long)ss.index);
}

void Simulation::crash(Node& n, const char* why) {
  ++result_.stats.crashes;
  Status s = n.r.crash();
  if (!s.ok()) violation("reopening storage failed: " + s.to_string());
  n.restart_at = now_ + 5 + rng_.uniform(60);
  log("node %llu crashed (%s)", (unsigned long long)n.id, why);
}

void Simulation::restart_due() {
  for (auto& [id, n] : nodes_) {
    if (!alive(n) && !n.removed && n.restart_at <= now_) launch(n);
  }
}

}  // namespace dragonboat::sim::detail
