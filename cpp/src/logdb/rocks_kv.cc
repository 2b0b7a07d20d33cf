// RocksKV: a KV over one RocksDB instance (one LogDB shard).
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <atomic>

#include "common/file_io.h"
#include "logdb/kv.h"
#include "logdb/rocks_logdb.h"
#include "logdb/sharded_logdb.h"

namespace dragonboat::logdb {
namespace {

Status from_rocks(const rocksdb::Status& s, const std::string& where) {
  if (s.ok()) return Status::OK();
  ErrorCode code = s.IsCorruption() ? ErrorCode::kCorrupted : ErrorCode::kFatal;
  return Status(code, where + ": " + s.ToString());
}

// After a background error (e.g. a failed WAL fsync or ENOSPC) RocksDB would
// try to recover on its own and resume writing. The LogDB has already gone
// fatal and will not write again; keep RocksDB still too, so nothing touches
// the disk until an operator restarts the node.
class NoAutoRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

class RocksBatch : public KVBatch {
 public:
  void put(const std::string& k, const std::string& v) override { wb.Put(k, v); }
  void del(const std::string& k) override { wb.Delete(k); }
  void del_range(const std::string& b, const std::string& e) override { wb.DeleteRange(b, e); }
  size_t count() const override { return wb.Count(); }
  rocksdb::WriteBatch wb;
};

class RocksKV : public KV {
 public:
  RocksKV(rocksdb::DB* db, std::string dir) : db_(db), dir_(std::move(dir)) {}
  ~RocksKV() override {
    // Leave the WAL as it is: a shutdown flush is not needed for durability
    // (every batch was synced) and skipping it keeps close fast.
    delete db_;
  }

  std::unique_ptr<KVBatch> new_batch() override { return std::make_unique<RocksBatch>(); }

  bool write_stalled() const override {
    uint64_t stopped = 0, delayed = 0;
    db_->GetIntProperty("rocksdb.is-write-stopped", &stopped);
    db_->GetIntProperty("rocksdb.actual-delayed-write-rate", &delayed);
    return stopped != 0 || delayed != 0;
  }

  Status write(KVBatch* batch, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return from_rocks(db_->Write(wo, &static_cast<RocksBatch*>(batch)->wb), dir_);
  }

  Status get(const std::string& key, std::string* value, bool* found) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, value);
    *found = s.ok();
    if (s.IsNotFound()) return Status::OK();
    return from_rocks(s, dir_);
  }

  Status scan(const std::string& begin, const std::string& end,
              const std::function<bool(const char*, size_t, const char*, size_t)>& fn) override {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(begin); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key(), v = it->value();
      if (!fn(k.data(), k.size(), v.data(), v.size())) break;
    }
    return from_rocks(it->status(), dir_);
  }

  Status last_key(const std::string& begin, const std::string& end, std::string* key,
                  bool* found) override {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower(begin);
    ro.iterate_lower_bound = &lower;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    it->SeekForPrev(end);
    *found = false;
    if (it->Valid() && it->key().compare(end) >= 0) it->Prev();
    if (it->Valid()) {
      *key = it->key().ToString();
      *found = true;
    }
    return from_rocks(it->status(), dir_);
  }

  Status compact_range(const std::string& begin, const std::string& end) override {
    rocksdb::Slice b(begin), e(end);
    rocksdb::CompactRangeOptions co;
    return from_rocks(db_->CompactRange(co, &b, &e), dir_);
  }

  std::string describe() const override { return dir_; }

 private:
  rocksdb::DB* db_;
  std::string dir_;
};

std::atomic<rocksdb::Env*> g_env_override{nullptr};

}  // namespace

void set_env_override(rocksdb::Env* env) { g_env_override.store(env); }
rocksdb::Env* env_override() { return g_env_override.load(); }

Status open_rocks_logdb(const RocksLogDBOptions& o, std::unique_ptr<LogDB>* out) {
  if (o.dir.empty()) return Status(ErrorCode::kInvalidOperation, "logdb: dir not set");
  if (o.shards == 0 || o.shards > 256) return Status(ErrorCode::kInvalidOperation, "logdb: shards must be 1..256");
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(o.block_cache_size);
  std::vector<std::unique_ptr<KV>> kvs;
  for (uint64_t i = 0; i < o.shards; ++i) {
    std::string dir = o.dir + "/shard-" + std::to_string(i);
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.paranoid_checks = true;
    // See rocks_logdb.h: drop only a torn tail, refuse corruption before it.
    opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    opts.avoid_flush_during_shutdown = true;
    opts.write_buffer_size = o.write_buffer_size;
    opts.max_write_buffer_number = o.max_write_buffer_number;
    opts.max_background_jobs = 2;
    opts.keep_log_file_num = 4;
    opts.max_manifest_file_size = 64 << 20;
    opts.compression = rocksdb::kLZ4Compression;
    // Values of 4 KiB and more (large entries, and batches of small ones:
    // one value per saved batch) go to blob files at flush, so compactions
    // move keys, not payloads; blobs are LZ4-compressed like the SST files.
    // Measured with incompressible and compressible 16-64 KiB entries
    // (docs/storage.md, "Large entries: blob files").
    opts.enable_blob_files = true;
    opts.min_blob_size = 4096;
    opts.blob_compression_type = rocksdb::kLZ4Compression;
    // Garbage collection costs large incompressible entries 20-35 % of
    // their rate, but without it a group whose log is never compacted pins
    // every blob file (one file holds all groups' entries) and no deleted
    // entry's space is ever freed (docs/storage.md has the measurements).
    opts.enable_blob_garbage_collection = true;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    if (!o.wal_dir.empty()) {
      opts.wal_dir = o.wal_dir + "/shard-" + std::to_string(i);
      Status made = io::ensure_dir(opts.wal_dir);
      if (!made.ok()) return Status(ErrorCode::kFatal, "logdb: cannot create " + opts.wal_dir + ": " + made.message());
    }
    if (o.env) opts.env = o.env;
    else if (rocksdb::Env* e = env_override()) opts.env = e;
    opts.listeners.push_back(std::make_shared<NoAutoRecovery>());
    // ensure_dir fsyncs each new directory's parent (RocksDB syncs only the
    // directory it writes in), so a shard cannot vanish in a power cut.
    Status made = io::ensure_dir(dir);
    if (!made.ok()) return Status(ErrorCode::kFatal, "logdb: cannot create " + dir + ": " + made.message());
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(opts, dir, &db);
    if (!s.ok()) {
      return from_rocks(s, "logdb: cannot open shard " + std::to_string(i) + " at " + dir);
    }
    kvs.push_back(std::make_unique<RocksKV>(db, dir));
  }
  *out = std::make_unique<ShardedLogDB>("rocksdb", std::move(kvs));
  return Status::OK();
}

}  // namespace dragonboat::logdb
