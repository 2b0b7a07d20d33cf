#include "dragonboat/config.h"

#include <utility>

#include "common/address.h"

namespace dragonboat {
namespace {

Status bad(const char* field, const std::string& why) {
  return Status(ErrorCode::kInvalidClusterSettings, std::string(field) + ": " + why);
}

}  // namespace

Status Config::validate() const {
  if (node_id == 0) return bad("node_id", "must be non-zero");
  if (heartbeat_rtt == 0) return bad("heartbeat_rtt", "must be non-zero");
  if (election_rtt <= 2 * heartbeat_rtt) {
    return bad("election_rtt", "must be greater than 2 * heartbeat_rtt (10 * heartbeat_rtt is recommended)");
  }
  if (is_observer && is_witness) return bad("is_witness", "a node cannot be both an observer and a witness");
  if (is_witness && snapshot_entries > 0) return bad("snapshot_entries", "a witness takes no snapshots; set 0");
  if (max_apply_backlog == 0) return bad("max_apply_backlog", "must be positive");
  for (auto [field, type] : {std::pair{"snapshot_compression_type", snapshot_compression_type},
                              std::pair{"entry_compression_type", entry_compression_type}}) {
    if (static_cast<uint8_t>(type) > static_cast<uint8_t>(CompressionType::kLZ4)) {
      return bad(field, "must be kNoCompression, kSnappy or kLZ4");
    }
  }
  if (max_in_mem_log_size > 0 && max_in_mem_log_size < (1u << 10)) {
    return bad("max_in_mem_log_size", "must be 0 (unlimited) or at least 1 KiB");
  }
  return Status::OK();
}

Status NodeHostConfig::validate() const {
  if (node_host_dir.empty()) return bad("node_host_dir", "required");
  // Deadlines are ticks away and clocks count nanoseconds in 64 bits: a tick
  // of at most a day keeps every deadline representable.
  if (rtt_millisecond == 0 || rtt_millisecond > kMaxRttMillisecond) {
    return bad("rtt_millisecond", "must be in [1, 86400000] (one day)");
  }
  std::string host;
  uint16_t port = 0;
  if (raft_address.empty() || !split_address(raft_address, &host, &port) || port == 0) {
    return Status(ErrorCode::kInvalidAddress, "raft_address: \"" + raft_address + "\" is not host:port");
  }
  if (!listen_address.empty() && !split_address(listen_address, &host, &port)) {
    return Status(ErrorCode::kInvalidAddress, "listen_address: \"" + listen_address + "\" is not host:port");
  }
  if (mutual_tls && (ca_file.empty() || cert_file.empty() || key_file.empty())) {
    return bad("mutual_tls", "needs ca_file, cert_file and key_file");
  }
  if (logdb_shards > 64) return bad("logdb_shards", "must be in [0 (automatic), 64]");
  if (apply_workers == 0 || apply_workers > 64) return bad("apply_workers", "must be in [1, 64]");
  if (snapshot_workers == 0 || snapshot_workers > 64) return bad("snapshot_workers", "must be in [1, 64]");
  if (max_proposal_payload_size == 0) return bad("max_proposal_payload_size", "must be non-zero");
  if (max_pending_per_node == 0) return bad("max_pending_per_node", "must be non-zero");
  if (busy_poll_microseconds > 10'000 || busy_poll_microseconds * 2 >= rtt_millisecond * 1000) {
    return bad("busy_poll_microseconds", "must be at most 10000 and less than half of rtt_millisecond");
  }
  return Status::OK();
}


}  // namespace dragonboat
