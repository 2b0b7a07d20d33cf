// transport/inproc_transport.h — a Transport between NodeHosts of one
// process, with fault hooks (drop, duplicate, delay/reorder, partition), for
// engine tests and simulations.
//
// An InProcNetwork connects transports by address. Each transport delivers
// on its own thread, like the TCP transport's receive path: messages from
// one source arrive in batches, in send order unless a fault hook delays
// them. Snapshots are passed as metadata (the file path is shared on one
// machine) and their status is reported back to the sender.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "transport/transport.h"

namespace dragonboat::transport {

// What happens to one message.
struct Fault {
  bool drop = false;
  int copies = 1;           // > 1 duplicates the message
  uint64_t delay_ticks = 0; // delivered after this many network ticks (reorders)
};
using FaultHook = std::function<Fault(const raft::Message&)>;

class InProcTransport;

class InProcNetwork {
 public:
  // Cuts / restores both directions between two addresses.
  void partition(const std::string& a, const std::string& b);
  void heal();
  // Decides the fate of each message; none = deliver everything once.
  void set_fault_hook(FaultHook hook);
  // Releases messages delayed by `delay_ticks` (one network tick).
  void tick();

 private:
  friend class InProcTransport;
  void attach(const std::string& address, InProcTransport* t);
  void detach(const std::string& address);
  enum class Route { kQueued, kUnreachable, kQueueFull, kLost };
  // Routes one message (a snapshot when `snapshot`) to the transport at
  // `to`. kLost: the fault hook dropped it (the sender cannot tell, except
  // that a snapshot's status comes back failed).
  Route route(const std::string& from, const std::string& to, const raft::Message& m, bool snapshot = false);
  // Hands the outcome of a snapshot to the transport at `sender`, if it is
  // still attached.
  void snapshot_status(const std::string& sender, const raft::Message& m, bool failed);

  std::mutex mu_;
  std::map<std::string, InProcTransport*> transports_;
  std::set<std::pair<std::string, std::string>> cut_;
  FaultHook hook_;
  uint64_t now_ = 0;
};

class InProcTransport : public Transport {
 public:
  // `resolver` resolves targets; `handler` receives. Both outlive the
  // transport. With a `snapshot_dir`, a snapshot that arrives is copied
  // into it first (raftio::receive_snapshot_file), as a NodeHost needs;
  // without, the message carries the sender's path (engine tests).
  InProcTransport(std::string address, InProcNetwork* network, const raftio::INodeResolver* resolver,
                  MessageHandler* handler, size_t max_queue = 8192, std::string snapshot_dir = "");
  ~InProcTransport() override;

  Status start() override;
  void stop() override;
  bool send(raft::Message m) override;
  bool send_snapshot(raft::Message m) override;
  const std::string& address() const override { return address_; }

 private:
  friend class InProcNetwork;
  struct Item {
    enum Kind { kMessage, kSnapshot, kUnreachable, kSnapshotStatus } kind = kMessage;
    std::string from;
    raft::Message m;
    uint64_t due = 0;  // network tick
    bool failed = false;
  };
  // Queues an item for delivery on this transport's thread.
  bool enqueue(Item item);
  void report(Item::Kind kind, const raft::Message& m, bool failed);
  void run();

  std::string address_;
  InProcNetwork* network_;
  const raftio::INodeResolver* registry_;
  MessageHandler* handler_;
  size_t max_queue_;
  std::string snapshot_dir_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  uint64_t released_ = 0;  // network tick up to which delayed items may go
  bool running_ = false;
  std::thread thread_;
};

}  // namespace dragonboat::transport
