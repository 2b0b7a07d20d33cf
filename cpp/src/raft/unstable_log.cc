#include "raft/unstable_log.h"

#include <cassert>
#include <iterator>
#include <string>

#include "dragonboat/panic.h"

namespace dragonboat::raft {

bool UnstableLog::maybe_first_index(uint64_t* index) const {
  if (!has_snapshot()) return false;
  *index = snapshot_.index + 1;
  return true;
}

bool UnstableLog::maybe_last_index(uint64_t* index) const {
  if (!entries_.empty()) {
    *index = offset_ + entries_.size() - 1;
    return true;
  }
  if (has_snapshot()) {
    *index = snapshot_.index;
    return true;
  }
  return false;
}

bool UnstableLog::maybe_term(uint64_t index, uint64_t* term) const {
  if (index < offset_) {
    if (has_snapshot() && snapshot_.index == index) {
      *term = snapshot_.term;
      return true;
    }
    return false;
  }
  if (index - offset_ >= entries_.size()) return false;
  *term = entries_[index - offset_].term;
  return true;
}

void UnstableLog::truncate_and_append(const std::vector<Entry>& ents) {
  truncate_and_append(std::vector<Entry>(ents));
}

void UnstableLog::truncate_and_append(std::vector<Entry>&& ents) {
  if (ents.empty()) return;
  uint64_t first = ents.front().index;
  if (first == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), std::make_move_iterator(ents.begin()), std::make_move_iterator(ents.end()));
  } else if (first <= offset_) {
    // Replaces everything unstable; persisted entries >= first will be
    // overwritten when these are saved.
    offset_ = first;
    entries_ = std::move(ents);
  } else if (first < offset_ + entries_.size()) {
    entries_.resize(first - offset_);
    entries_.insert(entries_.end(), std::make_move_iterator(ents.begin()), std::make_move_iterator(ents.end()));
  } else {
    // A gap would fill the log with blank entries (§5.3 Log Matching):
    // RaftLog::append only appends at or below last_index + 1.
    panic("raft: unstable append at " + std::to_string(first) + " leaves a gap after " +
          std::to_string(offset_ + entries_.size() - 1));
  }
}

void UnstableLog::stable_to(uint64_t index, uint64_t term) {
  uint64_t t = 0;
  if (!maybe_term(index, &t) || t != term || index < offset_) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(index - offset_ + 1));
  offset_ = index + 1;
}

void UnstableLog::stable_snapshot_to(uint64_t index) {
  if (has_snapshot() && snapshot_.index == index) snapshot_ = Snapshot{};
}

void UnstableLog::restore(const Snapshot& ss) {
  offset_ = ss.index + 1;
  entries_.clear();
  snapshot_ = ss;
}

void UnstableLog::slice(uint64_t low, uint64_t high, uint64_t max_bytes, size_t result_begin,
                        std::vector<Entry>* out) const {
  assert(low >= offset_ && high <= offset_ + entries_.size() && low <= high);
  assert(result_begin <= out->size());
  uint64_t size = 0;
  for (size_t i = result_begin; i < out->size(); ++i) size += (*out)[i].size_bytes();
  for (uint64_t i = low; i < high; ++i) {
    const Entry& e = entries_[i - offset_];
    size += e.size_bytes();
    if (out->size() > result_begin && size > max_bytes) break;
    out->push_back(e);
  }
}

}  // namespace dragonboat::raft
