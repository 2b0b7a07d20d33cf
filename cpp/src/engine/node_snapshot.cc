// engine/node_snapshot.cc — the snapshot side of a Node (the snapshot
// worker): saving a captured snapshot, recovering from one the leader sent
// (§7), streaming a full snapshot to a follower of an on-disk state machine,
// and reclaiming LogDB space on request_compaction. One operation per node at
// a time (Node::op_); recovery and a regular state machine's save pause the
// node's applies until done.
#include "dragonboat/logger.h"
#include "engine/node.h"
#include "rsm/snapshotter.h"
#include "snapshot/snapshot_dir.h"

namespace dragonboat::engine {

raft::Snapshot Node::saved_snapshot(const SnapshotOp& op, const std::string& root, uint64_t file_size) const {
  raft::Snapshot ss;
  ss.index = op.index;
  ss.term = op.term;
  ss.membership = op.membership;
  ss.filepath = snapshot::data_file_path(snapshot::snapshot_dir(root, op.index), op.index);
  ss.file_size = file_size;
  return ss;
}

void Node::note_snapshot_sent(uint64_t to, uint64_t index) {
  ++counters.snapshots_sent;
  if (events) {
    SnapshotInfo si{cluster_id(), node_id(), to, index};
    events->system([si](ISystemEventListener& l) { l.send_snapshot_started(si); });
  }
}

snapshot::Compression Node::snapshot_compression() const {
  switch (opt_.config.snapshot_compression_type) {
    case CompressionType::kSnappy: return snapshot::Compression::kSnappy;
    case CompressionType::kLZ4: return snapshot::Compression::kLz4;
    case CompressionType::kNoCompression: break;
  }
  return snapshot::Compression::kNone;
}

Status Node::save_snapshot_op(const SnapshotOp& op) {
  bool exported = op.exported();
  std::string root = exported ? op.request.export_path : opt_.snapshot_root;
  snapshot::SnapshotMeta meta;
  Status s = rsm::save_prepared_snapshot(root, cluster_id(), node_id(), op.index, op.term,
                                         op.metadata_only ? nullptr : sm_, op.ctx, op.session_table, &meta,
                                         &stopped_, op.synced_index, snapshot_compression());
  if (!s.ok() && stopped_) {
    if (op.requested()) snapshot_reqs_.complete(op.request_key, RequestResultCode::kTerminated);
    return Status::OK();  // given up because the node stops: not a failure
  }
  if (s.code() == ErrorCode::kSnapshotAborted) {
    // The state machine abandoned this save (the reference's
    // ErrSnapshotAborted): the request completes aborted, the replica goes on,
    // and the next automatic snapshot is due snapshot_entries later.
    if (op.requested()) snapshot_reqs_.complete(op.request_key, RequestResultCode::kAborted);
    log_message(LogLevel::kInfo, "engine", "snapshot " + std::to_string(op.index) + " aborted: " + s.message());
    return Status::OK();
  }
  if (!s.ok()) {
    if (op.requested()) snapshot_reqs_.complete(op.request_key, RequestResultCode::kRejected);
    if (s.code() == ErrorCode::kRejected) return Status::OK();  // that snapshot exists already
    return Status(ErrorCode::kFatal, "saving snapshot " + std::to_string(op.index) + ": " + s.to_string());
  }
  ++counters.snapshots_created;
  if (events) {
    SnapshotInfo si{cluster_id(), node_id(), 0, op.index};
    events->system([si](ISystemEventListener& l) { l.snapshot_created(si); });
  }
  if (exported) {
    snapshot_reqs_.complete(op.request_key, RequestResultCode::kCompleted, {}, op.index);
    return Status::OK();
  }
  MadeSnapshot made;
  made.ss = saved_snapshot(op, root, meta.file_size);
  made.compaction_overhead = op.requested() && op.request.override_compaction_overhead
                                 ? op.request.compaction_overhead
                                 : opt_.config.compaction_overhead;
  made.request_key = op.request_key;
  {
    std::lock_guard<std::mutex> g(mu_);
    inbox_.made_snapshots.push_back(std::move(made));
  }
  wake_step();
  return Status::OK();
}

Status Node::recover_snapshot_op(const SnapshotOp& op) {
  // A snapshot from the leader replaces the state machine (§7); this node's
  // applies wait until it is done.
  const raft::Snapshot& ss = op.snapshot;
  if (!ss.witness && !opt_.raft.is_witness) {
    Status s = rsm::recover_snapshot(ss.filepath, sm_, &sessions_, &stopped_);
    if (!s.ok() && stopped_) return Status::OK();  // stopping anyway: nothing to report
    if (!s.ok()) return Status(ErrorCode::kFatal, "recovering from snapshot " + ss.filepath + ": " + s.to_string());
  }
  applier_.set_applied(ss.index);
  applier_.set_applied_term(ss.term);
  applier_.set_sm_applied(ss.index, ss.term);
  last_snapshot_index_ = ss.index;
  applied_ = std::max(applied_.load(), ss.index);
  complete_reads_up_to(applied_.load());
  ++counters.snapshots_recovered;
  if (events) {
    SnapshotInfo si{cluster_id(), node_id(), 0, ss.index};
    events->system([si](ISystemEventListener& l) { l.snapshot_recovered(si); });
  }
  return Status::OK();
}

Status Node::stream_snapshot_op(const SnapshotOp& op) {
  // A full snapshot of the current state at (op.index, op.term) — at or
  // after the snapshot Raft chose, and applied hence committed — replaces
  // it in the message; the follower acknowledges op.index and the leader
  // replicates from there.
  std::string root = opt_.snapshot_root + "-stream";
  (void)snapshot::remove_snapshots_before(root, op.index);  // older streamed copies
  snapshot::SnapshotMeta meta;
  Status s = rsm::save_prepared_snapshot(root, cluster_id(), node_id(), op.index, op.term, sm_, op.ctx,
                                         op.session_table, &meta, nullptr, 0, snapshot_compression());
  if (s.code() == ErrorCode::kRejected) {
    // Made already for another follower: reuse it.
    std::vector<snapshot::SnapshotMeta> all;
    s = snapshot::list_snapshots(root, &all);
    meta.file_size = 0;
    for (const auto& x : all)
      if (x.index == op.index) meta.file_size = x.file_size;
  }
  raft::Message m = op.stream_message;
  if (!s.ok()) {
    log_message(LogLevel::kWarning, "engine", "streaming a snapshot to node " + std::to_string(m.to) + ": " + s.to_string());
    report_snapshot_status(m.to, true);
    wake_step();
    return Status::OK();  // not fatal: Raft tries again
  }
  m.snapshot = saved_snapshot(op, root, meta.file_size);
  note_snapshot_sent(m.to, m.snapshot.index);
  if (!transport_->send_snapshot(m)) {
    report_snapshot_status(m.to, true);
    wake_step();
  }
  return Status::OK();
}

bool Node::has_snapshot_op() const {
  std::lock_guard<std::mutex> g(amu_);
  return op_ != nullptr;
}

void Node::compact_logdb() {
  // RequestCompaction: reclaim the space of dropped entries, off the
  // step and apply paths.
  uint64_t to = removed_to_.load();
  Status cs = db_->compact(cluster_id(), node_id(), to);
  if (cs.ok()) {
    reclaimed_to_ = std::max(reclaimed_to_.load(), to);
    if (events) {
      EntryInfo ei{cluster_id(), node_id(), to};
      events->system([ei](ISystemEventListener& l) { l.logdb_compacted(ei); });
    }
  }
  compactions_.complete_all(cs.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected);
}

Status Node::run_snapshot_op() {
  if (compactions_.size() > 0 || auto_compaction_.exchange(false)) compact_logdb();
  SnapshotOp* op;
  {
    std::lock_guard<std::mutex> g(amu_);
    op = op_.get();
  }
  if (!op) return Status::OK();
  // *op is not touched by the apply side while op_ holds it.
  Status s;
  switch (op->kind) {
    case SnapshotOpKind::kSave: s = save_snapshot_op(*op); break;
    case SnapshotOpKind::kRecover: s = recover_snapshot_op(*op); break;
    case SnapshotOpKind::kStream: s = stream_snapshot_op(*op); break;
  }
  {
    std::lock_guard<std::mutex> g(amu_);
    op_.reset();
  }
  if (!s.ok()) {
    set_failure(s);
    return s;
  }
  wake_apply();  // paused applies resume; waiting requests get their turn
  return Status::OK();
}

}  // namespace dragonboat::engine
