#include "common/trace_point.h"

#include <algorithm>
#include <chrono>
#include <mutex>

namespace dragonboat::tracing {

std::atomic<bool> detail::on{false};

namespace {
struct Buffer {
  std::mutex mu;
  std::vector<Event> events;
  size_t capacity = 0;
  uint64_t overflowed = 0;
};
Buffer& buffer() {
  static Buffer b;
  return b;
}
}  // namespace

const char* hop_name(Hop hop) {
  switch (hop) {
    case Hop::kQueued: return "queued";
    case Hop::kProposed: return "proposed";
    case Hop::kReplicateSent: return "replicate_sent";
    case Hop::kWireSent: return "wire_sent";
    case Hop::kWireReceived: return "wire_received";
    case Hop::kSaveStart: return "save_start";
    case Hop::kSaveEnd: return "save_end";
    case Hop::kReceived: return "received";
    case Hop::kAckSent: return "ack_sent";
    case Hop::kAckReceived: return "ack_received";
    case Hop::kCommitted: return "committed";
    case Hop::kApplied: return "applied";
    case Hop::kStepped: return "stepped";
  }
  return "unknown";
}

void enable(size_t capacity) {
  Buffer& b = buffer();
  std::lock_guard<std::mutex> g(b.mu);
  b.events.clear();
  b.events.reserve(std::min<size_t>(capacity, size_t{1} << 16));
  b.capacity = capacity;
  b.overflowed = 0;
  detail::on.store(true);
}

void disable() { detail::on.store(false); }

bool enabled() { return detail::on.load(std::memory_order_relaxed); }

std::vector<Event> take() {
  Buffer& b = buffer();
  std::lock_guard<std::mutex> g(b.mu);
  std::vector<Event> out;
  out.swap(b.events);
  return out;
}

uint64_t overflowed() {
  Buffer& b = buffer();
  std::lock_guard<std::mutex> g(b.mu);
  return b.overflowed;
}

void detail::record(Hop hop, uint64_t cluster_id, uint64_t node_id, uint64_t index, uint64_t key, uint64_t peer) {
  Event e;
  e.time_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count());
  e.cluster_id = cluster_id;
  e.node_id = node_id;
  e.index = index;
  e.key = key;
  e.peer = peer;
  e.hop = hop;
  Buffer& b = buffer();
  std::lock_guard<std::mutex> g(b.mu);
  if (b.events.size() >= b.capacity) {
    ++b.overflowed;
    return;
  }
  b.events.push_back(e);
}

}  // namespace dragonboat::tracing
