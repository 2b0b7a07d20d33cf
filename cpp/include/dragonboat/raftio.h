// dragonboat/raftio.h — the plug-in contracts of a NodeHost (the reference's
// raftio package, and config.LogDBFactoryFunc / config.RaftRPCFactoryFunc):
// where the Raft state of every group is stored (ILogDB) and how messages
// and snapshots travel between NodeHosts (ITransport). NodeHostConfig's
// logdb_factory and transport_factory select an implementation; empty ones
// mean the built-in RocksDB LogDB and TCP transport. Public implementations
// for tests and single-process deployments: dragonboat/plugins.h (an
// in-memory LogDB and an in-process transport).
//
// Thread-safety: as each interface says; the engine calls an ILogDB from its
// step workers (one per shard) and the NodeHost API threads, an ITransport
// from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dragonboat/raftpb.h"
#include "dragonboat/status.h"

namespace dragonboat {

struct NodeHostConfig;

namespace raftio {

// ---- the LogDB ----------------------------------------------------------------

// One node's changes in an ILogDB::save() batch.
struct NodeUpdate {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  raftpb::HardState state;             // empty(): unchanged
  std::vector<raftpb::Entry> entries;  // contiguous; overwrite any stored suffix from entries[0].index
  raftpb::Snapshot snapshot;           // empty(): none; when set, installed: entries up to it are dropped
  // False when nothing here must be durable before save() returns: only the
  // commit index moved (Raft learns a lost one again from the leader). A
  // save() whose updates all have must_sync == false may skip its sync; the
  // next synced save makes these changes durable with it.
  bool must_sync = true;
};

// What a restarting node reads back (entries [first_index, last_index]).
struct RaftState {
  raftpb::HardState state;
  uint64_t first_index = 0;  // 0 when no entry is stored
  uint64_t last_index = 0;
};

// Recorded when a node is first started; checked on every restart.
struct Bootstrap {
  std::map<uint64_t, std::string> addresses;  // initial members
  bool join = false;
  uint8_t state_machine_type = 0;  // StateMachineType; 0 after an import, until the first start
};

struct NodeInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  bool operator==(const NodeInfo& o) const { return cluster_id == o.cluster_id && node_id == o.node_id; }
};

// Durable Raft state of every group on a NodeHost (the reference's ILogDB).
// The engine persists what Raft asks for through save(): the hard states,
// new entries and snapshot records of MANY groups in one call, which an
// implementation commits atomically and durably (one sync per shard): an
// acknowledged write depends on it. (Updates with must_sync == false only,
// e.g. a leader's new commit index, may be written without the sync.) Groups are spread over shards by
// cluster ID (shard_of); the engine's step worker for shard k calls save()
// with that shard's groups only, so shards may sync independently.
// Thread-safety: every method may be called concurrently; save() calls for
// the same shard are serialised by the engine.
class ILogDB {
 public:
  virtual ~ILogDB() = default;

  // A short name recorded in the NodeHost directory's flag file: a directory
  // written by one LogDB is refused by another (kHardSettingsChanged).
  virtual std::string name() const = 0;
  virtual uint64_t shard_count() const = 0;
  uint64_t shard_of(uint64_t cluster_id) const { return cluster_id % shard_count(); }

  // Persists every update atomically, and durably unless no update has
  // must_sync (then the write may stay unsynced until the next save). After a failed write or
  // sync the LogDB must stay failed: this and every later write return
  // kFatal (retrying after a failed fsync is unsafe), and the engine stops.
  [[nodiscard]] virtual Status save(const std::vector<NodeUpdate>& updates) = 0;

  // The persisted state of a node; kUnavailable when nothing was stored.
  [[nodiscard]] virtual Status read_raft_state(uint64_t cluster_id, uint64_t node_id, RaftState* out) = 0;

  // Appends entries [low, high) to out, stopping once max_bytes is exceeded
  // (at least one entry; Entry::size_bytes). kCompacted if low is below the
  // first stored entry, kUnavailable if an entry in range is missing.
  [[nodiscard]] virtual Status entries(uint64_t cluster_id, uint64_t node_id, uint64_t low, uint64_t high,
                                       uint64_t max_bytes, std::vector<raftpb::Entry>* out) = 0;

  [[nodiscard]] virtual Status save_bootstrap(uint64_t cluster_id, uint64_t node_id, const Bootstrap& b) = 0;
  // kClusterNotBootstrapped when none was saved; kNodeRemoved after
  // remove_node_data (until import_snapshot).
  [[nodiscard]] virtual Status get_bootstrap(uint64_t cluster_id, uint64_t node_id, Bootstrap* out) = 0;

  // Records a snapshot taken locally (the log is kept; compaction is a
  // separate step), unlike NodeUpdate::snapshot, which installs a snapshot
  // received from the leader and replaces the log.
  [[nodiscard]] virtual Status save_snapshot_record(uint64_t cluster_id, uint64_t node_id,
                                                    const raftpb::Snapshot& ss) = 0;
  // The latest snapshot record; kNoSnapshot when there is none.
  [[nodiscard]] virtual Status get_snapshot(uint64_t cluster_id, uint64_t node_id, raftpb::Snapshot* out) = 0;
  // Removes snapshot records with index < `index`.
  [[nodiscard]] virtual Status remove_snapshots_before(uint64_t cluster_id, uint64_t node_id, uint64_t index) = 0;

  // Removes entries with index <= `index` (space may be reclaimed later).
  [[nodiscard]] virtual Status remove_entries_to(uint64_t cluster_id, uint64_t node_id, uint64_t index) = 0;
  // Reclaims the space of removed entries up to `index` (request_compaction).
  [[nodiscard]] virtual Status compact(uint64_t cluster_id, uint64_t node_id, uint64_t index) = 0;

  // Removes everything stored for a node and remembers that it was removed
  // (get_bootstrap then reports kNodeRemoved).
  [[nodiscard]] virtual Status remove_node_data(uint64_t cluster_id, uint64_t node_id) = 0;

  // Repair: makes `ss` the node's only state — entries, hard state and older
  // snapshots are dropped, the snapshot record installed, the hard state set
  // to (ss.term, no vote, ss.index), and a removal forgotten.
  [[nodiscard]] virtual Status import_snapshot(uint64_t node_id, uint64_t cluster_id, const raftpb::Snapshot& ss) = 0;

  // True while the shard holding cluster_id stalls writes (the store cannot
  // keep up); the engine then refuses new proposals with kSystemBusy.
  virtual bool busy(uint64_t cluster_id) const {
    (void)cluster_id;
    return false;
  }

  // Every node with a bootstrap record, sorted by (cluster, node).
  [[nodiscard]] virtual Status list_nodes(std::vector<NodeInfo>* out) = 0;
};

// What a LogDB factory is given.
struct LogDBArgs {
  std::string dir;      // <node_host_dir>/logdb: the LogDB's own directory (may not exist yet)
  std::string wal_dir;  // NodeHostConfig::wal_dir (empty: none)
  uint64_t shards = 1;  // NodeHostConfig's resolved logdb_shards
};

// Makes a NodeHost's LogDB (the reference's config.LogDBFactoryFunc).
using LogDBFactory = std::function<Status(const LogDBArgs& args, std::unique_ptr<ILogDB>* out)>;

// ---- the transport --------------------------------------------------------------

// What the engine implements to receive from a transport.
// Thread-safety: called from the transport's threads, concurrently.
class IMessageHandler {
 public:
  virtual ~IMessageHandler() = default;
  // Messages from one remote host, in the order that host sent them (order
  // per group must be kept). Local message types (raftpb::MessageType before
  // kReplicate) must never arrive here.
  virtual void handle_messages(std::vector<raftpb::Message> messages) = 0;
  // Messages from (cluster_id, node_id) came from the host at `address`. A
  // joining node knows no member addresses until the log tells it: it
  // answers at the address the leader's messages came from. Call before
  // handle_messages for the batch.
  virtual void learn_address(uint64_t cluster_id, uint64_t node_id, const std::string& address) {
    (void)cluster_id, (void)node_id, (void)address;
  }
  // A connection to `address` was established or failed (system events).
  virtual void connection_event(const std::string& address, bool snapshot_connection, bool failed) {
    (void)address, (void)snapshot_connection, (void)failed;
  }
  // The remote node could not be reached: Raft falls back to probing.
  virtual void handle_unreachable(uint64_t cluster_id, uint64_t node_id) = 0;
  // The outcome of the snapshot at `index` this host sent to (cluster_id,
  // node_id): exactly once per send_snapshot that returned true.
  virtual void handle_snapshot_status(uint64_t cluster_id, uint64_t node_id, uint64_t index, bool failed) = 0;
};

// (cluster ID, node ID) -> address, following membership changes.
// Thread-safety: safe from any thread.
class INodeResolver {
 public:
  virtual ~INodeResolver() = default;
  // False when the node is unknown.
  virtual bool resolve(uint64_t cluster_id, uint64_t node_id, std::string* address) const = 0;
};

// Counters a transport may report (metrics); zero when it keeps none.
struct TransportStats {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t send_queue_drops = 0;
  uint64_t bad_frames = 0;
  uint64_t connect_failures = 0;
  uint64_t deployment_mismatches = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_received = 0;
};

// Moves messages and snapshots between NodeHosts (the reference's
// IRaftRPC). Delivery is best effort: Raft retries what is lost, and a
// message may be dropped, delayed or duplicated, never altered.
// Thread-safety: send() and send_snapshot() may be called from any thread.
class ITransport {
 public:
  virtual ~ITransport() = default;
  // Starts listening / delivery threads.
  [[nodiscard]] virtual Status start() = 0;
  // Stops promptly: closes connections and joins threads. Idempotent.
  virtual void stop() = 0;
  // Queues m for m.to of m.cluster_id (resolved through the INodeResolver).
  // False when it was dropped at once (unknown address, queue full,
  // stopped); the engine reports the node unreachable.
  virtual bool send(raftpb::Message m) = 0;
  // Delivers the kInstallSnapshot m, whose snapshot.filepath is a data file
  // of this host (docs/storage.md), to its target. The receiving transport
  // makes the file the target's own with receive_snapshot_file() and hands
  // the message on with that path; the sender's handler then gets
  // handle_snapshot_status once. False when it could not start.
  virtual bool send_snapshot(raftpb::Message m) = 0;
  // This host's address (NodeHostConfig::raft_address).
  virtual const std::string& address() const = 0;
  // Best effort: tells the host at `address` that this one is (back) up.
  virtual void hello(const std::string& address) { (void)address; }
  // Send batches: the engine brackets each step pass's sends with these,
  // on the step worker's thread. Between begin_send_batch() and
  // end_send_batch() a transport may hold what THIS thread sends until the
  // next flush_sends() (called before the pass's fsync and after its
  // finish) or end_send_batch(), and then send it as one write per peer.
  // `from_this_thread`: the messages are on a request's critical path (the
  // Replicates that leave before a synced save, the acknowledgements after
  // one) and may be written by the calling thread, without a hand-off to an
  // I/O thread; otherwise they are handed off as usual. Messages to one
  // peer keep their order. A thread has one batch open at a time (batches
  // do not nest). The defaults do nothing: send() delivers at once.
  virtual void begin_send_batch() {}
  virtual void flush_sends(bool from_this_thread) { (void)from_this_thread; }
  virtual void end_send_batch() {}
  virtual TransportStats stats() const { return {}; }
};

// What a transport factory is given. Everything outlives the transport.
struct TransportArgs {
  const NodeHostConfig* config = nullptr;  // raft_address, listen_address, TLS, queue and bandwidth limits
  IMessageHandler* handler = nullptr;
  const INodeResolver* resolver = nullptr;
  std::string snapshot_dir;  // where received snapshots go: pass it to receive_snapshot_file()
};

// Makes a NodeHost's transport (the reference's config.RaftRPCFactoryFunc).
using TransportFactory = std::function<Status(const TransportArgs& args, std::unique_ptr<ITransport>* out)>;

// For transports: makes the snapshot data file `source` (a copy the
// transport received, or the sender's own file in the same process) the
// target node's own under `snapshot_dir`: copies it into a temporary
// directory, fsyncs it, verifies every block, and publishes it with the
// snapshot directory protocol (docs/storage.md). *path gets the published
// data file, to put in the message's snapshot.filepath before
// handle_messages. `m` is the kInstallSnapshot message (cluster, target
// node, index and term). kCorrupted when the file fails verification.
Status receive_snapshot_file(const std::string& snapshot_dir, const raftpb::Message& m, const std::string& source,
                             std::string* path);

}  // namespace raftio
}  // namespace dragonboat
