// logdb/sharded_logdb.h — the LogDB logic, written once over KV shards.
//
// Each shard is an independent KV (one RocksDB instance for RocksLogDB).
// save() groups updates by shard and commits each shard's part as one batch
// with one sync. A per-node cache of the last stored index makes suffix
// truncation (overwritten entries after a conflict) a single range delete
// issued only when needed. Thread-safety: as LogDB; a mutex per shard
// serialises writers of that shard.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "logdb/kv.h"
#include "logdb/logdb.h"

namespace dragonboat::logdb {

class ShardedLogDB : public LogDB {
 public:
  ShardedLogDB(std::string name, std::vector<std::unique_ptr<KV>> shards);

  std::string name() const override { return name_; }
  uint64_t shard_count() const override { return shards_.size(); }
  Status save(const std::vector<NodeUpdate>& updates) override;
  Status read_raft_state(uint64_t cluster_id, uint64_t node_id, RaftState* out) override;
  Status entries(uint64_t cluster_id, uint64_t node_id, uint64_t low, uint64_t high,
                 uint64_t max_bytes, std::vector<raft::Entry>* out) override;
  Status save_bootstrap(uint64_t cluster_id, uint64_t node_id, const Bootstrap& b) override;
  Status get_bootstrap(uint64_t cluster_id, uint64_t node_id, Bootstrap* out) override;
  Status save_snapshot_record(uint64_t cluster_id, uint64_t node_id, const raft::Snapshot& ss) override;
  Status get_snapshot(uint64_t cluster_id, uint64_t node_id, raft::Snapshot* out) override;
  Status remove_snapshots_before(uint64_t cluster_id, uint64_t node_id, uint64_t index) override;
  Status remove_entries_to(uint64_t cluster_id, uint64_t node_id, uint64_t index) override;
  Status compact(uint64_t cluster_id, uint64_t node_id, uint64_t index) override;
  Status remove_node_data(uint64_t cluster_id, uint64_t node_id) override;
  Status import_snapshot(uint64_t node_id, uint64_t cluster_id, const raft::Snapshot& ss) override;
  Status list_nodes(std::vector<NodeInfo>* out) override;
  bool busy(uint64_t cluster_id) const override {
    return shards_[cluster_id % shards_.size()]->kv->write_stalled();
  }

  // True once a write or sync failed; every later write returns kFatal.
  bool fatal() const { return fatal_.load(); }

 private:
  struct Shard {
    std::unique_ptr<KV> kv;
    std::mutex mu;  // serialises writers; guards last_index
    std::map<std::pair<uint64_t, uint64_t>, uint64_t> last_index;  // cached, 0 = none
  };

  Shard& shard(uint64_t cluster_id) { return *shards_[cluster_id % shards_.size()]; }
  // REQUIRES: s.mu held.
  Status stored_last_index(Shard& s, uint64_t cluster_id, uint64_t node_id, uint64_t* last);
  Status first_index(Shard& s, uint64_t cluster_id, uint64_t node_id, uint64_t* first);
  // Commits a batch; on failure marks the LogDB fatal. REQUIRES: s.mu held.
  Status commit(Shard& s, KVBatch* batch, bool sync = true);
  Status check_writable() const;
  // Once the LogDB is writable, runs write(shard, batch) with cluster_id's
  // shard locked and a new batch: `write` fills the batch, commits it
  // (commit()) and returns the status.
  template <typename Write>
  Status write_locked(uint64_t cluster_id, Write write);
  void remove_all_entries(KVBatch* b, uint64_t cluster_id, uint64_t node_id);

  std::string name_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> fatal_{false};
};

}  // namespace dragonboat::logdb
