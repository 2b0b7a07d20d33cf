// rsm/managed_sm.h — one face for the three state machine kinds of
// dragonboat/statemachine.h, so the apply path, snapshots and reads are
// written once.
//
// update() always takes a batch: the regular kind is called once per entry
// (as its interface requires), the concurrent and on-disk kinds once per
// batch. The wrapper also enforces the concurrency each kind promises:
//  - regular: update, lookup, snapshot save and recover exclude each other;
//  - concurrent / on-disk: lookup runs concurrently with update; recover
//    excludes everything; prepare_snapshot runs between updates and the
//    (long) save runs alongside further updates and lookups.
// Thread-safety: update/save/recover from the group's apply path (one at a
// time); lookup() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "dragonboat/statemachine.h"

namespace dragonboat::rsm {

// The kind is recorded in the LogDB bootstrap record; a restart with another
// kind is refused.
const char* sm_kind_name(StateMachineType k);

class ManagedSM {
 public:
  // The wrapper owns the state machine (closed and destroyed with it).
  static std::unique_ptr<ManagedSM> own(std::unique_ptr<IStateMachine> sm);
  static std::unique_ptr<ManagedSM> own(std::unique_ptr<IConcurrentStateMachine> sm);
  static std::unique_ptr<ManagedSM> own(std::unique_ptr<IOnDiskStateMachine> sm);
  // Not owned (tests): the caller keeps `sm` alive and closes it.
  static std::unique_ptr<ManagedSM> borrow(IStateMachine* sm);

  virtual ~ManagedSM() = default;
  virtual StateMachineType kind() const = 0;
  // On-disk kind: opens the store and reports its durably applied index
  // (giving up with kOpenStopped once `stop` fires); others report 0.
  virtual Status open(const StopSignal& stop, uint64_t* applied_index) = 0;
  // Applies a batch; each entry's result is filled in. On error the state
  // of entries after the failing one is unspecified: the node stops.
  virtual Status update(std::vector<SMEntry>* batch) = 0;
  virtual Status lookup(std::string_view query, std::string* answer) = 0;
  // Makes applied updates durable (on-disk kind; a no-op otherwise).
  virtual Status sync() = 0;
  // Snapshots in two steps. prepare_snapshot() runs on the apply path
  // between updates and captures what to save (the concurrent and on-disk
  // kinds' own prepare; nothing for the regular kind); save_snapshot(ctx)
  // writes it, on a snapshot worker. For the regular kind updates must not
  // run until the save returns (snapshot_blocks_updates()); the other kinds
  // keep applying meanwhile.
  virtual Status prepare_snapshot(std::string* ctx) = 0;
  virtual Status save_snapshot(const std::string& ctx, ISnapshotWriter* writer) = 0;
  virtual bool snapshot_blocks_updates() const = 0;
  virtual Status recover_from_snapshot(ISnapshotReader* reader) = 0;
  // The state machine's hash (IHash), read between updates; false when the
  // state machine has none.
  virtual bool hash(uint64_t* out) = 0;
  virtual void close() = 0;
};

}  // namespace dragonboat::rsm
