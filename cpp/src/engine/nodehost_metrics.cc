// engine/nodehost_metrics.cc — NodeHost's health metrics: one structured
// snapshot (dragonboat/metrics.h) read from the step workers, the tick thread,
// the transport, the event queue and every replica's counters. The
// Prometheus text (engine/prometheus.cc) and the Python numbers are both made
// from it.
#include <cstdio>

#include "engine/nodehost_impl.h"

namespace dragonboat {

namespace {
MetricFamily family(const char* name, MetricType type, const char* help) {
  MetricFamily f;
  f.name = name;
  f.type = type;
  f.help = help;
  return f;
}

MetricFamily host_value(const char* name, MetricType type, const char* help, double value) {
  MetricFamily f = family(name, type, help);
  f.samples.push_back(MetricSample{"", {}, value});
  return f;
}
}  // namespace

HealthMetrics NodeHost::get_health_metrics() const {
  using engine::NodeCounters;
  const Impl& d = *impl_;
  HealthMetrics m;
  auto& out = m.families;
  // Host-wide: the engine's persistence and the transport.
  engine::StepWorkerStats st;
  std::array<uint64_t, engine::LatencyHistogram::kBuckets.size()> buckets{};
  uint64_t sync_count = 0;
  double sync_sum = 0;
  for (const auto& w : d.step_workers) {
    engine::StepWorkerStats ws = w->stats();
    st.passes += ws.passes;
    st.saves += ws.saves;
    st.node_updates += ws.node_updates;
    const auto& h = w->sync_latency();
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += h.bucket(i);
    sync_count += h.count();
    sync_sum += h.sum();
  }
  out.push_back(host_value("dragonboat_replicas_ticking", MetricType::kGauge,
                           "Replicas in the tick thread's active set (quiesced idle ones are left out).",
                           double(d.ticker ? d.ticker->active() : 0)));
  out.push_back(host_value("dragonboat_step_passes_total", MetricType::kCounter, "Step worker passes.",
                           double(st.passes)));
  uint64_t polled = 0;
  for (const auto& w : d.step_workers) polled += w->polled_wakeups();
  for (const auto& w : d.apply_workers) polled += w->polled_wakeups();
  out.push_back(host_value("dragonboat_busy_poll_wakeups_total", MetricType::kCounter,
                           "Step and apply worker wake-ups found by polling (busy_poll_microseconds) "
                           "instead of after a sleep.",
                           double(polled)));
  out.push_back(host_value("dragonboat_logdb_saves_total", MetricType::kCounter,
                           "LogDB saves (one write batch and one fsync each).", double(st.saves)));
  out.push_back(host_value("dragonboat_logdb_node_updates_total", MetricType::kCounter,
                           "Replica updates persisted by those saves.", double(st.node_updates)));
  MetricFamily sync = family("dragonboat_logdb_sync_seconds", MetricType::kHistogram,
                             "Latency of a LogDB save including its fsync.");
  for (size_t i = 0; i < buckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof(le), "%g", engine::LatencyHistogram::kBuckets[i]);
    sync.samples.push_back(MetricSample{"_bucket", {{"le", le}}, double(buckets[i])});
  }
  sync.samples.push_back(MetricSample{"_bucket", {{"le", "+Inf"}}, double(sync_count)});
  sync.samples.push_back(MetricSample{"_sum", {}, sync_sum});
  sync.samples.push_back(MetricSample{"_count", {}, double(sync_count)});
  out.push_back(std::move(sync));
  const raftio::TransportStats ts = d.transport->stats();
  struct C {
    const char* name;
    const char* help;
    uint64_t v;
  };
  const C host[] = {
      {"dragonboat_transport_bytes_sent_total", "Bytes of message frames sent.", ts.bytes_sent},
      {"dragonboat_transport_bytes_received_total", "Bytes of frames received.", ts.bytes_received},
      {"dragonboat_transport_messages_sent_total", "Raft messages sent.", ts.messages_sent},
      {"dragonboat_transport_messages_received_total", "Raft messages received.", ts.messages_received},
      {"dragonboat_transport_messages_dropped_total", "Messages dropped because a send queue was full.",
       ts.send_queue_drops},
      {"dragonboat_transport_bad_frames_total", "Connections closed on a malformed or corrupt frame.",
       ts.bad_frames},
      {"dragonboat_transport_connect_failures_total", "Failed connection attempts.", ts.connect_failures},
      {"dragonboat_transport_deployment_mismatches_total", "Batches refused: they came from another deployment ID.",
       ts.deployment_mismatches},
      {"dragonboat_transport_snapshots_sent_total", "Snapshots streamed to other hosts.", ts.snapshots_sent},
      {"dragonboat_transport_snapshots_received_total", "Snapshots received.", ts.snapshots_received},
      {"dragonboat_events_dropped_total", "Events dropped because a listener was too slow.", d.events->dropped()},
  };
  for (const C& c : host) out.push_back(host_value(c.name, MetricType::kCounter, c.help, double(c.v)));
  // Per replica, in cluster ID order.
  std::vector<std::shared_ptr<Node>> all;
  {
    std::shared_lock<std::shared_mutex> g(d.mu);
    for (const auto& [id, e] : d.nodes) all.push_back(e.node);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->cluster_id() < b->cluster_id(); });
  struct G {
    const char* name;
    MetricType type;
    const char* help;
    std::function<double(const Node&)> get;
  };
  // A per-replica counter of NodeCounters.
  auto counter = [](std::atomic<uint64_t> NodeCounters::*field) {
    return [field](const Node& n) { return double((n.counters.*field).load()); };
  };
  const MetricType kC = MetricType::kCounter, kG = MetricType::kGauge;
  const G per[] = {
      {"dragonboat_raft_term", kG, "Current Raft term of the replica.", [](const Node& n) { return double(n.term()); }},
      {"dragonboat_raft_is_leader", kG, "1 when the replica is its group's leader.",
       [](const Node& n) { return n.is_leader() ? 1.0 : 0.0; }},
      {"dragonboat_raft_commit_index", kG, "Commit index known to the replica.",
       [](const Node& n) { return double(n.commit_index()); }},
      {"dragonboat_raft_applied_index", kG, "Last entry applied to the state machine.",
       [](const Node& n) { return double(n.applied()); }},
      {"dragonboat_raft_leader_changes_total", kC, "Leader (or term) changes seen by the replica.",
       counter(&NodeCounters::leader_changes)},
      {"dragonboat_proposals_total", kC, "Proposals accepted by the replica.", counter(&NodeCounters::proposals)},
      {"dragonboat_proposals_dropped_total", kC, "Proposals completed as dropped (retry).",
       counter(&NodeCounters::proposals_dropped)},
      {"dragonboat_proposals_refused_busy_total", kC,
       "Proposals refused with SystemBusy at propose time: too many bytes were waiting for the disk.",
       counter(&NodeCounters::proposals_refused_busy)},
      {"dragonboat_reads_total", kC, "ReadIndex requests accepted.", counter(&NodeCounters::reads)},
      {"dragonboat_entries_applied_total", kC, "Committed entries applied.", counter(&NodeCounters::entries_applied)},
      {"dragonboat_snapshots_created_total", kC, "Snapshots taken by the replica.",
       counter(&NodeCounters::snapshots_created)},
      {"dragonboat_snapshots_recovered_total", kC, "Snapshots the state machine recovered from.",
       counter(&NodeCounters::snapshots_recovered)},
      {"dragonboat_snapshots_sent_total", kC, "Snapshots sent to lagging followers.",
       counter(&NodeCounters::snapshots_sent)},
      {"dragonboat_messages_dropped_total", kC, "Received messages dropped over max_receive_queue_size.",
       counter(&NodeCounters::messages_dropped)},
      {"dragonboat_heartbeats_answered_on_arrival_total", kC,
       "Leader heartbeats answered by the receiving thread on arrival, not after the step pass's save.",
       counter(&NodeCounters::heartbeats_answered_on_arrival)},
      {"dragonboat_heartbeats_for_busy_pass_total", kC,
       "Heartbeats a leader sent from its tick thread because its step pass was busy (a long save).",
       counter(&NodeCounters::heartbeats_for_busy_pass)},
  };
  for (const G& g : per) {
    MetricFamily f = family(g.name, g.type, g.help);
    for (const auto& n : all) {
      f.samples.push_back(MetricSample{
          "", {{"cluster_id", std::to_string(n->cluster_id())}, {"node_id", std::to_string(n->node_id())}},
          g.get(*n)});
    }
    out.push_back(std::move(f));
  }
  return m;
}

void NodeHost::write_health_metrics(std::ostream& out) const { write_prometheus_text(get_health_metrics(), out); }

}  // namespace dragonboat
