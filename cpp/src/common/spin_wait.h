// common/spin_wait.h — polling for a short while before a thread sleeps.
//
// On a virtual machine a thread that blocks lets its vCPU idle, and waking
// an idle vCPU costs the host tens of microseconds (measured here: 40-100 µs
// per hand-off between engine threads, docs/benchmarks.md). A thread that
// polls for its next piece of work for a few microseconds first keeps its
// vCPU busy through the short gaps of a request's path (a proposal arriving
// just after a pass, an acknowledgement just after a Replicate) and sleeps
// normally once the gap outlasts the budget.
// The budget is NodeHostConfig::busy_poll_microseconds (0, the default: a
// thread sleeps at once).
// Thread-safety: spin_until is stateless; an AdaptiveSpin belongs to one
// waiting thread.
#pragma once

#include <sched.h>

#include <chrono>
#include <cstdint>

namespace dragonboat {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `ready()` until it returns true (true) or `budget_ns` passes (false).
// Yields the CPU between polls, so a runnable thread on the same vCPU (the
// one that will produce the work, often) is rarely held up by the poller
// (sched_yield is a hint to the scheduler, not a hand-over).
template <typename Ready>
bool spin_until(Ready&& ready, uint64_t budget_ns) {
  if (budget_ns == 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    sched_yield();
  }
}

// A waiter's polling window, adapted to the gaps it sees (one per waiting
// thread; not thread-safe). It starts at zero. When a wait's poll and sleep
// together took at most the budget (polling longer would have caught the
// work), the window doubles, from kGrowStartNs; when they took longer, it
// halves (to zero below kGrowStartNs). So a thread woken only rarely (a
// snapshot worker, an unused apply worker) never polls, the threads on a
// busy request path poll through its short gaps, and the threads of a host
// whose groups only heartbeat poll briefly around each heartbeat's round
// trip (nothing once the groups quiesce).
class AdaptiveSpin {
 public:
  static constexpr uint64_t kGrowStartNs = 10'000;

  // The longest window in nanoseconds (0: never poll). Set before use.
  void set_budget_ns(uint64_t ns) {
    budget_ = ns;
    if (window_ > budget_) window_ = budget_;
  }
  // Polls `ready()` for the current window (false when it stays false).
  template <typename Ready>
  bool poll(Ready&& ready) {
    return spin_until(ready, window_);
  }
  // Polls `ready()` for the current window; when it stays false, calls
  // `sleep()` (which blocks until the work comes) and adapts the window to
  // how long that took. True when the poll found the work.
  template <typename Ready, typename Sleep>
  bool poll_or_sleep(Ready&& ready, Sleep&& sleep) {
    if (poll(ready)) return true;
    const auto slept_from = std::chrono::steady_clock::now();
    sleep();
    slept(std::chrono::steady_clock::now() - slept_from);
    return false;
  }
  // Adapts the window after a sleep that followed a failed poll, given its
  // length (poll_or_sleep calls it).
  void slept(std::chrono::steady_clock::duration d) {
    const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    if (budget_ == 0) {
      return;
    } else if (ns + window_ <= budget_) {
      window_ = window_ < kGrowStartNs ? kGrowStartNs : window_ * 2;
      if (window_ > budget_) window_ = budget_;
    } else {
      window_ /= 2;
      if (window_ < kGrowStartNs) window_ = 0;
    }
  }
  uint64_t window_ns() const { return window_; }

 private:
  uint64_t budget_ = 0;
  uint64_t window_ = 0;
};

}  // namespace dragonboat
