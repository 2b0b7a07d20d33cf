// raft/types.h — the values the Raft core consumes and produces: log entries,
// messages, hard state, snapshot metadata, membership and the Update handed to
// the caller. Plain value types; no behaviour beyond size accounting.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dragonboat/raftpb.h"

namespace dragonboat::raft {

// The values that cross the plug-in boundary (log entries, hard state,
// snapshot metadata, membership, messages) are public: dragonboat/raftpb.h.
using raftpb::Entry;
using raftpb::Payload;
using raftpb::EntryType;
using raftpb::HardState;
using raftpb::kMaxEntryType;
using raftpb::kNoNode;
using raftpb::Membership;
using raftpb::Message;
using raftpb::MessageType;
using raftpb::Snapshot;

constexpr uint64_t kNoLimit = UINT64_MAX;



uint64_t entries_size_bytes(const std::vector<Entry>& entries);

enum class ConfigChangeType : uint8_t {
  kAddNode = 0,
  kRemoveNode = 1,
  kAddObserver = 2,
  kAddWitness = 3,
};

// A membership change request, carried in a kConfigChange entry.
struct ConfigChange {
  // With ordered config change, the Membership::config_change_id the
  // requester last saw; a mismatch at apply time rejects the change.
  uint64_t config_change_id = 0;
  ConfigChangeType type = ConfigChangeType::kAddNode;
  uint64_t node_id = kNoNode;
  std::string address;
  // True for the entries written when a group is bootstrapped.
  bool initialize = false;
};

std::string encode_config_change(const ConfigChange& cc);
// Returns false when `data` is not a valid encoding.
bool decode_config_change(std::string_view data, ConfigChange* cc);


std::string encode_membership(const Membership& m);
bool decode_membership(const std::string& data, Membership* m);




const char* message_type_name(MessageType t);
bool is_local_message(MessageType t);


// A read-index request identity (the engine batches client reads under one).
struct ReadCtx {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const ReadCtx& o) const { return low == o.low && high == o.high; }
  bool operator<(const ReadCtx& o) const {
    return low < o.low || (low == o.low && high < o.high);
  }
};

// A confirmed read: once the local state machine has applied `index`, a read
// of it is linearizable (thesis §6.4).
struct ReadyToRead {
  uint64_t index = 0;
  ReadCtx ctx;
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader, kObserver, kWitness };
const char* role_name(Role r);

// Leadership as this node knows it; reported in an Update when it changes.
struct LeaderInfo {
  uint64_t leader_id = kNoNode;
  uint64_t term = 0;
  bool operator==(const LeaderInfo& o) const { return leader_id == o.leader_id && term == o.term; }
  bool operator!=(const LeaderInfo& o) const { return !(*this == o); }
};

// Everything the caller must do after stepping the core. Ordering contract:
//  1. Messages for which `can_send_before_persist()` holds (the leader's
//     Replicate messages) may be sent at once (thesis §10.2.1).
//  2. Persist `snapshot` (if not empty), `entries_to_save` and `state`
//     atomically, durably when `must_sync`.
//  3. Send the remaining messages; apply `committed_entries` in order
//     (config changes via Peer::apply_config_change); serve `ready_to_reads`
//     once applied >= their index; fail `dropped_*` requests.
//  4. Call Peer::commit_update(update).
struct Update {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  HardState state;          // empty() when unchanged
  std::vector<Entry> entries_to_save;
  Snapshot snapshot;        // to persist and recover from; empty() when none
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;
  std::vector<ReadyToRead> ready_to_reads;
  std::vector<uint64_t> dropped_entries;   // proposal keys that were dropped
  std::vector<ReadCtx> dropped_read_indexes;
  bool leader_changed = false;
  LeaderInfo leader;
  // Whether step 2 needs a sync (fsync) before steps 3-4: new entries, a
  // snapshot, or a changed term or vote (the promises of §5.2/§5.3). When
  // only the commit index moved it does not: a lost commit index is learned
  // again from the leader, and every committed entry is already durable on a
  // quorum (thesis §3.8; etcd/raft's MustSync). Skipping that fsync takes one
  // disk round off every write's critical path on the leader. Without it,
  // steps 3-4 may also come BEFORE step 2: nothing written is a promise.
  bool must_sync = false;

  bool has_persistent_state() const {
    return !state.empty() || !entries_to_save.empty() || !snapshot.empty();
  }
};

bool can_send_before_persist(const Message& m);

}  // namespace dragonboat::raft
