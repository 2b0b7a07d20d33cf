// dragonboat/raftpb.h — the values the Raft protocol is made of (the
// reference's raftpb package): log entries, the hard state, snapshot
// metadata, membership and messages. They cross the plug-in boundary: a
// LogDB stores them and a transport carries them (dragonboat/raftio.h). Plain
// value types with no behaviour beyond size accounting; the Raft core uses
// them as they are (cpp/src/raft/types.h).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dragonboat/payload.h"

namespace dragonboat::raftpb {

// Node ID 0 means "none" everywhere (no leader, no vote).
inline constexpr uint64_t kNoNode = 0;

enum class EntryType : uint8_t {
  // A user command. An Application entry with an empty cmd is a no-op (the
  // entry a new leader appends to commit its term, Raft §5.4.2 / §8).
  kApplication = 0,
  // A membership change; cmd holds the engine's encoding of it.
  kConfigChange = 1,
  // What a witness stores instead of an Application entry: index and term
  // only (the command is stripped by the leader), so log matching still holds.
  kMetadata = 2,
  // A user command compressed by the proposing node
  // (Config::entry_compression_type); cmd holds the encoded payload
  // (docs/storage.md, "Entry types and compressed commands"), decoded just
  // before the command is applied. To the protocol it is an Application
  // entry like any other.
  kEncodedApplication = 3,
};

// The largest EntryType value (decoders reject anything above it).
inline constexpr uint8_t kMaxEntryType = static_cast<uint8_t>(EntryType::kEncodedApplication);

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kApplication;
  // Proposal key, unique per proposing node, used to complete the request.
  uint64_t key = 0;
  // Client session fields (thesis §6.3), interpreted by the rsm layer.
  uint64_t client_id = 0;
  uint64_t series_id = 0;
  uint64_t responded_to = 0;
  // The command's bytes, shared by every copy of the entry (payload.h).
  Payload cmd;

  // Bytes this entry is accounted as (rate limiting, message batching).
  uint64_t size_bytes() const { return 48 + cmd.size(); }
  bool is_noop() const { return type == EntryType::kApplication && cmd.empty(); }
};

// Who is in the group. Voters are `addresses`; witnesses also vote; observers
// never vote. `removed` only grows: a removed node ID may never return.
struct Membership {
  uint64_t config_change_id = 0;  // index of the last applied config change
  std::map<uint64_t, std::string> addresses;  // full voting members
  std::map<uint64_t, std::string> observers;  // non-voting, receive the log
  std::map<uint64_t, std::string> witnesses;  // voting, metadata-only log
  std::set<uint64_t> removed;

  bool is_voter(uint64_t id) const { return addresses.count(id) != 0; }
  bool is_observer(uint64_t id) const { return observers.count(id) != 0; }
  bool is_witness(uint64_t id) const { return witnesses.count(id) != 0; }
  bool is_member(uint64_t id) const { return is_voter(id) || is_observer(id) || is_witness(id); }
  bool operator==(const Membership& o) const {
    return config_change_id == o.config_change_id && addresses == o.addresses &&
           observers == o.observers && witnesses == o.witnesses && removed == o.removed;
  }
};

// The state Raft must persist before it responds (§5.1 Figure 2): current
// term, vote, and the commit index (persisted too so restarts apply less).
struct HardState {
  uint64_t term = 0;
  uint64_t vote = kNoNode;
  uint64_t commit = 0;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
  bool operator==(const HardState& o) const {
    return term == o.term && vote == o.vote && commit == o.commit;
  }
  bool operator!=(const HardState& o) const { return !(*this == o); }
};

// Snapshot metadata. The snapshot data itself is owned by the caller: the core
// only carries `data` opaquely (simulation, tests) or a file path (engine).
struct Snapshot {
  uint64_t index = 0;
  uint64_t term = 0;
  Membership membership;
  std::string filepath;
  uint64_t file_size = 0;
  std::string data;
  // A witness snapshot carries membership only.
  bool witness = false;
  bool empty() const { return index == 0; }
};

// Local messages never leave the node; the rest travel between hosts.
enum class MessageType : uint8_t {
  // Local messages (never sent over the network).
  kElection,        // election timeout fired
  kLeaderHeartbeat, // heartbeat timeout fired on the leader
  kCheckQuorum,     // check-quorum interval elapsed on the leader
  kPropose,         // new entries (may be forwarded to the leader)
  kSnapshotStatus,  // transport feedback on a sent snapshot (reject = failed)
  kUnreachable,     // transport feedback: the remote is unreachable
  kLeaderTransfer,  // request to transfer leadership to `hint`
  // Network messages.
  kReplicate,
  kReplicateResp,
  kRequestVote,
  kRequestVoteResp,
  kRequestPreVote,
  kRequestPreVoteResp,
  kHeartbeat,
  kHeartbeatResp,
  kInstallSnapshot,
  kReadIndex,       // from a client (local) or forwarded by a follower
  kReadIndexResp,
  kTimeoutNow,      // leader transfer: campaign now
  kRateLimit,       // a follower reports its in-memory log size in `hint`
  kQuiesce,         // the leader tells followers the group went idle
  kNoOp,            // carries only a term (lets a stale leader step down)
};

struct Message {
  MessageType type = MessageType::kNoOp;
  uint64_t to = kNoNode;
  uint64_t from = kNoNode;
  uint64_t cluster_id = 0;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t log_index = 0;
  uint64_t commit = 0;
  bool reject = false;
  // Meaning depends on type: read-index context (low), rejection hint index,
  // transfer target, rate-limit size, vote-for-transfer flag.
  uint64_t hint = 0;
  uint64_t hint_high = 0;
  std::vector<Entry> entries;
  Snapshot snapshot;
  // Local, never on the wire: the engine answered this heartbeat when it
  // arrived (a step pass was busy saving), so the core must not answer again.
  bool answered = false;
};

}  // namespace dragonboat::raftpb
