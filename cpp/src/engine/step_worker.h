// engine/step_worker.h — a step worker: a thread that owns the nodes of a
// set of groups (all in one LogDB shard) and runs the ready ones in passes.
// One pass steps every ready node's queued input, sends each node's
// Replicate messages, persists the updates of ALL of them in ONE LogDB save
// (one write batch, one fsync), then finishes every node (other messages,
// config changes, committed entries queued to the apply side). This is how
// one fsync serves every group the worker stepped (docs/architecture.md).
//
// Wake-ups coalesce: a node woken many times before the worker gets to it is
// stepped once (engine/node_worker.h has the loop all workers share).
// Thread-safety: wake() from any thread; run_pass() from the worker's thread
// (or a test's thread when the worker was not start()ed).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/thread_annotations.h"
#include "engine/metrics.h"
#include "engine/node.h"
#include "engine/node_worker.h"
#include "dragonboat/raftio.h"
#include "logdb/logdb.h"

namespace dragonboat::engine {

struct StepWorkerStats {
  uint64_t passes = 0;
  uint64_t saves = 0;          // LogDB save() calls
  uint64_t node_updates = 0;   // node updates persisted by those saves
};

class StepWorker {
 public:
  // A pass takes in at most a budget of entry bytes (proposals and received
  // Replicates, over all its nodes; each node takes at least one of each,
  // and the nodes the last pass cut short go first, so none is starved),
  // sized so that the pass's save takes about a fifth of the shortest
  // election timeout of its groups at the save rate measured so far: the
  // heartbeats and acknowledgements that wait behind a save then never
  // starve into an election, whatever the disk. Bounds of the budget, and
  // the budget until a rate is known:
  static constexpr uint64_t kMinPassEntryBytes = 64 << 10;
  static constexpr uint64_t kMaxPassEntryBytes = 8 << 20;
  static constexpr uint64_t kInitialPassEntryBytes = 1 << 20;

  explicit StepWorker(logdb::LogDB* db)
      : db_(db), worker_(Node::Worker::kStep, [this](const NodeBatch& nodes) { (void)run_pass(nodes); }) {}
  ~StepWorker() { stop(); }

  // The transport the nodes send through: each pass's sends are one send
  // batch (raftio::ITransport::begin_send_batch), flushed before the pass's
  // fsync and after its finish. Set before start(); none: sends go at once.
  void set_transport(raftio::ITransport* t) { transport_ = t; }

  // How long the thread polls for work before it sleeps. Set before start().
  void set_busy_poll_ns(uint64_t ns) { worker_.set_busy_poll_ns(ns); }
  // Wake-ups the thread took by polling instead of sleeping.
  uint64_t polled_wakeups() const { return worker_.polled_wakeups(); }

  // Starts the worker's thread, named after its role and `index`.
  void start(size_t index = 0) { worker_.start(index); }
  // Joins the thread; nodes still queued are released.
  void stop() { worker_.stop(); }
  // A group with this election timeout runs on the worker (any thread).
  void note_election_timeout(double seconds);
  // The entry bytes the next pass takes in (see kMinPassEntryBytes).
  uint64_t pass_budget() const;

  // Queues `n` for the next pass (no-op when already queued).
  void wake(const std::shared_ptr<Node>& n) { worker_.wake(n); }

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
  logdb::LogDB* db_;
  raftio::ITransport* transport_ = nullptr;
  mutable std::mutex mu_;
  StepWorkerStats stats_ DB_GUARDED_BY(mu_);
  LatencyHistogram sync_latency_;
  double save_rate_ = 0;  // worker thread only: entry bytes per second of large saves (EWMA); 0: unknown
  std::atomic<uint64_t> election_timeout_us_{UINT64_MAX};
  NodeWorker worker_;  // last: its thread stops before the rest goes
};

}  // namespace dragonboat::engine
