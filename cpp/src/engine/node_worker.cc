#include "engine/node_worker.h"

#include <string>

#include "common/enum_util.h"
#include "common/thread_name.h"

namespace dragonboat::engine {

void ReadyQueue::push(const std::shared_ptr<Node>& n, std::atomic<bool>* scheduled) {
  if (scheduled->exchange(true)) return;  // already queued: coalesced
  {
    std::lock_guard<std::mutex> g(mu_);
    ready_.push_back(n);
  }
  cv_.notify_one();
}

bool ReadyQueue::wait(NodeBatch* out) {
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait(g, [&] { return stopping_ || !ready_.empty(); });
  if (stopping_) return false;
  out->swap(ready_);
  return true;
}

NodeBatch ReadyQueue::stop() {
  std::lock_guard<std::mutex> g(mu_);
  stopping_ = true;
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
