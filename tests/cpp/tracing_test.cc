// Hop tracing (dragonboat/tracing.h) on three NodeHosts in this process (real
// TCP on loopback, RocksDB): one proposal's hops are all recorded, in the
// order the protocol requires — the leader's Replicate leaves before its own
// save ends (thesis §10.2.1), a follower acknowledges only after its save,
// and the entry commits only after the leader's save and an acknowledgement
// — and nothing is recorded while tracing is off.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "dragonboat/tracing.h"
#include "nodehost_fixture.h"
#include "test_state_machines.h"

namespace dragonboat {
namespace {

using tracing::Event;
using tracing::Hop;

// Time of the first event of (node, hop[, peer]) covering `index`; 0 when none.
uint64_t first(const std::vector<Event>& events, uint64_t node, Hop hop, uint64_t index, uint64_t peer = 0) {
  uint64_t t = 0;
  for (const auto& e : events) {
    if (e.cluster_id != 1 || e.node_id != node || e.hop != hop || e.index < index) continue;
    if (peer && e.peer != peer) continue;
    if (t == 0 || e.time_ns < t) t = e.time_ns;
  }
  return t;
}

TEST(Tracing, OneProposalsHopsAreRecordedInProtocolOrder) {
  test::TestCluster tc(3);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(tc.start_host(i).ok());
  for (size_t i = 0; i < 3; ++i) {
    Config c = test::TestCluster::config(1, i + 1);
    ASSERT_TRUE(tc.hosts[i]->start_cluster(tc.members(), false, test::make_kv, c).ok());
  }
  const int l = tc.leader(1);
  ASSERT_GE(l, 0);
  ASSERT_TRUE(tc.propose(size_t(l), tc.hosts[size_t(l)]->get_noop_session(1), "warm=1").ok());

  tracing::enable();
  ASSERT_TRUE(tracing::enabled());
  ASSERT_TRUE(tc.propose(size_t(l), tc.hosts[size_t(l)]->get_noop_session(1), "a=1").ok());
  tracing::disable();
  const std::vector<Event> events = tracing::take();
  EXPECT_EQ(tracing::overflowed(), 0u);

  // The proposal: the leader's kProposed event, and its kQueued by key.
  const uint64_t leader = uint64_t(l) + 1;
  uint64_t index = 0, key = 0, proposed = 0;
  for (const auto& e : events) {
    if (e.hop == Hop::kProposed && e.node_id == leader && e.cluster_id == 1) {
      index = e.index;
      key = e.key;
      proposed = e.time_ns;
    }
  }
  ASSERT_NE(index, 0u) << "the leader traced the proposal";
  uint64_t queued = 0;
  for (const auto& e : events)
    if (e.hop == Hop::kQueued && e.key == key) queued = e.time_ns;
  ASSERT_NE(queued, 0u);

  // The follower whose acknowledgement reached the leader first.
  uint64_t follower = 0, ack = 0;
  for (uint64_t f = 1; f <= 3; ++f) {
    if (f == leader) continue;
    const uint64_t t = first(events, leader, Hop::kAckReceived, index, f);
    if (t && (ack == 0 || t < ack)) {
      ack = t;
      follower = f;
    }
  }
  ASSERT_NE(follower, 0u) << "an acknowledgement was traced";

  const std::vector<std::tuple<const char*, uint64_t>> order = {
      {"queued", queued},
      {"proposed", proposed},
      {"leader replicate sent", first(events, leader, Hop::kReplicateSent, index)},
      {"leader wire sent", first(events, leader, Hop::kWireSent, index, follower)},
      {"follower wire received", first(events, follower, Hop::kWireReceived, index, leader)},
      {"follower received", first(events, follower, Hop::kReceived, index)},
      {"follower save start", first(events, follower, Hop::kSaveStart, index)},
      {"follower save end", first(events, follower, Hop::kSaveEnd, index)},
      {"follower ack sent", first(events, follower, Hop::kAckSent, index)},
      {"follower ack wire sent", first(events, follower, Hop::kWireSent, index, leader)},
      {"leader ack wire received", first(events, leader, Hop::kWireReceived, index, follower)},
      {"leader ack received", ack},
      {"leader committed", first(events, leader, Hop::kCommitted, index)},
      {"leader applied", first(events, leader, Hop::kApplied, index)},
  };
  for (size_t i = 0; i < order.size(); ++i) {
    ASSERT_NE(std::get<1>(order[i]), 0u) << std::get<0>(order[i]) << " was not traced";
    if (i > 0) {
      EXPECT_LE(std::get<1>(order[i - 1]), std::get<1>(order[i]))
          << std::get<0>(order[i - 1]) << " after " << std::get<0>(order[i]);
    }
  }
  // §10.2.1: the Replicate leaves before the leader's own save ends, and the
  // entry commits only once that save is done.
  const uint64_t leader_save_start = first(events, leader, Hop::kSaveStart, index);
  const uint64_t leader_save_end = first(events, leader, Hop::kSaveEnd, index);
  ASSERT_NE(leader_save_end, 0u);
  EXPECT_LE(first(events, leader, Hop::kReplicateSent, index), leader_save_start);
  EXPECT_LE(leader_save_start, leader_save_end);
  EXPECT_LE(leader_save_end, first(events, leader, Hop::kCommitted, index));
  for (Hop h : {Hop::kQueued, Hop::kProposed, Hop::kReplicateSent, Hop::kWireSent, Hop::kWireReceived,
                Hop::kSaveStart, Hop::kSaveEnd, Hop::kReceived, Hop::kAckSent, Hop::kAckReceived, Hop::kCommitted,
                Hop::kApplied}) {
    EXPECT_STRNE(tracing::hop_name(h), "unknown");
  }

  // Off: nothing is kept.
  ASSERT_TRUE(tc.propose(size_t(l), tc.hosts[size_t(l)]->get_noop_session(1), "b=2").ok());
  EXPECT_TRUE(tracing::take().empty());
}

}  // namespace
}  // namespace dragonboat
