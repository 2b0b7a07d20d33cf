// Single-server membership changes (thesis §4.1), observers (non-voting),
// witnesses (voting, no data) and the permanence of removal.
#include "raft/raft.h"

namespace dragonboat::raft {

void Raft::add_progress(uint64_t nid) {
  if (nid == id() || progress_.count(nid)) return;
  Progress pr(log_.last_index() + 1, cfg_.max_inflight);
  // A newcomer has not been heard from yet, but must not make check-quorum
  // fail immediately.
  pr.set_active(true);
  progress_.emplace(nid, std::move(pr));
}

void Raft::restore_membership(const Membership& m) {
  membership_ = m;
  std::map<uint64_t, Progress> old;
  old.swap(progress_);
  auto keep = [&](uint64_t nid) {
    if (nid == id()) return;
    auto it = old.find(nid);
    if (it != old.end()) {
      progress_.emplace(nid, it->second);
    } else {
      add_progress(nid);
    }
  };
  for (const auto& [nid, a] : m.addresses) keep(nid);
  for (const auto& [nid, a] : m.observers) keep(nid);
  for (const auto& [nid, a] : m.witnesses) keep(nid);
}

Status Raft::apply_config_change(const ConfigChange& cc, uint64_t index) {
  auto reject = [](const char* why) { return Status(ErrorCode::kRejected, why); };
  if (cfg_.ordered_config_change && !cc.initialize &&
      cc.config_change_id != membership_.config_change_id) {
    return reject("stale config change id");
  }
  if (cc.node_id == kNoNode) return reject("node id 0");
  if (membership_.removed.count(cc.node_id)) return reject("node id was removed");
  Membership& m = membership_;
  // The node joins `group` (voters, observers or witnesses) and gets a progress.
  auto join = [&](auto& group) {
    group[cc.node_id] = cc.address;
    add_progress(cc.node_id);
  };
  switch (cc.type) {
    case ConfigChangeType::kAddNode:
      if (m.is_witness(cc.node_id)) return reject("a witness cannot be promoted");
      // Adding an observer as a node promotes it (its progress is kept).
      m.observers.erase(cc.node_id);
      join(m.addresses);
      break;
    case ConfigChangeType::kAddObserver:
      if (m.is_voter(cc.node_id) || m.is_witness(cc.node_id)) return reject("node is already a voting member");
      join(m.observers);
      break;
    case ConfigChangeType::kAddWitness:
      if (m.is_voter(cc.node_id) || m.is_observer(cc.node_id)) return reject("node is already a member");
      join(m.witnesses);
      break;
    case ConfigChangeType::kRemoveNode:
      m.addresses.erase(cc.node_id);
      m.observers.erase(cc.node_id);
      m.witnesses.erase(cc.node_id);
      m.removed.insert(cc.node_id);
      progress_.erase(cc.node_id);
      if (transfer_target_ == cc.node_id) abort_leader_transfer();
      break;
  }
  m.config_change_id = index;
  if (role_ == Role::kLeader && cc.type != ConfigChangeType::kRemoveNode && cc.node_id != id()) {
    // Start replicating to a newcomer now rather than at the next heartbeat.
    send_replicate(cc.node_id, true);
  }
  if (role_ == Role::kLeader) {
    if (!m.is_voter(id())) {
      // A leader removed from the group hands over by stepping down; the
      // remaining voters elect a new leader.
      become_follower(term_, kNoNode);
    } else if (try_commit()) {
      // A smaller quorum may commit more now.
      broadcast_replicate();
    }
  } else if (role_ != Role::kCandidate && role_ != Role::kPreCandidate) {
    role_ = follower_role();  // e.g. an observer promoted to follower
  }
  return Status::OK();
}

}  // namespace dragonboat::raft
