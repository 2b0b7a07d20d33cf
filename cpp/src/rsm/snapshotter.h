// rsm/snapshotter.h — saving and recovering a regular state machine and its
// session table as one snapshot file (format and directory protocol from
// cpp/src/snapshot; docs/storage.md).
//
// Payload layout: [u8 kind][u64 LE session bytes][session table]
// [state machine bytes ...]; kind 1 = full, 2 = metadata only (no state
// machine bytes: an on-disk state machine's local snapshot; then [u64 LE
// synced index]). The session table is part of every snapshot so a
// retried proposal stays at-most-once across snapshot recovery (§6.3).
// Thread-safety: not thread-safe (the group's snapshot path).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "dragonboat/statemachine.h"
#include "rsm/managed_sm.h"
#include "rsm/session.h"
#include "snapshot/format.h"
#include "snapshot/snapshot_dir.h"

namespace dragonboat::rsm {

// Writes a complete snapshot of (sm, sessions) at (index, term) under `root`
// (root/snapshot-<index>/). *meta gets what the flag file records.
Status save_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                     uint64_t term, ManagedSM* sm, const SessionManager& sessions,
                     snapshot::SnapshotMeta* meta);
Status save_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                     uint64_t term, IStateMachine* sm, const SessionManager& sessions,
                     snapshot::SnapshotMeta* meta);

// The same from a prepared state: `ctx` from sm->prepare_snapshot() and the
// session table encoded at that same point (the snapshot worker's path).
// With sm == nullptr the snapshot is metadata only (an on-disk state
// machine keeps its state itself): recover_snapshot() then refuses it with
// kNoSnapshot, as there is no state in it to recover.
// `stopped` (may be null) is what ISnapshotWriter::stopped() reports; when it
// is set after the state machine returns, the snapshot is discarded (kCanceled).
// A metadata-only snapshot also records `synced_index`: the last entry the
// (on-disk) state machine had received when it was synced for it, which may
// be below `index` when the entries after it never reach the state machine
// (no-ops, membership changes). `compression`: how the file's blocks are
// stored (readers take any).
Status save_prepared_snapshot(const std::string& root, uint64_t cluster_id, uint64_t node_id, uint64_t index,
                              uint64_t term, ManagedSM* sm, const std::string& ctx,
                              const std::string& session_table, snapshot::SnapshotMeta* meta,
                              const std::atomic<bool>* stopped = nullptr, uint64_t synced_index = 0,
                              snapshot::Compression compression = snapshot::Compression::kNone);

// OK when `path` is a metadata-only snapshot; *synced_index gets the index
// it recorded (left unchanged for a snapshot written before it was
// recorded). kInvalidOperation for a full snapshot; file errors as for
// recover_snapshot.
Status read_metadata_only_snapshot(const std::string& path, uint64_t* synced_index);

// Replaces sm's state and the session table with the snapshot data file at
// `path`; every block is verified (kCorrupted names the file and block).
// Nothing is changed when the header or session table is bad; a failure in
// the middle of the state machine's recovery leaves it to the caller to stop
// the node.
Status recover_snapshot(const std::string& path, ManagedSM* sm, SessionManager* sessions,
                        const std::atomic<bool>* stopped = nullptr);
Status recover_snapshot(const std::string& path, IStateMachine* sm, SessionManager* sessions);

}  // namespace dragonboat::rsm
