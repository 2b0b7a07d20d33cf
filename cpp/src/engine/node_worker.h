// engine/node_worker.h — the worker threads that run Nodes, and the queue
// that wakes them.
//
// Every worker has the same loop (NodeWorker): wait for woken nodes, clear
// each node's scheduled flag (a wake during the run queues it again), let go
// of stopped nodes (Node::release, so NodeHost may close them), and hand the
// live ones to the worker's batch function. What differs is that function:
//  - the step worker (engine/step_worker.h) runs one pass over all of them
//    with one LogDB save;
//  - an apply worker applies each node's committed entries
//    (Node::apply_pending), outside the step workers, so a slow state machine
//    delays only its own groups' applies, never their persistence;
//  - a snapshot worker runs each node's snapshot operation
//    (Node::run_snapshot_op), so a long snapshot holds up neither the step
//    nor the apply workers' other groups.
// Thread-safety: wake() from any thread; start()/stop() from the owner.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/spin_wait.h"
#include "common/thread_annotations.h"
#include "engine/node.h"

namespace dragonboat::engine {

using NodeBatch = std::vector<std::shared_ptr<Node>>;

// The nodes a worker has been woken for. Wake-ups coalesce through a
// per-node flag: set by the first push, cleared by the worker when it
// takes the node, so a node is queued at most once. Thread-safe.
class ReadyQueue {
 public:
  void push(const std::shared_ptr<Node>& n, std::atomic<bool>* scheduled);
  // Blocks until nodes are queued (moved into *out; true) or stop() (false).
  bool wait(NodeBatch* out);
  // Wakes the waiter for good; returns the nodes still queued.
  NodeBatch stop();
  // How long wait() may poll before it sleeps (common/spin_wait.h). Set
  // before the waiter's first wait().
  void set_busy_poll_ns(uint64_t ns) { spin_.set_budget_ns(ns); }
  // Waits that found their work by polling, without sleeping.
  uint64_t polled() const { return polled_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  NodeBatch ready_ DB_GUARDED_BY(mu_);
  bool stopping_ DB_GUARDED_BY(mu_) = false;
  // Set with ready_ non-empty or stopping_ (under mu_), cleared when the
  // waiter takes ready_: what wait() polls before it sleeps.
  std::atomic<bool> has_ready_{false};
  AdaptiveSpin spin_;  // the waiter's alone
  std::atomic<uint64_t> polled_{0};
};

class NodeWorker {
 public:
  // Runs a batch of live nodes, in the worker's thread.
  using RunBatch = std::function<void(const NodeBatch&)>;
  NodeWorker(Node::Worker role, RunBatch run) : role_(role), run_(std::move(run)) {}
  ~NodeWorker() { stop(); }
  NodeWorker(const NodeWorker&) = delete;
  NodeWorker& operator=(const NodeWorker&) = delete;

  // Starts the thread, named after the role and `index` (step-0, apply-1...).
  void start(size_t index = 0);
  // Joins the thread; nodes still queued are released. Idempotent.
  void stop();
  // How long the thread polls for work before it sleeps
  // (NodeHostConfig::busy_poll_microseconds). Set before start().
  void set_busy_poll_ns(uint64_t ns) { queue_.set_busy_poll_ns(ns); }
  // Wake-ups this worker's thread took by polling instead of sleeping.
  uint64_t polled_wakeups() const { return queue_.polled(); }
  // Queues `n` for the next batch (no-op when already queued).
  void wake(const std::shared_ptr<Node>& n) { queue_.push(n, &n->scheduled(role_)); }

 private:
  void loop();

  Node::Worker role_;
  RunBatch run_;
  ReadyQueue queue_;
  std::thread thread_;
};

class ApplyWorker : public NodeWorker {
 public:
  ApplyWorker()
      : NodeWorker(Node::Worker::kApply, [](const NodeBatch& nodes) {
          for (const auto& n : nodes) (void)n->apply_pending();  // a failure stops the node (and logs why)
        }) {}
};

class SnapshotWorker : public NodeWorker {
 public:
  SnapshotWorker()
      : NodeWorker(Node::Worker::kSnapshot, [](const NodeBatch& nodes) {
          for (const auto& n : nodes) (void)n->run_snapshot_op();  // a failure stops the node (and logs why)
        }) {}
};

}  // namespace dragonboat::engine
