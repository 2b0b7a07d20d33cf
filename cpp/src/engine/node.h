// engine/node.h — one replica of one Raft group on a NodeHost: the Raft
// peer, its log view over the host's LogDB, the state machine with sessions,
// and the requests waiting for it.
//
// Three sides, three threads (docs/architecture.md, "Engine"):
//  - clients and the transport queue work from any thread (propose,
//    read_index, deliver, tick, feedback) and call wake_step;
//  - the group's STEP worker runs step_inputs / prepare / finish /
//    after_pass: Replicate messages are sent before the local persist
//    (thesis §10.2.1), the worker persists many nodes in one LogDB save,
//    then the other messages go out and committed entries are queued for
//    the apply side. Config changes are applied to the peer here, at hand-
//    out time (Peer::apply_config_change's contract);
//  - the group's APPLY worker runs apply_pending(): batches of committed
//    entries into the state machine, snapshot recovery and creation, read
//    completions. It never touches the peer or the log; what it produces
//    for them (a new snapshot record) is queued back to the step side.
// run_once() does all three in the caller's thread (tests).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "common/trace_point.h"
#include "dragonboat/config.h"
#include "dragonboat/request_state.h"
#include "dragonboat/statemachine.h"
#include "engine/events.h"
#include "engine/metrics.h"
#include "engine/node_handoffs.h"
#include "engine/pending_requests.h"
#include "logdb/node_log.h"
#include "raft/peer.h"
#include "rsm/applier.h"
#include "rsm/managed_sm.h"
#include "snapshot/format.h"
#include "transport/transport.h"

namespace dragonboat::engine {

struct NodeOptions {
  // The group's settings as the user gave them: the engine reads
  // snapshot_entries, compaction_overhead, disable_auto_compactions and
  // max_apply_backlog (committed entries queued for the apply side beyond
  // which the step side holds further ones back) from here.
  Config config;
  raft::Config raft;                            // the core's view of `config` (to_raft_config)
  std::map<uint64_t, std::string> initial_members;
  bool join = false;
  // From the NodeHostConfig:
  size_t max_pending = 4096;                    // proposals and reads waiting
  uint64_t max_entry_bytes = 8 << 20;           // larger proposals: kPayloadTooBig
  std::string snapshot_root;                    // this node's snapshot directory
  // What an on-disk state machine's open() polls (the NodeHost stopping).
  const StopSignal* stop = nullptr;
  // Mark proposals committed when their entry commits (RequestState::committed).
  bool notify_commit = false;
  // Bytes of received messages queued for the node before further ones
  // are dropped (Raft retransmits); 0: unbounded.
  uint64_t max_receive_queue_bytes = 0;
  // Bytes of proposals waiting for the step side beyond which propose()
  // refuses more with kSystemBusy (backpressure at the caller, instead of
  // accepting work the disk cannot absorb in time). One proposal is always
  // admitted into an empty queue.
  uint64_t max_queued_proposal_bytes = 8 << 20;
};

// A client's proposal: the command plus its session fields.
struct Proposal {
  raft::Payload cmd;  // built once from the caller's bytes; the entry shares it
  uint64_t client_id = 0;
  uint64_t series_id = 0;
  uint64_t responded_to = 0;
};

class Node {
 public:
  // Opens (bootstrapping or restarting from `db`) the replica; a restarting
  // replica recovers its state machine from the latest snapshot (or, for an
  // on-disk state machine, from its own applied index). `db`, `transport`,
  // `registry` (may be null) and `sm` must outlive the node.
  static Status open(const NodeOptions& options, logdb::LogDB* db, transport::Transport* transport,
                     transport::NodeRegistry* registry, rsm::ManagedSM* sm, std::unique_ptr<Node>* out);

  // Wake-up hooks, set before the node is used by workers.
  std::function<void()> wake_step = [] {};
  std::function<void()> wake_apply = [] {};
  std::function<void()> wake_snapshot = [] {};
  // Where events go (NodeHost); null: nowhere. Set before use.
  Events* events = nullptr;
  NodeCounters counters;

  // ---- any thread -------------------------------------------------------
  // Queues a proposal; completes when applied on this replica.
  Status propose(Proposal p, uint64_t timeout_ticks, RequestStatePtr* rs);
  // The same with the no-op session.
  Status propose(std::string_view cmd, uint64_t timeout_ticks, RequestStatePtr* rs) {
    Proposal p;
    p.cmd = cmd;
    return propose(std::move(p), timeout_ticks, rs);
  }
  // Queues a membership change; completes when the change entry is
  // applied (rejected when the group refuses it: stale config change ID,
  // removed node, ...). One at a time per replica: kPendingConfigChangeExist
  // while another is waiting.
  Status propose_config_change(const raft::ConfigChange& cc, uint64_t timeout_ticks, RequestStatePtr* rs);
  // Queues a leader transfer to `target` (kInvalidTarget when it is not a
  // voting member as this replica knows; kPendingLeaderTransferExist while
  // another transfer is queued or under way).
  Status request_leader_transfer(uint64_t target);
  // Reclaims the LogDB space of entries the log already dropped (RocksDB
  // compaction of that range), on the snapshot worker. kRejected when
  // nothing was dropped since the last such request.
  Status request_compaction(RequestStatePtr* rs);
  // Queues a linearizable read barrier; completes once the read index is
  // applied locally (then lookup() is linearizable).
  Status read_index(uint64_t timeout_ticks, RequestStatePtr* rs);
  // Queues a snapshot request; completes with the snapshot index.
  Status request_snapshot(const SnapshotOption& r, uint64_t timeout_ticks, RequestStatePtr* rs);
  // Queues a received message for the step side. A heartbeat from the
  // leader this replica follows is answered at once, here (node_heartbeats.cc).
  void deliver(raft::Message m);
  // One logical tick. False when the node needs no step for it: its group
  // is quiesced (the core keeps no timers then) and no request waits on a
  // deadline — so idle groups cost their step worker nothing. A leader whose
  // step pass has not taken its ticks for half an election timeout (a long
  // save) heartbeats its peers from here (node_heartbeats.cc).
  bool tick();

  // ---- the tick thread's active set ----------------------------------------
  // The tick thread visits only active replicas, so thousands of quiesced
  // idle groups cost it nothing per tick. It takes an idle replica out
  // (sleep_if_idle). It is put back (wake_tick) by every request with a
  // deadline as soon as it is registered, and by the step side's after_pass
  // once the replica is not idle (messages, feedback and the core's own
  // quiesce exit all go through a pass).
  // True when the replica is now dormant and must leave the active set; if
  // it became busy meanwhile, either it stays active (false) or the step
  // side already re-queued it through wake_tick (true), never both.
  bool sleep_if_idle();
  // Set by the NodeHost before use: re-queues the replica for ticks.
  std::function<void()> wake_tick = [] {};
  // Puts a dormant replica back into the active set (exactly once per
  // sleep). Called by every request that carries a deadline, right after it
  // is registered, and by after_pass once the replica is not idle.
  bool in_active_set = false;  // the tick thread's own bookkeeping
  void report_unreachable(uint64_t node_id);
  void report_snapshot_status(uint64_t node_id, bool failed);
  // Reads the state machine (its kind decides what it may overlap with).
  Status lookup(std::string_view query, std::string* answer);
  // The state machine's hash (kInvalidOperation when it has none).
  Status hash(uint64_t* out);
  // OK when lookup() may be called: kClusterClosed once stopped (or failed),
  // kInvalidOperation on a witness (no state machine).
  Status check_readable() const;

  // ---- step worker --------------------------------------------------------
  //  1. step_inputs(): ticks, messages, proposals, reads, feedback and new
  //     snapshot records into the peer and the log;
  //  2. prepare(): takes the next Update, sends its Replicate messages at
  //     once (§10.2.1) and fills *nu with what must be persisted; false when
  //     there is no update;
  //  3. the worker saves every node's *nu in one LogDB::save();
  //  4. finish(): the rest of the Update (other messages, config changes,
  //     queue committed entries for the apply side, reads).
  //     `budget` (when set, shared by the nodes of a pass): entry bytes of
  //     proposals and received Replicates this pass may still take; the
  //     rest waits in the inbox for the next pass (the node is woken again),
  //     so one pass's save, and the silence of everything behind it
  //     (heartbeats, acknowledgements), stays short. A node always takes at
  //     least one of each, so every node progresses.
  Status step_inputs(uint64_t* budget = nullptr);
  bool prepare(raft::Update* u, logdb::NodeUpdate* nu);
  // Takes *nu's entries (into the log's cache).
  Status finish(raft::Update* u, logdb::NodeUpdate* nu, bool saved);
  // Refreshes the leader info other threads read; wakes the step side
  // again when step_inputs left input for the next pass.
  void after_pass();
  // The worker's reading of LogDB::busy for this node's shard (once a pass).
  void set_storage_busy(bool busy) { storage_busy_ = busy; }
  // The last step_inputs left input for the next pass (its budget ran out).
  bool deferred() const { return deferred_; }

  // ---- apply worker --------------------------------------------------------
  // Applies everything queued. kFatal when the state machine failed (the
  // node is then stopped). Snapshot work is handed to the snapshot worker
  // (at most one operation per node at a time); recovering, and saving a
  // regular state machine, pause this node's applies until it is done.
  Status apply_pending();

  // ---- snapshot worker -------------------------------------------------------
  // Runs the pending snapshot operation (save or recover), if any.
  Status run_snapshot_op();
  bool has_snapshot_op() const;

  // Tests: step, persist (one save for this node) and apply, in this thread.
  Status run_once();

  // Stops: every waiting request completes with kTerminated; later calls
  // fail with kClusterClosed. Idempotent; any thread.
  void stop();
  bool stopped() const { return stopped_.load(); }
  // The reason a node stopped by itself (storage or state machine failure).
  Status failure() const;
  void set_failure(const Status& s);

  uint64_t cluster_id() const { return opt_.raft.cluster_id; }
  uint64_t node_id() const { return opt_.raft.node_id; }
  uint64_t leader_id() const;
  uint64_t term() const;
  uint64_t commit_index() const { return commit_.load(); }
  bool is_leader() const;
  uint64_t applied() const { return applied_.load(); }
  bool quiesced() const { return quiesced_.load(); }
  // Membership as of the last applied entry.
  raft::Membership membership() const;
  StateMachineType sm_kind() const { return sm_->kind(); }
  // Keeps the state machine alive as long as this node: a reader that holds
  // the node (lookup, hash, node info) may still reach it after stop_cluster
  // closed it and dropped the host's reference (it then answers kClusterClosed).
  void keep_state_machine(std::shared_ptr<rsm::ManagedSM> sm) { sm_owner_ = std::move(sm); }

  // Worker bookkeeping (NodeHost): whether the node is queued on a worker,
  // and whether each worker has let go of it after stop().
  enum class Worker { kStep, kApply, kSnapshot };
  // Set while the node is queued on worker `w` (wake-ups coalesce on it).
  std::atomic<bool>& scheduled(Worker w) { return scheduled_[static_cast<int>(w)]; }
  void release(Worker w);
  // Blocks until all three workers let go (after stop()).
  void wait_released();

 private:
  Node(const NodeOptions& o, logdb::LogDB* db, transport::Transport* t, transport::NodeRegistry* r,
       rsm::ManagedSM* sm)
      : opt_(o), db_(db), transport_(t), registry_(r), sm_(sm), applier_(sm, &sessions_),
        pending_(o.max_pending, o.raft.cluster_id), config_changes_(1, o.raft.cluster_id),
        reads_(o.max_pending, o.raft.cluster_id), snapshot_reqs_(16, o.raft.cluster_id) {}

  // ---- any thread (node.cc) ----
  Status not_initialized_status() const {
    return Status(ErrorCode::kClusterNotInitialized,
                  "node " + std::to_string(node_id()) + " has not joined cluster " + std::to_string(cluster_id()) +
                      " yet: no membership known");
  }
  Status removed_status() const {
    return Status(ErrorCode::kNodeRemoved, "node " + std::to_string(node_id()) + " was removed from cluster " +
                                               std::to_string(cluster_id()));
  }
  // Registers a request in `table` with its deadline and, under mu_, lets
  // `queue(key)` put what the step side needs into inbox_; then wakes the
  // step side (and the tick thread: the deadline needs ticks). A proposal
  // of `proposal_bytes` is refused (kSystemBusy) when the inbox holds
  // proposals and would then exceed max_queued_proposal_bytes.
  template <typename Queue>
  Status queue_request(PendingRequests& table, uint64_t timeout_ticks, RequestStatePtr* rs, RequestTag tag,
                       uint64_t proposal_bytes, Queue&& queue);

  // ---- step side (node_step.cc) ----
  void apply_config_changes(const std::vector<raft::Entry>& committed, ApplyTask* task);
  // Puts the input step_inputs did not take (messages from `taken`, the
  // ticks after `ticked`, proposals from `proposed`) back at the front of
  // the inbox for the next pass.
  void defer(StepInbox* in, size_t taken, uint64_t ticked, size_t proposed, uint64_t proposed_bytes);
  void record_snapshot(const MadeSnapshot& made);
  // Heartbeats answered and sent outside the step pass (node_heartbeats.cc).
  // The answer to `m` when it is a heartbeat of the term and leader this
  // replica follows (sets m->answered); false otherwise.
  bool answer_on_arrival(raft::Message* m, raft::Message* answer) DB_REQUIRES(mu_);
  // A leader's heartbeats when its step side is late by half an election timeout.
  void heartbeats_for_busy_pass(std::vector<raft::Message>* out) DB_REQUIRES(mu_);
  // Publishes the followed term and leader (end of step_inputs) and, as
  // leader, the peers to heartbeat (after_pass).
  void publish_follow_state() DB_REQUIRES(mu_);
  void publish_heartbeat_peers();
  // Quiesced with no request waiting on a deadline: ticks are not needed.
  bool idle() const;
  void wake_if_dormant();

  // ---- apply side (node_apply.cc) ----
  // Captures a save operation; *out stays null when there is nothing to do
  // (the request, if any, is completed). `key` 0: automatic.
  Status capture_snapshot(const SnapshotOption* req, uint64_t key, std::unique_ptr<SnapshotOp>* out);
  Status capture_stream(raft::Message m, std::unique_ptr<SnapshotOp>* out);
  // What both captures record between updates: durable state, the state
  // machine's prepared context (unless metadata only), the session table,
  // the membership, whether applies must pause. op->metadata_only is set.
  Status capture_state(SnapshotOp* op);
  void complete_reads_up_to(uint64_t applied);

  // ---- snapshot worker (node_snapshot.cc) ----
  // The snapshot record of a saved op's file under `root`.
  raft::Snapshot saved_snapshot(const SnapshotOp& op, const std::string& root, uint64_t file_size) const;
  // Counts a snapshot sent to `to` and emits its event.
  void note_snapshot_sent(uint64_t to, uint64_t index);
  Status stream_snapshot_op(const SnapshotOp& op);
  Status save_snapshot_op(const SnapshotOp& op);
  Status recover_snapshot_op(const SnapshotOp& op);
  void compact_logdb();  // request_compaction's work
  snapshot::Compression snapshot_compression() const;  // Config::snapshot_compression_type

  // ---- fixed at open ----
  // Declared first, destroyed last: everything below may point into it.
  std::shared_ptr<rsm::ManagedSM> sm_owner_;
  NodeOptions opt_;
  logdb::LogDB* db_;
  transport::Transport* transport_;
  transport::NodeRegistry* registry_;
  rsm::ManagedSM* sm_;

  // ---- step side only (one step worker at a time) ----
  std::unique_ptr<logdb::NodeLog> log_;
  std::unique_ptr<raft::SeededRandom> random_;
  std::unique_ptr<raft::Peer> peer_;
  uint64_t read_round_ = 0;
  std::map<uint64_t, std::vector<uint64_t>> rounds_;  // read ctx -> read keys
  // The inbox the last pass took, cleared: swapped in as the next inbox_ so
  // producers fill vectors that already have room (StepInbox::clear).
  StepInbox spare_inbox_;

  // ---- apply side only (one apply or snapshot worker at a time: the
  // snapshot worker runs only while op_ is set, and a blocking op_ keeps the
  // apply side out) ----
  rsm::SessionManager sessions_;
  rsm::Applier applier_;
  uint64_t last_snapshot_index_ = 0;

  // The pending table of each request type: added to by client threads,
  // completed by whichever side finishes the request (thread-safe).
  PendingRequests pending_;         // proposals by key
  PendingRequests config_changes_;  // membership changes: one at a time (kPendingConfigChangeExist)
  PendingRequests reads_;          // reads by key
  PendingRequests snapshot_reqs_;  // snapshot requests by key
  PendingRequests compactions_{4};

  // ---- queued for the step side, and what it publishes back (mu_) ----
  mutable std::mutex mu_;
  StepInbox inbox_ DB_GUARDED_BY(mu_);
  uint64_t now_tick_ DB_GUARDED_BY(mu_) = 0;  // advanced by the step side
  uint64_t next_key_ DB_GUARDED_BY(mu_) = 0;  // random start (Node::open); 0 is never a key
  uint64_t new_key() DB_REQUIRES(mu_) {
    if (++next_key_ == 0) ++next_key_;
    return next_key_;
  }
  uint64_t leader_ DB_GUARDED_BY(mu_) = 0;
  uint64_t term_ DB_GUARDED_BY(mu_) = 0;
  bool is_leader_ DB_GUARDED_BY(mu_) = false;
  // The term and leader the core follows as of the end of the last
  // step_inputs (leader 0: none known, or this replica leads). Published
  // BEFORE the pass's save: a vote for a newer term is only sent after that
  // save, so a heartbeat answered from these never claims a term the
  // replica has already left in a vote it sent (thesis §6.4 read safety).
  uint64_t follow_term_ DB_GUARDED_BY(mu_) = 0;
  uint64_t follow_leader_ DB_GUARDED_BY(mu_) = 0;
  // As leader: the peers heartbeats go to, and inbox_.ticks when the last
  // heartbeat on the busy pass's behalf went out (0: none since the swap).
  std::vector<uint64_t> heartbeat_peers_ DB_GUARDED_BY(mu_);
  uint64_t busy_heartbeat_at_ DB_GUARDED_BY(mu_) = 0;
  // Step side: the membership heartbeat_peers_ was built from.
  uint64_t heartbeat_peers_cc_ = ~uint64_t{0};
  size_t heartbeat_peers_count_ = 0;
  Status failure_ DB_GUARDED_BY(mu_);

  // ---- published by the step side each pass, read anywhere ----
  std::atomic<bool> held_back_{false};  // committed entries held back by max_apply_backlog
  bool deferred_ = false;  // step side: step_inputs left input for the next pass
  // The core's rate limiter (max_in_mem_log_size) as of the last pass:
  // proposals are refused with kSystemBusy at once while it holds.
  std::atomic<bool> rate_limited_{false};
  // The LogDB shard stalls writes (LogDB::busy), as of the last pass.
  std::atomic<bool> storage_busy_{false};
  std::atomic<bool> quiesced_{false};  // the peer is quiesced, as of the last pass
  std::atomic<bool> transferring_{false};  // the peer is transferring leadership, as of the last pass
  // This replica applied its own removal from the group: requests get
  // kNodeRemoved (set by the step side when it applies the change).
  std::atomic<bool> removed_{false};
  // The replica knows its group's membership: a joining replica does not
  // until the leader reaches it (requests and reads get
  // kClusterNotInitialized until then, as the reference's uninitialized node).
  std::atomic<bool> initialized_{false};
  std::atomic<uint64_t> commit_{0};
  std::atomic<uint64_t> removed_to_{0};    // log entries up to here are dropped
  std::atomic<uint64_t> reclaimed_to_{0};  // LogDB space reclaimed up to here (snapshot worker)
  std::atomic<bool> auto_compaction_{false};  // a snapshot dropped entries: reclaim their space
  // Out of the tick thread's active set. Set only by the tick thread (when
  // idle), cleared by whoever sees the replica busy first (the tick thread or
  // after_pass): the exchange decides who re-activates it, exactly once.
  std::atomic<bool> dormant_{false};

  // ---- handed to the apply and snapshot sides (amu_) ----
  mutable std::mutex amu_;
  std::deque<ApplyTask> tasks_ DB_GUARDED_BY(amu_);
  std::multimap<uint64_t, uint64_t> confirmed_reads_ DB_GUARDED_BY(amu_);  // read index -> read key
  std::vector<std::pair<uint64_t, SnapshotOption>> snapshot_asks_ DB_GUARDED_BY(amu_);  // (key, option)
  std::vector<raft::Message> stream_asks_ DB_GUARDED_BY(amu_);  // InstallSnapshot to followers (on-disk kind)
  // The one snapshot operation in progress. *op_ itself belongs to the
  // snapshot worker while op_ holds it.
  std::unique_ptr<SnapshotOp> op_ DB_GUARDED_BY(amu_);
  raft::Membership applied_membership_ DB_GUARDED_BY(amu_);
  std::atomic<size_t> apply_backlog_{0};  // entries queued in tasks_
  std::atomic<uint64_t> applied_{0};

  // ---- lifetime ----
  std::atomic<bool> scheduled_[3] = {false, false, false};  // by Worker
  std::atomic<bool> stopped_{false};
  std::mutex release_mu_;
  std::condition_variable release_cv_;
  bool step_released_ DB_GUARDED_BY(release_mu_) = false;
  bool apply_released_ DB_GUARDED_BY(release_mu_) = false;
  bool snapshot_released_ DB_GUARDED_BY(release_mu_) = false;
};

}  // namespace dragonboat::engine
