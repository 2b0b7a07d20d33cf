// engine/node_handoffs.h — what the three sides of a Node (engine/node.h)
// hand each other. Each type has one producer side and one consumer side;
// the queue holding it names the lock that guards it.
//
//   other threads --StepInbox--> step side          (Node::mu_)
//   step side     --ApplyTask--> apply side         (Node::amu_)
//   apply side    --SnapshotOp--> snapshot worker   (Node::amu_, Node::op_)
//   snapshot worker --MadeSnapshot--> step side     (in the StepInbox)
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dragonboat/config.h"
#include "raft/types.h"

namespace dragonboat::engine {

// Work handed from the step side to the apply side, in log order.
struct ApplyTask {
  raft::Snapshot recover;            // install this snapshot first (non-empty)
  std::vector<raft::Entry> entries;  // then apply these
  bool membership_changed = false;
  raft::Membership membership;       // membership after these entries
};

// A snapshot the snapshot worker saved, for the step side to record in the
// log (and compact behind).
struct MadeSnapshot {
  raft::Snapshot ss;
  uint64_t compaction_overhead = 0;
  uint64_t request_key = 0;  // the request it completes; 0: automatic
};

// Everything other threads queue for the step side. The step side swaps the
// whole inbox out once per pass (Node::step_inputs), so a new kind of input
// is one field here and one case there.
struct StepInbox {
  uint64_t ticks = 0;
  std::vector<raft::Message> messages;
  // For each message, `ticks` when it arrived: the step side interleaves
  // ticks and messages as they happened, so a pass that started late (the
  // worker was busy with a long save) does not count the time the leader's
  // messages waited here as silence (a false election timeout).
  std::vector<uint64_t> message_ticks;
  uint64_t message_bytes = 0;  // bounded by NodeOptions::max_receive_queue_bytes
  std::vector<raft::Entry> proposals;
  uint64_t proposal_bytes = 0;  // bounded by NodeOptions::max_queued_proposal_bytes
  std::vector<uint64_t> reads;                              // read keys
  std::vector<uint64_t> unreachable;                        // node IDs
  std::vector<std::pair<uint64_t, bool>> snapshot_status;  // (node, failed)
  std::vector<MadeSnapshot> made_snapshots;
  uint64_t transfer_target = 0;  // a queued leader transfer

  // Empties the inbox but keeps the capacity of its busy vectors (up to a
  // bound): the step side hands a cleared inbox back to the producers, so
  // their push_backs do not grow a new vector, reallocating it on the way,
  // on every pass (with glibc, a buffer allocated by a client thread and
  // freed by the step worker every pass costs more than the Raft work).
  void clear() {
    constexpr size_t kKeepBytes = 16 << 10;  // per vector; a burst's larger buffers are freed
    auto reset = [](auto& v) {
      if (v.capacity() * sizeof(v[0]) > kKeepBytes) {
        std::decay_t<decltype(v)>().swap(v);
      } else {
        v.clear();
      }
    };
    ticks = 0;
    reset(messages);
    reset(message_ticks);
    message_bytes = 0;
    reset(proposals);
    proposal_bytes = 0;
    reads.clear();
    unreachable.clear();
    snapshot_status.clear();
    made_snapshots.clear();
    transfer_target = 0;
  }
};

enum class SnapshotOpKind {
  kSave,     // save a snapshot of this replica's state (automatic or requested)
  kRecover,  // install a snapshot the leader sent (§7)
  kStream,   // make a full snapshot for a follower (on-disk state machines)
};

// One snapshot operation, captured on the apply side between updates and
// carried out by the snapshot worker. At most one per node at a time.
struct SnapshotOp {
  SnapshotOpKind kind = SnapshotOpKind::kSave;
  // The node's applies wait for the operation: recovery, and saving a state
  // machine whose snapshot cannot overlap updates (regular kind).
  bool blocks_apply = true;
  raft::Snapshot snapshot;  // kRecover: the snapshot to install
  // kSave, kStream: the state captured at (index, term).
  uint64_t index = 0, term = 0;
  raft::Membership membership;
  std::string ctx, session_table;
  // An on-disk state machine's local snapshots carry no state (it keeps its
  // own); a follower that needs one gets a full snapshot (kStream).
  bool metadata_only = false;
  uint64_t synced_index = 0;  // the last entry the state machine had received at capture
  uint64_t request_key = 0;   // kSave: the request it serves; 0: automatic
  SnapshotOption request;     // kSave with a request_key: its option
  raft::Message stream_message;  // kStream: the InstallSnapshot to send with it

  bool requested() const { return request_key != 0; }
  bool exported() const { return requested() && request.exported; }
};

}  // namespace dragonboat::engine
