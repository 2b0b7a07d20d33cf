// sim/storage.h — where a simulated node persists its Raft state.
//
// MemoryStorage keeps it in a raft::MemoryLog; LogDBStorage in a LogDB (one
// shared by all simulated nodes, like a NodeHost's) through logdb::NodeLog.
// A crash drops everything volatile: LogDBStorage then reopens its NodeLog
// from the LogDB, exercising the restart path of the real storage stack.
// A sim::Replica (sim/replica.h) persists each Update through one.
#pragma once

#include <memory>

#include "logdb/logdb.h"
#include "raft/log_reader.h"
#include "raft/types.h"

namespace dragonboat::sim {

class Storage {
 public:
  virtual ~Storage() = default;
  virtual const raft::LogReader& reader() const = 0;
  // Persists what an Update asks for: installed snapshot, entries, state.
  virtual Status persist(const raft::Update& u) = 0;
  // A snapshot taken locally.
  virtual Status save_snapshot(const raft::Snapshot& ss) = 0;
  // Removes entries up to index (REQUIRES: a snapshot at or above it).
  virtual Status compact(uint64_t index) = 0;
  // The process died: drop volatile state, keep what was persisted.
  virtual Status crash() = 0;
};

// Persists into a raft::MemoryLog, which holds only persisted state. A crash
// loses what the engine's LogDB may lose: a commit index written without a
// sync (Update::must_sync false; thesis §3.8) goes back to the last synced
// one, as a power cut takes the unsynced tail of a WAL (a synced write
// makes every earlier one durable with it). Its owner may reach the log
// directly, e.g. a test that takes a snapshot and compacts by hand.
class MemoryStorage : public Storage {
 public:
  const raft::LogReader& reader() const override { return log_; }
  Status persist(const raft::Update& u) override;
  Status save_snapshot(const raft::Snapshot& ss) override;
  Status compact(uint64_t index) override { return log_.compact(index); }
  Status crash() override;
  raft::MemoryLog& log() { return log_; }

 private:
  raft::MemoryLog log_;
  uint64_t synced_commit_ = 0;  // the commit index as of the last synced persist
};

std::unique_ptr<Storage> new_memory_storage();
// `db` must outlive the storage.
std::unique_ptr<Storage> new_logdb_storage(logdb::LogDB* db, uint64_t cluster_id, uint64_t node_id);

}  // namespace dragonboat::sim
