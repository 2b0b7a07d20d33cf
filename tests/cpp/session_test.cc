// Client sessions: at-most-once application of retried proposals (thesis
// §6.3), deterministic eviction, and the snapshot encoding.
#include <gtest/gtest.h>

#include "rsm/session.h"

namespace dragonboat::rsm {
namespace {

using D = SessionManager::Decision;

// Applies a proposal the way a replica does; counts real applications.
struct Replica {
  SessionManager sessions{4};
  int applied = 0;
  Result propose(uint64_t client, uint64_t series, uint64_t responded, D* decision) {
    Result cached;
    *decision = sessions.check(client, series, responded, &cached);
    if (*decision == D::kDuplicate) return cached;
    if (*decision != D::kApply) return Result{};
    Result r{static_cast<uint64_t>(++applied), "r" + std::to_string(series)};
    sessions.record(client, series, r);
    return r;
  }
};

TEST(Sessions, RegisterTwiceAndUnknownUnregisterAreRejected) {
  SessionManager s;
  Result r;
  ASSERT_TRUE(s.register_session(42, &r).ok());
  EXPECT_EQ(r.value, 42u);
  EXPECT_EQ(s.register_session(42, &r).code(), ErrorCode::kRejected);
  EXPECT_EQ(r.value, 0u);
  ASSERT_TRUE(s.unregister_session(42, &r).ok());
  EXPECT_EQ(s.unregister_session(42, &r).code(), ErrorCode::kRejected);
}

TEST(Sessions, RetriedProposalIsAppliedAtMostOnceAndReturnsTheCachedResult) {
  Replica rep;
  Result r;
  ASSERT_TRUE(rep.sessions.register_session(7, &r).ok());
  D d;
  Result first = rep.propose(7, 1, 0, &d);
  EXPECT_EQ(d, D::kApply);
  // The client timed out and retries series 1: the same result, no second apply.
  Result again = rep.propose(7, 1, 0, &d);
  EXPECT_EQ(d, D::kDuplicate);
  EXPECT_EQ(again, first);
  EXPECT_EQ(rep.applied, 1);
  // Next proposal, acknowledging series 1: its cached result is dropped and
  // a late duplicate of series 1 is ignored, never applied.
  rep.propose(7, 2, 1, &d);
  EXPECT_EQ(d, D::kApply);
  rep.propose(7, 1, 1, &d);
  EXPECT_EQ(d, D::kResponded);
  EXPECT_EQ(rep.applied, 2);
}

TEST(Sessions, ProposalWithoutSessionIsRejected) {
  Replica rep;
  D d;
  rep.propose(99, 1, 0, &d);
  EXPECT_EQ(d, D::kNoSession);
  EXPECT_EQ(rep.applied, 0);
}

TEST(Sessions, LeastRecentlyUsedSessionIsEvictedDeterministically) {
  Replica a, b;
  for (Replica* rep : {&a, &b}) {
    Result r;
    for (uint64_t c = 1; c <= 4; ++c) ASSERT_TRUE(rep->sessions.register_session(c, &r).ok());
    D d;
    rep->propose(1, 1, 0, &d);  // session 1 becomes most recently used
    ASSERT_TRUE(rep->sessions.register_session(5, &r).ok());  // evicts session 2
  }
  for (Replica* rep : {&a, &b}) {
    EXPECT_EQ(rep->sessions.size(), 4u);
    EXPECT_TRUE(rep->sessions.has(1));
    EXPECT_FALSE(rep->sessions.has(2));
    EXPECT_TRUE(rep->sessions.has(5));
  }
  EXPECT_EQ(a.sessions.encode(), b.sessions.encode()) << "replicas must agree byte for byte";
}

TEST(Sessions, SnapshotEncodingKeepsResultsAndLruOrder) {
  Replica rep;
  Result r;
  for (uint64_t c = 1; c <= 4; ++c) ASSERT_TRUE(rep.sessions.register_session(c, &r).ok());
  D d;
  Result first = rep.propose(3, 5, 0, &d);
  rep.propose(1, 9, 0, &d);
  std::string snap = rep.sessions.encode();
  SessionManager restored(4);
  ASSERT_TRUE(restored.decode(snap).ok());
  EXPECT_EQ(restored.encode(), snap);
  // The restored replica deduplicates exactly like the original.
  Result cached;
  EXPECT_EQ(restored.check(3, 5, 0, &cached), D::kDuplicate);
  EXPECT_EQ(cached, first);
  // ... and evicts the same session next (2 is now least recently used).
  ASSERT_TRUE(restored.register_session(6, &r).ok());
  EXPECT_FALSE(restored.has(2));
}

TEST(Sessions, CorruptSnapshotIsRefusedAndLeavesTheTableAlone) {
  SessionManager s;
  Result r;
  ASSERT_TRUE(s.register_session(1, &r).ok());
  std::string good = s.encode();
  SessionManager t;
  ASSERT_TRUE(t.register_session(50, &r).ok());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_EQ(t.decode(good.substr(0, cut)).code(), ErrorCode::kCorrupted) << "cut at " << cut;
  }
  std::string bogus = good;
  bogus[1] = static_cast<char>(0xff);  // absurd session count
  EXPECT_EQ(t.decode(bogus).code(), ErrorCode::kCorrupted);
  EXPECT_EQ(t.decode(good + "x").code(), ErrorCode::kCorrupted);
  EXPECT_TRUE(t.has(50)) << "a refused snapshot changes nothing";
}

}  // namespace
}  // namespace dragonboat::rsm
