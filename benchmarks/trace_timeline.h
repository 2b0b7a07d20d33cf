// trace_timeline.h — turns the hop events of dragonboat/tracing.h, merged
// from the three NodeHost processes of a benchmark, into the median timeline
// of one proposal: for every proposal the leader traced (kProposed), the
// time from its kQueued to the first event of each later hop that covers its
// index, at the leader and at the follower whose acknowledgement reached the
// leader first (the one that completed the commit quorum of three).
// Meaningful with one request in flight (--inflight 1); with more, hops
// overlap and "first event covering the index" mixes requests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "dragonboat/tracing.h"

namespace bench {

class TraceTimeline {
 public:
  explicit TraceTimeline(const std::vector<dragonboat::tracing::Event>& events) {
    for (const auto& e : events) {
      if (e.hop == Hop::kQueued) {
        queued_[{e.cluster_id, e.node_id, e.key}] = e.time_ns;
        continue;
      }
      // Acknowledgements are told apart by follower; so are a leader's
      // Replicates written to each follower.
      const bool per_peer = e.hop == Hop::kAckReceived || e.hop == Hop::kWireSent || e.hop == Hop::kWireReceived;
      const uint64_t peer = per_peer ? e.peer : 0;
      lists_[{e.cluster_id, e.node_id, int(e.hop), peer}].push_back({e.index, e.time_ns});
      if (e.hop == Hop::kProposed) proposed_.push_back(e);
      nodes_[e.cluster_id].insert(e.node_id);
    }
    for (auto& [k, v] : lists_) std::sort(v.begin(), v.end());  // by index, then time
  }

  // Prints the median offset of each hop from the proposal's kQueued.
  void print() const {
    std::vector<std::vector<double>> offsets(kRows);
    size_t complete = 0;
    for (const auto& p : proposed_) {
      std::vector<double> row;
      if (timeline(p, &row)) {
        ++complete;
        for (size_t i = 0; i < kRows; ++i) offsets[i].push_back(row[i]);
      }
    }
    std::printf("trace: %zu proposals with every hop; median microseconds since the proposal was queued\n",
                complete);
    if (complete == 0) return;
    for (size_t i = 0; i < kRows; ++i) std::printf("  %-44s %8.1f\n", kNames[i], median(&offsets[i]));
  }

 private:
  using Hop = dragonboat::tracing::Hop;
  using Entry = std::pair<uint64_t, uint64_t>;  // index, time
  static constexpr size_t kRows = 17;
  static constexpr const char* kNames[kRows] = {"step pass: proposed to Raft",
                                                "leader: Replicate handed to the transport",
                                                "leader: LogDB save started",
                                                "leader: LogDB save done (fsync)",
                                                "leader: Replicate written to the socket",
                                                "follower I/O thread: Replicate read",
                                                "follower: Replicate reached the node",
                                                "follower: Replicate stepped (step worker)",
                                                "follower: LogDB save started",
                                                "follower: LogDB save done (fsync)",
                                                "follower: acknowledgement handed to transport",
                                                "follower: acknowledgement written",
                                                "leader I/O thread: acknowledgement read",
                                                "leader: acknowledgement reached the node",
                                                "leader: committed, handed to apply",
                                                "leader: applied (request completed next)",
                                                "follower: committed"};

  // Time of the first event of `hop` at (cluster, node[, peer]) covering index.
  bool first(uint64_t c, uint64_t n, Hop hop, uint64_t peer, uint64_t index, uint64_t* t) const {
    auto it = lists_.find({c, n, int(hop), peer});
    if (it == lists_.end()) return false;
    auto e = std::lower_bound(it->second.begin(), it->second.end(), Entry{index, 0});
    if (e == it->second.end()) return false;
    *t = e->second;
    return true;
  }

  bool timeline(const dragonboat::tracing::Event& p, std::vector<double>* row) const {
    const uint64_t c = p.cluster_id, leader = p.node_id, i = p.index;
    auto q = queued_.find({c, leader, p.key});
    if (q == queued_.end()) return false;
    // The follower whose acknowledgement arrived first.
    uint64_t follower = 0, ack_at = UINT64_MAX;
    for (uint64_t f : nodes_.at(c)) {
      uint64_t t;
      if (f != leader && first(c, leader, Hop::kAckReceived, f, i, &t) && t < ack_at) {
        ack_at = t;
        follower = f;
      }
    }
    if (follower == 0) return false;
    // (node, hop, peer of a per-peer hop)
    const std::tuple<uint64_t, Hop, uint64_t> hops[kRows] = {
        {leader, Hop::kProposed, 0},           {leader, Hop::kReplicateSent, 0},
        {leader, Hop::kSaveStart, 0},          {leader, Hop::kSaveEnd, 0},
        {leader, Hop::kWireSent, follower},    {follower, Hop::kWireReceived, leader},
        {follower, Hop::kReceived, 0},         {follower, Hop::kStepped, 0},
        {follower, Hop::kSaveStart, 0},
        {follower, Hop::kSaveEnd, 0},          {follower, Hop::kAckSent, 0},
        {follower, Hop::kWireSent, leader},    {leader, Hop::kWireReceived, follower},
        {leader, Hop::kAckReceived, follower}, {leader, Hop::kCommitted, 0},
        {leader, Hop::kApplied, 0},            {follower, Hop::kCommitted, 0}};
    row->clear();
    for (const auto& [node, hop, peer] : hops) {
      uint64_t t;
      if (!first(c, node, hop, peer, i, &t)) return false;
      row->push_back((double(t) - double(q->second)) / 1000.0);
    }
    return true;
  }

  static double median(std::vector<double>* v) {
    std::sort(v->begin(), v->end());
    return (*v)[v->size() / 2];
  }

  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, uint64_t> queued_;  // (c, n, key) -> time
  std::map<std::tuple<uint64_t, uint64_t, int, uint64_t>, std::vector<Entry>> lists_;
  std::map<uint64_t, std::set<uint64_t>> nodes_;
  std::vector<dragonboat::tracing::Event> proposed_;
};

}  // namespace bench
