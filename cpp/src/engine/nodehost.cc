// engine/nodehost.cc — NodeHost: owns the host directory and LogDB, the TCP
// transport, the tick thread, the step workers (one per LogDB shard, a
// group's worker chosen by cluster ID like its shard) and the apply
// workers, and routes API calls and network messages to nodes.
#include "dragonboat/nodehost.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "common/thread_name.h"
#include "dragonboat/logger.h"
#include "engine/node.h"
#include "engine/step_worker.h"
#include "logdb/host_storage.h"
#include "transport/tcp_transport.h"

namespace dragonboat {

using engine::Node;

struct NodeHost::Impl : public transport::MessageHandler {
  NodeHostConfig config;
  logdb::HostStorage storage;
  transport::NodeRegistry registry;
  std::unique_ptr<transport::TcpTransport> transport;
  std::vector<std::unique_ptr<engine::StepWorker>> step_workers;
  std::vector<std::unique_ptr<engine::ApplyWorker>> apply_workers;
  std::vector<std::unique_ptr<engine::SnapshotWorker>> snapshot_workers;
  std::unique_ptr<engine::Events> events;

  struct Entry {
    std::shared_ptr<Node> node;
    std::unique_ptr<rsm::ManagedSM> sm;
  };
  mutable std::shared_mutex mu;                  // guards nodes and stopped
  std::unordered_map<uint64_t, Entry> nodes;     // by cluster ID
  uint64_t nodes_version = 0;                    // bumped on every change of `nodes`
  bool stopped = false;
  std::mutex start_mu;                           // one start/stop of a group at a time

  std::thread ticker;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool tick_stop = false;
  // Replicas their step side re-activated (Node::wake_tick); the tick thread
  // moves them into its active set.
  std::mutex woken_mu;
  std::vector<std::shared_ptr<Node>> woken;
  std::atomic<uint64_t> ticking{0};  // size of the active set (a metric)

  std::string snapshot_root() const { return config.node_host_dir + "/snapshots"; }
  engine::StepWorker& step_worker(uint64_t cluster_id) {
    return *step_workers[cluster_id % step_workers.size()];
  }
  engine::ApplyWorker& apply_worker(uint64_t cluster_id) {
    return *apply_workers[(cluster_id / step_workers.size()) % apply_workers.size()];
  }
  engine::SnapshotWorker& snapshot_worker(uint64_t cluster_id) {
    return *snapshot_workers[cluster_id % snapshot_workers.size()];
  }

  std::shared_ptr<Node> find(uint64_t cluster_id) const {
    std::shared_lock<std::shared_mutex> g(mu);
    auto it = nodes.find(cluster_id);
    return it == nodes.end() ? nullptr : it->second.node;
  }

  Status lookup(uint64_t cluster_id, std::shared_ptr<Node>* out) const {
    std::shared_lock<std::shared_mutex> g(mu);
    if (stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
    auto it = nodes.find(cluster_id);
    if (it == nodes.end()) {
      return Status(ErrorCode::kClusterNotFound, "cluster " + std::to_string(cluster_id) + " is not on this NodeHost");
    }
    *out = it->second.node;
    return Status::OK();
  }
  // lookup, then the replica must be node `node_id` (kClusterNotFound otherwise).
  Status lookup_node(uint64_t cluster_id, uint64_t node_id, std::shared_ptr<Node>* out) const {
    Status s = lookup(cluster_id, out);
    if (s.ok() && (*out)->node_id() != node_id) {
      return Status(ErrorCode::kClusterNotFound, "node " + std::to_string(node_id) + " of cluster " +
                                                     std::to_string(cluster_id) + " is not on this NodeHost");
    }
    return s;
  }
  // lookup, and the request's timeout in ticks.
  Status lookup_for(uint64_t cluster_id, Timeout timeout, std::shared_ptr<Node>* out, uint64_t* ticks_out) const {
    Status s = lookup(cluster_id, out);
    return s.ok() ? ticks(timeout, ticks_out) : s;
  }

  Status ticks(Timeout t, uint64_t* out) const {
    if (t.count() <= 0) return Status(ErrorCode::kInvalidDeadline, "the timeout must be positive");
    uint64_t n = static_cast<uint64_t>(t.count()) / config.rtt_millisecond;
    if (n == 0) {
      return Status(ErrorCode::kTimeoutTooSmall, "timeout " + std::to_string(t.count()) +
                                                     " ms is below one tick (rtt_millisecond " +
                                                     std::to_string(config.rtt_millisecond) + ")");
    }
    *out = n;
    return Status::OK();
  }

  // MessageHandler (transport I/O thread).
  void handle_messages(std::vector<raft::Message> messages) override {
    std::vector<std::shared_ptr<Node>> woken;
    {
      std::shared_lock<std::shared_mutex> g(mu);
      for (auto& m : messages) {
        auto it = nodes.find(m.cluster_id);
        if (it == nodes.end() || it->second.node->node_id() != m.to) continue;  // not ours: dropped
        if (m.type == raft::MessageType::kInstallSnapshot) {
          SnapshotInfo si{m.cluster_id, m.to, m.from, m.snapshot.index};
          events->system([si](ISystemEventListener& l) { l.snapshot_received(si); });
        }
        it->second.node->deliver(std::move(m));
        woken.push_back(it->second.node);
      }
    }
    for (auto& n : woken) step_worker(n->cluster_id()).wake(n);
  }
  void learn_address(uint64_t cluster_id, uint64_t node_id, const std::string& address) override {
    if (find(cluster_id)) registry.add_if_absent(cluster_id, node_id, address);
  }
  void handle_unreachable(uint64_t cluster_id, uint64_t node_id) override {
    if (auto n = find(cluster_id)) {
      n->report_unreachable(node_id);
      step_worker(cluster_id).wake(n);
    }
  }
  void connection_event(const std::string& address, bool snapshot, bool failed) override {
    ConnectionInfo ci{address, snapshot};
    events->system([ci, failed](ISystemEventListener& l) {
      if (failed) {
        l.connection_failed(ci);
      } else {
        l.connection_established(ci);
      }
    });
  }
  void handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, bool failed) override {
    if (auto n = find(cluster_id)) {
      SnapshotInfo si{cluster_id, n->node_id(), node_id, 0};
      events->system([si, failed](ISystemEventListener& l) {
        if (failed) {
          l.send_snapshot_aborted(si);
        } else {
          l.send_snapshot_completed(si);
        }
      });
      n->report_snapshot_status(node_id, failed);
      step_worker(cluster_id).wake(n);
    }
  }

  // Every rtt_millisecond: one tick to every ACTIVE replica. Quiesced idle
  // replicas leave the active set (Node::sleep_if_idle) and are put back by
  // their step side (Node::wake_tick), so 10,000 idle groups cost nothing
  // per tick. The active set and Node::in_active_set are this thread's own.
  void tick_loop() {
    auto period = std::chrono::milliseconds(config.rtt_millisecond);
    auto next = std::chrono::steady_clock::now() + period;
    std::vector<std::shared_ptr<Node>> active, back;
    auto add = [&](std::shared_ptr<Node> n) {
      if (n->in_active_set || n->stopped()) return;
      n->in_active_set = true;
      active.push_back(std::move(n));
    };
    uint64_t seen_version = ~uint64_t{0};
    for (;;) {
      {
        std::unique_lock<std::mutex> g(tick_mu);
        if (tick_cv.wait_until(g, next, [&] { return tick_stop; })) return;
      }
      next += period;
      auto now = std::chrono::steady_clock::now();
      if (next < now) next = now + period;  // fell behind: do not burst
      {
        // Rebuilt from every replica only when the set of replicas changed
        // (dormant ones leave again at their first visit).
        std::shared_lock<std::shared_mutex> g(mu);
        if (nodes_version != seen_version) {
          for (auto& n : active) n->in_active_set = false;
          active.clear();
          for (auto& [id, e] : nodes) add(e.node);
          seen_version = nodes_version;
        }
      }
      {
        std::lock_guard<std::mutex> g(woken_mu);
        back.swap(woken);
      }
      for (auto& n : back) add(std::move(n));
      back.clear();
      for (size_t i = 0; i < active.size();) {
        Node& n = *active[i];
        if (n.stopped() || n.sleep_if_idle()) {
          n.in_active_set = false;
          active[i] = std::move(active.back());
          active.pop_back();
          continue;
        }
        if (n.tick()) step_worker(n.cluster_id()).wake(active[i]);
        ++i;
      }
      ticking.store(active.size(), std::memory_order_relaxed);
    }
  }

  Status start(const std::map<uint64_t, std::string>& members, bool join, const Config& c, StateMachineType kind,
               const std::function<std::unique_ptr<rsm::ManagedSM>()>& make_sm);
  Status stop_cluster(uint64_t cluster_id);
  void stop_all();
  Status wait(const RequestStatePtr& rs, Timeout timeout, RequestResult* out) const;
  // The sync_ variants: `started` is the asynchronous call's status.
  Status wait_started(const Status& started, const RequestStatePtr& rs, Timeout timeout) const {
    if (!started.ok()) return started;
    RequestResult r;
    return wait(rs, timeout, &r);
  }
};

namespace {

raft::Config raft_config(const Config& c) {
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

Membership to_public(const raft::Membership& m) {
  Membership out;
  out.config_change_id = m.config_change_id;
  out.nodes = m.addresses;
  out.observers = m.observers;
  out.witnesses = m.witnesses;
  out.removed = m.removed;
  return out;
}

}  // namespace

Status NodeHost::Impl::wait(const RequestStatePtr& rs, Timeout timeout, RequestResult* out) const {
  // The engine completes the request by its own tick deadline; the extra
  // wall-clock margin only guards against a stalled tick thread.
  if (!rs->wait_for(timeout + std::chrono::milliseconds(4 * config.rtt_millisecond) + std::chrono::seconds(1), out)) {
    return Status(ErrorCode::kTimeout, "request timed out");
  }
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
    s = db->save_bootstrap(c.cluster_id, c.node_id, b);
    if (!s.ok()) return s;
  }
  Entry e;
  e.sm = make_sm();
  if (!e.sm) return Status(ErrorCode::kInvalidClusterSettings, "the state machine factory returned null");
  engine::NodeOptions o;
  o.raft = raft_config(c);
  o.initial_members = initial;
  o.join = join;
  o.max_pending = config.max_pending_per_node;
  o.max_entry_bytes = config.max_proposal_payload_size;
  o.snapshot_entries = c.snapshot_entries;
  o.compaction_overhead = c.compaction_overhead;
  o.disable_auto_compactions = c.disable_auto_compactions;
  o.notify_commit = config.notify_commit;
  o.max_receive_queue_bytes = config.max_receive_queue_size;
  o.snapshot_root = snapshot_root() + "/" + std::to_string(c.cluster_id) + "-" + std::to_string(c.node_id);
  std::unique_ptr<Node> node;
  s = Node::open(o, db, transport.get(), &registry, e.sm.get(), &node);
  if (!s.ok()) return s;
  e.node = std::shared_ptr<Node>(std::move(node));
  std::weak_ptr<Node> weak = e.node;
  engine::StepWorker* sw = &step_worker(c.cluster_id);
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
    if (auto n = weak.lock()) {
      std::lock_guard<std::mutex> g(woken_mu);
      woken.push_back(std::move(n));
    }
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
  std::vector<uint64_t> ids;
  {
    std::unique_lock<std::shared_mutex> g(mu);
    if (stopped) return;
    stopped = true;
    for (auto& [id, e] : nodes) ids.push_back(id);
  }
  {
    std::lock_guard<std::mutex> g(tick_mu);
    tick_stop = true;
  }
  tick_cv.notify_all();
  if (ticker.joinable()) ticker.join();
  for (uint64_t id : ids) (void)stop_cluster(id);
  if (transport) transport->stop();
  for (auto& w : step_workers) w->stop();
  for (auto& w : apply_workers) w->stop();
  for (auto& w : snapshot_workers) w->stop();
  {
    // Passes after the tick thread stopped may have re-queued replicas.
    std::lock_guard<std::mutex> g(woken_mu);
    woken.clear();
  }
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
  logdb::RocksLogDBOptions lo;
  lo.shards = d->config.logdb_shards;
  lo.wal_dir = config.wal_dir;
  s = logdb::open_host_storage(config.node_host_dir, info, lo, &d->storage);
  if (!s.ok()) return s;
  for (uint64_t i = 0; i < d->config.logdb_shards; ++i)
    d->step_workers.push_back(std::make_unique<engine::StepWorker>(d->storage.logdb.get()));
  for (uint64_t i = 0; i < config.apply_workers; ++i) d->apply_workers.push_back(std::make_unique<engine::ApplyWorker>());
  for (uint64_t i = 0; i < config.snapshot_workers; ++i)
    d->snapshot_workers.push_back(std::make_unique<engine::SnapshotWorker>());
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
  std::error_code ec;
  std::filesystem::create_directories(to.snapshot_dir, ec);
  if (ec) return Status(ErrorCode::kDirNotExist, "cannot create " + to.snapshot_dir + ": " + ec.message());
  d->transport = std::make_unique<transport::TcpTransport>(to, &d->registry, d.get());
  s = d->transport->start();
  if (!s.ok()) return s;
  for (size_t i = 0; i < d->step_workers.size(); ++i) d->step_workers[i]->start(i);
  for (size_t i = 0; i < d->apply_workers.size(); ++i) d->apply_workers[i]->start(i);
  for (size_t i = 0; i < d->snapshot_workers.size(); ++i) d->snapshot_workers[i]->start(i);
  Impl* raw = d.get();
  d->ticker = std::thread([raw] {
    set_thread_name("tick");
    raw->tick_loop();
  });
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
  Status s = propose(session, cmd, timeout, &rs);
  if (!s.ok()) return s;
  RequestResult r;
  s = impl_->wait(rs, timeout, &r);
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
  Status s = propose_session(session, timeout, &rs);
  if (!s.ok()) return s;
  RequestResult r;
  s = impl_->wait(rs, timeout, &r);
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
  Status s = propose_session(s2, timeout, &rs);
  if (!s.ok()) return s;
  RequestResult r;
  s = impl_->wait(rs, timeout, &r);
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
  engine::SnapshotRequest r;
  r.exported = option.exported;
  r.export_path = option.export_path;
  r.override_compaction_overhead = option.override_compaction_overhead;
  r.compaction_overhead = option.compaction_overhead;
  return n->request_snapshot(r, ticks, rs);
}

Status NodeHost::sync_request_snapshot(uint64_t cluster_id, const SnapshotOption& option, Timeout timeout,
                                       uint64_t* snapshot_index) {
  RequestStatePtr rs;
  Status s = request_snapshot(cluster_id, option, timeout, &rs);
  if (!s.ok()) return s;
  RequestResult r;
  s = impl_->wait(rs, timeout, &r);
  if (s.ok() && snapshot_index) *snapshot_index = r.snapshot_index;
  return s;
}

namespace {

Status membership_change(NodeHost::Impl* impl, uint64_t cluster_id, raft::ConfigChangeType type, uint64_t node_id,
                         const std::string& address, uint64_t ccid, Timeout timeout, RequestStatePtr* rs);

}  // namespace

Status NodeHost::request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address, uint64_t ccid,
                                  Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddNode, node_id, address, ccid, timeout,
                           rs);
}

Status NodeHost::request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                      uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddObserver, node_id, address, ccid,
                           timeout, rs);
}

Status NodeHost::request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                     uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kAddWitness, node_id, address, ccid,
                           timeout, rs);
}

Status NodeHost::request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t ccid, Timeout timeout,
                                     RequestStatePtr* rs) {
  return membership_change(impl_.get(), cluster_id, raft::ConfigChangeType::kRemoveNode, node_id, "", ccid, timeout,
                           rs);
}

Status NodeHost::sync_request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                       uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_node(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                           uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_observer(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                          uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_add_witness(cluster_id, node_id, address, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t ccid, Timeout timeout) {
  RequestStatePtr rs;
  return impl_->wait_started(request_delete_node(cluster_id, node_id, ccid, timeout, &rs), rs, timeout);
}

Status NodeHost::sync_get_cluster_membership(uint64_t cluster_id, Timeout timeout, Membership* out) {
  RequestStatePtr rs;
  Status s = impl_->wait_started(read_index(cluster_id, timeout, &rs), rs, timeout);
  if (!s.ok()) return s;
  // The read index is applied here: the applied membership is at least as
  // new as any change acknowledged before the call.
  return get_cluster_membership(cluster_id, out);
}

Status NodeHost::remove_data(uint64_t cluster_id, uint64_t node_id) {
  std::lock_guard<std::mutex> sg(impl_->start_mu);  // no start of this node meanwhile
  {
    std::shared_lock<std::shared_mutex> g(impl_->mu);
    if (impl_->stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
    auto it = impl_->nodes.find(cluster_id);
    if (it != impl_->nodes.end() && it->second.node->node_id() == node_id) {
      return Status(ErrorCode::kClusterNotStopped, "node " + std::to_string(node_id) + " of cluster " +
                                                       std::to_string(cluster_id) + " is running: stop it first");
    }
  }
  Status s = impl_->storage.logdb->remove_node_data(cluster_id, node_id);
  if (!s.ok()) return s;
  std::string root = impl_->snapshot_root() + "/" + std::to_string(cluster_id) + "-" + std::to_string(node_id);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (!ec) std::filesystem::remove_all(root + "-stream", ec);
  if (ec) return Status(ErrorCode::kFatal, "removing " + root + ": " + ec.message());
  return Status::OK();
}

Status NodeHost::sync_remove_data(uint64_t cluster_id, uint64_t node_id, Timeout) {
  return remove_data(cluster_id, node_id);  // synchronous already
}

Status NodeHost::request_compaction(uint64_t cluster_id, uint64_t node_id, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup_node(cluster_id, node_id, &n);
  if (!s.ok()) return s;
  return n->request_compaction(rs);
}

Status NodeHost::request_leader_transfer(uint64_t cluster_id, uint64_t target_node_id) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  return n->request_leader_transfer(target_node_id);
}

namespace {

Status membership_change(NodeHost::Impl* impl, uint64_t cluster_id, raft::ConfigChangeType type, uint64_t node_id,
                         const std::string& address, uint64_t ccid, Timeout timeout, RequestStatePtr* rs) {
  std::shared_ptr<Node> n;
  Status s = impl->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  uint64_t ticks = 0;
  s = impl->ticks(timeout, &ticks);
  if (!s.ok()) return s;
  if (node_id == 0) return Status(ErrorCode::kInvalidOperation, "node ID 0 is not a node");
  if (type != raft::ConfigChangeType::kRemoveNode) {
    std::string h;
    uint16_t p = 0;
    if (!transport::split_address(address, &h, &p) || p == 0) {
      return Status(ErrorCode::kInvalidAddress, "\"" + address + "\" is not host:port");
    }
  }
  raft::ConfigChange cc;
  cc.type = type;
  cc.node_id = node_id;
  cc.address = address;
  cc.config_change_id = ccid;
  return n->propose_config_change(cc, ticks, rs);
}

}  // namespace

Status NodeHost::get_leader_id(uint64_t cluster_id, uint64_t* leader_id, bool* valid) const {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *leader_id = n->leader_id();
  *valid = *leader_id != 0;
  return Status::OK();
}

namespace {

class NodeUserImpl : public NodeUser {
 public:
  NodeUserImpl(NodeHost* nh, uint64_t cluster_id) : nh_(nh), cluster_id_(cluster_id) {}
  Status propose(const Session& session, std::string_view cmd, Timeout timeout, RequestStatePtr* rs) override {
    if (session.cluster_id != cluster_id_) {
      return Status(ErrorCode::kInvalidSession, "the session belongs to another cluster");
    }
    return nh_->propose(session, cmd, timeout, rs);
  }
  Status read_index(Timeout timeout, RequestStatePtr* rs) override { return nh_->read_index(cluster_id_, timeout, rs); }

 private:
  NodeHost* nh_;
  uint64_t cluster_id_;
};

}  // namespace

Status NodeHost::get_node_user(uint64_t cluster_id, std::shared_ptr<NodeUser>* out) {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *out = std::make_shared<NodeUserImpl>(this, cluster_id);
  return Status::OK();
}

NodeHostInfo NodeHost::get_node_host_info(const NodeHostInfoOption& option) const {
  NodeHostInfo info;
  info.raft_address = impl_->config.raft_address;
  std::vector<std::shared_ptr<Node>> all;
  {
    std::shared_lock<std::shared_mutex> g(impl_->mu);
    for (auto& [id, e] : impl_->nodes) all.push_back(e.node);
    if (!option.skip_log_info && !impl_->stopped) {
      std::vector<logdb::NodeInfo> ni;
      if (impl_->storage.logdb->list_nodes(&ni).ok())
        for (const auto& x : ni) info.log_info.push_back(NodeInfo{x.cluster_id, x.node_id});
    }
  }
  for (auto& n : all) {
    ClusterInfo ci;
    ci.cluster_id = n->cluster_id();
    ci.node_id = n->node_id();
    raft::Membership m = n->membership();
    ci.nodes = m.addresses;
    ci.config_change_index = m.config_change_id;
    ci.state_machine_type = static_cast<StateMachineType>(n->sm_kind());
    ci.is_leader = n->is_leader();
    ci.is_observer = m.is_observer(n->node_id());
    ci.is_witness = m.is_witness(n->node_id());
    ci.pending = n->applied() == 0;
    info.cluster_info.push_back(std::move(ci));
  }
  return info;
}

bool NodeHost::has_node_info(uint64_t cluster_id, uint64_t node_id) const {
  std::shared_lock<std::shared_mutex> g(impl_->mu);
  if (impl_->stopped) return false;
  logdb::Bootstrap b;
  return impl_->storage.logdb->get_bootstrap(cluster_id, node_id, &b).ok();
}

Status NodeHost::get_cluster_membership(uint64_t cluster_id, Membership* out) const {
  std::shared_ptr<Node> n;
  Status s = impl_->lookup(cluster_id, &n);
  if (!s.ok()) return s;
  *out = to_public(n->membership());
  return Status::OK();
}

void NodeHost::write_health_metrics(std::ostream& out) const {
  using engine::metric_header;
  using engine::metric_value;
  using engine::NodeCounters;
  Impl& d = *impl_;
  // Host-wide: the engine's persistence and the transport.
  engine::StepWorkerStats st;
  std::array<uint64_t, engine::LatencyHistogram::kBuckets.size()> buckets{};
  uint64_t sync_count = 0;
  double sync_sum = 0;
  for (auto& w : d.step_workers) {
    engine::StepWorkerStats ws = w->stats();
    st.passes += ws.passes;
    st.saves += ws.saves;
    st.node_updates += ws.node_updates;
    const auto& h = w->sync_latency();
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += h.bucket(i);
    sync_count += h.count();
    sync_sum += h.sum();
  }
  metric_header(out, "dragonboat_replicas_ticking", "gauge",
                "Replicas in the tick thread's active set (quiesced idle ones are left out).");
  metric_value(out, "dragonboat_replicas_ticking", "", double(d.ticking.load(std::memory_order_relaxed)));
  metric_header(out, "dragonboat_step_passes_total", "counter", "Step worker passes.");
  metric_value(out, "dragonboat_step_passes_total", "", double(st.passes));
  metric_header(out, "dragonboat_logdb_saves_total", "counter", "LogDB saves (one write batch and one fsync each).");
  metric_value(out, "dragonboat_logdb_saves_total", "", double(st.saves));
  metric_header(out, "dragonboat_logdb_node_updates_total", "counter", "Replica updates persisted by those saves.");
  metric_value(out, "dragonboat_logdb_node_updates_total", "", double(st.node_updates));
  metric_header(out, "dragonboat_logdb_sync_seconds", "histogram", "Latency of a LogDB save including its fsync.");
  for (size_t i = 0; i < buckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof(le), "le=\"%g\"", engine::LatencyHistogram::kBuckets[i]);
    metric_value(out, "dragonboat_logdb_sync_seconds_bucket", le, double(buckets[i]));
  }
  metric_value(out, "dragonboat_logdb_sync_seconds_bucket", "le=\"+Inf\"", double(sync_count));
  metric_value(out, "dragonboat_logdb_sync_seconds_sum", "", sync_sum);
  metric_value(out, "dragonboat_logdb_sync_seconds_count", "", double(sync_count));
  const transport::TcpTransportStats& ts = d.transport->stats();
  struct C {
    const char* name;
    const char* help;
    uint64_t v;
  };
  const C host[] = {
      {"dragonboat_transport_bytes_sent_total", "Bytes of message frames sent.", ts.bytes_sent.load()},
      {"dragonboat_transport_bytes_received_total", "Bytes of frames received.", ts.bytes_received.load()},
      {"dragonboat_transport_messages_sent_total", "Raft messages sent.", ts.messages_sent.load()},
      {"dragonboat_transport_messages_received_total", "Raft messages received.", ts.messages_received.load()},
      {"dragonboat_transport_messages_dropped_total", "Messages dropped because a send queue was full.",
       ts.send_queue_drops.load()},
      {"dragonboat_transport_bad_frames_total", "Connections closed on a malformed or corrupt frame.",
       ts.bad_frames.load()},
      {"dragonboat_transport_connect_failures_total", "Failed connection attempts.", ts.connect_failures.load()},
      {"dragonboat_transport_deployment_mismatches_total", "Batches refused: they came from another deployment ID.",
       ts.deployment_mismatches.load()},
      {"dragonboat_transport_snapshots_sent_total", "Snapshots streamed to other hosts.", ts.snapshots_sent.load()},
      {"dragonboat_transport_snapshots_received_total", "Snapshots received.", ts.snapshots_received.load()},
      {"dragonboat_events_dropped_total", "Events dropped because a listener was too slow.", d.events->dropped()},
  };
  for (const C& c : host) {
    metric_header(out, c.name, "counter", c.help);
    metric_value(out, c.name, "", double(c.v));
  }
  // Per replica.
  std::vector<std::shared_ptr<Node>> all;
  {
    std::shared_lock<std::shared_mutex> g(d.mu);
    for (auto& [id, e] : d.nodes) all.push_back(e.node);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->cluster_id() < b->cluster_id(); });
  struct G {
    const char* name;
    const char* type;
    const char* help;
    std::function<double(const Node&)> get;
  };
  // A per-replica counter of NodeCounters.
  auto counter = [](std::atomic<uint64_t> NodeCounters::*field) {
    return [field](const Node& n) { return double((n.counters.*field).load()); };
  };
  const G per[] = {
      {"dragonboat_raft_term", "gauge", "Current Raft term of the replica.", [](const Node& n) { return double(n.term()); }},
      {"dragonboat_raft_is_leader", "gauge", "1 when the replica is its group's leader.",
       [](const Node& n) { return n.is_leader() ? 1.0 : 0.0; }},
      {"dragonboat_raft_commit_index", "gauge", "Commit index known to the replica.",
       [](const Node& n) { return double(n.commit_index()); }},
      {"dragonboat_raft_applied_index", "gauge", "Last entry applied to the state machine.",
       [](const Node& n) { return double(n.applied()); }},
      {"dragonboat_raft_leader_changes_total", "counter", "Leader (or term) changes seen by the replica.",
       counter(&NodeCounters::leader_changes)},
      {"dragonboat_proposals_total", "counter", "Proposals accepted by the replica.",
       counter(&NodeCounters::proposals)},
      {"dragonboat_proposals_dropped_total", "counter", "Proposals completed as dropped (retry).",
       counter(&NodeCounters::proposals_dropped)},
      {"dragonboat_reads_total", "counter", "ReadIndex requests accepted.", counter(&NodeCounters::reads)},
      {"dragonboat_entries_applied_total", "counter", "Committed entries applied.",
       counter(&NodeCounters::entries_applied)},
      {"dragonboat_snapshots_created_total", "counter", "Snapshots taken by the replica.",
       counter(&NodeCounters::snapshots_created)},
      {"dragonboat_snapshots_recovered_total", "counter", "Snapshots the state machine recovered from.",
       counter(&NodeCounters::snapshots_recovered)},
      {"dragonboat_snapshots_sent_total", "counter", "Snapshots sent to lagging followers.",
       counter(&NodeCounters::snapshots_sent)},
      {"dragonboat_messages_dropped_total", "counter", "Received messages dropped over max_receive_queue_size.",
       counter(&NodeCounters::messages_dropped)},
  };
  for (const G& g : per) {
    metric_header(out, g.name, g.type, g.help);
    for (const auto& n : all) {
      std::string labels = "cluster_id=\"" + std::to_string(n->cluster_id()) + "\",node_id=\"" +
                           std::to_string(n->node_id()) + "\"";
      metric_value(out, g.name, labels, g.get(*n));
    }
  }
}

const std::string& NodeHost::raft_address() const { return impl_->config.raft_address; }
const NodeHostConfig& NodeHost::node_host_config() const { return impl_->config; }

}  // namespace dragonboat
