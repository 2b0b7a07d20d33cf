// NodeLog: the Raft core's view of a node's log over a LogDB.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "logdb/node_log.h"
#include "logdb/rocks_logdb.h"
#include "message_builder.h"

namespace dragonboat::logdb {
namespace {

using dragonboat::test::entry;  // message_builder.h
using dragonboat::test::snap;
using raft::Entry;

std::vector<Entry> make_entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(entry(i, term, std::string(100, static_cast<char>('a' + i % 26))));
  }
  return out;
}

NodeUpdate entries_update(std::vector<Entry> ents, raft::HardState st = {}) {
  NodeUpdate u;
  u.cluster_id = 1;
  u.node_id = 2;
  u.entries = std::move(ents);
  u.state = st;
  return u;
}

TEST(NodeLog, RecentEntriesAreServedFromTheCache) {
  auto db = new_mem_logdb();
  std::unique_ptr<NodeLog> log;
  ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 64 << 10, &log).ok());
  for (uint64_t i = 1; i <= 1000; i += 10) ASSERT_TRUE(log->save(entries_update(make_entries(i, i + 9, 1))).ok());
  EXPECT_EQ(log->last_index(), 1000u);
  std::vector<Entry> got;
  ASSERT_TRUE(log->entries(990, 1001, UINT64_MAX, &got).ok());
  EXPECT_EQ(got.size(), 11u);
  uint64_t t = 0;
  ASSERT_TRUE(log->term(995, &t).ok());
  EXPECT_EQ(t, 1u);
  EXPECT_EQ(log->db_reads(), 0u) << "a follower close behind must not cause LogDB reads";
  // The cache is bounded: old entries come from the LogDB, seamlessly.
  EXPECT_LT(log->cached_entries(), 1000u);
  got.clear();
  ASSERT_TRUE(log->entries(1, 1001, UINT64_MAX, &got).ok());
  ASSERT_EQ(got.size(), 1000u);
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_EQ(got[i].index, i + 1);
  EXPECT_GT(log->db_reads(), 0u);
}

TEST(NodeLog, OverwrittenSuffixIsReplacedInCacheAndDb) {
  auto db = new_mem_logdb();
  std::unique_ptr<NodeLog> log;
  ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 1 << 20, &log).ok());
  ASSERT_TRUE(log->save(entries_update(make_entries(1, 10, 1))).ok());
  ASSERT_TRUE(log->save(entries_update(make_entries(6, 8, 2))).ok());
  EXPECT_EQ(log->last_index(), 8u);
  uint64_t t = 0;
  ASSERT_TRUE(log->term(7, &t).ok());
  EXPECT_EQ(t, 2u);
  std::unique_ptr<NodeLog> reopened;
  ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 1 << 20, &reopened).ok());
  EXPECT_EQ(reopened->last_index(), 8u);
  ASSERT_TRUE(reopened->term(8, &t).ok());
  EXPECT_EQ(t, 2u);
}

TEST(NodeLog, SnapshotCompactionAndRestartOnRocksDB) {
  std::mt19937_64 rng(std::random_device{}());
  std::string dir = (std::filesystem::temp_directory_path() / ("dragonboat-nodelog-" + std::to_string(rng()))).string();
  {
    std::unique_ptr<LogDB> db;
    RocksLogDBOptions o;
    o.dir = dir;
    o.shards = 2;
    ASSERT_TRUE(open_rocks_logdb(o, &db).ok());
    std::unique_ptr<NodeLog> log;
    ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 1 << 20, &log).ok());
    ASSERT_TRUE(log->save(entries_update(make_entries(1, 50, 3), raft::HardState{3, 1, 40})).ok());
    raft::Snapshot ss = snap(40, 3).with_members({{1, "a"}, {2, "b"}});
    ASSERT_TRUE(log->save_snapshot(ss).ok());
    EXPECT_EQ(log->compact(45).code(), ErrorCode::kInvalidOperation) << "compaction beyond the snapshot";
    ASSERT_TRUE(log->compact(35).ok());
    EXPECT_EQ(log->first_index(), 36u);
    uint64_t t = 0;
    EXPECT_TRUE(log->term(35, &t).ok()) << "the compaction point keeps its term";
    EXPECT_EQ(log->term(34, &t).code(), ErrorCode::kCompacted);
  }
  std::unique_ptr<LogDB> db;
  RocksLogDBOptions o;
  o.dir = dir;
  o.shards = 2;
  ASSERT_TRUE(open_rocks_logdb(o, &db).ok());
  std::unique_ptr<NodeLog> log;
  ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 1 << 20, &log).ok());
  EXPECT_EQ(log->hard_state(), (raft::HardState{3, 1, 40}));
  EXPECT_EQ(log->snapshot().index, 40u);
  EXPECT_EQ(log->last_index(), 50u);
  // After a restart the oldest kept entry becomes the marker (its
  // predecessor's term is not stored), so entries from 37 are readable.
  EXPECT_EQ(log->first_index(), 37u);
  std::vector<Entry> got;
  ASSERT_TRUE(log->entries(37, 51, UINT64_MAX, &got).ok());
  EXPECT_EQ(got.size(), 14u);
  // An installed snapshot replaces the log.
  NodeUpdate u;
  u.cluster_id = 1;
  u.node_id = 2;
  u.snapshot = snap(100, 5);
  u.state = raft::HardState{5, 0, 100};
  ASSERT_TRUE(log->save(u).ok());
  EXPECT_EQ(log->first_index(), 101u);
  EXPECT_EQ(log->last_index(), 100u);
  uint64_t t = 0;
  ASSERT_TRUE(log->term(100, &t).ok());
  EXPECT_EQ(t, 5u);
  log.reset();
  ASSERT_TRUE(NodeLog::open(db.get(), 1, 2, 1 << 20, &log).ok());
  EXPECT_EQ(log->first_index(), 101u);
  EXPECT_EQ(log->last_index(), 100u);
  db.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dragonboat::logdb
