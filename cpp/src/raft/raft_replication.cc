// Log replication (§5.3), commitment (§5.4.2), heartbeats, snapshots sent to
// lagging followers (§7) and the flow-control feedback from the transport.
#include <algorithm>

#include "raft/quorum.h"
#include "raft/raft.h"

namespace dragonboat::raft {

void Raft::append_entries(std::vector<Entry>&& ents) {
  uint64_t index = log_.last_index();
  std::vector<uint64_t> sizes;
  sizes.reserve(ents.size());
  for (auto& e : ents) {
    e.term = term_;
    e.index = ++index;
    sizes.push_back(e.size_bytes());
  }
  if (ents.empty()) return;
  rate_limiter_.on_append(ents.front().index, sizes.data(), sizes.size());
  log_.append(std::move(ents));
  // Our own match advances only once the caller persisted these entries
  // (on_persisted): the leader counts toward commit after its own fsync.
}

void Raft::handle_propose(const Message& m) {
  std::vector<Entry> ents = m.entries;  // forwarded by a follower
  propose_entries(ents);
}

Status Raft::propose(std::vector<Entry>* entries) {
  if (role_ != Role::kLeader) {
    // Forwarded or dropped as any kPropose: not the hot path.
    Message m;
    m.type = MessageType::kPropose;
    m.entries = std::move(*entries);
    entries->clear();
    return step(m);
  }
  note_activity(MessageType::kPropose);
  propose_entries(*entries);
  entries->clear();
  check_invariants();
  return Status::OK();
}

void Raft::propose_entries(std::vector<Entry>& ents) {
  if (transfer_target_ != kNoNode) {
    // Thesis §3.10: no new entries while handing over leadership.
    for (const auto& e : ents) dropped_entries.push_back(e.key);
    return;
  }
  // Refused membership changes are dropped in place (the rest keep order).
  size_t kept = 0;
  for (size_t i = 0; i < ents.size(); ++i) {
    if (ents[i].type == EntryType::kConfigChange) {
      // One membership change at a time: the previous one must be applied
      // (this also refuses a second change within the same batch, whose
      // pending index lies beyond processed).
      if (pending_cc_index_ > log_.processed()) {
        dropped_entries.push_back(ents[i].key);
        continue;
      }
      pending_cc_index_ = log_.last_index() + kept + 1;
    }
    if (kept != i) ents[kept] = std::move(ents[i]);
    ++kept;
  }
  ents.resize(kept);
  if (ents.empty()) return;
  append_entries(std::move(ents));
  broadcast_replicate();
}

bool Raft::send_replicate(uint64_t to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return false;
  Progress& pr = it->second;
  if (pr.is_paused()) return false;
  uint64_t prev = pr.next() - 1;
  uint64_t prev_term = 0;
  std::vector<Entry> ents;
  if (!log_.term(prev, &prev_term).ok() ||
      !log_.entries_from(pr.next(), cfg_.max_replicate_bytes, &ents).ok()) {
    // The follower needs entries we compacted away (§7).
    send_snapshot(to);
    return false;
  }
  if (ents.empty() && !send_if_empty) return false;
  if (membership_.is_witness(to)) {
    // Witnesses keep index and term only; config changes stay whole so the
    // witness knows the membership.
    for (auto& e : ents) {
      if (e.type == EntryType::kConfigChange) continue;
      Entry meta;
      meta.index = e.index;
      meta.term = e.term;
      meta.type = EntryType::kMetadata;
      e = std::move(meta);
    }
  }
  Message m;
  m.type = MessageType::kReplicate;
  m.to = to;
  m.log_index = prev;
  m.log_term = prev_term;
  m.commit = log_.committed();
  if (!ents.empty()) {
    uint64_t last = ents.back().index;
    if (pr.state() == Progress::State::kReplicate) {
      pr.optimistic_update(last);  // pipelining
    } else {
      pr.probe_sent();
    }
  } else if (pr.state() == Progress::State::kProbe) {
    pr.probe_sent();
  }
  m.entries = std::move(ents);
  send(std::move(m));
  return true;
}

void Raft::send_snapshot(uint64_t to) {
  Progress& pr = progress_.at(to);
  Snapshot ss = log_.snapshot();
  if (ss.empty()) return;  // nothing to send yet; retried on the next probe
  if (membership_.is_witness(to)) {
    // A witness gets the membership only.
    Snapshot w;
    w.index = ss.index;
    w.term = ss.term;
    w.membership = ss.membership;
    w.witness = true;
    ss = std::move(w);
  }
  pr.become_snapshot(ss.index);
  Message m;
  m.type = MessageType::kInstallSnapshot;
  m.to = to;
  m.snapshot = std::move(ss);
  send(std::move(m));
}

void Raft::broadcast_replicate() {
  for (auto& [pid, pr] : progress_) send_replicate(pid, true);
}

void Raft::send_heartbeat(uint64_t to, const ReadCtx& ctx) {
  const Progress& pr = progress_.at(to);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never tell a follower to commit beyond what it is known to hold.
  m.commit = std::min(pr.match(), log_.committed());
  m.hint = ctx.low;
  m.hint_high = ctx.high;
  send(std::move(m));
}

void Raft::broadcast_heartbeat() {
  ReadCtx ctx = read_index_.has_pending() ? read_index_.last_ctx() : ReadCtx{};
  for (const auto& [pid, pr] : progress_) send_heartbeat(pid, ctx);
}

bool Raft::try_commit() {
  std::vector<uint64_t> matches;
  for (uint64_t v : voting_members()) {
    if (v == id()) {
      matches.push_back(self_progress_.match());
    } else {
      auto it = progress_.find(v);
      matches.push_back(it == progress_.end() ? 0 : it->second.match());
    }
  }
  if (matches.empty()) return false;
  // §5.4.2: only an entry of the current term is committed by counting
  // replicas; earlier entries are committed with it.
  bool was_current = committed_in_current_term();
  if (!log_.try_commit(majority_index(matches), term_)) return false;
  if (!was_current) release_deferred_reads();
  return true;
}

void Raft::handle_replicate(const Message& m) {
  Message r;
  r.type = MessageType::kReplicateResp;
  r.to = m.from;
  if (m.log_index < log_.committed()) {
    // Everything up to commit is known to match the leader already.
    r.log_index = log_.committed();
    send(std::move(r));
    return;
  }
  uint64_t last_new = 0;
  if (log_.try_append(m.log_index, m.log_term, m.commit, m.entries, &last_new)) {
    if (rate_limiter_.enabled() && !m.entries.empty()) {
      std::vector<uint64_t> sizes;
      for (const auto& e : m.entries) sizes.push_back(e.size_bytes());
      rate_limiter_.on_append(m.entries.front().index, sizes.data(), sizes.size());
    }
    r.log_index = last_new;
  } else {
    // Fast backtracking: suggest the last index whose term is <= the
    // leader's term at the probe point, so a whole term is skipped at once.
    uint64_t hint = log_.find_conflict_by_term(std::min(m.log_index, log_.last_index()), m.log_term);
    r.reject = true;
    r.log_index = m.log_index;
    r.hint = hint;
    r.log_term = log_.term_or_zero(hint);
  }
  send(std::move(r));
}

Progress* Raft::progress_of(uint64_t id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

Progress* Raft::responder(const Message& m) {
  Progress* pr = progress_of(m.from);
  if (pr != nullptr) pr->set_active(true);
  return pr;
}

void Raft::handle_replicate_resp(const Message& m) {
  Progress* pr = responder(m);
  if (pr == nullptr) return;
  if (m.reject) {
    uint64_t next_probe = m.hint;
    if (m.log_term > 0) next_probe = log_.find_conflict_by_term(m.hint, m.log_term);
    if (pr->maybe_decrease(m.log_index, next_probe)) {
      if (pr->state() == Progress::State::kReplicate) pr->become_probe();
      send_replicate(m.from, true);
    }
    return;
  }
  bool was_paused = pr->is_paused();
  if (!pr->maybe_update(m.log_index)) return;  // stale or duplicate ack
  switch (pr->state()) {
    case Progress::State::kProbe:
      pr->become_replicate();
      break;
    case Progress::State::kSnapshot:
      if (pr->match() >= pr->snapshot_index()) pr->become_replicate();
      break;
    case Progress::State::kReplicate:
      pr->free_inflights_to(m.log_index);
      break;
  }
  if (try_commit()) {
    broadcast_replicate();
  } else if (was_paused) {
    send_replicate(m.from, false);
  }
  // Keep the pipeline full while there is more to send.
  for (int i = 0; i < 4 && send_replicate(m.from, false); ++i) {
  }
  if (m.from == transfer_target_ && pr->match() == log_.last_index()) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = m.from;
    send(std::move(t));
  }
}

void Raft::handle_leader_message(const Message& m) {
  switch (m.type) {
    case MessageType::kReplicate: handle_replicate(m); break;
    case MessageType::kHeartbeat: handle_heartbeat(m); break;
    case MessageType::kInstallSnapshot: handle_install_snapshot(m); break;
    default: break;
  }
}

void Raft::handle_heartbeat(const Message& m) {
  log_.commit_to(std::min(m.commit, log_.last_index()));
  if (m.answered) return;  // the engine already replied, on arrival
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.hint = m.hint;
  r.hint_high = m.hint_high;
  send(std::move(r));
}

void Raft::handle_heartbeat_resp(const Message& m) {
  Progress* pr = responder(m);
  if (pr == nullptr) return;
  pr->resume();
  // A pipeline that is still full a heartbeat later is usually a follower
  // whose disk is behind, not lost messages (a broken connection is reported
  // as kUnreachable and falls back to probing; a gap is rejected). Free ONE
  // slot so replication keeps moving if a reply was lost, rather than
  // probing from the match: that would send the whole pipeline again,
  // megabytes to a follower that is slow because it is saturated (thesis
  // §10.2.2 pipelining; etcd/raft frees one slot the same way).
  if (pr->state() == Progress::State::kReplicate && pr->inflights_full()) pr->free_first_inflight();
  if (pr->match() < log_.last_index()) send_replicate(m.from, true);
  ReadCtx ctx{m.hint, m.hint_high};
  if ((ctx.low == 0 && ctx.high == 0) || !is_voting(m.from)) return;
  for (const auto& req : read_index_.confirm(ctx, m.from, id(), quorum_size(voting_count()))) {
    answer_read(req.from, req.ctx, req.index);
  }
}

void Raft::handle_install_snapshot(const Message& m) {
  const Snapshot& ss = m.snapshot;
  Message r;
  r.type = MessageType::kReplicateResp;
  r.to = m.from;
  if (ss.index <= log_.committed()) {
    r.log_index = log_.committed();
  } else if (log_.match_term(ss.index, ss.term)) {
    // We already hold the snapshot's last entry: just fast-forward commit.
    log_.commit_to(ss.index);
    r.log_index = ss.index;
  } else {
    log_.restore(ss);
    restore_membership(ss.membership);
    rate_limiter_.reset(ss.index + 1);
    role_ = follower_role();
    r.log_index = ss.index;
  }
  send(std::move(r));
}

void Raft::handle_snapshot_status(const Message& m) {
  Progress* pr = progress_of(m.from);
  if (pr == nullptr) return;
  // A failed send is retried from the next heartbeat reply (Progress::snapshot_done).
  pr->snapshot_done(m.reject);
}

void Raft::handle_unreachable(const Message& m) {
  Progress* pr = progress_of(m.from);
  if (pr == nullptr) return;
  // Optimistic pipelining into a dead connection would only lose entries:
  // fall back to probing.
  if (pr->state() == Progress::State::kReplicate) pr->become_probe();
}

void Raft::on_persisted(uint64_t index, uint64_t t) {
  log_.stable_to(index, t);
  if (role_ == Role::kLeader && log_.match_term(index, t) && self_progress_.maybe_update(index)) {
    if (try_commit()) broadcast_replicate();
  }
}

void Raft::on_snapshot_persisted(uint64_t index) {
  log_.stable_snapshot_to(index);
  if (role_ == Role::kLeader) self_progress_.maybe_update(index);
}

void Raft::on_processed(uint64_t index) {
  log_.processed_to(index);
  rate_limiter_.on_applied(index);
}

}  // namespace dragonboat::raft
