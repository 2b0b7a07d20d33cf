// The in-process transport: delivery, per-group order, unreachable and
// snapshot feedback, partitions and fault hooks.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "message_builder.h"
#include "recording_handler.h"
#include "transport/inproc_transport.h"

namespace dragonboat::transport {
namespace {

using raft::Message;
using raft::MessageType;

using Recorder = dragonboat::test::RecordingHandler;

// Message `seq` from node 1 to `to` in group `cluster`: an empty kReplicate
// (term 0) at log_index seq.
Message replicate(uint64_t cluster, uint64_t to, uint64_t seq) {
  return dragonboat::test::msg(MessageType::kReplicate, 1, to, 0).with_cluster(cluster).with_log(seq);
}

class InProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t c = 1; c <= 50; ++c) {
      registry_.add(c, 1, "a");
      registry_.add(c, 2, "b");
    }
    a_ = std::make_unique<InProcTransport>("a", &net_, &registry_, &ra_);
    b_ = std::make_unique<InProcTransport>("b", &net_, &registry_, &rb_);
    ASSERT_TRUE(a_->start().ok());
    ASSERT_TRUE(b_->start().ok());
  }
  InProcNetwork net_;
  NodeRegistry registry_;
  Recorder ra_, rb_;
  std::unique_ptr<InProcTransport> a_, b_;
};

TEST_F(InProcTest, ManyGroupsArriveCompleteAndInOrderPerGroup) {
  const uint64_t per_group = 100;  // 5,000 messages: within the receive queue bound
  for (uint64_t i = 1; i <= per_group; ++i)
    for (uint64_t c = 1; c <= 50; ++c) ASSERT_TRUE(a_->send(replicate(c, 2, i)));
  ASSERT_TRUE(rb_.wait([&](Recorder& r) { return r.received.size() == 50 * per_group; }));
  std::map<uint64_t, uint64_t> last;
  for (const auto& m : rb_.received_copy()) {
    EXPECT_EQ(m.log_index, last[m.cluster_id] + 1) << "cluster " << m.cluster_id;
    last[m.cluster_id] = m.log_index;
  }
  EXPECT_EQ(last.size(), 50u);
}

TEST(InProcTransport, FullReceiveQueueDropsAndTellsTheSender) {
  InProcNetwork net;
  NodeRegistry registry;
  registry.add(1, 2, "b");
  Recorder ra, rb;
  InProcTransport a("a", &net, &registry, &ra);
  InProcTransport b("b", &net, &registry, &rb, /*max_queue=*/4);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  // Hold everything in b's queue (delayed) so it fills up.
  net.set_fault_hook([](const Message&) { Fault f; f.delay_ticks = 1; return f; });
  for (uint64_t i = 1; i <= 4; ++i) EXPECT_TRUE(a.send(replicate(1, 2, i)));
  EXPECT_FALSE(a.send(replicate(1, 2, 5))) << "over MaxReceiveQueueSize the message is dropped";
  net.tick();
  ASSERT_TRUE(rb.wait([](Recorder& r) { return r.received.size() == 4; }));
  EXPECT_TRUE(ra.unreachable.empty()) << "a full queue is not an unreachable node";
}

TEST_F(InProcTest, UnknownTargetIsUnreachable) {
  EXPECT_FALSE(a_->send(replicate(99, 7, 1)));
  ASSERT_TRUE(ra_.wait([](Recorder& r) { return r.unreachable.size() == 1; }));
  EXPECT_EQ(ra_.unreachable[0], (std::pair<uint64_t, uint64_t>{99, 7}));
}

TEST_F(InProcTest, PartitionReportsUnreachableUntilHealed) {
  net_.partition("a", "b");
  EXPECT_FALSE(a_->send(replicate(1, 2, 1)));
  ASSERT_TRUE(ra_.wait([](Recorder& r) { return r.unreachable.size() == 1; }));
  net_.heal();
  EXPECT_TRUE(a_->send(replicate(1, 2, 2)));
  ASSERT_TRUE(rb_.wait([](Recorder& r) { return r.received.size() == 1; }));
  EXPECT_EQ(rb_.received_copy()[0].log_index, 2u);
}

TEST_F(InProcTest, FaultHookDropsDuplicatesAndDelays) {
  net_.set_fault_hook([](const Message& m) {
    Fault f;
    if (m.cluster_id == 1) f.drop = true;
    if (m.cluster_id == 2) f.copies = 2;
    if (m.cluster_id == 3) f.delay_ticks = 1;
    return f;
  });
  ASSERT_TRUE(a_->send(replicate(1, 2, 1)));  // dropped silently, like a lossy network
  ASSERT_TRUE(a_->send(replicate(3, 2, 1)));  // held until the network ticks
  ASSERT_TRUE(a_->send(replicate(2, 2, 1)));  // arrives twice
  ASSERT_TRUE(rb_.wait([](Recorder& r) { return r.received.size() == 2; }));
  for (const auto& m : rb_.received_copy()) EXPECT_EQ(m.cluster_id, 2u) << "the delayed one overtaken";
  net_.tick();
  ASSERT_TRUE(rb_.wait([](Recorder& r) { return r.received.size() == 3; }));
  EXPECT_EQ(rb_.received_copy()[2].cluster_id, 3u);
  for (const auto& m : rb_.received_copy()) EXPECT_NE(m.cluster_id, 1u);
}

TEST_F(InProcTest, SnapshotStatusReachesTheSender) {
  Message m = replicate(4, 2, 1);
  m.type = MessageType::kInstallSnapshot;
  m.snapshot.index = 10;
  m.snapshot.filepath = "/tmp/x";
  ASSERT_TRUE(a_->send_snapshot(m));
  ASSERT_TRUE(ra_.wait([](Recorder& r) { return r.snapshot_status.size() == 1; }));
  EXPECT_FALSE(ra_.snapshot_status[0].failed);
  EXPECT_EQ(ra_.snapshot_status[0].index, 10u) << "the sender learns which snapshot arrived";
  ASSERT_TRUE(rb_.wait([](Recorder& r) { return r.received.size() == 1; }));
  EXPECT_EQ(rb_.received_copy()[0].snapshot.filepath, "/tmp/x");
  // Unreachable: send_snapshot says so at once, and no status follows (the
  // caller reports the failure; raftio::ITransport::send_snapshot).
  net_.partition("a", "b");
  EXPECT_FALSE(a_->send_snapshot(m));
  // A lost snapshot (the fault hook) comes back failed, once.
  net_.heal();
  net_.set_fault_hook([](const Message&) { return transport::Fault{true, 1, 0}; });
  ASSERT_TRUE(a_->send_snapshot(m));
  ASSERT_TRUE(ra_.wait([](Recorder& r) { return r.snapshot_status.size() == 2; }));
  EXPECT_TRUE(ra_.snapshot_status[1].failed);
  EXPECT_EQ(ra_.snapshot_status[1].index, 10u);
}

TEST_F(InProcTest, StoppedTransportRefusesAndPeersSeeItUnreachable) {
  b_->stop();
  EXPECT_FALSE(a_->send(replicate(1, 2, 1)));
  ASSERT_TRUE(ra_.wait([](Recorder& r) { return r.unreachable.size() == 1; }));
  a_->stop();
  EXPECT_FALSE(a_->send(replicate(1, 2, 1)));
  a_->stop();  // idempotent
}

TEST(NodeRegistry, FollowsMembership) {
  NodeRegistry r;
  r.add(1, 1, "h1");
  r.add(1, 2, "h2");
  r.add(2, 1, "h1");
  std::string a;
  ASSERT_TRUE(r.resolve(1, 2, &a));
  EXPECT_EQ(a, "h2");
  r.add(1, 2, "h3");  // the node moved
  ASSERT_TRUE(r.resolve(1, 2, &a));
  EXPECT_EQ(a, "h3");
  r.remove(1, 2);
  EXPECT_FALSE(r.resolve(1, 2, &a));
  r.remove_cluster(1);
  EXPECT_FALSE(r.resolve(1, 1, &a));
  EXPECT_TRUE(r.resolve(2, 1, &a));
  r.add(UINT64_MAX, 1, "x");
  r.remove_cluster(UINT64_MAX);
  EXPECT_FALSE(r.resolve(UINT64_MAX, 1, &a));
  EXPECT_TRUE(r.resolve(2, 1, &a));
}

}  // namespace
}  // namespace dragonboat::transport
