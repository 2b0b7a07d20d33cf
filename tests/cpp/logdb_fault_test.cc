// logdb_fault_test: RocksLogDB under injected I/O faults and on-disk damage.
//
//   - Fault injection: a rocksdb::FileSystemWrapper fails the next Sync/Fsync
//     or Append of a WAL file (*.log) with EIO or ENOSPC. save() must return
//     kFatal with a message naming the shard and the cause; every later write
//     must return kFatal without any further file I/O; a reopen with the
//     normal Env must show every batch acknowledged before the fault.
//   - WAL damage: a flipped byte in the middle of shard-0's WAL must fail the
//     open (kCorrupted, naming the shard directory); a torn tail (the last
//     record cut short) must be dropped silently with everything before it
//     intact and no batch partially visible. A side-by-side run of every
//     RocksDB WAL recovery mode on the same damage documents why the LogDB
//     uses kTolerateCorruptedTailRecords (printed as a table).
//   - Value damage: garbage stored under an entry key must make entries()
//     return kCorrupted naming the index and the shard.
//
// The workload: batch b writes entries [(b-1)*kPerBatch+1, b*kPerBatch] for
// every group, content derived from (cluster, index), hard state commit =
// the new last index. A batch is checkable: per shard it is one WriteBatch,
// so the groups of one shard hold the same number of whole batches.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/io_status.h>
#include <rocksdb/options.h>
#include <rocksdb/version.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "logdb/codec.h"
#include "logdb/rocks_logdb.h"
#include "logdb_workload.h"

namespace {

namespace fs = std::filesystem;
using dragonboat::ErrorCode;
using dragonboat::Status;
using dragonboat::logdb::KeyKind;
using dragonboat::logdb::LogDB;
using dragonboat::logdb::NodeUpdate;
using dragonboat::logdb::RaftState;
using dragonboat::logdb::RocksLogDBOptions;
using dragonboat::raft::Entry;
using dragonboat::test::same_entry;
using rocksdb::IOStatus;

constexpr uint64_t kPerBatch = 4;
constexpr uint64_t kNodeID = 1;

// ---- the workload ----------------------------------------------------------

Entry expected_entry(uint64_t c, uint64_t i) { return dragonboat::test::expected_entry(c, i); }

std::vector<NodeUpdate> make_batch(uint64_t b, uint64_t groups) {
  return dragonboat::test::make_batch(b, groups, kPerBatch, kNodeID, [](uint64_t) { return size_t{0}; });
}

// Whole batches group c holds; fails the test on a partial batch, a hole,
// wrong content or a hard state out of step with the entries.
uint64_t batches_held(LogDB* db, uint64_t c) {
  RaftState rs;
  Status s = db->read_raft_state(c, kNodeID, &rs);
  if (s.code() == ErrorCode::kUnavailable) return 0;
  if (!s.ok()) {
    ADD_FAILURE() << "read_raft_state(" << c << "): " << s.to_string();
    return 0;
  }
  const uint64_t last = rs.last_index;
  EXPECT_EQ(last % kPerBatch, 0u) << "cluster " << c << ": partial batch visible, last " << last;
  EXPECT_EQ(rs.state.commit, last) << "cluster " << c << ": hard state out of step";
  if (last == 0) return 0;
  EXPECT_EQ(rs.first_index, 1u) << "cluster " << c;
  std::vector<Entry> got;
  s = db->entries(c, kNodeID, 1, last + 1, ~uint64_t{0}, &got);
  EXPECT_TRUE(s.ok()) << "cluster " << c << ": " << s.to_string();
  EXPECT_EQ(got.size(), last) << "cluster " << c;
  for (const Entry& e : got) {
    if (!same_entry(e, expected_entry(c, e.index))) {
      ADD_FAILURE() << "cluster " << c << ": entry " << e.index << " has wrong content";
      break;
    }
  }
  return last / kPerBatch;
}

// Batches held per group (index = cluster ID; [0] unused), with the check
// that groups sharing a shard (one WriteBatch per save) hold the same number.
std::vector<uint64_t> held_by_group(LogDB* db, uint64_t groups) {
  std::vector<uint64_t> held(groups + 1, 0);
  for (uint64_t c = 1; c <= groups; ++c) held[c] = batches_held(db, c);
  for (uint64_t c = 1; c <= groups; ++c) {
    for (uint64_t d = c + 1; d <= groups; ++d) {
      if (db->shard_of(c) == db->shard_of(d)) {
        EXPECT_EQ(held[c], held[d]) << "clusters " << c << " and " << d
                                    << " share a shard: partial batch visible";
      }
    }
  }
  return held;
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/logdb_fault_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) std::abort();
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

Status open_db(const std::string& dir, uint64_t shards, std::unique_ptr<LogDB>* out,
               rocksdb::Env* env = nullptr) {
  RocksLogDBOptions o;
  o.dir = dir;
  o.shards = shards;
  o.env = env;
  return open_rocks_logdb(o, out);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- fault injection ---------------------------------------------------------

enum class Op { kSync, kAppend };
enum class Fault { kIOError, kNoSpace };

bool is_wal(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}
// The RocksDB info log ("LOG", "LOG.old.*") is written by a periodic
// background flush; it is not LogDB data and is not counted.
bool is_info_log(const std::string& fname) {
  return fs::path(fname).filename().string().rfind("LOG", 0) == 0;
}

class FaultFS : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFS(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}
  const char* Name() const override { return "DragonboatFaultFS"; }

  // Arms a one-shot fault on the next WAL operation of kind `op`. With
  // `partial`, a failing append first writes half its data (a short write,
  // as when the disk fills up mid-record).
  void arm(Op op, Fault f, bool partial = false) {
    fault_ = f;
    partial_ = partial;
    (op == Op::kSync ? sync_armed_ : append_armed_).store(true);
  }
  uint64_t injected() const { return injected_.load(); }
  // Appends, syncs and file creations on any file but the info log, made
  // by the thread that created this FaultFS (the test thread, which runs
  // save(): a synced RocksDB write does its WAL I/O in the caller's thread).
  // RocksDB's own background threads are not counted: after ENOSPC its
  // error handler later flushes the memtable and switches the WAL by itself.
  uint64_t data_io() const { return data_io_.load(); }

  IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                           rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->NewWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                              rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const rocksdb::FileOptions& o,
                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                             rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }

  // Called by FaultFile before each operation; a non-OK result is returned
  // instead of performing it (after writing a prefix when *partial is set).
  IOStatus before(const std::string& fname, Op op, bool* partial = nullptr) {
    count(fname);
    std::atomic<bool>& armed = op == Op::kSync ? sync_armed_ : append_armed_;
    if (is_wal(fname) && armed.exchange(false)) {
      injected_.fetch_add(1);
      if (partial != nullptr) *partial = partial_;
      const std::string what = std::string(op == Op::kSync ? "fsync" : "write") + " of WAL " +
                               fs::path(fname).filename().string();
      if (fault_ == Fault::kNoSpace) return IOStatus::NoSpace("injected ENOSPC", what);
      return IOStatus::IOError("injected EIO", what);
    }
    return IOStatus::OK();
  }

 private:
  IOStatus wrap(const std::string& fname, IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* r);
  void count(const std::string& fname) {
    if (!is_info_log(fname) && std::this_thread::get_id() == owner_) data_io_.fetch_add(1);
  }

  const std::thread::id owner_ = std::this_thread::get_id();
  std::atomic<bool> sync_armed_{false};
  std::atomic<bool> append_armed_{false};
  Fault fault_ = Fault::kIOError;
  bool partial_ = false;
  std::atomic<uint64_t> injected_{0};
  std::atomic<uint64_t> data_io_{0};
};

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile>&& f, FaultFS* fs, std::string fname)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), fname_(std::move(fname)) {}

  IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                  rocksdb::IODebugContext* dbg) override {
    bool partial = false;
    IOStatus s = fs_->before(fname_, Op::kAppend, &partial);
    if (s.ok()) return FSWritableFileOwnerWrapper::Append(d, o, dbg);
    if (partial) (void)FSWritableFileOwnerWrapper::Append(rocksdb::Slice(d.data(), d.size() / 2), o, dbg);
    return s;
  }
  IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                  const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
    bool partial = false;
    IOStatus s = fs_->before(fname_, Op::kAppend, &partial);
    if (s.ok()) return FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
    if (partial) (void)FSWritableFileOwnerWrapper::Append(rocksdb::Slice(d.data(), d.size() / 2), o, dbg);
    return s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off, const rocksdb::IOOptions& o,
                            rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->before(fname_, Op::kAppend);
    return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, dbg) : s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off, const rocksdb::IOOptions& o,
                            const rocksdb::DataVerificationInfo& v,
                            rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->before(fname_, Op::kAppend);
    return s.ok() ? FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, v, dbg) : s;
  }
  IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->before(fname_, Op::kSync);
    return s.ok() ? FSWritableFileOwnerWrapper::Sync(o, dbg) : s;
  }
  IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->before(fname_, Op::kSync);
    return s.ok() ? FSWritableFileOwnerWrapper::Fsync(o, dbg) : s;
  }
  IOStatus RangeSync(uint64_t off, uint64_t n, const rocksdb::IOOptions& o,
                     rocksdb::IODebugContext* dbg) override {
    IOStatus s = fs_->before(fname_, Op::kSync);
    return s.ok() ? FSWritableFileOwnerWrapper::RangeSync(off, n, o, dbg) : s;
  }

 private:
  FaultFS* fs_;
  std::string fname_;
};

IOStatus FaultFS::wrap(const std::string& fname, IOStatus s,
                       std::unique_ptr<rocksdb::FSWritableFile>* r) {
  count(fname);
  if (s.ok()) r->reset(new FaultFile(std::move(*r), this, fname));
  return s;
}

struct FaultCase {
  const char* name;
  Op op;
  Fault fault;
  bool partial = false;  // a short write before the error (appends only)
};

class LogDBFault : public testing::TestWithParam<FaultCase> {};

TEST_P(LogDBFault, FailedWalWriteIsFatalAndAcknowledgedBatchesSurvive) {
  const FaultCase fc = GetParam();
  constexpr uint64_t kShards = 2, kGroups = 4, kBefore = 20;
  TempDir dir;
  auto faultfs = std::make_shared<FaultFS>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(faultfs);
  {
    std::unique_ptr<LogDB> db;
    Status s = open_db(dir.path, kShards, &db, env.get());
    ASSERT_TRUE(s.ok()) << s.to_string();
    for (uint64_t b = 1; b <= kBefore; ++b) ASSERT_TRUE(db->save(make_batch(b, kGroups)).ok());

    faultfs->arm(fc.op, fc.fault, fc.partial);
    s = db->save(make_batch(kBefore + 1, kGroups));
    ASSERT_EQ(faultfs->injected(), 1u) << "the fault was never hit: RocksDB did not "
                                       << (fc.op == Op::kSync ? "sync" : "append to") << " a *.log";
    EXPECT_EQ(s.code(), ErrorCode::kFatal) << s.to_string();
    // Names the shard (shard 0 is written first) and the cause.
    EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
    EXPECT_TRUE(contains(s.message(), "injected")) << s.message();
    if (fc.fault == Fault::kNoSpace) {
      EXPECT_TRUE(contains(s.message(), "No space left on device")) << s.message();
    }
    std::printf("[%s] first failure: %s\n", fc.name, s.to_string().c_str());

    // From now on every write is refused before any file I/O.
    const uint64_t io_before = faultfs->data_io();
    ASSERT_GT(io_before, 0u) << "the I/O counter does not see the saves";
    for (uint64_t b = kBefore + 1; b <= kBefore + 5; ++b) {
      Status later = db->save(make_batch(b, kGroups));
      EXPECT_EQ(later.code(), ErrorCode::kFatal) << later.to_string();
      if (b == kBefore + 1) std::printf("[%s] later save: %s\n", fc.name, later.to_string().c_str());
    }
    EXPECT_EQ(db->save_bootstrap(1, kNodeID, dragonboat::logdb::Bootstrap{}).code(), ErrorCode::kFatal);
    EXPECT_EQ(db->remove_entries_to(1, kNodeID, 4).code(), ErrorCode::kFatal);
    EXPECT_EQ(db->compact(1, kNodeID, 4).code(), ErrorCode::kFatal);
    EXPECT_EQ(faultfs->data_io(), io_before) << "writes after the fault reached the file system";
    EXPECT_EQ(faultfs->injected(), 1u);

    // Reads still serve what was acknowledged.
    std::vector<Entry> got;
    EXPECT_TRUE(db->entries(1, kNodeID, 1, kBefore * kPerBatch + 1, ~uint64_t{0}, &got).ok());
    EXPECT_EQ(got.size(), kBefore * kPerBatch);
  }
  // Reopen with the normal Env: everything acknowledged is there. The failed
  // batch may be visible in shard 0 (its record reached the file but the
  // sync was not confirmed), never partially, and never in shard 1 (not
  // written: save() stopped at the first failed shard).
  std::unique_ptr<LogDB> db;
  Status s = open_db(dir.path, kShards, &db);
  ASSERT_TRUE(s.ok()) << s.to_string();
  std::vector<uint64_t> held = held_by_group(db.get(), kGroups);
  for (uint64_t c = 1; c <= kGroups; ++c) {
    EXPECT_GE(held[c], kBefore) << "cluster " << c << ": acknowledged batches lost";
    EXPECT_LE(held[c], kBefore + (db->shard_of(c) == 0 ? 1 : 0)) << "cluster " << c;
  }
  std::printf("[%s] after reopen: shard 0 holds %llu batches, shard 1 holds %llu (%llu acknowledged)\n",
              fc.name, static_cast<unsigned long long>(held[2]),
              static_cast<unsigned long long>(held[1]), static_cast<unsigned long long>(kBefore));
  // And the reopened LogDB is writable again.
  EXPECT_TRUE(db->save(make_batch(kBefore + 1, kGroups)).ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, LogDBFault,
                         testing::Values(FaultCase{"SyncEIO", Op::kSync, Fault::kIOError},
                                         FaultCase{"AppendEIO", Op::kAppend, Fault::kIOError},
                                         FaultCase{"AppendENOSPC", Op::kAppend, Fault::kNoSpace},
                                         FaultCase{"SyncENOSPC", Op::kSync, Fault::kNoSpace},
                                         FaultCase{"ShortAppendENOSPC", Op::kAppend, Fault::kNoSpace, true}),
                         [](const testing::TestParamInfo<FaultCase>& i) { return std::string(i.param.name); });

// ---- WAL damage -----------------------------------------------------------------

constexpr uint64_t kDamageShards = 4;
constexpr uint64_t kDamageGroups = 8;  // clusters 4 and 8 live in shard 0
constexpr uint64_t kDamageBatches = 150;
constexpr uint64_t kWalBlock = 32768;  // RocksDB log::kBlockSize
// The batch whose WAL record gets a bad length field in the mode table
// (chosen so that it starts in the last block of shard 0's WAL).
constexpr uint64_t kLengthVictim = kDamageBatches - 2;

std::string shard0_wal(const std::string& dir) {
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& f : fs::directory_iterator(dir + "/shard-0")) {
    if (is_wal(f.path().string()) && (best.empty() || f.file_size() > best_size)) {
      best = f.path().string();
      best_size = f.file_size();
    }
  }
  return best;
}

// Writes kDamageBatches synced batches in one session (so all of it is in
// the WAL: no flush) and closes. *last_record = the size of shard 0's WAL
// record for the final batch; (*sizes)[b] = shard 0's WAL size after batch b
// (so batch b's record starts at (*sizes)[b-1]).
void write_damage_fixture(const std::string& dir, uint64_t* last_record,
                          std::vector<uint64_t>* sizes = nullptr) {
  std::unique_ptr<LogDB> db;
  Status s = open_db(dir, kDamageShards, &db);
  ASSERT_TRUE(s.ok()) << s.to_string();
  std::vector<uint64_t> after(1, fs::file_size(shard0_wal(dir)));
  for (uint64_t b = 1; b <= kDamageBatches; ++b) {
    ASSERT_TRUE(db->save(make_batch(b, kDamageGroups)).ok());
    after.push_back(fs::file_size(shard0_wal(dir)));
  }
  *last_record = after[kDamageBatches] - after[kDamageBatches - 1];
  if (sizes != nullptr) *sizes = after;
  db.reset();
  // Nothing but the WAL holds the data: no SST file was written.
  for (const auto& f : fs::directory_iterator(dir + "/shard-0")) {
    ASSERT_NE(f.path().extension(), ".sst") << "a flush happened; the fixture must stay in the WAL";
  }
}

void flip_byte(const std::string& file, uintmax_t off) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(off));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(off));
  f.write(&c, 1);
}

void zero_bytes(const std::string& file, uintmax_t off, uintmax_t n) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(off));
  std::string zeros(n, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(n));
}

TEST(LogDBCorruption, FlippedByteInsideTheWalFailsTheOpen) {
  // Several places in the file, each on a fresh directory.
  for (double where : {0.25, 0.5, 0.75}) {
    TempDir dir;
    uint64_t last_record = 0;
    ASSERT_NO_FATAL_FAILURE(write_damage_fixture(dir.path, &last_record));
    const std::string wal = shard0_wal(dir.path);
    const uintmax_t size = fs::file_size(wal);
    ASSERT_GT(size, 16u << 10);
    flip_byte(wal, static_cast<uintmax_t>(static_cast<double>(size) * where));
    std::unique_ptr<LogDB> db;
    Status s = open_db(dir.path, kDamageShards, &db);
    EXPECT_FALSE(s.ok()) << "a damaged WAL record at " << where << " of the file was accepted";
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
    EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
    if (where == 0.5) std::printf("flipped byte at the middle of the WAL: %s\n", s.to_string().c_str());
  }
}

TEST(LogDBCorruption, TornTailIsDroppedAndEverythingBeforeItIsIntact) {
  TempDir probe;
  uint64_t rec = 0;
  ASSERT_NO_FATAL_FAILURE(write_damage_fixture(probe.path, &rec));
  ASSERT_GT(rec, 10u);
  // Cuts from one byte up to the whole last record: inside its payload,
  // leaving only part of its 7-byte header, and exactly its header.
  for (uint64_t cut : {uint64_t{1}, uint64_t{3}, rec / 2, rec - 7, rec - 3, rec}) {
    TempDir dir;
    uint64_t r = 0;
    ASSERT_NO_FATAL_FAILURE(write_damage_fixture(dir.path, &r));
    ASSERT_EQ(r, rec);
    const std::string wal = shard0_wal(dir.path);
    fs::resize_file(wal, fs::file_size(wal) - cut);
    {
      std::unique_ptr<LogDB> db;
      Status s = open_db(dir.path, kDamageShards, &db);
      ASSERT_TRUE(s.ok()) << "torn tail (" << cut << " of " << rec << " bytes cut): " << s.to_string();
      std::vector<uint64_t> held = held_by_group(db.get(), kDamageGroups);
      for (uint64_t c = 1; c <= kDamageGroups; ++c) {
        // Shard 0 lost exactly its last batch; the other shards nothing.
        uint64_t want = db->shard_of(c) == 0 ? kDamageBatches - 1 : kDamageBatches;
        EXPECT_EQ(held[c], want) << "cluster " << c << ", " << cut << " bytes cut";
      }
      // The recovered LogDB takes the lost batch again and more.
      ASSERT_TRUE(db->save(make_batch(kDamageBatches, kDamageGroups)).ok());
      ASSERT_TRUE(db->save(make_batch(kDamageBatches + 1, kDamageGroups)).ok());
    }
    std::unique_ptr<LogDB> db;
    Status s = open_db(dir.path, kDamageShards, &db);
    ASSERT_TRUE(s.ok()) << s.to_string();
    std::vector<uint64_t> held = held_by_group(db.get(), kDamageGroups);
    for (uint64_t c = 1; c <= kDamageGroups; ++c) EXPECT_EQ(held[c], kDamageBatches + 1);
  }
  std::printf("torn tail: cuts of 1, 3, %llu, %llu, %llu and %llu bytes of the last %llu-byte record "
              "recovered\n",
              static_cast<unsigned long long>(rec / 2), static_cast<unsigned long long>(rec - 7),
              static_cast<unsigned long long>(rec - 3), static_cast<unsigned long long>(rec),
              static_cast<unsigned long long>(rec));
}

// A tail record of full length whose bytes were not all written (e.g. a
// power loss after the file size, but not all data, reached the disk; zeros
// where data should be). The record fails its checksum and RocksDB cannot
// tell it from damage inside the log: the open is refused. This is the
// price of never dropping acknowledged data silently (see the mode table).
TEST(LogDBCorruption, GarbledTailRecordIsRefusedNotGuessed) {
  TempDir dir;
  uint64_t rec = 0;
  ASSERT_NO_FATAL_FAILURE(write_damage_fixture(dir.path, &rec));
  const std::string wal = shard0_wal(dir.path);
  const uintmax_t size = fs::file_size(wal);
  zero_bytes(wal, size - 16, 16);  // the end of the last record's payload
  std::unique_ptr<LogDB> db;
  Status s = open_db(dir.path, kDamageShards, &db);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
  EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
  std::printf("garbled (zeroed) tail record: %s\n", s.to_string().c_str());
}

// Opens a copy of `damaged` with plain RocksDB in `mode` and counts the
// whole batches shard 0 then holds (its groups' entries / kPerBatch, the
// smallest over its groups). -1 when the open fails.
long batches_under_mode(const std::string& damaged, rocksdb::WALRecoveryMode mode, std::string* err) {
  TempDir copy;
  fs::copy(damaged + "/shard-0", copy.path + "/shard-0", fs::copy_options::recursive);
  rocksdb::Options o;
  o.create_if_missing = false;
  o.paranoid_checks = true;
  o.wal_recovery_mode = mode;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, copy.path + "/shard-0", &raw);
  if (!s.ok()) {
    *err = s.ToString();
    return -1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<uint64_t, uint64_t> entries;  // cluster -> count
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    KeyKind k;
    uint64_t c, n, i;
    if (dragonboat::logdb::parse_key(it->key().data(), it->key().size(), &k, &c, &n, &i) &&
        k == KeyKind::kEntry) {
      std::vector<Entry> batch;  // entries are stored in batches
      if (dragonboat::logdb::decode_entry_batch(it->value().data(), it->value().size(), i, &batch).ok())
        entries[c] += batch.size();
    }
  }
  uint64_t least = ~uint64_t{0};
  for (uint64_t c = kDamageShards; c <= kDamageGroups; c += kDamageShards) {
    least = std::min<uint64_t>(least, entries[c] / kPerBatch);
  }
  return static_cast<long>(least);
}

// The evidence for the LogDB's choice of WAL recovery mode: each kind of
// damage under each mode, on the same bytes. The right mode for a Raft log
// refuses damage inside synced data (dropping acknowledged entries or votes
// would let a node break its promises) and accepts a torn, never
// acknowledged, tail. Only kTolerateCorruptedTailRecords does both.
TEST(LogDBCorruption, RecoveryModeTable) {
  using Sizes = std::vector<uint64_t>;
  struct Damage {
    const char* name;
    void (*apply)(const std::string& wal, uint64_t rec, const Sizes& sizes);
  };
  const Damage damages[] = {
      {"flipped byte mid-WAL",
       [](const std::string& w, uint64_t, const Sizes&) { flip_byte(w, fs::file_size(w) / 2); }},
      {"torn tail (3 B cut)",
       [](const std::string& w, uint64_t, const Sizes&) { fs::resize_file(w, fs::file_size(w) - 3); }},
      {"torn tail (header only)",
       [](const std::string& w, uint64_t rec, const Sizes&) { fs::resize_file(w, fs::file_size(w) - rec + 7); }},
      {"garbled tail (zeros)",
       [](const std::string& w, uint64_t, const Sizes&) { zero_bytes(w, fs::file_size(w) - 16, 16); }},
      // The length field of the record of batch kLengthVictim, a synced record
      // in the file's last 32 KiB block with two more records after it, set
      // past the end of the file. The record CRC does not cover the length.
      {"length field, last block",
       [](const std::string& w, uint64_t, const Sizes& sizes) {
         const uint64_t at = sizes[kLengthVictim - 1] + 4;  // header: crc32(4) len(2) type(1)
         std::fstream f(w, std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(static_cast<std::streamoff>(at));
         const char len[2] = {'\xf0', '\x7f'};  // 32752, little-endian
         f.write(len, 2);
       }},
  };
  struct Mode {
    const char* name;
    rocksdb::WALRecoveryMode mode;
  };
  const Mode modes[] = {
      {"TolerateCorruptedTailRecords", rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords},
      {"AbsoluteConsistency", rocksdb::WALRecoveryMode::kAbsoluteConsistency},
      {"PointInTimeRecovery", rocksdb::WALRecoveryMode::kPointInTimeRecovery},
      {"SkipAnyCorruptedRecords", rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords},
  };
  std::printf("WAL recovery modes, RocksDB %d.%d.%d; shard 0 had %llu acknowledged batches; "
              "cell = batches recovered or 'refused'\n",
              ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH,
              static_cast<unsigned long long>(kDamageBatches));
  std::printf("  %-26s", "damage");
  for (const Mode& m : modes) std::printf(" %-29s", m.name);
  std::printf("\n");
  for (const Damage& d : damages) {
    TempDir dir;
    uint64_t rec = 0;
    std::vector<uint64_t> sizes;
    ASSERT_NO_FATAL_FAILURE(write_damage_fixture(dir.path, &rec, &sizes));
    // The victim record must lie in the last block, clear of block padding.
    const uint64_t victim = sizes[kLengthVictim - 1];
    ASSERT_EQ(victim / kWalBlock, sizes.back() / kWalBlock) << "fixture: victim not in the last block";
    ASSERT_LE(victim % kWalBlock, kWalBlock - 7);
    d.apply(shard0_wal(dir.path), rec, sizes);
    std::printf("  %-26s", d.name);
    for (const Mode& m : modes) {
      std::string err;
      long n = batches_under_mode(dir.path, m.mode, &err);
      std::string cell = n < 0 ? "refused" : std::to_string(n);
      std::printf(" %-29s", cell.c_str());
      if (m.mode == rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords) {
        // What the LogDB relies on.
        const bool mid = d.name[0] == 'f', garbled = d.name[0] == 'g', length = d.name[0] == 'l';
        if (length) {
          // KNOWN LIMITATION of RocksDB 7.8 (and of the WAL format): a
          // record length running past the end of the last block reads as a
          // torn tail, so this mode silently drops that record and every
          // later one, acknowledged or not. Only kAbsoluteConsistency refuses
          // it, but it also refuses a genuine torn tail. Fails here if a
          // RocksDB upgrade changes this; then revisit docs and this table.
          EXPECT_EQ(n, static_cast<long>(kLengthVictim) - 1) << err;
        } else if (mid || garbled) {
          EXPECT_LT(n, 0) << d.name << ": accepted under the LogDB's mode";
        } else {
          EXPECT_EQ(n, static_cast<long>(kDamageBatches) - 1) << d.name << ": " << err;
        }
      }
    }
    std::printf("\n");
  }
}

// ---- value damage -----------------------------------------------------------------

TEST(LogDBCorruption, GarbageEntryValueIsReportedWithItsIndex) {
  constexpr uint64_t kShards = 4, kGroups = 4, kBatches = 10;
  TempDir dir;
  {
    std::unique_ptr<LogDB> db;
    ASSERT_TRUE(open_db(dir.path, kShards, &db).ok());
    for (uint64_t b = 1; b <= kBatches; ++b) ASSERT_TRUE(db->save(make_batch(b, kGroups)).ok());
  }
  // Three kinds of bad value, in three groups (three shards), through a raw
  // RocksDB handle on each shard directory.
  struct Bad {
    uint64_t cluster;
    uint64_t index;
    std::string value;
  };
  // Entries are stored in batches of kPerBatch under their last index: the
  // bad values replace whole batches.
  std::string other_index;
  Entry thirty = expected_entry(3, 30);
  dragonboat::logdb::encode_entry_batch(&thirty, 1, &other_index);  // stored under 16
  const Bad bad[] = {
      {1, 12, std::string("\x02\xff", 2)},   // a varint running off the end
      {2, 20, std::string("\x07garbage")},    // an unknown format byte
      {3, 16, other_index},                   // a valid batch of another index
  };
  for (const Bad& b : bad) {
    rocksdb::Options o;
    o.create_if_missing = false;
    rocksdb::DB* raw = nullptr;
    const std::string shard_dir = dir.path + "/shard-" + std::to_string(b.cluster % kShards);
    rocksdb::Status s = rocksdb::DB::Open(o, shard_dir, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Put(wo, dragonboat::logdb::index_key(KeyKind::kEntry, b.cluster, kNodeID, b.index),
                        b.value)
                    .ok());
  }
  // A hard state value too.
  {
    rocksdb::Options o;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir.path + "/shard-0", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Put(wo, dragonboat::logdb::node_key(KeyKind::kHardState, 4, kNodeID), "\x01").ok());
  }
  std::unique_ptr<LogDB> db;
  Status s = open_db(dir.path, kShards, &db);
  ASSERT_TRUE(s.ok()) << s.to_string();
  for (const Bad& b : bad) {
    std::vector<Entry> got;
    s = db->entries(b.cluster, kNodeID, 1, kBatches * kPerBatch + 1, ~uint64_t{0}, &got);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << "cluster " << b.cluster << ": " << s.to_string();
    EXPECT_TRUE(contains(s.message(), "index " + std::to_string(b.index))) << s.message();
    EXPECT_TRUE(contains(s.message(), dir.path + "/shard-" + std::to_string(b.cluster % kShards)))
        << s.message();
    std::printf("cluster %llu: %s\n", static_cast<unsigned long long>(b.cluster), s.to_string().c_str());
    // The entries before the damage are still served.
    got.clear();
    s = db->entries(b.cluster, kNodeID, 1, b.index - kPerBatch + 1, ~uint64_t{0}, &got);
    EXPECT_TRUE(s.ok()) << s.to_string();
    EXPECT_EQ(got.size(), b.index - kPerBatch);
  }
  RaftState rs;
  s = db->read_raft_state(4, kNodeID, &rs);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
  EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
  std::printf("cluster 4 hard state: %s\n", s.to_string().c_str());
}

// A damaged table file (after the WAL was flushed to an SST on reopen): a
// read that meets the bad block reports kCorrupted naming the shard; it is
// never served as a hole or as wrong data.
TEST(LogDBCorruption, DamagedSstBlockIsReportedAsCorrupted) {
  constexpr uint64_t kShards = 1, kGroups = 2, kBatches = 100;
  TempDir dir;
  {
    std::unique_ptr<LogDB> db;
    ASSERT_TRUE(open_db(dir.path, kShards, &db).ok());
    for (uint64_t b = 1; b <= kBatches; ++b) ASSERT_TRUE(db->save(make_batch(b, kGroups)).ok());
  }
  {
    // Reopening replays the WAL into a table file (and drops the WAL).
    std::unique_ptr<LogDB> db;
    ASSERT_TRUE(open_db(dir.path, kShards, &db).ok());
  }
  std::string sst;
  for (const auto& f : fs::directory_iterator(dir.path + "/shard-0")) {
    if (f.path().extension() == ".sst") sst = f.path().string();
  }
  ASSERT_FALSE(sst.empty()) << "no table file was written";
  flip_byte(sst, 200);  // inside the first data block (cluster 1's first entries)
  std::unique_ptr<LogDB> db;
  Status s = open_db(dir.path, kShards, &db);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
    EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
    std::printf("damaged SST block, open: %s\n", s.to_string().c_str());
    return;
  }
  std::vector<Entry> got;
  s = db->entries(1, kNodeID, 1, kBatches * kPerBatch + 1, ~uint64_t{0}, &got);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string() << " (" << got.size() << " entries)";
  EXPECT_TRUE(contains(s.message(), dir.path + "/shard-0")) << s.message();
  std::printf("damaged SST block, entries(): %s\n", s.to_string().c_str());
  RaftState rs;
  s = db->read_raft_state(1, kNodeID, &rs);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
  // Groups whose records are in undamaged blocks are still served.
  got.clear();
  s = db->entries(2, kNodeID, kBatches * kPerBatch - 3, kBatches * kPerBatch + 1, ~uint64_t{0}, &got);
  std::printf("damaged SST block, cluster 2's last entries: %s, %zu entries\n", s.to_string().c_str(),
              got.size());
}

}  // namespace
