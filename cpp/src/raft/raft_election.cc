// Leader election (§5.2, §5.4.1), pre-vote (thesis §9.6), check-quorum
// (thesis §6.2) and leader transfer (thesis §3.10).
#include "raft/quorum.h"
#include "raft/raft.h"

namespace dragonboat::raft {

bool Raft::can_campaign() const {
  // Only full voters campaign: observers never vote, witnesses never lead
  // (they hold no state machine data).
  if (!membership_.is_voter(id())) return false;
  if (log_.unstable().has_snapshot()) return false;
  // A committed but unapplied config change means our membership view is
  // stale; wait until it is applied before asking for votes.
  if (log_.committed() > log_.processed()) {
    std::vector<Entry> ents;
    if (log_.slice(log_.processed() + 1, log_.committed() + 1, kNoLimit, &ents).ok()) {
      for (const auto& e : ents)
        if (e.type == EntryType::kConfigChange) return false;
    }
  }
  return true;
}

void Raft::campaign(bool pre_vote, bool transfer) {
  if (!can_campaign()) return;
  uint64_t term;
  MessageType type;
  if (pre_vote) {
    become_pre_candidate();
    term = term_ + 1;  // the term we would campaign in
    type = MessageType::kRequestPreVote;
  } else {
    become_candidate();
    term = term_;
    type = MessageType::kRequestVote;
  }
  votes_[id()] = true;
  if (tally_votes(votes_, voting_count()) == VoteResult::kWon) {
    // Single voter: win at once.
    if (pre_vote) {
      campaign(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (uint64_t v : voting_members()) {
    if (v == id()) continue;
    Message m;
    m.type = type;
    m.to = v;
    m.term = term;
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    m.hint = transfer ? kTransferCampaign : 0;
    send(std::move(m));
  }
}

void Raft::handle_vote_request(const Message& m) {
  // Observers answer too: one may have been promoted without knowing yet,
  // and its vote can be the one that breaks a deadlock. Candidates count
  // only the votes of nodes that are voters in their own membership.
  bool pre = m.type == MessageType::kRequestPreVote;
  MessageType resp = pre ? MessageType::kRequestPreVoteResp : MessageType::kRequestVoteResp;
  // §5.2: one vote per term, first come first served (a repeated request
  // from the same candidate gets the same answer). A pre-vote for a future
  // term may be granted whenever no leader is known to us.
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) ||
                  (pre && m.term > term_ && (leader_ == kNoNode || m.hint == kTransferCampaign ||
                                             election_tick_ >= cfg_.election_rtt));
  Message r;
  r.type = resp;
  r.to = m.from;
  // §5.4.1: only for a candidate whose log is at least as up-to-date.
  if (can_vote && log_.is_up_to_date(m.log_index, m.log_term)) {
    r.term = m.term;
    if (!pre) {
      election_tick_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Raft::handle_vote_response(const Message& m) {
  bool pre = m.type == MessageType::kRequestPreVoteResp;
  if (pre != (role_ == Role::kPreCandidate)) return;  // from the other phase
  if (!is_voting(m.from)) return;
  votes_.emplace(m.from, !m.reject);  // the first answer counts
  switch (tally_votes(votes_, voting_count())) {
    case VoteResult::kWon:
      if (pre) {
        campaign(false, false);
      } else {
        become_leader();
      }
      break;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

void Raft::handle_timeout_now(const Message& m) {
  // The leader asked us to take over (thesis §3.10): skip pre-vote and the
  // lease so the transfer completes within one round.
  (void)m;
  if (role_ == Role::kWitness || role_ == Role::kObserver) return;
  campaign(false, true);
}

void Raft::handle_leader_transfer(const Message& m) {
  uint64_t target = m.hint;
  // Only a full voter can become leader; transfers to self, observers,
  // witnesses or unknown nodes are refused.
  if (target == id() || !membership_.is_voter(target)) return;
  if (transfer_target_ != kNoNode) return;  // one transfer at a time
  transfer_target_ = target;
  election_tick_ = 0;  // the transfer is aborted after an election timeout
  const Progress& pr = progress_.at(target);
  if (pr.match() == log_.last_index()) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = target;
    send(std::move(t));
  } else {
    send_replicate(target, true);
  }
}

void Raft::handle_check_quorum() {
  uint64_t active = 0;
  for (uint64_t v : voting_members()) {
    if (v == id()) {
      ++active;
      continue;
    }
    auto it = progress_.find(v);
    if (it != progress_.end() && it->second.active()) ++active;
  }
  for (auto& [pid, pr] : progress_) pr.set_active(false);
  if (active < quorum_size(voting_count())) {
    // We may be partitioned away: stop serving as leader (thesis §6.2).
    become_follower(term_, kNoNode);
  }
}

}  // namespace dragonboat::raft
