// raft/raft.h — the Raft protocol state machine of one node.
//
// Pure and deterministic: no threads, clocks, I/O or global randomness. Time
// enters only through tick(), input only through step(); output accumulates
// in the outbox fields that Peer drains into an Update. Implementation is
// split by concern: raft.cc (roles, ticks, step dispatch), raft_election.cc,
// raft_replication.cc, raft_read_index.cc, raft_membership.cc.
// Not thread-safe: one thread at a time (the engine's step worker).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "dragonboat/status.h"
#include "raft/config.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/rate_limiter.h"
#include "raft/read_index.h"
#include "raft/types.h"

namespace dragonboat::raft {

// Set in a RequestVote's `hint` when the campaign was started by a leader
// transfer (TimeoutNow): voters then ignore their leader lease (thesis §3.10).
constexpr uint64_t kTransferCampaign = 1;

class Raft {
 public:
  Raft(const Config& config, const LogReader* reader, Random* random);

  // Restores membership and hard state on start. For a brand-new node with
  // `initial` members this also appends the bootstrap config-change entries.
  void load(const Membership& membership, const HardState& state);
  void bootstrap(const std::map<uint64_t, std::string>& initial_members);

  // Advances logical time by one tick.
  void tick();
  // Feeds one message (local or from the network).
  Status step(const Message& m);
  // This replica's own proposals: the same as stepping a kPropose message
  // with `*entries`, except that a leader moves them into its log instead of
  // copying them (their payloads are not duplicated on the way in). Leaves
  // *entries empty, with its capacity, for the caller to fill again.
  Status propose(std::vector<Entry>* entries);

  // Applies a committed config change (called while applying the entry at
  // `index`). kRejected when it breaks a membership rule; the entry is then
  // a no-op on every replica, deterministically.
  Status apply_config_change(const ConfigChange& cc, uint64_t index);
  // The caller persisted the log up to (index, term) / the snapshot.
  void on_persisted(uint64_t index, uint64_t term);
  void on_snapshot_persisted(uint64_t index);
  // The caller took committed entries up to index for applying.
  void on_processed(uint64_t index);

  // --- state ---
  uint64_t id() const { return cfg_.node_id; }
  uint64_t cluster_id() const { return cfg_.cluster_id; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t leader_id() const { return leader_; }
  Role role() const { return role_; }
  bool is_leader() const { return role_ == Role::kLeader; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  const RaftLog& log() const { return log_; }
  RaftLog& log() { return log_; }
  const Membership& membership() const { return membership_; }
  const std::map<uint64_t, Progress>& progress() const { return progress_; }
  uint64_t leader_transfer_target() const { return transfer_target_; }
  bool quiesced() const { return quiesced_; }
  bool rate_limited() { return rate_limiter_.limited(); }
  uint64_t in_mem_log_bytes() const { return rate_limiter_.own_bytes(); }
  const Config& config() const { return cfg_; }
  uint64_t election_tick() const { return election_tick_; }
  uint64_t randomized_election_timeout() const { return randomized_timeout_; }

  // Sends one heartbeat round for the ReadIndex requests queued since the
  // last round (Peer::get_update calls it, so reads that arrived together
  // share one round).
  void flush_read_round();
  bool read_round_pending() const { return read_round_pending_; }

  // --- outbox, drained by Peer ---
  std::vector<Message> msgs;
  std::vector<ReadyToRead> ready_to_reads;
  std::vector<uint64_t> dropped_entries;
  std::vector<ReadCtx> dropped_reads;

 private:
  // raft.cc
  // Debug builds: aborts with a message when an invariant no longer holds
  // (called after every tick and step).
  void check_invariants() const;
  Status step_impl(const Message& m);
  void tick_impl();
  void reset(uint64_t term);
  void become_follower(uint64_t term, uint64_t leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  Role follower_role() const;
  void send(Message m);
  void tick_follower();
  void tick_leader();
  void note_activity(MessageType t);
  void enter_quiesce();
  Status step_leader(const Message& m);
  Status step_candidate(const Message& m);
  Status step_follower(const Message& m);
  // Sends a request (propose, leader transfer) on to the known leader.
  void forward_to_leader(const Message& m);
  void reset_randomized_timeout();
  uint64_t voting_count() const;
  std::vector<uint64_t> voting_members() const;
  bool is_voting(uint64_t id) const;

  // raft_election.cc
  bool can_campaign() const;
  void campaign(bool pre_vote, bool transfer);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  void handle_timeout_now(const Message& m);
  void handle_leader_transfer(const Message& m);
  void handle_check_quorum();
  void abort_leader_transfer() { transfer_target_ = kNoNode; }

  // raft_replication.cc
  // The progress of member `id`; null for self and non-members.
  Progress* progress_of(uint64_t id);
  // The progress of the member a response came from, marked active (it
  // answered; check-quorum counts it); null for a non-member.
  Progress* responder(const Message& m);
  void append_entries(std::vector<Entry>&& ents);  // moves the entries into the log
  void handle_propose(const Message& m);
  void propose_entries(std::vector<Entry>& ents);  // the leader's part; moves them out
  bool send_replicate(uint64_t to, bool send_if_empty);
  void send_snapshot(uint64_t to);
  void broadcast_replicate();
  void send_heartbeat(uint64_t to, const ReadCtx& ctx);
  void broadcast_heartbeat();
  bool try_commit();
  // A Replicate, Heartbeat or InstallSnapshot from the leader of our term:
  // the matching handle_* below.
  void handle_leader_message(const Message& m);
  void handle_replicate(const Message& m);
  void handle_replicate_resp(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_heartbeat_resp(const Message& m);
  void handle_install_snapshot(const Message& m);
  void handle_snapshot_status(const Message& m);
  void handle_unreachable(const Message& m);

  // raft_read_index.cc
  bool committed_in_current_term() const;
  void handle_read_index_leader(const Message& m);
  void handle_read_index_follower(const Message& m);
  void release_deferred_reads();
  // Tells the requester (self: ready_to_reads / dropped_reads; a follower: a
  // ReadIndexResp) that its read is confirmed at `index`, or refused.
  void answer_read(uint64_t from, const ReadCtx& ctx, uint64_t index, bool refused = false);
  void drop_pending_reads();

  // raft_membership.cc
  void restore_membership(const Membership& m);
  void add_progress(uint64_t id);

  Config cfg_;
  Random* random_;
  RaftLog log_;
  Membership membership_;
  std::map<uint64_t, Progress> progress_;  // every member but self
  Progress self_progress_{1, 1};           // the leader's own persisted match

  Role role_ = Role::kFollower;
  uint64_t term_ = 0;
  uint64_t vote_ = kNoNode;
  uint64_t leader_ = kNoNode;
  std::map<uint64_t, bool> votes_;

  uint64_t election_tick_ = 0;
  uint64_t heartbeat_tick_ = 0;
  uint64_t randomized_timeout_ = 0;
  uint64_t rate_report_tick_ = 0;

  uint64_t transfer_target_ = kNoNode;
  uint64_t pending_cc_index_ = 0;  // leader: last config change appended

  ReadIndexTracker read_index_;
  bool read_round_pending_ = false;
  std::vector<Message> deferred_reads_;  // until a commit in our term (§6.4)

  RateLimiter rate_limiter_;

  uint64_t idle_ticks_ = 0;
  bool quiesced_ = false;
};

}  // namespace dragonboat::raft
