// rsm/applier.h — applies committed entries to a regular state machine with
// client sessions (thesis §6.3), producing the completions the engine hands
// back to proposers.
//
// Entry routing: metadata entries (witness) and no-op entries only advance
// the applied index; config changes are returned for the caller (which owns
// the Raft peer) to apply in order; register/unregister entries change the
// session table; other entries are checked against their session (applied at
// most once) and applied. A state machine error stops applying at that
// entry: it is reported, never skipped, and the node must stop.
// Thread-safety: not thread-safe (the group's apply path).
#pragma once

#include <cstdint>
#include <vector>

#include "dragonboat/request_state.h"
#include "dragonboat/statemachine.h"
#include "raft/types.h"
#include "rsm/session.h"

namespace dragonboat::rsm {

struct Completion {
  uint64_t key = 0;  // the proposal key
  RequestResultCode code = RequestResultCode::kCompleted;
  Result result;
};

struct ApplyOutput {
  std::vector<Completion> completions;
  // Config-change entries in log order, for Peer::apply_config_change.
  std::vector<raft::Entry> config_changes;
};

class Applier {
 public:
  Applier(IStateMachine* sm, SessionManager* sessions) : sm_(sm), sessions_(sessions) {}

  // Applies `entries` (consecutive, starting at applied()+1). On a state
  // machine error returns it (kFatal with the entry index in the message);
  // applied() then names the last entry applied.
  Status apply(const std::vector<raft::Entry>& entries, ApplyOutput* out);

  uint64_t applied() const { return applied_; }
  // After recovering from a snapshot at `index`.
  void set_applied(uint64_t index) { applied_ = index; }

 private:
  IStateMachine* sm_;
  SessionManager* sessions_;
  uint64_t applied_ = 0;
};

}  // namespace dragonboat::rsm
