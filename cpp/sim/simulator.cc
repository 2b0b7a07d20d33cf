#include "sim/simulator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "logdb/logdb.h"
#include "raft/peer.h"
#include "sim/storage.h"

namespace dragonboat::sim {
namespace {

using raft::ConfigChange;
using raft::ConfigChangeType;
using raft::Entry;
using raft::EntryType;
using raft::Message;
using raft::MessageType;
using raft::Peer;
using raft::ReadCtx;
using raft::SeededRandom;
using raft::Snapshot;

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
  return mix(mix(mix(mix(hash_str(e.cmd), e.term), e.index), static_cast<uint64_t>(e.type)), e.key);
}

std::string encode_sm(uint64_t hash, uint64_t count) {
  std::string s(16, '\0');
  for (int i = 0; i < 8; ++i) {
    s[i] = static_cast<char>(hash >> (8 * i));
    s[8 + i] = static_cast<char>(count >> (8 * i));
  }
  return s;
}
void decode_sm(const std::string& s, uint64_t* hash, uint64_t* count) {
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
  std::unique_ptr<Storage> storage;  // what survives a crash
  std::unique_ptr<SeededRandom> rng;
  std::unique_ptr<Peer> peer;  // null while crashed or after removal
  bool removed = false;
  uint64_t restart_at = 0;
  // Volatile state machine: a hash chain over applied entries.
  uint64_t applied = 0;
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
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed * 7919 + 17) {
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

  SimResult run() {
    log("settings: %s", result_.settings.c_str());
    for (now_ = 1; now_ <= opt_.steps && result_.violations.empty(); ++now_) {
      chaos_step();
    }
    if (result_.violations.empty()) heal_and_check_liveness();
    result_.stats.steps = now_;
    return result_;
  }

 private:
  static std::string addr(uint64_t id) { return "node-" + std::to_string(id); }

  template <typename... Args>
  void log(const char* fmt, Args... args) {
    if (!opt_.verbose) return;
    std::printf("[%6llu] ", (unsigned long long)now_);
    std::printf(fmt, args...);
    std::printf("\n");
  }

  void violation(const std::string& what) {
    std::ostringstream s;
    s << "seed " << opt_.seed << " step " << now_ << ": " << what;
    if (result_.violations.size() < 10) result_.violations.push_back(s.str());
    log("VIOLATION %s", what.c_str());
  }

  raft::Config node_config(const Node& n) const {
    raft::Config c = cfg_;
    c.node_id = n.id;
    c.cluster_id = 1;
    c.is_observer = n.observer;
    c.is_witness = n.witness;
    return c;
  }

  void start_node(uint64_t id, bool join, bool observer, bool witness) {
    auto& n = nodes_[id];
    n.id = id;
    n.join = join;
    n.observer = observer;
    n.witness = witness;
    n.rng = std::make_unique<SeededRandom>(rng_.next());
    n.storage = logdb_ ? new_logdb_storage(logdb_.get(), 1, id) : new_memory_storage();
    launch(n);
  }

  void launch(Node& n) {
    Status s = Peer::launch(node_config(n), &n.storage->reader(), n.rng.get(), n.join ? decltype(initial_){} : initial_,
                            n.join, &n.peer);
    if (!s.ok()) {
      violation("launch failed: " + s.to_string());
      return;
    }
    n.applied = 0;
    n.sm_hash = 0;
    n.sm_count = 0;
    n.last_commit = 0;
    n.reads.clear();
    n.confirmed.clear();
    n.proposals.clear();
    Snapshot ss = n.storage->reader().snapshot();
    if (!ss.empty()) restore_sm(n, ss);
    log("node %llu started (join=%d observer=%d witness=%d) last=%llu", (unsigned long long)n.id,
        n.join, n.observer, n.witness, (unsigned long long)n.storage->reader().last_index());
  }

  void restore_sm(Node& n, const Snapshot& ss) {
    n.applied = ss.index;
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

  bool alive(const Node& n) const { return n.peer != nullptr; }

  // ------------------------------------------------------------ network --
  bool link_cut(uint64_t a, uint64_t b) const {
    if (partition_.empty()) return false;
    return partition_.count(a) != partition_.count(b);
  }

  void send(const Message& m) {
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

  void snapshot_feedback(const Message& m, bool failed) {
    auto it = nodes_.find(m.from);
    if (it == nodes_.end() || !alive(it->second)) return;
    it->second.peer->report_snapshot_status(m.to, failed);
  }

  void deliver_due() {
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
          s->second.peer->report_unreachable(f.m.to);
        }
        continue;
      }
      if (f.m.type == MessageType::kInstallSnapshot) {
        ++result_.stats.snapshots_installed;
        snapshot_feedback(f.m, false);
      }
      (void)it->second.peer->step(f.m);
    }
  }

  // ------------------------------------------------------------ updates --
  void process_all() {
    for (int round = 0; round < 100; ++round) {
      bool any = false;
      for (auto& [id, n] : nodes_) {
        if (!alive(n) || !n.peer->has_update(true)) continue;
        any = true;
        process_update(n);
      }
      if (!any) return;
    }
  }

  void process_update(Node& n) {
    raft::Update u = n.peer->get_update(true);
    if (u.leader_changed && u.leader.leader_id == n.id) on_became_leader(n, u.leader.term);
    // Thesis §10.2.1: the leader's Replicates go out before its own persist.
    for (const auto& m : u.messages)
      if (raft::can_send_before_persist(m)) send(m);
    // Sometimes crash right here: sent, not persisted.
    if (!healing_ && !u.entries_to_save.empty() && rng_.uniform(400) == 0) {
      crash(n, "between send and persist");
      return;
    }
    if (!u.state.empty() && u.state.commit < n.storage->reader().hard_state().commit) {
      violation("persisted commit moved back on node " + std::to_string(n.id));
    }
    Status ps = n.storage->persist(u);
    if (!ps.ok()) violation("persist failed on node " + std::to_string(n.id) + ": " + ps.to_string());
    if (!u.snapshot.empty()) restore_sm(n, u.snapshot);
    check_log_matching(n, u.entries_to_save);
    for (const auto& m : u.messages)
      if (!raft::can_send_before_persist(m)) send(m);
    for (const auto& e : u.committed_entries) {
      apply(n, e);
      if (!alive(n)) return;  // removed itself
    }
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
      if (n.applied >= c.first.index) {
        ++result_.stats.reads_confirmed;
      } else {
        rest.push_back(c);
      }
    }
    n.confirmed.swap(rest);
    n.peer->commit_update(u);
  }

  void apply(Node& n, const Entry& e) {
    if (e.index != n.applied + 1) {
      violation("node " + std::to_string(n.id) + " applies " + std::to_string(e.index) +
                " after " + std::to_string(n.applied));
    }
    n.applied = e.index;
    if (e.type == EntryType::kConfigChange) {
      ConfigChange cc;
      if (!raft::decode_config_change(e.cmd, &cc)) {
        violation("undecodable config change");
        return;
      }
      Status s = n.peer->apply_config_change(cc, e.index);
      auto rec = cc_outcome_.find(e.index);
      if (rec == cc_outcome_.end()) {
        cc_outcome_[e.index] = s.ok();
        if (s.ok()) on_config_change_applied(cc);
      } else if (rec->second != s.ok()) {
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
    if (n.removed) return;
  }

  void on_config_change_applied(const ConfigChange& cc) {
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
          it->second.peer.reset();
          log("node %llu removed and stopped", (unsigned long long)cc.node_id);
        }
        break;
      }
    }
  }

  // ---------------------------------------------------------- invariants --
  void on_became_leader(Node& n, uint64_t term) {
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
    const raft::RaftLog& lg = n.peer->raft().log();
    for (auto c = committed_term_.lower_bound(lg.first_index()); c != committed_term_.end(); ++c) {
      uint64_t t = 0;
      if (c->first > lg.last_index() || !lg.term(c->first, &t).ok() || t != c->second) {
        violation("leader " + std::to_string(n.id) + " of term " + std::to_string(term) +
                  " lacks committed entry " + std::to_string(c->first));
        break;
      }
    }
  }

  void check_log_matching(const Node& n, const std::vector<Entry>& ents) {
    // Log matching (§5.3): same index and term => same entry and same
    // preceding term (which by induction means identical prefixes).
    for (size_t i = 0; i < ents.size(); ++i) {
      const Entry& e = ents[i];
      uint64_t prev_term = 0;
      if (i > 0) {
        prev_term = ents[i - 1].term;
      } else if (e.index > 1) {
        dragonboat::Status s = n.storage->reader().term(e.index - 1, &prev_term);
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

  void check_step_invariants() {
    for (auto& [id, n] : nodes_) {
      if (!alive(n)) continue;
      uint64_t c = n.peer->raft().log().committed();
      if (c < n.last_commit) violation("commit index moved back on node " + std::to_string(id));
      n.last_commit = c;
      if (n.peer->is_leader()) {
        auto it = leaders_.find(n.peer->term());
        if (it != leaders_.end() && it->second != id) {
          violation("two leaders in term " + std::to_string(n.peer->term()));
        }
      }
    }
  }

  // -------------------------------------------------------------- chaos --
  Node* random_alive(bool voters_only = false) {
    std::vector<Node*> c;
    for (auto& [id, n] : nodes_)
      if (alive(n) && (!voters_only || n.peer->membership().is_voter(n.id))) c.push_back(&n);
    if (c.empty()) return nullptr;
    return c[rng_.uniform(c.size())];
  }

  Node* leader() {
    Node* best = nullptr;
    for (auto& [id, n] : nodes_)
      if (alive(n) && n.peer->is_leader() && (!best || n.peer->term() > best->peer->term())) best = &n;
    return best;
  }

  void propose(Node& n) {
    uint64_t key = (n.id << 40) | ++key_seq_;
    Entry e;
    e.key = key;
    e.cmd = "w" + std::to_string(key_seq_);
    Status s = n.peer->propose({e});
    if (s.ok()) n.proposals[key] = now_;
    log("node %llu propose key %llu: %s", (unsigned long long)n.id, (unsigned long long)key,
        s.to_string().c_str());
  }

  void read(Node& n) {
    ReadCtx ctx{n.id, ++read_seq_};
    if (n.peer->read_index(ctx).ok()) n.reads[ctx] = PendingRead{acked_max_, now_};
  }

  void membership_change() {
    Node* l = leader();
    if (!l) return;
    const raft::Membership& m = l->peer->membership();
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
    (void)l->peer->propose_config_change(cc, (l->id << 40) | ++key_seq_);
    log("propose config change type=%d node=%llu", int(cc.type), (unsigned long long)cc.node_id);
  }

  void take_snapshot(Node& n) {
    const raft::LogReader& r = n.storage->reader();
    if (n.witness || n.applied == 0 || n.applied <= r.snapshot().index) return;
    if (n.applied > r.last_index()) return;
    Snapshot ss;
    ss.index = n.applied;
    if (!r.term(n.applied, &ss.term).ok()) return;
    ss.membership = n.peer->membership();
    ss.data = encode_sm(n.sm_hash, n.sm_count);
    Status s = n.storage->save_snapshot(ss);
    if (!s.ok()) violation("saving a snapshot failed: " + s.to_string());
    ++result_.stats.snapshots;
    uint64_t keep = rng_.uniform(20);
    if (ss.index > keep + r.first_index()) {
      s = n.storage->compact(ss.index - keep);
      if (!s.ok()) violation("compaction failed: " + s.to_string());
    }
    log("node %llu snapshot at %llu", (unsigned long long)n.id, (unsigned long long)ss.index);
  }

  void crash(Node& n, const char* why) {
    ++result_.stats.crashes;
    n.peer.reset();
    Status s = n.storage->crash();
    if (!s.ok()) violation("reopening storage failed: " + s.to_string());
    n.restart_at = now_ + 5 + rng_.uniform(60);
    log("node %llu crashed (%s)", (unsigned long long)n.id, why);
  }

  void restart_due() {
    for (auto& [id, n] : nodes_) {
      if (!alive(n) && !n.removed && n.restart_at <= now_) launch(n);
    }
  }

  void chaos_step() {
    deliver_due();
    process_all();
    restart_due();
    uint64_t r = rng_.uniform(1000);
    if (r < 500) {
      for (auto& [id, n] : nodes_)
        if (alive(n)) n.peer->tick();
    } else if (r < 720) {
      if (Node* n = random_alive()) propose(*n);
    } else if (r < 840) {
      if (Node* n = random_alive()) read(*n);
    } else if (r < 860) {
      if (Node* l = leader()) {
        const auto& m = l->peer->membership();
        auto it = m.addresses.begin();
        std::advance(it, rng_.uniform(m.addresses.size()));
        ++result_.stats.transfers;
        (void)l->peer->request_leader_transfer(it->first);
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

  void heal_and_check_liveness() {
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
        if (alive(n)) n.peer->tick();
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
          if (alive(n) && n.applied < marker_index) all = false;
        if (all) return;
      }
    }
    violation("no progress within " + std::to_string(limit) + " ticks after the faults healed");
    dump();
  }

  void dump() {
    for (auto& [id, n] : nodes_) {
      if (!alive(n)) {
        log("node %llu: down (removed=%d)", (unsigned long long)id, n.removed);
        continue;
      }
      const raft::Raft& r = n.peer->raft();
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
          (unsigned long long)n.applied, r.quiesced(), n.peer->rate_limited(), (unsigned long long)r.in_mem_log_bytes(), members.c_str());
      for (const auto& [pid, pr] : r.progress()) {
        log("    -> %llu %s match=%llu next=%llu paused=%d", (unsigned long long)pid,
            raft::progress_state_name(pr.state()), (unsigned long long)pr.match(),
            (unsigned long long)pr.next(), pr.is_paused());
      }
    }
  }

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

}  // namespace

SimResult run_simulation(const SimOptions& options) { return Simulation(options).run(); }

std::string replay_command(uint64_t seed, uint64_t steps) {
  return "build/dev/dragonboat-sim --seed " + std::to_string(seed) + " --steps " +
         std::to_string(steps) + " --verbose";
}

}  // namespace dragonboat::sim
