// dragonboat/tools.h — offline tools (the reference's tools package), for
// directories of stopped NodeHosts: what a directory holds
// (read_host_dir), whether an exported snapshot is intact
// (check_exported_snapshot) and repair from one (import_snapshot).
//
// import_snapshot repairs a group that permanently lost its quorum: it makes
// an exported snapshot (NodeHost::request_snapshot with SnapshotOption
// exported) the ONLY state of one node on a NodeHost directory, with a new
// membership. Safety rules (the caller's responsibility; breaking them loses
// or forks data):
//  - every NodeHost involved is stopped (the directory lock enforces it for
//    the one being written);
//  - every node of the repaired group imports the SAME snapshot with the SAME
//    `members` map (node ID -> raft address), and only those nodes run it;
//  - the snapshot is the newest state you have: anything committed after it
//    is lost;
//  - afterwards, start each node with start_cluster({}, false, ...) (a
//    restart): the group resumes from the snapshot with the new membership.
// Thread-safety: not to be run concurrently on the same directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dragonboat/config.h"
#include "dragonboat/statemachine.h"
#include "dragonboat/status.h"

namespace dragonboat::tools {

// One node's state as its LogDB records it.
struct NodeDirInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  uint64_t term = 0;    // the persistent Raft state (0s when none is recorded)
  uint64_t vote = 0;
  uint64_t commit = 0;
  uint64_t first_index = 0;  // the log's range (after compaction)
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;  // the latest snapshot (0: none)
  std::string snapshot_file;
  std::map<uint64_t, std::string> initial_members;  // the bootstrap record ({} for a joined node)
  bool join = false;
  uint8_t state_machine_type = 0;  // a StateMachineType value (0: not recorded)
};

// What a NodeHost directory holds: its flag file and every node in its LogDB.
struct HostDirInfo {
  std::string raft_address;
  uint64_t deployment_id = 0;
  std::string logdb_type;
  uint64_t logdb_shards = 0;
  uint64_t format_version = 0;
  std::vector<NodeDirInfo> nodes;
};

// Reads `dir` (the NodeHost must be stopped: this takes the directory lock)
// whose LogDB keeps its write-ahead log in `wal_dir` (the NodeHost's
// NodeHostConfig::wal_dir; empty: none, the WAL is beside the data).
// Errors: kDirNotExist / kIncompatibleData (no or bad flag file),
// kLockDirectory (the NodeHost runs), kHardSettingsChanged (the WAL is not
// where wal_dir says: without it the LogDB would look empty), the LogDB's
// errors.
Status read_host_dir(const std::string& dir, const std::string& wal_dir, HostDirInfo* out);
// The same for a NodeHost without a wal_dir.
Status read_host_dir(const std::string& dir, HostDirInfo* out);

// An exported snapshot, verified.
struct ExportedSnapshotInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t file_size = 0;
  std::string dir;  // the snapshot's own directory
};

// Verifies the exported snapshot at `src` (its directory, or the export path
// holding it: the newest complete one is used) block by block. kNoSnapshot
// (nothing complete there), kCorrupted (the file fails verification).
Status check_exported_snapshot(const std::string& src, ExportedSnapshotInfo* out);

// `src_dir` is an exported snapshot: either its own directory
// (<export path>/snapshot-<index>) or the export path holding it (the newest
// complete snapshot there is used). The snapshot file is verified block by
// block before anything is changed. `config` is the NodeHost's own:
// node_host_dir, raft_address, deployment_id, logdb_shards and wal_dir are
// used. Errors: kInvalidOperation (members without node_id, bad arguments),
// kNoSnapshot (nothing complete in src_dir), kCorrupted (the file fails
// verification), kLockDirectory (the NodeHost is running),
// kHardSettingsChanged (wal_dir is not where the LogDB's WAL is, or another
// recorded setting differs), and the NodeHostConfig validation errors.
Status import_snapshot(const NodeHostConfig& config, const std::string& src_dir,
                       const std::map<uint64_t, std::string>& members, uint64_t node_id);

}  // namespace dragonboat::tools
