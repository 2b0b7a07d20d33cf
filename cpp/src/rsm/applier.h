// rsm/applier.h — applies committed entries to a state machine (any kind,
// through ManagedSM) with client sessions (thesis §6.3), producing the
// completions the engine hands back to proposers.
//
// Entry routing: metadata entries (witness) and no-op entries only advance
// the applied index; config changes are returned for the caller (which owns
// the Raft peer) to apply in order; register/unregister entries change the
// session table; other entries are checked against their session (applied at
// most once) and applied in batches: consecutive entries go to the state
// machine in ONE update() call. A batch is cut before a session
// register/unregister and before a second entry of the same (client, series),
// so the at-most-once check always sees the effect of earlier entries. A
// state machine error stops applying: it is reported, never skipped, and the
// node must stop.
// Thread-safety: not thread-safe (the group's apply path).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dragonboat/request_state.h"
#include "dragonboat/statemachine.h"
#include "raft/types.h"
#include "rsm/managed_sm.h"
#include "rsm/session.h"

namespace dragonboat::rsm {

struct Completion {
  uint64_t key = 0;  // the proposal key
  uint64_t client_id = 0, series_id = 0;  // the entry's session fields (matched with the request's)
  RequestResultCode code = RequestResultCode::kCompleted;
  Result result;
};

struct ApplyOutput {
  std::vector<Completion> completions;
};

class Applier {
 public:
  Applier(ManagedSM* sm, SessionManager* sessions) : sm_(sm), sessions_(sessions) {}
  // A regular state machine the caller owns (tests).
  Applier(IStateMachine* sm, SessionManager* sessions)
      : borrowed_(ManagedSM::borrow(sm)), sm_(borrowed_.get()), sessions_(sessions) {}

  // Applies `entries` (consecutive, starting at applied()+1). On a state
  // machine error returns it (kFatal with the entry index in the message);
  // applied() then names the last entry applied.
  Status apply(const std::vector<raft::Entry>& entries, ApplyOutput* out);

  uint64_t applied() const { return applied_; }
  // After recovering from a snapshot at `index`.
  void set_applied(uint64_t index) { applied_ = index; }
  // On-disk state machines: entries up to `index` are already in the
  // application's store (IOnDiskStateMachine::open); they are passed over.
  void set_durable(uint64_t index) { durable_ = index; }
  // The term of the last applied entry (0 when unknown, e.g. right after a
  // snapshot recovery; set_applied_term then).
  uint64_t applied_term() const { return applied_term_; }
  void set_applied_term(uint64_t t) { applied_term_ = t; }
  // The last entry the state machine itself received (an update, or the
  // snapshot it recovered from): applied() may be ahead of it by entries
  // that never reach the state machine (no-ops, membership changes). An
  // on-disk state machine's open() can only report up to this entry, so
  // its metadata-only snapshots are taken here, not at applied(). Its term
  // is 0 when unknown (right after a restart with a durable index).
  uint64_t sm_applied() const { return sm_applied_; }
  uint64_t sm_applied_term() const { return sm_applied_term_; }
  void set_sm_applied(uint64_t index, uint64_t term) {
    sm_applied_ = index;
    sm_applied_term_ = term;
  }

 private:
  struct Pending {
    uint64_t key, client_id, series_id, term;
    size_t slot;  // index of its completion in ApplyOutput::completions
  };
  Status flush(std::vector<SMEntry>* batch, std::vector<Pending>* meta, ApplyOutput* out);

  std::unique_ptr<ManagedSM> borrowed_;
  ManagedSM* sm_;
  SessionManager* sessions_;
  uint64_t applied_ = 0;
  uint64_t applied_term_ = 0;
  uint64_t sm_applied_ = 0;
  uint64_t sm_applied_term_ = 0;
  uint64_t durable_ = 0;
};

}  // namespace dragonboat::rsm
