// Unit tests for raft/progress.h: the leader's per-follower bookkeeping.
// Covers the three flow-control states (probe / replicate / snapshot) and the
// transitions between them, how acknowledgements move match and next, how a
// rejection walks next back (and when it is ignored as stale), when the
// follower counts as paused, and the in-flight window used for pipelining.
// Every case drives a Progress object directly; no Raft instance is involved.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "raft/progress.h"

namespace dragonboat::raft {
namespace {

using State = Progress::State;

// A probing Progress whose match is `match` and whose next is `next`
// (REQUIRES: match < next).
Progress probing(uint64_t match, uint64_t next, uint64_t max_inflight = 8) {
  Progress p(next, max_inflight);
  if (match > 0) p.maybe_update(match);
  return p;
}

// A replicating Progress at `match` with in-flight Replicates ending at `lasts`.
Progress replicating(uint64_t match, const std::vector<uint64_t>& lasts, uint64_t max_inflight = 8) {
  Progress p = probing(match, match + 1, max_inflight);
  p.become_replicate();
  for (uint64_t last : lasts) p.optimistic_update(last);
  return p;
}

TEST(RaftProgress, NewProgressProbesFromNext) {
  Progress p(5, 4);
  EXPECT_EQ(p.state(), State::kProbe);
  EXPECT_EQ(p.match(), 0u);
  EXPECT_EQ(p.next(), 5u);
  EXPECT_EQ(p.snapshot_index(), 0u);
  EXPECT_FALSE(p.active());
  EXPECT_FALSE(p.is_paused());
  EXPECT_EQ(p.inflight_count(), 0u);
  EXPECT_FALSE(p.inflights_full());
}

TEST(RaftProgress, MaybeUpdateAdvancesOnlyForward) {
  struct Case {
    uint64_t index;
    bool updated;
    uint64_t match, next;
  };
  // Start: match 3, next 5.
  const std::vector<Case> cases = {
      {2, false, 3, 5},  // older ack
      {3, false, 3, 5},  // duplicate ack: equal index is not progress
      {4, true, 4, 5},   // below next: next is kept
      {5, true, 5, 6},   // at next: next moves past it
      {9, true, 9, 10},  // beyond next
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    Progress p = probing(3, 5);
    EXPECT_EQ(p.maybe_update(c.index), c.updated);
    EXPECT_EQ(p.match(), c.match);
    EXPECT_EQ(p.next(), c.next);
  }
}

TEST(RaftProgress, MaybeUpdateUnpausesProbeOnlyWhenMatchAdvances) {
  Progress p = probing(3, 5);
  p.probe_sent();
  ASSERT_TRUE(p.is_paused());
  EXPECT_FALSE(p.maybe_update(3));
  EXPECT_TRUE(p.is_paused()) << "a stale ack must not release the probe";
  EXPECT_TRUE(p.maybe_update(4));
  EXPECT_FALSE(p.is_paused());
}

TEST(RaftProgress, BecomeReplicateRestartsRightAfterMatch) {
  Progress p = probing(4, 9);
  p.probe_sent();
  p.become_replicate();
  EXPECT_EQ(p.state(), State::kReplicate);
  EXPECT_EQ(p.match(), 4u);
  EXPECT_EQ(p.next(), 5u);
  EXPECT_FALSE(p.is_paused());
  EXPECT_EQ(p.inflight_count(), 0u);
}

TEST(RaftProgress, BecomeProbeFromReplicateDropsPipeline) {
  Progress p = replicating(4, {6, 8});
  ASSERT_EQ(p.next(), 9u);
  ASSERT_EQ(p.inflight_count(), 2u);
  p.become_probe();
  EXPECT_EQ(p.state(), State::kProbe);
  EXPECT_EQ(p.next(), 5u);
  EXPECT_EQ(p.inflight_count(), 0u);
  EXPECT_FALSE(p.is_paused());
}

TEST(RaftProgress, BecomeProbeFromSnapshotContinuesAfterSnapshotOrMatch) {
  struct Case {
    uint64_t match, snapshot, next;
  };
  const std::vector<Case> cases = {
      {1, 10, 11},   // snapshot ahead of match
      {10, 10, 11},  // equal
      {15, 10, 16},  // match already past the snapshot
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("match " + std::to_string(c.match) + " snapshot " + std::to_string(c.snapshot));
    Progress p = probing(c.match, c.match + 1);
    p.become_snapshot(c.snapshot);
    p.become_probe();
    EXPECT_EQ(p.state(), State::kProbe);
    EXPECT_EQ(p.next(), c.next);
    EXPECT_EQ(p.snapshot_index(), 0u);
  }
}

TEST(RaftProgress, BecomeSnapshotPausesAndKeepsNext) {
  Progress p = replicating(2, {5, 7});
  p.become_snapshot(20);
  EXPECT_EQ(p.state(), State::kSnapshot);
  EXPECT_EQ(p.snapshot_index(), 20u);
  EXPECT_EQ(p.next(), 8u);
  EXPECT_EQ(p.inflight_count(), 0u);
  EXPECT_TRUE(p.is_paused());
  p.resume();
  EXPECT_TRUE(p.is_paused()) << "a heartbeat reply does not unpause a snapshot";
  // An ack while the snapshot is in flight moves match; the state is the caller's business.
  EXPECT_TRUE(p.maybe_update(20));
  EXPECT_EQ(p.match(), 20u);
  EXPECT_EQ(p.next(), 21u);
  EXPECT_EQ(p.state(), State::kSnapshot);
}

TEST(RaftProgress, MaybeDecreaseWhileReplicating) {
  struct Case {
    uint64_t rejected, hint;
    bool ok;
    uint64_t next;
  };
  // Start: match 5, pipelined up to 9 (next 10). The hint is ignored here.
  const std::vector<Case> cases = {
      {4, 0, false, 10},  // below match: stale
      {5, 0, false, 10},  // at match: stale
      {6, 0, true, 6},    // first unmatched index: back to match + 1
      {9, 2, true, 6},    // hint below match does not go under match + 1
      {9, 100, true, 6},  // hint above is not used either
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    Progress p = replicating(5, {9});
    EXPECT_EQ(p.maybe_decrease(c.rejected, c.hint), c.ok);
    EXPECT_EQ(p.next(), c.next);
    EXPECT_EQ(p.match(), 5u);
    EXPECT_EQ(p.state(), State::kReplicate) << "the caller switches to probe";
  }
}

TEST(RaftProgress, MaybeDecreaseWhileProbing) {
  struct Case {
    uint64_t match, next, rejected, hint;
    bool ok;
    uint64_t want_next;
  };
  const std::vector<Case> cases = {
      {0, 10, 5, 3, false, 10},   // not the probe we sent (next - 1 = 9)
      {0, 10, 10, 3, false, 10},  // newer than the probe: stale as well
      {0, 10, 9, 9, true, 9},     // hint at the rejected index: one step back
      {0, 10, 9, 3, true, 4},     // follower's hint: jump straight after it
      {0, 10, 9, 0, true, 1},     // empty follower log
      {0, 10, 9, 50, true, 9},    // hint beyond the probe never moves next forward
      {5, 10, 9, 2, true, 6},     // never below match + 1
      {5, 10, 9, 5, true, 6},     // hint equal to match
      {0, 1, 0, 0, true, 1},      // probing from the very start
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    Progress p = probing(c.match, c.next);
    p.probe_sent();
    EXPECT_EQ(p.maybe_decrease(c.rejected, c.hint), c.ok);
    EXPECT_EQ(p.next(), c.want_next);
    EXPECT_EQ(p.match(), c.match);
    // A counted rejection answers the probe; a stale one leaves it waiting.
    EXPECT_EQ(p.is_paused(), !c.ok);
  }
}

TEST(RaftProgress, PausedDependsOnState) {
  Progress p(5, 2);
  EXPECT_FALSE(p.is_paused());
  p.probe_sent();
  EXPECT_TRUE(p.is_paused());
  p.resume();
  EXPECT_FALSE(p.is_paused());

  p.become_replicate();
  p.probe_sent();  // has no effect on a replicating follower
  EXPECT_FALSE(p.is_paused());
  p.optimistic_update(6);
  EXPECT_FALSE(p.is_paused());
  p.optimistic_update(7);
  EXPECT_TRUE(p.is_paused()) << "window of 2 is full";
  p.resume();
  EXPECT_TRUE(p.is_paused()) << "resume is for probes only";
  p.free_inflights_to(6);
  EXPECT_FALSE(p.is_paused());
}

TEST(RaftProgress, OptimisticUpdateMovesNextAndFillsWindow) {
  Progress p = replicating(4, {}, 3);
  const std::vector<uint64_t> lasts = {5, 7, 9};
  for (size_t i = 0; i < lasts.size(); ++i) {
    EXPECT_FALSE(p.inflights_full());
    p.optimistic_update(lasts[i]);
    EXPECT_EQ(p.next(), lasts[i] + 1);
    EXPECT_EQ(p.inflight_count(), i + 1);
  }
  EXPECT_TRUE(p.inflights_full());
  EXPECT_EQ(p.match(), 4u) << "sending is not acknowledgement";
}

TEST(RaftProgress, FreeInflightsToReleasesAcknowledgedPrefix) {
  struct Case {
    uint64_t index;
    size_t remaining;
  };
  // In flight: Replicates ending at 5, 7 and 9.
  const std::vector<Case> cases = {
      {0, 3}, {4, 3}, {5, 2}, {6, 2}, {7, 1}, {8, 1}, {9, 0}, {100, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("free to " + std::to_string(c.index));
    Progress p = replicating(4, {5, 7, 9}, 3);
    ASSERT_TRUE(p.inflights_full());
    p.free_inflights_to(c.index);
    EXPECT_EQ(p.inflight_count(), c.remaining);
    EXPECT_EQ(p.inflights_full(), c.remaining == 3);
  }
}

TEST(RaftProgress, WindowOfOneAllowsSingleMessage) {
  Progress p = replicating(0, {}, 1);
  EXPECT_FALSE(p.is_paused());
  p.optimistic_update(3);
  EXPECT_TRUE(p.is_paused());
  p.free_inflights_to(2);
  EXPECT_TRUE(p.is_paused());
  p.free_inflights_to(3);
  EXPECT_FALSE(p.is_paused());
}

TEST(RaftProgress, SnapshotDone) {
  struct Case {
    bool failed;
    uint64_t next;
    bool paused;
  };
  // match 2, snapshot at 10.
  const std::vector<Case> cases = {
      {false, 11, true},  // delivered: continue after it, once the follower answers
      {true, 3, true},    // failed: probe from match again, after the next heartbeat reply
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.failed ? "failed" : "delivered");
    Progress p = probing(2, 3);
    p.become_snapshot(10);
    p.snapshot_done(c.failed);
    EXPECT_EQ(p.state(), State::kProbe);
    EXPECT_EQ(p.snapshot_index(), 0u);
    EXPECT_EQ(p.next(), c.next);
    EXPECT_EQ(p.is_paused(), c.paused);
    p.resume();
    EXPECT_FALSE(p.is_paused());
  }
}

TEST(RaftProgress, SnapshotDoneOutsideSnapshotStateIsIgnored) {
  Progress probe = probing(2, 7);
  probe.probe_sent();
  probe.snapshot_done(false);
  EXPECT_EQ(probe.state(), State::kProbe);
  EXPECT_EQ(probe.next(), 7u);
  EXPECT_TRUE(probe.is_paused());

  Progress repl = replicating(2, {4, 6});
  repl.snapshot_done(true);
  EXPECT_EQ(repl.state(), State::kReplicate);
  EXPECT_EQ(repl.next(), 7u);
  EXPECT_EQ(repl.inflight_count(), 2u);
}

TEST(RaftProgress, ActiveFlagSurvivesStateChanges) {
  Progress p(1, 4);
  p.set_active(true);
  p.become_replicate();
  p.become_snapshot(5);
  p.snapshot_done(false);
  EXPECT_TRUE(p.active());
  p.set_active(false);
  EXPECT_FALSE(p.active());
}

TEST(RaftProgress, StateNames) {
  EXPECT_STREQ(progress_state_name(State::kProbe), "Probe");
  EXPECT_STREQ(progress_state_name(State::kReplicate), "Replicate");
  EXPECT_STREQ(progress_state_name(State::kSnapshot), "Snapshot");
}

}  // namespace
}  // namespace dragonboat::raft
