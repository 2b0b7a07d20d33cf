// sim/replica.cc — the in-memory replica of sim/replica.h: launching,
// stopping and crashing its Peer, and process(), one Update carried out in
// the order of the Update contract.
#include "sim/replica.h"

#include <utility>

namespace dragonboat::sim {

raft::Config replica_config(const raft::Config& base, uint64_t id, bool observer, bool witness) {
  raft::Config c = base;
  c.node_id = id;
  c.cluster_id = 1;
  c.is_observer = observer;
  c.is_witness = witness;
  return c;
}

Replica::Replica() : Replica(new_memory_storage(), 0) {}

Replica::Replica(std::unique_ptr<Storage> storage, uint64_t seed)
    : storage_(std::move(storage)), rng_(std::make_unique<raft::SeededRandom>(seed)) {}

Replica& Replica::operator=(Replica&& other) noexcept {
  if (this == &other) return *this;
  peer_.reset();  // it points at the storage and random source replaced below
  storage_ = std::move(other.storage_);
  rng_ = std::move(other.rng_);
  peer_ = std::move(other.peer_);
  applied_ = other.applied_;
  return *this;
}

Status Replica::launch(const raft::Config& config, const std::map<uint64_t, std::string>& initial,
                       bool join) {
  Status s = raft::Peer::launch(config, &storage_->reader(), rng_.get(), initial, join, &peer_);
  if (s.ok()) applied_ = storage_->reader().snapshot().index;
  return s;
}

Status Replica::crash() {
  peer_.reset();
  return storage_->crash();
}

std::vector<raft::Message> Replica::process(const Hooks& hooks, raft::Update* carried_out) {
  raft::Update local;
  raft::Update& u = carried_out != nullptr ? *carried_out : local;
  u = peer_->get_update(true);
  if (hooks.on_update) hooks.on_update(u);
  // 1. Thesis §10.2.1: the leader's Replicates may leave before its own
  // log is durable.
  if (hooks.send) {
    for (const raft::Message& m : u.messages)
      if (raft::can_send_before_persist(m)) hooks.send(m);
  }
  if (hooks.before_persist && !hooks.before_persist(u)) return {};
  // 2. Snapshot, entries and hard state, atomically as far as the storage
  // goes; a persisted snapshot is what the state machine restarts from.
  Status persisted = storage_->persist(u);
  if (!u.snapshot.empty()) applied_ = u.snapshot.index;
  if (hooks.after_persist) hooks.after_persist(u, persisted);
  // 3. Votes and acknowledgements promise persisted state.
  std::vector<raft::Message> out;
  if (hooks.send) {
    for (const raft::Message& m : u.messages)
      if (!raft::can_send_before_persist(m)) hooks.send(m);
  } else {
    out = u.messages;
  }
  // 4. Apply in order; config changes must reach the Peer before the next
  // get_update().
  for (const raft::Entry& e : u.committed_entries) {
    if (e.type == raft::EntryType::kConfigChange) {
      AppliedChange change;
      change.decoded = raft::decode_config_change(e.cmd, &change.cc);
      if (change.decoded) change.status = peer_->apply_config_change(change.cc, e.index);
      if (hooks.apply) hooks.apply(e, &change);
    } else if (hooks.apply) {
      hooks.apply(e, nullptr);
    }
    applied_ = e.index;
    if (!peer_) return out;  // the hook stopped this replica (e.g. its removal)
  }
  if (hooks.after_apply) hooks.after_apply(u);
  // 5. Acknowledge.
  peer_->commit_update(u);
  return out;
}

}  // namespace dragonboat::sim
