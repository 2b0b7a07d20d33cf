// Unit tests for raft/rate_limiter.h: the bound on bytes of entries held in
// memory and not yet applied. Covers the node's own accounting (append,
// overwrite of a replaced suffix, gaps, apply, reset), the limit and its
// hysteresis (strictly above the maximum to start, below 70% to stop), the
// followers' reported sizes and their expiry by tick, and the disabled
// limiter (maximum 0). Every case drives a RateLimiter directly.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "raft/rate_limiter.h"

namespace dragonboat::raft {
namespace {

void append(RateLimiter* r, uint64_t first, const std::vector<uint64_t>& sizes) {
  r->on_append(first, sizes.data(), sizes.size());
}

// One step on the limiter's own log, and own_bytes() afterwards.
struct Step {
  enum Kind { kAppend, kApplied, kReset } kind;
  uint64_t index;               // first index / applied index / next index
  std::vector<uint64_t> sizes;  // kAppend only
  uint64_t own;
};

void run_steps(RateLimiter* r, const std::vector<Step>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    const Step& s = steps[i];
    switch (s.kind) {
      case Step::kAppend: append(r, s.index, s.sizes); break;
      case Step::kApplied: r->on_applied(s.index); break;
      case Step::kReset: r->reset(s.index); break;
    }
    EXPECT_EQ(r->own_bytes(), s.own);
  }
}

TEST(RaftRateLimiter, OwnAccountingAppendAndOverwrite) {
  RateLimiter r(1000);
  run_steps(&r, {
                    {Step::kAppend, 1, {10, 20, 30}, 60},  // indexes 1..3
                    {Step::kAppend, 4, {5}, 65},           // contiguous
                    {Step::kAppend, 4, {}, 65},            // nothing
                    {Step::kAppend, 4, {7}, 67},           // 4 replaced (5 -> 7)
                    {Step::kAppend, 2, {1}, 11},           // 2..4 replaced by a single entry
                    {Step::kAppend, 3, {2, 3}, 16},        // 1, 2, then 3..4
                    {Step::kAppend, 1, {100}, 100},        // everything replaced
                });
}

TEST(RaftRateLimiter, OwnAccountingApplied) {
  RateLimiter r(1000);
  run_steps(&r, {
                    {Step::kAppend, 1, {10, 20, 30}, 60},
                    {Step::kApplied, 0, {}, 60},  // nothing applied yet
                    {Step::kApplied, 1, {}, 50},
                    {Step::kApplied, 1, {}, 50},  // repeated
                    {Step::kApplied, 3, {}, 0},   // past the middle entry too
                    {Step::kApplied, 5, {}, 0},   // beyond what is held
                    {Step::kAppend, 4, {9}, 0},   // already applied: not counted
                    {Step::kAppend, 5, {1, 2, 3}, 5},  // 5 applied, 6..7 counted
                    {Step::kAppend, 8, {4}, 9},
                });
}

TEST(RaftRateLimiter, OwnAccountingGapAndReset) {
  RateLimiter r(1000);
  run_steps(&r, {
                    {Step::kAppend, 1, {10, 20}, 30},
                    {Step::kAppend, 10, {5}, 5},         // gap after 2: start over from 10
                    {Step::kAppend, 11, {6}, 11},
                    {Step::kReset, 20, {}, 0},           // snapshot restore
                    {Step::kAppend, 15, {1, 1, 1}, 0},   // all below the restored point
                    {Step::kAppend, 18, {1, 2, 3, 4}, 7},  // 20 and 21 counted
                    {Step::kApplied, 20, {}, 4},
                });
}

TEST(RaftRateLimiter, LimitIsStrictlyAboveMax) {
  struct Case {
    uint64_t bytes;
    bool limited;
  };
  const std::vector<Case> cases = {{0, false}, {99, false}, {100, false}, {101, true}, {1000, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.bytes) + " bytes");
    RateLimiter own(100);
    append(&own, 1, {c.bytes});
    EXPECT_EQ(own.limited(), c.limited) << "own log";
    RateLimiter follower(100);
    follower.set_follower(2, c.bytes);
    EXPECT_EQ(follower.limited(), c.limited) << "follower report";
  }
}

TEST(RaftRateLimiter, HysteresisReleasesBelowSeventyPercent) {
  struct Case {
    uint64_t remaining;  // own bytes after applying the first entry
    bool limited;
  };
  // max 100: limited once above 100, released only under 70.
  const std::vector<Case> cases = {{100, true}, {71, true}, {70, true}, {69, false}, {0, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.remaining) + " bytes left");
    RateLimiter r(100);
    append(&r, 1, {101 - c.remaining, c.remaining});
    ASSERT_TRUE(r.limited());
    r.on_applied(1);
    ASSERT_EQ(r.own_bytes(), c.remaining);
    EXPECT_EQ(r.limited(), c.limited);
  }
}

TEST(RaftRateLimiter, OnceReleasedMustExceedMaxAgain) {
  RateLimiter r(100);
  r.set_follower(2, 101);
  ASSERT_TRUE(r.limited());
  r.set_follower(2, 69);
  ASSERT_FALSE(r.limited());
  r.set_follower(2, 90);  // above 70% but below the limit: stays released
  EXPECT_FALSE(r.limited());
  r.set_follower(2, 100);
  EXPECT_FALSE(r.limited());
  r.set_follower(2, 101);
  EXPECT_TRUE(r.limited());
}

TEST(RaftRateLimiter, WorstOfOwnAndFollowersNotTheirSum) {
  RateLimiter r(100);
  append(&r, 1, {60});
  r.set_follower(2, 60);
  r.set_follower(3, 60);
  EXPECT_FALSE(r.limited());
  r.set_follower(3, 150);  // one follower far behind is enough
  EXPECT_TRUE(r.limited());
  r.set_follower(3, 10);  // its newer report replaces the older one
  EXPECT_FALSE(r.limited()) << "60 is below 70% of 100";
}

TEST(RaftRateLimiter, FollowerReportExpiresAfterExpiryTicks) {
  for (uint64_t expiry : {0u, 1u, 5u}) {
    for (uint64_t ticks = 0; ticks <= expiry + 2; ++ticks) {
      SCOPED_TRACE("expiry " + std::to_string(expiry) + ", " + std::to_string(ticks) + " ticks");
      RateLimiter r(100);
      r.set_expiry(expiry);
      r.set_follower(2, 500);
      for (uint64_t i = 0; i < ticks; ++i) r.tick();
      EXPECT_EQ(r.limited(), ticks <= expiry);
    }
  }
}

TEST(RaftRateLimiter, DefaultExpiryIsThirtyTicks) {
  RateLimiter r(100);
  r.set_follower(2, 500);
  for (int i = 0; i < 30; ++i) r.tick();
  EXPECT_TRUE(r.limited());
  r.tick();
  EXPECT_FALSE(r.limited());
}

TEST(RaftRateLimiter, NewReportRestartsExpiry) {
  RateLimiter r(100);
  r.set_expiry(3);
  r.set_follower(2, 500);
  for (int i = 0; i < 3; ++i) r.tick();
  r.set_follower(2, 500);  // refreshed at tick 3
  for (int i = 0; i < 3; ++i) r.tick();
  EXPECT_TRUE(r.limited());
  r.tick();
  EXPECT_FALSE(r.limited());
}

TEST(RaftRateLimiter, ExpiredReportDoesNotHideOthers) {
  RateLimiter r(100);
  r.set_expiry(2);
  r.set_follower(2, 500);
  r.tick();
  r.tick();
  r.set_follower(3, 200);  // fresh at tick 2
  r.tick();                // 2's report is now expired, 3's is not
  EXPECT_TRUE(r.limited());
  r.tick();
  r.tick();
  EXPECT_FALSE(r.limited());
}

TEST(RaftRateLimiter, ClearFollowersForgetsReports) {
  RateLimiter r(100);
  r.set_follower(2, 500);
  ASSERT_TRUE(r.limited());
  r.clear_followers();
  EXPECT_FALSE(r.limited());
}

TEST(RaftRateLimiter, DisabledWhenMaxIsZero) {
  RateLimiter r(0);
  EXPECT_FALSE(r.enabled());
  append(&r, 1, {1000, 2000});
  EXPECT_EQ(r.own_bytes(), 0u) << "nothing is accounted";
  r.set_follower(2, 1u << 30);
  EXPECT_FALSE(r.limited());
  r.on_applied(1);
  r.reset(5);
  EXPECT_EQ(r.own_bytes(), 0u);
  EXPECT_FALSE(r.limited());

  EXPECT_TRUE(RateLimiter(1).enabled());
}

}  // namespace
}  // namespace dragonboat::raft
