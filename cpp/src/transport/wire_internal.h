// transport/wire_internal.h — what the two halves of the wire codec share
// (wire_encode.cc writes, wire_decode.cc reads; both documented in wire.h and
// docs/wire.md): the flag bits of messages, snapshots and chunks, the
// static_asserts pinning the raft enum values the wire carries, and
// has_snapshot(), which decides whether a message carries a snapshot section.
// Not part of the transport's interface.
#pragma once

#include <cstdint>

#include "raft/types.h"

namespace dragonboat::transport::detail {

// The raft types both halves name unqualified; each .cc imports this
// namespace whole (`using namespace detail;`) for them, the flag bits and
// has_snapshot().
using raft::Entry;
using raft::Message;
using raft::Snapshot;

// Flag bits of a message, of a message's snapshot section and of a chunk.
constexpr uint8_t kMsgReject = 0x01;
constexpr uint8_t kMsgHasSnapshot = 0x02;
constexpr uint8_t kSnapWitness = 0x01;
constexpr uint8_t kChunkWitness = 0x01;
constexpr uint8_t kChunkHasFileInfo = 0x02;

// The wire carries the raft enums' numeric values (docs/wire.md lists them).
// Reordering an enum would silently change the format: these pin each value.
template <typename E>
constexpr int num(E e) {
  return static_cast<int>(e);
}
using MT = raft::MessageType;
static_assert(num(MT::kElection) == 0 && num(MT::kLeaderHeartbeat) == 1 &&
                  num(MT::kCheckQuorum) == 2 && num(MT::kPropose) == 3 &&
                  num(MT::kSnapshotStatus) == 4 && num(MT::kUnreachable) == 5 &&
                  num(MT::kLeaderTransfer) == 6 && num(MT::kReplicate) == 7 &&
                  num(MT::kReplicateResp) == 8 && num(MT::kRequestVote) == 9 &&
                  num(MT::kRequestVoteResp) == 10 && num(MT::kRequestPreVote) == 11 &&
                  num(MT::kRequestPreVoteResp) == 12 && num(MT::kHeartbeat) == 13 &&
                  num(MT::kHeartbeatResp) == 14 && num(MT::kInstallSnapshot) == 15 &&
                  num(MT::kReadIndex) == 16 && num(MT::kReadIndexResp) == 17 &&
                  num(MT::kTimeoutNow) == 18 && num(MT::kRateLimit) == 19 &&
                  num(MT::kQuiesce) == 20 && num(MT::kNoOp) == 21,
              "raft::MessageType values changed: bump kBatchFormatVersion and map them");
static_assert(num(raft::EntryType::kApplication) == 0 && num(raft::EntryType::kConfigChange) == 1 &&
                  num(raft::EntryType::kMetadata) == 2 && num(raft::EntryType::kEncodedApplication) == 3,
              "raft::EntryType values changed: bump kBatchFormatVersion and map them");

inline bool membership_empty(const raft::Membership& m) {
  return m.config_change_id == 0 && m.addresses.empty() && m.observers.empty() &&
         m.witnesses.empty() && m.removed.empty();
}

// A message carries a snapshot section when any snapshot field differs from
// its default, so every Snapshot value round-trips exactly.
inline bool has_snapshot(const raft::Snapshot& s) {
  return s.index != 0 || s.term != 0 || s.file_size != 0 || s.witness || !s.filepath.empty() ||
         !s.data.empty() || !membership_empty(s.membership);
}

}  // namespace dragonboat::transport::detail
