// logdb/node_log.h — one node's raft::LogReader backed by a LogDB, with a
// cache of recent entries.
//
// The Raft core reads its persisted log through this view; most reads (the
// leader replicating to followers that are close behind) are served from
// the cache, so RocksDB is read only for followers far behind. Writes go to
// the LogDB first and update the view once durable: save() for one node
// (tests, tools), or the engine's batched LogDB::save() followed by
// on_saved() for each node of the batch.
// Thread-safety: not thread-safe; owned by the node's step worker.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "logdb/logdb.h"
#include "raft/log_reader.h"

namespace dragonboat::logdb {

class NodeLog : public raft::LogReader {
 public:
  // Loads what `db` holds for the node (nothing stored is fine: a new node).
  // `cache_bytes`: bytes of recent entries kept in memory.
  static Status open(LogDB* db, uint64_t cluster_id, uint64_t node_id, uint64_t cache_bytes,
                     std::unique_ptr<NodeLog>* out);

  // raft::LogReader
  raft::HardState hard_state() const override { return state_; }
  uint64_t first_index() const override { return marker_index_ + 1; }
  uint64_t last_index() const override { return last_index_; }
  Status term(uint64_t index, uint64_t* term) const override;
  Status entries(uint64_t low, uint64_t high, uint64_t max_bytes,
                 std::vector<raft::Entry>* out) const override;
  raft::Snapshot snapshot() const override { return snapshot_; }

  // Persists one node update (a Raft Update's state, entries and installed
  // snapshot) and then applies it to this view.
  Status save(const NodeUpdate& u);
  // Updates the view after `u` was made durable by LogDB::save().
  void on_saved(const NodeUpdate& u);
  // The same, taking the entries rather than copying them.
  void on_saved(NodeUpdate&& u);
  // Records a locally taken snapshot.
  Status save_snapshot(const raft::Snapshot& ss);
  // Removes entries up to `index`. REQUIRES: a snapshot at or above index.
  Status compact(uint64_t index);

  // Entries currently cached (for tests and metrics).
  size_t cached_entries() const { return cache_.size(); }
  // Reads served from the LogDB rather than the cache.
  uint64_t db_reads() const { return db_reads_; }

 private:
  NodeLog(LogDB* db, uint64_t c, uint64_t n, uint64_t cache_bytes)
      : db_(db), cluster_id_(c), node_id_(n), cache_bytes_(cache_bytes) {}
  void cache_append(const std::vector<raft::Entry>& ents);
  void cache_append(std::vector<raft::Entry>&& ents);
  void cache_make_room(uint64_t first);
  void trim_cache();

  LogDB* db_;
  uint64_t cluster_id_;
  uint64_t node_id_;
  uint64_t cache_bytes_;
  raft::HardState state_;
  raft::Snapshot snapshot_;
  uint64_t marker_index_ = 0;  // entries start after it
  uint64_t marker_term_ = 0;
  uint64_t last_index_ = 0;
  std::deque<raft::Entry> cache_;  // a suffix of the log ending at last_index_
  uint64_t cached_bytes_ = 0;
  mutable uint64_t db_reads_ = 0;
};

}  // namespace dragonboat::logdb
