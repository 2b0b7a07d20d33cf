// Snapshot streaming over the TCP transport: a multi-MiB snapshot arrives
// verified and complete; corrupt data or chunks abort the stream, leave no
// half-received snapshot behind, and the sender learns it failed.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "message_builder.h"
#include "recording_handler.h"
#include "snapshot/snapshot_dir.h"
#include "snapshot/snapshot_file.h"
#include "test_util.h"
#include "transport/tcp_transport.h"

namespace dragonboat::transport {
namespace {

using dragonboat::test::eventually;
using raft::Message;
using raft::MessageType;

using Recorder = dragonboat::test::RecordingHandler;

class TcpSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ra_.timeout = rb_.timeout = std::chrono::seconds(60);  // streams of many MiB
    std::mt19937_64 rng(std::random_device{}());
    root_ = std::filesystem::temp_directory_path() / ("dragonboat-tcpsnap-" + std::to_string(rng()));
    std::filesystem::create_directories(root_ / "send");
    TcpTransportOptions o;
    o.listen_address = "127.0.0.1:0";
    o.deployment_id = 9;
    a_ = std::make_unique<TcpTransport>(o, &reg_, &ra_);
    o.snapshot_dir = (root_ / "recv").string();
    b_ = std::make_unique<TcpTransport>(o, &reg_, &rb_);
    ASSERT_TRUE(a_->start().ok());
    ASSERT_TRUE(b_->start().ok());
    reg_.add(4, 2, b_->address());
  }
  void TearDown() override {
    a_->stop();
    b_->stop();
    std::filesystem::remove_all(root_);
  }
  // Writes a snapshot data file of `payload` bytes; returns its path.
  std::string make_snapshot(uint64_t payload, snapshot::DataFileInfo* info) {
    std::string path = (root_ / "send" / "snapshot.gbsnap").string();
    std::unique_ptr<snapshot::SnapshotWriter> w;
    EXPECT_TRUE(snapshot::SnapshotWriter::create(path, snapshot::WriterOptions{}, &w).ok());
    std::mt19937_64 rng(42);
    std::string block(1 << 20, '\0');
    for (auto& c : block) c = static_cast<char>(rng());
    for (uint64_t done = 0; done < payload; done += block.size()) {
      // Every MiB differs (a counter in front), so misplaced data is caught.
      std::memcpy(&block[0], &done, sizeof(done));
      EXPECT_TRUE(w->write(block.data(), std::min<uint64_t>(block.size(), payload - done)).ok());
    }
    EXPECT_TRUE(w->finish().ok());
    *info = w->info();
    return path;
  }
  Message snapshot_message(const std::string& path) {
    return dragonboat::test::msg(MessageType::kInstallSnapshot, 1, 2, 7)
        .with_cluster(4)
        .with_snapshot(dragonboat::test::snap(300, 6).with_members({{1, "a"}, {2, "b"}}).with_file(path));
  }
  bool leftovers() {
    std::error_code ec;
    for (auto& p : std::filesystem::recursive_directory_iterator(root_ / "recv", ec)) {
      if (p.path().string().find(".receiving") != std::string::npos) return true;
    }
    return false;
  }

  std::filesystem::path root_;
  NodeRegistry reg_;
  Recorder ra_, rb_;
  std::unique_ptr<TcpTransport> a_, b_;
};

TEST_F(TcpSnapshotTest, LargeSnapshotArrivesVerifiedAndComplete) {
  snapshot::DataFileInfo src;
  std::string path = make_snapshot(200u << 20, &src);  // 100 chunks of 2 MiB
  ASSERT_TRUE(a_->send_snapshot(snapshot_message(path)));
  ASSERT_TRUE(ra_.wait([&] { return ra_.snapshot_status.size() == 1; }));
  EXPECT_FALSE(ra_.snapshot_status[0].failed) << "the sender must learn the snapshot arrived";
  EXPECT_EQ(ra_.snapshot_status[0].index, snapshot_message(path).snapshot.index);
  ASSERT_TRUE(rb_.wait([&] { return rb_.received.size() == 1; }));
  const Message& m = rb_.received[0];
  EXPECT_EQ(m.type, MessageType::kInstallSnapshot);
  EXPECT_EQ(m.term, 7u) << "the leader's term, not the snapshot's";
  EXPECT_EQ(m.snapshot.index, 300u);
  EXPECT_EQ(m.snapshot.term, 6u);
  EXPECT_EQ(m.snapshot.membership.addresses.size(), 2u);
  snapshot::DataFileInfo got;
  ASSERT_TRUE(snapshot::validate_file(m.snapshot.filepath, &got).ok());
  EXPECT_EQ(got.data_checksum, src.data_checksum);
  EXPECT_EQ(got.file_size, src.file_size);
  EXPECT_EQ(m.snapshot.file_size, src.file_size);
  snapshot::SnapshotMeta meta;
  ASSERT_TRUE(snapshot::latest_snapshot((root_ / "recv" / "4-2").string(), &meta).ok());
  EXPECT_EQ(meta.index, 300u);
  EXPECT_FALSE(leftovers());
  EXPECT_EQ(b_->tcp_stats().snapshots_received.load(), 1u);
}

TEST_F(TcpSnapshotTest, WitnessSnapshotCarriesTheMembershipOnly) {
  // Raft sends a witness a snapshot with no file (the membership only): it
  // must arrive, or a witness that fell behind a compacted log never catches
  // up and a group that needs its vote stalls (found by the system test).
  Message m = snapshot_message("");
  m.snapshot.witness = true;
  ASSERT_TRUE(a_->send_snapshot(m));
  ASSERT_TRUE(ra_.wait([&] { return ra_.snapshot_status.size() == 1; }));
  EXPECT_FALSE(ra_.snapshot_status[0].failed);
  ASSERT_TRUE(rb_.wait([&] { return rb_.received.size() == 1; }));
  const Message& got = rb_.received[0];
  EXPECT_EQ(got.type, MessageType::kInstallSnapshot);
  EXPECT_TRUE(got.snapshot.witness);
  EXPECT_EQ(got.snapshot.index, 300u);
  EXPECT_EQ(got.snapshot.term, 6u);
  EXPECT_EQ(got.snapshot.membership.addresses.size(), 2u);
  EXPECT_TRUE(got.snapshot.filepath.empty());
  EXPECT_FALSE(leftovers());
}

TEST_F(TcpSnapshotTest, CorruptSnapshotFileIsRefusedAndNothingStays) {
  snapshot::DataFileInfo src;
  std::string path = make_snapshot(5u << 20, &src);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3u << 20);
    f.put('\x5a');
  }
  ASSERT_TRUE(a_->send_snapshot(snapshot_message(path)));
  ASSERT_TRUE(ra_.wait([&] { return ra_.snapshot_status.size() == 1; }));
  EXPECT_TRUE(ra_.snapshot_status[0].failed) << "the sender must learn it failed, so Raft retries";
  ASSERT_TRUE(eventually([&] { return b_->tcp_stats().bad_frames.load() == 1; }));
  EXPECT_NE(b_->last_error().find("fails verification"), std::string::npos) << b_->last_error();
  EXPECT_TRUE(rb_.received.empty());
  EXPECT_FALSE(leftovers());
}

TEST_F(TcpSnapshotTest, CorruptChunkInTransitAbortsTheStream) {
  std::string host;
  uint16_t port;
  ASSERT_TRUE(split_address(b_->address(), &host, &port));
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
  SnapshotChunk ch;
  ch.cluster_id = 4;
  ch.node_id = 2;
  ch.from = 1;
  ch.deployment_id = 9;
  ch.bin_version = 1;
  ch.chunk_count = 2;
  ch.index = 50;
  ch.term = 2;
  ch.data = std::string(1000, 'd');
  std::string frame;
  encode_chunk_frame(ch, &frame);
  asio::write(s, asio::buffer(frame));
  // The second chunk's data is damaged after its chunk checksum was taken,
  // but the frame checksum is recomputed (as a buggy middlebox would).
  ch.chunk_id = 1;
  std::string payload;
  encode_chunk(ch, &payload);
  payload[payload.size() - 10] ^= 0x01;
  std::string bad;
  encode_frame_header(Method::kSnapshotChunk, payload, &bad);
  bad += payload;
  asio::write(s, asio::buffer(bad));
  ASSERT_TRUE(eventually([&] { return b_->tcp_stats().bad_frames.load() == 1; }));
  EXPECT_NE(b_->last_error().find("checksum"), std::string::npos) << b_->last_error();
  ASSERT_TRUE(eventually([&] { return !leftovers(); })) << "the half-received snapshot must be removed";
  EXPECT_TRUE(rb_.received.empty());
}

TEST_F(TcpSnapshotTest, HalfReceivedSnapshotsAreRemovedAtStart) {
  // A crash mid-stream leaves a .receiving directory behind.
  std::string root = (root_ / "recv" / "8-1").string();
  std::string tmp;
  ASSERT_TRUE(snapshot::create_temp_dir(root, 77, snapshot::TempKind::kReceiving, &tmp).ok());
  ASSERT_TRUE(leftovers());
  b_->stop();
  TcpTransportOptions o;
  o.listen_address = "127.0.0.1:0";
  o.deployment_id = 9;
  o.snapshot_dir = (root_ / "recv").string();
  Recorder r;
  TcpTransport restarted(o, &reg_, &r);
  ASSERT_TRUE(restarted.start().ok());
  EXPECT_FALSE(leftovers());
}

TEST_F(TcpSnapshotTest, ReceiverWithoutSnapshotDirRefuses) {
  Recorder rc;
  TcpTransportOptions o;
  o.listen_address = "127.0.0.1:0";
  o.deployment_id = 9;
  TcpTransport c(o, &reg_, &rc);
  ASSERT_TRUE(c.start().ok());
  reg_.add(5, 3, c.address());
  snapshot::DataFileInfo src;
  std::string path = make_snapshot(1000, &src);
  Message m = snapshot_message(path);
  m.cluster_id = 5;
  m.to = 3;
  ASSERT_TRUE(a_->send_snapshot(m));
  ASSERT_TRUE(ra_.wait([&] { return ra_.snapshot_status.size() == 1; }));
  EXPECT_TRUE(ra_.snapshot_status[0].failed);
  ASSERT_TRUE(eventually([&] { return c.tcp_stats().bad_frames.load() == 1; }));
  EXPECT_NE(c.last_error().find("no snapshot_dir"), std::string::npos) << c.last_error();
  c.stop();
}

}  // namespace
}  // namespace dragonboat::transport

namespace dragonboat::transport {
namespace {

TEST(SnapshotPacing, DelayKeepsAStreamAtOrUnderItsRate) {
  using us = std::chrono::microseconds;
  EXPECT_EQ(pace_delay(1 << 30, 0, us(0)).count(), 0) << "0 = unlimited";
  EXPECT_EQ(pace_delay(0, 1 << 20, us(0)).count(), 0) << "nothing sent yet";
  // 1 MiB at 1 MiB/s is due at 1 s: after 0.25 s, wait 0.75 s more.
  EXPECT_EQ(pace_delay(1 << 20, 1 << 20, us(250'000)).count(), 750'000);
  EXPECT_EQ(pace_delay(1 << 20, 1 << 20, us(2'000'000)).count(), 0) << "behind schedule: no wait";
}

}  // namespace
}  // namespace dragonboat::transport
