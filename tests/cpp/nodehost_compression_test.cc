// Config::snapshot_compression_type: snapshot files are written compressed
// (the data file's header says how, each block is kept compressed only when
// smaller) and a replica restarts from them with its state intact.
// Config::entry_compression_type: proposals travel compressed (fewer bytes on
// the wire), every replica applies the original commands exactly once, and a
// restarted replica replays them from its compressed log.
#include <gtest/gtest.h>

#include <vector>

#include "nodehost_fixture.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using test::CheckerState;
using test::CheckerSM;
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

TEST(CompressionConfig, AnUnknownTypeIsRefusedNamingTheField) {
  for (auto [field, member] : {std::pair{"snapshot_compression_type", &Config::snapshot_compression_type},
                               std::pair{"entry_compression_type", &Config::entry_compression_type}}) {
    Config c = TestCluster::config(3, 1);
    c.*member = static_cast<CompressionType>(9);
    Status s = c.validate();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidClusterSettings);
    EXPECT_NE(s.message().find(field), std::string::npos) << s.to_string();
  }
}

double bytes_sent(const TestCluster& tc) {
  double v = 0;
  for (const auto& h : tc.hosts) v += h->get_health_metrics().total("dragonboat_transport_bytes_sent_total");
  return v;
}

// A 1 KiB command that compresses well, different for every i.
std::string command(int i) {
  std::string s = "entry " + std::to_string(i) + ":";
  while (s.size() < 1024) s += " field-" + std::to_string(s.size() % 13) + "=value";
  return s.substr(0, 1024);
}

TEST(EntryCompression, FewerBytesOnTheWireAndEveryReplicaAppliesTheOriginals) {
  TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  auto make = [](uint64_t, uint64_t) -> std::unique_ptr<IStateMachine> { return std::make_unique<CheckerSM>(); };
  constexpr int kEntries = 150;
  CheckerState want;  // what each replica must have applied, in this order
  for (int i = 0; i < kEntries; ++i) want.apply(command(i));
  const std::string want_state = want.summary();
  // Group 3 plain, then group 4 compressed, the same commands: the bytes
  // each adds to the hosts' transport counters.
  double sent[2] = {0, 0};
  for (uint64_t cid : {3, 4}) {
    for (size_t i = 0; i < 3; ++i) {
      Config c = TestCluster::config(cid, i + 1);
      if (cid == 4) c.entry_compression_type = CompressionType::kSnappy;
      ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, make, c).ok());
    }
    const int leader = tc.leader(cid);
    ASSERT_GE(leader, 0);
    const double before = bytes_sent(tc);
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_TRUE(tc.propose(leader, tc.hosts[leader]->get_noop_session(cid), command(i)).ok());
    }
    for (size_t i = 0; i < 3; ++i) {
      std::string st;  // a ReadIndex read: it sees every write acknowledged before it
      ASSERT_TRUE(tc.read(i, cid, "state", &st).ok());
      EXPECT_EQ(st, want_state) << "group " << cid << " host " << i;
    }
    sent[cid - 3] = bytes_sent(tc) - before;
    // Group 3 stops, so its heartbeats do not count toward group 4's bytes.
    if (cid == 3) {
      for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.hosts[i]->stop_cluster(3).ok());
    }
  }
  // About 3x fewer here; heartbeats and message headers are not compressed.
  EXPECT_LT(sent[1] * 2, sent[0]) << "compressed " << sent[1] << " bytes vs plain " << sent[0];

  // A follower restarted replays the compressed entries from its log.
  const size_t f = (static_cast<size_t>(tc.leader(4)) + 1) % 3;
  tc.hosts[f].reset();
  ASSERT_TRUE(tc.start_host(f).ok());
  Config c = TestCluster::config(4, f + 1);
  c.entry_compression_type = CompressionType::kNoCompression;  // readers take either form
  ASSERT_TRUE(tc.hosts[f]->start_cluster({}, false, make, c).ok());
  std::string st;
  ASSERT_TRUE(tc.read(f, 4, "state", &st).ok());
  EXPECT_EQ(st, want_state);
}

}  // namespace
}  // namespace dragonboat
