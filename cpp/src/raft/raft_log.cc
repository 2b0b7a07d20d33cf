#include "raft/raft_log.h"

#include <algorithm>
#include <string>
#include <utility>

#include "dragonboat/panic.h"

namespace dragonboat::raft {

RaftLog::RaftLog(const LogReader* reader)
    : reader_(reader),
      unstable_(reader->last_index() + 1),
      committed_(std::max(reader->first_index() - 1, reader->snapshot().index)),
      // A restarted state machine recovers from the latest snapshot and
      // applies from the entry after it (entries kept below it are history).
      processed_(committed_) {}

uint64_t RaftLog::first_index() const {
  uint64_t i = 0;
  if (unstable_.maybe_first_index(&i)) return i;
  return reader_->first_index();
}

uint64_t RaftLog::last_index() const {
  uint64_t i = 0;
  if (unstable_.maybe_last_index(&i)) return i;
  return reader_->last_index();
}

Status RaftLog::term(uint64_t index, uint64_t* term) const {
  *term = 0;
  // The term of the entry just before the first one is still known (it is
  // the snapshot's term), which is what the consistency check needs.
  if (index + 1 < first_index()) return Status(ErrorCode::kCompacted, "term: compacted");
  if (index > last_index()) return Status(ErrorCode::kUnavailable, "term: beyond last");
  if (unstable_.maybe_term(index, term)) return Status::OK();
  if (index >= unstable_.offset()) return Status(ErrorCode::kUnavailable, "term: unknown");
  return reader_->term(index, term);
}

uint64_t RaftLog::term_or_zero(uint64_t index) const {
  uint64_t t = 0;
  if (!term(index, &t).ok()) return 0;
  return t;
}

bool RaftLog::match_term(uint64_t index, uint64_t t) const {
  uint64_t got = 0;
  if (!term(index, &got).ok()) return false;
  return got == t;
}

bool RaftLog::is_up_to_date(uint64_t index, uint64_t t) const {
  uint64_t lt = last_term();
  return t > lt || (t == lt && index >= last_index());
}

uint64_t RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const auto& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

bool RaftLog::try_append(uint64_t index, uint64_t log_term, uint64_t commit,
                         const std::vector<Entry>& ents, uint64_t* last_new) {
  if (!match_term(index, log_term)) return false;
  *last_new = index + ents.size();
  // Only truncate from the first real conflict: a duplicated or reordered
  // AppendEntries carrying a prefix of what we hold must not cut entries
  // that may already count toward commitment (§5.3; LogCabin's note).
  uint64_t conflict = find_conflict(ents);
  if (conflict != 0) {
    if (conflict <= committed_) {
      // Impossible unless Raft safety is already broken.
      panic("raft: conflict at " + std::to_string(conflict) + " below committed " +
            std::to_string(committed_));
    }
    append(std::vector<Entry>(ents.begin() + static_cast<long>(conflict - index - 1), ents.end()));
  }
  commit_to(std::min(commit, *last_new));
  return true;
}

void RaftLog::append(const std::vector<Entry>& ents) {
  append(std::vector<Entry>(ents));
}

void RaftLog::append(std::vector<Entry>&& ents) {
  if (ents.empty()) return;
  if (ents.front().index <= committed_) {
    panic("raft: append at " + std::to_string(ents.front().index) + " overwrites committed " +
          std::to_string(committed_));
  }
  unstable_.truncate_and_append(std::move(ents));
}

void RaftLog::commit_to(uint64_t index) {
  if (index <= committed_) return;  // Invariant: commit never moves back.
  if (index > last_index()) {
    panic("raft: commit " + std::to_string(index) + " beyond last index " +
          std::to_string(last_index()));
  }
  committed_ = index;
}

bool RaftLog::try_commit(uint64_t index, uint64_t t) {
  if (index <= committed_) return false;
  if (term_or_zero(index) != t) return false;
  commit_to(index);
  return true;
}

Status RaftLog::slice(uint64_t low, uint64_t high, uint64_t max_bytes,
                      std::vector<Entry>* out) const {
  if (low >= high) return Status::OK();
  if (low < first_index()) return Status(ErrorCode::kCompacted, "slice: compacted");
  if (high > last_index() + 1) return Status(ErrorCode::kUnavailable, "slice: beyond last");
  uint64_t off = unstable_.offset();
  size_t before = out->size();
  if (low < off) {
    Status s = reader_->entries(low, std::min(high, off), max_bytes, out);
    if (!s.ok()) return s;
    uint64_t got = out->size() - before;
    // Stopped early by the byte budget: do not add unstable entries.
    if (low + got < std::min(high, off)) return Status::OK();
  }
  if (high > off) unstable_.slice(std::max(low, off), high, max_bytes, before, out);
  return Status::OK();
}

std::vector<Entry> RaftLog::entries_to_apply(uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (!has_entries_to_apply()) return out;
  uint64_t low = std::max(processed_ + 1, first_index());
  Status s = slice(low, committed_ + 1, max_bytes, &out);
  if (!s.ok()) {
    panic("raft: committed entries unavailable: " + s.to_string());
  }
  return out;
}

void RaftLog::processed_to(uint64_t index) {
  // A snapshot installed meanwhile may have moved processed past index.
  if (index <= processed_) return;
  if (index > committed_) {
    panic("raft: processed_to " + std::to_string(index) + " beyond committed " +
          std::to_string(committed_));
  }
  processed_ = index;
}

uint64_t RaftLog::find_conflict_by_term(uint64_t index, uint64_t t) const {
  uint64_t li = last_index();
  if (index > li) return li;
  for (;;) {
    uint64_t got = 0;
    if (!term(index, &got).ok() || got <= t) return index;
    if (index == 0) return 0;
    --index;
  }
}

void RaftLog::restore(const Snapshot& ss) {
  unstable_.restore(ss);
  committed_ = ss.index;
  processed_ = ss.index;
}

Snapshot RaftLog::snapshot() const {
  if (unstable_.has_snapshot()) return unstable_.snapshot();
  return reader_->snapshot();
}

}  // namespace dragonboat::raft
