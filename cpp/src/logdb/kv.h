// logdb/kv.h — the ordered key-value store one LogDB shard is built on.
//
// The LogDB logic (sharded_logdb.cc) is written once against this interface;
// RocksKV (rocks_kv.cc) and MemKV (mem_kv.cc) implement it, so the RocksDB
// and in-memory LogDBs behave identically by construction.
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "dragonboat/status.h"

namespace dragonboat::logdb {

// Operations applied atomically by KV::write.
class KVBatch {
 public:
  virtual ~KVBatch() = default;
  virtual void put(const std::string& key, const std::string& value) = 0;
  virtual void del(const std::string& key) = 0;
  // Deletes keys in [begin, end).
  virtual void del_range(const std::string& begin, const std::string& end) = 0;
  virtual size_t count() const = 0;
};

class KV {
 public:
  virtual ~KV() = default;
  virtual std::unique_ptr<KVBatch> new_batch() = 0;
  // Applies the batch atomically; with sync, durably (fsync/fdatasync).
  [[nodiscard]] virtual Status write(KVBatch* batch, bool sync) = 0;
  // *found = false when the key is absent.
  [[nodiscard]] virtual Status get(const std::string& key, std::string* value, bool* found) = 0;
  // Visits keys in [begin, end) in order until fn returns false.
  [[nodiscard]] virtual Status scan(
      const std::string& begin, const std::string& end,
      const std::function<bool(const char* key, size_t key_size, const char* value,
                               size_t value_size)>& fn) = 0;
  // The largest key in [begin, end); *found = false when the range is empty.
  [[nodiscard]] virtual Status last_key(const std::string& begin, const std::string& end,
                                        std::string* key, bool* found) = 0;
  // Reclaims space held by deleted keys in [begin, end).
  [[nodiscard]] virtual Status compact_range(const std::string& begin, const std::string& end) = 0;
  // A short description for error messages (e.g. the shard directory).
  virtual std::string describe() const = 0;
  // True while the store is throttling or stopping writes (RocksDB write
  // stall: too many memtables or level-0 files waiting for flush/compaction).
  virtual bool write_stalled() const { return false; }
};

std::unique_ptr<KV> new_mem_kv(std::string name);

}  // namespace dragonboat::logdb
