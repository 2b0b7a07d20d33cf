// sim/replica.h — one in-memory Raft replica: a Peer, the Storage it
// persists to (sim/storage.h), the random source it draws election timeouts
// from and its applied index, with process(), which carries out one Update
// in the order of the Update contract (docs/architecture.md):
//   1. send what can_send_before_persist() allows (only with a send hook),
//   2. persist snapshot, entries and hard state,
//   3. send the rest (or hand every message back to the caller),
//   4. apply the committed entries (config changes through the Peer),
//      then let the caller serve reads and fail dropped proposals/reads,
//   5. Peer::commit_update().
// The paper-test harness (tests/cpp/raft_cluster_harness.h), the interaction
// transcripts (interaction.cc) and the fault simulation (simulator*.cc) each
// keep their own network and bookkeeping around it, given through Hooks.
// Not thread-safe; deterministic given the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/peer.h"
#include "sim/storage.h"

namespace dragonboat::sim {

// `base` for node `id` of group 1, started as an observer or a witness.
raft::Config replica_config(const raft::Config& base, uint64_t id, bool observer, bool witness);

// A committed config-change entry as process() applied it to the Peer.
struct AppliedChange {
  bool decoded = false;  // false: not a ConfigChange, nothing was applied
  raft::ConfigChange cc;
  Status status;  // Peer::apply_config_change's answer
};

// Where process() lets its caller in. Every hook is optional.
struct Hooks {
  // Right after get_update(), before any of it is carried out.
  std::function<void(const raft::Update&)> on_update;
  // Sends one message, at the point the contract allows: those that
  // can_send_before_persist() allows before persisting, the rest after.
  // Without it, process() returns every message, in the Update's order, for
  // the caller to deliver once the Update is carried out.
  std::function<void(const raft::Message&)> send;
  // After the early sends, before persisting. Returning false abandons the
  // Update there (no apply, no commit_update), e.g. when the hook crashed
  // the replica.
  std::function<bool(const raft::Update&)> before_persist;
  // After persisting, with the storage's answer.
  std::function<void(const raft::Update&, const Status&)> after_persist;
  // Each committed entry in order, after a config change was applied to the
  // Peer (`change`; null for any other entry). applied() is still the index
  // before the entry. If the hook stops the replica, process() ends there.
  std::function<void(const raft::Entry&, const AppliedChange* change)> apply;
  // After the committed entries, before commit_update(): the Update's
  // ready_to_reads, dropped_entries and dropped_read_indexes are the
  // caller's to serve and fail.
  std::function<void(const raft::Update&)> after_apply;
};

class Replica {
 public:
  // In-memory storage, random source seeded with 0.
  Replica();
  Replica(std::unique_ptr<Storage> storage, uint64_t seed);
  Replica(Replica&&) = default;
  Replica& operator=(Replica&& other) noexcept;
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Starts the Peer (again) over what the storage holds, drawing from this
  // replica's random source, which keeps its state across launches. The
  // applied index restarts at the stored snapshot. On failure nothing changes.
  Status launch(const raft::Config& config, const std::map<uint64_t, std::string>& initial, bool join);
  // Restarts the random source from `seed`.
  void reseed(uint64_t seed) { *rng_ = raft::SeededRandom(seed); }
  // The Peer is gone (stopped or removed); the storage stays as it is.
  void stop() { peer_.reset(); }
  // The process died: the Peer is gone and the storage keeps only what it
  // persisted (the storage's answer).
  Status crash();

  bool alive() const { return peer_ != nullptr; }
  // REQUIRES: alive().
  raft::Peer& peer() { return *peer_; }
  const raft::Peer& peer() const { return *peer_; }
  Storage& storage() { return *storage_; }
  // What the storage holds.
  const raft::LogReader& log() const { return storage_->reader(); }
  raft::SeededRandom& rng() { return *rng_; }
  // The last entry applied (or the snapshot the state machine restarted from).
  uint64_t applied() const { return applied_; }

  // Takes one Update (REQUIRES: alive()) and carries it out as described
  // above. Returns the messages for the caller to deliver: all of them
  // unless hooks.send took them, none when the Update was abandoned before
  // persisting. `carried_out`, when given, receives the Update.
  std::vector<raft::Message> process(const Hooks& hooks = {}, raft::Update* carried_out = nullptr);

 private:
  // Declared before peer_, which points at them: the Peer goes first.
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<raft::SeededRandom> rng_;
  std::unique_ptr<raft::Peer> peer_;
  uint64_t applied_ = 0;
};

}  // namespace dragonboat::sim
