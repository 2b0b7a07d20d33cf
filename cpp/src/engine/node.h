// engine/node.h — one replica of one Raft group on a NodeHost: the Raft
// peer, its log view over the host's LogDB, the state machine applier with
// sessions, and the requests waiting for it.
//
// Clients and the transport queue work from any thread (propose, read_index,
// deliver, tick); a step worker calls run_once() to carry it out, in the
// Update order of docs/architecture.md: Replicate messages are sent before
// the local persist (thesis §10.2.1), the persist happens, then the other
// messages are sent and committed entries applied. This first version
// persists each node's update on its own (one sync per node per pass); the
// engine's worker will batch several nodes into one LogDB save.
// Thread-safety: the queueing methods are thread-safe; run_once() and
// lookup() must be called from one thread (the owner's worker).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dragonboat/request_state.h"
#include "dragonboat/statemachine.h"
#include "engine/pending_requests.h"
#include "logdb/node_log.h"
#include "raft/peer.h"
#include "rsm/applier.h"
#include "transport/transport.h"

namespace dragonboat::engine {

struct NodeOptions {
  raft::Config raft;                            // cluster_id, node_id, timeouts...
  std::map<uint64_t, std::string> initial_members;
  bool join = false;
  size_t max_pending = 4096;                    // proposals and reads waiting
  uint64_t max_entry_bytes = 8 << 20;           // larger proposals: kPayloadTooBig
};

class Node {
 public:
  // Opens (bootstrapping or restarting from `db`) the replica. `db`,
  // `transport` and `sm` must outlive the node.
  static Status open(const NodeOptions& options, logdb::LogDB* db, transport::Transport* transport,
                     IStateMachine* sm, std::unique_ptr<Node>* out);

  // Queues a proposal with the no-op session; completes when applied here.
  Status propose(std::string cmd, uint64_t timeout_ticks, RequestStatePtr* rs);
  // Queues a linearizable read barrier; completes once the read index is
  // applied locally (then lookup() is linearizable).
  Status read_index(uint64_t timeout_ticks, RequestStatePtr* rs);
  // A message from the transport.
  void deliver(raft::Message m);
  // One logical tick (from the tick thread).
  void tick();

  // Worker: carries out everything queued, persisting this node on its own.
  // kFatal when storage or the state machine failed (the node must stop;
  // every request is then terminated).
  Status run_once();

  // The phases of run_once, for a worker that batches many nodes into ONE
  // LogDB save per pass (StepWorker):
  //  1. step_inputs(): ticks, messages, proposals, reads into the peer;
  //  2. prepare(): takes the next Update, sends its Replicate messages at
  //     once (§10.2.1) and fills *nu with what must be persisted; false when
  //     there is no update;
  //  3. the worker saves every node's *nu in one LogDB::save();
  //  4. finish(): the rest of the Update (other messages, apply, reads).
  Status step_inputs();
  bool prepare(raft::Update* u, logdb::NodeUpdate* nu);
  Status finish(raft::Update* u, const logdb::NodeUpdate& nu, bool saved);
  // Completes reads whose index is applied; refreshes leader info.
  void after_pass();
  uint64_t cluster_id() const { return opt_.raft.cluster_id; }
  bool stopped() const {
    std::lock_guard<std::mutex> g(mu_);
    return stopped_;
  }
  // Worker: reads the state machine.
  Status lookup(std::string_view query, std::string* answer) { return sm_->lookup(query, answer); }
  // Worker: stops, terminating every waiting request.
  void stop();

  uint64_t leader_id() const;
  bool is_leader() const;
  uint64_t applied() const { return applier_.applied(); }

 private:
  Node(const NodeOptions& o, logdb::LogDB* db, transport::Transport* t, IStateMachine* sm)
      : opt_(o), db_(db), transport_(t), sm_(sm), applier_(sm, &sessions_), pending_(o.max_pending),
        reads_(o.max_pending) {}


  NodeOptions opt_;
  logdb::LogDB* db_;
  transport::Transport* transport_;
  IStateMachine* sm_;
  std::unique_ptr<logdb::NodeLog> log_;
  std::unique_ptr<raft::SeededRandom> random_;
  std::unique_ptr<raft::Peer> peer_;
  rsm::SessionManager sessions_;
  rsm::Applier applier_;
  PendingRequests pending_;  // proposals by key
  PendingRequests reads_;    // reads by read sequence number

  // Queued by other threads.
  mutable std::mutex mu_;
  uint64_t queued_ticks_ = 0;
  std::vector<raft::Message> inbox_;
  std::vector<raft::Entry> proposals_;
  std::vector<uint64_t> queued_reads_;  // read keys
  uint64_t next_key_ = 0;
  uint64_t leader_ = 0;
  bool is_leader_ = false;

  // Worker only.
  uint64_t now_tick_ = 0;
  uint64_t read_round_ = 0;
  std::map<uint64_t, std::vector<uint64_t>> rounds_;      // read ctx -> read keys
  std::multimap<uint64_t, uint64_t> confirmed_reads_;     // read index -> read key
  bool stopped_ = false;
};

}  // namespace dragonboat::engine
