// dragonboat/statemachine.h — the state machine interfaces applications
// implement (the reference's IStateMachine, IConcurrentStateMachine and
// IOnDiskStateMachine).
//
// RULE: update() must be deterministic — the same entries in the same order
// must produce the same state and results on every replica (no clocks, no
// randomness, no iteration order of unordered containers in results).
// A non-OK Status from update() stops the node with that error; the entry is
// never skipped.
// Threading: the engine calls update/save/recover from its apply path, one
// call at a time per group; lookup() may run concurrently with update() only
// for the concurrent and on-disk kinds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dragonboat/request_state.h"
#include "dragonboat/status.h"

namespace dragonboat {

// The three kinds of state machine (the reference's StateMachineType):
// IStateMachine, IConcurrentStateMachine and IOnDiskStateMachine below.
enum class StateMachineType : uint8_t { kRegular = 1, kConcurrent = 2, kOnDisk = 3 };

// An external file a snapshot carries (the reference's SnapshotFile): see
// ISnapshotWriter::add_file and ISnapshotReader::files.
struct SnapshotFile {
  uint64_t file_id = 0;
  std::string filepath;
  std::string metadata;
};

// Streams snapshot bytes out (the engine's writer puts them in a checksummed
// snapshot file; see docs/storage.md).
class ISnapshotWriter {
 public:
  virtual ~ISnapshotWriter() = default;
  virtual Status write(const void* data, size_t size) = 0;
  // True once the node is stopping: a long save may give up early (the
  // snapshot is then discarded, never published).
  virtual bool stopped() const { return false; }
  // Attaches the regular file at `path` to the snapshot under `file_id`,
  // unique within it (the reference's ISnapshotFileCollection::AddFile).
  // Its bytes are copied into the snapshot when save_snapshot returns (leave
  // the file alone until then), checksummed with it, streamed with it to the
  // followers that need it, and handed to recover_from_snapshot
  // (ISnapshotReader::files). kInvalidOperation for a path that is not a
  // regular file or a repeated ID; the engine's writers accept files, a
  // writer that does not returns kInvalidOperation.
  virtual Status add_file(uint64_t file_id, const std::string& path, std::string_view metadata) {
    (void)file_id, (void)metadata;
    return Status(ErrorCode::kInvalidOperation, "this snapshot writer takes no files (" + path + ")");
  }
};

// Streams snapshot bytes back in; *got == 0 with OK means the end.
class ISnapshotReader {
 public:
  virtual ~ISnapshotReader() = default;
  virtual Status read(void* buf, size_t size, size_t* got) = 0;
  // True once the node is stopping: a long recovery may give up early (the
  // node is stopping anyway).
  virtual bool stopped() const { return false; }
  // The files the snapshot carries (ISnapshotWriter::add_file at save time),
  // in the order they were added. Each filepath is a scratch copy that
  // exists while recover_from_snapshot runs: copy or link what you keep.
  virtual const std::vector<SnapshotFile>& files() const {
    static const std::vector<SnapshotFile> kNone;
    return kNone;
  }
};

// Tells a long call that the engine is stopping (the reference's stop
// channel): stopped() turns true, and stays true, once the NodeHost begins
// stopping. Poll it from the call it was handed to, during that call only.
class StopSignal {
 public:
  virtual ~StopSignal() = default;
  virtual bool stopped() const = 0;
};

// One entry handed to a batched update.
struct SMEntry {
  uint64_t index = 0;
  std::string_view cmd;
  Result result;  // filled in by update()
};

// The regular kind: all state in memory, one entry per update call.
class IStateMachine {
 public:
  virtual ~IStateMachine() = default;
  // Applies one command; *result goes back to the proposer.
  virtual Status update(std::string_view cmd, Result* result) = 0;
  // Applies consecutive entries in order, filling each result. The default
  // calls update() once per entry; override it to pay a per-call cost once
  // per batch (the Python binding takes the GIL once). The regular kind's
  // promise holds either way: no lookup or snapshot runs during the batch,
  // and no update runs between a snapshot's index and the end of its save.
  virtual Status batch_update(std::vector<SMEntry>* entries);
  // Answers a read; called between updates.
  virtual Status lookup(std::string_view query, std::string* answer) = 0;
  // Writes the whole state.
  virtual Status save_snapshot(ISnapshotWriter* writer) = 0;
  // Replaces the whole state with a saved one.
  virtual Status recover_from_snapshot(ISnapshotReader* reader) = 0;
  virtual void close() {}
  // Optional: a hash of the state for consistency checks (the reference's
  // IHash; false = none). Replicas that applied the same entries must
  // report the same hash (NodeHost::get_hash reads it).
  virtual bool hash(uint64_t* out) {
    (void)out;
    return false;
  }
};

inline Status IStateMachine::batch_update(std::vector<SMEntry>* entries) {
  for (SMEntry& e : *entries) {
    Status s = update(e.cmd, &e.result);
    if (!s.ok()) return Status(s.code(), "entry " + std::to_string(e.index) + ": " + s.message());
  }
  return Status::OK();
}

// The concurrent kind: batched updates; lookup may run during update;
// snapshots are prepared (cheaply, under the apply lock) then saved while
// updates continue.
class IConcurrentStateMachine {
 public:
  virtual ~IConcurrentStateMachine() = default;
  virtual Status update(std::vector<SMEntry>* entries) = 0;
  virtual Status lookup(std::string_view query, std::string* answer) = 0;
  virtual Status prepare_snapshot(std::string* context) = 0;
  virtual Status save_snapshot(const std::string& context, ISnapshotWriter* writer) = 0;
  virtual Status recover_from_snapshot(ISnapshotReader* reader) = 0;
  virtual void close() {}
  virtual bool hash(uint64_t* out) {
    (void)out;
    return false;
  }
};

// The on-disk kind: the state lives in the application's own durable store;
// open() reports the index it has durably applied, so only later entries are
// replayed. Only the no-op session is accepted for its proposals.
class IOnDiskStateMachine {
 public:
  virtual ~IOnDiskStateMachine() = default;
  // Opens the store and sets *applied_index to the last entry it holds
  // durably (0 if none). Runs in start_cluster, on the caller's thread. A
  // long open should poll stop.stopped() and, once it is true, give up with
  // Status(ErrorCode::kOpenStopped): start_cluster then returns that status.
  virtual Status open(const StopSignal& stop, uint64_t* applied_index) = 0;
  virtual Status update(std::vector<SMEntry>* entries) = 0;
  virtual Status lookup(std::string_view query, std::string* answer) = 0;
  // Makes every applied update durable.
  virtual Status sync() = 0;
  virtual Status prepare_snapshot(std::string* context) = 0;
  virtual Status save_snapshot(const std::string& context, ISnapshotWriter* writer) = 0;
  virtual Status recover_from_snapshot(ISnapshotReader* reader) = 0;
  virtual void close() {}
  virtual bool hash(uint64_t* out) {
    (void)out;
    return false;
  }
};

}  // namespace dragonboat
