// raft/raft_log.h — the log as the protocol sees it: persisted entries (via
// LogReader) followed by unstable ones, plus the commit and processed marks.
//
// Invariants: first_index()-1 <= processed <= committed <= last_index().
// `processed` is the last index handed to the caller for applying.
#pragma once

#include <cstdint>
#include <vector>

#include "dragonboat/status.h"
#include "raft/log_reader.h"
#include "raft/unstable_log.h"

namespace dragonboat::raft {

class RaftLog {
 public:
  explicit RaftLog(const LogReader* reader);

  uint64_t first_index() const;
  uint64_t last_index() const;
  // Term of `index`; 0 with kCompacted/kUnavailable when unknown.
  Status term(uint64_t index, uint64_t* term) const;
  // Term of `index`, or 0 when it is not available.
  uint64_t term_or_zero(uint64_t index) const;
  uint64_t last_term() const { return term_or_zero(last_index()); }
  bool match_term(uint64_t index, uint64_t term) const;
  // Raft §5.4.1: a candidate's log is at least as up-to-date as ours.
  bool is_up_to_date(uint64_t index, uint64_t term) const;

  uint64_t committed() const { return committed_; }
  uint64_t processed() const { return processed_; }

  // The AppendEntries consistency check and append (§5.3). Returns false when
  // the log does not contain (index, log_term); otherwise appends `ents` from
  // the first conflicting one, advances commit to min(commit, last new index)
  // and sets *last_new.
  bool try_append(uint64_t index, uint64_t log_term, uint64_t commit,
                  const std::vector<Entry>& ents, uint64_t* last_new);
  // Appends at the end, truncating unstable entries they overwrite.
  void append(const std::vector<Entry>& ents);
  void append(std::vector<Entry>&& ents);  // the same, moving the entries in

  void commit_to(uint64_t index);
  // Commits `index` only if its entry has `term` (§5.4.2).
  bool try_commit(uint64_t index, uint64_t term);

  // Entries [low, high) bounded by max_bytes (at least one entry).
  Status slice(uint64_t low, uint64_t high, uint64_t max_bytes, std::vector<Entry>* out) const;
  // Entries from `low` to the end.
  Status entries_from(uint64_t low, uint64_t max_bytes, std::vector<Entry>* out) const {
    return slice(low, last_index() + 1, max_bytes, out);
  }

  bool has_entries_to_apply() const { return committed_ > processed_; }
  std::vector<Entry> entries_to_apply(uint64_t max_bytes) const;
  void processed_to(uint64_t index);

  // For conflict backtracking: the largest index <= index whose term is
  // <= term (so the sender can skip a whole term per round trip).
  uint64_t find_conflict_by_term(uint64_t index, uint64_t term) const;

  UnstableLog& unstable() { return unstable_; }
  const UnstableLog& unstable() const { return unstable_; }

  // The caller persisted [.., index] at `term` / the pending snapshot.
  void stable_to(uint64_t index, uint64_t term) { unstable_.stable_to(index, term); }
  void stable_snapshot_to(uint64_t index) { unstable_.stable_snapshot_to(index); }

  // Installs a snapshot: the log restarts after it; commit and processed
  // jump to its index.
  void restore(const Snapshot& ss);

  // The snapshot the leader should send: pending one or the persisted one.
  Snapshot snapshot() const;

 private:
  uint64_t find_conflict(const std::vector<Entry>& ents) const;

  const LogReader* reader_;
  UnstableLog unstable_;
  uint64_t committed_;
  uint64_t processed_;
};

}  // namespace dragonboat::raft
