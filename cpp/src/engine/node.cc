#include "engine/node.h"

namespace dragonboat::engine {

Status Node::open(const NodeOptions& options, logdb::LogDB* db, transport::Transport* transport,
                  IStateMachine* sm, std::unique_ptr<Node>* out) {
  std::unique_ptr<Node> n(new Node(options, db, transport, sm));
  const raft::Config& c = options.raft;
  Status s = logdb::NodeLog::open(db, c.cluster_id, c.node_id, 4 << 20, &n->log_);
  if (!s.ok()) return s;
  // Election timeouts must differ between replicas: seed by node ID.
  n->random_ = std::make_unique<raft::SeededRandom>(c.cluster_id * 1000003 + c.node_id);
  s = raft::Peer::launch(c, n->log_.get(), n->random_.get(), options.initial_members, options.join, &n->peer_);
  if (!s.ok()) return s;
  uint64_t snap = n->log_->snapshot().index;
  // Recovering the state machine from a snapshot is the snapshot worker's
  // job (not yet wired); without one, the log is replayed from the start.
  n->applier_.set_applied(snap);
  // Proposal keys are unique within the group: the proposing node's ID in
  // the high bits, so a node completes only its own proposals when applying.
  n->next_key_ = c.node_id << 40;
  *out = std::move(n);
  return Status::OK();
}

Status Node::propose(std::string cmd, uint64_t timeout_ticks, RequestStatePtr* rs) {
  if (cmd.size() > opt_.max_entry_bytes) return Status(ErrorCode::kPayloadTooBig, "proposal too large");
  std::lock_guard<std::mutex> g(mu_);
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  uint64_t key = ++next_key_;
  Status s = pending_.add(key, now_tick_ + queued_ticks_ + timeout_ticks, rs);
  if (!s.ok()) return s;
  raft::Entry e;
  e.key = key;
  e.cmd = std::move(cmd);
  proposals_.push_back(std::move(e));
  return Status::OK();
}

Status Node::read_index(uint64_t timeout_ticks, RequestStatePtr* rs) {
  std::lock_guard<std::mutex> g(mu_);
  if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
  uint64_t key = ++next_key_;
  Status s = reads_.add(key, now_tick_ + queued_ticks_ + timeout_ticks, rs);
  if (!s.ok()) return s;
  queued_reads_.push_back(key);
  return Status::OK();
}

void Node::deliver(raft::Message m) {
  std::lock_guard<std::mutex> g(mu_);
  inbox_.push_back(std::move(m));
}

void Node::tick() {
  std::lock_guard<std::mutex> g(mu_);
  ++queued_ticks_;
}

uint64_t Node::leader_id() const {
  std::lock_guard<std::mutex> g(mu_);
  return leader_;
}

bool Node::is_leader() const {
  std::lock_guard<std::mutex> g(mu_);
  return is_leader_;
}

Status Node::step_inputs() {
  uint64_t ticks;
  std::vector<raft::Message> inbox;
  std::vector<raft::Entry> proposals;
  std::vector<uint64_t> reads;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return Status(ErrorCode::kClusterClosed, "node stopped");
    ticks = queued_ticks_;
    queued_ticks_ = 0;
    now_tick_ += ticks;
    inbox.swap(inbox_);
    proposals.swap(proposals_);
    reads.swap(queued_reads_);
  }
  for (uint64_t i = 0; i < ticks; ++i) peer_->tick();
  if (ticks) {
    pending_.expire(now_tick_);
    reads_.expire(now_tick_);
  }
  for (auto& m : inbox) (void)peer_->step(m);
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
    uint64_t round = ++read_round_;
    rounds_[round] = std::move(reads);
    if (!peer_->read_index(raft::ReadCtx{opt_.raft.node_id, round}).ok()) {
      for (uint64_t k : rounds_[round]) reads_.complete(k, RequestResultCode::kRejected);
      rounds_.erase(round);
    }
  }
  return Status::OK();
}

bool Node::prepare(raft::Update* u, logdb::NodeUpdate* nu) {
  if (!peer_->has_update(true)) return false;
  *u = peer_->get_update(true);
  // Thesis §10.2.1: replicate to followers while persisting locally.
  for (const auto& m : u->messages)
    if (raft::can_send_before_persist(m)) transport_->send(m);
  nu->cluster_id = opt_.raft.cluster_id;
  nu->node_id = opt_.raft.node_id;
  nu->state = u->state;
  nu->entries = u->entries_to_save;
  nu->snapshot = u->snapshot;
  return true;
}

Status Node::finish(raft::Update* u, const logdb::NodeUpdate& nu, bool saved) {
  if (saved) log_->on_saved(nu);
  // Votes and acknowledgements promise persisted state: only now.
  for (auto& m : u->messages) {
    if (raft::can_send_before_persist(m)) continue;
    if (m.type == raft::MessageType::kInstallSnapshot) {
      transport_->send_snapshot(m);
    } else {
      transport_->send(m);
    }
  }
  rsm::ApplyOutput out;
  Status s = applier_.apply(u->committed_entries, &out);
  for (const auto& e : out.config_changes) {
    raft::ConfigChange cc;
    if (raft::decode_config_change(e.cmd, &cc)) {
      Status cs = peer_->apply_config_change(cc, e.index);
      pending_.complete(e.key, cs.ok() ? RequestResultCode::kCompleted : RequestResultCode::kRejected);
    }
  }
  for (auto& c : out.completions) pending_.complete(c.key, c.code, std::move(c.result));
  if (!s.ok()) return s;  // the state machine failed: stop, never skip
  for (uint64_t key : u->dropped_entries) pending_.complete(key, RequestResultCode::kDropped);
  for (const auto& r : u->ready_to_reads) {
    auto it = rounds_.find(r.ctx.high);
    if (it == rounds_.end()) continue;
    for (uint64_t k : it->second) confirmed_reads_.emplace(r.index, k);
    rounds_.erase(it);
  }
  for (const auto& c : u->dropped_read_indexes) {
    auto it = rounds_.find(c.high);
    if (it == rounds_.end()) continue;
    for (uint64_t k : it->second) reads_.complete(k, RequestResultCode::kDropped);
    rounds_.erase(it);
  }
  peer_->commit_update(*u);
  return Status::OK();
}

void Node::after_pass() {
  // Reads whose index is now applied are linearizable.
  uint64_t applied = applier_.applied();
  while (!confirmed_reads_.empty() && confirmed_reads_.begin()->first <= applied) {
    reads_.complete(confirmed_reads_.begin()->second, RequestResultCode::kCompleted);
    confirmed_reads_.erase(confirmed_reads_.begin());
  }
  std::lock_guard<std::mutex> g(mu_);
  leader_ = peer_->leader_id();
  is_leader_ = peer_->is_leader();
}

Status Node::run_once() {
  Status s = step_inputs();
  if (!s.ok()) return s;
  raft::Update u;
  logdb::NodeUpdate nu;
  while (prepare(&u, &nu)) {
    bool persist = u.has_persistent_state();
    if (persist) s = db_->save({nu});
    if (s.ok()) s = finish(&u, nu, persist);
    if (!s.ok()) {
      stop();  // fatal: never send what we failed to persist
      return s;
    }
    nu = logdb::NodeUpdate{};
  }
  after_pass();
  return Status::OK();
}

void Node::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopped_ = true;
  }
  pending_.complete_all(RequestResultCode::kTerminated);
  reads_.complete_all(RequestResultCode::kTerminated);
}

}  // namespace dragonboat::engine
