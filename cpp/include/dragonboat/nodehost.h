// dragonboat/nodehost.h — the NodeHost: the object applications program
// against (the reference's dragonboat.NodeHost). One NodeHost per process
// runs many Raft groups ("clusters"), sharing one LogDB (RocksDB, a few
// shards, one fsync per shard per worker pass), one TCP transport and a
// fixed set of engine threads (docs/architecture.md, "Engine").
//
// Errors: every method returns a Status whose code mirrors the reference's
// Err* values (dragonboat/status.h; is_temp_error() tells which are worth
// retrying). Timeouts are wall-clock durations converted to logical ticks of
// rtt_millisecond; a timeout shorter than one tick is kTimeoutTooSmall.
// Asynchronous requests return a RequestState that completes exactly once
// (wait on it or attach a callback); the sync_ variants wait for you and map
// the outcome: timeout -> kTimeout, terminated -> kClusterClosed, rejected ->
// kRejected, dropped -> kClusterNotReady (retry), aborted -> kCanceled.
// Thread-safety: every method is thread-safe; none may be called from a
// state machine callback of the same NodeHost (the apply path would wait on
// itself).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dragonboat/config.h"
#include "dragonboat/metrics.h"
#include "dragonboat/request_state.h"
#include "dragonboat/session.h"
#include "dragonboat/statemachine.h"
#include "dragonboat/status.h"

namespace dragonboat {

using Timeout = std::chrono::milliseconds;

using StateMachineFactory = std::function<std::unique_ptr<IStateMachine>(uint64_t cluster_id, uint64_t node_id)>;
using ConcurrentStateMachineFactory =
    std::function<std::unique_ptr<IConcurrentStateMachine>(uint64_t cluster_id, uint64_t node_id)>;
using OnDiskStateMachineFactory =
    std::function<std::unique_ptr<IOnDiskStateMachine>(uint64_t cluster_id, uint64_t node_id)>;

// A group's membership (reference: dragonboat.Membership).
struct Membership {
  uint64_t config_change_id = 0;  // log index of the last applied membership change
  std::map<uint64_t, std::string> nodes;
  std::map<uint64_t, std::string> observers;
  std::map<uint64_t, std::string> witnesses;
  std::set<uint64_t> removed;  // never allowed back
};

// What this NodeHost knows of one of its nodes (reference: ClusterInfo).
struct ClusterInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  std::map<uint64_t, std::string> nodes;
  uint64_t config_change_index = 0;
  StateMachineType state_machine_type = StateMachineType::kRegular;
  bool is_leader = false;
  bool is_observer = false;
  bool is_witness = false;
  bool pending = false;  // nothing applied yet
};

struct NodeInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
};

struct NodeHostInfo {
  std::string raft_address;
  std::vector<ClusterInfo> cluster_info;
  std::vector<NodeInfo> log_info;  // every node with data in the LogDB
};

struct NodeHostInfoOption {
  bool skip_log_info = false;
};

// Proposes and reads on one group without looking it up each time
// (reference: INodeUser). Valid while the group runs on the NodeHost.
class NodeUser {
 public:
  virtual ~NodeUser() = default;
  virtual Status propose(const Session& session, std::string_view cmd, Timeout timeout, RequestStatePtr* rs) = 0;
  virtual Status read_index(Timeout timeout, RequestStatePtr* rs) = 0;
};

class NodeHost {
 public:
  // Validates the config (errors name the field), takes the directory lock,
  // checks/creates the flag file, opens the LogDB and starts the transport
  // and engine threads.
  static Status create(const NodeHostConfig& config, std::unique_ptr<NodeHost>* out);
  ~NodeHost();  // stop()
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // ---- starting and stopping groups ---------------------------------------
  // Starts a replica of group config.cluster_id as node config.node_id:
  //  - new group: join=false, initial_members = every initial member (the
  //    same map on every initial member's host);
  //  - joining an existing group (after RequestAddNode): join=true, empty map;
  //  - restart: join=false, empty map (or the original one).
  // kClusterAlreadyExist when running; kInvalidClusterSettings for a bad
  // config or an inconsistent request (e.g. restarting with another state
  // machine type, joining with members); kClusterNotBootstrapped when a
  // node with no data is started with neither members nor join;
  // kOpenStopped when the NodeHost stopped while an on-disk state machine's
  // open() ran and it gave up (IOnDiskStateMachine::open).
  Status start_cluster(const std::map<uint64_t, std::string>& initial_members, bool join,
                       StateMachineFactory factory, const Config& config);
  Status start_concurrent_cluster(const std::map<uint64_t, std::string>& initial_members, bool join,
                                  ConcurrentStateMachineFactory factory, const Config& config);
  Status start_on_disk_cluster(const std::map<uint64_t, std::string>& initial_members, bool join,
                               OnDiskStateMachineFactory factory, const Config& config);
  // Stops the local replica (not a membership change): waiting requests
  // complete terminated, the state machine is closed; its data stays.
  // kClusterNotFound when not running.
  Status stop_cluster(uint64_t cluster_id);
  Status stop_node(uint64_t cluster_id, uint64_t node_id);

  // ---- proposals ---------------------------------------------------------------
  // Queues `cmd`; the RequestState completes when it is applied on this
  // replica with the state machine's Result. kPayloadTooBig over
  // max_proposal_payload_size, kSystemBusy when too many requests wait,
  // kInvalidSession for a registered session on an on-disk group,
  // kInvalidOperation for an empty `cmd` through the no-op session (an empty
  // no-op-session entry is a leader's no-op, which no replica applies).
  Status propose(const Session& session, std::string_view cmd, Timeout timeout, RequestStatePtr* rs);
  // Proposes and waits. With a registered session call
  // session.proposal_completed() after success; retry unchanged after kTimeout.
  Status sync_propose(const Session& session, std::string_view cmd, Timeout timeout, Result* result);
  Session get_noop_session(uint64_t cluster_id) const;
  // Registers a new session through the log (kInvalidOperation on an
  // on-disk group, which accepts only the no-op session).
  Status sync_get_session(uint64_t cluster_id, Timeout timeout, Session* out);
  Status sync_close_session(const Session& session, Timeout timeout);
  // Registers or unregisters `session` according to its series ID
  // (Session::prepare_for_register / prepare_for_unregister).
  Status propose_session(const Session& session, Timeout timeout, RequestStatePtr* rs);

  // ---- reads --------------------------------------------------------------------
  // Starts a ReadIndex round (thesis §6.4); once it completes,
  // read_local_node() is linearizable.
  Status read_index(uint64_t cluster_id, Timeout timeout, RequestStatePtr* rs);
  // Queries the state machine of the group `rs` (a completed read_index)
  // went to. kInvalidOperation when rs has not completed.
  Status read_local_node(const RequestStatePtr& rs, std::string_view query, std::string* answer);
  // The same (the reference's byte-slice variant; here every query is bytes).
  Status na_read_local_node(const RequestStatePtr& rs, std::string_view query, std::string* answer);
  // read_index + wait + read_local_node.
  Status sync_read(uint64_t cluster_id, std::string_view query, Timeout timeout, std::string* answer);
  // Queries the local state machine without any linearizability guarantee.
  Status stale_read(uint64_t cluster_id, std::string_view query, std::string* answer);
  // The local state machine's hash (IStateMachine::hash and the other kinds'
  // hash(), the reference's IHash), read between updates: replicas that
  // applied the same entries report the same value. kInvalidOperation when
  // the state machine has no hash (or for a witness); kClusterNotFound /
  // kClusterClosed as for stale_read.
  Status get_hash(uint64_t cluster_id, uint64_t* hash);
  // OK when this host runs a live replica of `cluster_id` that has a state
  // machine to read: kClusterNotFound (not here, or stopped by
  // stop_cluster/stop_node), kClusterClosed (stopped by a failure),
  // kInvalidOperation (a witness). For callers that query their state
  // machine themselves (the Python binding's object lookups).
  Status check_local_read(uint64_t cluster_id) const;

  // ---- snapshots ----------------------------------------------------------------
  // Takes a snapshot now; completes with its index (RequestResult::snapshot_index).
  // Rejected when a snapshot at the current applied index already exists;
  // kPendingSnapshotRequestExist while one is in progress.
  Status request_snapshot(uint64_t cluster_id, const SnapshotOption& option, Timeout timeout, RequestStatePtr* rs);
  Status sync_request_snapshot(uint64_t cluster_id, const SnapshotOption& option, Timeout timeout,
                               uint64_t* snapshot_index);

  // ---- membership (reference: RequestAddNode & co.) ------------------------------
  // Proposes a membership change through the log; the RequestState completes
  // when the change is applied, or is rejected by the group: the node ID was
  // removed before (never allowed back), or, with Config::ordered_config_change,
  // config_change_index differs from the current Membership::config_change_id
  // (read it with sync_get_cluster_membership; ignored otherwise). One change
  // at a time: a change proposed while another is pending is dropped (the
  // sync_ variants then return kClusterNotReady; retry).
  // Adding an existing observer as a node promotes it to a voter.
  Status request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                          uint64_t config_change_index, Timeout timeout, RequestStatePtr* rs);
  Status request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                              uint64_t config_change_index, Timeout timeout, RequestStatePtr* rs);
  Status request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                             uint64_t config_change_index, Timeout timeout, RequestStatePtr* rs);
  Status request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t config_change_index, Timeout timeout,
                             RequestStatePtr* rs);
  Status sync_request_add_node(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                               uint64_t config_change_index, Timeout timeout);
  Status sync_request_add_observer(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                   uint64_t config_change_index, Timeout timeout);
  Status sync_request_add_witness(uint64_t cluster_id, uint64_t node_id, const std::string& address,
                                  uint64_t config_change_index, Timeout timeout);
  Status sync_request_delete_node(uint64_t cluster_id, uint64_t node_id, uint64_t config_change_index,
                                  Timeout timeout);
  // The membership, linearizably (a ReadIndex round, then the membership as
  // of the read index).
  Status sync_get_cluster_membership(uint64_t cluster_id, Timeout timeout, Membership* out);
  // Asks the leader to hand leadership to target_node_id (a voting member).
  // Returns once the request is on its way; the outcome shows in
  // get_leader_id. kInvalidTarget for a non-voter or unknown node.
  Status request_leader_transfer(uint64_t cluster_id, uint64_t target_node_id);

  // ---- data lifecycle ------------------------------------------------------------
  // Removes everything this NodeHost stores for (cluster, node): LogDB records
  // and snapshot directories. Only for a node that is not running here
  // (kClusterNotStopped otherwise) and that was deleted from its group —
  // removing a member's data corrupts the group. Leaves a tombstone: starting
  // that node again returns kNodeRemoved (as the reference).
  Status remove_data(uint64_t cluster_id, uint64_t node_id);
  // The reference's SyncRemoveData: remove_data is synchronous here (the data
  // is gone when it returns), so `timeout` is only checked (kInvalidDeadline).
  Status sync_remove_data(uint64_t cluster_id, uint64_t node_id, Timeout timeout);
  // Reclaims the disk space of log entries already dropped after snapshots
  // (a RocksDB compaction of their range): what every snapshot does by
  // itself unless Config::disable_auto_compactions. The RequestState
  // completes when done; kRejected when no entry was dropped since the last
  // compaction (requested or automatic).
  Status request_compaction(uint64_t cluster_id, uint64_t node_id, RequestStatePtr* rs);

  // ---- information -------------------------------------------------------------
  // The leader as this replica knows it; *valid is false when unknown.
  Status get_leader_id(uint64_t cluster_id, uint64_t* leader_id, bool* valid) const;
  Status get_node_user(uint64_t cluster_id, std::shared_ptr<NodeUser>* out);
  NodeHostInfo get_node_host_info(const NodeHostInfoOption& option = {}) const;
  // Whether (cluster, node) has been bootstrapped on this NodeHost's LogDB.
  bool has_node_info(uint64_t cluster_id, uint64_t node_id) const;
  // The membership as of the last entry this replica applied (not
  // linearizable; issue 6 adds sync_get_cluster_membership).
  Status get_cluster_membership(uint64_t cluster_id, Membership* out) const;
  // The health metrics as numbers (dragonboat/metrics.h; names and
  // meanings: docs/operations.md, "Metrics").
  HealthMetrics get_health_metrics() const;
  // Writes get_health_metrics() in the Prometheus text exposition format.
  void write_health_metrics(std::ostream& out) const;
  const std::string& raft_address() const;
  const NodeHostConfig& node_host_config() const;

  // Stops every group, the transport and the engine threads, and closes the
  // LogDB. Later calls fail with kSystemStopped. Idempotent. A start_cluster
  // or remove_data already running is waited for (the replica it adds is
  // stopped too). Calls other threads are inside end (their requests
  // terminate), but the object must outlive them: destroy it only after
  // they returned. Never call it from a state machine or listener of this
  // NodeHost (it joins the threads running them).
  void stop();

  struct Impl;

 private:
  explicit NodeHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dragonboat
