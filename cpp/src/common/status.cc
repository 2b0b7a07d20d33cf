#include "dragonboat/status.h"

#include "common/enum_util.h"

namespace dragonboat {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kSystemBusy: return "system_busy";
    case ErrorCode::kClusterNotReady: return "cluster_not_ready";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kPendingConfigChangeExist: return "pending_config_change_exist";
    case ErrorCode::kPendingSnapshotRequestExist: return "pending_snapshot_request_exist";
    case ErrorCode::kPendingLeaderTransferExist: return "pending_leader_transfer_exist";
    case ErrorCode::kDropped: return "dropped";
    case ErrorCode::kClusterNotInitialized: return "cluster_not_initialized";
    case ErrorCode::kNodeRemoved: return "node_removed";
    case ErrorCode::kClusterNotFound: return "cluster_not_found";
    case ErrorCode::kClusterAlreadyExist: return "cluster_already_exist";
    case ErrorCode::kClusterNotStopped: return "cluster_not_stopped";
    case ErrorCode::kInvalidClusterSettings: return "invalid_cluster_settings";
    case ErrorCode::kClusterNotBootstrapped: return "cluster_not_bootstrapped";
    case ErrorCode::kInvalidDeadline: return "invalid_deadline";
    case ErrorCode::kDirNotExist: return "dir_not_exist";
    case ErrorCode::kInvalidOperation: return "invalid_operation";
    case ErrorCode::kInvalidAddress: return "invalid_address";
    case ErrorCode::kInvalidSession: return "invalid_session";
    case ErrorCode::kTimeoutTooSmall: return "timeout_too_small";
    case ErrorCode::kPayloadTooBig: return "payload_too_big";
    case ErrorCode::kClusterClosed: return "cluster_closed";
    case ErrorCode::kSystemStopped: return "system_stopped";
    case ErrorCode::kCanceled: return "canceled";
    case ErrorCode::kSnapshotAborted: return "snapshot_aborted";
    case ErrorCode::kOpenStopped: return "open_stopped";
    case ErrorCode::kRejected: return "rejected";
    case ErrorCode::kInvalidTarget: return "invalid_target";
    case ErrorCode::kNoSnapshot: return "no_snapshot";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorrupted: return "corrupted";
    case ErrorCode::kNotOwner: return "not_owner";
    case ErrorCode::kDeploymentIDChanged: return "deployment_id_changed";
    case ErrorCode::kHardSettingsChanged: return "hard_settings_changed";
    case ErrorCode::kIncompatibleData: return "incompatible_data";
    case ErrorCode::kLockDirectory: return "lock_directory";
    case ErrorCode::kFatal: return "fatal";
  }
  return "unknown";
}

bool is_temp_error(ErrorCode code) {
  using E = ErrorCode;
  return one_of(code, {E::kSystemBusy, E::kClusterNotReady, E::kTimeout, E::kPendingConfigChangeExist,
                       E::kPendingSnapshotRequestExist, E::kPendingLeaderTransferExist, E::kDropped,
                       E::kClusterNotInitialized, E::kClusterClosed});
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = error_code_name(code_);
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

const char* version() { return DRAGONBOAT_VERSION_STRING; }

}  // namespace dragonboat
