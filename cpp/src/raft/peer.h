// raft/peer.h — the API the engine (and tests) drive the Raft core through.
//
// A Peer owns one Raft node. The caller feeds it ticks, network messages and
// requests, then repeatedly takes an Update, carries it out in the order the
// Update documents, and acknowledges it with commit_update(). Everything is
// deterministic given the Random source. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/status.h"
#include "raft/config.h"
#include "raft/log_reader.h"
#include "raft/raft.h"
#include "raft/types.h"

namespace dragonboat::raft {

class Peer {
 public:
  // Starts a node over the persisted state in `reader`.
  //  - New node (empty log) with `initial_members`: bootstraps the group.
  //  - New node with `join`: starts empty and waits for the leader to add it.
  //  - Restart (non-empty log or hard state): membership comes from the
  //    latest snapshot or, without one, from `initial_members`, and is
  //    brought up to date as the committed log is re-applied.
  // `reader` and `random` must outlive the Peer.
  static Status launch(const Config& config, const LogReader* reader, Random* random,
                       const std::map<uint64_t, std::string>& initial_members, bool join,
                       std::unique_ptr<Peer>* out);

  // One logical tick (the engine calls it every RTTMillisecond).
  void tick() { raft_.tick(); }

  // A message from another node. Local message types are refused.
  Status step(const Message& m);

  // Proposes entries (keys identify them in dropped_entries). kSystemBusy
  // when rate limited; kInvalidOperation on a witness.
  Status propose(std::vector<Entry> entries) { return propose_from(&entries); }
  // The same, moving the entries out of *entries (not null), which is left
  // empty with its capacity for the caller to fill again; untouched when
  // refused (kSystemBusy, kInvalidOperation).
  Status propose_from(std::vector<Entry>* entries);
  // Proposes a membership change as one config-change entry.
  Status propose_config_change(const ConfigChange& cc, uint64_t key);
  // Starts a linearizable read identified by ctx (non-zero).
  Status read_index(const ReadCtx& ctx);
  // Asks the leader to hand leadership to `target`. kInvalidTarget when the
  // target is not a full voter in this node's membership.
  Status request_leader_transfer(uint64_t target);
  // Transport feedback.
  void report_unreachable(uint64_t node_id);
  void report_snapshot_status(uint64_t node_id, bool failed);

  // Applies a committed config-change entry; see Raft::apply_config_change.
  // REQUIRES: called for every config-change entry of an Update's
  // committed_entries before the next get_update() (the engine applies them
  // on the step worker, not asynchronously): the core allows the next change
  // once the previous one was handed out, relying on it being applied.
  Status apply_config_change(const ConfigChange& cc, uint64_t index) {
    return raft_.apply_config_change(cc, index);
  }

  // Whether get_update() has anything. With more_to_apply=false committed
  // entries are held back (the apply side is busy).
  bool has_update(bool more_to_apply) const;
  Update get_update(bool more_to_apply = true);
  // The caller carried out `u` (persisted, sent, took entries to apply).
  void commit_update(const Update& u);

  uint64_t node_id() const { return raft_.id(); }
  uint64_t leader_id() const { return raft_.leader_id(); }
  uint64_t term() const { return raft_.term(); }
  bool is_leader() const { return raft_.is_leader(); }
  Role role() const { return raft_.role(); }
  bool quiesced() const { return raft_.quiesced(); }
  bool rate_limited() { return raft_.rate_limited(); }
  const Membership& membership() const { return raft_.membership(); }
  const Raft& raft() const { return raft_; }
  Raft& raft() { return raft_; }

 private:
  Peer(const Config& config, const LogReader* reader, Random* random)
      : raft_(config, reader, random) {}

  Raft raft_;
  HardState prev_state_;
  LeaderInfo prev_leader_;
};

}  // namespace dragonboat::raft
