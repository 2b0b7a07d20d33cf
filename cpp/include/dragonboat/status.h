// dragonboat/status.h — the error type used across the C++ engine.
//
// Every expected failure has a named code mirroring the reference's Err*
// values; the Python binding maps each code to one exception class. Codes are
// documented by what the caller should do about them. Thread-safety: Status is
// a value type; distinct objects may be used from distinct threads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace dragonboat {

enum class ErrorCode : uint8_t {
  kOk = 0,
  // Retry later (temporary; IsTempError in the reference).
  kSystemBusy,          // rate limited / queues full: back off and retry.
  kClusterNotReady,     // no known leader yet: retry after an election.
  kTimeout,             // deadline passed: retry, with a session for at-most-once.
  kPendingConfigChangeExist,    // one membership change at a time: retry.
  kPendingSnapshotRequestExist, // a snapshot is already being taken: retry.
  kPendingLeaderTransferExist,  // a leader transfer is in progress: retry.
  kDropped,             // request dropped (e.g. leader changed): retry.
  kClusterNotInitialized, // the replica has not joined its group yet: retry.
  kClusterClosed,       // the replica stopped (or is stopping): retry, here once restarted or on another host.
  // Give up or fix the request.
  kNodeRemoved,         // this node was removed from the group.
  kClusterNotFound,     // no such group on this NodeHost.
  kClusterAlreadyExist,
  kClusterNotStopped,
  kInvalidClusterSettings,
  kClusterNotBootstrapped,
  kInvalidDeadline,
  kDirNotExist,
  kInvalidOperation,    // e.g. a proposal on a witness.
  kInvalidAddress,
  kInvalidSession,
  kTimeoutTooSmall,
  kPayloadTooBig,
  kSystemStopped,
  kCanceled,
  // Returned by a state machine's save_snapshot to abandon that save (the
  // reference's statemachine.ErrSnapshotAborted): the snapshot request
  // completes aborted (kCanceled), the replica goes on.
  kSnapshotAborted,
  // Returned by an on-disk state machine's open() that gave up because its
  // StopSignal fired (the reference's statemachine.ErrOpenStopped):
  // start_cluster returns it, the NodeHost is stopping.
  kOpenStopped,
  kRejected,            // refused by the state of the group (e.g. stale config change ID).
  kInvalidTarget,       // the named node cannot be the target of this operation.
  kNoSnapshot,
  // Internal conditions of the log layer.
  kCompacted,           // the requested log entries were compacted away.
  kUnavailable,         // the requested log entries are not (yet) available.
  kCorrupted,           // data failed verification (checksum, length, magic): never used.
  // A NodeHost directory that cannot be used as configured (give up; fix config).
  kNotOwner,            // the directory belongs to another raft address.
  kDeploymentIDChanged, // the directory belongs to another deployment.
  kHardSettingsChanged, // e.g. the LogDB shard count differs from the one recorded.
  kIncompatibleData,    // written by an incompatible format version.
  kLockDirectory,       // the directory is in use by another process.
  kFatal,               // storage failure: the node must stop.
};

// Returns the stable, snake_case name of a code, e.g. "system_busy".
const char* error_code_name(ErrorCode code);

// True for codes after which the same request may succeed if retried later:
// the reference's IsTempError (system busy, cluster closed, not initialized,
// not ready, timeout), plus the codes v3.3 folds into those under other
// names: the three kPending*Exist (aliases of ErrSystemBusy there) and
// kDropped (reported as ErrClusterNotReady there).
bool is_temp_error(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status OK() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "ok".
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// The library version, e.g. "0.1.0".
const char* version();

}  // namespace dragonboat
