#include "engine/ticker.h"

#include "common/thread_name.h"

namespace dragonboat::engine {

void Ticker::start() {
  thread_ = std::thread([this] {
    set_thread_name("tick");
    loop();
  });
}

void Ticker::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Passes after the tick thread stopped may have re-queued replicas.
  std::lock_guard<std::mutex> g(woken_mu_);
  woken_.clear();
}

void Ticker::reactivate(std::shared_ptr<Node> n) {
  std::lock_guard<std::mutex> g(woken_mu_);
  woken_.push_back(std::move(n));
}

void Ticker::loop() {
  auto next = std::chrono::steady_clock::now() + period_;
  std::vector<std::shared_ptr<Node>> active, back;
  auto add = [&](std::shared_ptr<Node> n) {
    if (n->in_active_set || n->stopped()) return;
    n->in_active_set = true;
    active.push_back(std::move(n));
  };
  uint64_t seen_version = ~uint64_t{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> g(mu_);
      if (cv_.wait_until(g, next, [&] { return stopping_; })) break;
    }
    next += period_;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + period_;  // fell behind: do not burst
    // Rebuilt from every replica only when the set of replicas changed
    // (dormant ones leave again at their first visit).
    uint64_t version = list_(seen_version, &back);
    if (version != seen_version) {
      for (auto& n : active) n->in_active_set = false;
      active.clear();
      seen_version = version;
    }
    {
      std::lock_guard<std::mutex> g(woken_mu_);
      back.insert(back.end(), woken_.begin(), woken_.end());
      woken_.clear();
    }
    for (auto& n : back) add(std::move(n));
    back.clear();
    for (size_t i = 0; i < active.size();) {
      Node& n = *active[i];
      if (n.stopped() || n.sleep_if_idle()) {
        n.in_active_set = false;
        active[i] = std::move(active.back());
        active.pop_back();
        continue;
      }
      if (n.tick()) wake_step_(active[i]);
      ++i;
    }
    active_count_.store(active.size(), std::memory_order_relaxed);
  }
  for (auto& n : active) n->in_active_set = false;
}

}  // namespace dragonboat::engine
