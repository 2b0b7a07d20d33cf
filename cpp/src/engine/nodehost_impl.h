// engine/nodehost_impl.h — NodeHost::Impl, the state behind the public
// NodeHost: the host directory and LogDB, the transport, the tick thread
// (engine/ticker.h), the step, apply and snapshot workers, and the node table. Shared by
// the nodehost*.cc files (API calls grouped by topic).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "common/thread_name.h"
#include "dragonboat/logger.h"
#include "dragonboat/nodehost.h"
#include "engine/node.h"
#include "engine/step_worker.h"
#include "engine/ticker.h"
#include "logdb/host_storage.h"
#include "transport/tcp_transport.h"

namespace dragonboat {

using engine::Node;

struct NodeHost::Impl : public transport::MessageHandler {
  NodeHostConfig config;
  logdb::HostStorage storage;
  transport::NodeRegistry registry;
  std::unique_ptr<raftio::ITransport> transport;  // TCP, or NodeHostConfig::transport_factory's
  std::vector<std::unique_ptr<engine::StepWorker>> step_workers;
  std::vector<std::unique_ptr<engine::ApplyWorker>> apply_workers;
  std::vector<std::unique_ptr<engine::SnapshotWorker>> snapshot_workers;
  std::unique_ptr<engine::Events> events;

  struct Entry {
    std::shared_ptr<Node> node;
    std::shared_ptr<rsm::ManagedSM> sm;  // the node co-owns it (Node::keep_state_machine)
  };
  mutable std::shared_mutex mu;                  // guards nodes and stopped
  std::unordered_map<uint64_t, Entry> nodes;     // by cluster ID
  uint64_t nodes_version = 0;                    // bumped on every change of `nodes`
  bool stopped = false;
  std::mutex start_mu;                           // one start/stop of a group at a time

  // Fires when stop_all begins, before it waits for a start_cluster in
  // progress: an on-disk state machine's open() polls it (kOpenStopped).
  struct Stopping : StopSignal {
    std::atomic<bool> fired{false};
    bool stopped() const override { return fired.load(std::memory_order_acquire); }
  } stopping;

  std::unique_ptr<engine::Ticker> ticker;  // started last, stopped first

  std::string snapshot_root() const { return config.node_host_dir + "/snapshots"; }
  // One node's snapshot directory (received snapshots land there too).
  std::string node_snapshot_root(uint64_t cluster_id, uint64_t node_id) const {
    return snapshot_root() + "/" + std::to_string(cluster_id) + "-" + std::to_string(node_id);
  }
  engine::StepWorker& step_worker(uint64_t cluster_id) {
    return *step_workers[cluster_id % step_workers.size()];
  }
  engine::ApplyWorker& apply_worker(uint64_t cluster_id) {
    return *apply_workers[(cluster_id / step_workers.size()) % apply_workers.size()];
  }
  engine::SnapshotWorker& snapshot_worker(uint64_t cluster_id) {
    return *snapshot_workers[cluster_id % snapshot_workers.size()];
  }

  std::shared_ptr<Node> find(uint64_t cluster_id) const {
    std::shared_lock<std::shared_mutex> g(mu);
    auto it = nodes.find(cluster_id);
    return it == nodes.end() ? nullptr : it->second.node;
  }

  Status lookup(uint64_t cluster_id, std::shared_ptr<Node>* out) const {
    std::shared_lock<std::shared_mutex> g(mu);
    if (stopped) return Status(ErrorCode::kSystemStopped, "the NodeHost is stopped");
    auto it = nodes.find(cluster_id);
    if (it == nodes.end()) {
      return Status(ErrorCode::kClusterNotFound, "cluster " + std::to_string(cluster_id) + " is not on this NodeHost");
    }
    *out = it->second.node;
    return Status::OK();
  }
  // lookup, then the replica must be node `node_id` (kClusterNotFound otherwise).
  Status lookup_node(uint64_t cluster_id, uint64_t node_id, std::shared_ptr<Node>* out) const {
    Status s = lookup(cluster_id, out);
    if (s.ok() && (*out)->node_id() != node_id) {
      return Status(ErrorCode::kClusterNotFound, "node " + std::to_string(node_id) + " of cluster " +
                                                     std::to_string(cluster_id) + " is not on this NodeHost");
    }
    return s;
  }
  // lookup, and the request's timeout in ticks.
  Status lookup_for(uint64_t cluster_id, Timeout timeout, std::shared_ptr<Node>* out, uint64_t* ticks_out) const {
    Status s = lookup(cluster_id, out);
    return s.ok() ? ticks(timeout, ticks_out) : s;
  }

  Status ticks(Timeout t, uint64_t* out) const {
    if (t.count() <= 0) return Status(ErrorCode::kInvalidDeadline, "the timeout must be positive");
    uint64_t n = static_cast<uint64_t>(t.count()) / config.rtt_millisecond;
    if (n == 0) {
      return Status(ErrorCode::kTimeoutTooSmall, "timeout " + std::to_string(t.count()) +
                                                     " ms is below one tick (rtt_millisecond " +
                                                     std::to_string(config.rtt_millisecond) + ")");
    }
    *out = n;
    return Status::OK();
  }

  // MessageHandler (transport I/O thread): what the transport receives is
  // forwarded to the replicas (nodehost_forward.cc).
  void handle_messages(std::vector<raft::Message> messages) override;
  void learn_address(uint64_t cluster_id, uint64_t node_id, const std::string& address) override;
  void handle_unreachable(uint64_t cluster_id, uint64_t node_id) override;
  void connection_event(const std::string& address, bool snapshot, bool failed) override;
  void handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, uint64_t index, bool failed) override;

  // Ticker::ListNodes: every replica when the set changed since `seen`.
  uint64_t list_nodes(uint64_t seen, std::vector<std::shared_ptr<Node>>* out) const {
    std::shared_lock<std::shared_mutex> g(mu);
    if (nodes_version != seen)
      for (const auto& [id, e] : nodes) out->push_back(e.node);
    return nodes_version;
  }

  Status start(const std::map<uint64_t, std::string>& members, bool join, const Config& c, StateMachineType kind,
               const std::function<std::unique_ptr<rsm::ManagedSM>()>& make_sm);
  Status stop_cluster(uint64_t cluster_id);
  void stop_all();
  Status wait(const RequestStatePtr& rs, Timeout timeout, RequestResult* out) const;
  // The sync_ variants: `started` is the asynchronous call's status; the
  // outcome goes to *out when given.
  Status wait_started(const Status& started, const RequestStatePtr& rs, Timeout timeout,
                      RequestResult* out = nullptr) const {
    if (!started.ok()) return started;
    RequestResult r;
    return wait(rs, timeout, out ? out : &r);
  }
};

// The raft core's view of a node's Config.
raft::Config to_raft_config(const Config& c);

// The public Membership of the raft core's.
Membership to_public_membership(const raft::Membership& m);

}  // namespace dragonboat
