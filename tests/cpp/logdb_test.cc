// LogDB conformance suite: every test runs against the in-memory LogDB and
// the RocksDB LogDB (1 and 4 shards) and must behave identically.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "logdb/logdb.h"
#include "logdb/rocks_logdb.h"
#include "message_builder.h"

namespace dragonboat::logdb {
namespace {

using dragonboat::test::entry;  // message_builder.h
using dragonboat::test::snap;
using raft::Entry;
using raft::HardState;
using raft::Snapshot;

std::string temp_dir(const std::string& tag) {
  static std::mt19937_64 rng(std::random_device{}());
  auto p = std::filesystem::temp_directory_path() / ("dragonboat-logdb-" + tag + "-" + std::to_string(rng()));
  std::filesystem::create_directories(p);
  return p.string();
}

struct Backend {
  std::string name;
  uint64_t shards;
  bool durable;
};
void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class LogDBConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().durable) dir_ = temp_dir(GetParam().name);
    open();
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void open() {
    db_.reset();
    if (!GetParam().durable) {
      db_ = new_mem_logdb(GetParam().shards);
      return;
    }
    RocksLogDBOptions o;
    o.dir = dir_;
    o.shards = GetParam().shards;
    ASSERT_TRUE(open_rocks_logdb(o, &db_).ok());
  }

  static std::vector<Entry> make_entries(uint64_t first, uint64_t last, uint64_t term, const std::string& tag = "") {
    std::vector<Entry> out;
    for (uint64_t i = first; i <= last; ++i) {
      out.push_back(entry(i, term, "cmd-" + tag + std::to_string(i)).with_key(i * 7).with_session(3, i));
    }
    return out;
  }
  NodeUpdate update(uint64_t c, uint64_t n, std::vector<Entry> ents, HardState st = {}) {
    NodeUpdate u;
    u.cluster_id = c;
    u.node_id = n;
    u.entries = std::move(ents);
    u.state = st;
    return u;
  }
  std::vector<Entry> read(uint64_t c, uint64_t n, uint64_t lo, uint64_t hi, uint64_t max = UINT64_MAX) {
    std::vector<Entry> out;
    Status s = db_->entries(c, n, lo, hi, max, &out);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return out;
  }

  std::string dir_;
  std::unique_ptr<LogDB> db_;
};

void expect_same(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].term, b[i].term);
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].client_id, b[i].client_id);
    EXPECT_EQ(a[i].series_id, b[i].series_id);
    EXPECT_EQ(a[i].cmd, b[i].cmd);
    EXPECT_EQ(a[i].type, b[i].type);
  }
}

TEST_P(LogDBConformance, NothingStoredIsUnavailable) {
  RaftState rs;
  EXPECT_EQ(db_->read_raft_state(1, 1, &rs).code(), ErrorCode::kUnavailable);
  Bootstrap b;
  EXPECT_EQ(db_->get_bootstrap(1, 1, &b).code(), ErrorCode::kClusterNotBootstrapped);
  Snapshot ss;
  EXPECT_EQ(db_->get_snapshot(1, 1, &ss).code(), ErrorCode::kNoSnapshot);
}

TEST_P(LogDBConformance, ManyGroupsInOneSaveReadBack) {
  std::vector<NodeUpdate> batch;
  for (uint64_t c = 1; c <= 48; ++c) batch.push_back(update(c, 2, make_entries(1, 10, 3), HardState{3, 2, 8}));
  ASSERT_TRUE(db_->save(batch).ok());
  for (uint64_t c = 1; c <= 48; ++c) {
    RaftState rs;
    ASSERT_TRUE(db_->read_raft_state(c, 2, &rs).ok());
    EXPECT_EQ(rs.first_index, 1u);
    EXPECT_EQ(rs.last_index, 10u);
    EXPECT_EQ(rs.state, (HardState{3, 2, 8}));
    expect_same(read(c, 2, 1, 11), make_entries(1, 10, 3));
  }
  // Other nodes of the same cluster are separate.
  RaftState rs;
  EXPECT_EQ(db_->read_raft_state(1, 3, &rs).code(), ErrorCode::kUnavailable);
}

TEST_P(LogDBConformance, EmptyHardStateLeavesThePreviousOne) {
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 3, 1), HardState{1, 1, 2})}).ok());
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(4, 5, 1))}).ok());
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.state, (HardState{1, 1, 2}));
  EXPECT_EQ(rs.last_index, 5u);
}

TEST_P(LogDBConformance, EntriesRespectByteBudgetButReturnAtLeastOne) {
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 100, 1))}).ok());
  auto one = read(1, 1, 1, 101, 1);
  EXPECT_EQ(one.size(), 1u);
  uint64_t ten = 0;
  for (const auto& e : make_entries(1, 10, 1)) ten += e.size_bytes();
  auto some = read(1, 1, 1, 101, ten);
  EXPECT_EQ(some.size(), 10u);
  EXPECT_EQ(read(1, 1, 1, 101, ten - 1).size(), 9u);
  auto all = read(1, 1, 1, 101);
  EXPECT_EQ(all.size(), 100u);
}

TEST_P(LogDBConformance, OverwrittenSuffixIsRemoved) {
  // §5.3: a conflicting suffix is replaced; entries past the new tail vanish.
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 10, 1))}).ok());
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(6, 7, 2, "new"))}).ok());
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.last_index, 7u);
  auto got = read(1, 1, 1, 8);
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[4].term, 1u);
  EXPECT_EQ(got[5].term, 2u);
  EXPECT_EQ(got[6].cmd, "cmd-new7");
  std::vector<Entry> out;
  EXPECT_EQ(db_->entries(1, 1, 8, 9, UINT64_MAX, &out).code(), ErrorCode::kUnavailable);
  // The same holds inside one batch: later updates of a node win.
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(8, 12, 2)), update(1, 1, make_entries(9, 9, 3))}).ok());
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.last_index, 9u);
}

TEST_P(LogDBConformance, OverwriteAndCompactionInsideStoredBatches) {
  // Entries are stored in batches (up to 512 per key): overwriting from,
  // and removing up to, an index inside a batch keeps its other entries.
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 1500, 1))}).ok());
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(700, 799, 2, "new"))}).ok());
  auto old_part = make_entries(1, 699, 1);
  auto new_part = make_entries(700, 799, 2, "new");
  expect_same(read(1, 1, 1, 700), old_part);
  expect_same(read(1, 1, 700, 800), new_part);
  std::vector<Entry> out;
  EXPECT_EQ(db_->entries(1, 1, 800, 801, UINT64_MAX, &out).code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(db_->remove_entries_to(1, 1, 600).ok());
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.first_index, 601u);
  EXPECT_EQ(rs.last_index, 799u);
  EXPECT_EQ(db_->entries(1, 1, 600, 700, UINT64_MAX, &out).code(), ErrorCode::kCompacted);
  expect_same(read(1, 1, 601, 700), make_entries(601, 699, 1));
  // A byte budget stops inside a batch.
  auto few = read(1, 1, 601, 800, 3 * make_entries(601, 601, 1)[0].size_bytes());
  EXPECT_EQ(few.size(), 3u);
}

TEST_P(LogDBConformance, InstalledSnapshotReplacesTheLog) {
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 10, 1))}).ok());
  NodeUpdate u = update(1, 1, {}, HardState{4, 0, 20});
  u.snapshot = snap(20, 4).with_members({{1, "a"}, {2, "b"}}).with_file("/snapshots/x", 1234);
  ASSERT_TRUE(db_->save({u}).ok());
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.last_index, 0u);
  EXPECT_EQ(rs.state.commit, 20u);
  Snapshot ss;
  ASSERT_TRUE(db_->get_snapshot(1, 1, &ss).ok());
  EXPECT_EQ(ss.index, 20u);
  EXPECT_EQ(ss.term, 4u);
  EXPECT_EQ(ss.membership, u.snapshot.membership);
  EXPECT_EQ(ss.filepath, "/snapshots/x");
  EXPECT_EQ(ss.file_size, 1234u);
  // Replication resumes after the snapshot.
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(21, 22, 4))}).ok());
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.first_index, 21u);
  EXPECT_EQ(rs.last_index, 22u);
}

TEST_P(LogDBConformance, RemoveEntriesToAndCompact) {
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(1, 20, 1))}).ok());
  ASSERT_TRUE(db_->remove_entries_to(1, 1, 12).ok());
  ASSERT_TRUE(db_->compact(1, 1, 12).ok());
  std::vector<Entry> out;
  EXPECT_EQ(db_->entries(1, 1, 5, 15, UINT64_MAX, &out).code(), ErrorCode::kCompacted);
  expect_same(read(1, 1, 13, 21), make_entries(13, 20, 1));
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.first_index, 13u);
  EXPECT_EQ(rs.last_index, 20u);
  // Removing everything leaves an empty log that new entries extend.
  ASSERT_TRUE(db_->remove_entries_to(1, 1, 20).ok());
  // No hard state was ever saved and no entry is left: nothing stored.
  EXPECT_EQ(db_->read_raft_state(1, 1, &rs).code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(db_->save({update(1, 1, make_entries(21, 21, 1))}).ok());
  ASSERT_TRUE(db_->read_raft_state(1, 1, &rs).ok());
  EXPECT_EQ(rs.first_index, 21u);
  EXPECT_EQ(rs.last_index, 21u);
}

TEST_P(LogDBConformance, BootstrapRecordsAndListNodes) {
  Bootstrap b;
  b.addresses = {{1, "h1:1"}, {2, "h2:1"}, {3, "h3:1"}};
  b.state_machine_type = 2;
  ASSERT_TRUE(db_->save_bootstrap(7, 1, b).ok());
  Bootstrap j;
  j.join = true;
  ASSERT_TRUE(db_->save_bootstrap(3, 4, j).ok());
  ASSERT_TRUE(db_->save_bootstrap(7, 2, b).ok());
  Bootstrap got;
  ASSERT_TRUE(db_->get_bootstrap(7, 1, &got).ok());
  EXPECT_EQ(got.addresses, b.addresses);
  EXPECT_FALSE(got.join);
  EXPECT_EQ(got.state_machine_type, 2);
  ASSERT_TRUE(db_->get_bootstrap(3, 4, &got).ok());
  EXPECT_TRUE(got.join);
  std::vector<NodeInfo> nodes;
  ASSERT_TRUE(db_->list_nodes(&nodes).ok());
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0], (NodeInfo{3, 4}));
  EXPECT_EQ(nodes[1], (NodeInfo{7, 1}));
  EXPECT_EQ(nodes[2], (NodeInfo{7, 2}));
}

TEST_P(LogDBConformance, RemoveNodeDataRemovesEverythingOfThatNodeOnly) {
  Bootstrap b;
  b.addresses = {{1, "a"}};
  for (uint64_t n : {1, 2}) {
    ASSERT_TRUE(db_->save_bootstrap(5, n, b).ok());
    NodeUpdate u = update(5, n, make_entries(1, 5, 1), HardState{1, 1, 5});
    ASSERT_TRUE(db_->save({u}).ok());
  }
  ASSERT_TRUE(db_->remove_node_data(5, 1).ok());
  RaftState rs;
  EXPECT_EQ(db_->read_raft_state(5, 1, &rs).code(), ErrorCode::kUnavailable);
  Bootstrap got;
  EXPECT_EQ(db_->get_bootstrap(5, 1, &got).code(), ErrorCode::kNodeRemoved) << "the tombstone stays";
  EXPECT_EQ(db_->get_bootstrap(5, 3, &got).code(), ErrorCode::kClusterNotBootstrapped) << "never there";
  ASSERT_TRUE(db_->read_raft_state(5, 2, &rs).ok());
  EXPECT_EQ(rs.last_index, 5u);
  std::vector<NodeInfo> nodes;
  ASSERT_TRUE(db_->list_nodes(&nodes).ok());
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0], (NodeInfo{5, 2}));
  // Importing a snapshot (an operator's repair) is the one way back.
  ASSERT_TRUE(db_->import_snapshot(1, 5, snap(100, 9).with_members({{1, "x"}})).ok());
  EXPECT_TRUE(db_->get_bootstrap(5, 1, &got).ok());
}

TEST_P(LogDBConformance, SnapshotRecordsKeepTheLatestAndPrune) {
  for (uint64_t idx : {10, 20, 30}) {
    NodeUpdate u = update(1, 1, {});
    u.snapshot = snap(idx, 2);
    ASSERT_TRUE(db_->save({u}).ok());
  }
  Snapshot ss;
  ASSERT_TRUE(db_->get_snapshot(1, 1, &ss).ok());
  EXPECT_EQ(ss.index, 30u);
  ASSERT_TRUE(db_->remove_snapshots_before(1, 1, 30).ok());
  ASSERT_TRUE(db_->get_snapshot(1, 1, &ss).ok());
  EXPECT_EQ(ss.index, 30u);
}

TEST_P(LogDBConformance, ImportSnapshotMakesItTheOnlyState) {
  ASSERT_TRUE(db_->save({update(2, 1, make_entries(1, 50, 3), HardState{5, 2, 40})}).ok());
  Snapshot ss = snap(100, 9).with_members({{1, "x"}});
  ASSERT_TRUE(db_->import_snapshot(1, 2, ss).ok());
  RaftState rs;
  ASSERT_TRUE(db_->read_raft_state(2, 1, &rs).ok());
  EXPECT_EQ(rs.last_index, 0u);
  EXPECT_EQ(rs.state, (HardState{9, 0, 100}));
  Snapshot got;
  ASSERT_TRUE(db_->get_snapshot(2, 1, &got).ok());
  EXPECT_EQ(got.index, 100u);
  Bootstrap b;
  ASSERT_TRUE(db_->get_bootstrap(2, 1, &b).ok());
  EXPECT_EQ(b.addresses, ss.membership.addresses);
}

TEST_P(LogDBConformance, EverythingSurvivesReopen) {
  if (!GetParam().durable) GTEST_SKIP() << "in-memory LogDB does not survive a reopen";
  Bootstrap b;
  b.addresses = {{1, "a"}, {2, "b"}};
  ASSERT_TRUE(db_->save_bootstrap(9, 1, b).ok());
  std::vector<NodeUpdate> batch;
  for (uint64_t c = 1; c <= 16; ++c) batch.push_back(update(c, 1, make_entries(1, 30, 2), HardState{2, 1, 25}));
  ASSERT_TRUE(db_->save(batch).ok());
  ASSERT_TRUE(db_->save({update(3, 1, make_entries(28, 29, 3, "x"))}).ok());
  open();
  for (uint64_t c = 1; c <= 16; ++c) {
    RaftState rs;
    ASSERT_TRUE(db_->read_raft_state(c, 1, &rs).ok());
    EXPECT_EQ(rs.state, (HardState{2, 1, 25}));
    EXPECT_EQ(rs.last_index, c == 3 ? 29u : 30u);
  }
  Bootstrap got;
  ASSERT_TRUE(db_->get_bootstrap(9, 1, &got).ok());
  EXPECT_EQ(got.addresses, b.addresses);
  EXPECT_EQ(read(3, 1, 29, 30)[0].cmd, "cmd-x29");
}

INSTANTIATE_TEST_SUITE_P(Backends, LogDBConformance,
                         ::testing::Values(Backend{"memory", 1, false}, Backend{"memory4", 4, false},
                                           Backend{"rocksdb", 1, true}, Backend{"rocksdb4", 4, true}),
                         [](const ::testing::TestParamInfo<Backend>& i) { return i.param.name; });

}  // namespace
}  // namespace dragonboat::logdb
