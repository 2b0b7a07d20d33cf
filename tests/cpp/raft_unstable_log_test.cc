// Unit tests for raft/unstable_log.h: entries and a snapshot the core has
// accepted but the caller has not persisted yet. Covers the index and term
// lookups (with and without a pending snapshot), appending with truncation of
// a conflicting suffix, dropping entries once the caller reports them stable
// (and ignoring reports about entries that were replaced meanwhile), snapshot
// restore and acknowledgement, and slicing.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "message_builder.h"
#include "raft/unstable_log.h"

namespace dragonboat::raft {
namespace {

using dragonboat::test::entry;  // message_builder.h
using dragonboat::test::snap;

// Consecutive entries from `first`, one per term in `terms`.
std::vector<Entry> run(uint64_t first, const std::vector<uint64_t>& terms) {
  std::vector<Entry> out;
  for (uint64_t t : terms) out.push_back(entry(first++, t));
  return out;
}

// (index, term) of every entry, for comparison.
std::vector<std::pair<uint64_t, uint64_t>> ids(const std::vector<Entry>& ents) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const Entry& e : ents) out.emplace_back(e.index, e.term);
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> ids(uint64_t first, const std::vector<uint64_t>& terms) {
  return ids(run(first, terms));
}

TEST(RaftUnstableLog, EmptyLogKnowsNothing) {
  UnstableLog u(5);
  uint64_t v = 99;
  EXPECT_FALSE(u.has_snapshot());
  EXPECT_EQ(u.offset(), 5u);
  EXPECT_TRUE(u.entries().empty());
  EXPECT_FALSE(u.maybe_first_index(&v));
  EXPECT_FALSE(u.maybe_last_index(&v));
  EXPECT_FALSE(u.maybe_term(4, &v));
  EXPECT_FALSE(u.maybe_term(5, &v));
  EXPECT_EQ(v, 99u) << "outputs untouched on failure";
}

TEST(RaftUnstableLog, MaybeFirstAndLastIndex) {
  struct Case {
    uint64_t offset;
    std::vector<uint64_t> terms;  // entries from offset
    uint64_t snapshot;            // 0: none (otherwise restored before the entries)
    bool has_first;
    uint64_t first;
    bool has_last;
    uint64_t last;
  };
  const std::vector<Case> cases = {
      {5, {1}, 0, false, 0, true, 5},
      {5, {1, 1, 2}, 0, false, 0, true, 7},  // entries alone never define the first index
      {5, {}, 4, true, 5, true, 4},          // snapshot only: last is the snapshot
      {5, {1, 2}, 4, true, 5, true, 6},      // snapshot plus entries: last is the last entry
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    UnstableLog u(c.offset);
    if (c.snapshot != 0) u.restore(snap(c.snapshot, 1));
    u.truncate_and_append(run(c.offset, c.terms));
    uint64_t first = 0, last = 0;
    EXPECT_EQ(u.maybe_first_index(&first), c.has_first);
    if (c.has_first) {
      EXPECT_EQ(first, c.first);
    }
    EXPECT_EQ(u.maybe_last_index(&last), c.has_last);
    if (c.has_last) {
      EXPECT_EQ(last, c.last);
    }
  }
}

TEST(RaftUnstableLog, MaybeTerm) {
  struct Case {
    bool with_snapshot;
    uint64_t index;
    bool ok;
    uint64_t term;
  };
  // Entries 5 (term 2) and 6 (term 3); optionally a pending snapshot at 4 (term 1).
  const std::vector<Case> cases = {
      {false, 3, false, 0}, {false, 4, false, 0}, {false, 5, true, 2}, {false, 6, true, 3},
      {false, 7, false, 0}, {true, 3, false, 0},  {true, 4, true, 1},  {true, 5, true, 2},
      {true, 6, true, 3},   {true, 7, false, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.with_snapshot ? "snapshot, " : "") + "index " + std::to_string(c.index));
    UnstableLog u(5);
    if (c.with_snapshot) u.restore(snap(4, 1));
    u.truncate_and_append(run(5, {2, 3}));
    uint64_t term = 0;
    EXPECT_EQ(u.maybe_term(c.index, &term), c.ok);
    if (c.ok) {
      EXPECT_EQ(term, c.term);
    }
  }
}

TEST(RaftUnstableLog, TruncateAndAppend) {
  struct Case {
    std::vector<Entry> ents;
    uint64_t offset;
    std::vector<std::pair<uint64_t, uint64_t>> want;
  };
  // Start: entries 5, 6, 7 all at term 1.
  const std::vector<Case> cases = {
      {{}, 5, ids(5, {1, 1, 1})},                   // nothing to append
      {run(8, {1, 2}), 5, ids(5, {1, 1, 1, 1, 2})},  // right after the last: plain append
      {run(7, {3}), 5, ids(5, {1, 1, 3})},           // replaces the last entry only
      {run(6, {2, 2}), 5, ids(5, {1, 2, 2})},        // conflict in the middle
      {run(6, {1}), 5, ids(5, {1, 1})},              // same term still drops the suffix after it
      {run(5, {2, 2}), 5, ids(5, {2, 2})},           // starts at offset: all replaced
      {run(3, {2, 2, 2}), 3, ids(3, {2, 2, 2})},     // starts before offset: offset moves back
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    UnstableLog u(5);
    u.truncate_and_append(run(5, {1, 1, 1}));
    u.truncate_and_append(c.ents);
    EXPECT_EQ(u.offset(), c.offset);
    EXPECT_EQ(ids(u.entries()), c.want);
  }
}

TEST(RaftUnstableLogDeathTest, AppendLeavingAGapIsFatal) {
  // Blank entries in the gap would break Log Matching (§5.3): the core's
  // callers never append past last + 1, so a gap is a bug that stops the node.
  UnstableLog u(5);
  u.truncate_and_append(run(5, {1, 1}));
  EXPECT_DEATH(u.truncate_and_append(run(8, {1})), "leaves a gap after 6");
}

TEST(RaftUnstableLog, TruncateAndAppendOnEmptyLog) {
  UnstableLog at(5);
  at.truncate_and_append(run(5, {1, 1}));
  EXPECT_EQ(at.offset(), 5u);
  EXPECT_EQ(ids(at.entries()), ids(5, {1, 1}));

  UnstableLog before(5);
  before.truncate_and_append(run(2, {1}));
  EXPECT_EQ(before.offset(), 2u);
  EXPECT_EQ(ids(before.entries()), ids(2, {1}));
}

TEST(RaftUnstableLog, TruncateAndAppendKeepsPayloads) {
  UnstableLog u(1);
  u.truncate_and_append({entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c")});
  u.truncate_and_append({entry(3, 2, "C"), entry(4, 2, "d")});
  ASSERT_EQ(u.entries().size(), 4u);
  EXPECT_EQ(u.entries()[0].cmd, "a");
  EXPECT_EQ(u.entries()[1].cmd, "b");
  EXPECT_EQ(u.entries()[2].cmd, "C");
  EXPECT_EQ(u.entries()[3].cmd, "d");
}

TEST(RaftUnstableLog, StableTo) {
  struct Case {
    uint64_t index, term;
    uint64_t offset;
    std::vector<std::pair<uint64_t, uint64_t>> want;
  };
  // Start: entries 5 (term 1), 6 (term 1), 7 (term 2).
  const std::vector<Case> cases = {
      {5, 1, 6, ids(6, {1, 2})},        // first entry persisted
      {6, 1, 7, ids(7, {2})},           // a prefix of two
      {7, 2, 8, {}},                    // everything
      {4, 1, 5, ids(5, {1, 1, 2})},     // below offset: not ours
      {8, 2, 5, ids(5, {1, 1, 2})},     // beyond the last entry
      {7, 1, 5, ids(5, {1, 1, 2})},     // term mismatch at the last entry
      {6, 2, 5, ids(5, {1, 1, 2})},     // term mismatch in the middle
      {5, 0, 5, ids(5, {1, 1, 2})},     // term 0 is not a wildcard
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const Case& c = cases[i];
    UnstableLog u(5);
    u.truncate_and_append(run(5, {1, 1, 2}));
    u.stable_to(c.index, c.term);
    EXPECT_EQ(u.offset(), c.offset);
    EXPECT_EQ(ids(u.entries()), c.want);
  }
}

TEST(RaftUnstableLog, StableToIgnoresReplacedEntries) {
  UnstableLog u(5);
  u.truncate_and_append(run(5, {1, 1}));
  // While 5..6 (term 1) were being persisted, a new leader replaced 6.
  u.truncate_and_append(run(6, {2}));
  u.stable_to(6, 1);
  EXPECT_EQ(u.offset(), 5u);
  EXPECT_EQ(ids(u.entries()), ids(5, {1, 2}));
  // The part that was not replaced can still be acknowledged.
  u.stable_to(5, 1);
  EXPECT_EQ(u.offset(), 6u);
  EXPECT_EQ(ids(u.entries()), ids(6, {2}));
}

TEST(RaftUnstableLog, StableToSnapshotIndexKeepsSnapshot) {
  UnstableLog u(1);
  u.restore(snap(10, 3));
  u.truncate_and_append(run(11, {3}));
  u.stable_to(10, 3);  // the snapshot is acknowledged with stable_snapshot_to only
  EXPECT_TRUE(u.has_snapshot());
  EXPECT_EQ(u.offset(), 11u);
  EXPECT_EQ(u.entries().size(), 1u);
}

TEST(RaftUnstableLog, RestoreReplacesEverything) {
  for (uint64_t ss_index : {3u, 6u, 10u}) {  // before, inside and after the unstable entries
    SCOPED_TRACE("snapshot at " + std::to_string(ss_index));
    UnstableLog u(5);
    u.truncate_and_append(run(5, {1, 1, 1}));
    u.restore(snap(ss_index, 4));
    EXPECT_TRUE(u.has_snapshot());
    EXPECT_EQ(u.snapshot().index, ss_index);
    EXPECT_EQ(u.snapshot().term, 4u);
    EXPECT_EQ(u.offset(), ss_index + 1);
    EXPECT_TRUE(u.entries().empty());
    uint64_t v = 0;
    ASSERT_TRUE(u.maybe_first_index(&v));
    EXPECT_EQ(v, ss_index + 1);
    ASSERT_TRUE(u.maybe_last_index(&v));
    EXPECT_EQ(v, ss_index);
    ASSERT_TRUE(u.maybe_term(ss_index, &v));
    EXPECT_EQ(v, 4u);
    EXPECT_FALSE(u.maybe_term(ss_index + 1, &v));
    EXPECT_FALSE(u.maybe_term(ss_index - 1, &v));
  }
}

TEST(RaftUnstableLog, StableSnapshotTo) {
  struct Case {
    uint64_t index;
    bool cleared;
  };
  const std::vector<Case> cases = {{9, false}, {10, true}, {11, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE("stable_snapshot_to " + std::to_string(c.index));
    UnstableLog u(1);
    u.restore(snap(10, 2));
    u.truncate_and_append(run(11, {2, 2}));
    u.stable_snapshot_to(c.index);
    EXPECT_EQ(u.has_snapshot(), !c.cleared);
    // Entries after the snapshot stay unstable either way.
    EXPECT_EQ(u.offset(), 11u);
    EXPECT_EQ(ids(u.entries()), ids(11, {2, 2}));
    uint64_t v = 0;
    EXPECT_EQ(u.maybe_first_index(&v), !c.cleared);
    EXPECT_EQ(u.maybe_term(10, &v), !c.cleared);
    ASSERT_TRUE(u.maybe_last_index(&v));
    EXPECT_EQ(v, 12u);
  }
}

TEST(RaftUnstableLog, StableSnapshotToWithoutEntriesLeavesNothing) {
  UnstableLog u(1);
  u.restore(snap(10, 2));
  u.stable_snapshot_to(10);
  uint64_t v = 0;
  EXPECT_FALSE(u.has_snapshot());
  EXPECT_FALSE(u.maybe_last_index(&v));
  EXPECT_EQ(u.offset(), 11u);
  u.stable_snapshot_to(10);  // a second acknowledgement is harmless
  EXPECT_FALSE(u.has_snapshot());
}

TEST(RaftUnstableLog, Slice) {
  struct Case {
    uint64_t low, high;
    std::vector<std::pair<uint64_t, uint64_t>> want;
  };
  // Entries 5..8 with terms 1, 1, 2, 3.
  const std::vector<Case> cases = {
      {5, 5, {}},
      {9, 9, {}},
      {5, 9, ids(5, {1, 1, 2, 3})},
      {6, 8, ids(6, {1, 2})},
      {8, 9, ids(8, {3})},
      {5, 6, ids(5, {1})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("[" + std::to_string(c.low) + ", " + std::to_string(c.high) + ")");
    UnstableLog u(5);
    u.truncate_and_append(run(5, {1, 1, 2, 3}));
    std::vector<Entry> out;
    u.slice(c.low, c.high, kNoLimit, 0, &out);
    EXPECT_EQ(ids(out), c.want);
  }
}

TEST(RaftUnstableLog, SliceAppendsToOutput) {
  UnstableLog u(5);
  u.truncate_and_append(run(5, {1, 2}));
  std::vector<Entry> out = run(1, {7});
  u.slice(5, 7, kNoLimit, out.size(), &out);
  EXPECT_EQ(ids(out), (std::vector<std::pair<uint64_t, uint64_t>>{{1, 7}, {5, 1}, {6, 2}}));
}

// The byte budget counts the result from result_begin on: entries before it
// belong to the caller; entries read earlier in the same result (from the
// LogDB) count. An entry without a command is 48 bytes (Entry::size_bytes).
TEST(RaftUnstableLog, SliceStopsAtTheByteBudgetButAlwaysTakesTheFirstEntry) {
  UnstableLog u(5);
  u.truncate_and_append(run(5, {1, 1, 1, 1}));
  using Ids = std::vector<std::pair<uint64_t, uint64_t>>;
  std::vector<Entry> out;
  u.slice(5, 9, 100, 0, &out);
  EXPECT_EQ(ids(out), (Ids{{5, 1}, {6, 1}}));

  out.clear();
  u.slice(5, 9, 10, 0, &out);  // smaller than one entry: the first still comes
  EXPECT_EQ(ids(out), (Ids{{5, 1}}));

  out = run(1, {7});  // a caller's entry, not part of the result
  u.slice(5, 9, 100, out.size(), &out);
  EXPECT_EQ(ids(out), (Ids{{1, 7}, {5, 1}, {6, 1}}));

  out = run(4, {1});  // the same result's entry 4, read before from storage
  u.slice(5, 9, 100, 0, &out);
  EXPECT_EQ(ids(out), (Ids{{4, 1}, {5, 1}}));

  out = run(4, {1});  // the budget is already spent: nothing more is taken
  u.slice(5, 9, 10, 0, &out);
  EXPECT_EQ(ids(out), (Ids{{4, 1}}));
}

}  // namespace
}  // namespace dragonboat::raft
