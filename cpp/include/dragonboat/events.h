// dragonboat/events.h — listeners for Raft and system events (the
// reference's raftio.IRaftEventListener and ISystemEventListener).
//
// Set them in NodeHostConfig. Events are delivered on ONE NodeHost thread,
// in the order they happened, never on an engine thread: a slow listener
// delays only later events, never Raft. The queue is bounded (65,536
// events); beyond it events are dropped and counted (logged, and in the
// health metrics as dragonboat_events_dropped_total). A listener must not
// call back into the NodeHost synchronously waiting for the engine (e.g.
// sync_propose) — that is fine from another thread.
#pragma once

#include <cstdint>
#include <string>

namespace dragonboat {

struct LeaderInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;   // the local replica that observed the change
  uint64_t term = 0;
  uint64_t leader_id = 0; // 0: no leader known
};

class IRaftEventListener {
 public:
  virtual ~IRaftEventListener() = default;
  // The leader (or term) of a group changed as this replica sees it.
  virtual void leader_updated(const LeaderInfo& info) = 0;
};

struct NodeEventInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
};

struct ConnectionInfo {
  std::string address;
  bool snapshot_connection = false;
};

struct SnapshotInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;  // the local replica
  uint64_t from = 0;     // sent: the target node; received: the sender
  uint64_t index = 0;
};

struct EntryInfo {
  uint64_t cluster_id = 0;
  uint64_t node_id = 0;
  uint64_t index = 0;  // entries up to here
};

// Every method has an empty default: override what you need.
class ISystemEventListener {
 public:
  virtual ~ISystemEventListener() = default;
  virtual void node_ready(const NodeEventInfo&) {}          // a replica started on this host
  virtual void node_unloaded(const NodeEventInfo&) {}       // a replica stopped on this host
  virtual void membership_changed(const NodeEventInfo&) {}  // a membership change was applied
  virtual void connection_established(const ConnectionInfo&) {}
  virtual void connection_failed(const ConnectionInfo&) {}
  virtual void send_snapshot_started(const SnapshotInfo&) {}
  virtual void send_snapshot_completed(const SnapshotInfo&) {}
  virtual void send_snapshot_aborted(const SnapshotInfo&) {}
  virtual void snapshot_received(const SnapshotInfo&) {}
  virtual void snapshot_recovered(const SnapshotInfo&) {}
  virtual void snapshot_created(const SnapshotInfo&) {}
  virtual void snapshot_compacted(const SnapshotInfo&) {}  // older snapshot files removed
  virtual void log_compacted(const EntryInfo&) {}          // log entries up to index dropped
  virtual void logdb_compacted(const EntryInfo&) {}        // their disk space reclaimed
  virtual void node_host_shutting_down() {}                 // NodeHost::stop began
};

}  // namespace dragonboat
