// Config::snapshot_compression_type: snapshot files are written compressed
// (the data file's header says how, each block is kept compressed only when
// smaller) and a replica restarts from them with its state intact.
#include <gtest/gtest.h>

#include <vector>

#include "nodehost_fixture.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::KV;
using test::TestCluster;
using namespace std::chrono_literals;

class SnapshotCompression : public ::testing::TestWithParam<CompressionType> {};

TEST_P(SnapshotCompression, FilesAreCompressedAndRecoverTheState) {
  const CompressionType type = GetParam();
  TestCluster tc(1);
  ASSERT_TRUE(tc.start_host(0).ok());
  Config c = TestCluster::config(3, 1);
  c.snapshot_compression_type = type;
  auto make = [](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> { return std::make_unique<KV>(); };
  ASSERT_TRUE(tc.hosts[0]->start_cluster({{1, tc.addresses[0]}}, false, make, c).ok());
  ASSERT_GE(tc.leader(3), 0);
  // Compressible state: 200 values of 1 KiB of repeated text.
  const std::string value(1024, 'a');
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(tc.propose(0, tc.hosts[0]->get_noop_session(3), "k" + std::to_string(i) + "=" + value).ok());
  }
  uint64_t index = 0;
  ASSERT_TRUE(tc.hosts[0]->sync_request_snapshot(3, SnapshotOption{}, 5s, &index).ok());
  const std::string root = tc.dirs[0] + "/snapshots/3-1";
  std::vector<snapshot::SnapshotMeta> all;
  ASSERT_TRUE(snapshot::list_snapshots(root, &all).ok());
  ASSERT_FALSE(all.empty());
  snapshot::DataFileInfo info;
  const std::string file = snapshot::data_file_path(snapshot::snapshot_dir(root, all.back().index), all.back().index);
  ASSERT_TRUE(snapshot::validate_file(file, &info).ok());
  const snapshot::Compression want = type == CompressionType::kSnappy ? snapshot::Compression::kSnappy
                                     : type == CompressionType::kLZ4  ? snapshot::Compression::kLz4
                                                                      : snapshot::Compression::kNone;
  EXPECT_EQ(info.compression, want);
  if (type == CompressionType::kNoCompression) {
    EXPECT_GT(info.file_size, info.payload_size);
  } else {
    EXPECT_LT(info.file_size * 4, info.payload_size) << "1 KiB runs of one letter compress well";
  }
  // A restart recovers the state machine from that file.
  tc.hosts[0].reset();
  ASSERT_TRUE(tc.start_host(0).ok());
  KV* restarted = nullptr;
  auto capture = [&](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> {
    auto kv = std::make_unique<KV>();
    restarted = kv.get();
    return kv;
  };
  ASSERT_TRUE(tc.hosts[0]->start_cluster({}, false, capture, c).ok());
  {
    std::lock_guard<std::mutex> g(restarted->mu);
    EXPECT_EQ(restarted->recoveries, 1);
  }
  std::string v;
  ASSERT_TRUE(tc.read(0, 3, "k199", &v).ok());
  EXPECT_EQ(v, value);
}

INSTANTIATE_TEST_SUITE_P(All, SnapshotCompression,
                         ::testing::Values(CompressionType::kNoCompression, CompressionType::kSnappy,
                                           CompressionType::kLZ4),
                         [](const auto& info) {
                           switch (info.param) {
                             case CompressionType::kSnappy: return std::string("snappy");
                             case CompressionType::kLZ4: return std::string("lz4");
                             default: return std::string("none");
                           }
                         });

TEST(SnapshotCompressionConfig, AnUnknownTypeIsRefusedNamingTheField) {
  Config c = TestCluster::config(3, 1);
  c.snapshot_compression_type = static_cast<CompressionType>(9);
  Status s = c.validate();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidClusterSettings);
  EXPECT_NE(s.message().find("snapshot_compression_type"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace dragonboat
