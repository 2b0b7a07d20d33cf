#include "engine/node.h"

#include <random>

#include "dragonboat/logger.h"
#include "rsm/snapshotter.h"
#include "snapshot/snapshot_dir.h"

namespace dragonboat::engine {

namespace {
uint64_t random_u64() {
  static std::mutex mu;  // std::random_device is not promised to be thread-safe
  std::lock_guard<std::mutex> g(mu);
  static std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}
}  // namespace

Status Node::open(const NodeOptions& options, logdb::LogDB* db, transport::Transport* transport,
                  transport::NodeRegistry* registry, rsm::ManagedSM* sm, std::unique_ptr<Node>* out) {
  std::unique_ptr<Node> n(new Node(options, db, transport, registry, sm));
  const raft::Config& c = options.raft;
  Status s = logdb::NodeLog::open(db, c.cluster_id, c.node_id, 4 << 20, &n->log_);
  if (!s.ok()) return s;
  // An on-disk state machine reports what it already holds durably.
  uint64_t durable = 0;
  if (!c.is_witness) {
    s = sm->open(&durable);
    if (!s.ok()) return Status(s.code(), "opening the on-disk state machine: " + s.message());
  }
  // Election timeouts must differ between replicas: seed by node ID.
  n->random_ = std::make_unique<raft::SeededRandom>(c.cluster_id * 1000003 + c.node_id);
  s = raft::Peer::launch(c, n->log_.get(), n->random_.get(), options.initial_members, options.join, &n->peer_);
  if (!s.ok()) return s;
  raft::Snapshot ss = n->log_->snapshot();
  uint64_t applied = ss.index;
  if (!ss.empty() && !ss.witness && !c.is_witness && durable < ss.index) {
    // Restart: the state machine comes back from the latest snapshot, then
    // the log after it is replayed. An on-disk state machine's own
    // snapshots hold no state: they record the last entry it had received
    // when it was synced for them (entries after that up to the snapshot's
    // index never reach it: no-ops, membership changes), and open() must
    // report at least that entry.
    uint64_t synced = ss.index;  // snapshots from before it was recorded: their index
    s = rsm::read_metadata_only_snapshot(ss.filepath, &synced);
    if (s.ok() && sm->kind() == StateMachineType::kOnDisk) {
      if (durable < synced) {
        return Status(ErrorCode::kNoSnapshot,
                      "the on-disk state machine's open() reported index " + std::to_string(durable) +
                          ", but it was synced at index " + std::to_string(synced) + " for snapshot " +
                          ss.filepath + ": its store lost updates it had made durable");
      }
      durable = ss.index;  // it holds everything up to the snapshot
    } else {
      s = rsm::recover_snapshot(ss.filepath, sm, &n->sessions_);
      if (!s.ok()) return Status(s.code(), "recovering from snapshot " + ss.filepath + ": " + s.message());
    }
  }
  n->applier_.set_applied(applied);
  n->applier_.set_applied_term(ss.term);
  n->applier_.set_durable(durable);
  n->applier_.set_sm_applied(std::max(applied, durable), 0);
  n->applied_ = std::max(applied, durable);
  n->last_snapshot_index_ = ss.index;
  n->applied_membership_ = n->peer_->membership();
  n->removed_to_ = n->log_->first_index() - 1;
  if (registry) {
    const raft::Membership& m = n->peer_->membership();
    for (const auto* group : {&m.addresses, &m.observers, &m.witnesses})
      for (const auto& [id, addr] : *group) registry->add(c.cluster_id, id, addr);
  }
  // Proposal keys and read contexts start at random points on every start
  // of the replica (as the reference draws them): entries and ReadIndex
  // answers from this replica's earlier life, or from other replicas, must
  // not complete the requests of this one. Keys derived from the node ID
  // restarted at the same value, so a replica replaying its own old
  // entries completed new proposals with old results. 2^64 keys: a clash
  // needs ~2^32 requests in flight; the session tag checked at completion
  // (PendingRequests::complete_entry) guards session proposals further.
  n->next_key_ = random_u64();
  n->read_round_ = random_u64();
  *out = std::move(n);
  return Status::OK();
}

// ---- any thread ---------------------------------------------------------------

Status Node::propose(Proposal p, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness cannot propose");
  if (p.cmd.size() > opt_.max_entry_bytes) {
    return Status(ErrorCode::kPayloadTooBig, "proposal of " + std::to_string(p.cmd.size()) +
                                                 " bytes exceeds max_proposal_payload_size " +
                                                 std::to_string(opt_.max_entry_bytes));
  }
  if (rate_limited_) {
    return Status(ErrorCode::kSystemBusy, "max_in_mem_log_size reached: entries wait to be committed and applied");
  }
  if (storage_busy_) return Status(ErrorCode::kSystemBusy, "the LogDB is stalling writes; retry later");
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    uint64_t key = new_key();
    Status s = pending_.add(key, now_tick_ + queued_ticks_ + timeout_ticks, rs, RequestTag{p.client_id, p.series_id});
    if (!s.ok()) return s;
    ++counters.proposals;
    raft::Entry e;
    e.key = key;
    e.cmd = std::move(p.cmd);
    e.client_id = p.client_id;
    e.series_id = p.series_id;
    e.responded_to = p.responded_to;
    proposals_.push_back(std::move(e));
  }
  wake_if_dormant();
  wake_step();
  return Status::OK();
}

Status Node::propose_config_change(const raft::ConfigChange& cc, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness cannot propose");
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    uint64_t key = new_key();
    Status s = pending_.add(key, now_tick_ + queued_ticks_ + timeout_ticks, rs);
    if (!s.ok()) return s;
    raft::Entry e;
    e.type = raft::EntryType::kConfigChange;
    e.key = key;
    e.cmd = raft::encode_config_change(cc);
    proposals_.push_back(std::move(e));
  }
  wake_if_dormant();
  wake_step();
  return Status::OK();
}

Status Node::request_compaction(RequestStatePtr* rs) {
  if (removed_to_ <= reclaimed_to_) {
    return Status(ErrorCode::kRejected, "nothing to reclaim: no log entries were dropped since the last compaction");
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    Status s = compactions_.add(new_key(), UINT64_MAX, rs);
    if (!s.ok()) return s;
  }
  wake_snapshot();
  return Status::OK();
}

Status Node::request_leader_transfer(uint64_t target) {
  raft::Membership m = membership();
  if (target == 0 || !m.is_voter(target)) {
    return Status(ErrorCode::kInvalidTarget, "node " + std::to_string(target) + " is not a voting member of cluster " +
                                                 std::to_string(cluster_id()));
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    transfer_target_ = target;
  }
  wake_step();
  return Status::OK();
}

Status Node::read_index(uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness serves no reads");
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    uint64_t key = new_key();
    Status s = reads_.add(key, now_tick_ + queued_ticks_ + timeout_ticks, rs);
    if (!s.ok()) return s;
    ++counters.reads;
    queued_reads_.push_back(key);
  }
  wake_if_dormant();
  wake_step();
  return Status::OK();
}

Status Node::request_snapshot(const SnapshotRequest& r, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness has no state machine to snapshot");
  uint64_t key, deadline;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    key = new_key();
    deadline = now_tick_ + queued_ticks_ + timeout_ticks;
  }
  {
    std::lock_guard<std::mutex> g(amu_);
    if (!snapshot_asks_.empty() || snapshot_reqs_.size() > 0) {
      return Status(ErrorCode::kPendingSnapshotRequestExist, "a snapshot request is already in progress");
    }
    Status s = snapshot_reqs_.add(key, deadline, rs);
    if (!s.ok()) return s;
    snapshot_asks_.emplace_back(key, r);
  }
  wake_if_dormant();  // its deadline needs ticks; the step side may not run for it
  wake_apply();
  return Status::OK();
}

void Node::deliver(raft::Message m) {
  uint64_t bytes = 64 + raft::entries_size_bytes(m.entries);
  std::lock_guard<std::mutex> g(mu_);
  if (opt_.max_receive_queue_bytes && inbox_bytes_ + bytes > opt_.max_receive_queue_bytes && !inbox_.empty()) {
    ++counters.messages_dropped;  // over MaxReceiveQueueSize: Raft retransmits
    return;
  }
  inbox_bytes_ += bytes;
  inbox_.push_back(std::move(m));
}

bool Node::idle() const {
  return quiesced_.load() && pending_.approx_size() == 0 && reads_.approx_size() == 0 &&
         snapshot_reqs_.approx_size() == 0;
}

bool Node::tick() {
  if (idle()) return false;
  std::lock_guard<std::mutex> g(mu_);
  ++queued_ticks_;
  return true;
}

void Node::wake_if_dormant() {
  if (!dormant_.load()) return;
  bool expected = true;
  if (dormant_.compare_exchange_strong(expected, false)) wake_tick();
}

bool Node::sleep_if_idle() {
  if (!idle()) return false;
  dormant_.store(true);
  // A request or a pass may have ended idleness between the check and the
  // store (all of these accesses are sequentially consistent): look again.
  if (!idle()) {
    bool expected = true;
    if (dormant_.compare_exchange_strong(expected, false)) return false;  // stays active
    return true;  // after_pass already re-queued it through wake_tick
  }
  return true;
}

void Node::report_unreachable(uint64_t node_id) {
  std::lock_guard<std::mutex> g(mu_);
  unreachable_.push_back(node_id);
}

void Node::report_snapshot_status(uint64_t node_id, bool failed) {
  std::lock_guard<std::mutex> g(mu_);
  snapshot_status_.emplace_back(node_id, failed);
}

Status Node::check_readable() const {
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness has no state machine");
  return Status::OK();
}

Status Node::lookup(std::string_view query, std::string* answer) {
  Status s = check_readable();
  if (!s.ok()) return s;
  return sm_->lookup(query, answer);
}

Status Node::hash(uint64_t* out) {
  Status s = check_readable();
  if (!s.ok()) return s;
  if (!sm_->hash(out)) return Status(ErrorCode::kInvalidOperation, "the state machine implements no hash()");
  return Status::OK();
}

uint64_t Node::leader_id() const {
  std::lock_guard<std::mutex> g(mu_);
  return leader_;
}

uint64_t Node::term() const {
  std::lock_guard<std::mutex> g(mu_);
  return term_;
}

bool Node::is_leader() const {
  std::lock_guard<std::mutex> g(mu_);
  return is_leader_;
}

raft::Membership Node::membership() const {
  std::lock_guard<std::mutex> g(amu_);
  return applied_membership_;
}

Status Node::failure() const {
  std::lock_guard<std::mutex> g(mu_);
  return failure_;
}

void Node::set_failure(const Status& s) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (failure_.ok()) failure_ = s;
  }
  log_message(LogLevel::kError, "engine",
              "node " + std::to_string(cluster_id()) + ":" + std::to_string(node_id()) + " stopped: " + s.to_string());
  stop();
}

// ---- step worker ----------------------------------------------------------------

Status Node::step_inputs() {
  uint64_t ticks;
  std::vector<raft::Message> inbox;
  std::vector<raft::Entry> proposals;
  std::vector<uint64_t> reads;
  std::vector<uint64_t> unreachable;
  std::vector<std::pair<uint64_t, bool>> snapshot_status;
  std::vector<MadeSnapshot> made;
  uint64_t transfer = 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    transfer = transfer_target_;
    transfer_target_ = 0;
    ticks = queued_ticks_;
    queued_ticks_ = 0;
    now_tick_ += ticks;
    inbox.swap(inbox_);
    inbox_bytes_ = 0;
    proposals.swap(proposals_);
    reads.swap(queued_reads_);
    unreachable.swap(unreachable_);
    snapshot_status.swap(snapshot_status_);
    made.swap(made_snapshots_);
  }
  for (const MadeSnapshot& m : made) record_snapshot(m);
  for (uint64_t i = 0; i < ticks; ++i) peer_->tick();
  if (ticks) {
    pending_.expire(now_tick_);
    reads_.expire(now_tick_);
    snapshot_reqs_.expire(now_tick_);
  }
  for (uint64_t id : unreachable) peer_->report_unreachable(id);
  for (auto& [id, failed] : snapshot_status) peer_->report_snapshot_status(id, failed);
  for (auto& m : inbox) (void)peer_->step(m);
  if (transfer) {
    Status ts = peer_->request_leader_transfer(transfer);
    if (!ts.ok()) {
      log_message(LogLevel::kWarning, "engine", "leader transfer to " + std::to_string(transfer) + ": " + ts.to_string());
    }
  }
  if (!proposals.empty()) {
    // All queued proposals of the node become one propose.
    std::vector<uint64_t> keys;
    for (const auto& e : proposals) keys.push_back(e.key);
    Status s = peer_->propose(std::move(proposals));
    if (!s.ok()) {
      for (uint64_t k : keys) {
        pending_.complete(k, s.code() == ErrorCode::kSystemBusy ? RequestResultCode::kDropped
                                                                : RequestResultCode::kRejected);
      }
    }
  }
  if (!reads.empty()) {
    // All queued reads share one ReadIndex round.
    uint64_t round = ++read_round_ ? read_round_ : ++read_round_;  // never 0
    rounds_[round] = std::move(reads);
    if (!peer_->read_index(raft::ReadCtx{opt_.raft.node_id, round}).ok()) {
      for (uint64_t k : rounds_[round]) reads_.complete(k, RequestResultCode::kDropped);
      rounds_.erase(round);
    }
  }
  return Status::OK();
}

bool Node::prepare(raft::Update* u, logdb::NodeUpdate* nu) {
  // Backpressure from the apply side: committed entries wait in the log
  // while the state machine is behind (the rest of the Update still flows).
  bool more_to_apply = apply_backlog_.load() < opt_.max_apply_backlog;
  held_back_ = !more_to_apply;
  if (!peer_->has_update(more_to_apply)) return false;
  *u = peer_->get_update(more_to_apply);
  // Thesis §10.2.1: replicate to followers while persisting locally.
  for (const auto& m : u->messages)
    if (raft::can_send_before_persist(m)) transport_->send(m);
  nu->cluster_id = opt_.raft.cluster_id;
  nu->node_id = opt_.raft.node_id;
  nu->state = u->state;
  if (!u->entries_to_save.empty()) {
    // The entries move to the LogDB batch; commit_update() only needs the
    // last one's index and term.
    raft::Entry last;
    last.index = u->entries_to_save.back().index;
    last.term = u->entries_to_save.back().term;
    nu->entries = std::move(u->entries_to_save);
    u->entries_to_save.assign(1, std::move(last));
  }
  nu->snapshot = u->snapshot;
  return true;
}

void Node::apply_config_changes(const std::vector<raft::Entry>& committed, ApplyTask* task) {
  for (const auto& e : committed) {
    if (e.type != raft::EntryType::kConfigChange) continue;
    raft::ConfigChange cc;
    if (!raft::decode_config_change(e.cmd, &cc)) {
      pending_.complete_entry(e.key, RequestTag{e.client_id, e.series_id}, RequestResultCode::kRejected);
      continue;
    }
    // Peer contract: every config change of an Update is applied before the
    // next get_update (the core then allows the next change).
    Status cs = peer_->apply_config_change(cc, e.index);
    if (cs.ok() && registry_) {
      // The transport's address book follows membership.
      if (cc.type == raft::ConfigChangeType::kRemoveNode) {
        registry_->remove(opt_.raft.cluster_id, cc.node_id);
      } else {
        registry_->add(opt_.raft.cluster_id, cc.node_id, cc.address);
      }
    }
    pending_.complete_entry(e.key, RequestTag{e.client_id, e.series_id},
                            cs.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected);
    task->membership_changed = true;
    if (cs.ok() && events) {
      NodeEventInfo ni{cluster_id(), node_id()};
      events->system([ni](ISystemEventListener& l) { l.membership_changed(ni); });
    }
  }
  if (task->membership_changed) task->membership = peer_->membership();
}

Status Node::finish(raft::Update* u, logdb::NodeUpdate* nu, bool saved) {
  if (saved) log_->on_saved(std::move(*nu));
  if (u->leader_changed) ++counters.leader_changes;
  if (u->leader_changed && events) {
    events->leader_updated(LeaderInfo{cluster_id(), node_id(), u->leader.term, u->leader.leader_id});
  }
  // Votes and acknowledgements promise persisted state: only now.
  for (auto& m : u->messages) {
    if (raft::can_send_before_persist(m)) continue;
    if (m.type == raft::MessageType::kInstallSnapshot) {
      if (sm_->kind() == StateMachineType::kOnDisk && !m.snapshot.witness) {
        // Our snapshots hold no state: the apply side makes a full one.
        {
          std::lock_guard<std::mutex> g(amu_);
          stream_asks_.push_back(std::move(m));
        }
        wake_apply();
      } else {
        note_snapshot_sent(m.to, m.snapshot.index);
        transport_->send_snapshot(m);
      }
    } else {
      transport_->send(m);
    }
  }
  for (uint64_t key : u->dropped_entries) {
    if (pending_.complete(key, RequestResultCode::kDropped)) ++counters.proposals_dropped;
  }
  for (const auto& c : u->dropped_read_indexes) {
    auto it = rounds_.find(c.high);
    if (it == rounds_.end()) continue;
    for (uint64_t k : it->second) reads_.complete(k, RequestResultCode::kDropped);
    rounds_.erase(it);
  }
  bool has_task = !u->snapshot.empty() || !u->committed_entries.empty();
  ApplyTask task;
  if (has_task) {
    task.recover = u->snapshot;
    if (!u->snapshot.empty()) {
      task.membership_changed = true;
      task.membership = u->snapshot.membership;
      if (registry_) {
        for (const auto* group : {&task.membership.addresses, &task.membership.observers, &task.membership.witnesses})
          for (const auto& [id, addr] : *group) registry_->add(opt_.raft.cluster_id, id, addr);
      }
    }
    apply_config_changes(u->committed_entries, &task);
    if (opt_.notify_commit) {
      for (const auto& e : u->committed_entries)
        if (e.key) pending_.notify_committed(e.key, RequestTag{e.client_id, e.series_id});
    }
  }
  // The entries are handed over only now: commit_update() reads them to
  // advance the core's processed index.
  peer_->commit_update(*u);
  if (has_task) {
    task.entries = std::move(u->committed_entries);
    size_t n = task.entries.size();
    std::lock_guard<std::mutex> g(amu_);
    tasks_.push_back(std::move(task));
    apply_backlog_ += n;
  }
  if (!u->ready_to_reads.empty()) {
    std::lock_guard<std::mutex> g(amu_);
    uint64_t applied = applied_.load();
    for (const auto& r : u->ready_to_reads) {
      auto it = rounds_.find(r.ctx.high);
      if (it == rounds_.end()) continue;
      for (uint64_t k : it->second) {
        if (r.index <= applied) {
          reads_.complete(k, RequestResultCode::kCompleted);
        } else {
          confirmed_reads_.emplace(r.index, k);
          has_task = true;
        }
      }
      rounds_.erase(it);
    }
  }
  if (has_task) wake_apply();
  return Status::OK();
}

void Node::after_pass() {
  rate_limited_ = peer_->rate_limited();
  commit_ = peer_->raft().log().committed();
  quiesced_ = peer_->quiesced();
  if (!idle()) wake_if_dormant();  // back into the active set
  std::lock_guard<std::mutex> g(mu_);
  leader_ = peer_->leader_id();
  term_ = peer_->term();
  is_leader_ = peer_->is_leader();
}

void Node::record_snapshot(const MadeSnapshot& made) {
  const raft::Snapshot& ss = made.ss;
  Status s = Status::OK();
  if (ss.index > log_->snapshot().index) {
    s = log_->save_snapshot(ss);
    if (s.ok() && !opt_.disable_auto_compactions && ss.index > made.compaction_overhead) {
      // Keep compaction_overhead entries so followers slightly behind catch
      // up from the log rather than by snapshot.
      uint64_t to = ss.index - made.compaction_overhead;
      if (to >= log_->first_index()) {
        s = log_->compact(to);
        if (s.ok() && events) {
          EntryInfo ei{cluster_id(), node_id(), to};
          events->system([ei](ISystemEventListener& l) { l.log_compacted(ei); });
        }
      }
      if (s.ok()) removed_to_ = log_->first_index() - 1;
    }
    if (s.ok()) {
      // Keep the previous snapshot too: it may be streaming to a follower.
      std::vector<snapshot::SnapshotMeta> all;
      if (snapshot::list_snapshots(opt_.snapshot_root, &all).ok() && all.size() > 2) {
        uint64_t keep_from = all[all.size() - 2].index;
        if (snapshot::remove_snapshots_before(opt_.snapshot_root, keep_from).ok() && events) {
          SnapshotInfo si{cluster_id(), node_id(), 0, keep_from};
          events->system([si](ISystemEventListener& l) { l.snapshot_compacted(si); });
        }
      }
    }
  }
  if (!s.ok()) {
    set_failure(Status(ErrorCode::kFatal, "recording snapshot " + std::to_string(ss.index) + ": " + s.to_string()));
    return;
  }
  if (made.request_key) snapshot_reqs_.complete(made.request_key, RequestResultCode::kCompleted, {}, ss.index);
}

// ---- apply worker ---------------------------------------------------------------

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

Status Node::capture_snapshot(const SnapshotRequest* req, uint64_t key, std::unique_ptr<SnapshotOp>* out) {
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
    op->requested = true;
    op->request_key = key;
    op->request = *req;
  }
  if (!exported) last_snapshot_index_ = index;
  *out = std::move(op);
  return Status::OK();
}

Status Node::save_snapshot_op(const SnapshotOp& op) {
  bool exported = op.requested && op.request.exported;
  std::string root = exported ? op.request.export_path : opt_.snapshot_root;
  snapshot::SnapshotMeta meta;
  Status s = rsm::save_prepared_snapshot(root, cluster_id(), node_id(), op.index, op.term,
                                         op.metadata_only ? nullptr : sm_, op.ctx, op.session_table, &meta,
                                         &stopped_, op.synced_index);
  if (!s.ok() && stopped_) {
    if (op.requested) snapshot_reqs_.complete(op.request_key, RequestResultCode::kTerminated);
    return Status::OK();  // given up because the node stops: not a failure
  }
  if (!s.ok()) {
    if (op.requested) snapshot_reqs_.complete(op.request_key, RequestResultCode::kRejected);
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
  made.compaction_overhead = op.requested && op.request.override_compaction_overhead ? op.request.compaction_overhead
                                                                                       : opt_.compaction_overhead;
  made.request_key = op.requested ? op.request_key : 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    made_snapshots_.push_back(std::move(made));
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

Status Node::capture_stream(raft::Message m, std::unique_ptr<SnapshotOp>* out) {
  auto op = std::make_unique<SnapshotOp>();
  op->stream = true;
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

Status Node::stream_snapshot_op(const SnapshotOp& op) {
  // A full snapshot of the current state at (op.index, op.term) — at or
  // after the snapshot Raft chose, and applied hence committed — replaces
  // it in the message; the follower acknowledges op.index and the leader
  // replicates from there.
  std::string root = opt_.snapshot_root + "-stream";
  (void)snapshot::remove_snapshots_before(root, op.index);  // older streamed copies
  snapshot::SnapshotMeta meta;
  Status s = rsm::save_prepared_snapshot(root, cluster_id(), node_id(), op.index, op.term, sm_, op.ctx,
                                         op.session_table, &meta);
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

Status Node::run_snapshot_op() {
  if (compactions_.size() > 0) {
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
  SnapshotOp* op;
  {
    std::lock_guard<std::mutex> g(amu_);
    op = op_.get();
  }
  if (!op) return Status::OK();
  // *op is not touched by the apply side while op_ holds it.
  Status s = op->recover ? recover_snapshot_op(*op) : op->stream ? stream_snapshot_op(*op) : save_snapshot_op(*op);
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

Status Node::apply_pending() {
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  std::deque<ApplyTask> tasks;
  std::vector<std::pair<uint64_t, SnapshotRequest>> asks;
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
      op->recover = true;
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
    if (!busy && opt_.snapshot_entries && applier_.applied() >= last_snapshot_index_ + opt_.snapshot_entries) {
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

Status Node::run_once() {
  Status s = step_inputs();
  if (!s.ok()) return s;
  raft::Update u;
  logdb::NodeUpdate nu;
  while (prepare(&u, &nu)) {
    bool persist = u.has_persistent_state();
    if (persist) s = db_->save({nu});
    if (s.ok()) s = finish(&u, &nu, persist);
    if (!s.ok()) {
      set_failure(s);  // fatal: never send what we failed to persist
      return s;
    }
    nu = logdb::NodeUpdate{};
  }
  after_pass();
  set_storage_busy(db_->busy(cluster_id()));
  s = apply_pending();
  // This thread is the snapshot worker too.
  while (s.ok() && has_snapshot_op()) {
    s = run_snapshot_op();
    if (s.ok()) s = apply_pending();
  }
  return s;
}

void Node::stop() {
  if (stopped_.exchange(true)) return;
  pending_.complete_all(RequestResultCode::kTerminated);
  reads_.complete_all(RequestResultCode::kTerminated);
  snapshot_reqs_.complete_all(RequestResultCode::kTerminated);
  compactions_.complete_all(RequestResultCode::kTerminated);
  wake_step();
  wake_apply();
  wake_snapshot();
}

void Node::release(Worker w) {
  std::lock_guard<std::mutex> g(release_mu_);
  (w == Worker::kStep ? step_released_ : w == Worker::kApply ? apply_released_ : snapshot_released_) = true;
  release_cv_.notify_all();
}

void Node::wait_released() {
  std::unique_lock<std::mutex> g(release_mu_);
  release_cv_.wait(g, [&] { return step_released_ && apply_released_ && snapshot_released_; });
}

}  // namespace dragonboat::engine
