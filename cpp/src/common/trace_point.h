// common/trace_point.h — the engine's side of dragonboat/tracing.h: a hop is
// recorded only while tracing is on (one relaxed load otherwise).
#pragma once

#include <atomic>

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

}  // namespace dragonboat::tracing
