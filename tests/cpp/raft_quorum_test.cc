// Unit tests for raft/quorum.h: the majority arithmetic behind elections
// (§5.2) and commitment (§5.3). Covers quorum sizes for odd and even groups,
// the index a majority has reached for assorted match sets, and vote tallies
// that are won, lost or still pending. The functions only see counts and
// values: which members vote (full voters and witnesses, never observers) is
// decided by the caller, so "voters" below means whatever set it passes in.
// Table cases pin the boundaries; exhaustive checks compare against a
// counting definition for every small group.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "raft/quorum.h"

namespace dragonboat::raft {
namespace {

std::string str(const std::vector<uint64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

const char* name(VoteResult r) {
  switch (r) {
    case VoteResult::kPending: return "pending";
    case VoteResult::kWon: return "won";
    case VoteResult::kLost: return "lost";
  }
  return "?";
}

// `granted` yes votes and `rejected` no votes from distinct voters.
std::map<uint64_t, bool> ballot(uint64_t granted, uint64_t rejected) {
  std::map<uint64_t, bool> votes;
  uint64_t id = 1;
  for (uint64_t i = 0; i < granted; ++i) votes[id++] = true;
  for (uint64_t i = 0; i < rejected; ++i) votes[id++] = false;
  return votes;
}

TEST(RaftQuorum, QuorumSizeIsStrictMajority) {
  const std::vector<std::pair<uint64_t, uint64_t>> cases = {
      {1, 1}, {2, 2}, {3, 2}, {4, 3}, {5, 3}, {6, 4}, {7, 4}, {8, 5}, {9, 5},
  };
  for (const auto& [voters, want] : cases) {
    SCOPED_TRACE("voters " + std::to_string(voters));
    EXPECT_EQ(quorum_size(voters), want);
    // A quorum is more than half, and two quorums always overlap.
    EXPECT_GT(2 * quorum_size(voters), voters);
    EXPECT_LE(2 * (quorum_size(voters) - 1), voters);
  }
}

TEST(RaftQuorum, MajorityIndex) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  struct Case {
    std::vector<uint64_t> matches;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      // single member: its own match
      {{0}, 0},
      {{5}, 5},
      // two members: both are needed
      {{3, 7}, 3},
      {{7, 3}, 3},
      {{4, 4}, 4},
      // three members: the middle value, whatever the order
      {{1, 2, 3}, 2},
      {{3, 1, 2}, 2},
      {{2, 3, 1}, 2},
      {{5, 5, 1}, 5},
      {{1, 1, 5}, 1},
      {{0, 0, 9}, 0},
      // four members: three are needed, so an even split does not commit the higher half
      {{4, 3, 2, 1}, 2},
      {{10, 10, 1, 1}, 1},
      {{10, 10, 10, 1}, 10},
      {{7, 7, 7, 7}, 7},
      // five members
      {{1, 2, 3, 4, 5}, 3},
      {{9, 9, 9, 0, 0}, 9},
      {{0, 0, 0, 9, 9}, 0},
      {{9, 0, 9, 0, 9}, 9},
      // six and seven members
      {{6, 5, 4, 3, 2, 1}, 3},
      {{1, 2, 3, 4, 5, 6, 7}, 4},
      // extremes of the value range
      {{kMax, kMax, 0}, kMax},
      {{kMax, 0, 0}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(str(c.matches));
    EXPECT_EQ(majority_index(c.matches), c.want);
  }
}

TEST(RaftQuorum, MajorityIndexLeavesCallersVectorAlone) {
  const std::vector<uint64_t> matches = {2, 9, 4, 1, 7};
  std::vector<uint64_t> copy = matches;
  EXPECT_EQ(majority_index(copy), 4u);
  EXPECT_EQ(copy, matches);
}

// For every vector of 1..6 members with values in 0..3, the result is reached
// by at least a quorum and the next index by fewer than a quorum.
TEST(RaftQuorum, MajorityIndexMatchesCountingDefinition) {
  for (size_t n = 1; n <= 6; ++n) {
    std::vector<uint64_t> m(n, 0);
    while (true) {
      uint64_t got = majority_index(m);
      auto at_least = [&](uint64_t idx) {
        return static_cast<uint64_t>(std::count_if(m.begin(), m.end(), [&](uint64_t v) { return v >= idx; }));
      };
      EXPECT_GE(at_least(got), quorum_size(n)) << str(m);
      EXPECT_LT(at_least(got + 1), quorum_size(n)) << str(m);
      // Next vector in base 4.
      size_t i = 0;
      while (i < n && m[i] == 3) m[i++] = 0;
      if (i == n) break;
      ++m[i];
    }
  }
}

TEST(RaftQuorum, TallyVotes) {
  struct Case {
    uint64_t voters, granted, rejected;
    VoteResult want;
  };
  const std::vector<Case> cases = {
      // single voter
      {1, 0, 0, VoteResult::kPending},
      {1, 1, 0, VoteResult::kWon},
      {1, 0, 1, VoteResult::kLost},
      // two voters: one no vote already makes a majority impossible
      {2, 1, 0, VoteResult::kPending},
      {2, 2, 0, VoteResult::kWon},
      {2, 1, 1, VoteResult::kLost},
      {2, 0, 1, VoteResult::kLost},
      // three voters
      {3, 1, 0, VoteResult::kPending},
      {3, 2, 0, VoteResult::kWon},
      {3, 1, 1, VoteResult::kPending},
      {3, 0, 1, VoteResult::kPending},
      {3, 0, 2, VoteResult::kLost},
      {3, 1, 2, VoteResult::kLost},
      {3, 2, 1, VoteResult::kWon},
      // four voters: a 2-2 split is lost, not pending
      {4, 2, 0, VoteResult::kPending},
      {4, 2, 1, VoteResult::kPending},
      {4, 3, 0, VoteResult::kWon},
      {4, 3, 1, VoteResult::kWon},
      {4, 0, 2, VoteResult::kLost},
      {4, 2, 2, VoteResult::kLost},
      // five voters
      {5, 2, 2, VoteResult::kPending},
      {5, 3, 0, VoteResult::kWon},
      {5, 2, 3, VoteResult::kLost},
      {5, 0, 2, VoteResult::kPending},
      {5, 0, 3, VoteResult::kLost},
      // six voters: four are needed
      {6, 3, 2, VoteResult::kPending},
      {6, 3, 3, VoteResult::kLost},
      {6, 4, 2, VoteResult::kWon},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.voters) + " voters, " + std::to_string(c.granted) + " yes, " +
                 std::to_string(c.rejected) + " no");
    VoteResult got = tally_votes(ballot(c.granted, c.rejected), c.voters);
    EXPECT_EQ(got, c.want) << name(got) << " != " << name(c.want);
  }
}

// Every split of every group of 1..9 voters: won exactly when the yes votes
// are a majority, lost exactly when the remaining voters cannot make one.
TEST(RaftQuorum, TallyVotesMatchesCountingDefinition) {
  for (uint64_t n = 1; n <= 9; ++n) {
    for (uint64_t yes = 0; yes <= n; ++yes) {
      for (uint64_t no = 0; yes + no <= n; ++no) {
        VoteResult want = VoteResult::kPending;
        if (2 * yes > n) {
          want = VoteResult::kWon;
        } else if (2 * (n - no) <= n) {
          want = VoteResult::kLost;
        }
        VoteResult got = tally_votes(ballot(yes, no), n);
        EXPECT_EQ(got, want) << n << " voters, " << yes << " yes, " << no << " no: " << name(got);
      }
    }
  }
}

TEST(RaftQuorum, MoreRejectionsThanVotersIsLost) {
  // Votes counted before a membership change shrank the group: the count of
  // remaining voters must not wrap around into "pending".
  std::map<uint64_t, bool> votes = {{1, false}, {2, false}, {3, false}, {4, true}};
  EXPECT_EQ(tally_votes(votes, 2), VoteResult::kLost);
}

TEST(RaftQuorum, TallyVotesIgnoresWhichIdsVoted) {
  // Ids are not checked against anything: only the values count.
  std::map<uint64_t, bool> sparse = {{7, true}, {42, false}, {1000, true}};
  EXPECT_EQ(tally_votes(sparse, 3), VoteResult::kWon);
  EXPECT_EQ(tally_votes(sparse, 5), VoteResult::kPending);
  EXPECT_EQ(tally_votes({}, 5), VoteResult::kPending);
}

}  // namespace
}  // namespace dragonboat::raft
