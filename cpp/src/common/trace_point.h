// common/trace_point.h — the engine's side of dragonboat/tracing.h: a hop is
// recorded only while tracing is on (one relaxed load otherwise).
#pragma once

#include <atomic>

#include "dragonboat/raftpb.h"
#include "dragonboat/tracing.h"

namespace dragonboat::tracing {
namespace detail {
extern std::atomic<bool> on;
void record(Hop hop, uint64_t cluster_id, uint64_t node_id, uint64_t index, uint64_t key, uint64_t peer);
}  // namespace detail

inline void trace(Hop hop, uint64_t cluster_id, uint64_t node_id, uint64_t index, uint64_t key = 0,
                  uint64_t peer = 0) {
  if (detail::on.load(std::memory_order_relaxed)) detail::record(hop, cluster_id, node_id, index, key, peer);
}

// The transport's hops: a Replicate with entries, or an acknowledgement,
// covering its last index. node_id is the sender (kWireSent) or the
// receiver (kWireReceived).
inline void trace_wire(Hop hop, const raftpb::Message& m) {
  if (!detail::on.load(std::memory_order_relaxed)) return;
  const bool sent = hop == Hop::kWireSent;
  if (m.type == raftpb::MessageType::kReplicate && !m.entries.empty()) {
    detail::record(hop, m.cluster_id, sent ? m.from : m.to, m.entries.back().index, 0, sent ? m.to : m.from);
  } else if (m.type == raftpb::MessageType::kReplicateResp && !m.reject) {
    detail::record(hop, m.cluster_id, sent ? m.from : m.to, m.log_index, 0, sent ? m.to : m.from);
  }
}

}  // namespace dragonboat::tracing
