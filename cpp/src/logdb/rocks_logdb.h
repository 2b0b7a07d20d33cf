// logdb/rocks_logdb.h — the default LogDB: one RocksDB instance per shard.
//
// Layout: <dir>/shard-<i>/ for each shard (and <wal_dir>/shard-<i>/ for the
// WAL when wal_dir is set, the reference's WALDir). Every save() is one
// WriteBatch per shard written with sync=true: one fdatasync of the WAL.
//
// Crash/corruption policy: WAL recovery mode kTolerateCorruptedTailRecords —
// an incomplete record at the very end of the WAL (a torn, never-synced
// write) is dropped; a checksum failure before the tail fails the open with
// an error naming the shard directory. Limit (RocksDB 7.8, shown by
// logdb_fault_test): a damaged LENGTH field in the last WAL block reads as a
// torn tail, so the records after it are dropped; a full-length garbled
// tail record is refused. paranoid_checks is on; see docs/storage.md.
#pragma once

#include <memory>
#include <string>

#include "logdb/logdb.h"

namespace rocksdb {
class Env;
}

namespace dragonboat::logdb {

struct RocksLogDBOptions {
  std::string dir;      // REQUIRED; created if missing
  std::string wal_dir;  // optional: WAL placed apart (e.g. a faster device)
  // Fixed for the life of a NodeHost directory. One shard per step worker
  // (the engine runs one per core): a worker's save() then touches exactly
  // one shard, which benchmarks/logdb.sh shows is the fast path (16 B x 48
  // groups: ~615K entries/s into one shard vs ~240K spread over 4).
  uint64_t shards = 2;
  // Defaults sized for a 2-core, few-GiB host (see docs/storage.md).
  uint64_t write_buffer_size = 16 << 20;
  int max_write_buffer_number = 3;
  uint64_t block_cache_size = 32 << 20;
  // Tests inject faults through a custom Env/FileSystem; nullptr = default.
  rocksdb::Env* env = nullptr;
};

// A process-wide Env used by every LogDB opened without options.env (and so
// by NodeHost): tests install a power-loss-simulating FileSystem here
// (tests/cpp/power_loss_fs.h). nullptr (the default) = RocksDB's own.
// Install before any LogDB opens; remove after the last one closed.
void set_env_override(rocksdb::Env* env);
rocksdb::Env* env_override();

// Opens (creating if needed) every shard. Errors name the shard directory;
// corruption inside synced WAL data is kCorrupted.
Status open_rocks_logdb(const RocksLogDBOptions& options, std::unique_ptr<LogDB>* out);

}  // namespace dragonboat::logdb
