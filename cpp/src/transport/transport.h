// transport/transport.h — moving Raft messages and snapshots between
// NodeHosts: the interface the engine uses, the handler it implements, and
// the node address registry.
//
// Implementations: TCP over asio (tcp_transport, planned) and an in-process
// transport with fault hooks (inproc_transport.h) for engine tests and
// simulations. Thread-safety: send() may be called from any thread; handler
// callbacks arrive on transport threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::transport {

// What the engine implements to receive from a transport.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Messages from one remote host, in the order that host sent them (per
  // group order is preserved). Called once per received batch, so the
  // engine can wake each receiving worker once.
  virtual void handle_messages(std::vector<raft::Message> messages) = 0;
  // Messages from (cluster_id, node_id) arrived from the host at `address`
  // (the batch's source). A joining node knows no member addresses until
  // the log tells it: it answers the leader at the address the leader's
  // messages came from. Called before handle_messages for the batch.
  virtual void learn_address(uint64_t cluster_id, uint64_t node_id, const std::string& address) {
    (void)cluster_id;
    (void)node_id;
    (void)address;
  }
  // A connection to `address` was established or failed (events).
  virtual void connection_event(const std::string& address, bool snapshot_connection, bool failed) {
    (void)address;
    (void)snapshot_connection;
    (void)failed;
  }
  // The remote node could not be reached; Raft should fall back to probing.
  virtual void handle_unreachable(uint64_t cluster_id, uint64_t node_id) = 0;
  // Outcome of the snapshot at `index` this host sent to (cluster_id, node_id).
  virtual void handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, uint64_t index, bool failed) = 0;
};

// (cluster ID, node ID) -> raft address, following membership changes.
// Thread-safe.
class NodeRegistry {
 public:
  void add(uint64_t cluster_id, uint64_t node_id, const std::string& address);
  // Adds only when the node is unknown (an address learnt from traffic
  // never overrides one from membership). True when added.
  bool add_if_absent(uint64_t cluster_id, uint64_t node_id, const std::string& address);
  void remove(uint64_t cluster_id, uint64_t node_id);
  void remove_cluster(uint64_t cluster_id);
  // false when the node is unknown.
  bool resolve(uint64_t cluster_id, uint64_t node_id, std::string* address) const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> addresses_;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts listening / delivery threads.
  [[nodiscard]] virtual Status start() = 0;
  // Stops promptly: closes connections and joins threads. Idempotent.
  virtual void stop() = 0;
  // Queues a message for m.to of m.cluster_id. Returns false when it was
  // dropped at once (unknown address, send queue full, stopped); Raft
  // retries on its own, and unreachable targets are reported.
  virtual bool send(raft::Message m) = 0;
  // Streams the snapshot in m.snapshot to its target; the outcome arrives
  // as handle_snapshot_status at the sender.
  virtual bool send_snapshot(raft::Message m) = 0;
  virtual const std::string& address() const = 0;
  // Best effort: tells the host at `address` that this one is (back) up, so
  // it stops backing off toward us (a restarted replica is otherwise
  // unreachable until the peers' reconnect back-off runs out). Default: nothing.
  virtual void hello(const std::string& address) { (void)address; }
};

}  // namespace dragonboat::transport
