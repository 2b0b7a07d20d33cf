// A regular state machine and its session table saved as one snapshot file
// and recovered: the state, and at-most-once across recovery. External
// snapshot files (ISnapshotWriter::add_file) travel inside that file and
// come back to recover_from_snapshot.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "message_builder.h"
#include "rsm/applier.h"
#include "rsm/snapshotter.h"
#include "test_state_machines.h"

namespace dragonboat::rsm {
namespace {

using dragonboat::test::entry;  // message_builder.h
using dragonboat::test::KV;     // test_state_machines.h

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(std::random_device{}());
    root_ = (std::filesystem::temp_directory_path() / ("dragonboat-rsm-snap-" + std::to_string(rng()))).string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

// An entry of client 5's session, series `series`, proposed with key = index.
raft::Entry session_entry(uint64_t index, std::string cmd, uint64_t series) {
  return entry(index, 0, std::move(cmd)).with_key(index).with_session(5, series);
}

TEST_F(SnapshotterTest, StateAndSessionsSurviveSaveAndRecover) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  std::vector<raft::Entry> ents = {session_entry(1, "", kSeriesIDForRegister)};
  for (uint64_t i = 2; i <= 500; ++i) ents.push_back(session_entry(i, "k" + std::to_string(i) + "=v" + std::to_string(i), i));
  ASSERT_TRUE(a.apply(ents, &out).ok());
  snapshot::SnapshotMeta meta;
  ASSERT_TRUE(save_snapshot(root_, 1, 2, 500, 3, &kv, sessions, &meta).ok());
  EXPECT_EQ(meta.index, 500u);

  KV kv2;
  SessionManager sessions2;
  std::string path = snapshot::data_file_path(snapshot::snapshot_dir(root_, 500), 500);
  ASSERT_TRUE(recover_snapshot(path, &kv2, &sessions2).ok());
  EXPECT_EQ(kv2.data, kv.data);
  // A client retrying series 500 after the recovery still gets one application.
  Applier b(&kv2, &sessions2);
  b.set_applied(500);
  ApplyOutput out2;
  ASSERT_TRUE(b.apply({session_entry(501, "k500=changed", 500)}, &out2).ok());
  EXPECT_EQ(kv2.data["k500"], "v500") << "the duplicate must not be applied";
  ASSERT_EQ(out2.completions.size(), 1u);
  EXPECT_EQ(out2.completions[0].code, RequestResultCode::kCompleted);
}

TEST_F(SnapshotterTest, CorruptSnapshotIsRefused) {
  KV kv;
  kv.data["a"] = std::string(100000, 'x');
  SessionManager sessions;
  ASSERT_TRUE(save_snapshot(root_, 1, 2, 10, 1, &kv, sessions, nullptr).ok());
  std::string path = snapshot::data_file_path(snapshot::snapshot_dir(root_, 10), 10);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('!');
  }
  KV kv2;
  SessionManager sessions2;
  Result r;
  ASSERT_TRUE(sessions2.register_session(9, &r).ok());
  Status s = recover_snapshot(path, &kv2, &sessions2);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupted) << s.to_string();
  EXPECT_TRUE(sessions2.has(9)) << "the session table is only replaced by a verified snapshot";
}

std::string data_path(const std::string& root, uint64_t index) {
  return snapshot::data_file_path(snapshot::snapshot_dir(root, index), index);
}

TEST_F(SnapshotterTest, ExternalFilesTravelInsideTheSnapshotAndComeBack) {
  test::FileSnapshotChecker sm(root_ + "/sm-a");
  Result r;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(sm.update("cmd-" + std::to_string(i), &r).ok());
  SessionManager sessions;
  snapshot::SnapshotMeta meta;
  ASSERT_TRUE(save_snapshot(root_ + "/snaps", 1, 2, 300, 3, &sm, sessions, &meta).ok());
  EXPECT_FALSE(std::filesystem::exists(snapshot::snapshot_dir(root_ + "/snaps", 300) + "/payload.aside"))
      << "the set-aside payload is not published";
  // The state file may go away once the save returned: the snapshot has a copy.
  std::filesystem::remove_all(root_ + "/sm-a");

  test::FileSnapshotChecker back(root_ + "/sm-b");
  SessionManager sessions2;
  ASSERT_TRUE(recover_snapshot(data_path(root_ + "/snaps", 300), &back, &sessions2).ok());
  EXPECT_EQ(back.recovered_files.load(), 1);
  EXPECT_EQ(back.state().count, 300u);
  EXPECT_EQ(back.state().hash, sm.state().hash);
  EXPECT_FALSE(std::filesystem::exists(snapshot::snapshot_dir(root_ + "/snaps", 300) + "/files.recovering"))
      << "the scratch copies are removed after the recovery";
}

// A state machine that adds the file it was given, then writes `stream`.
class AddsFile : public test::KV {
 public:
  AddsFile(std::vector<std::pair<uint64_t, std::string>> files) : files_(std::move(files)) {}
  Status save_snapshot(ISnapshotWriter* w) override {
    for (const auto& [id, path] : files_) {
      Status s = w->add_file(id, path, "m");
      if (!s.ok()) return s;
    }
    return test::KV::save_snapshot(w);
  }

 private:
  std::vector<std::pair<uint64_t, std::string>> files_;
};

TEST_F(SnapshotterTest, BadFilesFailTheSaveAndPublishNothing) {
  std::filesystem::create_directories(root_ + "/in");
  std::ofstream(root_ + "/in/a") << "a";
  const std::vector<std::vector<std::pair<uint64_t, std::string>>> cases = {
      {{1, root_ + "/in/missing"}},             // no such file
      {{1, root_ + "/in"}},                     // a directory
      {{1, root_ + "/in/a"}, {1, root_ + "/in/a"}},  // one ID twice
  };
  for (const auto& files : cases) {
    AddsFile sm(files);
    SessionManager sessions;
    snapshot::SnapshotMeta meta;
    Status s = save_snapshot(root_ + "/snaps", 1, 2, 10, 3, &sm, sessions, &meta);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidOperation) << s.to_string();
    std::vector<snapshot::SnapshotMeta> all;
    ASSERT_TRUE(snapshot::list_snapshots(root_ + "/snaps", &all).ok());
    EXPECT_TRUE(all.empty());
  }
}

TEST_F(SnapshotterTest, ManyFilesOfAnySizeRoundTripInOrder) {
  std::filesystem::create_directories(root_ + "/in");
  std::vector<std::pair<uint64_t, std::string>> files;
  for (uint64_t id : {9, 3, 1000}) {
    const std::string path = root_ + "/in/f" + std::to_string(id);
    std::ofstream out(path, std::ios::binary);
    out << std::string(id == 1000 ? (3 << 20) + 17 : 0, static_cast<char>('a' + id % 26));  // empty, and > 1 MiB
    files.push_back({id, path});
  }
  AddsFile sm(files);
  Result r;
  ASSERT_TRUE(sm.update("k=v", &r).ok());
  SessionManager sessions;
  snapshot::SnapshotMeta meta;
  ASSERT_TRUE(save_snapshot(root_ + "/snaps", 1, 2, 5, 1, &sm, sessions, &meta).ok());
  struct Sees : test::KV {
    Status recover_from_snapshot(ISnapshotReader* r) override {
      for (const SnapshotFile& f : r->files()) {
        seen.push_back({f.file_id, std::filesystem::file_size(f.filepath)});
        EXPECT_EQ(f.metadata, "m");
      }
      return test::KV::recover_from_snapshot(r);
    }
    std::vector<std::pair<uint64_t, uint64_t>> seen;
  } back;
  SessionManager sessions2;
  ASSERT_TRUE(recover_snapshot(data_path(root_ + "/snaps", 5), &back, &sessions2).ok());
  const std::vector<std::pair<uint64_t, uint64_t>> want = {{9, 0}, {3, 0}, {1000, (3u << 20) + 17}};
  EXPECT_EQ(back.seen, want);
  EXPECT_EQ(back.data, sm.data) << "the state machine's own bytes follow the files";
}

}  // namespace
}  // namespace dragonboat::rsm
