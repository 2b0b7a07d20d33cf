// NodeHost directory ownership: flag file checks and the exclusive lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "logdb/host_dir.h"
#include "message_builder.h"

namespace dragonboat::logdb {
namespace {

class HostDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(std::random_device{}());
    dir_ = (std::filesystem::temp_directory_path() / ("dragonboat-hostdir-" + std::to_string(rng()))).string();
    info_.raft_address = "10.0.0.1:5000";
    info_.deployment_id = 77;
    info_.logdb_shards = 4;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  HostDirInfo info_;
};

TEST_F(HostDirTest, FirstOpenWritesFlagAndLaterOpensAgree) {
  {
    std::unique_ptr<HostDir> h;
    ASSERT_TRUE(HostDir::open(dir_, info_, &h).ok());
  }
  HostDirInfo got;
  ASSERT_TRUE(read_host_dir_info(dir_, &got).ok());
  EXPECT_EQ(got.raft_address, info_.raft_address);
  EXPECT_EQ(got.deployment_id, 77u);
  EXPECT_EQ(got.logdb_shards, 4u);
  std::unique_ptr<HostDir> h;
  EXPECT_TRUE(HostDir::open(dir_, info_, &h).ok());
}

TEST_F(HostDirTest, MismatchesAreNamedErrors) {
  { std::unique_ptr<HostDir> h; ASSERT_TRUE(HostDir::open(dir_, info_, &h).ok()); }
  std::unique_ptr<HostDir> h;
  HostDirInfo other = info_;
  other.raft_address = "10.0.0.2:5000";
  Status s = HostDir::open(dir_, other, &h);
  EXPECT_EQ(s.code(), ErrorCode::kNotOwner);
  EXPECT_NE(s.message().find("10.0.0.1:5000"), std::string::npos) << s.to_string();
  other = info_;
  other.deployment_id = 78;
  EXPECT_EQ(HostDir::open(dir_, other, &h).code(), ErrorCode::kDeploymentIDChanged);
  other = info_;
  other.logdb_shards = 8;
  EXPECT_EQ(HostDir::open(dir_, other, &h).code(), ErrorCode::kHardSettingsChanged);
  other = info_;
  other.format_version = info_.format_version + 1;
  EXPECT_EQ(HostDir::open(dir_, other, &h).code(), ErrorCode::kIncompatibleData);
  // None of the refused opens changed the recorded settings.
  HostDirInfo got;
  ASSERT_TRUE(read_host_dir_info(dir_, &got).ok());
  EXPECT_EQ(got.logdb_shards, 4u);
  EXPECT_EQ(got.raft_address, info_.raft_address);
}

TEST_F(HostDirTest, DamagedFlagFileIsCorrupted) {
  { std::unique_ptr<HostDir> h; ASSERT_TRUE(HostDir::open(dir_, info_, &h).ok()); }
  std::string path = dir_ + "/" + HostDir::kFlagFile;
  std::string content;
  {
    std::ifstream in(path);
    content.assign(std::istreambuf_iterator<char>(in), {});
  }
  content[content.find("logdb_shards=4")+13] = '8';  // edited by hand
  { std::ofstream out(path, std::ios::trunc); out << content; }
  std::unique_ptr<HostDir> h;
  HostDirInfo eight = info_;
  eight.logdb_shards = 8;
  EXPECT_EQ(HostDir::open(dir_, eight, &h).code(), ErrorCode::kCorrupted);
}

TEST_F(HostDirTest, DirectoryInUseIsRefused) {
  std::unique_ptr<HostDir> first;
  ASSERT_TRUE(HostDir::open(dir_, info_, &first).ok());
  std::unique_ptr<HostDir> second;
  Status s = HostDir::open(dir_, info_, &second);
  EXPECT_EQ(s.code(), ErrorCode::kLockDirectory);
  EXPECT_NE(s.message().find(dir_), std::string::npos);
  // Another process is refused too.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::unique_ptr<HostDir> h;
    _exit(HostDir::open(dir_, info_, &h).code() == ErrorCode::kLockDirectory ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Released when the owner goes away.
  first.reset();
  EXPECT_TRUE(HostDir::open(dir_, info_, &second).ok());
}

}  // namespace
}  // namespace dragonboat::logdb

#include "logdb/host_storage.h"

namespace dragonboat::logdb {
namespace {

TEST_F(HostDirTest, HostStorageRefusesAnotherShardCountAndKeepsTheData) {
  {
    HostStorage hs;
    RocksLogDBOptions o;
    o.shards = info_.logdb_shards;
    ASSERT_TRUE(open_host_storage(dir_, info_, o, &hs).ok());
    NodeUpdate u;
    u.cluster_id = 3;
    u.node_id = 1;
    u.entries = {dragonboat::test::entry(1, 1, "kept")};
    ASSERT_TRUE(hs.logdb->save({u}).ok());
    // While it is open, a second NodeHost on the same directory is refused.
    HostStorage other;
    EXPECT_EQ(open_host_storage(dir_, info_, o, &other).code(), ErrorCode::kLockDirectory);
  }
  HostStorage hs;
  RocksLogDBOptions o;
  HostDirInfo more = info_;
  more.logdb_shards = info_.logdb_shards * 2;
  o.shards = more.logdb_shards;
  EXPECT_EQ(open_host_storage(dir_, more, o, &hs).code(), ErrorCode::kHardSettingsChanged);
  o.shards = info_.logdb_shards;
  ASSERT_TRUE(open_host_storage(dir_, info_, o, &hs).ok());
  std::vector<raft::Entry> got;
  ASSERT_TRUE(hs.logdb->entries(3, 1, 1, 2, UINT64_MAX, &got).ok());
  EXPECT_EQ(got.at(0).cmd, "kept");
}

}  // namespace
}  // namespace dragonboat::logdb
