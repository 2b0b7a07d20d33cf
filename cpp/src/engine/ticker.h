// engine/ticker.h — the tick thread: every rtt_millisecond, one logical tick
// to every ACTIVE replica of the host, and a step-worker wake for each that
// needs a step for it. Quiesced idle replicas leave the active set
// (Node::sleep_if_idle) and are put back by reactivate() (Node::wake_tick:
// a request with a deadline, or a step pass that found the replica busy), so
// 10,000 idle groups cost nothing per tick.
// Thread-safety: reactivate() and active() from any thread; start()/stop()
// from the owner. The active set and Node::in_active_set belong to the tick
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"
#include "engine/node.h"

namespace dragonboat::engine {

class Ticker {
 public:
  // Returns the version of the host's set of replicas; when it differs from
  // `seen`, *out is filled with every replica (the active set is rebuilt).
  using ListNodes = std::function<uint64_t(uint64_t seen, std::vector<std::shared_ptr<Node>>* out)>;
  // Wakes the replica's step worker (its tick needs a step).
  using WakeStep = std::function<void(const std::shared_ptr<Node>&)>;

  Ticker(std::chrono::milliseconds period, ListNodes list, WakeStep wake_step)
      : period_(period), list_(std::move(list)), wake_step_(std::move(wake_step)) {}
  ~Ticker() { stop(); }

  // Starts the thread (named "tick").
  void start();
  // Joins the thread and forgets re-activated replicas. Idempotent.
  void stop();
  // Puts a dormant replica back into the active set at the next tick.
  void reactivate(std::shared_ptr<Node> n);
  // Replicas in the active set as of the last tick (a metric).
  size_t active() const { return active_count_.load(std::memory_order_relaxed); }

 private:
  void loop();

  const std::chrono::milliseconds period_;
  const ListNodes list_;
  const WakeStep wake_step_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ DB_GUARDED_BY(mu_) = false;
  std::mutex woken_mu_;
  std::vector<std::shared_ptr<Node>> woken_ DB_GUARDED_BY(woken_mu_);
  std::atomic<size_t> active_count_{0};
};

}  // namespace dragonboat::engine
