#include "raft/progress.h"

#include <algorithm>

namespace dragonboat::raft {

void Progress::become_probe() {
  // Coming back from a snapshot, continue right after it; otherwise after
  // the last known match.
  if (state_ == State::kSnapshot) {
    next_ = std::max(match_ + 1, snapshot_index_ + 1);
  } else {
    next_ = match_ + 1;
  }
  state_ = State::kProbe;
  snapshot_index_ = 0;
  probe_sent_ = false;
  inflights_.clear();
}

void Progress::become_replicate() {
  state_ = State::kReplicate;
  next_ = match_ + 1;
  snapshot_index_ = 0;
  probe_sent_ = false;
  inflights_.clear();
}

void Progress::become_snapshot(uint64_t snapshot_index) {
  state_ = State::kSnapshot;
  snapshot_index_ = snapshot_index;
  probe_sent_ = false;
  inflights_.clear();
}

bool Progress::maybe_update(uint64_t index) {
  bool updated = false;
  if (match_ < index) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  if (next_ < index + 1) next_ = index + 1;
  return updated;
}

void Progress::optimistic_update(uint64_t last) {
  next_ = last + 1;
  inflights_.push_back(last);
}

bool Progress::maybe_decrease(uint64_t rejected, uint64_t hint) {
  if (state_ == State::kReplicate) {
    // Stale if the rejected index is already known to match.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // Probe: only the reply to the probe we sent (at next-1) counts.
  if (next_ == 0 || next_ - 1 != rejected) return false;
  next_ = std::max<uint64_t>(std::min(rejected, hint + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state_) {
    case State::kProbe: return probe_sent_;
    case State::kReplicate: return inflights_full();
    case State::kSnapshot: return true;
  }
  return true;
}

void Progress::snapshot_done(bool failed) {
  if (state_ != State::kSnapshot) return;
  if (failed) snapshot_index_ = 0;
  become_probe();
  // Either way wait for the follower's next heartbeat reply before probing
  // again: after a success it answers the snapshot; after a failure an
  // immediate retry would resend the snapshot in a tight loop to a follower
  // that cannot take it (the reference waits the same way).
  probe_sent_ = true;
}

void Progress::free_inflights_to(uint64_t index) {
  while (!inflights_.empty() && inflights_.front() <= index) inflights_.pop_front();
}

const char* progress_state_name(Progress::State s) {
  switch (s) {
    case Progress::State::kProbe: return "Probe";
    case Progress::State::kReplicate: return "Replicate";
    case Progress::State::kSnapshot: return "Snapshot";
  }
  return "Unknown";
}

}  // namespace dragonboat::raft
