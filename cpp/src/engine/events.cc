#include "engine/events.h"

#include "common/thread_name.h"
#include "dragonboat/logger.h"

namespace dragonboat::engine {

Events::Events(std::shared_ptr<IRaftEventListener> raft, std::shared_ptr<ISystemEventListener> system)
    : raft_(std::move(raft)), system_(std::move(system)) {
  if (raft_ || system_) {
    thread_ = std::thread([this] {
      set_thread_name("events");
      loop();
    });
  }
}

Events::~Events() { stop(); }

void Events::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Events::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
    if (queue_.size() >= kMaxQueued) {
      // A listener that cannot keep up loses events; Raft never waits.
      if (dropped_.fetch_add(1) % 10000 == 0) {
        log_message(LogLevel::kWarning, "events", "event listener too slow: events dropped");
      }
      return;
    }
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void Events::leader_updated(const LeaderInfo& i) {
  if (!raft_) return;
  auto l = raft_;
  post([l, i] { l->leader_updated(i); });
}

void Events::system(std::function<void(ISystemEventListener&)> fn) {
  if (!system_) return;
  auto l = system_;
  post([l, fn = std::move(fn)] { fn(*l); });
}

void Events::loop() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    cv_.wait(g, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    g.unlock();
    fn();  // listener code, on this thread only
    g.lock();
  }
}

}  // namespace dragonboat::engine
