// tools::read_host_dir and tools::check_exported_snapshot (dragonboat/tools.h):
// what `dragonboat info` and `dragonboat import-snapshot` show and verify.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checker_sm.h"
#include "dragonboat/tools.h"
#include "nodehost_fixture.h"

namespace dragonboat::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<IStateMachine> make_checker(uint64_t, uint64_t) {
  return std::make_unique<dragonboat::testing::CheckerSM>();
}

TEST(ToolsInspect, ReadsAStoppedHostAndVerifiesItsExport) {
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  NodeHost& nh = *tc.hosts[0];
  ASSERT_TRUE(nh.start_cluster(tc.members(), false, make_checker, TestCluster::config(9, 1)).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(tc.propose(0, nh.get_noop_session(9), "c" + std::to_string(i)).ok());
  const std::string exported = temp_dir("export");
  SnapshotOption eo;
  eo.exported = true;
  eo.export_path = exported;
  uint64_t index = 0;
  ASSERT_TRUE(nh.sync_request_snapshot(9, eo, 5s, &index).ok());

  tools::HostDirInfo info;
  EXPECT_EQ(tools::read_host_dir(tc.dirs[0], &info).code(), ErrorCode::kLockDirectory) << "the host runs";
  tc.hosts[0].reset();
  Status s = tools::read_host_dir(tc.dirs[0], &info);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(info.raft_address, tc.addresses[0]);
  EXPECT_EQ(info.logdb_type, "rocksdb");
  ASSERT_EQ(info.nodes.size(), 1u);
  const tools::NodeDirInfo& n = info.nodes[0];
  EXPECT_EQ(n.cluster_id, 9u);
  EXPECT_EQ(n.node_id, 1u);
  EXPECT_GE(n.term, 1u);
  EXPECT_EQ(n.vote, 1u);
  EXPECT_GE(n.commit, index);  // ten entries and the leader's no-op, at least
  EXPECT_GE(n.last_index, n.commit);
  EXPECT_EQ(n.initial_members, tc.members());
  EXPECT_FALSE(n.join);
  EXPECT_EQ(n.state_machine_type, static_cast<uint8_t>(StateMachineType::kRegular));

  // The export: found from the export path (newest complete snapshot) or its own directory.
  tools::ExportedSnapshotInfo snap;
  s = tools::check_exported_snapshot(exported, &snap);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(snap.cluster_id, 9u);
  EXPECT_EQ(snap.node_id, 1u);
  EXPECT_EQ(snap.index, index);
  EXPECT_GT(snap.file_size, 0u);
  tools::ExportedSnapshotInfo same;
  ASSERT_TRUE(tools::check_exported_snapshot(snap.dir, &same).ok());
  EXPECT_EQ(same.index, snap.index);
  EXPECT_EQ(same.dir, snap.dir);

  // One flipped byte in the data file: refused as corrupted.
  std::string data_file;
  for (const auto& e : std::filesystem::directory_iterator(snap.dir)) {
    if (e.path().extension() == ".gbsnap") data_file = e.path();
  }
  ASSERT_FALSE(data_file.empty());
  {
    std::fstream f(data_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(snap.file_size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(snap.file_size / 2));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  EXPECT_EQ(tools::check_exported_snapshot(snap.dir, &same).code(), ErrorCode::kCorrupted);

  // Nothing there at all.
  const std::string empty = temp_dir("empty");
  EXPECT_EQ(tools::check_exported_snapshot(empty, &same).code(), ErrorCode::kNoSnapshot);
  EXPECT_FALSE(tools::read_host_dir(empty, &info).ok());
  std::filesystem::remove_all(empty);
  std::filesystem::remove_all(exported);
}

TEST(ToolsInspect, AHostWithAWalDirIsReadWithIt) {
  // The engine does not flush on shutdown: the nodes are only in the WAL,
  // which RocksDB finds only in the wal_dir it was written to.
  TestCluster tc(1);
  const std::string wal = temp_dir("wal");
  ASSERT_TRUE(tc.start_host(0, [&](NodeHostConfig* c) { c->wal_dir = wal; }).ok());
  NodeHost& nh = *tc.hosts[0];
  ASSERT_TRUE(nh.start_cluster(tc.members(), false, make_checker, TestCluster::config(4, 1)).ok());
  ASSERT_TRUE(tc.propose(0, nh.get_noop_session(4), "w").ok());
  tc.hosts[0].reset();

  tools::HostDirInfo info;
  Status s = tools::read_host_dir(tc.dirs[0], &info);
  EXPECT_EQ(s.code(), ErrorCode::kHardSettingsChanged) << "without the wal_dir: refused, not empty";
  const std::string other = temp_dir("other-wal");
  EXPECT_EQ(tools::read_host_dir(tc.dirs[0], other, &info).code(), ErrorCode::kHardSettingsChanged);
  s = tools::read_host_dir(tc.dirs[0], wal, &info);
  ASSERT_TRUE(s.ok()) << s.to_string();
  ASSERT_EQ(info.nodes.size(), 1u);
  EXPECT_EQ(info.nodes[0].cluster_id, 4u);
  EXPECT_GE(info.nodes[0].commit, 2u);
  // The refusals changed nothing: the host restarts with its data.
  ASSERT_TRUE(tc.start_host(0, [&](NodeHostConfig* c) { c->wal_dir = wal; }).ok());
  EXPECT_TRUE(tc.hosts[0]->has_node_info(4, 1));
  tc.hosts[0].reset();
  // A host without a wal_dir is refused with one.
  TestCluster plain(1);
  ASSERT_TRUE(plain.start_host(0).ok());
  ASSERT_TRUE(plain.hosts[0]->start_cluster(plain.members(), false, make_checker, TestCluster::config(4, 1)).ok());
  plain.hosts[0].reset();
  EXPECT_EQ(tools::read_host_dir(plain.dirs[0], other, &info).code(), ErrorCode::kHardSettingsChanged);
  EXPECT_TRUE(tools::read_host_dir(plain.dirs[0], "", &info).ok());
  std::filesystem::remove_all(other);
  std::filesystem::remove_all(wal);
}

}  // namespace
}  // namespace dragonboat::test
