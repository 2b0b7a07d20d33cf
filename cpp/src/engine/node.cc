// engine/node.cc — a Node's life (open, stop, worker release) and its
// any-thread side: requests queued into the step inbox and the pending
// tables, the tick thread's active set, reads of published state. The step,
// apply and snapshot sides are in node_step.cc, node_apply.cc and
// node_snapshot.cc.
#include "engine/node.h"

#include <random>

#include "dragonboat/logger.h"
#include "rsm/entry_payload.h"
#include "rsm/snapshotter.h"

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
    // Without a host to stop (the engine's own tests), nothing stops it.
    struct Never : StopSignal {
      bool stopped() const override { return false; }
    } never;
    s = sm->open(options.stop ? *options.stop : never, &durable);
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
  n->removed_ = n->applied_membership_.removed.count(c.node_id) > 0;
  n->initialized_ = !n->peer_->membership().addresses.empty();
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

template <typename Queue>
Status Node::queue_request(PendingRequests& table, uint64_t timeout_ticks, RequestStatePtr* rs, RequestTag tag,
                           uint64_t proposal_bytes, Queue&& queue) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    if (removed_) return removed_status();
    if (!initialized_) return not_initialized_status();
    if (proposal_bytes && inbox_.proposal_bytes &&
        inbox_.proposal_bytes + proposal_bytes > opt_.max_queued_proposal_bytes) {
      ++counters.proposals_refused_busy;
      return Status(ErrorCode::kSystemBusy, "proposals waiting for the disk exceed " +
                                                std::to_string(opt_.max_queued_proposal_bytes) + " bytes; retry later");
    }
    uint64_t key = new_key();
    Status s = table.add(key, now_tick_ + inbox_.ticks + timeout_ticks, rs, tag);
    if (!s.ok()) return s;
    queue(key);
  }
  wake_if_dormant();  // its deadline needs ticks
  wake_step();
  return Status::OK();
}

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
  // Compressed here, on the caller's thread and outside the lock, so the
  // step side, the LogDB and the wire all carry the smaller bytes.
  raft::EntryType type = raft::EntryType::kApplication;
  if (!p.cmd.empty()) {
    std::string encoded;
    if (rsm::encode_payload(opt_.config.entry_compression_type, p.cmd, &encoded)) {
      p.cmd = encoded;
      type = raft::EntryType::kEncodedApplication;
    }
  }
  const uint64_t bytes = std::max<uint64_t>(1, p.cmd.size());
  return queue_request(pending_, timeout_ticks, rs, RequestTag{p.client_id, p.series_id}, bytes, [&](uint64_t key) {
    ++counters.proposals;
    inbox_.proposal_bytes += bytes;
    tracing::trace(tracing::Hop::kQueued, cluster_id(), node_id(), 0, key);
    raft::Entry e;
    e.key = key;
    e.type = type;
    e.cmd = std::move(p.cmd);
    e.client_id = p.client_id;
    e.series_id = p.series_id;
    e.responded_to = p.responded_to;
    inbox_.proposals.push_back(std::move(e));
  });
}

Status Node::propose_config_change(const raft::ConfigChange& cc, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness cannot propose");
  Status s = queue_request(config_changes_, timeout_ticks, rs, RequestTag{}, 0, [&](uint64_t key) {
    raft::Entry e;
    e.type = raft::EntryType::kConfigChange;
    e.key = key;
    e.cmd = raft::encode_config_change(cc);
    inbox_.proposals.push_back(std::move(e));
  });
  if (s.code() == ErrorCode::kSystemBusy) {  // its table holds one
    return Status(ErrorCode::kPendingConfigChangeExist, "a membership change is already pending on this replica");
  }
  return s;
}

Status Node::request_compaction(RequestStatePtr* rs) {
  // As the reference: rejected when no log entry was dropped since the last
  // compaction (requested, or automatic after a snapshot).
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
    if (removed_) return removed_status();
    if (inbox_.transfer_target != 0 || transferring_) {
      return Status(ErrorCode::kPendingLeaderTransferExist, "a leader transfer is already under way");
    }
    inbox_.transfer_target = target;
  }
  wake_step();
  return Status::OK();
}

Status Node::read_index(uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness serves no reads");
  return queue_request(reads_, timeout_ticks, rs, RequestTag{}, 0, [&](uint64_t key) {
    ++counters.reads;
    inbox_.reads.push_back(key);
  });
}

Status Node::request_snapshot(const SnapshotOption& r, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness has no state machine to snapshot");
  uint64_t key, deadline;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    if (removed_) return removed_status();
    key = new_key();
    deadline = now_tick_ + inbox_.ticks + timeout_ticks;
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
  if (tracing::enabled()) {
    if (m.type == raft::MessageType::kReplicate && !m.entries.empty()) {
      tracing::trace(tracing::Hop::kReceived, m.cluster_id, m.to, m.entries.back().index, 0, m.from);
    } else if (m.type == raft::MessageType::kReplicateResp && !m.reject) {
      tracing::trace(tracing::Hop::kAckReceived, m.cluster_id, m.to, m.log_index, 0, m.from);
    }
  }
  raft::Message answer;
  bool answered = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    answered = answer_on_arrival(&m, &answer);
    if (opt_.max_receive_queue_bytes && inbox_.message_bytes + bytes > opt_.max_receive_queue_bytes &&
        !inbox_.messages.empty()) {
      ++counters.messages_dropped;  // over MaxReceiveQueueSize: Raft retransmits
    } else {
      inbox_.message_bytes += bytes;
      inbox_.messages.push_back(std::move(m));
      inbox_.message_ticks.push_back(inbox_.ticks);
    }
  }
  if (answered) {
    ++counters.heartbeats_answered_on_arrival;
    transport_->send(std::move(answer));
  }
}

bool Node::idle() const {
  return quiesced_.load() && pending_.approx_size() == 0 && config_changes_.approx_size() == 0 &&
         reads_.approx_size() == 0 && snapshot_reqs_.approx_size() == 0;
}

bool Node::tick() {
  if (idle()) return false;
  std::vector<raft::Message> beats;
  {
    std::lock_guard<std::mutex> g(mu_);
    ++inbox_.ticks;
    heartbeats_for_busy_pass(&beats);
  }
  for (auto& m : beats) transport_->send(std::move(m));
  counters.heartbeats_for_busy_pass += beats.size();
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
  inbox_.unreachable.push_back(node_id);
}

void Node::report_snapshot_status(uint64_t node_id, bool failed) {
  std::lock_guard<std::mutex> g(mu_);
  inbox_.snapshot_status.emplace_back(node_id, failed);
}

Status Node::check_readable() const {
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  if (opt_.raft.is_witness) return Status(ErrorCode::kInvalidOperation, "a witness has no state machine");
  if (!initialized_) return not_initialized_status();
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
  config_changes_.complete_all(RequestResultCode::kTerminated);
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
