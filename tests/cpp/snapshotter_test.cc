// A regular state machine and its session table saved as one snapshot file
// and recovered: the state, and at-most-once across recovery.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "rsm/applier.h"
#include "rsm/snapshotter.h"

namespace dragonboat::rsm {
namespace {

class KV : public IStateMachine {
 public:
  Status update(std::string_view cmd, Result* r) override {
    auto eq = cmd.find('=');
    data[std::string(cmd.substr(0, eq))] = std::string(cmd.substr(eq + 1));
    r->value = data.size();
    return Status::OK();
  }
  Status lookup(std::string_view q, std::string* a) override {
    *a = data[std::string(q)];
    return Status::OK();
  }
  Status save_snapshot(ISnapshotWriter* w) override {
    for (const auto& [k, v] : data) {
      std::string line = k + "=" + v + "\n";
      Status s = w->write(line.data(), line.size());
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  Status recover_from_snapshot(ISnapshotReader* r) override {
    std::string all, buf(1000, '\0');
    for (size_t got = 1; got > 0;) {
      Status s = r->read(buf.data(), buf.size(), &got);
      if (!s.ok()) return s;
      all.append(buf.data(), got);
    }
    data.clear();
    size_t pos = 0;
    while (pos < all.size()) {
      size_t nl = all.find('\n', pos), eq = all.find('=', pos);
      data[all.substr(pos, eq - pos)] = all.substr(eq + 1, nl - eq - 1);
      pos = nl + 1;
    }
    return Status::OK();
  }
  std::map<std::string, std::string> data;
};

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(std::random_device{}());
    root_ = (std::filesystem::temp_directory_path() / ("dragonboat-rsm-snap-" + std::to_string(rng()))).string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

raft::Entry entry(uint64_t index, std::string cmd, uint64_t client, uint64_t series) {
  raft::Entry e;
  e.index = index;
  e.cmd = std::move(cmd);
  e.key = index;
  e.client_id = client;
  e.series_id = series;
  return e;
}

TEST_F(SnapshotterTest, StateAndSessionsSurviveSaveAndRecover) {
  KV kv;
  SessionManager sessions;
  Applier a(&kv, &sessions);
  ApplyOutput out;
  std::vector<raft::Entry> ents = {entry(1, "", 5, kSeriesIDForRegister)};
  for (uint64_t i = 2; i <= 500; ++i) ents.push_back(entry(i, "k" + std::to_string(i) + "=v" + std::to_string(i), 5, i));
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
  ASSERT_TRUE(b.apply({entry(501, "k500=changed", 5, 500)}, &out2).ok());
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
