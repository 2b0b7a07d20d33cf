// engine/events.h — delivers Raft and system events to the application's
// listeners on one thread of their own, so no engine thread ever runs
// listener code. Bounded: past kMaxQueued events new ones are dropped and
// counted. Thread-safety: post methods from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "dragonboat/events.h"

namespace dragonboat::engine {

class Events {
 public:
  static constexpr size_t kMaxQueued = 65536;

  Events(std::shared_ptr<IRaftEventListener> raft, std::shared_ptr<ISystemEventListener> system);
  ~Events();  // stop()
  // Delivers what is queued, then joins the thread. Idempotent.
  void stop();

  bool has_raft() const { return raft_ != nullptr; }
  bool has_system() const { return system_ != nullptr; }
  void leader_updated(const LeaderInfo& i);
  // Posts `fn(listener)` for the system listener (no-op without one).
  void system(std::function<void(ISystemEventListener&)> fn);
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void post(std::function<void()> fn);
  void loop();

  std::shared_ptr<IRaftEventListener> raft_;
  std::shared_ptr<ISystemEventListener> system_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace dragonboat::engine
