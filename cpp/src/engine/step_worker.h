// engine/step_worker.h — a step worker: a thread that owns the nodes of a
// set of groups (all in one LogDB shard) and runs the ready ones in passes.
// One pass steps every ready node's queued input, sends each node's
// Replicate messages, persists the updates of ALL of them in ONE LogDB save
// (one write batch, one fsync), then finishes every node (other messages,
// config changes, committed entries queued to the apply side). This is how
// one fsync serves every group the worker stepped (docs/architecture.md).
//
// Wake-ups coalesce: a node woken many times before the worker gets to it is
// stepped once (Node::step_scheduled).
// Thread-safety: wake() from any thread; run_pass() from the worker's thread
// (or a test's thread when the worker was not start()ed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/metrics.h"
#include "engine/node.h"
#include "logdb/logdb.h"

namespace dragonboat::engine {

// The nodes a worker has been woken for. Wake-ups coalesce through a
// per-node flag: set by the first push, cleared by the worker when it
// takes the node, so a node is queued at most once. Thread-safe.
class ReadyQueue {
 public:
  void push(const std::shared_ptr<Node>& n, std::atomic<bool>* scheduled);
  // Blocks until nodes are queued (moved into *out; true) or stop() (false).
  bool wait(std::vector<std::shared_ptr<Node>>* out);
  // Wakes the waiter for good; returns the nodes still queued.
  std::vector<std::shared_ptr<Node>> stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Node>> ready_;
  bool stopping_ = false;
};

struct StepWorkerStats {
  uint64_t passes = 0;
  uint64_t saves = 0;          // LogDB save() calls
  uint64_t node_updates = 0;   // node updates persisted by those saves
};

class StepWorker {
 public:
  explicit StepWorker(logdb::LogDB* db) : db_(db) {}
  ~StepWorker() { stop(); }

  // Starts the worker's thread, named after its role and `index`.
  void start(size_t index = 0);
  // Joins the thread; nodes still queued are released.
  void stop();
  // Queues `n` for the next pass (no-op when already queued).
  void wake(const std::shared_ptr<Node>& n);

  // One pass over `nodes`. A storage failure is fatal for every node of the
  // pass (they share the failed LogDB shard): all are stopped.
  Status run_pass(const std::vector<std::shared_ptr<Node>>& nodes);
  StepWorkerStats stats() const {
    std::lock_guard<std::mutex> g(mu_);
    return stats_;
  }
  // Latency of the LogDB save (write batch + fsync) of each pass.
  const LatencyHistogram& sync_latency() const { return sync_latency_; }

 private:
  void loop();

  logdb::LogDB* db_;
  ReadyQueue queue_;
  std::thread thread_;
  mutable std::mutex mu_;  // stats_
  StepWorkerStats stats_;
  LatencyHistogram sync_latency_;
};

// An apply worker: applies the committed entries of its nodes (one batch per
// node per wake-up), outside the step workers, so a slow state machine
// delays only its own groups' applies, never their persistence.
class ApplyWorker {
 public:
  ApplyWorker() = default;
  ~ApplyWorker() { stop(); }
  // Starts the worker's thread, named after its role and `index`.
  void start(size_t index = 0);
  void stop();
  void wake(const std::shared_ptr<Node>& n);

 private:
  void loop();

  ReadyQueue queue_;
  std::thread thread_;
};

// A snapshot worker: saves and recovers snapshots (Node::run_snapshot_op),
// so a long snapshot holds up neither the step nor the apply workers'
// other groups.
class SnapshotWorker {
 public:
  SnapshotWorker() = default;
  ~SnapshotWorker() { stop(); }
  // Starts the worker's thread, named after its role and `index`.
  void start(size_t index = 0);
  void stop();
  void wake(const std::shared_ptr<Node>& n);

 private:
  void loop();

  ReadyQueue queue_;
  std::thread thread_;
};

}  // namespace dragonboat::engine
