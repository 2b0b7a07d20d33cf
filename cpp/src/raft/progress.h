// raft/progress.h — the leader's view of one follower's log (§5.3, thesis
// §3.5/§10.2): how far it matches, what to send next, and the flow-control
// state that decides whether more can be sent now.
//
//  kProbe:     unknown match; one Replicate at a time, then wait for the reply
//              (or a heartbeat reply) before probing again.
//  kReplicate: known match; Replicates are pipelined optimistically, up to
//              `max_inflight` unacknowledged messages.
//  kSnapshot:  a snapshot is being sent; nothing else until its status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace dragonboat::raft {

class Progress {
 public:
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };

  Progress(uint64_t next, uint64_t max_inflight) : next_(next), max_inflight_(max_inflight) {}

  State state() const { return state_; }
  uint64_t match() const { return match_; }
  uint64_t next() const { return next_; }
  uint64_t snapshot_index() const { return snapshot_index_; }

  // Recently heard from (check-quorum, §6.2 of the thesis).
  bool active() const { return active_; }
  void set_active(bool a) { active_ = a; }

  void become_probe();
  void become_replicate();
  void become_snapshot(uint64_t snapshot_index);

  // A successful reply acknowledged everything up to `index`. Returns true
  // if that advanced match.
  bool maybe_update(uint64_t index);
  // After sending entries up to `last` while replicating: pipeline on.
  void optimistic_update(uint64_t last);
  // A rejection of the Replicate at `rejected`; `hint` is where the follower
  // suggests to continue. Returns false if the rejection is stale.
  bool maybe_decrease(uint64_t rejected, uint64_t hint);

  // Whether the leader should hold back Replicates to this follower.
  bool is_paused() const;
  // A probe was sent; wait for its reply before the next one.
  void probe_sent() { probe_sent_ = true; }
  // Heartbeat replies show the follower is alive: allow another probe.
  void resume() { probe_sent_ = false; }

  // The snapshot was delivered (or failed): leave kSnapshot for kProbe.
  void snapshot_done(bool failed);

  // Frees in-flight slots for messages whose last index <= index.
  void free_inflights_to(uint64_t index);
  // Frees the oldest in-flight slot (a full pipeline whose follower is alive).
  void free_first_inflight() {
    if (!inflights_.empty()) inflights_.pop_front();
  }
  bool inflights_full() const { return inflights_.size() >= max_inflight_; }
  size_t inflight_count() const { return inflights_.size(); }

 private:
  State state_ = State::kProbe;
  uint64_t match_ = 0;
  uint64_t next_;
  uint64_t snapshot_index_ = 0;
  bool probe_sent_ = false;
  bool active_ = false;
  uint64_t max_inflight_;
  std::deque<uint64_t> inflights_;  // last index of each unacked Replicate
};

const char* progress_state_name(Progress::State s);

}  // namespace dragonboat::raft
