#include "raft/peer.h"

namespace dragonboat::raft {

Status Peer::launch(const Config& config, const LogReader* reader, Random* random,
                    const std::map<uint64_t, std::string>& initial_members, bool join,
                    std::unique_ptr<Peer>* out) {
  Status s = config.validate();
  if (!s.ok()) return s;
  std::unique_ptr<Peer> p(new Peer(config, reader, random));
  HardState hs = reader->hard_state();
  Snapshot ss = reader->snapshot();
  bool fresh = reader->last_index() == 0 && ss.empty() && hs.empty();
  if (fresh) {
    if (join || initial_members.empty()) {
      p->raft_.load(Membership{}, hs);
    } else {
      if (initial_members.count(config.node_id) == 0) {
        return Status(ErrorCode::kInvalidClusterSettings,
                      "initial members do not include this node");
      }
      p->raft_.bootstrap(initial_members);
    }
  } else {
    Membership m;
    if (!ss.empty()) {
      m = ss.membership;
    } else {
      for (const auto& [id, addr] : initial_members) m.addresses[id] = addr;
    }
    p->raft_.load(m, hs);
  }
  // The bootstrap entries and state are new; report them in the first
  // Update. A restarted node's hard state is already persisted.
  p->prev_state_ = fresh ? HardState{} : hs;
  *out = std::move(p);
  return Status::OK();
}

Status Peer::step(const Message& m) {
  if (is_local_message(m.type)) {
    return Status(ErrorCode::kInvalidOperation, "local message type from the network");
  }
  return raft_.step(m);
}

Status Peer::propose_from(std::vector<Entry>* entries) {
  if (raft_.role() == Role::kWitness) {
    return Status(ErrorCode::kInvalidOperation, "proposals are not accepted by a witness");
  }
  if (raft_.rate_limited()) return Status(ErrorCode::kSystemBusy, "in-memory log size limit");
  return raft_.propose(entries);
}

Status Peer::propose_config_change(const ConfigChange& cc, uint64_t key) {
  Entry e;
  e.type = EntryType::kConfigChange;
  e.key = key;
  e.cmd = encode_config_change(cc);
  return propose({std::move(e)});
}

Status Peer::read_index(const ReadCtx& ctx) {
  if (raft_.role() == Role::kWitness) {
    return Status(ErrorCode::kInvalidOperation, "reads are not served by a witness");
  }
  if (ctx.low == 0 && ctx.high == 0) return Status(ErrorCode::kInvalidOperation, "empty read ctx");
  Message m;
  m.type = MessageType::kReadIndex;
  m.hint = ctx.low;
  m.hint_high = ctx.high;
  return raft_.step(m);
}

Status Peer::request_leader_transfer(uint64_t target) {
  if (target == kNoNode) return Status(ErrorCode::kInvalidTarget, "target node 0");
  if (!raft_.membership().is_voter(target)) {
    return Status(ErrorCode::kInvalidTarget, "leader transfer target is not a full voting member");
  }
  Message m;
  m.type = MessageType::kLeaderTransfer;
  m.hint = target;
  return raft_.step(m);
}

void Peer::report_unreachable(uint64_t node_id) {
  Message m;
  m.type = MessageType::kUnreachable;
  m.from = node_id;
  (void)raft_.step(m);
}

void Peer::report_snapshot_status(uint64_t node_id, bool failed) {
  Message m;
  m.type = MessageType::kSnapshotStatus;
  m.from = node_id;
  m.reject = failed;
  (void)raft_.step(m);
}

bool Peer::has_update(bool more_to_apply) const {
  const RaftLog& log = raft_.log();
  return !raft_.msgs.empty() || raft_.read_round_pending() || !log.unstable().entries().empty() ||
         log.unstable().has_snapshot() || raft_.hard_state() != prev_state_ ||
         !raft_.ready_to_reads.empty() || !raft_.dropped_entries.empty() ||
         !raft_.dropped_reads.empty() || (more_to_apply && log.has_entries_to_apply()) ||
         LeaderInfo{raft_.leader_id(), raft_.term()} != prev_leader_;
}

Update Peer::get_update(bool more_to_apply) {
  raft_.flush_read_round();
  Update u;
  u.cluster_id = raft_.cluster_id();
  u.node_id = raft_.id();
  HardState hs = raft_.hard_state();
  if (hs != prev_state_) u.state = hs;
  const RaftLog& log = raft_.log();
  u.entries_to_save = log.unstable().entries();
  if (log.unstable().has_snapshot()) u.snapshot = log.unstable().snapshot();
  u.messages.swap(raft_.msgs);
  if (more_to_apply) u.committed_entries = log.entries_to_apply(raft_.config().max_apply_bytes);
  u.ready_to_reads.swap(raft_.ready_to_reads);
  u.dropped_entries.swap(raft_.dropped_entries);
  u.dropped_read_indexes.swap(raft_.dropped_reads);
  LeaderInfo li{raft_.leader_id(), raft_.term()};
  u.leader = li;
  u.leader_changed = li != prev_leader_;
  u.must_sync = !u.entries_to_save.empty() || !u.snapshot.empty() ||
                (!u.state.empty() && (hs.term != prev_state_.term || hs.vote != prev_state_.vote));
  return u;
}

void Peer::commit_update(const Update& u) {
  if (!u.state.empty()) prev_state_ = u.state;
  if (!u.snapshot.empty()) raft_.on_snapshot_persisted(u.snapshot.index);
  if (!u.entries_to_save.empty()) {
    const Entry& last = u.entries_to_save.back();
    raft_.on_persisted(last.index, last.term);
  }
  if (!u.committed_entries.empty()) raft_.on_processed(u.committed_entries.back().index);
  prev_leader_ = u.leader;
}

}  // namespace dragonboat::raft
