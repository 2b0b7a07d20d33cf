// raft/unstable_log.h — entries and an incoming snapshot that the core has
// accepted but the caller has not yet persisted. Once the caller persists
// them and acknowledges the Update, they move to the LogReader's side.
#pragma once

#include <cstdint>
#include <vector>

#include "raft/types.h"

namespace dragonboat::raft {

class UnstableLog {
 public:
  // `next_index`: index the first unstable entry will have.
  explicit UnstableLog(uint64_t next_index) : offset_(next_index) {}

  // Set when a snapshot arrived and awaits persistence.
  bool has_snapshot() const { return !snapshot_.empty(); }
  const Snapshot& snapshot() const { return snapshot_; }

  // The first index known here, only when a pending snapshot defines it.
  bool maybe_first_index(uint64_t* index) const;
  // The last index known here (last unstable entry or pending snapshot).
  bool maybe_last_index(uint64_t* index) const;
  // The term of `index` if this log knows it.
  bool maybe_term(uint64_t index, uint64_t* term) const;

  const std::vector<Entry>& entries() const { return entries_; }
  uint64_t offset() const { return offset_; }

  // Appends, truncating any unstable suffix at or after ents.front().index.
  // If the new entries start before offset, the whole unstable part is
  // replaced and offset moves back (the caller's persisted suffix beyond it
  // is overwritten when the new entries are persisted).
  void truncate_and_append(const std::vector<Entry>& ents);
  // The same, moving the entries in (a proposal's payload is not copied).
  void truncate_and_append(std::vector<Entry>&& ents);

  // The caller persisted entries up to (index, term): drop them from here.
  // Ignored if the entry at index no longer has that term (it was replaced).
  void stable_to(uint64_t index, uint64_t term);
  // The caller persisted the pending snapshot at `index`.
  void stable_snapshot_to(uint64_t index);

  // Makes `ss` the pending snapshot and drops every unstable entry.
  void restore(const Snapshot& ss);

  // Appends entries in [low, high) to out, read in place, stopping before the
  // entry that would take the result (out[result_begin..]) past max_bytes; a
  // result's first entry is always taken, so a large entry still makes progress.
  // REQUIRES: offset <= low <= high <= last+1, result_begin <= out->size().
  void slice(uint64_t low, uint64_t high, uint64_t max_bytes, size_t result_begin,
             std::vector<Entry>* out) const;

 private:
  Snapshot snapshot_;
  std::vector<Entry> entries_;
  uint64_t offset_;  // index of entries_[0]
};

}  // namespace dragonboat::raft
