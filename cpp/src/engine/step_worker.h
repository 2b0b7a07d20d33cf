// engine/step_worker.h — one step worker: owns the nodes of a set of groups
// (all in one LogDB shard) and runs them in passes. One pass steps every
// node's queued input, sends each node's Replicate messages, persists the
// updates of ALL nodes in ONE LogDB save (one write batch, one fsync), then
// finishes every node (other messages, apply, reads). This is how one fsync
// serves every group the worker stepped (docs/architecture.md).
// Thread-safety: run_once() from the worker's thread only; add() before the
// worker starts.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/node.h"
#include "logdb/logdb.h"

namespace dragonboat::engine {

struct StepWorkerStats {
  uint64_t passes = 0;
  uint64_t saves = 0;          // LogDB save() calls
  uint64_t node_updates = 0;   // node updates persisted by those saves
};

class StepWorker {
 public:
  explicit StepWorker(logdb::LogDB* db) : db_(db) {}
  void add(Node* node) { nodes_.push_back(node); }
  // One pass over every node. A storage failure is fatal for every node of
  // the worker (they share the failed LogDB shard): all are stopped.
  Status run_once();
  const StepWorkerStats& stats() const { return stats_; }

 private:
  logdb::LogDB* db_;
  std::vector<Node*> nodes_;
  StepWorkerStats stats_;
};

}  // namespace dragonboat::engine
