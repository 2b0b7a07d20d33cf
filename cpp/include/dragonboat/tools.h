// dragonboat/tools.h — offline tools (the reference's tools package).
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

#include "dragonboat/config.h"
#include "dragonboat/status.h"

namespace dragonboat::tools {

// `src_dir` is an exported snapshot: either its own directory
// (<export path>/snapshot-<index>) or the export path holding it (the newest
// complete snapshot there is used). The snapshot file is verified block by
// block before anything is changed. Errors: kInvalidOperation (members
// without node_id, bad arguments), kNoSnapshot (nothing complete in
// src_dir), kCorrupted (the file fails verification), kLockDirectory (the
// NodeHost is running), and the NodeHostConfig validation errors.
Status import_snapshot(const NodeHostConfig& config, const std::string& src_dir,
                       const std::map<uint64_t, std::string>& members, uint64_t node_id);

}  // namespace dragonboat::tools
