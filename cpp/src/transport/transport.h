// transport/transport.h — moving Raft messages and snapshots between
// NodeHosts: the ITransport / IMessageHandler contracts of
// dragonboat/raftio.h under the engine's names, and the node address
// registry (the INodeResolver a transport is given).
//
// Implementations: TCP over asio (tcp_transport.h, the default) and an
// in-process transport with fault hooks (inproc_transport.h) for engine
// tests, simulations and dragonboat/plugins.h.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "dragonboat/raftio.h"
#include "dragonboat/status.h"
#include "raft/types.h"

namespace dragonboat::transport {

// The contracts are public (dragonboat/raftio.h) so applications can plug in
// their own transport; the engine uses them under these names.
using MessageHandler = raftio::IMessageHandler;
using Transport = raftio::ITransport;

// (cluster ID, node ID) -> raft address, following membership changes.
// Thread-safe.
class NodeRegistry : public raftio::INodeResolver {
 public:
  void add(uint64_t cluster_id, uint64_t node_id, const std::string& address);
  // Adds only when the node is unknown (an address learnt from traffic
  // never overrides one from membership). True when added.
  bool add_if_absent(uint64_t cluster_id, uint64_t node_id, const std::string& address);
  void remove(uint64_t cluster_id, uint64_t node_id);
  void remove_cluster(uint64_t cluster_id);
  // false when the node is unknown.
  bool resolve(uint64_t cluster_id, uint64_t node_id, std::string* address) const override;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> addresses_;
};

}  // namespace dragonboat::transport
