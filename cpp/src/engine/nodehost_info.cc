// engine/nodehost_info.cc — NodeHost's NodeUser, host information,
// membership reads and the Prometheus health metrics (dragonboat/nodehost.h).
#include "engine/nodehost_impl.h"

namespace dragonboat {

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
  *out = to_public_membership(n->membership());
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
  metric_value(out, "dragonboat_replicas_ticking", "", double(d.ticker ? d.ticker->active() : 0));
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

}  // namespace dragonboat
