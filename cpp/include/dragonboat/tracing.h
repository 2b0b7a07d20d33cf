// dragonboat/tracing.h — where one request's time goes: a switchable record
// of the hops a proposal makes through the engine (caller's queue, step
// pass, Replicate sent, each replica's LogDB save, follower acknowledgement,
// commit, apply), for latency analysis (benchmarks/nodehost_bench --trace).
//
// Off by default; when off each hop costs one relaxed atomic load. When on,
// each hop appends one Event under a mutex to a bounded buffer (events past
// the capacity are counted, not kept). Times are CLOCK_MONOTONIC
// (std::chrono::steady_clock) nanoseconds, comparable across the processes
// of one machine, so the hops of a leader and its followers can be merged.
// Thread-safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dragonboat::tracing {

// The hops, in the order a proposal makes them. `index` is the last log
// index the hop covers (a save, a Replicate or an acknowledgement covers a
// range: every index up to it).
enum class Hop : uint8_t {
  kQueued,         // a proposal entered its node's inbox (caller's thread); key set
  kProposed,       // the step worker handed it to Raft; key and its index set
  kReplicateSent,  // leader: a Replicate carrying entries up to index handed to the transport
  kWireSent,       // a Replicate (leader) or an acknowledgement (follower) covering index
                   // framed for the socket, by the I/O thread or by a step worker flushing
                   // its pass (raftio::ITransport::flush_sends); peer: its receiver
  kWireReceived,   // ... read and decoded by the receiver's I/O thread; peer: its sender
  kSaveStart,      // a LogDB save holding this node's entries up to index began
  kSaveEnd,        // ... and returned (written and synced)
  kReceived,       // follower: a Replicate with entries up to index reached its node
  kAckSent,        // follower: its acknowledgement of index handed to the transport
  kAckReceived,    // leader: an acknowledgement of index from `peer` reached its node
  kCommitted,      // entries up to index handed to the apply side
  kApplied,        // entries up to index applied (their requests are completed next)
  kStepped,        // follower: its step worker stepped a Replicate with entries up to index
};

// The name of a hop ("queued", "proposed", ...).
const char* hop_name(Hop hop);

struct Event {
  uint64_t time_ns = 0;  // steady_clock
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;  // the replica that recorded it
  uint64_t index = 0;    // 0 for kQueued
  uint64_t key = 0;      // the proposal's key (kQueued, kProposed), else 0
  uint64_t peer = 0;     // kAckReceived: the follower; kReceived: the leader
  Hop hop = Hop::kQueued;
};

// Starts recording (clearing what was kept), keeping at most `capacity`
// events.
void enable(size_t capacity = size_t{1} << 20);
// Stops recording; what was kept stays until take().
void disable();
bool enabled();
// Returns the kept events in recording order and clears them.
std::vector<Event> take();
// Events not kept because the buffer was full, since enable().
uint64_t overflowed();

}  // namespace dragonboat::tracing
