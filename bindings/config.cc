// bindings/config.cc — see config.h.
#include "config.h"

#include <string>

namespace dragonboat::bindings {

namespace py = pybind11;

NodeHostConfig host_config(const py::object& c) {
  NodeHostConfig o;
  o.deployment_id = c.attr("deployment_id").cast<uint64_t>();
  o.wal_dir = c.attr("wal_dir").cast<std::string>();
  o.node_host_dir = c.attr("node_host_dir").cast<std::string>();
  o.rtt_millisecond = c.attr("rtt_millisecond").cast<uint64_t>();
  o.raft_address = c.attr("raft_address").cast<std::string>();
  o.listen_address = c.attr("listen_address").cast<std::string>();
  o.mutual_tls = c.attr("mutual_tls").cast<bool>();
  o.ca_file = c.attr("ca_file").cast<std::string>();
  o.cert_file = c.attr("cert_file").cast<std::string>();
  o.key_file = c.attr("key_file").cast<std::string>();
  o.max_send_queue_size = c.attr("max_send_queue_size").cast<uint64_t>();
  o.max_receive_queue_size = c.attr("max_receive_queue_size").cast<uint64_t>();
  o.max_proposal_payload_size = c.attr("max_proposal_payload_size").cast<uint64_t>();
  o.notify_commit = c.attr("notify_commit").cast<bool>();
  o.logdb_shards = c.attr("logdb_shards").cast<uint64_t>();
  o.apply_workers = c.attr("apply_workers").cast<uint64_t>();
  o.max_snapshot_send_bytes_per_second = c.attr("max_snapshot_send_bytes_per_second").cast<uint64_t>();
  o.max_snapshot_recv_bytes_per_second = c.attr("max_snapshot_recv_bytes_per_second").cast<uint64_t>();
  return o;
}

Config raft_config(const py::object& c) {
  Config o;
  o.node_id = c.attr("node_id").cast<uint64_t>();
  o.cluster_id = c.attr("cluster_id").cast<uint64_t>();
  o.check_quorum = c.attr("check_quorum").cast<bool>();
  o.election_rtt = c.attr("election_rtt").cast<uint64_t>();
  o.heartbeat_rtt = c.attr("heartbeat_rtt").cast<uint64_t>();
  o.snapshot_entries = c.attr("snapshot_entries").cast<uint64_t>();
  o.compaction_overhead = c.attr("compaction_overhead").cast<uint64_t>();
  o.ordered_config_change = c.attr("ordered_config_change").cast<bool>();
  o.max_in_mem_log_size = c.attr("max_in_mem_log_size").cast<uint64_t>();
  o.disable_auto_compactions = c.attr("disable_auto_compactions").cast<bool>();
  o.is_observer = c.attr("is_observer").cast<bool>();
  o.is_witness = c.attr("is_witness").cast<bool>();
  o.quiesce = c.attr("quiesce").cast<bool>();
  return o;
}

}  // namespace dragonboat::bindings
