// A regular state machine and its session table saved as one snapshot file
// and recovered: the state, and at-most-once across recovery.
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

}  // namespace
}  // namespace dragonboat::rsm
