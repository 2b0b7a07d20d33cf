// engine/node_apply.cc — the apply side of a Node (its group's apply worker):
// committed entries into the state machine in batches, reads completed once
// their index is applied, and snapshot operations captured between updates
// (at a consistent point of the state machine and the session table) for the
// snapshot worker to carry out.
#include "engine/node.h"

namespace dragonboat::engine {

void Node::complete_reads_up_to(uint64_t applied) {
  std::lock_guard<std::mutex> g(amu_);
  while (!confirmed_reads_.empty() && confirmed_reads_.begin()->first <= applied) {
    reads_.complete(confirmed_reads_.begin()->second, RequestResultCode::kCompleted);
    confirmed_reads_.erase(confirmed_reads_.begin());
  }
}

Status Node::capture_state(SnapshotOp* op) {
  // Everything applied must be durable before a snapshot lets the log go.
  Status s = sm_->sync();
  if (s.ok() && !op->metadata_only) s = sm_->prepare_snapshot(&op->ctx);
  if (!s.ok()) return s;
  op->session_table = sessions_.encode();  // at the same point as the state
  op->synced_index = applier_.sm_applied();  // what an on-disk state machine holds after the sync
  {
    std::lock_guard<std::mutex> g(amu_);
    op->membership = applied_membership_;
  }
  op->blocks_apply = !op->metadata_only && sm_->snapshot_blocks_updates();
  return Status::OK();
}

Status Node::capture_snapshot(const SnapshotOption* req, uint64_t key, std::unique_ptr<SnapshotOp>* out) {
  bool exported = req && req->exported;
  uint64_t index = applier_.applied();
  uint64_t term = applier_.applied_term();
  if (index == 0 || term == 0 || (!exported && index == last_snapshot_index_)) {
    // Nothing new to capture; a request for it is refused (one exists).
    if (req) snapshot_reqs_.complete(key, RequestResultCode::kRejected);
    return Status::OK();
  }
  auto op = std::make_unique<SnapshotOp>();
  op->metadata_only = sm_->kind() == StateMachineType::kOnDisk && !exported;
  op->index = index;
  op->term = term;
  Status s = capture_state(op.get());
  if (!s.ok()) {
    if (req) snapshot_reqs_.complete(key, RequestResultCode::kRejected);
    return Status(ErrorCode::kFatal, "preparing snapshot " + std::to_string(index) + ": " + s.to_string());
  }
  if (req) {
    op->request_key = key;
    op->request = *req;
  }
  if (!exported) last_snapshot_index_ = index;
  *out = std::move(op);
  return Status::OK();
}

Status Node::capture_stream(raft::Message m, std::unique_ptr<SnapshotOp>* out) {
  auto op = std::make_unique<SnapshotOp>();
  op->kind = SnapshotOpKind::kStream;
  op->stream_message = std::move(m);
  op->index = applier_.applied();
  op->term = applier_.applied_term();
  if (op->index < op->stream_message.snapshot.index || op->term == 0) {
    // Cannot happen (our snapshots are of applied state); let Raft retry.
    uint64_t to = op->stream_message.to;
    report_snapshot_status(to, true);
    wake_step();
    return Status::OK();
  }
  Status s = capture_state(op.get());
  if (!s.ok()) return Status(ErrorCode::kFatal, "preparing a snapshot to stream: " + s.to_string());
  *out = std::move(op);
  return Status::OK();
}

Status Node::apply_pending() {
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  std::deque<ApplyTask> tasks;
  std::vector<std::pair<uint64_t, SnapshotOption>> asks;
  std::vector<raft::Message> streams;
  bool busy;  // a snapshot operation is in progress
  {
    std::lock_guard<std::mutex> g(amu_);
    if (op_ && op_->blocks_apply) return Status::OK();  // resumed when it completes
    busy = op_ != nullptr;
    tasks.swap(tasks_);
    asks.swap(snapshot_asks_);
    streams.swap(stream_asks_);
  }
  std::unique_ptr<SnapshotOp> op;
  Status s = Status::OK();
  size_t drained = 0;
  size_t i = 0;
  for (; i < tasks.size(); ++i) {
    ApplyTask& t = tasks[i];
    if (!t.recover.empty()) {
      if (busy) break;  // one snapshot operation at a time: after the current one
      op = std::make_unique<SnapshotOp>();
      op->kind = SnapshotOpKind::kRecover;
      op->snapshot = std::move(t.recover);
      t.recover = raft::Snapshot{};
      if (t.membership_changed) {
        std::lock_guard<std::mutex> g(amu_);
        applied_membership_ = t.membership;
        t.membership_changed = false;
      }
      break;  // the task's entries are applied after the recovery
    }
    rsm::ApplyOutput out;
    s = applier_.apply(t.entries, &out);
    if (!t.entries.empty()) {
      tracing::trace(tracing::Hop::kApplied, cluster_id(), node_id(), t.entries.back().index);
    }
    for (auto& c : out.completions) {
      pending_.complete_entry(c.key, RequestTag{c.client_id, c.series_id}, c.code, std::move(c.result));
    }
    drained += t.entries.size();
    applied_ = std::max(applied_.load(), applier_.applied());
    if (t.membership_changed) {
      std::lock_guard<std::mutex> g(amu_);
      applied_membership_ = t.membership;
    }
    if (!s.ok()) break;  // the state machine failed: stop, never skip
    const uint64_t every = opt_.config.snapshot_entries;
    if (!busy && every && applier_.applied() >= last_snapshot_index_ + every) {
      s = capture_snapshot(nullptr, 0, &op);
      if (!s.ok()) break;
      if (op) {
        busy = true;
        if (op->blocks_apply) {
          ++i;
          break;  // a regular state machine saves before it applies more
        }
      }
    }
  }
  apply_backlog_ -= std::min(apply_backlog_.load(), drained);
  counters.entries_applied += drained;
  complete_reads_up_to(applied_.load());
  if (s.ok() && !busy && !op && !streams.empty()) {
    s = capture_stream(std::move(streams.front()), &op);
    streams.erase(streams.begin());
  }
  if (s.ok() && !busy && !op && !asks.empty()) {
    s = capture_snapshot(&asks.front().second, asks.front().first, &op);
    asks.erase(asks.begin());
  }
  {
    std::lock_guard<std::mutex> g(amu_);
    // What was not done goes back to the front of the queues, in order.
    for (size_t j = tasks.size(); j > i; --j) tasks_.push_front(std::move(tasks[j - 1]));
    snapshot_asks_.insert(snapshot_asks_.begin(), asks.begin(), asks.end());
    stream_asks_.insert(stream_asks_.begin(), streams.begin(), streams.end());
    if (op) op_ = std::move(op);
  }
  if (!s.ok()) {
    set_failure(s);
    return s;
  }
  if (has_snapshot_op()) wake_snapshot();
  if (held_back_) wake_step();  // the step side may hand out more now
  return Status::OK();
}

}  // namespace dragonboat::engine
