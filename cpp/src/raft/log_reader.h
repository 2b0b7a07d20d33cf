// raft/log_reader.h — the core's read-only view of the persisted log.
//
// The core never writes storage: the caller persists what an Update asks for,
// makes it visible through this interface, and then acknowledges the Update.
// Later layers back it with RocksDB (logdb/); MemoryLog is the in-memory
// implementation used by tests and the simulator. Not thread-safe: the core
// and its caller use it from one thread at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::raft {

class LogReader {
 public:
  virtual ~LogReader() = default;

  // Persisted hard state and membership at open (membership from the latest
  // snapshot, empty when there is none).
  virtual HardState hard_state() const = 0;

  // Index of the first available entry; snapshot().index + 1 after compaction.
  virtual uint64_t first_index() const = 0;
  // Index of the last persisted entry (snapshot().index when the log is empty).
  virtual uint64_t last_index() const = 0;

  // Term of the entry at `index`. The snapshot index has the snapshot's term.
  // REQUIRES: index <= last_index(). kCompacted when below the snapshot index.
  virtual Status term(uint64_t index, uint64_t* term) const = 0;

  // Appends entries in [low, high) to `out`, stopping once their total size
  // exceeds max_bytes (at least one entry is always returned).
  // kCompacted when low < first_index(); kUnavailable when high > last+1.
  virtual Status entries(uint64_t low, uint64_t high, uint64_t max_bytes,
                         std::vector<Entry>* out) const = 0;

  // The latest persisted snapshot's metadata (empty() when none).
  virtual Snapshot snapshot() const = 0;
};

// An in-memory LogReader that also takes the writes an Update asks for.
// Entries [first_index, last_index] are kept; a "marker" entry at
// first_index - 1 remembers the term of the compaction point.
class MemoryLog : public LogReader {
 public:
  MemoryLog();

  HardState hard_state() const override { return state_; }
  uint64_t first_index() const override { return marker_index_ + 1; }
  uint64_t last_index() const override { return marker_index_ + entries_.size(); }
  Status term(uint64_t index, uint64_t* term) const override;
  Status entries(uint64_t low, uint64_t high, uint64_t max_bytes,
                 std::vector<Entry>* out) const override;
  Snapshot snapshot() const override { return snapshot_; }

  // --- writes (what the caller does when persisting an Update) ---
  void set_hard_state(const HardState& st) { state_ = st; }
  // Appends entries, truncating any existing suffix that they overwrite.
  // REQUIRES: entries are contiguous and entries.front().index <= last_index()+1.
  void append(const std::vector<Entry>& entries);
  // Installs a snapshot; drops every entry (the log restarts after it).
  void apply_snapshot(const Snapshot& ss);
  // Records a snapshot taken locally without touching the log.
  void save_snapshot(const Snapshot& ss) {
    if (ss.index > snapshot_.index) snapshot_ = ss;
  }
  // Removes entries up to and including `index`.
  // REQUIRES: index <= last_index(); a snapshot at or above `index` exists.
  Status compact(uint64_t index);

  // Total size of the entries held.
  uint64_t bytes() const { return entries_size_bytes(entries_); }

 private:
  HardState state_;
  Snapshot snapshot_;
  uint64_t marker_index_ = 0;
  uint64_t marker_term_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace dragonboat::raft
