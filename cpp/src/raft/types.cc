#include "raft/types.h"

#include "common/bytes.h"
#include "common/enum_util.h"

namespace dragonboat::raft {
namespace {

// Minimal little-endian fixed-width encoding for the small records the core
// itself must serialise (config changes in entries, membership in snapshots):
// every integer and count a u64, every string a u64 length and its bytes
// (common/bytes.h). Versioned by a leading byte so a later format can be
// recognised.
constexpr uint8_t kFormatV1 = 1;

using bytes::append_u64;
using bytes::append_u64_prefixed;
using bytes::append_u8;
using bytes::Reader;

void put_map(std::string* out, const std::map<uint64_t, std::string>& m) {
  append_u64(out, m.size());
  for (const auto& [id, addr] : m) {
    append_u64(out, id);
    append_u64_prefixed(out, addr);
  }
}
bool get_map(Reader* r, std::map<uint64_t, std::string>* m) {
  uint64_t n = 0;
  if (!r->u64(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    std::string addr;
    if (!r->u64(&id) || !r->u64_prefixed(&addr)) return false;
    (*m)[id] = std::move(addr);
  }
  return true;
}

}  // namespace

uint64_t entries_size_bytes(const std::vector<Entry>& entries) {
  uint64_t n = 0;
  for (const auto& e : entries) n += e.size_bytes();
  return n;
}

std::string encode_config_change(const ConfigChange& cc) {
  std::string out;
  append_u8(&out, kFormatV1);
  append_u64(&out, cc.config_change_id);
  append_u8(&out, static_cast<uint8_t>(cc.type));
  append_u64(&out, cc.node_id);
  append_u64_prefixed(&out, cc.address);
  append_u8(&out, cc.initialize ? 1 : 0);
  return out;
}

bool decode_config_change(std::string_view data, ConfigChange* cc) {
  Reader r(data);
  uint8_t ver = 0, type = 0, init = 0;
  if (!r.u8(&ver) || ver != kFormatV1) return false;
  if (!r.u64(&cc->config_change_id) || !r.u8(&type) || type > 3) return false;
  cc->type = static_cast<ConfigChangeType>(type);
  if (!r.u64(&cc->node_id) || !r.u64_prefixed(&cc->address) || !r.u8(&init) || init > 1) return false;
  cc->initialize = init == 1;
  return r.done();
}

std::string encode_membership(const Membership& m) {
  std::string out;
  append_u8(&out, kFormatV1);
  append_u64(&out, m.config_change_id);
  put_map(&out, m.addresses);
  put_map(&out, m.observers);
  put_map(&out, m.witnesses);
  append_u64(&out, m.removed.size());
  for (uint64_t id : m.removed) append_u64(&out, id);
  return out;
}

bool decode_membership(const std::string& data, Membership* m) {
  Reader r(data);
  uint8_t ver = 0;
  *m = Membership{};
  if (!r.u8(&ver) || ver != kFormatV1) return false;
  if (!r.u64(&m->config_change_id)) return false;
  if (!get_map(&r, &m->addresses) || !get_map(&r, &m->observers) || !get_map(&r, &m->witnesses))
    return false;
  uint64_t n = 0;
  if (!r.u64(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!r.u64(&id)) return false;
    m->removed.insert(id);
  }
  return r.done();
}

const char* message_type_name(MessageType t) {
  // In MessageType's order (the wire pins the values: wire_internal.h).
  static const char* const kNames[] = {
      "Election",       "LeaderHeartbeat", "CheckQuorum",    "Propose",         "SnapshotStatus",
      "Unreachable",    "LeaderTransfer",  "Replicate",      "ReplicateResp",   "RequestVote",
      "RequestVoteResp", "RequestPreVote", "RequestPreVoteResp", "Heartbeat",     "HeartbeatResp",
      "InstallSnapshot", "ReadIndex",      "ReadIndexResp",  "TimeoutNow",      "RateLimit",
      "Quiesce",        "NoOp"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(MessageType::kNoOp) + 1,
                "one name per MessageType");
  return enum_name(t, kNames, MessageType::kElection, "Unknown");
}

bool is_local_message(MessageType t) {
  using M = MessageType;
  return one_of(t, {M::kElection, M::kLeaderHeartbeat, M::kCheckQuorum, M::kSnapshotStatus, M::kUnreachable});
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kFollower: return "Follower";
    case Role::kPreCandidate: return "PreCandidate";
    case Role::kCandidate: return "Candidate";
    case Role::kLeader: return "Leader";
    case Role::kObserver: return "Observer";
    case Role::kWitness: return "Witness";
  }
  return "Unknown";
}

bool can_send_before_persist(const Message& m) {
  // Thesis §10.2.1: the leader may write to its disk in parallel with
  // replicating to followers; it counts itself in the commit quorum only
  // after its own persist (see Peer::commit_update). Responses and votes
  // must never leave before the state they promise is durable.
  return m.type == MessageType::kReplicate;
}

}  // namespace dragonboat::raft
