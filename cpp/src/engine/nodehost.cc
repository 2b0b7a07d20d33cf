// engine/nodehost.cc — NodeHost: creating and stopping the host, starting
// and stopping groups, proposals, sessions, reads and snapshots. The state is
// NodeHost::Impl (nodehost_impl.h); membership calls are in
// nodehost_membership.cc, information and metrics in nodehost_info.cc.
#include "engine/nodehost_impl.h"

#include "common/spin_wait.h"

namespace dragonboat {

raft::Config to_raft_config(const Config& c) {
  raft::Config r;
  r.cluster_id = c.cluster_id;
  r.node_id = c.node_id;
  r.election_rtt = c.election_rtt;
  r.heartbeat_rtt = c.heartbeat_rtt;
  r.check_quorum = c.check_quorum;
  r.max_in_mem_log_size = c.max_in_mem_log_size;
  r.ordered_config_change = c.ordered_config_change;
  r.is_observer = c.is_observer;
  r.is_witness = c.is_witness;
  r.quiesce_ticks = c.quiesce ? c.election_rtt * 10 : 0;
  return r;
}

Membership to_public_membership(const raft::Membership& m) {
  return Membership{m.config_change_id, m.addresses, m.observers, m.witnesses, m.removed};
}


Status NodeHost::Impl::wait(const RequestStatePtr& rs, Timeout timeout, RequestResult* out) const {
  // The engine completes the request by its own tick deadline; the extra
  // wall-clock margin only guards against a stalled tick thread.
  const auto limit = timeout + std::chrono::milliseconds(4 * config.rtt_millisecond) + std::chrono::seconds(1);
  bool done = false;
  if (config.busy_poll_microseconds == 0) {
    done = rs->wait_for(limit, out);
  } else {
    // The caller's thread polls too (common/spin_wait.h), adapting to how
    // long its own sync calls take: one whose calls outlast the budget
    // soon stops polling. Either way the outcome is read by wait_for.
    thread_local AdaptiveSpin spin;
    spin.set_budget_ns(config.busy_poll_microseconds * 1000);
    if (spin.poll_or_sleep([&rs] { return rs->done(); }, [&] { done = rs->wait_for(limit, out); })) {
      done = rs->wait_for(limit, out);  // already done: returns the outcome at once
    }
  }
  if (!done) return Status(ErrorCode::kTimeout, "request timed out");
  return out->status();
}

Status NodeHost::Impl::start(const std::map<uint64_t, std::string>& members, bool join, const Config& c,
                             StateMachineType kind, const std::function<std::unique_ptr<rsm::ManagedSM>()>& make_sm) {
  Status s = c.validate();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> sg(start_mu);
  {
    std::shared_lock<std::shared_mutex> g(mu);
    if (stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
    if (nodes.count(c.cluster_id)) {
      return Status(ErrorCode::kClusterAlreadyExist, "cluster " + std::to_string(c.cluster_id) + " is already running");
    }
  }
  logdb::LogDB* db = storage.logdb.get();
  logdb::Bootstrap b;
  s = db->get_bootstrap(c.cluster_id, c.node_id, &b);
  bool restart = s.ok();
  if (!s.ok() && s.code() != ErrorCode::kClusterNotBootstrapped) return s;
  std::map<uint64_t, std::string> initial = members;
  if (restart) {
    // Restart rules (reference StartCluster): the recorded bootstrap wins;
    // a different member list or state machine type is a configuration error.
    if (b.state_machine_type == 0) {
      // Imported (tools::import_snapshot): the first start records the kind.
      b.state_machine_type = static_cast<uint8_t>(kind);
      s = db->save_bootstrap(c.cluster_id, c.node_id, b);
      if (!s.ok()) return s;
    }
    if (b.state_machine_type != static_cast<uint8_t>(kind)) {
      return Status(ErrorCode::kInvalidClusterSettings,
                    "cluster " + std::to_string(c.cluster_id) + " was started with a " +
                        rsm::sm_kind_name(static_cast<StateMachineType>(b.state_machine_type)) +
                        " state machine, not " + rsm::sm_kind_name(kind));
    }
    if (!members.empty() && !b.join && members != b.addresses) {
      return Status(ErrorCode::kInvalidClusterSettings, "initial_members differ from the ones the node was started with");
    }
    initial = b.addresses;
    join = b.join;
  } else {
    if (join && !members.empty()) {
      return Status(ErrorCode::kInvalidClusterSettings, "a joining node must have no initial_members");
    }
    if (!join && members.empty()) {
      return Status(ErrorCode::kClusterNotBootstrapped,
                    "node " + std::to_string(c.node_id) + " of cluster " + std::to_string(c.cluster_id) +
                        " has no data: give initial_members or join=true");
    }
    if (!join && !members.count(c.node_id)) {
      return Status(ErrorCode::kInvalidClusterSettings, "initial_members must include node_id " + std::to_string(c.node_id));
    }
    for (const auto& [id, addr] : members) {
      std::string h;
      uint16_t p = 0;
      if (id == 0 || !transport::split_address(addr, &h, &p)) {
        return Status(ErrorCode::kInvalidAddress, "initial member " + std::to_string(id) + ": bad address \"" + addr + "\"");
      }
    }
    if (!join && members.at(c.node_id) != config.raft_address) {
      return Status(ErrorCode::kInvalidClusterSettings, "initial_members[" + std::to_string(c.node_id) + "] is \"" +
                                                            members.at(c.node_id) + "\", not this NodeHost's raft_address \"" +
                                                            config.raft_address + "\"");
    }
    b.addresses = members;
    b.join = join;
    b.state_machine_type = static_cast<uint8_t>(kind);
    // A node the LogDB knows nothing of owns no snapshot: any left in its
    // directory belong to a LogDB that is gone (the in-memory one of an
    // earlier run) and would collide with the new node's snapshots.
    std::error_code ec;
    std::filesystem::remove_all(node_snapshot_root(c.cluster_id, c.node_id), ec);
    if (ec) return Status(ErrorCode::kFatal, "removing stale snapshots: " + ec.message());
    s = db->save_bootstrap(c.cluster_id, c.node_id, b);
    if (!s.ok()) return s;
  }
  Entry e;
  e.sm = make_sm();
  if (!e.sm) return Status(ErrorCode::kInvalidClusterSettings, "the state machine factory returned null");
  engine::NodeOptions o;
  o.config = c;
  o.raft = to_raft_config(c);
  o.initial_members = initial;
  o.join = join;
  o.max_pending = config.max_pending_per_node;
  o.max_entry_bytes = config.max_proposal_payload_size;
  o.notify_commit = config.notify_commit;
  o.max_receive_queue_bytes = config.max_receive_queue_size;
  o.snapshot_root = node_snapshot_root(c.cluster_id, c.node_id);
  o.stop = &stopping;
  std::unique_ptr<Node> node;
  s = Node::open(o, db, transport.get(), &registry, e.sm.get(), &node);
  if (!s.ok()) return s;
  node->keep_state_machine(e.sm);
  e.node = std::shared_ptr<Node>(std::move(node));
  std::weak_ptr<Node> weak = e.node;
  engine::StepWorker* sw = &step_worker(c.cluster_id);
  sw->note_election_timeout(double(config.rtt_millisecond) * double(c.election_rtt) / 1000.0);
  engine::ApplyWorker* aw = &apply_worker(c.cluster_id);
  engine::SnapshotWorker* ssw = &snapshot_worker(c.cluster_id);
  e.node->wake_step = [sw, weak] {
    if (auto n = weak.lock()) sw->wake(n);
  };
  e.node->wake_apply = [aw, weak] {
    if (auto n = weak.lock()) aw->wake(n);
  };
  e.node->wake_snapshot = [ssw, weak] {
    if (auto n = weak.lock()) ssw->wake(n);
  };
  e.node->wake_tick = [this, weak] {
    if (auto n = weak.lock()) ticker->reactivate(std::move(n));
  };
  e.node->events = events.get();
  std::shared_ptr<Node> n = e.node;
  {
    std::unique_lock<std::shared_mutex> g(mu);
    nodes.emplace(c.cluster_id, std::move(e));
    ++nodes_version;
  }
  sw->wake(n);
  // A restarted replica's peers may be backing off toward this host after
  // failing to reach it: tell them it is back, so the leader's next
  // heartbeat gets through (rejoining within an election timeout or two).
  raft::Membership m = n->membership();
  for (const auto* group : {&m.addresses, &m.observers, &m.witnesses})
    for (const auto& [id, addr] : *group)
      if (id != c.node_id) transport->hello(addr);
  NodeEventInfo ni{c.cluster_id, c.node_id};
  events->system([ni](ISystemEventListener& l) { l.node_ready(ni); });
  return Status::OK();
}

Status NodeHost::Impl::stop_cluster(uint64_t cluster_id) {
  std::lock_guard<std::mutex> sg(start_mu);
  std::shared_ptr<Node> n = find(cluster_id);
  if (!n) return Status(ErrorCode::kClusterNotFound, "cluster " + std::to_string(cluster_id) + " is not on this NodeHost");
  n->stop();           // requests terminated; workers let go of it
  n->wait_released();  // no worker touches it (or its state machine) any more
  Entry e;
  {
    std::unique_lock<std::shared_mutex> g(mu);
    auto it = nodes.find(cluster_id);
    e = std::move(it->second);
    nodes.erase(it);
    ++nodes_version;
  }
  registry.remove_cluster(cluster_id);
  e.sm->close();  // off the hot path: the caller's thread
  NodeEventInfo ni{cluster_id, e.node->node_id()};
  events->system([ni](ISystemEventListener& l) { l.node_unloaded(ni); });
  return Status::OK();
}

void NodeHost::Impl::stop_all() {
  {
    std::unique_lock<std::shared_mutex> g(mu);
    if (stopped) return;
    stopped = true;
    stopping.fired.store(true, std::memory_order_release);
  }
  // A start or remove_data that passed its `stopped` check before the line
  // above holds start_mu until it is done: wait for it, so that no replica
  // is added after the IDs below are collected (it would never be stopped,
  // its requests never end) and nothing uses the LogDB when it closes.
  { std::lock_guard<std::mutex> sg(start_mu); }
  std::vector<uint64_t> ids;
  {
    std::shared_lock<std::shared_mutex> g(mu);
    for (auto& [id, e] : nodes) ids.push_back(id);
  }
  // First of the host's last events: its replicas' node_unloaded follow.
  events->system([](ISystemEventListener& l) { l.node_host_shutting_down(); });
  if (ticker) ticker->stop();
  for (uint64_t id : ids) (void)stop_cluster(id);
  if (transport) transport->stop();
  for (auto& w : step_workers) w->stop();
  for (auto& w : apply_workers) w->stop();
  for (auto& w : snapshot_workers) w->stop();
  if (ticker) ticker->stop();  // forgets replicas the last passes re-activated
  events->stop();  // what was queued is delivered first
  storage.logdb.reset();
  storage.dir.reset();
}

// ---- NodeHost ------------------------------------------------------------------

NodeHost::NodeHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeHost::~NodeHost() { stop(); }

Status NodeHost::create(const NodeHostConfig& config, std::unique_ptr<NodeHost>* out) {
  Status s = config.validate();
  if (!s.ok()) return s;
  auto d = std::make_unique<Impl>();
  d->config = config;
  d->events = std::make_unique<engine::Events>(config.raft_event_listener, config.system_event_listener);
  if (d->config.listen_address.empty()) d->config.listen_address = config.raft_address;
  d->config.logdb_shards = config.resolved_logdb_shards();
  logdb::HostDirInfo info;
  info.raft_address = config.raft_address;
  info.deployment_id = config.deployment_id;
  info.logdb_shards = d->config.logdb_shards;
  if (config.logdb_factory) {
    raftio::LogDBArgs args;
    args.wal_dir = config.wal_dir;
    s = logdb::open_host_storage(config.node_host_dir, info, config.logdb_factory, args, &d->storage);
  } else {
    logdb::RocksLogDBOptions lo;
    lo.shards = d->config.logdb_shards;
    lo.wal_dir = config.wal_dir;
    s = logdb::open_host_storage(config.node_host_dir, info, lo, &d->storage);
  }
  if (!s.ok()) return s;
  for (uint64_t i = 0; i < d->config.logdb_shards; ++i)
    d->step_workers.push_back(std::make_unique<engine::StepWorker>(d->storage.logdb.get()));
  for (uint64_t i = 0; i < config.apply_workers; ++i) d->apply_workers.push_back(std::make_unique<engine::ApplyWorker>());
  for (uint64_t i = 0; i < config.snapshot_workers; ++i)
    d->snapshot_workers.push_back(std::make_unique<engine::SnapshotWorker>());
  std::error_code ec;
  std::filesystem::create_directories(d->snapshot_root(), ec);
  if (ec) return Status(ErrorCode::kDirNotExist, "cannot create " + d->snapshot_root() + ": " + ec.message());
  // Snapshot workers never poll: their work is rare and long.
  const uint64_t busy_poll_ns = config.busy_poll_microseconds * 1000;
  if (config.transport_factory) {
    raftio::TransportArgs args;
    args.config = &d->config;
    args.handler = d.get();
    args.resolver = &d->registry;
    args.snapshot_dir = d->snapshot_root();
    s = config.transport_factory(args, &d->transport);
    if (s.ok() && !d->transport) s = Status(ErrorCode::kInvalidOperation, "the transport factory returned none");
    if (!s.ok()) return Status(s.code(), "transport_factory: " + s.message());
  } else {
    transport::TcpTransportOptions to;
    to.listen_address = d->config.listen_address;
    to.raft_address = config.raft_address;
    to.deployment_id = config.deployment_id;
    if (config.max_send_queue_size) to.max_send_queue_bytes = config.max_send_queue_size;
    to.mutual_tls = config.mutual_tls;
    to.ca_file = config.ca_file;
    to.cert_file = config.cert_file;
    to.key_file = config.key_file;
    to.snapshot_dir = d->snapshot_root();
    to.max_snapshot_send_bytes_per_second = config.max_snapshot_send_bytes_per_second;
    to.max_snapshot_recv_bytes_per_second = config.max_snapshot_recv_bytes_per_second;
    to.busy_poll_ns = busy_poll_ns;
    d->transport = std::make_unique<transport::TcpTransport>(to, &d->registry, d.get());
  }
  s = d->transport->start();
  if (!s.ok()) return s;
  for (size_t i = 0; i < d->step_workers.size(); ++i) {
    d->step_workers[i]->set_transport(d->transport.get());
    d->step_workers[i]->set_busy_poll_ns(busy_poll_ns);
    d->step_workers[i]->start(i);
  }
  for (size_t i = 0; i < d->apply_workers.size(); ++i) {
    d->apply_workers[i]->set_busy_poll_ns(busy_poll_ns);
    d->apply_workers[i]->start(i);
  }
  for (size_t i = 0; i < d->snapshot_workers.size(); ++i) d->snapshot_workers[i]->start(i);
  Impl* raw = d.get();
  d->ticker = std::make_unique<engine::Ticker>(
      std::chrono::milliseconds(config.rtt_millisecond),
      [raw](uint64_t seen, std::vector<std::shared_ptr<Node>>* out) { return raw->list_nodes(seen, out); },
      [raw](const std::shared_ptr<Node>& n) { raw->step_worker(n->cluster_id()).wake(n); });
  d->ticker->start();
  out->reset(new NodeHost(std::move(d)));
  return Status::OK();
}

void NodeHost::stop() { impl_->stop_all(); }

Status NodeHost::start_cluster(const std::map<uint64_t, std::string>& members, bool join, StateMachineFactory f,
                               const Config& c) {
  if (!f) return Status(ErrorCode::kInvalidClusterSettings, "no state machine factory");
  return impl_->start(members, join, c, StateMachineType::kRegular,
                      [&] { return rsm::ManagedSM::own(f(c.cluster_id, c.node_id)); });
}

Status NodeHost::start_concurrent_cluster(const std::map<uint64_t, std::string>& members, bool join,
                                          ConcurrentStateMachineFactory f, const Config& c) {
  if (!f) return Status(ErrorCode::kInvalidClusterSettings, "no state machine factory");
  return impl_->start(members, join, c, StateMachineType::kConcurrent,
                      [&] { return rsm::ManagedSM::own(f(c.cluster_id, c.node_id)); });
}

Status NodeHost::start_on_disk_cluster(const std::map<uint64_t, std::string>& members, bool join,
                                       OnDiskStateMachineFactory f, const Config& c) {
  if (!f) return Status(ErrorCode::kInvalidClusterSettings, "no state machine factory");
  return impl_->start(members, join, c, StateMachineType::kOnDisk,
                      [&] { return rsm::ManagedSM::own(f(c.cluster_id, c.node_id)); });
}

Status NodeHost::stop_cluster(uint64_t cluster_id) {
  {
    std::shared_lock<std::shared_mutex> g(impl_->mu);
    if (impl_->stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
  }
  return impl_->stop_cluster(cluster_id);
}

Status NodeHost::stop_node(uint64_t cluster_id, uint64_t node_id) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup_node(cluster_id, node_id, &n);
  if (!s.ok()) return s;
  return impl_->stop_cluster(cluster_id);
}

Status NodeHost::propose(const Session& session, std::string_view cmd, Timeout timeout, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  uint64_t ticks = 0;
  Status s = impl_->lookup_for(session.cluster_id, timeout, &n, &ticks);
  if (!s.ok()) return s;
  if (session.series_id == Session::kSeriesIDForRegister || session.series_id == Session::kSeriesIDForUnregister) {
    return Status(ErrorCode::kInvalidSession, "this session is being registered/unregistered: use propose_session");
  }
  if (!session.is_noop() && n->sm_kind() == StateMachineType::kOnDisk) {
    return Status(ErrorCode::kInvalidSession, "an on-disk state machine accepts only the no-op session");
  }
  if (session.client_id == 0 && session.series_id != Session::kNoOpSeriesID) {
    return Status(ErrorCode::kInvalidSession, "a session with client_id 0 must be the no-op session");
  }
  if (cmd.empty() && session.is_noop()) {
    // An empty entry of the no-op session is what a new leader appends (thesis
    // §6.4): every replica skips it, so this request would never complete.
    return Status(ErrorCode::kInvalidOperation,
                  "an empty command needs a registered session (through the no-op session it is a leader's no-op)");
  }
  engine::Proposal p;
  p.cmd.assign(cmd.data(), cmd.size());
  p.client_id = session.client_id;
  p.series_id = session.series_id;
  p.responded_to = session.responded_to;
  return n->propose(std::move(p), ticks, rs);
}

Status NodeHost::sync_propose(const Session& session, std::string_view cmd, Timeout timeout, Result* result) {
  RequestStatePtr rs;
  RequestResult r;
  Status s = impl_->wait_started(propose(session, cmd, timeout, &rs), rs, timeout, &r);
  if (s.ok() && result) *result = r.result;
  return s;
}

Session NodeHost::get_noop_session(uint64_t cluster_id) const { return Session::noop(cluster_id); }

Status NodeHost::propose_session(const Session& session, Timeout timeout, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(session.cluster_id, &n);
  if (!s.ok()) return s;
  if (n->sm_kind() == StateMachineType::kOnDisk) {
    return Status(ErrorCode::kInvalidOperation, "an on-disk state machine accepts only the no-op session");
  }
  if (session.client_id == 0 ||
      (session.series_id != Session::kSeriesIDForRegister && session.series_id != Session::kSeriesIDForUnregister)) {
    return Status(ErrorCode::kInvalidSession, "the session is not prepared for register or unregister");
  }
  uint64_t ticks = 0;
  s = impl_->ticks(timeout, &ticks);
  if (!s.ok()) return s;
  engine::Proposal p;
  p.client_id = session.client_id;
  p.series_id = session.series_id;
  return n->propose(std::move(p), ticks, rs);
}

Status NodeHost::sync_get_session(uint64_t cluster_id, Timeout timeout, Session* out) {
  Session session = Session::create(cluster_id);
  const uint64_t client_id = session.client_id;
  RequestStatePtr rs;
  RequestResult r;
  Status s = impl_->wait_started(propose_session(session, timeout, &rs), rs, timeout, &r);
  if (!s.ok()) return s;
  if (r.result.value != client_id) return Status(ErrorCode::kRejected, "session registration refused");
  session.prepare_for_propose();
  *out = session;
  return Status::OK();
}

Status NodeHost::sync_close_session(const Session& session, Timeout timeout) {
  Session s2 = session;
  s2.prepare_for_unregister();
  RequestStatePtr rs;
  RequestResult r;
  Status s = impl_->wait_started(propose_session(s2, timeout, &rs), rs, timeout, &r);
  if (!s.ok()) return s;
  if (r.result.value != session.client_id) return Status(ErrorCode::kRejected, "session was not registered");
  return Status::OK();
}

Status NodeHost::read_index(uint64_t cluster_id, Timeout timeout, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  uint64_t ticks = 0;
  Status s = impl_->lookup_for(cluster_id, timeout, &n, &ticks);
  if (!s.ok()) return s;
  return n->read_index(ticks, rs);
}

Status NodeHost::read_local_node(const RequestStatePtr& rs, std::string_view query, std::string* answer) {
  if (!rs) return Status(ErrorCode::kInvalidOperation, "no request state");
  RequestResult r;
  if (!rs->wait_for(std::chrono::milliseconds(0), &r) || !r.completed()) {
    return Status(ErrorCode::kInvalidOperation, "read_local_node needs a completed read_index request");
  }
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(rs->cluster_id(), &n);
  if (!s.ok()) return s;
  return n->lookup(query, answer);
}

Status NodeHost::na_read_local_node(const RequestStatePtr& rs, std::string_view query, std::string* answer) {
  return read_local_node(rs, query, answer);
}

Status NodeHost::sync_read(uint64_t cluster_id, std::string_view query, Timeout timeout, std::string* answer) {
  RequestStatePtr rs;
  Status s = impl_->wait_started(read_index(cluster_id, timeout, &rs), rs, timeout);
  if (!s.ok()) return s;
  return read_local_node(rs, query, answer);
}

Status NodeHost::stale_read(uint64_t cluster_id, std::string_view query, std::string* answer) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  return n->lookup(query, answer);
}

Status NodeHost::get_hash(uint64_t cluster_id, uint64_t* hash) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  return n->hash(hash);
}

Status NodeHost::check_local_read(uint64_t cluster_id) const {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  return n->check_readable();
}

Status NodeHost::request_snapshot(uint64_t cluster_id, const SnapshotOption& option, Timeout timeout,
                                  RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  uint64_t ticks = 0;
  Status s = impl_->lookup_for(cluster_id, timeout, &n, &ticks);
  if (!s.ok()) return s;
  if (option.exported && option.export_path.empty()) {
    return Status(ErrorCode::kInvalidOperation, "an exported snapshot needs export_path");
  }
  if (option.exported) {
    std::error_code ec;
    if (!std::filesystem::is_directory(option.export_path, ec)) {
      return Status(ErrorCode::kDirNotExist, "export_path " + option.export_path + " is not a directory");
    }
  }
  return n->request_snapshot(option, ticks, rs);
}

Status NodeHost::sync_request_snapshot(uint64_t cluster_id, const SnapshotOption& option, Timeout timeout,
                                       uint64_t* snapshot_index) {
  RequestStatePtr rs;
  RequestResult r;
  Status s = impl_->wait_started(request_snapshot(cluster_id, option, timeout, &rs), rs, timeout, &r);
  if (s.ok() && snapshot_index) *snapshot_index = r.snapshot_index;
  return s;
}

const std::string& NodeHost::raft_address() const { return impl_->config.raft_address; }
const NodeHostConfig& NodeHost::node_host_config() const { return impl_->config; }

}  // namespace dragonboat
