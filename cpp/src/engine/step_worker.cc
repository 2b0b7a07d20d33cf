#include "engine/step_worker.h"

#include <chrono>
#include <string>

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

bool ReadyQueue::wait(std::vector<std::shared_ptr<Node>>* out) {
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait(g, [&] { return stopping_ || !ready_.empty(); });
  if (stopping_) return false;
  out->swap(ready_);
  return true;
}

std::vector<std::shared_ptr<Node>> ReadyQueue::stop() {
  std::lock_guard<std::mutex> g(mu_);
  stopping_ = true;
  cv_.notify_all();
  return std::move(ready_);
}

void StepWorker::start(size_t index) {
  thread_ = std::thread([this, index] {
    set_thread_name("step-" + std::to_string(index));
    loop();
  });
}

void StepWorker::stop() {
  auto left = queue_.stop();
  if (thread_.joinable()) thread_.join();
  for (auto& n : left) n->release(Node::Worker::kStep);
}

void StepWorker::wake(const std::shared_ptr<Node>& n) { queue_.push(n, &n->step_scheduled); }

void StepWorker::loop() {
  std::vector<std::shared_ptr<Node>> batch;
  while (queue_.wait(&batch)) {
    std::vector<std::shared_ptr<Node>> live;
    for (auto& n : batch) {
      // Cleared before stepping: a wake during the pass queues it again.
      n->step_scheduled = false;
      if (n->stopped()) {
        n->release(Node::Worker::kStep);  // the worker lets go; NodeHost may now close it
      } else {
        live.push_back(n);
      }
    }
    batch.clear();
    if (!live.empty()) (void)run_pass(live);
  }
}

Status StepWorker::run_pass(const std::vector<std::shared_ptr<Node>>& nodes) {
  {
    std::lock_guard<std::mutex> g(mu_);
    ++stats_.passes;
  }
  std::vector<Node*> live;
  for (const auto& n : nodes)
    if (n->step_inputs().ok()) live.push_back(n.get());
  // Nodes may produce further updates after finishing one (e.g. a leader's
  // commit after its own persist); keep going until all are quiet.
  Status result = Status::OK();
  for (int round = 0; round < 16; ++round) {
    std::vector<Node*> stepped;
    std::vector<raft::Update> updates;
    std::vector<logdb::NodeUpdate> saves;
    std::vector<bool> persisted;
    for (Node* n : live) {
      if (n->stopped()) continue;
      raft::Update u;
      logdb::NodeUpdate nu;
      if (!n->prepare(&u, &nu)) continue;
      stepped.push_back(n);
      persisted.push_back(u.has_persistent_state());
      if (persisted.back()) saves.push_back(std::move(nu));
      updates.push_back(std::move(u));
    }
    if (stepped.empty()) break;
    if (!saves.empty()) {
      auto t0 = std::chrono::steady_clock::now();
      Status s = db_->save(saves);  // ONE write batch, ONE fsync for all of them
      sync_latency_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      {
        std::lock_guard<std::mutex> g(mu_);
        ++stats_.saves;
        stats_.node_updates += saves.size();
      }
      if (!s.ok()) {
        // Never send or apply what failed to persist; a failed fsync is not
        // retried (the LogDB is fatal from now on).
        for (Node* n : live) n->set_failure(s);
        return s;
      }
    }
    size_t next_save = 0;
    for (size_t i = 0; i < stepped.size(); ++i) {
      logdb::NodeUpdate none;
      logdb::NodeUpdate* nu = persisted[i] ? &saves[next_save++] : &none;
      Status s = stepped[i]->finish(&updates[i], nu, persisted[i]);
      if (!s.ok()) stepped[i]->set_failure(s);
    }
  }
  // One reading of the shard's write stall serves every node of the pass
  // (they share the shard).
  bool busy = !live.empty() && db_->busy(live.front()->cluster_id());
  for (Node* n : live) {
    n->after_pass();
    n->set_storage_busy(busy);
  }
  return result;
}

void ApplyWorker::start(size_t index) {
  thread_ = std::thread([this, index] {
    set_thread_name("apply-" + std::to_string(index));
    loop();
  });
}

void ApplyWorker::stop() {
  auto left = queue_.stop();
  if (thread_.joinable()) thread_.join();
  for (auto& n : left) n->release(Node::Worker::kApply);
}

void ApplyWorker::wake(const std::shared_ptr<Node>& n) { queue_.push(n, &n->apply_scheduled); }

void ApplyWorker::loop() {
  std::vector<std::shared_ptr<Node>> batch;
  while (queue_.wait(&batch)) {
    for (auto& n : batch) {
      n->apply_scheduled = false;
      if (n->stopped()) {
        n->release(Node::Worker::kApply);
        continue;
      }
      (void)n->apply_pending();  // a failure stops the node (and logs why)
    }
    batch.clear();
  }
}

void SnapshotWorker::start(size_t index) {
  thread_ = std::thread([this, index] {
    set_thread_name("snap-" + std::to_string(index));
    loop();
  });
}

void SnapshotWorker::stop() {
  auto left = queue_.stop();
  if (thread_.joinable()) thread_.join();
  for (auto& n : left) n->release(Node::Worker::kSnapshot);
}

void SnapshotWorker::wake(const std::shared_ptr<Node>& n) { queue_.push(n, &n->snapshot_scheduled); }

void SnapshotWorker::loop() {
  std::vector<std::shared_ptr<Node>> batch;
  while (queue_.wait(&batch)) {
    for (auto& n : batch) {
      n->snapshot_scheduled = false;
      if (n->stopped()) {
        n->release(Node::Worker::kSnapshot);
        continue;
      }
      (void)n->run_snapshot_op();  // a failure stops the node (and logs why)
    }
    batch.clear();
  }
}

}  // namespace dragonboat::engine
