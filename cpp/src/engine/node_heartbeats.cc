// engine/node_heartbeats.cc — heartbeats that do not wait for a step pass.
//
// A step pass steps input, saves (one fsync for many groups), then sends its
// answers. With large entries a save can take tens of milliseconds on a
// saturated disk, and a heartbeat answered only after the NEXT pass's save
// leaves the leader without news from that follower for two saves; a leader
// whose own pass is saving sends no heartbeats at all. With check_quorum on,
// both make a healthy leader step down (it must hear from a quorum every
// election timeout, thesis §6.2). So, outside the pass:
//  - a follower answers a heartbeat of the term and leader it follows when
//    the heartbeat arrives (the receiving thread), and marks it answered so
//    the core, stepping it later in arrival order, only takes its commit
//    index and election-timer reset from it;
//  - a leader whose pass has not taken its ticks for half an election
//    timeout heartbeats its peers from the tick thread, once per interval,
//    with no commit index and no read context: they only say the leader is
//    alive. Their answers are stepped in arrival order like any other.
//
// Safety. An answer confirms a ReadIndex (§6.4), so it must never speak for
// a term the replica has left in a vote it sent. The followed term is
// published at the end of step_inputs, before the pass's save, and a vote
// goes out only after that save (it changes the term and the vote: a synced
// save); an answer is therefore given either from the term in which the
// vote was not yet sent, or not at all. A leader's side heartbeat carries
// no read context, so it confirms nothing; a leader that stepped down during
// the busy pass sends them until the pass ends, which followers in a newer
// term reject, as any stale leader's heartbeat.
#include "engine/node.h"

#include <algorithm>

namespace dragonboat::engine {

bool Node::answer_on_arrival(raft::Message* m, raft::Message* answer) {
  if (m->type != raft::MessageType::kHeartbeat || stopped_.load() || removed_.load()) return false;
  if (follow_leader_ == 0 || m->from != follow_leader_ || m->term != follow_term_) return false;
  answer->type = raft::MessageType::kHeartbeatResp;
  answer->cluster_id = m->cluster_id;
  answer->from = node_id();
  answer->to = m->from;
  answer->term = m->term;
  answer->hint = m->hint;  // the read context it confirms, if any
  answer->hint_high = m->hint_high;
  m->answered = true;
  return true;
}

void Node::heartbeats_for_busy_pass(std::vector<raft::Message>* out) {
  const uint64_t interval = opt_.raft.heartbeat_rtt;
  // The core sends its own heartbeats as it steps the ticks. Only a pass
  // late by more than half an election timeout needs help: followers and
  // the check_quorum window (an election timeout) still hear from the
  // leader within half of it, and a loaded worker whose passes are merely
  // slower than a heartbeat interval sends nothing extra (each of these
  // costs two messages and an answer per peer).
  const uint64_t late = std::max<uint64_t>(interval, opt_.raft.election_rtt / 2);
  if (!is_leader_ || inbox_.ticks <= late) return;
  if (busy_heartbeat_at_ != 0 && inbox_.ticks < busy_heartbeat_at_ + interval) return;
  busy_heartbeat_at_ = inbox_.ticks;
  for (uint64_t to : heartbeat_peers_) {
    raft::Message m;
    m.type = raft::MessageType::kHeartbeat;
    m.cluster_id = cluster_id();
    m.from = node_id();
    m.to = to;
    m.term = term_;
    m.commit = 0;  // what a follower may commit is for the core to say
    out->push_back(std::move(m));
  }
}

void Node::publish_follow_state() {
  follow_term_ = peer_->term();
  const uint64_t leader = peer_->leader_id();
  follow_leader_ = leader == node_id() ? 0 : leader;
}

void Node::publish_heartbeat_peers() {
  const raft::Membership& mb = peer_->membership();
  const size_t count = mb.addresses.size() + mb.observers.size() + mb.witnesses.size();
  if (mb.config_change_id == heartbeat_peers_cc_ && count == heartbeat_peers_count_) return;
  heartbeat_peers_cc_ = mb.config_change_id;
  heartbeat_peers_count_ = count;
  std::vector<uint64_t> peers;
  for (const auto* group : {&mb.addresses, &mb.observers, &mb.witnesses}) {
    for (const auto& [id, addr] : *group)
      if (id != node_id()) peers.push_back(id);
  }
  std::lock_guard<std::mutex> g(mu_);
  heartbeat_peers_ = std::move(peers);
}

}  // namespace dragonboat::engine
