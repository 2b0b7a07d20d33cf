// dragonboat/plugins.h — the built-in alternatives to the RocksDB LogDB and
// the TCP transport, for NodeHostConfig::logdb_factory / transport_factory
// (dragonboat/raftio.h): tests and single-process deployments that need no
// disk for the Raft log or no sockets (the reference's plugin/chan).
//
//   auto net = std::make_shared<dragonboat::plugins::InProcessNetwork>();
//   NodeHostConfig c;
//   c.logdb_factory = dragonboat::plugins::memory_logdb();
//   c.transport_factory = net->transport_factory();
//
// Thread-safety: an InProcessNetwork may be used from any thread.
#pragma once

#include <memory>
#include <string>

#include "dragonboat/raftio.h"

namespace dragonboat::plugins {

// An in-memory LogDB: fast, and NOTHING survives the NodeHost — a restarted
// host starts empty, so acknowledged writes are only as durable as the
// other replicas. Its name() is "memory": a directory written by the RocksDB
// LogDB is refused (kHardSettingsChanged), and the other way round.
raftio::LogDBFactory memory_logdb();

// Links the NodeHosts of one process: each reaches the others by its
// raft_address (any host:port string; nothing listens), messages are handed
// over in memory, and a snapshot is copied into the receiving host's
// snapshot directory. Hosts on different networks never meet.
class InProcessNetwork {
 public:
  InProcessNetwork();
  ~InProcessNetwork();
  InProcessNetwork(const InProcessNetwork&) = delete;
  InProcessNetwork& operator=(const InProcessNetwork&) = delete;

  // A NodeHostConfig::transport_factory joining this network. The network's
  // state is shared with every transport made, so they may outlive it.
  raftio::TransportFactory transport_factory();
  // Cuts both directions between the hosts at addresses a and b (a
  // network partition, for tests) until heal().
  void partition(const std::string& a, const std::string& b);
  void heal();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dragonboat::plugins
