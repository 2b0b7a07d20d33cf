// engine/metrics.h — the counters and the latency histogram behind
// NodeHost::get_health_metrics (engine/nodehost_metrics.cc).
// Thread-safety: counters are atomics; any thread may read or add.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace dragonboat::engine {

// Per replica.
struct NodeCounters {
  std::atomic<uint64_t> proposals{0};          // accepted by propose()
  std::atomic<uint64_t> proposals_dropped{0};  // completed dropped (no leader, busy core, transfer)
  std::atomic<uint64_t> proposals_refused_busy{0};  // refused at propose(): too many bytes queued
  std::atomic<uint64_t> reads{0};              // read_index requests accepted
  std::atomic<uint64_t> entries_applied{0};
  std::atomic<uint64_t> leader_changes{0};
  std::atomic<uint64_t> snapshots_created{0};
  std::atomic<uint64_t> snapshots_recovered{0};
  std::atomic<uint64_t> snapshots_sent{0};
  std::atomic<uint64_t> messages_dropped{0};   // received, over max_receive_queue_size
  std::atomic<uint64_t> heartbeats_answered_on_arrival{0};  // by deliver(), not the step pass
  std::atomic<uint64_t> heartbeats_for_busy_pass{0};  // sent by tick() while the step pass was busy
};

// A cumulative histogram of seconds with fixed buckets (Prometheus style).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
  void observe(double seconds) {
    for (size_t i = 0; i < kBuckets.size(); ++i)
      if (seconds <= kBuckets[i]) counts_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_us_.load(std::memory_order_relaxed) / 1e6; }

 private:
  std::array<std::atomic<uint64_t>, kBuckets.size()> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

}  // namespace dragonboat::engine
