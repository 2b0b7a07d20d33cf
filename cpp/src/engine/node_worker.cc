#include "engine/node_worker.h"

#include <string>

#include "common/enum_util.h"
#include "common/spin_wait.h"
#include "common/thread_name.h"

namespace dragonboat::engine {

void ReadyQueue::push(const std::shared_ptr<Node>& n, std::atomic<bool>* scheduled) {
  if (scheduled->exchange(true)) return;  // already queued: coalesced
  {
    std::lock_guard<std::mutex> g(mu_);
    ready_.push_back(n);
    has_ready_.store(true, std::memory_order_release);
  }
  cv_.notify_one();  // no system call when the waiter is polling, not sleeping
}

bool ReadyQueue::wait(NodeBatch* out) {
  // Poll first (common/spin_wait.h); has_ready_ is only a hint, the queue
  // under the lock decides.
  std::unique_lock<std::mutex> g(mu_, std::defer_lock);
  const bool polled = spin_.poll_or_sleep([this] { return has_ready_.load(std::memory_order_acquire); },
                                          [&] {
                                            g.lock();
                                            cv_.wait(g, [&] { return stopping_ || !ready_.empty(); });
                                          });
  if (!g.owns_lock()) g.lock();
  if (stopping_) return false;
  if (polled) polled_.fetch_add(1, std::memory_order_relaxed);
  out->swap(ready_);
  has_ready_.store(false, std::memory_order_relaxed);
  return true;
}

NodeBatch ReadyQueue::stop() {
  std::lock_guard<std::mutex> g(mu_);
  stopping_ = true;
  has_ready_.store(true, std::memory_order_release);  // ends a poll
  cv_.notify_all();
  return std::move(ready_);
}

namespace {
const char* role_name(Node::Worker role) {
  static const char* const kNames[] = {"step-", "apply-", "snap-"};  // in Node::Worker's order
  return enum_name(role, kNames, Node::Worker::kStep, "worker-");
}
}  // namespace

void NodeWorker::start(size_t index) {
  thread_ = std::thread([this, index] {
    set_thread_name(role_name(role_) + std::to_string(index));
    loop();
  });
}

void NodeWorker::stop() {
  NodeBatch left = queue_.stop();
  if (thread_.joinable()) thread_.join();
  for (auto& n : left) n->release(role_);
}

void NodeWorker::loop() {
  NodeBatch batch, live;
  while (queue_.wait(&batch)) {
    for (auto& n : batch) {
      // Cleared before running: a wake during the run queues it again.
      n->scheduled(role_) = false;
      if (n->stopped()) {
        n->release(role_);  // the worker lets go; NodeHost may now close it
      } else {
        live.push_back(std::move(n));
      }
    }
    batch.clear();
    if (!live.empty()) run_(live);
    live.clear();
  }
}

}  // namespace dragonboat::engine
