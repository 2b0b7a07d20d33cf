#include "raft/config.h"

namespace dragonboat::raft {

Status Config::validate() const {
  auto bad = [](const char* what) { return Status(ErrorCode::kInvalidClusterSettings, what); };
  if (node_id == 0) return bad("node_id must be > 0");
  if (heartbeat_rtt == 0) return bad("heartbeat_rtt must be > 0");
  if (election_rtt <= 2 * heartbeat_rtt) return bad("election_rtt must be > 2 * heartbeat_rtt");
  if (max_inflight == 0) return bad("max_inflight must be > 0");
  if (max_replicate_bytes == 0) return bad("max_replicate_bytes must be > 0");
  if (max_apply_bytes == 0) return bad("max_apply_bytes must be > 0");
  if (quiesce_ticks != 0 && quiesce_ticks < 2 * election_rtt) {
    return bad("quiesce_ticks must be 0 or >= 2 * election_rtt");
  }
  if (is_observer && is_witness) return bad("is_observer and is_witness are exclusive");
  return Status::OK();
}

}  // namespace dragonboat::raft
