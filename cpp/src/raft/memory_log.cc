#include <cassert>

#include "raft/log_reader.h"

namespace dragonboat::raft {

MemoryLog::MemoryLog() = default;

Status MemoryLog::term(uint64_t index, uint64_t* term) const {
  if (index < marker_index_) return Status(ErrorCode::kCompacted, "term: index compacted");
  if (index == marker_index_) {
    *term = marker_term_;
    return Status::OK();
  }
  if (index > last_index()) return Status(ErrorCode::kUnavailable, "term: index beyond last");
  *term = entries_[index - marker_index_ - 1].term;
  return Status::OK();
}

Status MemoryLog::entries(uint64_t low, uint64_t high, uint64_t max_bytes,
                          std::vector<Entry>* out) const {
  if (low <= marker_index_) return Status(ErrorCode::kCompacted, "entries: low compacted");
  if (high > last_index() + 1) return Status(ErrorCode::kUnavailable, "entries: high beyond last");
  uint64_t size = 0;
  for (uint64_t i = low; i < high; ++i) {
    const Entry& e = entries_[i - marker_index_ - 1];
    size += e.size_bytes();
    if (i > low && size > max_bytes) break;
    out->push_back(e);
  }
  return Status::OK();
}

void MemoryLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  uint64_t first = ents.front().index;
  assert(first <= last_index() + 1);
  if (first <= marker_index_) {
    // Entries at or below the compaction point are already covered by the
    // snapshot; skip them.
    std::vector<Entry> rest;
    for (const auto& e : ents)
      if (e.index > marker_index_) rest.push_back(e);
    append(rest);
    return;
  }
  entries_.resize(first - marker_index_ - 1);
  entries_.insert(entries_.end(), ents.begin(), ents.end());
}

void MemoryLog::apply_snapshot(const Snapshot& ss) {
  snapshot_ = ss;
  marker_index_ = ss.index;
  marker_term_ = ss.term;
  entries_.clear();
}

Status MemoryLog::compact(uint64_t index) {
  if (index <= marker_index_) return Status(ErrorCode::kCompacted, "compact: already compacted");
  if (index > last_index()) return Status(ErrorCode::kUnavailable, "compact: beyond last");
  if (snapshot_.index < index) return Status(ErrorCode::kInvalidOperation, "compact: no snapshot");
  uint64_t t = entries_[index - marker_index_ - 1].term;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(index - marker_index_));
  marker_index_ = index;
  marker_term_ = t;
  return Status::OK();
}

}  // namespace dragonboat::raft
