// raft/read_index.h — the leader's pending ReadIndex requests (thesis §6.4).
//
// Each request records the commit index at arrival. The leader then sends a
// heartbeat round carrying the request's context; once a quorum of voters
// acknowledges that context, this request AND every request queued before it
// are confirmed (one round serves all reads that arrived before it).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "raft/types.h"

namespace dragonboat::raft {

class ReadIndexTracker {
 public:
  struct Request {
    ReadCtx ctx;
    uint64_t index = 0;
    uint64_t from = kNoNode;  // requesting node (self for local reads)
    std::set<uint64_t> acks;
  };

  // Queues a request; ignored if ctx is already pending.
  void add(const ReadCtx& ctx, uint64_t index, uint64_t from);
  // Records `from`'s heartbeat ack of ctx. When `quorum` acks (self
  // included) are reached, returns the confirmed requests in arrival order.
  std::vector<Request> confirm(const ReadCtx& ctx, uint64_t from, uint64_t self, uint64_t quorum);

  bool has_pending() const { return !queue_.empty(); }
  // The newest pending context (carried by heartbeats).
  ReadCtx last_ctx() const { return queue_.back(); }
  // Drops everything (leadership lost); returns what was pending.
  std::vector<Request> reset();

 private:
  std::map<ReadCtx, Request> pending_;
  std::deque<ReadCtx> queue_;
};

}  // namespace dragonboat::raft
