// logdb/logdb.h — durable Raft state of every group on a NodeHost.
//
// The engine persists what Raft Updates ask for through save(): the hard
// state, new entries and snapshot records of MANY groups in one call, which
// an implementation commits as one atomic write batch with one sync per
// shard. Groups are spread over shards by cluster ID (shard_of); a step
// worker owns the groups of one shard, so its save() costs exactly one sync.
//
// Implementations: RocksLogDB (sharded RocksDB, the default) and MemLogDB
// (in-memory, for tests and simulation); both pass tests/cpp/logdb_test.cc.
// Thread-safety: all methods may be called concurrently; save() calls that
// touch the same shard are serialised.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::logdb {

// One node's changes in a save() batch.
struct NodeUpdate {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  raft::HardState state;             // empty(): unchanged
  std::vector<raft::Entry> entries;  // contiguous; overwrite any stored suffix
  raft::Snapshot snapshot;           // empty(): none; a metadata record only
};

// What a restarting node reads back (entries [first_index, last_index]).
struct RaftState {
  raft::HardState state;
  uint64_t first_index = 0;  // 0 when no entry is stored
  uint64_t last_index = 0;
};

// Recorded when a node is first started; checked on every restart.
struct Bootstrap {
  std::map<uint64_t, std::string> addresses;  // initial members
  bool join = false;
  uint8_t state_machine_type = 0;  // regular / concurrent / on-disk
};

struct NodeInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  bool operator==(const NodeInfo& o) const { return cluster_id == o.cluster_id && node_id == o.node_id; }
};

class LogDB {
 public:
  virtual ~LogDB() = default;

  // "rocksdb" or "memory".
  virtual std::string name() const = 0;
  virtual uint64_t shard_count() const = 0;
  uint64_t shard_of(uint64_t cluster_id) const { return cluster_id % shard_count(); }

  // Persists every update durably: one atomic write batch and one sync per
  // shard touched. After a failed write or sync the LogDB is fatal: this and
  // every later write return kFatal (retrying after a failed fsync is unsafe).
  [[nodiscard]] virtual Status save(const std::vector<NodeUpdate>& updates) = 0;

  // The persisted state of a node; kUnavailable when nothing was stored.
  [[nodiscard]] virtual Status read_raft_state(uint64_t cluster_id, uint64_t node_id,
                                               RaftState* out) = 0;

  // Appends entries [low, high) to out, stopping once max_bytes is exceeded
  // (at least one entry). kCompacted if low is below the first stored entry,
  // kUnavailable if an entry in range is missing.
  [[nodiscard]] virtual Status entries(uint64_t cluster_id, uint64_t node_id, uint64_t low,
                                       uint64_t high, uint64_t max_bytes,
                                       std::vector<raft::Entry>* out) = 0;

  [[nodiscard]] virtual Status save_bootstrap(uint64_t cluster_id, uint64_t node_id,
                                              const Bootstrap& b) = 0;
  // kClusterNotBootstrapped when none was saved.
  [[nodiscard]] virtual Status get_bootstrap(uint64_t cluster_id, uint64_t node_id,
                                             Bootstrap* out) = 0;

  // Records a snapshot taken locally (the log is kept; compaction is a
  // separate step). Unlike NodeUpdate::snapshot, which installs a snapshot
  // received from the leader and replaces the log.
  [[nodiscard]] virtual Status save_snapshot_record(uint64_t cluster_id, uint64_t node_id,
                                                    const raft::Snapshot& ss) = 0;
  // The latest snapshot record; kNoSnapshot when there is none.
  [[nodiscard]] virtual Status get_snapshot(uint64_t cluster_id, uint64_t node_id,
                                            raft::Snapshot* out) = 0;
  // Removes snapshot records with index < `index`.
  [[nodiscard]] virtual Status remove_snapshots_before(uint64_t cluster_id, uint64_t node_id,
                                                       uint64_t index) = 0;

  // Removes entries with index <= `index` (a range delete; space is
  // reclaimed later or by compact()).
  [[nodiscard]] virtual Status remove_entries_to(uint64_t cluster_id, uint64_t node_id,
                                                 uint64_t index) = 0;
  // Reclaims the space of removed entries up to `index` (RequestCompaction).
  [[nodiscard]] virtual Status compact(uint64_t cluster_id, uint64_t node_id, uint64_t index) = 0;

  // Removes everything stored for a node (RemoveData).
  [[nodiscard]] virtual Status remove_node_data(uint64_t cluster_id, uint64_t node_id) = 0;

  // Repair: makes `ss` the node's only state — entries, hard state and older
  // snapshots are dropped, the snapshot record installed, and the hard state
  // set to (ss.term, no vote, ss.index) (reference: tools.ImportSnapshot).
  [[nodiscard]] virtual Status import_snapshot(uint64_t node_id, uint64_t cluster_id,
                                               const raft::Snapshot& ss) = 0;

  // True while the shard holding cluster_id stalls writes (the store cannot
  // keep up); the engine then refuses new proposals with kSystemBusy.
  virtual bool busy(uint64_t cluster_id) const {
    (void)cluster_id;
    return false;
  }

  // Every node with a bootstrap record, sorted.
  [[nodiscard]] virtual Status list_nodes(std::vector<NodeInfo>* out) = 0;
};

// In-memory LogDB (nothing survives the process). Same semantics as RocksLogDB.
std::unique_ptr<LogDB> new_mem_logdb(uint64_t shards = 1);

}  // namespace dragonboat::logdb
