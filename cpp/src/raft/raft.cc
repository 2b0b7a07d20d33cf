// Roles, ticks, quiesce and the term rules of step() (§5.1, thesis §9.6).
#include "raft/raft.h"

#include <algorithm>
#include <string>

#include "dragonboat/panic.h"

namespace dragonboat::raft {

Raft::Raft(const Config& config, const LogReader* reader, Random* random)
    : cfg_(config), random_(random), log_(reader), rate_limiter_(config.max_in_mem_log_size) {
  rate_limiter_.set_expiry(config.election_rtt * 3);
  rate_limiter_.reset(log_.processed() + 1);
  reset_randomized_timeout();
}

void Raft::load(const Membership& membership, const HardState& state) {
  restore_membership(membership);
  term_ = state.term;
  vote_ = state.vote;
  if (state.commit > log_.committed()) {
    // Persisted commit may exceed the persisted log only if storage is
    // broken; clamp rather than trust it (the log is the authority).
    log_.commit_to(std::min(state.commit, log_.last_index()));
  }
  become_follower(term_, kNoNode);  // keeps the vote: the term is unchanged
}

void Raft::bootstrap(const std::map<uint64_t, std::string>& initial_members) {
  // The initial members become committed config-change entries at term 1, so
  // that a node joining later learns them by replication like any change.
  std::vector<Entry> ents;
  uint64_t index = log_.last_index();
  Membership m;
  for (const auto& [id, addr] : initial_members) {
    ConfigChange cc;
    cc.type = ConfigChangeType::kAddNode;
    cc.node_id = id;
    cc.address = addr;
    cc.initialize = true;
    Entry e;
    e.term = 1;
    e.index = ++index;
    e.type = EntryType::kConfigChange;
    e.cmd = encode_config_change(cc);
    ents.push_back(std::move(e));
    m.addresses[id] = addr;
  }
  m.config_change_id = index;
  std::vector<uint64_t> sizes;
  for (const auto& e : ents) sizes.push_back(e.size_bytes());
  const uint64_t first = ents.empty() ? 1 : ents.front().index;
  log_.append(std::move(ents));
  log_.commit_to(index);
  rate_limiter_.on_append(first, sizes.data(), sizes.size());
  restore_membership(m);
  if (term_ < 1) term_ = 1;
  become_follower(term_, kNoNode);
}

void Raft::reset_randomized_timeout() {
  randomized_timeout_ = cfg_.election_rtt + random_->uniform(cfg_.election_rtt);
}

void Raft::reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_tick_ = 0;
  heartbeat_tick_ = 0;
  reset_randomized_timeout();
  votes_.clear();
  abort_leader_transfer();
  rate_limiter_.clear_followers();
  drop_pending_reads();
  read_round_pending_ = false;
  uint64_t last = log_.last_index();
  for (auto& [id, pr] : progress_) {
    pr = Progress(last + 1, cfg_.max_inflight);
  }
  self_progress_ = Progress(last + 1, cfg_.max_inflight);
}

Role Raft::follower_role() const {
  if (membership_.is_observer(id())) return Role::kObserver;
  if (membership_.is_witness(id())) return Role::kWitness;
  if (membership_.is_voter(id())) return Role::kFollower;
  if (cfg_.is_observer) return Role::kObserver;
  if (cfg_.is_witness) return Role::kWitness;
  return Role::kFollower;
}

void Raft::become_follower(uint64_t term, uint64_t leader) {
  reset(term);
  leader_ = leader;
  role_ = follower_role();
}

void Raft::become_pre_candidate() {
  // Pre-vote does not touch term or vote (thesis §9.6).
  votes_.clear();
  leader_ = kNoNode;
  role_ = Role::kPreCandidate;
  election_tick_ = 0;
  reset_randomized_timeout();
}

void Raft::become_candidate() {
  reset(term_ + 1);
  vote_ = id();
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  reset(term_);
  leader_ = id();
  role_ = Role::kLeader;
  // Entries persisted locally count toward our own match; unstable ones
  // count once the caller persists them (on_persisted).
  uint64_t persisted = log_.unstable().has_snapshot() ? 0 : log_.unstable().offset() - 1;
  self_progress_.maybe_update(persisted);
  for (auto& [pid, pr] : progress_) pr.set_active(true);
  // A config change may hide in the uncommitted tail; allow the next one
  // only once everything up to here is applied.
  pending_cc_index_ = log_.last_index();
  // §5.4.2 / §8: commit an entry of our own term first (a no-op).
  Entry noop;
  append_entries({noop});
  broadcast_replicate();
}

void Raft::send(Message m) {
  m.from = id();
  m.cluster_id = cfg_.cluster_id;
  if (m.term == 0 && m.type != MessageType::kPropose && m.type != MessageType::kReadIndex &&
      m.type != MessageType::kLeaderTransfer) {
    m.term = term_;
  }
  msgs.push_back(std::move(m));
}

uint64_t Raft::voting_count() const {
  return membership_.addresses.size() + membership_.witnesses.size();
}

std::vector<uint64_t> Raft::voting_members() const {
  std::vector<uint64_t> out;
  for (const auto& [nid, a] : membership_.addresses) out.push_back(nid);
  for (const auto& [nid, a] : membership_.witnesses) out.push_back(nid);
  return out;
}

bool Raft::is_voting(uint64_t nid) const {
  return membership_.is_voter(nid) || membership_.is_witness(nid);
}

// ---------------------------------------------------------------- ticks ----

void Raft::check_invariants() const {
#ifndef NDEBUG
  auto fail = [this](const char* what) {
    panic("raft invariant broken on node " + std::to_string(id()) + ": " + what);
  };
  // Invariant: first_index - 1 <= processed <= committed <= last_index.
  if (log_.processed() > log_.committed()) fail("processed > committed");
  if (log_.committed() > log_.last_index()) fail("committed > last index");
  if (log_.processed() + 1 < log_.first_index()) fail("processed below the log start");
  // Only a leader leads, and it knows it.
  if ((role_ == Role::kLeader) != (leader_ == id())) fail("leader id disagrees with role");
  if (role_ == Role::kCandidate && vote_ != id()) fail("candidate did not vote for itself");
  if (role_ == Role::kLeader) {
    if (self_progress_.match() > log_.last_index()) fail("self match beyond last index");
    for (const auto& [pid, pr] : progress_) {
      if (pr.match() > log_.last_index()) fail("follower match beyond our last index");
      if (pr.next() <= pr.match()) fail("next <= match");
    }
  }
#endif
}

void Raft::tick() {
  tick_impl();
  check_invariants();
}

Status Raft::step(const Message& m) {
  Status s = step_impl(m);
  check_invariants();
  return s;
}

void Raft::tick_impl() {
  rate_limiter_.tick();
  if (cfg_.quiesce_ticks > 0) {
    if (quiesced_) return;  // quiesced groups keep no timers at all
    // Only the leader decides that the group is idle; followers quiesce
    // when it tells them (kQuiesce). A follower never stops its election
    // timer on its own, so a woken follower whose leader died campaigns.
    if (role_ != Role::kLeader) idle_ticks_ = 0;
    if (++idle_ticks_ > cfg_.quiesce_ticks) {
      enter_quiesce();
      return;
    }
  }
  if (role_ == Role::kLeader) {
    tick_leader();
  } else {
    tick_follower();
  }
}

void Raft::tick_follower() {
  ++election_tick_;
  if (rate_limiter_.enabled() && leader_ != kNoNode && leader_ != id() &&
      ++rate_report_tick_ >= cfg_.heartbeat_rtt) {
    rate_report_tick_ = 0;
    Message m;
    m.type = MessageType::kRateLimit;
    m.to = leader_;
    m.hint = rate_limiter_.own_bytes();
    send(std::move(m));
  }
  // The timeout first: can_campaign() reads the committed but unapplied
  // entries (a copy), which a busy follower holds thousands of every tick.
  if (election_tick_ >= randomized_timeout_ && can_campaign()) {
    election_tick_ = 0;
    Message m;
    m.type = MessageType::kElection;
    (void)step(m);
  }
}

void Raft::tick_leader() {
  ++heartbeat_tick_;
  ++election_tick_;
  if (election_tick_ >= cfg_.election_rtt) {
    election_tick_ = 0;
    if (cfg_.check_quorum) {
      Message m;
      m.type = MessageType::kCheckQuorum;
      (void)step(m);
      if (role_ != Role::kLeader) return;
    }
    // Thesis §3.10: a transfer that did not finish within an election
    // timeout is abandoned and proposals are accepted again.
    if (transfer_target_ != kNoNode) abort_leader_transfer();
  }
  if (heartbeat_tick_ >= cfg_.heartbeat_rtt) {
    heartbeat_tick_ = 0;
    Message m;
    m.type = MessageType::kLeaderHeartbeat;
    (void)step(m);
  }
}

void Raft::enter_quiesce() {
  quiesced_ = true;
  if (role_ == Role::kLeader) {
    for (const auto& [pid, pr] : progress_) {
      Message m;
      m.type = MessageType::kQuiesce;
      m.to = pid;
      send(std::move(m));
    }
  }
}

void Raft::note_activity(MessageType t) {
  if (cfg_.quiesce_ticks == 0) return;
  switch (t) {
    case MessageType::kHeartbeat:
    case MessageType::kHeartbeatResp:
    case MessageType::kQuiesce:
    case MessageType::kRateLimit:
    case MessageType::kLeaderHeartbeat:
    case MessageType::kCheckQuorum:
    case MessageType::kElection:
    case MessageType::kNoOp:
      return;
    default:
      break;
  }
  idle_ticks_ = 0;
  if (quiesced_) {
    quiesced_ = false;
    // Waking must not look like a missed leader: start the timers afresh.
    election_tick_ = 0;
    heartbeat_tick_ = 0;
  }
}

// ----------------------------------------------------------------- step ----

Status Raft::step_impl(const Message& m) {
  note_activity(m.type);
  if (m.term == 0) {
    // Local message, or a forwarded request (propose, read, transfer).
  } else if (m.term > term_) {
    bool vote_req = m.type == MessageType::kRequestVote || m.type == MessageType::kRequestPreVote;
    if (vote_req) {
      // Check-quorum lease (thesis §4.2.3): with a live leader known, ignore
      // disruptive candidates unless the leader itself asked (transfer).
      bool transfer = m.hint == kTransferCampaign;
      bool in_lease = cfg_.check_quorum && leader_ != kNoNode && election_tick_ < cfg_.election_rtt;
      if (!transfer && in_lease) return Status::OK();
    }
    if (m.type == MessageType::kRequestPreVote ||
        (m.type == MessageType::kRequestPreVoteResp && !m.reject)) {
      // Pre-vote messages carry a future term; they never change ours.
    } else {
      bool from_leader = m.type == MessageType::kReplicate || m.type == MessageType::kHeartbeat ||
                         m.type == MessageType::kInstallSnapshot;
      become_follower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if (m.type == MessageType::kHeartbeat || m.type == MessageType::kReplicate ||
        m.type == MessageType::kInstallSnapshot) {
      // §5.1: a request with a stale term is rejected with our term, so a
      // stale leader steps down. Needed even without pre-vote/check-quorum:
      // the candidates of the newer term may never contact it (e.g. it is an
      // observer in their older membership view).
      Message r;
      r.type = MessageType::kNoOp;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == MessageType::kRequestPreVote || m.type == MessageType::kRequestVote) {
      // §5.1: reject a stale request and tell the candidate our term, so a
      // candidate that missed terms catches up instead of retrying forever.
      Message r;
      r.type = m.type == MessageType::kRequestVote ? MessageType::kRequestVoteResp
                                                   : MessageType::kRequestPreVoteResp;
      r.to = m.from;
      r.reject = true;
      send(std::move(r));
    }
    return Status::OK();
  }

  switch (m.type) {
    case MessageType::kElection:
      if (role_ != Role::kLeader) campaign(cfg_.pre_vote, false);
      return Status::OK();
    case MessageType::kRequestVote:
    case MessageType::kRequestPreVote:
      handle_vote_request(m);
      return Status::OK();
    case MessageType::kNoOp:
      return Status::OK();
    default:
      break;
  }
  switch (role_) {
    case Role::kLeader: return step_leader(m);
    case Role::kCandidate:
    case Role::kPreCandidate: return step_candidate(m);
    default: return step_follower(m);
  }
}

Status Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kLeaderHeartbeat: broadcast_heartbeat(); break;
    case MessageType::kCheckQuorum: handle_check_quorum(); break;
    case MessageType::kPropose: handle_propose(m); break;
    case MessageType::kReadIndex: handle_read_index_leader(m); break;
    case MessageType::kReplicateResp: handle_replicate_resp(m); break;
    case MessageType::kHeartbeatResp: handle_heartbeat_resp(m); break;
    case MessageType::kSnapshotStatus: handle_snapshot_status(m); break;
    case MessageType::kUnreachable: handle_unreachable(m); break;
    case MessageType::kLeaderTransfer: handle_leader_transfer(m); break;
    case MessageType::kRateLimit:
      if (progress_.count(m.from)) rate_limiter_.set_follower(m.from, m.hint);
      break;
    default: break;  // stale votes responses etc.
  }
  return Status::OK();
}

Status Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
      for (const auto& e : m.entries) dropped_entries.push_back(e.key);
      break;
    case MessageType::kReadIndex:
      dropped_reads.push_back(ReadCtx{m.hint, m.hint_high});
      break;
    case MessageType::kReplicate:
    case MessageType::kHeartbeat:
    case MessageType::kInstallSnapshot:
      // A leader exists for our term (§5.2): concede.
      become_follower(term_, m.from);
      handle_leader_message(m);
      break;
    case MessageType::kRequestVoteResp:
    case MessageType::kRequestPreVoteResp:
      handle_vote_response(m);
      break;
    default: break;
  }
  return Status::OK();
}

void Raft::forward_to_leader(const Message& m) {
  Message f = m;
  f.to = leader_;
  f.term = 0;  // a forwarded request: the leader takes it at its own term
  send(std::move(f));
}

Status Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
      if (role_ == Role::kWitness || leader_ == kNoNode) {
        for (const auto& e : m.entries) dropped_entries.push_back(e.key);
      } else {
        forward_to_leader(m);
      }
      break;
    case MessageType::kReplicate:
    case MessageType::kHeartbeat:
    case MessageType::kInstallSnapshot:
      election_tick_ = 0;
      leader_ = m.from;
      handle_leader_message(m);
      break;
    case MessageType::kReadIndex: handle_read_index_follower(m); break;
    case MessageType::kReadIndexResp:
      if (m.reject) {
        dropped_reads.push_back(ReadCtx{m.hint, m.hint_high});  // leader lost leadership
      } else {
        ready_to_reads.push_back(ReadyToRead{m.log_index, ReadCtx{m.hint, m.hint_high}});
      }
      break;
    case MessageType::kTimeoutNow: handle_timeout_now(m); break;
    case MessageType::kLeaderTransfer:
      if (leader_ != kNoNode) forward_to_leader(m);
      break;
    case MessageType::kQuiesce:
      if (m.from == leader_ && cfg_.quiesce_ticks > 0) quiesced_ = true;
      break;
    default: break;
  }
  return Status::OK();
}

}  // namespace dragonboat::raft
